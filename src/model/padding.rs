//! Spatial padding before convolutions (`padding_type` of the official `ResnetBlock`).
//!
//! Burn's convolution only pads with zeros, so reflection and replication padding are a
//! separate, differentiable operation ([`mirror_pad2d`] of the kernels layer) applied before a
//! convolution built with no padding.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kernels::{Mirror, mirror_pad2d};

/// How residual blocks pad before their 3×3 convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PaddingType {
    /// Mirror the border without repeating the edge (`nn.ReflectionPad2d`). The default.
    #[default]
    Reflect,
    /// Repeat the edge (`nn.ReplicationPad2d`).
    Replicate,
    /// Zeros, done by the convolution itself (`padding=1`).
    Zero,
}

crate::names::official_names!(PaddingType, "padding_type", {
    Reflect => "reflect",
    Replicate => "replicate",
    Zero => "zero",
});

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
    mirror_pad2d(x, pad, mirror)
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
