//! Layers that several networks share: a convolution followed by a norm layer (and its
//! activation), and the input checks.

use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;

use super::norm::NormLayer;
use crate::error::CycleGanError;
use crate::kernels::{Activation, conv_transpose2d, conv2d};

/// The slope of the LeakyReLUs of the discriminators and the U-Net encoder
/// (`nn.LeakyReLU(0.2, True)`).
pub(crate) const LEAKY_SLOPE: f64 = 0.2;

/// The LeakyReLU after a norm, fused into it where it can be.
pub(crate) const LEAKY: Activation = Activation::LeakyRelu {
    negative_slope: LEAKY_SLOPE as f32,
};

/// A convolution followed by a norm layer (the activation is applied by the owner).
#[derive(Module, Debug)]
pub struct ConvNorm {
    /// The convolution.
    pub conv: Conv2d,
    /// The norm layer after it.
    pub norm: NormLayer,
}

impl ConvNorm {
    /// `norm(conv(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(conv2d(&self.conv, x))
    }

    /// `relu(norm(conv(x)))`, the norm and ReLU as one operation where they can be
    /// ([`NormLayer::forward_relu`]).
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward_relu(conv2d(&self.conv, x))
    }

    /// `activation(norm(conv(x)))`, the norm and activation as one operation where they
    /// can be ([`NormLayer::forward_activated`]).
    pub fn forward_activated(&self, x: Tensor<4>, activation: Activation) -> Tensor<4> {
        self.norm
            .forward_activated(conv2d(&self.conv, x), activation)
    }
}

/// A transposed convolution followed by a norm layer.
#[derive(Module, Debug)]
pub struct ConvTransposeNorm {
    /// The transposed convolution.
    pub conv: ConvTranspose2d,
    /// The norm layer after it.
    pub norm: NormLayer,
}

impl ConvTransposeNorm {
    /// `norm(conv_transpose(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(conv_transpose2d(&self.conv, x))
    }

    /// `relu(norm(conv_transpose(x)))` (see [`ConvNorm::forward_relu`]).
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward_relu(conv_transpose2d(&self.conv, x))
    }
}

/// Checks that a batch of `shape` is not empty and has `expected` channels.
pub(crate) fn check_channels(shape: [usize; 4], expected: usize) -> Result<(), CycleGanError> {
    if shape[1] != expected {
        return Err(CycleGanError::ChannelMismatch {
            expected,
            found: shape[1],
        });
    }
    if shape[0] == 0 {
        return Err(CycleGanError::InvalidInputShape {
            shape,
            reason: "the batch is empty".into(),
        });
    }
    Ok(())
}
