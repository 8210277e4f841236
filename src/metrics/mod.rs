//! Translation quality scores: FID and KID between sets of images' Inception features
//! ([`fid`], [`kid`], with pytorch-fid's `.npz` statistics files, [`npz`]); and for paired
//! data L1, PSNR, SSIM (as scikit-image's `structural_similarity`
//! with `gaussian_weights=True`), and label-map scores for a colour palette (the "FCN score"
//! columns of the CycleGAN paper: per-pixel accuracy, mean per-class accuracy, mean IoU).
//!
//! Images are `[C, H, W]` slices of `f64`-convertible values in a known `data_range`
//! (255 for 8-bit images, 2 for the networks' [−1, 1] tensors).

pub mod features;
pub mod fid;
pub mod inception;
pub mod kid;
pub mod npz;
pub mod visual;

use std::path::PathBuf;

use burn::prelude::Device;
use image::{RgbImage, imageops};

use crate::data::folder::load_rgb;
use crate::data::synthetic::{StripeShapes, stripe_period};
use crate::data::transform::resize_bicubic;
use crate::error::CycleGanError;
use crate::model::Generator;
use crate::translate::translate_rgb;

/// Mean absolute difference.
///
/// # Panics
///
/// If the lengths differ.
pub fn l1(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "images of different sizes");
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Peak signal-to-noise ratio in dB, `10·log10(data_range² / MSE)` (infinite for equal
/// images), as `skimage.metrics.peak_signal_noise_ratio`.
pub fn psnr(a: &[f32], b: &[f32], data_range: f64) -> f64 {
    assert_eq!(a.len(), b.len(), "images of different sizes");
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64;
    10.0 * (data_range * data_range / mse).log10()
}

/// The normalised 1-D Gaussian of scipy's `gaussian_filter` (σ, truncate 3.5 → radius 5
/// for σ = 1.5).
fn gaussian_kernel(sigma: f64, truncate: f64) -> Vec<f64> {
    let radius = (truncate * sigma + 0.5) as i64;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 * (x * x) as f64 / (sigma * sigma)).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    weights.into_iter().map(|w| w / sum).collect()
}

/// scipy's `mode="reflect"`: `d c b a | a b c d | d c b a`.
fn reflect(i: i64, n: i64) -> usize {
    let period = 2 * n;
    let mut i = i.rem_euclid(period);
    if i >= n {
        i = period - 1 - i;
    }
    i as usize
}

/// Separable Gaussian filter of one `h × w` plane.
fn filter(plane: &[f64], h: usize, w: usize, kernel: &[f64]) -> Vec<f64> {
    let r = (kernel.len() / 2) as i64;
    let mut rows = vec![0.0; h * w];
    for y in 0..h {
        for x in 0..w {
            rows[y * w + x] = kernel
                .iter()
                .enumerate()
                .map(|(k, wgt)| wgt * plane[y * w + reflect(x as i64 + k as i64 - r, w as i64)])
                .sum();
        }
    }
    let mut out = vec![0.0; h * w];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = kernel
                .iter()
                .enumerate()
                .map(|(k, wgt)| wgt * rows[reflect(y as i64 + k as i64 - r, h as i64) * w + x])
                .sum();
        }
    }
    out
}

/// Mean structural similarity of two `[C, H, W]` images, averaged over channels, computed as
/// `skimage.metrics.structural_similarity(a, b, gaussian_weights=True, data_range=…,
/// channel_axis=0)` does: Gaussian window σ = 1.5 (11×11), K1 = 0.01, K2 = 0.03, sample
/// covariance (N / (N − 1) with N = 121), reflect padding, border of 5 pixels excluded
/// from the mean.
///
/// # Panics
///
/// If the shapes differ from `[c, h, w]` or either side is under 11 pixels.
pub fn ssim(a: &[f32], b: &[f32], shape: [usize; 3], data_range: f64) -> f64 {
    let [c, h, w] = shape;
    assert_eq!(a.len(), c * h * w, "shape mismatch");
    assert_eq!(b.len(), c * h * w, "shape mismatch");
    assert!(
        h >= 11 && w >= 11,
        "SSIM needs images of at least 11x11 pixels"
    );
    let kernel = gaussian_kernel(1.5, 3.5);
    let win = kernel.len();
    let np = (win * win) as f64;
    let cov_norm = np / (np - 1.0);
    let (c1, c2) = ((0.01 * data_range).powi(2), (0.03 * data_range).powi(2));
    let pad = (win - 1) / 2;
    let plane = h * w;
    let mut total = 0.0;
    for ch in 0..c {
        let x: Vec<f64> = a[ch * plane..(ch + 1) * plane]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let y: Vec<f64> = b[ch * plane..(ch + 1) * plane]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let prod = |p: &[f64], q: &[f64]| p.iter().zip(q).map(|(u, v)| u * v).collect::<Vec<_>>();
        let ux = filter(&x, h, w, &kernel);
        let uy = filter(&y, h, w, &kernel);
        let uxx = filter(&prod(&x, &x), h, w, &kernel);
        let uyy = filter(&prod(&y, &y), h, w, &kernel);
        let uxy = filter(&prod(&x, &y), h, w, &kernel);
        let mut sum = 0.0;
        let mut count = 0usize;
        for row in pad..h - pad {
            for col in pad..w - pad {
                let i = row * w + col;
                let vx = cov_norm * (uxx[i] - ux[i] * ux[i]);
                let vy = cov_norm * (uyy[i] - uy[i] * uy[i]);
                let vxy = cov_norm * (uxy[i] - ux[i] * uy[i]);
                let a1 = 2.0 * ux[i] * uy[i] + c1;
                let a2 = 2.0 * vxy + c2;
                let b1 = ux[i] * ux[i] + uy[i] * uy[i] + c1;
                let b2 = vx + vy + c2;
                sum += (a1 * a2) / (b1 * b2);
                count += 1;
            }
        }
        total += sum / count as f64;
    }
    total / c as f64
}

/// The 12-colour palette of the CMP facade labels (class ids 1–12 in this order).
pub const FACADE_PALETTE: [[u8; 3]; 12] = [
    [0, 0, 170],
    [0, 0, 255],
    [0, 85, 255],
    [0, 170, 255],
    [0, 255, 255],
    [85, 255, 170],
    [170, 255, 85],
    [255, 255, 0],
    [255, 170, 0],
    [255, 85, 0],
    [255, 0, 0],
    [170, 0, 0],
];

/// The index of the palette colour nearest to `pixel` (Euclidean distance in RGB; ties go to
/// the first).
pub fn nearest_class(pixel: [u8; 3], palette: &[[u8; 3]]) -> usize {
    let distance =
        |c: &[u8; 3]| -> i32 { (0..3).map(|k| (pixel[k] as i32 - c[k] as i32).pow(2)).sum() };
    (0..palette.len())
        .min_by_key(|&i| distance(&palette[i]))
        .unwrap_or(0)
}

/// A confusion matrix of label maps, accumulated over a test set.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScores {
    palette: Vec<[u8; 3]>,
    /// `counts[truth][prediction]`.
    counts: Vec<Vec<u64>>,
}

impl LabelScores {
    /// An empty matrix for `palette`.
    pub fn new(palette: &[[u8; 3]]) -> Self {
        Self {
            palette: palette.to_vec(),
            counts: vec![vec![0; palette.len()]; palette.len()],
        }
    }

    /// Adds one image: every pixel of both maps is snapped to the nearest palette colour.
    ///
    /// # Panics
    ///
    /// If the sizes differ.
    pub fn add(&mut self, truth: &RgbImage, prediction: &RgbImage) {
        assert_eq!(
            truth.dimensions(),
            prediction.dimensions(),
            "label maps of different sizes"
        );
        for (t, p) in truth.pixels().zip(prediction.pixels()) {
            let (t, p) = (
                nearest_class(t.0, &self.palette),
                nearest_class(p.0, &self.palette),
            );
            self.counts[t][p] += 1;
        }
    }

    fn sums(&self) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
        let n = self.palette.len();
        let diag = (0..n).map(|i| self.counts[i][i]).collect();
        let truth = (0..n).map(|i| self.counts[i].iter().sum()).collect();
        let predicted = (0..n)
            .map(|j| (0..n).map(|i| self.counts[i][j]).sum())
            .collect();
        (diag, truth, predicted)
    }

    /// Share of pixels whose class is right.
    pub fn pixel_accuracy(&self) -> f64 {
        let (diag, truth, _) = self.sums();
        diag.iter().sum::<u64>() as f64 / truth.iter().sum::<u64>().max(1) as f64
    }

    /// Mean over classes present in the truth of the share of their pixels found.
    pub fn mean_class_accuracy(&self) -> f64 {
        let (diag, truth, _) = self.sums();
        mean_defined(
            diag.iter()
                .zip(&truth)
                .map(|(&d, &t)| (t > 0).then(|| d as f64 / t as f64)),
        )
    }

    /// Mean over classes present in the truth or the prediction of intersection over union.
    pub fn mean_iou(&self) -> f64 {
        let (diag, truth, predicted) = self.sums();
        mean_defined((0..diag.len()).map(|i| {
            let union = truth[i] + predicted[i] - diag[i];
            (union > 0).then(|| diag[i] as f64 / union as f64)
        }))
    }
}

fn mean_defined(values: impl Iterator<Item = Option<f64>>) -> f64 {
    let defined: Vec<f64> = values.flatten().collect();
    defined.iter().sum::<f64>() / defined.len().max(1) as f64
}

/// Mean |a − b| over the pixels where `mask` is set, per channel, scaled to [0, 1].
pub fn masked_l1(a: &RgbImage, b: &RgbImage, mask: &[bool]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for ((pa, pb), &m) in a.pixels().zip(b.pixels()).zip(mask) {
        if m {
            sum += (0..3)
                .map(|c| (pa.0[c] as f64 - pb.0[c] as f64).abs())
                .sum::<f64>()
                / 3.0
                / 255.0;
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// A box blur of side `k` (edge-clamped): stripes of period `k` average out.
pub fn box_blur(image: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let r = k as i64 / 2;
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0u32; 3];
        let mut n = 0;
        for dy in -r..k as i64 - r {
            for dx in -r..k as i64 - r {
                let sx = (x as i64 + dx).clamp(0, w as i64 - 1) as u32;
                let sy = (y as i64 + dy).clamp(0, h as i64 - 1) as u32;
                let p = image.get_pixel(sx, sy).0;
                (0..3).for_each(|c| acc[c] += p[c] as u32);
                n += 1;
            }
        }
        image::Rgb(acc.map(|v| (v / n) as u8))
    })
}

/// Scores of a generator on the paired StripeShapes test split, beside the identity
/// baseline (output = input): `[in-mask L1, low-pass in-mask L1, background L1]`, where the
/// first two compare with the other domain's rendering of the same latent inside the object
/// mask (the low-pass one after a box blur of one stripe period) and the last compares the
/// background with the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripeScores {
    /// The generator's scores.
    pub model: [f64; 3],
    /// The identity baseline's scores.
    pub identity: [f64; 3],
}

impl StripeScores {
    /// Translates every test item of `data` (A → B when `a_to_b`, else B → A) and scores it.
    pub fn measure(
        generator: &Generator,
        data: &StripeShapes,
        a_to_b: bool,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let period = stripe_period(data.size).round() as u32;
        let mut scores = [[0.0f64; 3]; 2];
        for i in 0..data.len {
            let item = data.paired(i);
            let mask: Vec<bool> = item.mask.pixels().map(|p| p.0[0] > 0).collect();
            let background: Vec<bool> = mask.iter().map(|m| !m).collect();
            let (input, truth) = if a_to_b {
                (&item.a, &item.b)
            } else {
                (&item.b, &item.a)
            };
            let output = translate_rgb(generator, input, device)?;
            let truth_low = box_blur(truth, period);
            for (k, candidate) in [&output, input].into_iter().enumerate() {
                scores[k][0] += masked_l1(candidate, truth, &mask);
                scores[k][1] += masked_l1(&box_blur(candidate, period), &truth_low, &mask);
                scores[k][2] += masked_l1(candidate, input, &background);
            }
        }
        let n = data.len.max(1) as f64;
        Ok(Self {
            model: scores[0].map(|s| s / n),
            identity: scores[1].map(|s| s / n),
        })
    }
}

/// Label-map scores of a photo → label generator on a paired test set, beside the identity
/// baseline (the photo itself snapped to the palette).
#[derive(Debug, Clone, PartialEq)]
pub struct PairedLabelScores {
    /// The generator's output against the true label maps.
    pub model: LabelScores,
    /// The input photos against the true label maps.
    pub identity: LabelScores,
}

impl PairedLabelScores {
    /// Translates every `(photo, label map)` pair's photo and scores it against the label
    /// map. With `size > 0` both are first resized to `size × size` (photos bicubic as in
    /// training, label maps nearest, so that no new colours appear); `0` keeps them as stored.
    ///
    /// Errors name the file that cannot be read.
    pub fn measure(
        generator: &Generator,
        pairs: &[(PathBuf, PathBuf)],
        size: u32,
        palette: &[[u8; 3]],
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let mut scores = Self {
            model: LabelScores::new(palette),
            identity: LabelScores::new(palette),
        };
        for (photo_path, label_path) in pairs {
            let photo = resized(load_rgb(photo_path)?, size, false);
            let label = resized(load_rgb(label_path)?, size, true);
            if photo.dimensions() != label.dimensions() {
                return Err(CycleGanError::Data {
                    path: label_path.clone(),
                    message: format!(
                        "label map is {:?}, its photo {} is {:?}",
                        label.dimensions(),
                        photo_path.display(),
                        photo.dimensions()
                    ),
                });
            }
            let output = translate_rgb(generator, &photo, device)?;
            scores.model.add(&label, &output);
            scores.identity.add(&label, &photo);
        }
        Ok(scores)
    }
}

/// `image` at `size × size` (bicubic, or nearest for label maps); `0` or the same size keeps it.
pub fn resized(image: RgbImage, size: u32, labels: bool) -> RgbImage {
    if size == 0 || image.dimensions() == (size, size) {
        image
    } else if labels {
        imageops::resize(&image, size, size, imageops::FilterType::Nearest)
    } else {
        resize_bicubic(&image, size, size)
    }
}
