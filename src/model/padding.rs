//! Spatial padding before convolutions (`padding_type` of the official `ResnetBlock`).
//!
//! Burn's convolution only pads with zeros, so reflection and replication padding are a
//! separate, differentiable tensor op applied before a convolution built with no padding.

use burn::prelude::*;
use burn::tensor::ops::PadMode;
use serde::{Deserialize, Serialize};

use crate::error::CycleGanError;

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
    match mode {
        PaddingType::Reflect => x.pad([(pad, pad), (pad, pad)], PadMode::Reflect),
        PaddingType::Replicate => x.pad([(pad, pad), (pad, pad)], PadMode::Edge),
        PaddingType::Zero => x,
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

    #[test]
    fn zero_is_left_to_the_conv() {
        let device = Device::flex();
        let y = pad2d(grid(&device), 1, PaddingType::Zero);
        assert_eq!(y.dims(), [1, 1, 3, 3]);
        assert_eq!(PaddingType::Zero.conv_padding(1), 1);
        assert_eq!(PaddingType::Reflect.conv_padding(1), 0);
    }
}
