//! Instance normalisation as one operation, forward and backward.
//!
//! Burn 0.22's `InstanceNorm` is a group norm built from element-wise tensor operations
//! (means, a variance, subtractions, divisions), each a pass over the feature map recorded
//! for autodiff; measured on Flex with 64 channels at 128², normalisation and ReLU took
//! about three times PyTorch's time (`docs/benchmarks.md`). [`instance_norm`] runs it on
//! Flex devices as one backend-extension operation: one pass for the statistics and one for
//! the output, and the textbook backward pass
//! `dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ` (`x̂` the normalised input, recomputed from the
//! input). Other backends keep Burn's module; the affine scale and shift, when present,
//! stay Burn tensor operations on every backend.

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

use super::conv::is_flex;
#[cfg(feature = "flex")]
use super::flex_tensor::{f32_slice, from_vec};

/// `norm.forward(x)` for `[N, C, H, W]`, as one operation on Flex devices (same result;
/// see the [module](self) documentation).
pub fn instance_norm(norm: &InstanceNorm, x: Tensor<4>) -> Tensor<4> {
    let [_, channels, _, _] = x.dims();
    if channels != norm.num_channels
        || x.dtype() != burn::tensor::DType::F32
        || !is_flex(&x.device())
    {
        // Burn's module reports a channel mismatch.
        return norm.forward(x);
    }
    let normalised = Tensor::<4>::from_dispatch(
        <burn::backend::Dispatch as InstanceNorm2d>::instance_norm2d(
            x.into_dispatch(),
            norm.epsilon,
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
/// to mean 0 and (biased) variance 1, `(x − mean) / sqrt(var + epsilon)`.
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait InstanceNorm2d: Backend {
    /// The normalised input.
    fn instance_norm2d(x: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self>;

    /// The gradient of [`instance_norm2d`](Self::instance_norm2d)'s input `x`, given the
    /// output's gradient `grad`.
    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

#[cfg(feature = "flex")]
impl InstanceNorm2d for burn::backend::Flex {
    fn instance_norm2d(x: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self> {
        use rayon::prelude::*;
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let mut output = vec![0.0f32; input.len()];
        output
            .par_chunks_mut(plane.max(1))
            .zip(input.par_chunks(plane.max(1)))
            .for_each(|(output, input)| {
                let (mean, inverse_std) = statistics(input, epsilon);
                for (output, &input) in output.iter_mut().zip(input) {
                    *output = (input - mean) * inverse_std;
                }
            });
        from_vec(output, shape)
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        use rayon::prelude::*;
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let plane = shape[2] * shape[3];
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let input = f32_slice(&x);
        let grad = f32_slice(&grad);
        let mut input_grad = vec![0.0f32; input.len()];
        input_grad
            .par_chunks_mut(plane.max(1))
            .zip(
                input
                    .par_chunks(plane.max(1))
                    .zip(grad.par_chunks(plane.max(1))),
            )
            .for_each(|(input_grad, (input, grad))| {
                let (mean, inverse_std) = statistics(input, epsilon);
                let (mut grad_sum, mut grad_dot_normalised) = (0.0f64, 0.0f64);
                for (&input, &grad) in input.iter().zip(grad) {
                    grad_sum += grad as f64;
                    grad_dot_normalised += (grad * (input - mean) * inverse_std) as f64;
                }
                let count = input.len() as f64;
                let grad_mean = (grad_sum / count) as f32;
                let grad_dot_mean = (grad_dot_normalised / count) as f32;
                for ((input_grad, &input), &grad) in input_grad.iter_mut().zip(input).zip(grad) {
                    let normalised = (input - mean) * inverse_std;
                    *input_grad = inverse_std * (grad - grad_mean - normalised * grad_dot_mean);
                }
            });
        from_vec(input_grad, shape)
    }
}

/// The mean and `1 / sqrt(biased variance + epsilon)` of one plane, accumulated in `f64`.
#[cfg(feature = "flex")]
fn statistics(plane: &[f32], epsilon: f64) -> (f32, f32) {
    let count = plane.len().max(1) as f64;
    let mean = plane.iter().map(|&value| value as f64).sum::<f64>() / count;
    let variance = plane
        .iter()
        .map(|&value| (value as f64 - mean).powi(2))
        .sum::<f64>()
        / count;
    (mean as f32, (1.0 / (variance + epsilon).sqrt()) as f32)
}

impl<B: Backend + InstanceNorm2d, C: CheckpointStrategy> InstanceNorm2d for Autodiff<B, C> {
    fn instance_norm2d(x: FloatTensor<Self>, epsilon: f64) -> FloatTensor<Self> {
        match InstanceNormBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish(
                    (x_state, epsilon),
                    B::instance_norm2d(x.into_primitive(), epsilon),
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::instance_norm2d(x.into_primitive(), epsilon))
            }
        }
    }

    fn instance_norm2d_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        // Gradients of gradients are not needed here: the untracked result.
        <Self as burn::backend::AutodiffBackend>::from_inner(B::instance_norm2d_backward(
            <Self as burn::backend::AutodiffBackend>::inner(x),
            <Self as burn::backend::AutodiffBackend>::inner(grad),
            epsilon,
        ))
    }
}

/// The backward pass of [`InstanceNorm2d::instance_norm2d`] on autodiff tensors.
#[derive(Debug)]
struct InstanceNormBackward;

impl<B: Backend + InstanceNorm2d> Backward<B, 1> for InstanceNormBackward {
    type State = (NodeId, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::instance_norm2d_backward(x, grad, epsilon));
        }
    }
}
