//! The official `get_transform`: resize / crop / scale-width, random horizontal flip,
//! greyscale, to [−1, 1].

use image::RgbImage;
use image::imageops::{self, FilterType};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// How images are resized and cropped at load time (`--preprocess`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Preprocess {
    /// Bicubic resize to `load_size × load_size`, then a random `crop_size²` crop (default).
    #[default]
    ResizeAndCrop,
    /// A random `crop_size²` crop of the image as it is.
    Crop,
    /// Bicubic resize to width `load_size`, keeping the aspect ratio (height at least
    /// `crop_size`).
    ScaleWidth,
    /// [`ScaleWidth`](Self::ScaleWidth), then a random `crop_size²` crop.
    ScaleWidthAndCrop,
    /// Full size, with width and height rounded to multiples of 4 (Python's
    /// round-half-to-even) when they are not.
    None,
}

crate::names::official_names!(Preprocess, "preprocess", {
    ResizeAndCrop => "resize_and_crop",
    Crop => "crop",
    ScaleWidth => "scale_width",
    ScaleWidthAndCrop => "scale_width_and_crop",
    None => "none",
});

impl Preprocess {
    /// Whether a random crop follows.
    pub fn crops(self) -> bool {
        matches!(
            self,
            Self::ResizeAndCrop | Self::Crop | Self::ScaleWidthAndCrop
        )
    }
}

/// The transform options of the official `BaseOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransformOptions {
    /// Resize/crop mode (`--preprocess`).
    pub preprocess: Preprocess,
    /// Resize target (`--load_size`, default 286).
    pub load_size: usize,
    /// Crop size (`--crop_size`, default 256).
    pub crop_size: usize,
    /// No random horizontal flip (`--no_flip`).
    pub no_flip: bool,
    /// Output channels: 3 (RGB) or 1 (greyscale, `--input_nc 1`).
    pub channels: usize,
}

impl Default for TransformOptions {
    fn default() -> Self {
        Self {
            preprocess: Preprocess::ResizeAndCrop,
            load_size: 286,
            crop_size: 256,
            no_flip: false,
            channels: 3,
        }
    }
}

/// Python's `round()` on `value / base`, times `base`: halves go to the even neighbour.
pub fn round_to_multiple(value: usize, base: usize) -> usize {
    let quotient = value / base;
    let remainder = value % base;
    let rounded = match (2 * remainder).cmp(&base) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient % 2),
    };
    rounded * base
}

/// Bicubic resize (`PIL.Image.BICUBIC`: Keys cubic with a = −0.5, widened when shrinking).
pub fn resize_bicubic(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    if image.dimensions() == (width, height) {
        return image.clone();
    }
    imageops::resize(image, width, height, FilterType::CatmullRom)
}

/// PIL's `convert("L")`: `(19595 R + 38470 G + 7471 B + 2^15) >> 16`, i.e.
/// 0.299 R + 0.587 G + 0.114 B rounded.
pub fn luma(pixel: [u8; 3]) -> u8 {
    ((19595 * pixel[0] as u32 + 38470 * pixel[1] as u32 + 7471 * pixel[2] as u32 + 0x8000) >> 16)
        as u8
}

/// What happened to one image, for logging and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Top-left corner of the crop, if one was taken.
    pub crop: Option<(u32, u32)>,
    /// Whether the image was flipped.
    pub flipped: bool,
    /// Whether `Preprocess::None` had to resize to a multiple of 4.
    pub resized_to_multiple: bool,
}

impl TransformOptions {
    /// Checks the options themselves.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        if self.channels != 1 && self.channels != 3 {
            return Err(CycleGanError::config(
                "input_nc",
                format!(
                    "images can be loaded with 1 or 3 channels, not {}",
                    self.channels
                ),
            ));
        }
        if self.preprocess.crops() && self.crop_size == 0 {
            return Err(CycleGanError::config("crop_size", "must be at least 1"));
        }
        if matches!(
            self.preprocess,
            Preprocess::ResizeAndCrop | Preprocess::ScaleWidth | Preprocess::ScaleWidthAndCrop
        ) && self.load_size == 0
        {
            return Err(CycleGanError::config("load_size", "must be at least 1"));
        }
        if self.preprocess == Preprocess::ResizeAndCrop && self.load_size < self.crop_size {
            return Err(CycleGanError::config(
                "load_size",
                format!(
                    "load_size {} is smaller than crop_size {}",
                    self.load_size, self.crop_size
                ),
            ));
        }
        Ok(())
    }

    /// Applies the transform to an RGB image, drawing crop position and flip from `rng`.
    /// `path` names the image in errors (an image smaller than `crop_size`).
    pub fn apply(
        &self,
        image: &RgbImage,
        rng: &mut impl Rng,
        path: &std::path::Path,
    ) -> Result<(RgbImage, Applied), CycleGanError> {
        let mut applied = Applied::default();
        let mut image = match self.preprocess {
            Preprocess::ResizeAndCrop => {
                let s = self.load_size as u32;
                resize_bicubic(image, s, s)
            }
            Preprocess::ScaleWidth | Preprocess::ScaleWidthAndCrop => {
                let (ow, oh) = image.dimensions();
                let target = self.load_size as u32;
                if ow == target && oh as usize >= self.crop_size {
                    image.clone()
                } else {
                    let h = ((target as f64 * oh as f64 / ow as f64) as usize).max(self.crop_size);
                    resize_bicubic(image, target, h as u32)
                }
            }
            Preprocess::Crop => image.clone(),
            Preprocess::None => {
                let (ow, oh) = image.dimensions();
                let w = round_to_multiple(ow as usize, 4).max(4) as u32;
                let h = round_to_multiple(oh as usize, 4).max(4) as u32;
                if (w, h) != (ow, oh) {
                    applied.resized_to_multiple = true;
                    resize_bicubic(image, w, h)
                } else {
                    image.clone()
                }
            }
        };
        if self.preprocess.crops() {
            let (w, h) = image.dimensions();
            let c = self.crop_size as u32;
            if w < c || h < c {
                return Err(CycleGanError::Data {
                    path: path.to_path_buf(),
                    message: format!(
                        "image of {w}x{h} (after preprocess {}) is smaller than crop_size {c}",
                        self.preprocess
                    ),
                });
            }
            let x = rng.random_range(0..=w - c);
            let y = rng.random_range(0..=h - c);
            image = imageops::crop_imm(&image, x, y, c, c).to_image();
            applied.crop = Some((x, y));
        }
        if !self.no_flip && rng.random::<f64>() < 0.5 {
            imageops::flip_horizontal_in_place(&mut image);
            applied.flipped = true;
        }
        Ok((image, applied))
    }

    /// An RGB image after [`apply`](Self::apply) as `[channels, H, W]` values in [−1, 1]
    /// (greyscale with [`luma`] when `channels` is 1).
    pub fn to_chw(&self, image: &RgbImage) -> Vec<f32> {
        if self.channels == 1 {
            image
                .pixels()
                .map(|p| luma(p.0) as f32 / 127.5 - 1.0)
                .collect()
        } else {
            super::image::rgb_to_chw(image)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn python_rounding_to_multiples_of_four() {
        // round(6/4) = round(1.5) = 2; round(10/4) = round(2.5) = 2; round(250/4) = round(62.5) = 62.
        assert_eq!(round_to_multiple(6, 4), 8);
        assert_eq!(round_to_multiple(10, 4), 8);
        assert_eq!(round_to_multiple(250, 4), 248);
        assert_eq!(round_to_multiple(254, 4), 256);
        assert_eq!(round_to_multiple(257, 4), 256);
        assert_eq!(round_to_multiple(259, 4), 260);
        assert_eq!(round_to_multiple(256, 4), 256);
    }

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    #[test]
    fn crop_and_flip_are_exact() {
        let image = gradient(40, 30);
        let options = TransformOptions {
            preprocess: Preprocess::Crop,
            crop_size: 16,
            ..Default::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut flips = 0;
        for _ in 0..50 {
            let (out, applied) = options.apply(&image, &mut rng, "x.png".as_ref()).unwrap();
            let (x0, y0) = applied.crop.unwrap();
            assert!(x0 <= 24 && y0 <= 14);
            flips += usize::from(applied.flipped);
            for (x, y, p) in out.enumerate_pixels() {
                let sx = if applied.flipped { x0 + 15 - x } else { x0 + x };
                assert_eq!(*p, *image.get_pixel(sx, y0 + y));
            }
        }
        assert!((10..=40).contains(&flips), "{flips} flips of 50");
    }

    #[test]
    fn too_small_for_the_crop_names_the_file() {
        let options = TransformOptions {
            preprocess: Preprocess::Crop,
            crop_size: 64,
            ..Default::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let err = options
            .apply(&gradient(32, 80), &mut rng, "small.jpg".as_ref())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("small.jpg") && err.contains("crop_size 64"),
            "{err}"
        );
    }

    #[test]
    fn greyscale_is_pil_luma() {
        assert_eq!(luma([255, 255, 255]), 255);
        assert_eq!(luma([255, 0, 0]), 76);
        assert_eq!(luma([0, 255, 0]), 150);
        assert_eq!(luma([0, 0, 255]), 29);
        let options = TransformOptions {
            channels: 1,
            ..Default::default()
        };
        let image = RgbImage::from_pixel(2, 1, image::Rgb([0, 255, 0]));
        assert_eq!(options.to_chw(&image), vec![150.0 / 127.5 - 1.0; 2]);
    }

    #[test]
    fn none_rounds_sizes_and_scale_width_keeps_aspect() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let none = TransformOptions {
            preprocess: Preprocess::None,
            no_flip: true,
            ..Default::default()
        };
        let (out, applied) = none
            .apply(&gradient(250, 10), &mut rng, "x".as_ref())
            .unwrap();
        assert_eq!(out.dimensions(), (248, 8));
        assert!(applied.resized_to_multiple);
        let (out, applied) = none
            .apply(&gradient(64, 32), &mut rng, "x".as_ref())
            .unwrap();
        assert_eq!(out.dimensions(), (64, 32));
        assert!(!applied.resized_to_multiple);
        let scale = TransformOptions {
            preprocess: Preprocess::ScaleWidth,
            load_size: 64,
            crop_size: 16,
            no_flip: true,
            channels: 3,
        };
        let (out, _) = scale
            .apply(&gradient(128, 96), &mut rng, "x".as_ref())
            .unwrap();
        assert_eq!(out.dimensions(), (64, 48));
    }

    #[test]
    fn option_checks() {
        assert!(
            TransformOptions {
                load_size: 100,
                crop_size: 128,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            TransformOptions {
                channels: 2,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(TransformOptions::default().validate().is_ok());
        assert!(
            "zoom"
                .parse::<Preprocess>()
                .unwrap_err()
                .to_string()
                .contains("preprocess")
        );
    }
}
