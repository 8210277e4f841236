//! StripeShapes: the embedded default dataset. A toy horse2zebra with known ground truth that
//! needs no download: brown objects on a green background, drawn flat in domain A and
//! striped across their major axis in domain B. Both domains of one latent share the
//! background exactly, so translation quality can be scored against the truth.
//!
//! One latent per seed: a green background (one base colour, a linear gradient of 0.02–0.06
//! in a random direction, smooth 4×4-cell value noise of amplitude 0.04), and one object (one
//! to three from 64×64 up): an ellipse, rectangle or triangle with centre in [0.3, 0.7]·size,
//! semi-axes a ∈ [0.24, 0.42]·size and b ∈ [0.13, 0.26]·size, rotation in [0, π), a brown
//! colour with small jitter and soft shading across the minor axis. Stripes: full colour
//! where `floor(u / (P/2) + 1/2)` is even, 0.45 of it where odd, `u` along the major axis from
//! the centre, so that a full-colour band runs through the centre; the period P is a quarter
//! of the image side (8 px at 32²).
//!
//! Why these values (docs/results.md, "The README's main command"): they make a task that the
//! official CycleGAN learns within the main command's five minutes. The background keeps one
//! base colour because the generator's first instance norm removes any constant colour
//! offset of its input: with a jittered base colour no generator can give the background
//! back, and background L1 stayed near 0.05. Stripes are centred on the object, so they are
//! a function of its shape alone: the same for either direction of its axis and after the
//! random horizontal flip of training. Uncentred, one shape came with two stripe phases, the
//! cycle B → A → B had to hide which one in a speckle over the flat output, and centring
//! them removed most of that speckle. Objects are large enough to hold two or more stripes,
//! and dark stripes keep 0.45 of the colour: a smaller change to draw and to undo.

use std::path::Path;

use image::{GrayImage, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::CycleGanError;

/// First seed of each split's range; ranges are disjoint, so A and B of the training split
/// never share a latent (unpaired) and test latents are never trained on.
const TRAIN_A_SEEDS: u64 = 0;
const TRAIN_B_SEEDS: u64 = 1 << 40;
const TEST_SEEDS: u64 = 2 << 40;

/// Which image of a latent to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Flat objects.
    A,
    /// Striped objects.
    B,
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Ellipse,
    Rectangle,
    Triangle,
}

#[derive(Debug, Clone)]
struct Object {
    shape: Shape,
    center: [f64; 2],
    a: f64,
    b: f64,
    angle: f64,
    color: [f64; 3],
}

impl Object {
    /// (u, v): coordinates along the major and minor axis, from the centre.
    fn local(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.center[0], y - self.center[1]);
        let (s, c) = self.angle.sin_cos();
        (dx * c + dy * s, -dx * s + dy * c)
    }

    fn contains(&self, u: f64, v: f64) -> bool {
        match self.shape {
            Shape::Ellipse => (u / self.a).powi(2) + (v / self.b).powi(2) <= 1.0,
            Shape::Rectangle => u.abs() <= self.a && v.abs() <= self.b,
            Shape::Triangle => {
                u.abs() <= self.a && v.abs() <= self.b * (self.a - u) / (2.0 * self.a)
            }
        }
    }
}

/// One latent: the background and the objects, renderable in either domain.
#[derive(Debug, Clone)]
pub struct Latent {
    size: usize,
    background: Vec<[f64; 3]>,
    objects: Vec<Object>,
}

/// The stripe period in pixels for an image side: a quarter of it.
pub fn stripe_period(size: usize) -> f64 {
    size as f64 / 4.0
}

/// Domain B's brightness factor at `u` along an object's major axis from its centre: full
/// colour in a band of width `half_period` centred on the centre and every other band from
/// there, [`DARK_STRIPE`] between them. Symmetric in `u`, so a horizontally flipped image
/// shows the same stripes on the flipped object.
fn stripe_brightness(u: f64, half_period: f64) -> f64 {
    if (u / half_period + 0.5).floor() as i64 % 2 == 0 {
        1.0
    } else {
        DARK_STRIPE
    }
}

/// The background's base colour, before its gradient and noise.
const BACKGROUND: [f64; 3] = [0.20, 0.60, 0.20];
/// The objects' mean colour and its jitter (±) per channel.
const OBJECT: [f64; 3] = [0.55, 0.33, 0.15];
const OBJECT_JITTER: [f64; 3] = [0.015, 0.015, 0.012];
/// How much darker an object's edges along its minor axis are than its middle.
const SHADING: f64 = 0.2;
/// The dark stripes' brightness, as a share of the object's colour.
const DARK_STRIPE: f64 = 0.45;

impl Latent {
    /// The latent of `seed` at `size × size` pixels.
    pub fn new(seed: u64, size: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5354_5249_5045_5348);
        let s = size as f64;
        let direction = rng.random_range(0.0..std::f64::consts::TAU);
        let gradient = rng.random_range(0.02..0.06);
        let noise: Vec<f64> = (0..25).map(|_| rng.random_range(-1.0..1.0)).collect();
        let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
        let mut background = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                let (fx, fy) = ((x as f64 + 0.5) / s, (y as f64 + 0.5) / s);
                let along = (fx - 0.5) * direction.cos() + (fy - 0.5) * direction.sin();
                // Value noise on a 4×4 grid of cells (5×5 corners), smoothstep-interpolated.
                let (gx, gy) = (fx * 4.0, fy * 4.0);
                let (ix, iy) = ((gx.floor() as usize).min(3), (gy.floor() as usize).min(3));
                let (tx, ty) = (smooth(gx - ix as f64), smooth(gy - iy as f64));
                let corner = |i: usize, j: usize| noise[j * 5 + i];
                let top = corner(ix, iy) * (1.0 - tx) + corner(ix + 1, iy) * tx;
                let bottom = corner(ix, iy + 1) * (1.0 - tx) + corner(ix + 1, iy + 1) * tx;
                let value = 0.04 * (top * (1.0 - ty) + bottom * ty);
                let shade = gradient * along + value;
                background.push([
                    BACKGROUND[0] + shade * 0.6,
                    BACKGROUND[1] + shade,
                    BACKGROUND[2] + shade * 0.5,
                ]);
            }
        }
        let count = if size >= 64 {
            rng.random_range(1..=3)
        } else {
            1
        };
        let objects = (0..count)
            .map(|_| Object {
                shape: match rng.random_range(0..3) {
                    0 => Shape::Ellipse,
                    1 => Shape::Rectangle,
                    _ => Shape::Triangle,
                },
                center: [
                    rng.random_range(0.3..0.7) * s,
                    rng.random_range(0.3..0.7) * s,
                ],
                a: rng.random_range(0.24..0.42) * s,
                b: rng.random_range(0.13..0.26) * s,
                angle: rng.random_range(0.0..std::f64::consts::PI),
                color: [0, 1, 2].map(|channel| {
                    OBJECT[channel]
                        + rng.random_range(-OBJECT_JITTER[channel]..OBJECT_JITTER[channel])
                }),
            })
            .collect();
        Self {
            size,
            background,
            objects,
        }
    }

    /// The image of this latent in `domain`.
    pub fn render(&self, domain: Domain) -> RgbImage {
        let size = self.size;
        let half_period = stripe_period(size) / 2.0;
        let mut image = RgbImage::new(size as u32, size as u32);
        for y in 0..size {
            for x in 0..size {
                let mut color = self.background[y * size + x];
                let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                // Later objects are drawn over earlier ones.
                for object in &self.objects {
                    let (u, v) = object.local(px, py);
                    if object.contains(u, v) {
                        let shading = 1.0 - SHADING * (v / object.b).powi(2).min(1.0);
                        let stripe = match domain {
                            Domain::A => 1.0,
                            Domain::B => stripe_brightness(u, half_period),
                        };
                        color = object.color.map(|c| c * shading * stripe);
                    }
                }
                let to_u8 = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                image.put_pixel(x as u32, y as u32, image::Rgb(color.map(to_u8)));
            }
        }
        image
    }

    /// The background alone, without the objects (what both domains show outside them).
    pub fn render_background(&self) -> RgbImage {
        let size = self.size;
        let to_u8 = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        RgbImage::from_fn(size as u32, size as u32, |x, y| {
            image::Rgb(self.background[y as usize * size + x as usize].map(to_u8))
        })
    }

    /// The object mask: 255 inside any object, 0 outside.
    pub fn mask(&self) -> GrayImage {
        let size = self.size;
        GrayImage::from_fn(size as u32, size as u32, |x, y| {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let inside = self.objects.iter().any(|o| {
                let (u, v) = o.local(px, py);
                o.contains(u, v)
            });
            image::Luma([if inside { 255 } else { 0 }])
        })
    }
}

/// A split of the StripeShapes data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Unpaired: image `i` of domain A and image `i` of domain B come from different latents.
    Train,
    /// Paired: both domains (and the mask) of the same held-out latents.
    Test,
}

/// The StripeShapes dataset: `len` latents per domain at `size × size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripeShapes {
    /// Image side in pixels (32, 64, 128, 256, or any size ≥ 8).
    pub size: usize,
    /// Images per domain.
    pub len: usize,
    /// Which split.
    pub split: Split,
}

/// One paired test item.
#[derive(Debug, Clone)]
pub struct PairedItem {
    /// Flat objects.
    pub a: RgbImage,
    /// Striped objects, same latent.
    pub b: RgbImage,
    /// Object mask (255 inside).
    pub mask: GrayImage,
}

impl StripeShapes {
    /// The training split (unpaired).
    pub fn train(size: usize, len: usize) -> Self {
        Self {
            size,
            len,
            split: Split::Train,
        }
    }

    /// The test split (paired, with masks).
    pub fn test(size: usize, len: usize) -> Self {
        Self {
            size,
            len,
            split: Split::Test,
        }
    }

    /// The seed of image `index` of `domain`.
    pub fn seed(&self, domain: Domain, index: usize) -> u64 {
        let base = match (self.split, domain) {
            (Split::Train, Domain::A) => TRAIN_A_SEEDS,
            (Split::Train, Domain::B) => TRAIN_B_SEEDS,
            (Split::Test, _) => TEST_SEEDS,
        };
        base + index as u64
    }

    /// Image `index` of `domain`.
    pub fn image(&self, domain: Domain, index: usize) -> RgbImage {
        Latent::new(self.seed(domain, index), self.size).render(domain)
    }

    /// Both domains and the mask of the latent behind test image `index`.
    pub fn paired(&self, index: usize) -> PairedItem {
        let latent = Latent::new(self.seed(Domain::A, index), self.size);
        PairedItem {
            a: latent.render(Domain::A),
            b: latent.render(Domain::B),
            mask: latent.mask(),
        }
    }

    /// The background of test latent `index`, without its objects.
    pub fn background(&self, index: usize) -> RgbImage {
        Latent::new(self.seed(Domain::A, index), self.size).render_background()
    }

    /// Writes the split in the official folder layout: `<root>/<phase>A/<i>.png` and
    /// `<root>/<phase>B/<i>.png` (phase `train` or `test`), plus `<root>/testMask/` for the
    /// test split, so that any CycleGAN implementation can train on it.
    pub fn export(&self, root: impl AsRef<Path>) -> Result<(), CycleGanError> {
        let root = root.as_ref();
        let phase = match self.split {
            Split::Train => "train",
            Split::Test => "test",
        };
        let dir_a = root.join(format!("{phase}A"));
        let dir_b = root.join(format!("{phase}B"));
        let dir_mask = root.join(format!("{phase}Mask"));
        for dir in [&dir_a, &dir_b] {
            std::fs::create_dir_all(dir).map_err(|e| CycleGanError::io(dir, e))?;
        }
        if self.split == Split::Test {
            std::fs::create_dir_all(&dir_mask).map_err(|e| CycleGanError::io(&dir_mask, e))?;
        }
        let save = |image: &dyn Fn() -> Result<(), image::ImageError>, path: &Path| {
            image().map_err(|e| CycleGanError::Data {
                path: path.to_path_buf(),
                message: format!("cannot write: {e}"),
            })
        };
        for i in 0..self.len {
            let name = format!("{i:05}.png");
            match self.split {
                Split::Train => {
                    let (pa, pb) = (dir_a.join(&name), dir_b.join(&name));
                    save(&|| self.image(Domain::A, i).save(&pa), &pa)?;
                    save(&|| self.image(Domain::B, i).save(&pb), &pb)?;
                }
                Split::Test => {
                    let item = self.paired(i);
                    let (pa, pb, pm) = (dir_a.join(&name), dir_b.join(&name), dir_mask.join(&name));
                    save(&|| item.a.save(&pa), &pa)?;
                    save(&|| item.b.save(&pb), &pb)?;
                    save(&|| item.mask.save(&pm), &pm)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_image() {
        let data = StripeShapes::train(32, 10);
        assert_eq!(data.image(Domain::A, 3), data.image(Domain::A, 3));
        assert_ne!(data.image(Domain::A, 3), data.image(Domain::A, 4));
    }

    #[test]
    fn domains_share_the_background_exactly_and_differ_inside() {
        for size in [32usize, 64, 128] {
            let item = StripeShapes::test(size, 5).paired(2);
            let (mut inside_diff, mut inside) = (0, 0);
            for (x, y, m) in item.mask.enumerate_pixels() {
                let (a, b) = (item.a.get_pixel(x, y), item.b.get_pixel(x, y));
                if m.0[0] == 0 {
                    assert_eq!(a, b, "background differs at ({x},{y}) at {size}²");
                } else {
                    inside += 1;
                    inside_diff += usize::from(a != b);
                }
            }
            assert!(inside > 0);
            // About half the object is darkened by stripes.
            let share = inside_diff as f64 / inside as f64;
            assert!((0.3..0.7).contains(&share), "{share} at {size}²");
        }
    }

    #[test]
    fn mask_matches_the_drawn_object() {
        let data = StripeShapes::test(64, 3);
        let item = data.paired(1);
        // Pixels inside the mask are brownish (red > green); outside they are green.
        for (x, y, m) in item.mask.enumerate_pixels() {
            let p = item.a.get_pixel(x, y).0;
            if m.0[0] == 255 {
                assert!(
                    p[0] > p[1],
                    "({x},{y}) inside the mask is not the object: {p:?}"
                );
            } else {
                assert!(
                    p[1] > p[0],
                    "({x},{y}) outside the mask is not background: {p:?}"
                );
            }
        }
    }

    #[test]
    fn train_domains_come_from_disjoint_latents() {
        let data = StripeShapes::train(32, 100);
        let seeds_a: std::collections::HashSet<u64> =
            (0..100).map(|i| data.seed(Domain::A, i)).collect();
        assert!((0..100).all(|i| !seeds_a.contains(&data.seed(Domain::B, i))));
        let test = StripeShapes::test(32, 100);
        assert!((0..100).all(|i| !seeds_a.contains(&test.seed(Domain::A, i))));
    }

    #[test]
    fn stripes_have_the_documented_period() {
        assert_eq!(stripe_period(32), 8.0);
        assert_eq!(stripe_period(64), 16.0);
    }

    /// The random horizontal flip of training must not make a second version of a striped
    /// object: a band of full colour runs through the centre, and the stripes are symmetric
    /// about it.
    #[test]
    fn stripes_are_symmetric_about_the_objects_centre() {
        let half_period = stripe_period(32) / 2.0;
        for step in 1..160 {
            let u = step as f64 * 0.1 + 0.01;
            let (right, left) = (
                stripe_brightness(u, half_period),
                stripe_brightness(-u, half_period),
            );
            assert_eq!(right, left, "u = ±{u}");
        }
        assert_eq!(stripe_brightness(0.0, half_period), 1.0);
        assert_eq!(stripe_brightness(half_period, half_period), DARK_STRIPE);
        assert_eq!(stripe_brightness(2.0 * half_period, half_period), 1.0);
    }

    #[test]
    fn export_writes_the_official_layout() {
        let dir = std::env::temp_dir().join(format!("stripeshapes-export-{}", std::process::id()));
        StripeShapes::train(32, 3).export(&dir).unwrap();
        StripeShapes::test(32, 2).export(&dir).unwrap();
        for (folder, n) in [
            ("trainA", 3),
            ("trainB", 3),
            ("testA", 2),
            ("testB", 2),
            ("testMask", 2),
        ] {
            assert_eq!(
                std::fs::read_dir(dir.join(folder)).unwrap().count(),
                n,
                "{folder}"
            );
        }
        let back = image::open(dir.join("trainB/00001.png")).unwrap().to_rgb8();
        assert_eq!(back, StripeShapes::train(32, 3).image(Domain::B, 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
