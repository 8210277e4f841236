//! Reflection and replication padding of height and width as one operation, forward and
//! backward.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to, and the Flex-only helpers go unused.
#![cfg_attr(
    not(feature = "flex"),
    allow(unused_variables, unused_imports, dead_code)
)]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};

use super::registry::{Op, has_kernel};

/// `x` `[N, C, H, W]` padded by `pad` on every side of height and width, repeating the
/// border as `mirror` says: one operation on devices with this crate's kernel ([`MirrorPad`]),
/// Burn's [`Tensor::pad`] elsewhere.
///
/// # Panics
///
/// With [`Mirror::Reflect`], if `pad >= H` or `pad >= W`.
pub fn mirror_pad2d(x: Tensor<4>, pad: usize, mirror: Mirror) -> Tensor<4> {
    if has_kernel(Op::MirrorPad, &x.device()) {
        return Tensor::<4>::from_dispatch(<burn::backend::Dispatch as MirrorPad>::mirror_pad2d(
            x.into_dispatch(),
            pad,
            mirror,
        ));
    }
    x.pad([(pad, pad), (pad, pad)], mirror.pad_mode())
}

/// Which border a [`MirrorPad`] repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mirror {
    /// Mirror without repeating the edge (`ReflectionPad2d`).
    Reflect,
    /// Repeat the edge (`ReplicationPad2d`).
    Edge,
}

impl Mirror {
    pub(crate) fn pad_mode(self) -> PadMode {
        match self {
            Mirror::Reflect => PadMode::Reflect,
            Mirror::Edge => PadMode::Edge,
        }
    }

    /// The source index of padded index `index` (`pad` before the first of `len`).
    pub(crate) fn source(self, index: usize, pad: usize, len: usize) -> usize {
        let position = index as isize - pad as isize;
        let last = len as isize - 1;
        let source = match self {
            Mirror::Reflect if position < 0 => -position,
            Mirror::Reflect if position > last => 2 * last - position,
            Mirror::Edge => position.clamp(0, last),
            Mirror::Reflect => position,
        };
        source as usize
    }
}

/// Reflection and replication padding of height and width as one operation, forward and
/// backward. Burn 0.22 builds [`Tensor::pad`]'s mirror modes from slices, flips and
/// concatenations, each recorded for autodiff: measured on Flex, that took about five times
/// PyTorch's time for the residual blocks' padding of 256 channels at 32² (and 12–16 kernel
/// launches forward, 28–34 backward, on a GPU). Flex runs this extension as two copies, GPU
/// devices as one launch each way (`kernels::cube`), and other backends keep Burn's `pad`.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Autodiff
)]
pub trait MirrorPad: Backend {
    /// `x` `[N, C, H, W]` padded by `pad` on every side of height and width.
    fn mirror_pad2d(x: FloatTensor<Self>, pad: usize, mirror: Mirror) -> FloatTensor<Self> {
        Self::float_pad(
            x,
            &[(0, 0), (0, 0), (pad, pad), (pad, pad)],
            mirror.pad_mode(),
        )
    }

    /// The gradient of [`mirror_pad2d`](Self::mirror_pad2d)'s input given its output's:
    /// every padded element's gradient added onto the element it repeats.
    fn mirror_pad2d_backward(
        grad: FloatTensor<Self>,
        pad: usize,
        mirror: Mirror,
    ) -> FloatTensor<Self>;
}

impl<B: Backend + MirrorPad, C: CheckpointStrategy> MirrorPad for Autodiff<B, C> {
    fn mirror_pad2d(x: FloatTensor<Self>, pad: usize, mirror: Mirror) -> FloatTensor<Self> {
        match MirrorPadBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (pad, mirror),
                B::mirror_pad2d(x.into_primitive(), pad, mirror),
            ),
            OpsKind::UnTracked(prep) => {
                prep.finish(B::mirror_pad2d(x.into_primitive(), pad, mirror))
            }
        }
    }

    fn mirror_pad2d_backward(
        grad: FloatTensor<Self>,
        pad: usize,
        mirror: Mirror,
    ) -> FloatTensor<Self> {
        // Gradients of gradients are not needed here: the untracked result.
        <Self as burn::backend::AutodiffBackend>::from_inner(B::mirror_pad2d_backward(
            <Self as burn::backend::AutodiffBackend>::inner(grad),
            pad,
            mirror,
        ))
    }
}

/// The backward pass of [`MirrorPad::mirror_pad2d`] on autodiff tensors.
#[derive(Debug)]
struct MirrorPadBackward;

impl<B: Backend + MirrorPad> Backward<B, 1> for MirrorPadBackward {
    type State = (usize, Mirror);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (pad, mirror) = ops.state;
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::mirror_pad2d_backward(grad, pad, mirror));
        }
    }
}
