//! The anti-aliased resampling of the official CUT networks (`Downsample` and `Upsample` in
//! `taesungp/contrastive-unpaired-translation/models/networks.py`, after Zhang, "Making
//! Convolutional Networks Shift-Invariant Again", ICML 2019): fixed, per-channel binomial
//! filters, no parameters.
//!
//! - [`blur_downsample`]: reflect-pad 1, then the 3×3 filter `[1, 2, 1] ⊗ [1, 2, 1] / 16`
//!   with stride 2 on each channel: `⌈H/2⌉ × ⌈W/2⌉`.
//! - [`blur_upsample`]: replicate-pad 1, the transposed 4×4 filter
//!   `[1, 3, 3, 1] ⊗ [1, 3, 3, 1] / 16` with stride 2 on each channel, one row and column cut
//!   off each side: `2H × 2W`, the same as bilinear ×2 with half-pixel centres.

use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::prelude::*;
use burn::tensor::module::{conv_transpose2d, conv2d};

use super::padding::{PaddingType, pad2d, reflect_pad2d};

/// The official `get_filter`: the outer product of a binomial row with itself, over its sum,
/// times `scale`, repeated for each of `channels` channels: `[channels, 1, n, n]` values.
fn binomial_filter_values(row: &[f32], scale: f32, channels: usize) -> (Vec<f32>, [usize; 4]) {
    let n = row.len();
    let sum: f32 = row.iter().sum::<f32>().powi(2);
    let values = (0..channels)
        .flat_map(|_| (0..n * n).map(|i| row[i / n] * row[i % n] / sum * scale))
        .collect();
    (values, [channels, 1, n, n])
}

/// The fixed filter of [`blur_downsample`] for `channels` channels (the official
/// `Downsample.filt` buffer): values and shape.
pub(crate) fn downsample_filter(channels: usize) -> (Vec<f32>, [usize; 4]) {
    binomial_filter_values(&[1.0, 2.0, 1.0], 1.0, channels)
}

/// The fixed filter of [`blur_upsample`] for `channels` channels (the official
/// `Upsample.filt` buffer: the binomial filter times stride²): values and shape.
pub(crate) fn upsample_filter(channels: usize) -> (Vec<f32>, [usize; 4]) {
    binomial_filter_values(&[1.0, 3.0, 3.0, 1.0], 4.0, channels)
}

fn filter_tensor((values, shape): (Vec<f32>, [usize; 4]), device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// CUT's `Downsample(channels)` (blur-pool, filter size 3, stride 2, reflect padding) on
/// `[N, C, H, W]`: `[N, C, ⌈H/2⌉, ⌈W/2⌉]`.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::model::antialias::blur_downsample;
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let y = blur_downsample(Tensor::ones([1, 2, 9, 8], &device));
/// assert_eq!(y.dims(), [1, 2, 5, 4]);
/// # }
/// ```
pub fn blur_downsample(x: Tensor<4>) -> Tensor<4> {
    let channels = x.dims()[1];
    let filter = filter_tensor(downsample_filter(channels), &x.device());
    conv2d(
        reflect_pad2d(x, 1),
        filter,
        None,
        ConvOptions::new([2, 2], [0, 0], [1, 1], channels),
    )
}

/// CUT's `Upsample(channels)` (filter size 4, stride 2, replicate padding) on
/// `[N, C, H, W]`: `[N, C, 2H, 2W]`.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::model::antialias::blur_upsample;
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let y = blur_upsample(Tensor::ones([1, 2, 5, 3], &device));
/// assert_eq!(y.dims(), [1, 2, 10, 6]);
/// # }
/// ```
pub fn blur_upsample(x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, height, width] = x.dims();
    let filter = filter_tensor(upsample_filter(channels), &x.device());
    let y = conv_transpose2d(
        pad2d(x, 1, PaddingType::Replicate),
        filter,
        None,
        ConvTransposeOptions::new([2, 2], [2, 2], [0, 0], [1, 1], channels),
    );
    // The official `[:, :, 1:, 1:]`, then `[:, :, :-1, :-1]` for the even filter size.
    y.slice([0..batch, 0..channels, 1..1 + 2 * height, 1..1 + 2 * width])
}
