//! Normalisation layers (`--norm`) and the official conv-bias rule.

use burn::nn::{BatchNorm, BatchNormConfig, Identity, InstanceNorm, InstanceNormConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::init::WeightInit;
use crate::error::CycleGanError;

/// Normalisation used inside the networks.
///
/// The official CycleGAN default is [`Norm::Instance`]: `InstanceNorm2d(affine=False,
/// track_running_stats=False)`, biased variance, eps 1e-5. (Burn's own `InstanceNormConfig`
/// defaults to `affine = true`; this crate never uses that default.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Norm {
    /// Instance norm without learnable scale and shift (`--norm instance`, the default).
    #[default]
    Instance,
    /// Instance norm with a learnable scale and shift (found in some community checkpoints).
    InstanceAffine,
    /// Batch norm with learnable scale and shift and running statistics (`--norm batch`).
    Batch,
    /// No normalisation (`--norm none`).
    None,
}

impl Norm {
    /// The official `use_bias` rule: convolutions followed by a norm layer carry a bias
    /// exactly when the norm is an instance norm (a batch norm's shift makes it redundant,
    /// and with no norm the official code also leaves it out).
    pub fn conv_bias(self) -> bool {
        matches!(self, Norm::Instance | Norm::InstanceAffine)
    }

    /// Builds the norm layer for `channels` channels.
    pub fn init(self, channels: usize, weights: &mut WeightInit, device: &Device) -> NormLayer {
        match self {
            Norm::Instance | Norm::InstanceAffine => NormLayer::Instance(
                InstanceNormConfig::new(channels)
                    .with_affine(self == Norm::InstanceAffine)
                    .with_epsilon(1e-5)
                    .init(device),
            ),
            Norm::Batch => {
                let mut batch = BatchNormConfig::new(channels)
                    .with_epsilon(1e-5)
                    .with_momentum(0.1)
                    .init(device);
                batch.gamma = weights.batch_norm_gamma(channels, device);
                NormLayer::Batch(batch)
            }
            Norm::None => NormLayer::Identity(Identity::new()),
        }
    }
}

impl std::str::FromStr for Norm {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "instance" => Ok(Norm::Instance),
            "instance_affine" => Ok(Norm::InstanceAffine),
            "batch" => Ok(Norm::Batch),
            "none" => Ok(Norm::None),
            other => Err(CycleGanError::option(
                "norm",
                format!("`{other}` is not one of instance, instance_affine, batch, none"),
            )),
        }
    }
}

impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Norm::Instance => "instance",
            Norm::InstanceAffine => "instance_affine",
            Norm::Batch => "batch",
            Norm::None => "none",
        })
    }
}

/// A norm layer as built by [`Norm::init`].
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum NormLayer {
    /// Instance norm (affine or not).
    Instance(InstanceNorm),
    /// Batch norm: batch statistics when training on an autodiff device, running
    /// statistics otherwise.
    Batch(BatchNorm),
    /// No normalisation.
    Identity(Identity),
}

impl NormLayer {
    /// Normalises `[N, C, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            NormLayer::Instance(norm) => norm.forward(x),
            NormLayer::Batch(norm) => norm.forward(x),
            NormLayer::Identity(_) => x,
        }
    }

    /// Whether this layer normalises at all.
    pub fn is_identity(&self) -> bool {
        matches!(self, NormLayer::Identity(_))
    }
}
