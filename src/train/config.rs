//! [`CycleGanConfig`]: every official option that changes what training computes.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::schedule::LrPolicy;
use crate::error::CycleGanError;
use crate::loss::{CycleLoss, GanMode};
use crate::model::{InitType, Norm};

/// Generator architecture (`--netG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GeneratorKind {
    /// ResNet generator with 9 blocks (`resnet_9blocks`, the default).
    #[default]
    #[cfg_attr(feature = "clap", value(name = "resnet_9blocks"))]
    Resnet9Blocks,
    /// ResNet generator with 6 blocks (`resnet_6blocks`).
    #[cfg_attr(feature = "clap", value(name = "resnet_6blocks"))]
    Resnet6Blocks,
    /// U-Net with 7 downsamplings, for 128×128 images (`unet_128`).
    #[cfg_attr(feature = "clap", value(name = "unet_128"))]
    Unet128,
    /// U-Net with 8 downsamplings, for 256×256 images (`unet_256`).
    #[cfg_attr(feature = "clap", value(name = "unet_256"))]
    Unet256,
}

impl std::str::FromStr for GeneratorKind {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "resnet_9blocks" => Ok(Self::Resnet9Blocks),
            "resnet_6blocks" => Ok(Self::Resnet6Blocks),
            "unet_128" => Ok(Self::Unet128),
            "unet_256" => Ok(Self::Unet256),
            other => Err(CycleGanError::option(
                "netG",
                format!(
                    "`{other}` is not one of resnet_9blocks, resnet_6blocks, unet_128, unet_256"
                ),
            )),
        }
    }
}

impl std::fmt::Display for GeneratorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Resnet9Blocks => "resnet_9blocks",
            Self::Resnet6Blocks => "resnet_6blocks",
            Self::Unet128 => "unet_128",
            Self::Unet256 => "unet_256",
        })
    }
}

/// Discriminator architecture (`--netD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DiscriminatorKind {
    /// 70×70 PatchGAN, 3 layers (`basic`, the default).
    #[default]
    #[cfg_attr(feature = "clap", value(name = "basic"))]
    Basic,
    /// PatchGAN with `--n_layers_D` layers (`n_layers`).
    #[cfg_attr(feature = "clap", value(name = "n_layers"))]
    NLayers,
    /// 1×1 PatchGAN (`pixel`).
    #[cfg_attr(feature = "clap", value(name = "pixel"))]
    Pixel,
}

impl std::str::FromStr for DiscriminatorKind {
    type Err = CycleGanError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "basic" => Ok(Self::Basic),
            "n_layers" => Ok(Self::NLayers),
            "pixel" => Ok(Self::Pixel),
            other => Err(CycleGanError::option(
                "netD",
                format!("`{other}` is not one of basic, n_layers, pixel"),
            )),
        }
    }
}

impl std::fmt::Display for DiscriminatorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Basic => "basic",
            Self::NLayers => "n_layers",
            Self::Pixel => "pixel",
        })
    }
}

/// Everything that defines a CycleGAN and its training step. `CycleGanConfig::new()` is the
/// official default: `resnet_9blocks`, `basic` D, instance norm, LSGAN, lambda_A = lambda_B
/// = 10, lambda_identity = 0.5, pool 50, Adam lr 2e-4 with beta1 0.5, linear policy 100 +
/// 100 epochs.
#[derive(Config, Debug, PartialEq)]
pub struct CycleGanConfig {
    /// Channels of domain A images (`--input_nc`). Default: 3.
    #[config(default = 3)]
    pub input_nc: usize,
    /// Channels of domain B images (`--output_nc`). Default: 3.
    #[config(default = 3)]
    pub output_nc: usize,
    /// Generator filters in the first conv layer (`--ngf`). Default: 64.
    #[config(default = 64)]
    pub ngf: usize,
    /// Discriminator filters in the first conv layer (`--ndf`). Default: 64.
    #[config(default = 64)]
    pub ndf: usize,
    /// Generator architecture (`--netG`). Default: resnet_9blocks.
    #[config(default = "GeneratorKind::Resnet9Blocks")]
    pub net_g: GeneratorKind,
    /// Discriminator architecture (`--netD`). Default: basic.
    #[config(default = "DiscriminatorKind::Basic")]
    pub net_d: DiscriminatorKind,
    /// Layers of an `n_layers` discriminator (`--n_layers_D`). Default: 3.
    #[config(default = 3)]
    pub n_layers_d: usize,
    /// Normalisation (`--norm`). Default: instance.
    #[config(default = "Norm::Instance")]
    pub norm: Norm,
    /// Weight initialisation (`--init_type`). Default: normal.
    #[config(default = "InitType::Normal")]
    pub init_type: InitType,
    /// Initialisation scale (`--init_gain`). Default: 0.02.
    #[config(default = 0.02)]
    pub init_gain: f64,
    /// Dropout in the generators (the opposite of `--no_dropout`). Default: false, as in
    /// the official CycleGAN.
    #[config(default = false)]
    pub dropout: bool,
    /// Adversarial objective (`--gan_mode`). Default: lsgan.
    #[config(default = "GanMode::Lsgan")]
    pub gan_mode: GanMode,
    /// Size of each image pool (`--pool_size`); 0 disables the pools. Default: 50.
    #[config(default = 50)]
    pub pool_size: usize,
    /// Initial Adam learning rate (`--lr`). Default: 0.0002.
    #[config(default = 2e-4)]
    pub lr: f64,
    /// Adam beta1 (`--beta1`); beta2 is 0.999 and epsilon 1e-8, as PyTorch's. Default: 0.5.
    #[config(default = 0.5)]
    pub beta1: f64,
    /// Weight of the A → B → A cycle loss (`--lambda_A`). Default: 10.
    #[config(default = 10.0)]
    pub lambda_a: f64,
    /// Weight of the B → A → B cycle loss (`--lambda_B`). Default: 10.
    #[config(default = 10.0)]
    pub lambda_b: f64,
    /// Identity loss weight relative to the cycle weights (`--lambda_identity`); 0 skips
    /// the identity terms. Default: 0.5.
    #[config(default = 0.5)]
    pub lambda_identity: f64,
    /// Weight of G_A's adversarial loss (D_A judging G_A(A)); 0 turns it off for
    /// ablations. Default: 1.
    #[config(default = 1.0)]
    pub lambda_gan_a: f64,
    /// Weight of G_B's adversarial loss (D_B judging G_B(B)). Default: 1.
    #[config(default = 1.0)]
    pub lambda_gan_b: f64,
    /// Learning-rate policy (`--lr_policy`). Default: linear, 100 + 100 epochs.
    #[config(default = "LrPolicy::Linear { n_epochs: 100, n_epochs_decay: 100 }")]
    pub lr_policy: LrPolicy,
    /// Seed of the weight initialisation and the image pools. Default: 0.
    #[config(default = 0)]
    pub seed: u64,
}

impl CycleGanConfig {
    /// The cycle and identity weights.
    pub fn cycle_loss(&self) -> CycleLoss {
        CycleLoss {
            lambda_a: self.lambda_a,
            lambda_b: self.lambda_b,
            lambda_identity: self.lambda_identity,
        }
    }

    /// Refuses inconsistent options with a message naming the option.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        if self.lambda_identity > 0.0 && self.input_nc != self.output_nc {
            return Err(CycleGanError::option(
                "lambda_identity",
                format!(
                    "the identity loss needs input_nc == output_nc (got {} and {}); set --lambda_identity 0",
                    self.input_nc, self.output_nc
                ),
            ));
        }
        for (name, value) in [
            ("input_nc", self.input_nc),
            ("output_nc", self.output_nc),
            ("ngf", self.ngf),
            ("ndf", self.ndf),
        ] {
            if value == 0 {
                return Err(CycleGanError::option(name, "must be at least 1"));
            }
        }
        for (name, value) in [
            ("lr", self.lr),
            ("lambda_A", self.lambda_a),
            ("lambda_B", self.lambda_b),
            ("lambda_identity", self.lambda_identity),
            ("lambda_gan_a", self.lambda_gan_a),
            ("lambda_gan_b", self.lambda_gan_b),
            ("init_gain", self.init_gain),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(CycleGanError::option(
                    name,
                    format!("must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(CycleGanError::option(
                "beta1",
                format!("must be in [0, 1), got {}", self.beta1),
            ));
        }
        Ok(())
    }
}
