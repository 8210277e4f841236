//! 2-D convolutions with this crate's own kernels on the CPU, and Burn's on a GPU with the
//! weight gradient chosen for few launches.
//!
//! Burn 0.22's Flex backend runs a convolution as im2col tiles around a matrix product,
//! re-laying out input and weight on every call, and a transposed convolution through a
//! column buffer as large as `c_out·k²` times the input; it computes a weight gradient as
//! another convolution whose kernel is the whole output gradient. Measured against
//! PyTorch on two cores, that made a training step about 1.7× PyTorch's time
//! (`docs/benchmarks.md`).
//!
//! On Flex, every convolution and transposed convolution of the networks runs instead on
//! this crate's kernels, for the forward pass and both gradients: the 3×3 stride-1 layers
//! of 32 channels and more (the residual blocks) by Winograd's F(2×2, 3×3), 16 matrix
//! products of transformed tiles with 2.25× fewer multiply-adds (`kernels::winograd`), the
//! forward pass of the 4×4 stride-1 layers of 64 channels and more on maps of 15×15 and
//! more (the PatchGAN's 256 → 512 layer) by Winograd's F(2×2, 4×4), 2.56× fewer
//! (`kernels::winograd4x4`), the forward pass of the 4×4 stride-2 layers of 32 channels and
//! more on the same maps (the PatchGAN's 64 → 128 and 128 → 256 layers) by F(2×2, 2×2) on
//! the input's four phases, 1.78× fewer (`kernels::winograd_phases`), and
//! the others as one matrix product per kernel tap reading the input where it lies
//! (strided layers split into phases, thin inputs with the taps folded into one product,
//! thin outputs with every tap's products of a run of input rows in one;
//! `kernels::tap_conv`). Without autodiff the three Winograd plans keep their transformed
//! kernels from call to call (`kernels::kernel_cache`). Where neither plan applies
//! (dilation, groups, a non-`f32` tensor), the forward pass and input gradient are Burn's
//! and the weight gradient is one matrix product of the output gradient with the input's
//! patches, `dW = grad · colsᵀ`, as PyTorch computes it.
//!
//! It is wired in through Burn's backend-extension API: a [`GemmGradConv`] operation that
//! Flex implements with these kernels, and whose autodiff implementation supplies the
//! backward pass. [`conv2d`] and [`conv_transpose2d`] use it on Flex devices and fall back
//! to [`Conv2d::forward`] / [`ConvTranspose2d::forward`] everywhere else; `tests/conv.rs`
//! checks that both agree, outputs and gradients.
//!
//! On GPU devices [`conv2d`] runs through the same extension with Burn's own (cubek's)
//! kernels and the bias added in the convolution's pass
//! ([`GemmGradConv::conv2d_gemm_grad_biased`]), so that the crate chooses the weight
//! gradient's algorithm (Burn's autotuner, left to itself on a device without tensor cores,
//! picks an im2col product of up to a hundred launches per layer) and computes the bias's
//! gradient in one launch (`kernels::cube`); transposed convolutions stay Burn's.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to, and the Flex-only helpers go unused.
#![cfg_attr(
    not(feature = "flex"),
    allow(unused_variables, unused_imports, dead_code)
)]

use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata, backend_extension};
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;

use super::conv_weight_grad::{transposed_weight_grad, weight_grad};
#[cfg(feature = "flex")]
use super::flex::kernel_cache::keeping_kernels;
use super::registry::{Op, has_kernel};

/// A convolution and a transposed convolution (no bias, one group) with their gradients
/// as operations of their own, so that a backend can run all three with its own kernels.
///
/// The default bodies are the backend's own convolutions, with a weight gradient of one
/// matrix product; Flex overrides them with this crate's kernels (`kernels::winograd`,
/// `kernels::tap_conv`; see the [module](self) documentation). The autodiff
/// implementation records the backward pass that calls them.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Autodiff
)]
pub trait GemmGradConv: Backend {
    /// `conv2d(x, weight)` with `options` (symmetric padding, `groups` 1).
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, None, options)
    }

    /// The gradient of [`conv2d_gemm_grad`](Self::conv2d_gemm_grad)'s input `x`, given the
    /// output's gradient `grad`.
    fn conv2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, grad, options)
    }

    /// The gradient of [`conv2d_gemm_grad`](Self::conv2d_gemm_grad)'s `weight`, given the
    /// output's gradient `grad`: one matrix product (see the [module](self) documentation).
    fn conv2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        weight_grad::<Self>(x, weight.shape().dims(), grad, &options)
    }

    /// Both gradients of [`conv2d_gemm_grad`](Self::conv2d_gemm_grad), `(input's,
    /// weight's)`, for a layer whose input and weight both need one: the values of the two
    /// operations above, which a backend may compute sharing work (on Flex the Winograd
    /// layers transform the output gradient once for both).
    fn conv2d_gemm_grad_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        each_gradient::<Self>(x, weight, grad, options)
    }

    /// `conv2d(x, weight) + bias` with `options`, for backends whose convolution adds the bias
    /// in its own pass (the GPU's); its gradients are the two above and
    /// [`conv2d_gemm_grad_bias_backward`](Self::conv2d_gemm_grad_bias_backward)'s.
    fn conv2d_gemm_grad_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }

    /// The gradient of [`conv2d_gemm_grad_biased`](Self::conv2d_gemm_grad_biased)'s bias
    /// given the output's gradient `grad` `[N, C, H, W]`: its sum over all but the channels.
    fn conv2d_gemm_grad_bias_backward(grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let [batch, channels, height, width] = grad.shape().dims();
        let grad = Self::float_swap_dims(grad, 0, 1);
        let grad = Self::float_reshape(grad, [channels, batch * height * width].into());
        let grad = Self::float_sum_dim(grad, 1);
        Self::float_reshape(grad, [channels].into())
    }

    /// `conv_transpose2d(x, weight)` with `options` (`groups` 1).
    fn conv_transpose2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv_transpose2d(x, weight, None, options)
    }

    /// The gradient of [`conv_transpose2d_gemm_grad`](Self::conv_transpose2d_gemm_grad)'s
    /// input `x`, given the output's gradient `grad`.
    fn conv_transpose2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        let _ = x;
        Self::conv_transpose2d_x_backward(weight, grad, options)
    }

    /// The gradient of [`conv_transpose2d_gemm_grad`](Self::conv_transpose2d_gemm_grad)'s
    /// `weight`, given the output's gradient `grad`: one matrix product.
    fn conv_transpose2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        transposed_weight_grad::<Self>(x, weight, grad, &options)
    }
}

/// Both gradients of [`GemmGradConv::conv2d_gemm_grad`], `(input's, weight's)`, as its two
/// gradient operations one after the other.
pub(crate) fn each_gradient<B: GemmGradConv>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
    options: ConvOptions<2>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let input_grad =
        B::conv2d_gemm_grad_x_backward(x.clone(), weight.clone(), grad.clone(), options.clone());
    let weight_grad = B::conv2d_gemm_grad_weight_backward(x, weight, grad, options);
    (input_grad, weight_grad)
}
/// `conv.forward(x)`, with this crate's kernels on Flex devices (same result;
/// see the [module](self) documentation). Grouped convolutions and `Same` padding use
/// [`Conv2d::forward`] as it is.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if conv.groups != 1 || !has_kernel(Op::Conv, &x.device()) {
        return conv.forward(x);
    }
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        _ => return conv.forward(x),
    };
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, 1);
    if let Some(bias) = &conv.bias
        && has_kernel(Op::ConvBiased, &x.device())
    {
        return Tensor::<4>::from_dispatch(
            <burn::backend::Dispatch as GemmGradConv>::conv2d_gemm_grad_biased(
                x.into_dispatch(),
                conv.weight.val().into_dispatch(),
                bias.val().into_dispatch(),
                options,
            ),
        );
    }
    let inference = !x.is_autodiff();
    let y = keeping_kernels(inference, || {
        Tensor::<4>::from_dispatch(<burn::backend::Dispatch as GemmGradConv>::conv2d_gemm_grad(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            options,
        ))
    });
    with_bias(y, conv.bias.as_ref())
}

/// `conv.forward(x)`, with this crate's kernels on Flex devices (same result;
/// see the [module](self) documentation). Grouped transposed convolutions use
/// [`ConvTranspose2d::forward`] as it is.
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    if conv.groups != 1 || !has_kernel(Op::ConvTranspose, &x.device()) {
        return conv.forward(x);
    }
    let options = ConvTransposeOptions::new(
        conv.stride,
        conv.padding,
        conv.padding_out,
        conv.dilation,
        1,
    );
    let y = Tensor::<4>::from_dispatch(
        <burn::backend::Dispatch as GemmGradConv>::conv_transpose2d_gemm_grad(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            options,
        ),
    );
    with_bias(y, conv.bias.as_ref())
}

/// Without Flex no kernels are kept (see `kernels::kernel_cache`).
#[cfg(not(feature = "flex"))]
fn keeping_kernels<R>(_inference: bool, operation: impl FnOnce() -> R) -> R {
    operation()
}

fn with_bias(y: Tensor<4>, bias: Option<&Param<Tensor<1>>>) -> Tensor<4> {
    match bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.val().reshape([1, channels, 1, 1])
        }
        None => y,
    }
}
