//! 3×3 pooling for inference: the average of stride 1 with one pixel of padding that does
//! not count the padding (`F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)`,
//! the pooling branch of the FID Inception blocks) and the maximum of any stride and padding
//! up to 1 (`F.max_pool2d(x, 3, stride, padding)`, its grid reductions).
//!
//! Burn 0.22's Flex pooling took about 40 % of the FID Inception's forward pass (measured,
//! batch of 8: 0.20 s of 0.72 s in average pooling, 0.085 s in max pooling). On Flex these run
//! instead as one pass per plane on all threads. Training does not use them: on autodiff
//! devices and other backends they are Burn's `avg_pool2d` and `max_pool2d`.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to.
#![cfg_attr(not(feature = "flex"), allow(unused_variables, unused_imports))]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::prelude::*;
use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};

#[cfg(feature = "flex")]
use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use super::registry::{Op, has_kernel};

/// `avg_pool2d(x, 3, stride 1, padding 1, count_include_pad = false)` for `[N, C, H, W]`.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::kernels::box_average3x3;
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu();
/// let x = Tensor::<4>::from_floats([[[[1.0, 2.0], [3.0, 4.0]]]], &device);
/// // Every window holds the whole 2×2 image: the mean, 2.5, everywhere.
/// let y = box_average3x3(x).into_data().to_vec::<f32>().unwrap();
/// assert_eq!(y, vec![2.5; 4]);
/// # }
/// ```
pub fn box_average3x3(x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    if x.dtype() == burn::tensor::DType::F32
        && !device.is_autodiff()
        && has_kernel(Op::Pool3x3, &device)
    {
        return Tensor::<4>::from_dispatch(<burn::backend::Dispatch as Pool3x3>::box_average3x3(
            x.into_dispatch(),
        ));
    }
    avg_pool2d(
        x,
        AvgPoolOptions::new([3, 3])
            .with_stride([1, 1])
            .with_padding([1, 1])
            .with_count_include_pad(false),
    )
}

/// `max_pool2d(x, 3, stride, padding)` for `[N, C, H, W]` (padding never wins).
pub fn max_pool3x3(x: Tensor<4>, stride: usize, padding: usize) -> Tensor<4> {
    let device = x.device();
    let [_, _, h, w] = x.dims();
    if x.dtype() == burn::tensor::DType::F32
        && !device.is_autodiff()
        && has_kernel(Op::Pool3x3, &device)
        && stride >= 1
        && padding <= 1
        && h + 2 * padding >= 3
        && w + 2 * padding >= 3
    {
        return Tensor::<4>::from_dispatch(<burn::backend::Dispatch as Pool3x3>::max_pool3x3(
            x.into_dispatch(),
            stride,
            padding,
        ));
    }
    max_pool2d(
        x,
        MaxPoolOptions::new([3, 3])
            .with_stride([stride, stride])
            .with_padding([padding, padding]),
    )
}

/// 3×3 pooling as operations of their own (inference only).
#[backend_extension(Flex: cfg(feature = "flex"))]
pub trait Pool3x3: Backend {
    /// `avg_pool2d(x, 3, 1, 1, count_include_pad = false)`.
    fn box_average3x3(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `max_pool2d(x, 3, stride, padding)`, `padding` at most 1.
    fn max_pool3x3(x: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self>;
}

#[cfg(feature = "flex")]
impl Pool3x3 for burn::backend::Flex {
    fn max_pool3x3(x: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        let [batch, channels, height, width]: [usize; 4] =
            burn::backend::TensorMetadata::shape(&x).dims();
        let out_h = (height + 2 * padding - 3) / stride + 1;
        let out_w = (width + 2 * padding - 3) / stride + 1;
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        // The input rows (or columns) of output row `o`: `o·stride − padding ..+3`, clipped.
        let window = move |o: usize, len: usize| {
            let start = (o * stride).saturating_sub(padding);
            let end = (o * stride + 3 - padding).min(len);
            start..end
        };
        let plane = out_h * out_w;
        let output = filled_by_chunks(batch * channels * plane, plane, move |index, output| {
            let input = &input[index * height * width..][..height * width];
            for y in 0..out_h {
                let rows = window(y, height);
                for x in 0..out_w {
                    let columns = window(x, width);
                    let mut max = f32::NEG_INFINITY;
                    for row in rows.clone() {
                        for &value in &input[row * width + columns.start..row * width + columns.end]
                        {
                            // NaN wins, as in Burn's and PyTorch's max pooling.
                            if value > max || value.is_nan() {
                                max = value;
                            }
                        }
                    }
                    output[y * out_w + x] = max;
                }
            }
        });
        from_vec(output, [batch, channels, out_h, out_w])
    }

    fn box_average3x3(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let [_, _, height, width] = shape;
        let plane = height * width;
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        // The reciprocal of how many inputs a window covers: 3 along a side, 2 at its ends.
        let reach = |i: usize, len: usize| 3 - usize::from(i == 0) - usize::from(i + 1 == len);
        let output = filled_by_chunks(input.len(), plane, move |index, output| {
            let input = &input[index * plane..][..plane];
            for y in 0..height {
                let rows = y.saturating_sub(1)..(y + 2).min(height);
                for x in 0..width {
                    let columns = x.saturating_sub(1)..(x + 2).min(width);
                    let mut sum = 0.0f32;
                    for row in rows.clone() {
                        for value in &input[row * width + columns.start..row * width + columns.end]
                        {
                            sum += value;
                        }
                    }
                    let count = (reach(y, height) * reach(x, width)) as f32;
                    output[y * width + x] = sum / count;
                }
            }
        });
        from_vec(output, shape)
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    /// Burn's `max_pool2d`, to the bit, for the strides and paddings of the Inception.
    #[test]
    fn max_pool_is_burns() {
        let device = Device::flex();
        for (shape, stride, padding) in [
            ([1, 1, 3, 3], 2, 0),
            ([2, 3, 147, 147], 2, 0),
            ([1, 4, 71, 70], 2, 0),
            ([2, 5, 8, 8], 1, 1),
            ([1, 2, 17, 16], 2, 0),
        ] {
            let x = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, &device);
            let ours = max_pool3x3(x.clone(), stride, padding);
            let burns = max_pool2d(
                x,
                MaxPoolOptions::new([3, 3])
                    .with_stride([stride, stride])
                    .with_padding([padding, padding]),
            );
            ours.into_data().assert_eq(&burns.into_data(), true);
        }
    }

    /// Burn's `avg_pool2d` with `count_include_pad = false`, for maps of one pixel and up.
    #[test]
    fn box_average_is_burns_average_pool() {
        let device = Device::flex();
        for shape in [
            [1, 1, 1, 1],
            [2, 3, 1, 5],
            [1, 2, 4, 4],
            [2, 8, 17, 13],
            [1, 3, 35, 35],
        ] {
            let x = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, &device);
            let ours = box_average3x3(x.clone());
            let burns = avg_pool2d(
                x,
                AvgPoolOptions::new([3, 3])
                    .with_stride([1, 1])
                    .with_padding([1, 1])
                    .with_count_include_pad(false),
            );
            ours.into_data()
                .assert_approx_eq::<f32>(&burns.into_data(), burn::tensor::Tolerance::default());
        }
    }
}
