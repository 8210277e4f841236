//! The four networks of a CycleGAN ([`CycleGanNets`]) and the options that build them
//! ([`NetworksConfig`]).

use burn::prelude::*;

use super::discriminator::{Discriminator, DiscriminatorKind};
use super::generator::{Generator, GeneratorKind};
use super::{InitType, Norm};
use crate::error::CycleGanError;

/// The architecture and initialisation of the four networks (the official network
/// options). `NetworksConfig::new()` is the official default: `resnet_9blocks` generators
/// and `basic` discriminators with 64 filters, instance norm, no dropout, N(0, 0.02) weights.
#[derive(Config, Debug, PartialEq)]
pub struct NetworksConfig {
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
}

impl NetworksConfig {
    /// Refuses values that build no network, with a message naming the field.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        for (name, value) in [
            ("input_nc", self.input_nc),
            ("output_nc", self.output_nc),
            ("ngf", self.ngf),
            ("ndf", self.ndf),
        ] {
            if value == 0 {
                return Err(CycleGanError::config(name, "must be at least 1"));
            }
        }
        if !self.init_gain.is_finite() || self.init_gain < 0.0 {
            return Err(CycleGanError::config(
                "init_gain",
                format!("must be a finite number >= 0, got {}", self.init_gain),
            ));
        }
        Ok(())
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

    /// Freshly initialised networks for `config`, with weights drawn from `seed` (each
    /// network from its own sub-seed).
    pub fn new(config: &NetworksConfig, seed: u64, device: &Device) -> Result<Self, CycleGanError> {
        config.validate()?;
        let (a, b) = (config.input_nc, config.output_nc);
        Ok(Self {
            g_a: Generator::new(config, a, b, device, sub_seed(seed, 0))?,
            g_b: Generator::new(config, b, a, device, sub_seed(seed, 1))?,
            d_a: Discriminator::new(config, b, device, sub_seed(seed, 2)),
            d_b: Discriminator::new(config, a, device, sub_seed(seed, 3)),
        })
    }
}
