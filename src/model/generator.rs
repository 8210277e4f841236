//! [`Generator`]: any generator architecture, chosen by [`GeneratorKind`] (`--netG`).
//!
//! Adding an architecture: its file in `model/` (config and module, with `check_input`,
//! `forward` and [`impl_network!`](super::network)), a variant here in `GeneratorKind` (with
//! its official name) and in `Generator` (with its arm in `each_generator!` and
//! [`Generator::new`]), and its key layout in `import::pytorch`.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::network::Network;
use super::networks::NetworksConfig;
use super::{ResnetGenerator, ResnetGeneratorConfig, UnetGenerator, UnetGeneratorConfig};
use crate::error::CycleGanError;

/// Generator architecture (`--netG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GeneratorKind {
    /// ResNet generator with 9 blocks (`resnet_9blocks`, the default).
    #[default]
    Resnet9Blocks,
    /// ResNet generator with 6 blocks (`resnet_6blocks`).
    Resnet6Blocks,
    /// U-Net with 7 downsamplings, for 128×128 images (`unet_128`).
    Unet128,
    /// U-Net with 8 downsamplings, for 256×256 images (`unet_256`).
    Unet256,
}

crate::names::official_names!(GeneratorKind, "net_g", {
    Resnet9Blocks => "resnet_9blocks",
    Resnet6Blocks => "resnet_6blocks",
    Unet128 => "unet_128",
    Unet256 => "unet_256",
});

/// Any generator architecture.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Generator {
    /// A ResNet generator.
    Resnet(ResnetGenerator),
    /// A U-Net generator.
    Unet(UnetGenerator),
}

/// `$body` with `$g` bound to the concrete generator inside `$generator`.
macro_rules! each_generator {
    ($generator:expr, |$g:ident| $body:expr) => {
        match $generator {
            Generator::Resnet($g) => $body,
            Generator::Unet($g) => $body,
        }
    };
}

impl Generator {
    /// Builds the generator `config.net_g` mapping `input_nc` to `output_nc` channels, with
    /// weights drawn from `seed`.
    pub fn new(
        config: &NetworksConfig,
        input_nc: usize,
        output_nc: usize,
        device: &Device,
        seed: u64,
    ) -> Result<Self, CycleGanError> {
        let resnet = |n_blocks| {
            ResnetGeneratorConfig::new(input_nc, output_nc)
                .with_ngf(config.ngf)
                .with_n_blocks(n_blocks)
                .with_norm(config.norm)
                .with_dropout(config.dropout)
                .with_init_type(config.init_type)
                .with_init_gain(config.init_gain)
                .init_seeded(device, seed)
        };
        let unet = |num_downs| {
            UnetGeneratorConfig::new(input_nc, output_nc, num_downs)
                .with_ngf(config.ngf)
                .with_norm(config.norm)
                .with_dropout(config.dropout)
                .with_init_type(config.init_type)
                .with_init_gain(config.init_gain)
                .try_init_seeded(device, seed)
        };
        Ok(match config.net_g {
            GeneratorKind::Resnet9Blocks => Generator::Resnet(resnet(9)),
            GeneratorKind::Resnet6Blocks => Generator::Resnet(resnet(6)),
            GeneratorKind::Unet128 => Generator::Unet(unet(7)?),
            GeneratorKind::Unet256 => Generator::Unet(unet(8)?),
        })
    }

    /// Translates `[N, C, H, W]` images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        each_generator!(self, |g| g.forward(x))
    }

    /// Checks that an input of `shape` can be translated.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        each_generator!(self, |g| g.check_input(shape))
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
    }
}

impl Network for Generator {
    fn input_nc(&self) -> usize {
        each_generator!(self, |g| g.input_nc())
    }

    fn size_multiple(&self) -> usize {
        each_generator!(self, |g| g.size_multiple())
    }

    fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        Generator::check_input(self, shape)
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        Generator::forward(self, x)
    }
}

impl From<ResnetGenerator> for Generator {
    fn from(generator: ResnetGenerator) -> Self {
        Generator::Resnet(generator)
    }
}

impl From<UnetGenerator> for Generator {
    fn from(generator: UnetGenerator) -> Self {
        Generator::Unet(generator)
    }
}
