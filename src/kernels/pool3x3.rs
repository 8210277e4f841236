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
