//! [`Discriminator`]: any discriminator architecture, chosen by [`DiscriminatorKind`]
//! (`--netD`). Adding one goes as for a generator (see [`generator`](super::generator)).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::network::Network;
use super::networks::NetworksConfig;
use super::{
    NLayerDiscriminator, NLayerDiscriminatorConfig, PixelDiscriminator, PixelDiscriminatorConfig,
};
use crate::error::CycleGanError;

/// Discriminator architecture (`--netD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DiscriminatorKind {
    /// 70×70 PatchGAN, 3 layers (`basic`, the default).
    #[default]
    Basic,
    /// PatchGAN with [`n_layers_d`](NetworksConfig::n_layers_d) layers (`n_layers`).
    NLayers,
    /// 1×1 PatchGAN (`pixel`).
    Pixel,
}

crate::names::official_names!(DiscriminatorKind, "net_d", {
    Basic => "basic",
    NLayers => "n_layers",
    Pixel => "pixel",
});

/// Any discriminator architecture.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Discriminator {
    /// A PatchGAN.
    NLayer(NLayerDiscriminator),
    /// A 1×1 PatchGAN.
    Pixel(PixelDiscriminator),
}

/// `$body` with `$d` bound to the concrete discriminator inside `$discriminator`.
macro_rules! each_discriminator {
    ($discriminator:expr, |$d:ident| $body:expr) => {
        match $discriminator {
            Discriminator::NLayer($d) => $body,
            Discriminator::Pixel($d) => $body,
        }
    };
}

impl Discriminator {
    /// Builds the discriminator `config.net_d` for `input_nc`-channel images, with weights
    /// drawn from `seed`.
    pub fn new(config: &NetworksConfig, input_nc: usize, device: &Device, seed: u64) -> Self {
        let n_layers = |n| {
            NLayerDiscriminatorConfig::new(input_nc)
                .with_ndf(config.ndf)
                .with_n_layers(n)
                .with_norm(config.norm)
                .with_init_type(config.init_type)
                .with_init_gain(config.init_gain)
                .init_seeded(device, seed)
        };
        match config.net_d {
            DiscriminatorKind::Basic => Discriminator::NLayer(n_layers(3)),
            DiscriminatorKind::NLayers => Discriminator::NLayer(n_layers(config.n_layers_d)),
            DiscriminatorKind::Pixel => Discriminator::Pixel(
                PixelDiscriminatorConfig::new(input_nc)
                    .with_ndf(config.ndf)
                    .with_norm(config.norm)
                    .with_init_type(config.init_type)
                    .with_init_gain(config.init_gain)
                    .init_seeded(device, seed),
            ),
        }
    }

    /// Scores `[N, C, H, W]` images as raw patch scores.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        each_discriminator!(self, |d| d.forward(x))
    }

    /// Checks that an input of `shape` can be scored.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        each_discriminator!(self, |d| d.check_input(shape))
    }
}

impl Network for Discriminator {
    fn input_nc(&self) -> usize {
        each_discriminator!(self, |d| d.input_nc())
    }

    fn size_multiple(&self) -> usize {
        each_discriminator!(self, |d| d.size_multiple())
    }

    fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        Discriminator::check_input(self, shape)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        Discriminator::forward(self, x)
    }
}

impl From<NLayerDiscriminator> for Discriminator {
    fn from(discriminator: NLayerDiscriminator) -> Self {
        Discriminator::NLayer(discriminator)
    }
}

impl From<PixelDiscriminator> for Discriminator {
    fn from(discriminator: PixelDiscriminator) -> Self {
        Discriminator::Pixel(discriminator)
    }
}
