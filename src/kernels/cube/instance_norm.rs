//! Instance normalisation on CubeCL devices: one launch forward (statistics, then the
//! output, with the activation or the residual block's addition fused in) and one backward.
//!
//! One cube normalises one `[H, W]` plane: its threads sum the plane's values and squares
//! (shifted by the plane's first value, against cancellation, as the CPU kernel does) in a
//! strided loop, reduce the sums through shared memory, and write the output in a second
//! loop. The backward pass takes three loops in its one launch: the statistics, the sums
//! `Σ g'` and `Σ g'·(x − mean)` of the gradient through the activation, and the textbook
//! `dx = (g' − mean(g') − x̂ · mean(g'·x̂)) / σ`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::tensor::CubeTensor;

use super::activation::{ActivationCode, activated, activation_gradient};
use super::layout::{empty_like, per_plane, plane_threads, readable};
use super::reduce::cube_sum;
use crate::kernels::activation::Activation;
use crate::kernels::instance_norm::InstanceNorm2d;

impl InstanceNorm2d for CubeBackend {
    fn instance_norm2d(
        x: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        normalise(x, None, epsilon, activation)
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let x = readable(x);
        let grad = readable(grad);
        let [n, c, _, _] = x.shape().dims();
        let input_grad = empty_like(&x);
        let (count, dim) = per_plane(&x, n * c);
        let code = ActivationCode::of(activation);
        // SAFETY: every index the kernel reads or writes lies within its tensors' shapes
        // (planes past `n · c` return at once).
        unsafe {
            norm_backward_kernel::launch_unchecked(
                &x.client,
                count,
                dim,
                x.clone().into_tensor_arg(),
                grad.into_tensor_arg(),
                input_grad.clone().into_tensor_arg(),
                epsilon as f32,
                code.slope,
                code.kind,
                plane_threads(&x) as usize,
            );
        }
        input_grad
    }

    fn instance_norm2d_residual(
        x: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        normalise(x, Some(residual), epsilon, Activation::Identity)
    }
}

/// `activation(instance_norm(x)) (+ residual)`, written in `x`'s memory order.
fn normalise(
    x: CubeTensor,
    residual: Option<CubeTensor>,
    epsilon: f64,
    activation: Activation,
) -> CubeTensor {
    let x = readable(x);
    let [n, c, _, _] = x.shape().dims();
    let output = empty_like(&x);
    let (count, dim) = per_plane(&x, n * c);
    let code = ActivationCode::of(activation);
    let with_residual = residual.is_some();
    // Without a residual the kernel reads nothing through this argument.
    let residual = readable(residual.unwrap_or_else(|| x.clone()));
    // SAFETY: as in the backward pass.
    unsafe {
        norm_forward_kernel::launch_unchecked(
            &x.client,
            count,
            dim,
            x.clone().into_tensor_arg(),
            residual.into_tensor_arg(),
            output.clone().into_tensor_arg(),
            epsilon as f32,
            code.slope,
            code.kind,
            with_residual,
            plane_threads(&x) as usize,
        );
    }
    output
}

/// The offset in `tensor` of position `index` (row-major over `[H, W]`) of plane
/// `(batch, channel)`.
#[cube]
fn plane_offset(tensor: &Tensor<f32>, batch: usize, channel: usize, index: usize) -> usize {
    let width = tensor.shape(3);
    batch * tensor.stride(0)
        + channel * tensor.stride(1)
        + (index / width) * tensor.stride(2)
        + (index % width) * tensor.stride(3)
}

/// The plane's mean (`inverse_std` false) or `1 / sqrt(biased variance + epsilon)` (true),
/// from the sums of its values and squares shifted by `origin`.
#[cube]
fn statistic(
    sum: f32,
    squares: f32,
    origin: f32,
    count: usize,
    epsilon: f32,
    #[comptime] inverse_std: bool,
) -> f32 {
    let total = f32::cast_from(count);
    let shifted_mean = sum / total;
    let mut value = origin + shifted_mean;
    if inverse_std {
        let variance = max(squares / total - shifted_mean * shifted_mean, 0.0f32);
        value = 1.0f32 / f32::sqrt(variance + epsilon);
    }
    value
}

/// The mean and `1 / sqrt(biased variance + epsilon)` of plane `(batch, channel)` of
/// `input`, from its values' and squares' sums shifted by the plane's first value (against
/// cancellation), reduced through `shared`; every thread gets them.
#[cube]
fn plane_statistics(
    input: &Tensor<f32>,
    shared: &mut Shared<[f32]>,
    batch: usize,
    channel: usize,
    epsilon: f32,
    #[comptime] threads: usize,
) -> (f32, f32) {
    let count = input.shape(2) * input.shape(3);
    let origin = input[plane_offset(input, batch, channel, 0)];
    let mut sum = 0.0f32;
    let mut squares = 0.0f32;
    let mut index = UNIT_POS as usize;
    while index < count {
        let centred = input[plane_offset(input, batch, channel, index)] - origin;
        sum += centred;
        squares += centred * centred;
        index += threads;
    }
    let sum = cube_sum(shared, sum, threads);
    let squares = cube_sum(shared, squares, threads);
    (
        statistic(sum, squares, origin, count, epsilon, false),
        statistic(sum, squares, origin, count, epsilon, true),
    )
}

/// One cube per plane: the plane normalised, through the activation `kind` (or plus the
/// residual's plane), into `output`.
#[cube(launch_unchecked)]
fn norm_forward_kernel(
    input: &Tensor<f32>,
    residual: &Tensor<f32>,
    output: &mut Tensor<f32>,
    epsilon: f32,
    negative_slope: f32,
    #[comptime] kind: u32,
    #[comptime] with_residual: bool,
    #[comptime] threads: usize,
) {
    let channels = input.shape(1);
    let plane = CUBE_POS;
    if plane >= input.shape(0) * channels {
        terminate!();
    }
    let batch = plane / channels;
    let channel = plane % channels;
    let count = input.shape(2) * input.shape(3);
    let mut shared = Shared::<[f32]>::new_slice(threads);
    let (mean, inverse_std) =
        plane_statistics(input, &mut shared, batch, channel, epsilon, threads);
    let mut index = UNIT_POS as usize;
    while index < count {
        let value = input[plane_offset(input, batch, channel, index)];
        let mut normalised = activated((value - mean) * inverse_std, negative_slope, kind);
        if with_residual {
            // (IEEE addition commutes: the value of `residual + norm(x)`.)
            normalised += residual[plane_offset(residual, batch, channel, index)];
        }
        let width = input.shape(3);
        let at = batch * output.stride(0)
            + channel * output.stride(1)
            + (index / width) * output.stride(2)
            + (index % width) * output.stride(3);
        output[at] = normalised;
        index += threads;
    }
}

/// One cube per plane: the gradient of the plane's input, given its output's (through the
/// activation `kind`).
#[cube(launch_unchecked)]
fn norm_backward_kernel(
    input: &Tensor<f32>,
    grad: &Tensor<f32>,
    input_grad: &mut Tensor<f32>,
    epsilon: f32,
    negative_slope: f32,
    #[comptime] kind: u32,
    #[comptime] threads: usize,
) {
    let channels = input.shape(1);
    let plane = CUBE_POS;
    if plane >= input.shape(0) * channels {
        terminate!();
    }
    let batch = plane / channels;
    let channel = plane % channels;
    let count = input.shape(2) * input.shape(3);
    let mut shared = Shared::<[f32]>::new_slice(threads);
    let (mean, inverse_std) =
        plane_statistics(input, &mut shared, batch, channel, epsilon, threads);
    let mut index = UNIT_POS as usize;
    // The gradient reaching the norm's output through the activation: `x̂` has the sign of
    // `x − mean`.
    let mut grad_sum = 0.0f32;
    let mut grad_dot_centred = 0.0f32;
    while index < count {
        let centred = input[plane_offset(input, batch, channel, index)] - mean;
        let masked = activation_gradient(
            centred,
            grad[plane_offset(grad, batch, channel, index)],
            negative_slope,
            kind,
        );
        grad_sum += masked;
        grad_dot_centred += masked * centred;
        index += threads;
    }
    let grad_sum = cube_sum(&mut shared, grad_sum, threads);
    let grad_dot_centred = cube_sum(&mut shared, grad_dot_centred, threads);
    let total = f32::cast_from(count);
    let grad_mean = grad_sum / total;
    let grad_dot_mean = grad_dot_centred * inverse_std / total;
    index = UNIT_POS as usize;
    while index < count {
        let centred = input[plane_offset(input, batch, channel, index)] - mean;
        let masked = activation_gradient(
            centred,
            grad[plane_offset(grad, batch, channel, index)],
            negative_slope,
            kind,
        );
        let normalised = centred * inverse_std;
        let width = input.shape(3);
        let at = batch * input_grad.stride(0)
            + channel * input_grad.stride(1)
            + (index / width) * input_grad.stride(2)
            + (index % width) * input_grad.stride(3);
        input_grad[at] = inverse_std * (masked - grad_mean - normalised * grad_dot_mean);
        index += threads;
    }
}
