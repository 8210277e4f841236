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
//! mask. The statistics take one pass, summed in `f32` lanes and combined in `f64`. On GPU
//! devices the same operation is one kernel launch forward and one backward, where Burn's
//! module launches about 8 and 25 (`kernels::cube`), and [`instance_norm_residual`] also
//! fuses the residual block's addition that follows its last norm. Other backends keep
//! Burn's module; the affine scale and shift, when present, stay Burn tensor operations on
//! every backend.

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

use super::activation::{Activation, activate};
use super::registry::{Op, has_kernel};

/// `norm.forward(x)` for `[N, C, H, W]`, as one operation on Flex and GPU devices (same result;
/// see the [module](self) documentation).
pub fn instance_norm(norm: &InstanceNorm, x: Tensor<4>) -> Tensor<4> {
    if runs_fused(norm, &x) {
        fused(norm, x, Activation::Identity)
    } else {
        norm.forward(x)
    }
}

/// `activation(norm.forward(x))`, as one operation on Flex and GPU devices when `norm` has no
/// affine parameters (see the [module](self) documentation).
pub fn instance_norm_activated(
    norm: &InstanceNorm,
    x: Tensor<4>,
    activation: Activation,
) -> Tensor<4> {
    if norm.gamma.is_none() && activation.fuses_into_norm() && runs_fused(norm, &x) {
        fused(norm, x, activation)
    } else {
        activate(instance_norm(norm, x), activation)
    }
}

/// `residual + norm.forward(x)`, the end of a residual block, as one operation on devices
/// whose kernels fuse the addition into the norm (the GPU kernels) when `norm` has no affine
/// parameters; elsewhere [`instance_norm`] then Burn's addition.
pub fn instance_norm_residual(norm: &InstanceNorm, x: Tensor<4>, residual: Tensor<4>) -> Tensor<4> {
    let fused = norm.gamma.is_none()
        && x.dims() == residual.dims()
        && residual.dtype() == burn::tensor::DType::F32
        && x.dims()[1] == norm.num_channels
        && x.dtype() == burn::tensor::DType::F32
        && has_kernel(Op::InstanceNormResidual, &x.device());
    if !fused {
        return residual + instance_norm(norm, x);
    }
    Tensor::<4>::from_dispatch(
        <burn::backend::Dispatch as InstanceNorm2d>::instance_norm2d_residual(
            x.into_dispatch(),
            residual.into_dispatch(),
            norm.epsilon,
        ),
    )
}

/// Whether `x` is normalised by this crate's operation: `f32` on Flex or a GPU with the channels
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
#[backend_extension(
    Flex: cfg(feature = "flex"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Autodiff
)]
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

    /// `residual + instance_norm2d(x)` (no activation). Its gradients are `residual`'s, the
    /// output's gradient as it is, and `x`'s, [`instance_norm2d_backward`](Self::instance_norm2d_backward)
    /// without an activation. The default body is the two operations one after the other.
    fn instance_norm2d_residual(
        x: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        Self::float_add(
            residual,
            Self::instance_norm2d(x, epsilon, Activation::Identity),
        )
    }
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

    fn instance_norm2d_residual(
        x: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        match InstanceNormResidualBackward
            .prepare::<C>([x.node(), residual.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                prep.finish(
                    (x_state, epsilon),
                    B::instance_norm2d_residual(
                        x.into_primitive(),
                        residual.into_primitive(),
                        epsilon,
                    ),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::instance_norm2d_residual(
                x.into_primitive(),
                residual.into_primitive(),
                epsilon,
            )),
        }
    }
}

/// The backward pass of [`InstanceNorm2d::instance_norm2d_residual`] on autodiff tensors.
#[derive(Debug)]
struct InstanceNormResidualBackward;

impl<B: Backend + InstanceNorm2d> Backward<B, 2> for InstanceNormResidualBackward {
    type State = (NodeId, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_residual] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
        if let Some(node) = node_residual {
            grads.register::<B>(node.id, grad.clone());
        }
        if let Some(node) = node_x {
            grads.register::<B>(
                node.id,
                B::instance_norm2d_backward(x, grad, epsilon, Activation::Identity),
            );
        }
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
