//! [`CycleGanConfig`]: every official option that changes what training computes, nested by
//! concern: the networks ([`NetworksConfig`]), the objective ([`LossConfig`]), the optimizer
//! ([`OptimizerConfig`]) and the schedule ([`ScheduleConfig`]); the data options are the
//! dataset's ([`DatasetOptions`](crate::data::DatasetOptions)).

use burn::prelude::*;

use super::schedule::{LrPolicy, ScheduleConfig};
use crate::error::CycleGanError;
use crate::loss::{CycleLoss, GanMode, LossConfig};
use crate::model::{DiscriminatorKind, GeneratorKind, InitType, NetworksConfig, Norm};

/// The two Adam optimizers' options: betas (`beta1`, 0.999) and epsilon 1e-8, as PyTorch's.
#[derive(Config, Debug, PartialEq)]
pub struct OptimizerConfig {
    /// Initial learning rate (`--lr`). Default: 0.0002.
    #[config(default = 2e-4)]
    pub lr: f64,
    /// Adam beta1 (`--beta1`); beta2 is 0.999 and epsilon 1e-8, as PyTorch's. Default: 0.5.
    #[config(default = 0.5)]
    pub beta1: f64,
}

impl OptimizerConfig {
    /// Refuses a negative or non-finite learning rate and a beta1 outside [0, 1).
    pub fn validate(&self) -> Result<(), CycleGanError> {
        if !self.lr.is_finite() || self.lr < 0.0 {
            return Err(CycleGanError::config(
                "lr",
                format!("must be a finite number >= 0, got {}", self.lr),
            ));
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return Err(CycleGanError::config(
                "beta1",
                format!("must be in [0, 1), got {}", self.beta1),
            ));
        }
        Ok(())
    }
}

/// Everything that defines a CycleGAN and its training, nested by concern. The builder
/// methods of the nested values are also here (`with_ngf`, `with_lambda_identity`,
/// `with_lr`, ...), so that `CycleGanConfig::new().with_ngf(32).with_pool_size(0)` reads as
/// a flat list of options.
///
/// `CycleGanConfig::new()` is the official default: `resnet_9blocks`, `basic` D, instance
/// norm, LSGAN, lambda_A = lambda_B = 10, lambda_identity = 0.5, pool 50, Adam lr 2e-4 with
/// beta1 0.5, linear policy over 100 + 100 epochs.
///
/// ```
/// use cyclegan_burn::prelude::*;
/// let config = CycleGanConfig::new().with_ngf(32).with_lambda_identity(0.0).with_n_epochs(5);
/// assert_eq!(config.networks.ngf, 32);
/// assert_eq!(config.loss.lambda_identity, 0.0);
/// assert_eq!(config.schedule.total_epochs(), 105);
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct CycleGanConfig {
    /// The four networks' architecture and initialisation.
    #[config(default = "NetworksConfig::new()")]
    pub networks: NetworksConfig,
    /// The objective: adversarial mode and term weights.
    #[config(default = "LossConfig::new()")]
    pub loss: LossConfig,
    /// The two Adam optimizers.
    #[config(default = "OptimizerConfig::new()")]
    pub optimizer: OptimizerConfig,
    /// Epochs and learning-rate policy.
    #[config(default = "ScheduleConfig::new()")]
    pub schedule: ScheduleConfig,
    /// Size of each image pool (`--pool_size`); 0 disables the pools. Default: 50.
    #[config(default = 50)]
    pub pool_size: usize,
    /// Seed of the weight initialisation and the image pools. Default: 0.
    #[config(default = 0)]
    pub seed: u64,
}

/// Builder methods that set a field of a nested configuration.
macro_rules! nested_builders {
    ($($part:ident . $field:ident : $type:ty),+ $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($part), "` through its `", stringify!($field), "`.")]
            pub fn $field(mut self, value: $type) -> Self {
                self.$part = self.$part.$field(value);
                self
            }
        )+
    };
}

impl CycleGanConfig {
    nested_builders!(
        networks.with_input_nc: usize,
        networks.with_output_nc: usize,
        networks.with_ngf: usize,
        networks.with_ndf: usize,
        networks.with_net_g: GeneratorKind,
        networks.with_net_d: DiscriminatorKind,
        networks.with_n_layers_d: usize,
        networks.with_norm: Norm,
        networks.with_init_type: InitType,
        networks.with_init_gain: f64,
        networks.with_dropout: bool,
        loss.with_gan_mode: GanMode,
        loss.with_lambda_a: f64,
        loss.with_lambda_b: f64,
        loss.with_lambda_identity: f64,
        loss.with_lambda_gan_a: f64,
        loss.with_lambda_gan_b: f64,
        optimizer.with_lr: f64,
        optimizer.with_beta1: f64,
        schedule.with_n_epochs: usize,
        schedule.with_n_epochs_decay: usize,
        schedule.with_lr_policy: LrPolicy,
    );

    /// The cycle and identity weights.
    pub fn cycle_loss(&self) -> CycleLoss {
        self.loss.cycle_loss()
    }

    /// Refuses inconsistent values with a message naming the field.
    pub fn validate(&self) -> Result<(), CycleGanError> {
        self.networks.validate()?;
        self.loss.validate()?;
        self.optimizer.validate()?;
        self.schedule.validate()?;
        let networks = &self.networks;
        if self.loss.lambda_identity > 0.0 && networks.input_nc != networks.output_nc {
            return Err(CycleGanError::config(
                "lambda_identity",
                format!(
                    "the identity loss needs input_nc == output_nc (got {} and {}); set lambda_identity to 0",
                    networks.input_nc, networks.output_nc
                ),
            ));
        }
        Ok(())
    }
}
