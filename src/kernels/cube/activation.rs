//! ReLU, LeakyReLU and tanh on CubeCL devices: one launch forward, one backward.
//!
//! Burn composes LeakyReLU from a comparison, a product and a `mask_where` (three launches
//! forward, six backward with autodiff's masked copies), ReLU from a comparison and a
//! `mask_fill`, and tanh's gradient from four passes. Each runs here as one element-wise
//! kernel that reads its operands through their strides and writes in the input's memory
//! order (channels-last after a convolution), so the layer that follows reads it as it is.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::layout::{elementwise, empty_like, memory_order, permuted, readable};
use crate::kernels::activation::{Activate, Activation};

/// An [`Activation`] as the kernels take it: a compile-time kind and a run-time slope.
#[derive(Debug, Clone, Copy)]
pub(super) struct ActivationCode {
    /// [`IDENTITY`], [`RELU`], [`LEAKY_RELU`] or [`TANH`].
    pub(super) kind: u32,
    /// LeakyReLU's negative slope (0 for the others).
    pub(super) slope: f32,
}

/// The value as it is.
pub(super) const IDENTITY: u32 = 0;
/// `max(0, x)`.
pub(super) const RELU: u32 = 1;
/// `x` where `x ≥ 0`, `slope · x` below.
pub(super) const LEAKY_RELU: u32 = 2;
/// `tanh(x)`.
pub(super) const TANH: u32 = 3;

impl ActivationCode {
    pub(super) fn of(activation: Activation) -> Self {
        let (kind, slope) = match activation {
            Activation::Identity => (IDENTITY, 0.0),
            Activation::Relu => (RELU, 0.0),
            Activation::LeakyRelu { negative_slope } => (LEAKY_RELU, negative_slope),
            Activation::Tanh => (TANH, 0.0),
        };
        Self { kind, slope }
    }
}

/// The activation `kind` of `x`, as Burn computes it (ReLU: 0 where `x ≤ 0`; LeakyReLU:
/// `x · slope` where `x < 0`).
#[cube]
pub(super) fn activated(x: f32, negative_slope: f32, #[comptime] kind: u32) -> f32 {
    let mut y = x;
    if kind == RELU {
        y = select(x <= 0.0f32, 0.0f32, x);
    } else if kind == LEAKY_RELU {
        y = select(x < 0.0f32, x * negative_slope, x);
    } else if kind == TANH {
        y = f32::tanh(x);
    }
    y
}

/// The gradient reaching the input `x` of the activation `kind`, given its output's `grad`.
/// For ReLU and LeakyReLU, `x` may be any value of the input's sign; tanh needs the input.
#[cube]
pub(super) fn activation_gradient(
    x: f32,
    grad: f32,
    negative_slope: f32,
    #[comptime] kind: u32,
) -> f32 {
    let mut g = grad;
    if kind == RELU {
        g = select(x <= 0.0f32, 0.0f32, grad);
    } else if kind == LEAKY_RELU {
        g = select(x < 0.0f32, grad * negative_slope, grad);
    } else if kind == TANH {
        let y = f32::tanh(x);
        g = grad * (1.0f32 - y * y);
    }
    g
}

/// The offset in `tensor` of element `index` of the row-major order of `reference`'s shape
/// (`tensor`'s own, or that of another input of the same shape).
#[cube]
pub(super) fn strided_offset(
    tensor: &Tensor<f32>,
    reference: &Tensor<f32>,
    index: usize,
    #[comptime] rank: usize,
) -> usize {
    let mut remainder = index;
    let mut offset = 0;
    #[unroll]
    for step in 0..rank {
        let dim = rank - step - 1;
        let size = reference.shape(dim);
        offset += (remainder % size) * tensor.stride(dim);
        remainder /= size;
    }
    offset
}

/// `output[i] = activation(input[i])`, `output` contiguous (its dimensions given in memory
/// order), `input` read through its strides.
#[cube(launch_unchecked)]
fn activation_forward_kernel(
    input: &Tensor<f32>,
    output: &mut Tensor<f32>,
    negative_slope: f32,
    #[comptime] kind: u32,
    #[comptime] rank: usize,
) {
    let index = ABSOLUTE_POS;
    if index >= output.len() {
        terminate!();
    }
    let value = input[strided_offset(input, input, index, rank)];
    output[index] = activated(value, negative_slope, kind);
}

/// `input_grad[i] = activation'(input[i]) · grad[i]`, `input_grad` contiguous (its dimensions
/// given in memory order), the others read through their strides.
#[cube(launch_unchecked)]
fn activation_backward_kernel(
    input: &Tensor<f32>,
    grad: &Tensor<f32>,
    input_grad: &mut Tensor<f32>,
    negative_slope: f32,
    #[comptime] kind: u32,
    #[comptime] rank: usize,
) {
    let index = ABSOLUTE_POS;
    if index >= input_grad.len() {
        terminate!();
    }
    let value = input[strided_offset(input, input, index, rank)];
    let g = grad[strided_offset(grad, input, index, rank)];
    input_grad[index] = activation_gradient(value, g, negative_slope, kind);
}

impl Activate for CubeBackend {
    fn activate(x: FloatTensor<Self>, activation: Activation) -> FloatTensor<Self> {
        let x = readable(x);
        let output = empty_like(&x);
        let order = memory_order(&x);
        let rank = order.len();
        let elements = x.shape().num_elements();
        let (count, dim) = elementwise(&x, elements);
        let code = ActivationCode::of(activation);
        // SAFETY: the kernel reads and writes within the shape it is given, threads past the
        // last element returning at once.
        unsafe {
            activation_forward_kernel::launch_unchecked(
                &x.client,
                count,
                dim,
                permuted(x.clone(), &order).into_tensor_arg(),
                permuted(output.clone(), &order).into_tensor_arg(),
                code.slope,
                code.kind,
                rank,
            );
        }
        output
    }

    fn activate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let x = readable(x);
        let grad = readable(grad);
        let input_grad = empty_like(&x);
        let order = memory_order(&x);
        let rank = order.len();
        let elements = x.shape().num_elements();
        let (count, dim) = elementwise(&x, elements);
        let code = ActivationCode::of(activation);
        // SAFETY: as in the forward pass.
        unsafe {
            activation_backward_kernel::launch_unchecked(
                &x.client,
                count,
                dim,
                permuted(x.clone(), &order).into_tensor_arg(),
                permuted(grad, &order).into_tensor_arg(),
                permuted(input_grad.clone(), &order).into_tensor_arg(),
                code.slope,
                code.kind,
                rank,
            );
        }
        input_grad
    }
}
