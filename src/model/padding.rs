//! Spatial padding before convolutions (`padding_type` of the official `ResnetBlock`).
//!
//! Burn's convolution only pads with zeros, so reflection and replication padding are a
//! separate, differentiable tensor op applied before a convolution built with no padding.

// Without Flex, the backend extension's generated dispatch has no backend to hand the
// arguments to, and the Flex-only helpers go unused.
#![cfg_attr(
    not(feature = "flex"),
    allow(unused_variables, unused_imports, dead_code)
)]

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata, backend_extension};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};

use super::conv::is_flex;
#[cfg(feature = "flex")]
use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
#[cfg(feature = "flex")]
use burn::backend::ops::FloatTensorOps;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

/// How residual blocks pad before their 3×3 convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PaddingType {
    /// Mirror the border without repeating the edge (`nn.ReflectionPad2d`). The default.
    #[default]
    #[cfg_attr(feature = "clap", value(name = "reflect"))]
    Reflect,
    /// Repeat the edge (`nn.ReplicationPad2d`).
    #[cfg_attr(feature = "clap", value(name = "replicate"))]
    Replicate,
    /// Zeros, done by the convolution itself (`padding=1`).
    #[cfg_attr(feature = "clap", value(name = "zero"))]
    Zero,
}

impl PaddingType {
    /// The padding the convolution itself must apply (zero padding only).
    pub fn conv_padding(self, pad: usize) -> usize {
        match self {
            PaddingType::Zero => pad,
            _ => 0,
        }
    }

    /// The smallest height/width that padding by `pad` accepts (reflection needs `pad < size`).
    pub fn min_size(self, pad: usize) -> usize {
        match self {
            PaddingType::Reflect => pad + 1,
            PaddingType::Replicate | PaddingType::Zero => 1,
        }
    }
}

impl std::str::FromStr for PaddingType {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "reflect" => Ok(PaddingType::Reflect),
            "replicate" => Ok(PaddingType::Replicate),
            "zero" => Ok(PaddingType::Zero),
            other => Err(CycleGanError::option(
                "padding_type",
                format!("`{other}` is not one of reflect, replicate, zero"),
            )),
        }
    }
}

/// Pads the height and width of `[N, C, H, W]` by `pad` on every side with `mode`.
/// [`PaddingType::Zero`] returns `x` unchanged: the following convolution pads.
///
/// # Panics
///
/// With [`PaddingType::Reflect`], if `pad >= H` or `pad >= W` (networks check this first in
/// their `check_input`).
pub fn pad2d(x: Tensor<4>, pad: usize, mode: PaddingType) -> Tensor<4> {
    if pad == 0 {
        return x;
    }
    let mirror = match mode {
        PaddingType::Reflect => Mirror::Reflect,
        PaddingType::Replicate => Mirror::Edge,
        PaddingType::Zero => return x,
    };
    if is_flex(&x.device()) {
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
    fn pad_mode(self) -> PadMode {
        match self {
            Mirror::Reflect => PadMode::Reflect,
            Mirror::Edge => PadMode::Edge,
        }
    }

    /// The source index of padded index `index` (`pad` before the first of `len`).
    fn source(self, index: usize, pad: usize, len: usize) -> usize {
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
/// PyTorch's time for the residual blocks' padding of 256 channels at 32². Flex runs this
/// extension as two copies, and other backends keep Burn's `pad`.
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
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

#[cfg(feature = "flex")]
impl MirrorPad for burn::backend::Flex {
    fn mirror_pad2d(x: FloatTensor<Self>, pad: usize, mirror: Mirror) -> FloatTensor<Self> {
        let [batch, channels, height, width] = x.shape().dims();
        if x.dtype() != burn::tensor::DType::F32 || pad >= height.min(width) {
            // Burn's op reports what is wrong with the padding.
            return Self::float_pad(
                x,
                &[(0, 0), (0, 0), (pad, pad), (pad, pad)],
                mirror.pad_mode(),
            );
        }
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let (padded_h, padded_w) = (height + 2 * pad, width + 2 * pad);
        let columns = (0..padded_w)
            .map(|column| mirror.source(column, pad, width))
            .collect::<Vec<_>>();
        let output = filled_by_chunks(
            batch * channels * padded_h * padded_w,
            padded_h * padded_w,
            |plane, output| {
                let input = &input[plane * height * width..][..height * width];
                for (row, output) in output.chunks_exact_mut(padded_w).enumerate() {
                    let source = &input[mirror.source(row, pad, height) * width..][..width];
                    output[pad..pad + width].copy_from_slice(source);
                    for column in (0..pad).chain(pad + width..padded_w) {
                        output[column] = source[columns[column]];
                    }
                }
            },
        );
        from_vec(output, [batch, channels, padded_h, padded_w])
    }

    fn mirror_pad2d_backward(
        grad: FloatTensor<Self>,
        pad: usize,
        mirror: Mirror,
    ) -> FloatTensor<Self> {
        let [batch, channels, padded_h, padded_w] = grad.shape().dims();
        let (height, width) = (padded_h - 2 * pad, padded_w - 2 * pad);
        let grad = grad.to_contiguous();
        let grad = f32_slice(&grad);
        let columns = (0..padded_w)
            .map(|column| mirror.source(column, pad, width))
            .collect::<Vec<_>>();
        let input_grad = filled_by_chunks(
            batch * channels * height * width,
            height * width,
            |plane, input_grad| {
                let grad = &grad[plane * padded_h * padded_w..][..padded_h * padded_w];
                for (row, grad) in grad.chunks_exact(padded_w).enumerate() {
                    let target =
                        &mut input_grad[mirror.source(row, pad, height) * width..][..width];
                    for (target, grad) in target.iter_mut().zip(&grad[pad..pad + width]) {
                        *target += grad;
                    }
                    for column in (0..pad).chain(pad + width..padded_w) {
                        target[columns[column]] += grad[column];
                    }
                }
            },
        );
        from_vec(input_grad, [batch, channels, height, width])
    }
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

/// Reflection padding by `pad` on every side (`nn.ReflectionPad2d(pad)`).
pub fn reflect_pad2d(x: Tensor<4>, pad: usize) -> Tensor<4> {
    pad2d(x, pad, PaddingType::Reflect)
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn grid(device: &Device) -> Tensor<4> {
        // 1×1×3×3 with values 1..9, row-major.
        let values: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        Tensor::from_data(TensorData::new(values, [1, 1, 3, 3]), device)
    }

    fn row(t: &Tensor<4>, r: usize) -> Vec<f32> {
        let [_, _, _, w] = t.dims();
        t.clone()
            .slice(s![0..1, 0..1, r..r + 1, 0..w])
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn reflect_mirrors_without_the_edge() {
        let device = Device::flex();
        let y = pad2d(grid(&device), 1, PaddingType::Reflect);
        assert_eq!(y.dims(), [1, 1, 5, 5]);
        // torch.nn.ReflectionPad2d(1) of [[1,2,3],[4,5,6],[7,8,9]]
        assert_eq!(row(&y, 0), vec![5., 4., 5., 6., 5.]);
        assert_eq!(row(&y, 1), vec![2., 1., 2., 3., 2.]);
        assert_eq!(row(&y, 4), vec![5., 4., 5., 6., 5.]);
    }

    #[test]
    fn replicate_repeats_the_edge() {
        let device = Device::flex();
        let y = pad2d(grid(&device), 1, PaddingType::Replicate);
        assert_eq!(row(&y, 0), vec![1., 1., 2., 3., 3.]);
        assert_eq!(row(&y, 4), vec![7., 7., 8., 9., 9.]);
    }

    /// The Flex extension gives what Burn's `pad` gives, forward and backward, for both
    /// modes and every pad up to the largest reflection allows.
    #[test]
    fn mirror_padding_matches_burns_pad_with_gradients() {
        let device = Device::flex().autodiff();
        for (mode, mirror) in [
            (PaddingType::Reflect, Mirror::Reflect),
            (PaddingType::Replicate, Mirror::Edge),
        ] {
            // The last shape is large enough to be padded on all threads.
            for (pad, shape) in [
                (1, [2, 3, 5, 6]),
                (3, [1, 2, 4, 7]),
                (2, [1, 1, 3, 3]),
                (1, [2, 100, 18, 19]),
            ] {
                let x = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, &device);
                // A weight per output element, so every gradient element differs.
                let [n, c, h, w] = shape;
                let weights = Tensor::<4>::random(
                    [n, c, h + 2 * pad, w + 2 * pad],
                    burn::tensor::Distribution::Default,
                    &device,
                );
                let run = |padded: &dyn Fn(Tensor<4>) -> Tensor<4>| {
                    let x = x.clone().require_grad();
                    let y = padded(x.clone());
                    let grads = (y.clone() * weights.clone()).sum().backward();
                    let grad = x.grad(&grads).expect("input gradient");
                    (y.inner().into_data(), grad.into_data())
                };
                let (y_ours, grad_ours) = run(&|x| pad2d(x, pad, mode));
                let (y_burn, grad_burn) =
                    run(&|x| x.pad([(pad, pad), (pad, pad)], mirror.pad_mode()));
                y_ours.assert_eq(&y_burn, true);
                grad_ours.assert_approx_eq::<f32>(&grad_burn, burn::tensor::Tolerance::default());
            }
        }
    }

    #[test]
    fn zero_is_left_to_the_conv() {
        let device = Device::flex();
        let y = pad2d(grid(&device), 1, PaddingType::Zero);
        assert_eq!(y.dims(), [1, 1, 3, 3]);
        assert_eq!(PaddingType::Zero.conv_padding(1), 1);
        assert_eq!(PaddingType::Reflect.conv_padding(1), 0);
    }
}
