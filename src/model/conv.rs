//! 2-D convolutions with this crate's own kernels on the CPU.
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
//! products of transformed tiles with 2.25× fewer multiply-adds (`model::winograd`), and
//! the others as one matrix product per kernel tap reading the input where it lies
//! (strided layers split into phases, thin layers with the taps folded into one product;
//! `model::tap_conv`). Where neither plan applies
//! (dilation, groups, a non-`f32` tensor), the forward pass and input gradient are Burn's
//! and the weight gradient is one matrix product of the output gradient with the input's
//! patches, `dW = grad · colsᵀ`, as PyTorch computes it.
//!
//! It is wired in through Burn's backend-extension API: a [`GemmGradConv`] operation that
//! Flex implements with these kernels, and whose autodiff implementation supplies the
//! backward pass. [`conv2d`] and [`conv_transpose2d`] use it on Flex devices and fall back
//! to [`Conv2d::forward`] / [`ConvTranspose2d::forward`] everywhere else; `tests/conv.rs`
//! checks that both agree, outputs and gradients.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to, and the Flex-only helpers go unused.
#![cfg_attr(
    not(feature = "flex"),
    allow(unused_variables, unused_imports, dead_code)
)]

#[cfg(feature = "flex")]
use burn::backend::ops::ModuleOps;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions, PadMode};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata, backend_extension};
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;
use burn::tensor::Slice;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::{Autodiff, NodeId};

#[cfg(feature = "flex")]
use super::tap_conv::TapConv;
#[cfg(feature = "flex")]
use super::winograd::Winograd;

/// A convolution and a transposed convolution (no bias, one group) with their gradients
/// as operations of their own, so that a backend can run all three with its own kernels.
///
/// The default bodies are the backend's own convolutions, with a weight gradient of one
/// matrix product; Flex overrides them with this crate's kernels (`model::winograd`,
/// `model::tap_conv`; see the [module](self) documentation). The autodiff
/// implementation records the backward pass that calls them.
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
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

/// Flex runs the residual blocks' convolutions by Winograd's algorithm (`Winograd`), the
/// other convolutions and the transposed convolutions tap by tap (`TapConv`), forward and
/// backward, and the rest with its own convolution (and the matrix-product weight gradient).
#[cfg(feature = "flex")]
impl GemmGradConv for burn::backend::Flex {
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        if let Some(plan) = Winograd::plan(&x, &weight, &options) {
            return plan.forward(x, weight);
        }
        match TapConv::plan(&x, &weight, &options) {
            Some(plan) => plan.forward(x, weight),
            None => Self::conv2d(x, weight, None, options),
        }
    }

    fn conv2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        if let Some(plan) = Winograd::plan(&x, &weight, &options) {
            return plan.input_grad(weight, grad);
        }
        match TapConv::plan(&x, &weight, &options) {
            Some(plan) => plan.input_grad(weight, grad),
            None => Self::conv2d_x_backward(x, weight, grad, options),
        }
    }

    fn conv2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        if let Some(plan) = Winograd::plan(&x, &weight, &options) {
            return plan.weight_grad(x, grad);
        }
        match TapConv::plan(&x, &weight, &options) {
            Some(plan) => plan.weight_grad(x, grad),
            None => weight_grad::<Self>(x, weight.shape().dims(), grad, &options),
        }
    }

    fn conv_transpose2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.input_grad(weight, x),
            None => Self::conv_transpose2d(x, weight, None, options),
        }
    }

    fn conv_transpose2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.forward(grad, weight),
            None => Self::conv_transpose2d_x_backward(weight, grad, options),
        }
    }

    fn conv_transpose2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        match TapConv::transposed(&x, &weight, &options) {
            Some(plan) => plan.weight_grad(grad, x),
            None => transposed_weight_grad::<Self>(x, weight, grad, &options),
        }
    }
}

impl<B: Backend + GemmGradConv, C: CheckpointStrategy> GemmGradConv for Autodiff<B, C> {
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        tracked::<B, C, _>(x, weight, options)
    }

    fn conv_transpose2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        tracked::<B, C, _>(x, weight, options)
    }
}

/// A layer of [`GemmGradConv`], named by its options: which of the extension's operations
/// give its forward pass, input gradient and weight gradient.
trait GemmGradLayer: Clone + Send + core::fmt::Debug + 'static {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B>;
}

impl GemmGradLayer for ConvOptions<2> {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad(x, weight, options)
    }

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad_x_backward(x, weight, grad, options)
    }

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv2d_gemm_grad_weight_backward(x, weight, grad, options)
    }
}

impl GemmGradLayer for ConvTransposeOptions<2> {
    fn forward<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad(x, weight, options)
    }

    fn input_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad_x_backward(x, weight, grad, options)
    }

    fn weight_grad<B: Backend + GemmGradConv>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        options: Self,
    ) -> FloatTensor<B> {
        B::conv_transpose2d_gemm_grad_weight_backward(x, weight, grad, options)
    }
}

/// The backward pass of a [`GemmGradLayer`].
#[derive(Debug)]
struct GemmGradBackward<O>(core::marker::PhantomData<O>);

impl<B: Backend + GemmGradConv, O: GemmGradLayer> Backward<B, 2> for GemmGradBackward<O> {
    type State = (NodeId, NodeId, O);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
        if let Some(node) = node_weight {
            let weight_grad =
                O::weight_grad::<B>(x.clone(), weight.clone(), grad.clone(), options.clone());
            grads.register::<B>(node.id, weight_grad);
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, O::input_grad::<B>(x, weight, grad, options));
        }
    }
}

/// The layer `O` on autodiff tensors, recording [`GemmGradBackward`] when tracked.
fn tracked<B: Backend + GemmGradConv, C: CheckpointStrategy, O: GemmGradLayer>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    options: O,
) -> FloatTensor<Autodiff<B, C>> {
    match GemmGradBackward::<O>(core::marker::PhantomData)
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let weight_state = prep.checkpoint(&weight);
            prep.finish(
                (x_state, weight_state, options.clone()),
                O::forward::<B>(x.into_primitive(), weight.into_primitive(), options),
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(O::forward::<B>(
            x.into_primitive(),
            weight.into_primitive(),
            options,
        )),
    }
}

/// The weight gradient of `conv_transpose2d(x, weight)` given its output's gradient:
/// `x` is to the output gradient what a convolution's output gradient is to its input, so
/// [`weight_grad`] with the roles swapped gives the `[c_in, c_out, k, k]` gradient.
fn transposed_weight_grad<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
    options: &ConvTransposeOptions<2>,
) -> FloatTensor<B> {
    let conv_options = ConvOptions::new(options.stride, options.padding, options.dilation, 1);
    weight_grad::<B>(grad, weight.shape().dims(), x, &conv_options)
}

/// The most column bytes one weight-gradient product builds at a time.
const COLUMNS_BYTES: usize = 32 << 20;

/// `dW = grad · colsᵀ`: the input's patches (one row per kernel tap and input channel, one
/// column per output position) against the output gradient, in one matrix product. The
/// result has the shape `[c_out, c_in, k_h, k_w]` given.
fn weight_grad<B: Backend>(
    x: FloatTensor<B>,
    [c_out, c_in, k_h, k_w]: [usize; 4],
    grad: FloatTensor<B>,
    options: &ConvOptions<2>,
) -> FloatTensor<B> {
    let [batch, _, _, _] = x.shape().dims();
    let [_, _, out_h, out_w] = grad.shape().dims();
    let [(top, bottom), (left, right)] = options.padding;
    let [stride_h, stride_w] = options.stride;
    let [dilation_h, dilation_w] = options.dilation;
    let positions = batch * out_h * out_w;

    let x = if options.padding == [(0, 0), (0, 0)] {
        x
    } else {
        B::float_pad(
            x,
            &[(0, 0), (0, 0), (top, bottom), (left, right)],
            PadMode::Constant(0.0),
        )
    };
    // [batch, c, h, w] → [c, batch·h·w]; a view when the batch is 1.
    let channels_first = |t: FloatTensor<B>, channels: usize| {
        let t = if batch == 1 {
            t
        } else {
            B::float_swap_dims(t, 0, 1)
        };
        B::float_reshape(t, [channels, positions].into())
    };
    let tap = |index: usize| {
        let (top, left) = ((index / k_w) * dilation_h, (index % k_w) * dilation_w);
        let tap = B::float_slice(
            x.clone(),
            &[
                Slice::from(..),
                Slice::from(..),
                Slice::new(
                    top as isize,
                    Some((top + stride_h * (out_h - 1) + 1) as isize),
                    stride_h as isize,
                ),
                Slice::new(
                    left as isize,
                    Some((left + stride_w * (out_w - 1) + 1) as isize),
                    stride_w as isize,
                ),
            ],
        );
        channels_first(tap, c_in)
    };
    let grad = channels_first(grad, c_out); // [c_out, positions]
    // The columns of as many taps as fit in COLUMNS_BYTES go into one product: all of them
    // for most layers; a few at a time for wide maps with many taps (the 7×7 output layer
    // of a generator has 49 · ngf rows per position).
    let taps = k_h * k_w;
    let tap_bytes = c_in * positions * core::mem::size_of::<f32>();
    let per_product = (COLUMNS_BYTES / tap_bytes.max(1)).clamp(1, taps);
    let products = (0..taps)
        .step_by(per_product)
        .map(|first| {
            let cols = (first..(first + per_product).min(taps))
                .map(tap)
                .collect::<Vec<_>>();
            let cols = B::float_cat(cols, 0); // [taps·c_in, positions]
            B::float_matmul(grad.clone(), B::float_transpose(cols)) // [c_out, taps·c_in]
        })
        .collect::<Vec<_>>();
    let weight_grad = if products.len() == 1 {
        products.into_iter().next().expect("one product")
    } else {
        B::float_cat(products, 1)
    };
    let weight_grad = B::float_reshape(weight_grad, [c_out, k_h * k_w, c_in].into());
    let weight_grad = B::float_swap_dims(weight_grad, 1, 2);
    B::float_reshape(weight_grad, [c_out, c_in, k_h, k_w].into())
}

/// Whether `device` (or the device an autodiff device wraps) runs on Flex.
pub(crate) fn is_flex(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    {
        matches!(
            device.clone().inner().as_dispatch(),
            burn::backend::DispatchDevice::Flex(_)
        )
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = device;
        false
    }
}

/// `conv.forward(x)`, with this crate's kernels on Flex devices (same result;
/// see the [module](self) documentation). Grouped convolutions and `Same` padding use
/// [`Conv2d::forward`] as it is.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if conv.groups != 1 || !is_flex(&x.device()) {
        return conv.forward(x);
    }
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        _ => return conv.forward(x),
    };
    let options = ConvOptions::new_with_padding(conv.stride, padding, conv.dilation, 1);
    let y =
        Tensor::<4>::from_dispatch(<burn::backend::Dispatch as GemmGradConv>::conv2d_gemm_grad(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            options,
        ));
    with_bias(y, conv.bias.as_ref())
}

/// `conv.forward(x)`, with this crate's kernels on Flex devices (same result;
/// see the [module](self) documentation). Grouped transposed convolutions use
/// [`ConvTranspose2d::forward`] as it is.
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    if conv.groups != 1 || !is_flex(&x.device()) {
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

fn with_bias(y: Tensor<4>, bias: Option<&Param<Tensor<1>>>) -> Tensor<4> {
    match bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.val().reshape([1, channels, 1, 1])
        }
        None => y,
    }
}
