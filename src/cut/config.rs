//! [`CutConfig`]: every official CUT option that changes what training computes, and
//! [`CutMode`], whose choice sets the defaults of the others as the official
//! `--CUT_mode` does.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{NceLossConfig, PatchNceLossConfig, PatchSampleFConfig};
use crate::error::CycleGanError;
use crate::loss::GanMode;
use crate::model::{
    Discriminator, DiscriminatorKind, GeneratorKind, InitType, NLayerDiscriminatorConfig,
    NetworksConfig, PixelDiscriminatorConfig, ResnetGenerator, ResnetGeneratorConfig,
};
use crate::train::{OptimizerConfig, ScheduleConfig};

/// The two flavours of the official CUT model (`--CUT_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CutMode {
    /// CUT: `lambda_NCE` 1 with the identity NCE term (`nce_idt`), 200 + 200 epochs.
    #[default]
    Cut,
    /// FastCUT: `lambda_NCE` 10, no identity term, flip equivariance, 150 + 50 epochs.
    FastCut,
}

crate::names::official_names!(CutMode, "CUT_mode", {
    Cut => "CUT" | "cut",
    FastCut => "FastCUT" | "fastcut",
});

/// How netF turns feature maps into patch vectors (`--netF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum NetF {
    /// An MLP per map, then L2 normalisation (CUT's default).
    #[default]
    MlpSample,
    /// The sampled feature vectors, L2-normalised, with no MLP.
    Sample,
}

crate::names::official_names!(NetF, "netF", {
    MlpSample => "mlp_sample",
    Sample => "sample",
});

/// Everything that defines a CUT or FastCUT model and its training. `CutConfig::new()` is the
/// official `--model cut` default (CUT mode); [`with_cut_mode`](Self::with_cut_mode) sets the
/// defaults of a mode as the official `--CUT_mode` does, so call it before the options that
/// should override them.
///
/// The networks are CycleGAN's options ([`NetworksConfig`], one norm for G and D as the
/// official `--normG` / `--normD` defaults are) with CUT's defaults: xavier initialisation
/// with gain 0.02, a ResNet generator (the NCE taps index its modules) and the anti-aliased
/// resampling of CUT (`no_antialias`, `no_antialias_up` turn it off).
///
/// ```
/// use cyclegan_burn::cut::{CutConfig, CutMode};
/// let cut = CutConfig::new();
/// assert_eq!((cut.lambda_nce, cut.nce_idt, cut.flip_equivariance), (1.0, true, false));
/// let fast = CutConfig::new().with_cut_mode(CutMode::FastCut);
/// assert_eq!((fast.lambda_nce, fast.nce_idt, fast.flip_equivariance), (10.0, false, true));
/// assert_eq!(fast.schedule.total_epochs(), 200);
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct CutConfig {
    /// CUT or FastCUT (`--CUT_mode`). Set it with [`with_cut_mode`](Self::with_cut_mode),
    /// which also sets the mode's defaults (`with_mode` sets only this field). Default: CUT.
    #[config(default = "CutMode::Cut")]
    pub mode: CutMode,
    /// G's and D's architecture and initialisation. Default: CUT's (resnet_9blocks, basic D,
    /// instance norm, xavier 0.02, no dropout).
    #[config(
        default = "NetworksConfig::new().with_init_type(InitType::Xavier).with_init_gain(0.02)"
    )]
    pub networks: NetworksConfig,
    /// Stride-2 convs instead of CUT's blurred downsampling in G and D (`--no_antialias`).
    /// Default: false.
    #[config(default = false)]
    pub no_antialias: bool,
    /// Transposed convs instead of CUT's upsample + conv in G (`--no_antialias_up`).
    /// Default: false.
    #[config(default = false)]
    pub no_antialias_up: bool,
    /// Adversarial objective (`--gan_mode`). Default: lsgan.
    #[config(default = "GanMode::Lsgan")]
    pub gan_mode: GanMode,
    /// Weight of the adversarial term (`--lambda_GAN`). Default: 1.
    #[config(default = 1.0)]
    pub lambda_gan: f64,
    /// Weight of the NCE term (`--lambda_NCE`): 1 for CUT, 10 for FastCUT.
    #[config(default = 1.0)]
    pub lambda_nce: f64,
    /// The identity NCE term NCE(G(Y), Y) (`--nce_idt`): on for CUT, off for FastCUT.
    #[config(default = true)]
    pub nce_idt: bool,
    /// The generator modules whose features are compared (`--nce_layers`). Default:
    /// 0, 4, 8, 12, 16.
    #[config(default = "vec![0, 4, 8, 12, 16]")]
    pub nce_layers: Vec<usize>,
    /// Negatives from every image of the batch (`--nce_includes_all_negatives_from_minibatch`).
    /// Default: false.
    #[config(default = false)]
    pub nce_includes_all_negatives_from_minibatch: bool,
    /// netF's kind (`--netF`). Default: mlp_sample.
    #[config(default = "NetF::MlpSample")]
    pub net_f: NetF,
    /// Width of netF's MLPs (`--netF_nc`). Default: 256.
    #[config(default = 256)]
    pub netf_nc: usize,
    /// Temperature of the NCE loss (`--nce_T`). Default: 0.07.
    #[config(default = 0.07)]
    pub nce_t: f64,
    /// Patches per layer (`--num_patches`). Default: 256.
    #[config(default = 256)]
    pub num_patches: usize,
    /// FastCUT's flip equivariance (`--flip_equivariance`): half the steps translate the
    /// mirrored batch and compare its features mirrored back. Default: false (CUT).
    #[config(default = false)]
    pub flip_equivariance: bool,
    /// The three Adam optimizers (G, D, netF): lr 2e-4, betas (0.5, 0.999).
    #[config(default = "OptimizerConfig::new()")]
    pub optimizer: OptimizerConfig,
    /// Epochs and learning-rate policy: 200 + 200 for CUT, 150 + 50 for FastCUT.
    #[config(default = "ScheduleConfig::new().with_n_epochs(200).with_n_epochs_decay(200)")]
    pub schedule: ScheduleConfig,
    /// Seed of the weight initialisation, the flip decisions and the patch draws.
    /// Default: 0.
    #[config(default = 0)]
    pub seed: u64,
}

impl CutConfig {
    /// The mode and its official defaults (`set_defaults` of `CUTModel`): CUT is `nce_idt`,
    /// `lambda_NCE` 1, no flip, 200 + 200 epochs; FastCUT is no `nce_idt`, `lambda_NCE` 10,
    /// flip equivariance, 150 + 50 epochs.
    pub fn with_cut_mode(mut self, mode: CutMode) -> Self {
        self.mode = mode;
        let (nce_idt, lambda_nce, flip, n_epochs, n_epochs_decay) = match mode {
            CutMode::Cut => (true, 1.0, false, 200, 200),
            CutMode::FastCut => (false, 10.0, true, 150, 50),
        };
        self.nce_idt = nce_idt;
        self.lambda_nce = lambda_nce;
        self.flip_equivariance = flip;
        self.schedule = self
            .schedule
            .with_n_epochs(n_epochs)
            .with_n_epochs_decay(n_epochs_decay);
        self
    }

    /// The generator's configuration.
    pub fn generator(&self) -> ResnetGeneratorConfig {
        let networks = &self.networks;
        let n_blocks = match networks.net_g {
            GeneratorKind::Resnet6Blocks => 6,
            _ => 9,
        };
        ResnetGeneratorConfig::new(networks.input_nc, networks.output_nc)
            .with_ngf(networks.ngf)
            .with_n_blocks(n_blocks)
            .with_norm(networks.norm)
            .with_dropout(networks.dropout)
            .with_init_type(networks.init_type)
            .with_init_gain(networks.init_gain)
            .with_antialias(!self.no_antialias)
            .with_antialias_up(!self.no_antialias_up)
    }

    /// A fresh generator with weights drawn from `seed`.
    pub(crate) fn init_generator(&self, device: &Device, seed: u64) -> ResnetGenerator {
        self.generator().init_seeded(device, seed)
    }

    /// A fresh discriminator (of `output_nc`-channel images) with weights drawn from `seed`.
    pub(crate) fn init_discriminator(&self, device: &Device, seed: u64) -> Discriminator {
        let networks = &self.networks;
        let n_layers = |n| {
            NLayerDiscriminatorConfig::new(networks.output_nc)
                .with_ndf(networks.ndf)
                .with_n_layers(n)
                .with_norm(networks.norm)
                .with_init_type(networks.init_type)
                .with_init_gain(networks.init_gain)
                .with_antialias(!self.no_antialias)
                .init_seeded(device, seed)
        };
        match networks.net_d {
            DiscriminatorKind::Basic => Discriminator::NLayer(n_layers(3)),
            DiscriminatorKind::NLayers => Discriminator::NLayer(n_layers(networks.n_layers_d)),
            DiscriminatorKind::Pixel => Discriminator::Pixel(
                PixelDiscriminatorConfig::new(networks.output_nc)
                    .with_ndf(networks.ndf)
                    .with_norm(networks.norm)
                    .with_init_type(networks.init_type)
                    .with_init_gain(networks.init_gain)
                    .init_seeded(device, seed),
            ),
        }
    }

    /// netF's configuration.
    pub fn patch_sample_f(&self) -> PatchSampleFConfig {
        PatchSampleFConfig::new()
            .with_netf_nc(self.netf_nc)
            .with_use_mlp(self.net_f == NetF::MlpSample)
            .with_init_type(self.networks.init_type)
            .with_init_gain(self.networks.init_gain)
    }

    /// The NCE term's configuration.
    pub fn nce_loss(&self) -> NceLossConfig {
        NceLossConfig::new()
            .with_nce_layers(self.nce_layers.clone())
            .with_num_patches(self.num_patches)
            .with_lambda_nce(self.lambda_nce)
            .with_patch_nce(
                PatchNceLossConfig::new()
                    .with_temperature(self.nce_t)
                    .with_includes_all_negatives_from_minibatch(
                        self.nce_includes_all_negatives_from_minibatch,
                    ),
            )
    }

    /// Refuses inconsistent values with a message naming the field.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        self.networks.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        if matches!(
            self.networks.net_g,
            GeneratorKind::Unet128 | GeneratorKind::Unet256
        ) {
            return Err(CycleGanError::config(
                "netG",
                format!(
                    "CUT taps the ResNet generator's modules for its NCE loss; `{}` is not one (use resnet_9blocks or resnet_6blocks)",
                    self.networks.net_g
                ),
            ));
        }
        for (name, value) in [
            ("lambda_GAN", self.lambda_gan),
            ("lambda_NCE", self.lambda_nce),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(CycleGanError::config(
                    name,
                    format!("must be a finite number >= 0, got {value}"),
                ));
            }
        }
        if !self.nce_t.is_finite() || self.nce_t <= 0.0 {
            return Err(CycleGanError::config(
                "nce_T",
                format!("must be a finite number > 0, got {}", self.nce_t),
            ));
        }
        if self.num_patches == 0 {
            return Err(CycleGanError::config("num_patches", "must be at least 1"));
        }
        if self.netf_nc == 0 {
            return Err(CycleGanError::config("netF_nc", "must be at least 1"));
        }
        if self.lambda_nce > 0.0 {
            if self.nce_layers.is_empty() {
                return Err(CycleGanError::config("nce_layers", "names no layer"));
            }
            let last = self.generator().module_channels().len() - 1;
            if let Some(layer) = self.nce_layers.iter().find(|&&layer| layer > last) {
                return Err(CycleGanError::config(
                    "nce_layers",
                    format!("layer {layer} is past the generator's last module ({last})"),
                ));
            }
            let mut distinct = self.nce_layers.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() != self.nce_layers.len() {
                return Err(CycleGanError::config(
                    "nce_layers",
                    format!("names a layer twice: {:?}", self.nce_layers),
                ));
            }
        }
        if self.lambda_gan == 0.0 && self.lambda_nce == 0.0 {
            return Err(CycleGanError::config(
                "lambda_NCE",
                "and lambda_GAN are both 0: the generator would have nothing to learn",
            ));
        }
        if self.nce_idt && self.networks.input_nc != self.networks.output_nc {
            return Err(CycleGanError::config(
                "nce_idt",
                format!(
                    "the identity NCE term feeds B images to G, which needs input_nc == output_nc (got {} and {})",
                    self.networks.input_nc, self.networks.output_nc
                ),
            ));
        }
        Ok(())
    }
}
