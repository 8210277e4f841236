//! The four networks of a CycleGAN, built from a [`CycleGanConfig`].

use std::path::Path;

use burn::prelude::*;

use super::config::{CycleGanConfig, DiscriminatorKind, GeneratorKind};
use crate::error::CycleGanError;
use crate::import::PytorchLayout;
use crate::model::{
    NLayerDiscriminator, NLayerDiscriminatorConfig, PixelDiscriminator, PixelDiscriminatorConfig,
    ResnetGenerator, ResnetGeneratorConfig, UnetGenerator, UnetGeneratorConfig,
};

/// Either generator architecture.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Generator {
    /// A ResNet generator.
    Resnet(ResnetGenerator),
    /// A U-Net generator.
    Unet(UnetGenerator),
}

impl Generator {
    /// Builds the generator `config.net_g` mapping `input_nc` to `output_nc` channels.
    pub fn from_config(
        config: &CycleGanConfig,
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
        match self {
            Generator::Resnet(g) => g.forward(x),
            Generator::Unet(g) => g.forward(x),
        }
    }

    /// Checks that an input of `shape` can be translated.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        match self {
            Generator::Resnet(g) => g.check_input(shape),
            Generator::Unet(g) => g.check_input(shape),
        }
    }

    /// [`forward`](Self::forward) after [`check_input`](Self::check_input).
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<4>, CycleGanError> {
        self.check_input(x.dims())?;
        Ok(self.forward(x))
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

impl PytorchLayout for Generator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        match self {
            Generator::Resnet(g) => g.pytorch_layers(),
            Generator::Unet(g) => g.pytorch_layers(),
        }
    }
}

/// Either discriminator architecture.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Discriminator {
    /// A PatchGAN.
    NLayer(NLayerDiscriminator),
    /// A 1×1 PatchGAN.
    Pixel(PixelDiscriminator),
}

impl Discriminator {
    /// Builds the discriminator `config.net_d` for `input_nc`-channel images.
    pub fn from_config(
        config: &CycleGanConfig,
        input_nc: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
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
        match self {
            Discriminator::NLayer(d) => d.forward(x),
            Discriminator::Pixel(d) => d.forward(x),
        }
    }

    /// Checks that an input of `shape` can be scored.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<(), CycleGanError> {
        match self {
            Discriminator::NLayer(d) => d.check_input(shape),
            Discriminator::Pixel(d) => d.check_input(shape),
        }
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

impl PytorchLayout for Discriminator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        match self {
            Discriminator::NLayer(d) => d.pytorch_layers(),
            Discriminator::Pixel(d) => d.pytorch_layers(),
        }
    }
}

/// The four networks: G_A: A → B, G_B: B → A, D_A judges domain B, D_B judges domain A
/// (the official naming).
#[derive(Module, Debug)]
pub struct CycleGanNets {
    /// Generator A → B.
    pub g_a: Generator,
    /// Generator B → A.
    pub g_b: Generator,
    /// Discriminator of domain B (real B vs G_A(A)).
    pub d_a: Discriminator,
    /// Discriminator of domain A (real A vs G_B(B)).
    pub d_b: Discriminator,
}

/// Derives independent sub-seeds from one seed (SplitMix64).
pub(crate) fn sub_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add((index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl CycleGanNets {
    /// The four networks from concrete ones, in the official order (G_A: A → B, G_B: B → A,
    /// D_A judging domain B, D_B judging domain A); any generator or discriminator
    /// architecture converts.
    ///
    /// ```
    /// # #[cfg(feature = "flex")] {
    /// use cyclegan_burn::prelude::*;
    ///
    /// let device = backend::cpu();
    /// let generator = || ResnetGeneratorConfig::new(3, 3).with_ngf(4).with_n_blocks(1).init(&device);
    /// let discriminator = || NLayerDiscriminatorConfig::new(3).with_ndf(4).init(&device);
    /// let nets = CycleGanNets::from_networks(generator(), generator(), discriminator(), discriminator());
    /// assert!(matches!(nets.g_a, Generator::Resnet(_)));
    /// # }
    /// ```
    pub fn from_networks(
        g_a: impl Into<Generator>,
        g_b: impl Into<Generator>,
        d_a: impl Into<Discriminator>,
        d_b: impl Into<Discriminator>,
    ) -> Self {
        Self {
            g_a: g_a.into(),
            g_b: g_b.into(),
            d_a: d_a.into(),
            d_b: d_b.into(),
        }
    }

    /// Freshly initialised networks for `config`, with weights drawn from `config.seed`.
    pub fn new(config: &CycleGanConfig, device: &Device) -> Result<Self, CycleGanError> {
        config.validate()?;
        let seed = config.seed;
        Ok(Self {
            g_a: Generator::from_config(
                config,
                config.input_nc,
                config.output_nc,
                device,
                sub_seed(seed, 0),
            )?,
            g_b: Generator::from_config(
                config,
                config.output_nc,
                config.input_nc,
                device,
                sub_seed(seed, 1),
            )?,
            d_a: Discriminator::from_config(config, config.output_nc, device, sub_seed(seed, 2)),
            d_b: Discriminator::from_config(config, config.input_nc, device, sub_seed(seed, 3)),
        })
    }

    /// Loads the four nets from official checkpoints named as the official code saves them,
    /// `<dir>/<prefix>_net_{G_A,G_B,D_A,D_B}.<ext>` (e.g. `latest_net_G_A.pth`).
    pub fn load_pytorch_dir(
        self,
        dir: impl AsRef<Path>,
        prefix: &str,
        ext: &str,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let dir = dir.as_ref();
        let file = |name: &str| dir.join(format!("{prefix}_net_{name}.{ext}"));
        Ok(Self {
            g_a: self.g_a.load_pytorch(file("G_A"), device)?,
            g_b: self.g_b.load_pytorch(file("G_B"), device)?,
            d_a: self.d_a.load_pytorch(file("D_A"), device)?,
            d_b: self.d_b.load_pytorch(file("D_B"), device)?,
        })
    }
}
