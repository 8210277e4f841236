//! Instance normalisation as one operation, forward and backward.
//!
//! Burn 0.22's `InstanceNorm` is a group norm built from element-wise tensor operations
//! (means, a variance, subtractions, divisions), each a pass over the feature map recorded
//! for autodiff; measured on Flex with 64 channels at 128², normalisation and ReLU took
//! about three times PyTorch's time (`docs/benchmarks.md`). [`instance_norm`] runs it on
//! Flex devices as one backend-extension operation: one pass for the statistics and one for
//! the output, and the textbook backward pass
//! `dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ` (`x̂` the normalised input, recomputed from the
//! input). [`instance_norm_activated`] fuses the activation that follows the norm (the
//! generators' ReLU, the discriminators' LeakyReLU) into the same operation (forward
//! `max(0, x̂)` or the leaky slope below zero, and the gradient masked or scaled by the sign
//! of `x̂` before the norm's backward pass), which saves the activation's own passes and its
//! mask. The statistics take one pass, summed in `f32` lanes and combined in `f64`. Other
//! backends keep Burn's module; the affine scale and shift, when present, stay Burn tensor
//! operations on every backend.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to.
#![cfg_attr(not(feature = "flex"), allow(unused_variables, unused_imports))]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::nn::InstanceNorm;
use burn::prelude::*;
use burn_autodiff::Autodiff;
use burn_autodiff::NodeId;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};

use super::activation::{Activation, Pointwise, activate, with_pointwise};
#[cfg(feature = "flex")]
use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use super::registry::{Op, has_kernel};
#[cfg(feature = "flex")]
use super::simd::{Vectorized, vectorized};

/// `norm.forward(x)` for `[N, C, H, W]`, as one operation on Flex devices (same result;
/// see the [module](self) documentation).
pub fn instance_norm(norm: &InstanceNorm, x: Tensor<4>) -> Tensor<4> {
    if runs_fused(norm, &x) {
        fused(norm, x, Activation::Identity)
    } else {
        norm.forward(x)
    }
}

/// `activation(norm.forward(x))`, as one operation on Flex devices when `norm` has no
/// affine parameters (see the [module](self) documentation).
pub fn instance_norm_activated(
    norm: &InstanceNorm,
    x: Tensor<4>,
    activation: Activation,
) -> Tensor<4> {
    if norm.gamma.is_none() && runs_fused(norm, &x) {
        fused(norm, x, activation)
    } else {
        activate(instance_norm(norm, x), activation)
    }
}

/// Whether `x` is normalised by this crate's operation: `f32` on Flex with the channels
/// `norm` has (Burn's module reports a mismatch).
fn runs_fused(norm: &InstanceNorm, x: &Tensor<4>) -> bool {
    x.dims()[1] == norm.num_channels
        && x.dtype() == burn::tensor::DType::F32
        && has_kernel(Op::InstanceNorm, &x.device())
}

/// The normalisation (then `activation`, for a norm without affine parameters) as this
/// crate's operation, then the affine scale and shift if `norm` has them.
fn fused(norm: &InstanceNorm, x: Tensor<4>, activation: Activation) -> Tensor<4> {
    let channels = norm.num_channels;
    let normalised = Tensor::<4>::from_dispatch(
        <burn::backend::Dispatch as InstanceNorm2d>::instance_norm2d(
            x.into_dispatch(),
            norm.epsilon,
            activation,
        ),
    );
    match (&norm.gamma, &norm.beta) {
        (Some(gamma), Some(beta)) => {
            normalised * gamma.val().reshape([1, channels, 1, 1])
                + beta.val().reshape([1, channels, 1, 1])
        }
        _ => normalised,
    }
}

/// Instance normalisation of `[N, C, H, W]` without scale and shift: every `[H, W]` plane
/// to mean 0 and (biased) variance 1, `(x − mean) / sqrt(var + epsilon)`, then
/// `activation`.
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait InstanceNorm2d: Backend {
    /// The normalised input, through `activation`.
    fn instance_norm2d(
        x: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self>;

    /// The gradient of [`instance_norm2d`](Self::instance_norm2d)'s input `x`, given the
    /// output's gradient `grad`.
    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self>;
}

#[cfg(feature = "flex")]
impl InstanceNorm2d for burn::backend::Flex {
    fn instance_norm2d(
        x: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let output = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), plane, move |index, output| {
                let input = &input[index * plane..][..plane];
                vectorized(NormPlane {
                    function,
                    input,
                    output,
                    epsilon,
                })
            })
        });
        from_vec(output, shape)
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let input = f32_slice(&x);
        let grad = f32_slice(&grad);
        let input_grad = with_pointwise!(activation, |function| {
            filled_by_chunks(input.len(), plane, move |index, input_grad| {
                let (input, grad) = (
                    &input[index * plane..][..plane],
                    &grad[index * plane..][..plane],
                );
                vectorized(NormPlaneBackward {
                    function,
                    input,
                    grad,
                    input_grad,
                    epsilon,
                })
            })
        });
        from_vec(input_grad, shape)
    }
}

/// One plane normalised, then activated.
#[cfg(feature = "flex")]
struct NormPlane<'a, F> {
    function: F,
    input: &'a [f32],
    output: &'a mut [f32],
    epsilon: f64,
}

#[cfg(feature = "flex")]
impl<F: Pointwise> Vectorized for NormPlane<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let (mean, inverse_std) = statistics(self.input, self.epsilon);
        for (output, &input) in self.output.iter_mut().zip(self.input) {
            *output = self.function.forward((input - mean) * inverse_std);
        }
    }
}

/// The gradient of one plane's input, given its output's (through the activation).
#[cfg(feature = "flex")]
struct NormPlaneBackward<'a, F> {
    function: F,
    input: &'a [f32],
    grad: &'a [f32],
    input_grad: &'a mut [f32],
    epsilon: f64,
}

#[cfg(feature = "flex")]
impl<F: Pointwise> Vectorized for NormPlaneBackward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let (function, input, grad) = (self.function, self.input, self.grad);
        let (mean, inverse_std) = statistics(input, self.epsilon);
        // The gradient reaching the norm's output, through the activation: `x̂` has the
        // sign of `input − mean`.
        let masked = move |input: f32, grad: f32| function.backward(input - mean, grad);
        let [grad_sum, grad_dot_centred] = lane_sums(input, grad, move |input, grad| {
            let grad = masked(input, grad);
            [grad, grad * (input - mean)]
        });
        let count = input.len().max(1) as f64;
        let grad_mean = (grad_sum / count) as f32;
        let grad_dot_mean = (grad_dot_centred * inverse_std as f64 / count) as f32;
        for ((input_grad, &input), &grad) in self.input_grad.iter_mut().zip(input).zip(grad) {
            let normalised = (input - mean) * inverse_std;
            *input_grad =
                inverse_std * (masked(input, grad) - grad_mean - normalised * grad_dot_mean);
        }
    }
}

/// The mean and `1 / sqrt(biased variance + epsilon)` of one plane, in one pass: the sums of
/// `x − x₀` and `(x − x₀)²` (`x₀` the plane's first value, against cancellation) in `f32`
/// lanes, combined in `f64`.
#[cfg(feature = "flex")]
#[inline(always)]
fn statistics(plane: &[f32], epsilon: f64) -> (f32, f32) {
    let Some(&origin) = plane.first() else {
        return (0.0, (1.0 / epsilon.sqrt()) as f32);
    };
    let [sum, squares] = lane_sums(plane, plane, move |value, _| {
        let centred = value - origin;
        [centred, centred * centred]
    });
    let count = plane.len() as f64;
    let shifted_mean = sum / count;
    let variance = (squares / count - shifted_mean * shifted_mean).max(0.0);
    (
        (origin as f64 + shifted_mean) as f32,
        (1.0 / (variance + epsilon).sqrt()) as f32,
    )
}

/// `Σ term(a[i], b[i])` for both components of `term`, accumulated in 16 `f32` lanes over
/// runs of at most 1,024 elements (which the compiler vectorises) and in `f64` across runs.
///
/// Each component is summed in a pass of its own over the run (which stays in the L1
/// cache): with both sums in one loop, the compiler paired each lane's two components in
/// two-wide vectors with scalar loads instead of keeping each component's 16 lanes in vector
/// registers, in some builds and not others, and the backward pass ran three times slower.
#[cfg(feature = "flex")]
#[inline(always)]
fn lane_sums(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> [f32; 2] + Copy) -> [f64; 2] {
    let mut total = [0.0f64; 2];
    for (a, b) in a.chunks(1024).zip(b.chunks(1024)) {
        total[0] += lane_sum(a, b, move |a, b| term(a, b)[0]);
        total[1] += lane_sum(a, b, move |a, b| term(a, b)[1]);
    }
    total
}

/// `Σ term(a[i], b[i])` over one run, in 16 `f32` lanes (lane `i mod 16` takes element `i`),
/// then the lanes summed in `f64`.
#[cfg(feature = "flex")]
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f64 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (a_lanes, a_rest) = a.as_chunks::<LANES>();
    let (b_lanes, b_rest) = b.as_chunks::<LANES>();
    for (a, b) in a_lanes.iter().zip(b_lanes) {
        for lane in 0..LANES {
            lanes[lane] += term(a[lane], b[lane]);
        }
    }
    for (&a, &b) in a_rest.iter().zip(b_rest) {
        lanes[0] += term(a, b);
    }
    lanes.iter().map(|&lane| lane as f64).sum::<f64>()
}

impl<B: Backend + InstanceNorm2d, C: CheckpointStrategy> InstanceNorm2d for Autodiff<B, C> {
    fn instance_norm2d(
        x: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        match InstanceNormBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish(
                    (x_state, epsilon, activation),
                    B::instance_norm2d(x.into_primitive(), epsilon, activation),
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::instance_norm2d(x.into_primitive(), epsilon, activation))
            }
        }
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
        activation: Activation,
    ) -> FloatTensor<Self> {
        // Gradients of gradients are not needed here: the untracked result.
        <Self as burn::backend::AutodiffBackend>::from_inner(B::instance_norm2d_backward(
            <Self as burn::backend::AutodiffBackend>::inner(x),
            <Self as burn::backend::AutodiffBackend>::inner(grad),
            epsilon,
            activation,
        ))
    }
}

/// The backward pass of [`InstanceNorm2d::instance_norm2d`] on autodiff tensors.
#[derive(Debug)]
struct InstanceNormBackward;

impl<B: Backend + InstanceNorm2d> Backward<B, 1> for InstanceNormBackward {
    type State = (NodeId, f64, Activation);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, epsilon, activation) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        if let Some(node) = node_x {
            grads.register::<B>(
                node.id,
                B::instance_norm2d_backward(x, grad, epsilon, activation),
            );
        }
    }
}
