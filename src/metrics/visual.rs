//! What a person sees in a StripeShapes translation, as numbers: whether the object keeps its
//! shape and its colour, whether the background is left alone, and whether stripes appeared
//! (A → B) or left (B → A). Each is scored beside the identity baseline (output = input) and
//! a perfect translation (output = the other domain's rendering of the same latent).
//!
//! | score | what it measures | a perfect translation |
//! |---|---|---|
//! | shape IoU | the pixels that differ from the latent's known background by more than 0.1 (any channel, in [0, 1]) against the true object mask | 1 |
//! | colour error | the mean colour inside the true mask, output against truth (mean absolute difference of the three channels' means) | 0 |
//! | background L1 | the mean absolute difference outside the mask, output against input | 0 |
//! | stripe energy | the energy of what a blur of one stripe period removes, inside the object away from its edge, as a ratio: A → B to the truth's, B → A to the input's | 1 (A → B), about 0 (B → A) |
//!
//! "Away from its edge" is the mask eroded by half a stripe period, where the blur sees only
//! the object; objects thinner than a period have no such interior and count in neither
//! side of the stripe-energy ratio (at 32², about one StripeShapes object in three).

use burn::prelude::Device;
use image::RgbImage;

use super::box_blur;
use super::masked_l1;
use crate::data::synthetic::{StripeShapes, stripe_period};
use crate::error::CycleGanError;
use crate::model::Generator;
use crate::translate::translate_rgb;

/// How far from the known background a pixel must be to count as object (in [0, 1], any
/// channel).
pub const OBJECT_THRESHOLD: f64 = 0.1;

/// The four visual scores of one direction (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VisualScores {
    /// Object shape IoU (higher is better, 1 at best).
    pub shape_iou: f64,
    /// In-mask mean colour error against the truth (lower is better).
    pub colour_error: f64,
    /// Background L1 against the input (lower is better).
    pub background_l1: f64,
    /// Stripe energy inside the object, relative to the truth's (A → B) or the input's
    /// (B → A).
    pub stripe_energy: f64,
}

/// One direction's visual scores for a generator, the identity baseline and a perfect
/// translation, over the same test latents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VisualComparison {
    /// The generator's.
    pub model: VisualScores,
    /// Output = input.
    pub identity: VisualScores,
    /// Output = the other domain's rendering of the latent.
    pub perfect: VisualScores,
}

/// Running sums of one candidate's scores.
#[derive(Default)]
struct Sums {
    iou: f64,
    colour: f64,
    background: f64,
    energy: f64,
}

impl VisualComparison {
    /// Translates every test latent of `data` (A → B when `a_to_b`, else B → A) with
    /// `generator` and scores it.
    pub fn measure(
        generator: &Generator,
        data: &StripeShapes,
        a_to_b: bool,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let period = stripe_period(data.size).round() as u32;
        let mut sums: [Sums; 3] = Default::default();
        let mut reference_energy = 0.0;
        for index in 0..data.len {
            let item = data.paired(index);
            let background = data.background(index);
            let mask: Vec<bool> = item.mask.pixels().map(|p| p.0[0] > 0).collect();
            let outside: Vec<bool> = mask.iter().map(|inside| !inside).collect();
            let interior = eroded(&mask, data.size, period / 2);
            let (input, truth) = if a_to_b {
                (&item.a, &item.b)
            } else {
                (&item.b, &item.a)
            };
            let output = translate_rgb(generator, input, device)?;
            // A → B: stripes as strong as the truth's; B → A: none of the input's left.
            let reference = if a_to_b { truth } else { input };
            reference_energy += stripe_energy(reference, &interior, period);
            for (sums, candidate) in sums.iter_mut().zip([&output, input, truth]) {
                sums.iou += shape_iou(candidate, &background, &mask);
                sums.colour += colour_error(candidate, truth, &mask);
                sums.background += masked_l1(candidate, input, &outside);
                sums.energy += stripe_energy(candidate, &interior, period);
            }
        }
        let n = data.len.max(1) as f64;
        let scores = |sums: &Sums| VisualScores {
            shape_iou: sums.iou / n,
            colour_error: sums.colour / n,
            background_l1: sums.background / n,
            stripe_energy: sums.energy / reference_energy.max(f64::MIN_POSITIVE),
        };
        Ok(Self {
            model: scores(&sums[0]),
            identity: scores(&sums[1]),
            perfect: scores(&sums[2]),
        })
    }
}

/// The IoU of the pixels of `image` that differ from `background` by more than
/// [`OBJECT_THRESHOLD`] with `mask` (1 when both are empty).
pub fn shape_iou(image: &RgbImage, background: &RgbImage, mask: &[bool]) -> f64 {
    let (mut both, mut either) = (0usize, 0usize);
    for ((pixel, back), &inside) in image.pixels().zip(background.pixels()).zip(mask) {
        let object =
            (0..3).any(|c| (pixel.0[c] as f64 - back.0[c] as f64).abs() / 255.0 > OBJECT_THRESHOLD);
        both += (object && inside) as usize;
        either += (object || inside) as usize;
    }
    if either == 0 {
        1.0
    } else {
        both as f64 / either as f64
    }
}

/// The mean absolute difference of the three channels' means over `mask`, `image` against
/// `truth`, in [0, 1].
pub fn colour_error(image: &RgbImage, truth: &RgbImage, mask: &[bool]) -> f64 {
    let mean = |image: &RgbImage| {
        let (mut sum, mut n) = ([0.0f64; 3], 0usize);
        for (pixel, _) in image.pixels().zip(mask).filter(|(_, inside)| **inside) {
            (0..3).for_each(|c| sum[c] += pixel.0[c] as f64 / 255.0);
            n += 1;
        }
        sum.map(|s| s / n.max(1) as f64)
    };
    let (a, b) = (mean(image), mean(truth));
    (0..3).map(|c| (a[c] - b[c]).abs()).sum::<f64>() / 3.0
}

/// The mean squared difference (summed over channels, in [0, 1] units) between `image` and
/// its box blur of one stripe `period`, over the `interior` pixels: stripes' energy.
pub fn stripe_energy(image: &RgbImage, interior: &[bool], period: u32) -> f64 {
    let blurred = box_blur(image, period.max(2));
    let (mut sum, mut n) = (0.0, 0usize);
    for ((pixel, smooth), &inside) in image.pixels().zip(blurred.pixels()).zip(interior) {
        if inside {
            sum += (0..3)
                .map(|c| ((pixel.0[c] as f64 - smooth.0[c] as f64) / 255.0).powi(2))
                .sum::<f64>();
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// `mask` (a `size × size` image) without the pixels within `radius` of its outside: where a
/// blur of one stripe period sees only the object.
pub fn eroded(mask: &[bool], size: usize, radius: u32) -> Vec<bool> {
    let radius = radius as i64;
    let at = |x: i64, y: i64| {
        (0..size as i64).contains(&x)
            && (0..size as i64).contains(&y)
            && mask[y as usize * size + x as usize]
    };
    (0..size * size)
        .map(|index| {
            let (x, y) = ((index % size) as i64, (index / size) as i64);
            (-radius..=radius).all(|dy| (-radius..=radius).all(|dx| at(x + dx, y + dy)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::StripeShapes;

    /// On rendered test latents, the definitions give what a person sees: both renderings
    /// differ from the background where the object is (IoU near 1), striped objects carry
    /// stripe energy and flat ones almost none, a rendering's colour against itself is exact.
    /// Thin objects (narrower than a stripe period) have no interior and add no stripe energy
    /// to either side of the ratio; about two objects in three have one.
    #[test]
    fn renderings_score_as_the_definitions_say() {
        for size in [32, 64] {
            let data = StripeShapes::test(size, 20);
            let period = stripe_period(size).round() as u32;
            let (mut flat, mut striped, mut with_interior) = (0.0, 0.0, 0);
            for index in 0..data.len {
                let item = data.paired(index);
                let background = data.background(index);
                let mask: Vec<bool> = item.mask.pixels().map(|p| p.0[0] > 0).collect();
                for image in [&item.a, &item.b] {
                    let iou = shape_iou(image, &background, &mask);
                    assert!(iou > 0.9, "size {size}, latent {index}: IoU {iou}");
                    assert_eq!(colour_error(image, image, &mask), 0.0);
                }
                assert_eq!(shape_iou(&background, &background, &mask), 0.0);
                let interior = eroded(&mask, size, period / 2);
                with_interior += usize::from(interior.iter().any(|&inside| inside));
                flat += stripe_energy(&item.a, &interior, period);
                striped += stripe_energy(&item.b, &interior, period);
                // Flat brown against brown with dark stripes: a colour difference.
                assert!(colour_error(&item.a, &item.b, &mask) > 0.05);
            }
            assert!(
                with_interior * 2 > data.len,
                "size {size}: only {with_interior} of {} objects hold a stripe period",
                data.len
            );
            assert!(
                flat < 0.05 * striped,
                "size {size}: {flat} against {striped}"
            );
        }
    }

    #[test]
    fn erosion_keeps_the_pixels_whose_neighbourhood_is_inside() {
        // A 3×3 square in a 5×5 image: only its centre survives a radius of 1.
        let mask: Vec<bool> = (0..25)
            .map(|i| (1..4).contains(&(i % 5)) && (1..4).contains(&(i / 5)))
            .collect();
        let inner = eroded(&mask, 5, 1);
        assert_eq!(inner.iter().filter(|&&m| m).count(), 1);
        assert!(inner[12]);
        assert_eq!(eroded(&mask, 5, 0), mask);
    }
}
