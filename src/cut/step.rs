//! [`Cut`]: the training step of the official `CUTModel.optimize_parameters()`, CUT's and
//! FastCUT's.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{CutConfig, CutNets, NceLoss};
use crate::error::CycleGanError;
use crate::import::StateDict;
use crate::import::pytorch::gradients_state_dict;
use crate::loss::GanLoss;
use crate::model::networks::sub_seed;
use crate::train::step::adam_optimizer;
use crate::train::{LossSet, StepLosses};

/// The random choices of one step: FastCUT's flip decision and the patches of the NCE terms.
/// A choice left `None` is drawn from the trainer's seeded generator, in the official order
/// (the flip, then the patches of NCE(G(X), X) layer by layer, then those of the identity
/// term); given ones are used as they are (tests compare with the official code this way).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CutDraws {
    /// Whether the batch is mirrored this step (only with `flip_equivariance`).
    pub flipped: Option<bool>,
    /// The patch positions of NCE(G(X), X), per NCE layer.
    pub patch_ids: Option<Vec<Vec<usize>>>,
    /// The patch positions of the identity term NCE(G(Y), Y), per NCE layer.
    pub idt_patch_ids: Option<Vec<Vec<usize>>>,
}

/// Gradients of one step under the official key names: D's from D's loss (before D's
/// update), G's and netF's from the generator objective (computed with the updated D).
#[derive(Debug, Clone)]
pub struct CutGradients {
    /// d loss_G / d G.
    pub g: StateDict,
    /// d loss_D / d D.
    pub d: StateDict,
    /// d loss_G / d netF.
    pub f: StateDict,
}

/// What [`Cut::train_step_with`] reports: the losses, every random choice as made, and the
/// gradients when asked for.
#[derive(Debug, Clone)]
pub struct CutStep {
    /// The losses.
    pub losses: StepLosses,
    /// The choices the step made (all `Some` that the configuration uses).
    pub draws: CutDraws,
    /// The gradients, when asked for.
    pub gradients: Option<CutGradients>,
}

/// A CUT or FastCUT model in training: G, D and netF on an autodiff device, one Adam each
/// (betas (beta1, 0.999), epsilon 1e-8 as PyTorch's), and the count of steps done: the random
/// choices of step `n` come from a generator seeded by the configuration's seed and `n`, so
/// that a resumed run draws what an uninterrupted one would.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::cut::{Cut, CutConfig, CutMode};
/// use cyclegan_burn::prelude::*;
/// let device = backend::cpu().autodiff();
/// let config = CutConfig::new().with_cut_mode(CutMode::FastCut).with_networks(
///     CutConfig::new().networks.with_ngf(4).with_ndf(4).with_net_g(GeneratorKind::Resnet6Blocks),
/// ).with_netf_nc(16).with_num_patches(16);
/// let mut cut = Cut::new(&config, &device);
/// let losses = cut.train_step(Tensor::zeros([1, 3, 32, 32], &device), Tensor::ones([1, 3, 32, 32], &device));
/// assert!(losses.is_finite() && losses.nce > 0.0);
/// # }
/// ```
pub struct Cut {
    config: CutConfig,
    nets: CutNets,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    optim_f: ModuleOptimizer,
    gan_loss: GanLoss,
    nce_loss: NceLoss,
    steps: u64,
    learning_rate: f64,
    device: Device,
}

impl std::fmt::Debug for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cut")
            .field("config", &self.config)
            .field("learning_rate", &self.learning_rate)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl Cut {
    /// Fresh networks initialised from `config.seed`, on `device` (an autodiff device:
    /// `backend::cpu().autodiff()`).
    ///
    /// # Panics
    ///
    /// If `config` is invalid; [`try_new`](Self::try_new) returns the error instead.
    pub fn new(config: &CutConfig, device: &Device) -> Self {
        Self::try_new(config, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Fresh networks, or the reason `config` is invalid.
    pub fn try_new(config: &CutConfig, device: &Device) -> Result<Self, CycleGanError> {
        let nets = CutNets::new(config, device)?;
        Self::try_from_nets(config, nets, device)
    }

    /// Trains given networks (moved to `device`), or says why `config` is invalid.
    pub fn try_from_nets(
        config: &CutConfig,
        nets: CutNets,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        config.validate()?;
        let adam = || adam_optimizer(config.optimizer.beta1);
        Ok(Self {
            config: config.clone(),
            nets: nets.fork(device).train(),
            optim_g: adam(),
            optim_d: adam(),
            optim_f: adam(),
            gan_loss: GanLoss::new(config.gan_mode),
            nce_loss: config.nce_loss().init(),
            steps: 0,
            learning_rate: config.optimizer.lr,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CutConfig {
        &self.config
    }

    /// The networks.
    pub fn nets(&self) -> &CutNets {
        &self.nets
    }

    /// Takes the networks and the three optimizers (G, D, netF) out.
    pub fn into_parts(self) -> (CutNets, [ModuleOptimizer; 3]) {
        (self.nets, [self.optim_g, self.optim_d, self.optim_f])
    }

    /// The three optimizers (G, D, netF), e.g. to save their state.
    pub fn optimizers(&self) -> [&ModuleOptimizer; 3] {
        [&self.optim_g, &self.optim_d, &self.optim_f]
    }

    /// Replaces the optimizers (G, D, netF), e.g. with states loaded from a checkpoint.
    pub fn set_optimizers(&mut self, [optim_g, optim_d, optim_f]: [ModuleOptimizer; 3]) {
        self.optim_g = optim_g;
        self.optim_d = optim_d;
        self.optim_f = optim_f;
    }

    /// Steps trained so far (they number the random draws of the next step).
    pub fn steps_done(&self) -> u64 {
        self.steps
    }

    /// Sets the steps trained so far (on resume, from the checkpoint).
    pub fn set_steps_done(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// The losses this model reports: CUT's with or without `NCE_Y`.
    pub fn loss_set(&self) -> LossSet {
        if self.config.nce_idt && self.config.lambda_nce > 0.0 {
            LossSet::CutWithIdentity
        } else {
            LossSet::Cut
        }
    }

    /// The device training runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The learning rate of the three optimizers.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Sets the learning rate of the three optimizers (the official `update_learning_rate`).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// Checks that a pair of batches can be trained on: channel counts, sizes the networks
    /// accept, equal batch sizes.
    pub fn check_batch(
        &self,
        shape_a: [usize; 4],
        shape_b: [usize; 4],
    ) -> Result<(), CycleGanError> {
        self.nets.g.check_input(shape_a)?;
        self.nets.d.check_input(shape_b)?;
        // With nce_idt, G translates A and B as one batch: B must have A's shape (then G
        // takes it too).
        let matches = if self.config.nce_idt {
            shape_a == shape_b
        } else {
            shape_a[0] == shape_b[0]
        };
        if !matches {
            return Err(CycleGanError::InvalidInputShape {
                shape: shape_b,
                reason: format!(
                    "the batch of B {shape_b:?} does not match the batch of A {shape_a:?}{}",
                    if self.config.nce_idt {
                        " (nce_idt translates both in one batch)"
                    } else {
                        ""
                    }
                ),
            });
        }
        Ok(())
    }

    /// One official `optimize_parameters()`, with every random choice drawn from the run's
    /// generator.
    ///
    /// # Panics
    ///
    /// Inside Burn if the batches do not fit the networks; programs call
    /// [`check_batch`](Self::check_batch) first.
    pub fn train_step(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        self.train_step_with(real_a, real_b, &CutDraws::default(), false)
            .losses
    }

    /// One official `optimize_parameters()`: G translates the batch (with `nce_idt`, A and B
    /// in one batch; FastCUT mirrors it half the time); D steps on its loss
    /// `0.5 · (GAN(D(G(X)), fake) + GAN(D(Y), real))`; then G and netF step on
    /// `lambda_GAN · GAN(D'(G(X)), real)` with the updated D held constant, plus the NCE term
    /// (CUT: the mean of NCE(G(X), X) and NCE(G(Y), Y)). The choices not in `given` are drawn;
    /// with `keep_gradients` the step also reports the gradients it applied.
    pub fn train_step_with(
        &mut self,
        real_a: Tensor<4>,
        real_b: Tensor<4>,
        given: &CutDraws,
        keep_gradients: bool,
    ) -> CutStep {
        let device = self.device.clone();
        crate::kernels::on_pool_thread(&device, || {
            self.step_here(real_a, real_b, given, keep_gradients)
        })
    }

    fn step_here(
        &mut self,
        real_a: Tensor<4>,
        real_b: Tensor<4>,
        given: &CutDraws,
        keep_gradients: bool,
    ) -> CutStep {
        let config = &self.config;
        let mut rng = StdRng::seed_from_u64(sub_seed(sub_seed(config.seed, 5), self.steps));
        self.steps += 1;
        let real_a = real_a.to_device(&self.device);
        let real_b = real_b.to_device(&self.device);
        let batch = real_a.dims()[0];
        let mut real = if config.nce_idt {
            Tensor::cat(vec![real_a.clone(), real_b.clone()], 0)
        } else {
            real_a.clone()
        };
        let flipped =
            config.flip_equivariance && given.flipped.unwrap_or_else(|| rng.random::<f64>() < 0.5);
        if flipped {
            real = real.flip([3]);
        }
        let fake = self.nets.g.forward(real);
        let fake_b = fake.clone().narrow(0, 0, batch);
        let idt_b = config.nce_idt.then(|| fake.narrow(0, batch, batch));

        // D, on G(X) detached.
        let loss_d_fake = self
            .gan_loss
            .forward(self.nets.d.forward(fake_b.clone().detach()), false);
        let loss_d_real = self
            .gan_loss
            .forward(self.nets.d.forward(real_b.clone()), true);
        let loss_d = (loss_d_fake.clone() + loss_d_real.clone()).mul_scalar(0.5);
        let mut grads = loss_d.backward();
        let grads_d = GradientsParams::from_module(&mut grads, &self.nets.d);
        drop(grads);
        let gradients_d = keep_gradients.then(|| gradients_state_dict(&self.nets.d, &grads_d));
        let lr = self.learning_rate;
        self.nets.d = self.optim_d.step(lr, self.nets.d.clone(), grads_d);

        // G and netF, against the updated D held constant.
        let zero = || Tensor::<1>::zeros([1], &self.device);
        let loss_g_gan = if config.lambda_gan > 0.0 {
            let frozen = self.nets.d.clone().no_grad();
            self.gan_loss
                .forward(frozen.forward(fake_b.clone()), true)
                .mul_scalar(config.lambda_gan)
        } else {
            zero()
        };
        let uses_nce = config.lambda_nce > 0.0;
        // NCE(G(source) = output, source) with the given patches, or patches drawn.
        let nce_loss = &self.nce_loss;
        let nets = &self.nets;
        let mut nce = |source, output, given: &Option<Vec<Vec<usize>>>| {
            let (loss, ids) = nce_loss.forward(
                &nets.g,
                &nets.f,
                source,
                output,
                flipped,
                given.as_deref(),
                &mut rng,
            );
            (loss, Some(ids))
        };
        let (loss_nce, patch_ids) = if uses_nce {
            nce(real_a, fake_b, &given.patch_ids)
        } else {
            (zero(), None)
        };
        let (loss_nce_y, idt_patch_ids) = match idt_b {
            Some(idt_b) if uses_nce => nce(real_b, idt_b, &given.idt_patch_ids),
            _ => (zero(), None),
        };
        let loss_nce_both = if idt_patch_ids.is_some() {
            (loss_nce.clone() + loss_nce_y.clone()).mul_scalar(0.5)
        } else {
            loss_nce.clone()
        };
        let loss_g = loss_g_gan.clone() + loss_nce_both;
        let mut grads = loss_g.backward();
        let grads_g = GradientsParams::from_module(&mut grads, &self.nets.g);
        let grads_f = GradientsParams::from_module(&mut grads, &self.nets.f);
        drop(grads);
        let gradients = gradients_d.map(|d| CutGradients {
            g: gradients_state_dict(&self.nets.g, &grads_g),
            d,
            f: gradients_state_dict(&self.nets.f, &grads_f),
        });
        self.nets.g = self.optim_g.step(lr, self.nets.g.clone(), grads_g);
        if !self.nets.f.mlps.is_empty() {
            self.nets.f = self.optim_f.step(lr, self.nets.f.clone(), grads_f);
        }

        let values: Vec<f32> = Tensor::cat(
            [
                loss_g_gan,
                loss_d_real,
                loss_d_fake,
                loss_g,
                loss_nce,
                loss_nce_y,
            ]
            .map(|t| t.detach())
            .to_vec(),
            0,
        )
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("f32 losses");
        CutStep {
            losses: StepLosses {
                g_gan: values[0],
                d_real: values[1],
                d_fake: values[2],
                g: values[3],
                nce: values[4],
                nce_y: values[5],
                ..StepLosses::default()
            }
            .with_set(self.loss_set()),
            draws: CutDraws {
                flipped: config.flip_equivariance.then_some(flipped),
                patch_ids,
                idt_patch_ids,
            },
            gradients,
        }
    }

    /// The official visuals for a batch, computed without autodiff: real_A, fake_B, real_B,
    /// and idt_B with `nce_idt`.
    pub fn visuals(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> Vec<(&'static str, Tensor<4>)> {
        let g = self.nets.g.valid();
        let device = self.device.clone().without_autodiff();
        let real_a = real_a.detach().without_autodiff().to_device(&device);
        let real_b = real_b.detach().without_autodiff().to_device(&device);
        let mut visuals = vec![
            ("real_A", real_a.clone()),
            ("fake_B", g.forward(real_a)),
            ("real_B", real_b.clone()),
        ];
        if self.config.nce_idt {
            visuals.push(("idt_B", g.forward(real_b)));
        }
        visuals
    }
}
