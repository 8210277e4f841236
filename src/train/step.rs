//! [`CycleGan`]: the training step of the official `CycleGANModel.optimize_parameters()`.

use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::config::CycleGanConfig;
use super::losses::{LossTerm, StepLosses};
use crate::error::CycleGanError;
use crate::import::StateDict;
use crate::import::pytorch::gradients_state_dict;
use crate::kernels::FusedAdam;
use crate::loss::{CycleLoss, GanLoss};
use crate::model::networks::sub_seed;
use crate::model::{CycleGanNets, Discriminator};
use crate::pool::ImagePool;

/// Gradients of one step, with the official key names, before any update: the generators'
/// from the generator loss, the discriminators' from the discriminator loss.
#[derive(Debug, Clone)]
pub struct CycleGanGradients {
    /// d loss_G / d G_A.
    pub g_a: StateDict,
    /// d loss_G / d G_B.
    pub g_b: StateDict,
    /// d (loss_D_A + loss_D_B) / d D_A.
    pub d_a: StateDict,
    /// d (loss_D_A + loss_D_B) / d D_B.
    pub d_b: StateDict,
}

/// The official Adam: betas (beta1, 0.999) and PyTorch's epsilon 1e-8 (Burn's default is
/// 1e-5), no weight decay; one pass per parameter on Flex ([`FusedAdam`]), Burn's `Adam`
/// elsewhere. CycleGAN's and CUT's optimizers all are this.
pub(crate) fn adam_optimizer(beta1: f64) -> ModuleOptimizer {
    FusedAdam::new(beta1 as f32, 0.999, 1e-8).init()
}

/// Images of the forward pass.
struct Forward {
    real_a: Tensor<4>,
    real_b: Tensor<4>,
    fake_b: Tensor<4>,
    rec_a: Tensor<4>,
    fake_a: Tensor<4>,
    rec_b: Tensor<4>,
}

/// Terms of the objective, as tensors, in the order they were computed.
struct Terms(Vec<(LossTerm, Tensor<1>)>);

impl Terms {
    /// The sum of the terms.
    fn total(&self) -> Tensor<1> {
        let mut terms = self.0.iter().map(|(_, value)| value.clone());
        let first = terms.next().expect("at least one term");
        terms.fold(first, |sum, term| sum + term)
    }
}

/// A CycleGAN in training: the four networks on an autodiff device, one Adam optimizer over
/// G_A + G_B and one over D_A + D_B (betas (beta1, 0.999), epsilon 1e-8 as PyTorch), and
/// the two image pools.
///
/// ```
/// # #[cfg(feature = "flex")] {
/// use cyclegan_burn::prelude::*;
/// use cyclegan_burn::model::GeneratorKind;
/// let device = backend::cpu().autodiff();
/// let config = CycleGanConfig::new()
///     .with_net_g(GeneratorKind::Resnet6Blocks).with_ngf(4).with_ndf(4).with_pool_size(0);
/// let mut gan = CycleGan::new(&config, &device);
/// let real_a = Tensor::<4>::zeros([1, 3, 32, 32], &device);
/// let real_b = Tensor::<4>::ones([1, 3, 32, 32], &device);
/// let losses = gan.train_step(real_a, real_b);
/// assert!(losses.is_finite());
/// # }
/// ```
pub struct CycleGan {
    config: CycleGanConfig,
    nets: CycleGanNets,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    /// The devices that train, each with its image pools; the first is `device`, where the
    /// networks and optimizers live.
    replicas: Vec<Replica>,
    gan_loss: GanLoss,
    cycle_loss: CycleLoss,
    learning_rate: f64,
    device: Device,
}

impl std::fmt::Debug for CycleGan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CycleGan")
            .field("config", &self.config)
            .field("learning_rate", &self.learning_rate)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl CycleGan {
    /// Fresh networks initialised from `config.seed`, on `device` (which should be an
    /// autodiff device: `backend::cpu().autodiff()`).
    ///
    /// # Panics
    ///
    /// If `config` is invalid; [`try_new`](Self::try_new) returns the error instead.
    pub fn new(config: &CycleGanConfig, device: &Device) -> Self {
        Self::try_new(config, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Fresh networks, or the reason `config` is invalid.
    pub fn try_new(config: &CycleGanConfig, device: &Device) -> Result<Self, CycleGanError> {
        let nets = CycleGanNets::new(&config.networks, config.seed, device)?;
        Self::try_from_nets(config, nets, device)
    }

    /// Trains given networks (moved to `device`).
    ///
    /// # Panics
    ///
    /// If `config` is invalid; [`try_from_nets`](Self::try_from_nets) returns the error.
    pub fn from_nets(config: &CycleGanConfig, nets: CycleGanNets, device: &Device) -> Self {
        Self::try_from_nets(config, nets, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Trains given networks, or says why `config` is invalid.
    pub fn try_from_nets(
        config: &CycleGanConfig,
        nets: CycleGanNets,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            nets: nets.fork(device).train(),
            optim_g: adam_optimizer(config.optimizer.beta1),
            optim_d: adam_optimizer(config.optimizer.beta1),
            replicas: vec![Replica::new(config, device, 0)],
            gan_loss: config.loss.gan_loss(),
            cycle_loss: config.loss.cycle_loss(),
            learning_rate: config.optimizer.lr,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CycleGanConfig {
        &self.config
    }

    /// The networks.
    pub fn nets(&self) -> &CycleGanNets {
        &self.nets
    }

    /// Takes the networks out.
    pub fn into_nets(self) -> CycleGanNets {
        self.nets
    }

    /// Takes the networks and the two optimizers (generators, discriminators) out.
    pub fn into_parts(self) -> (CycleGanNets, ModuleOptimizer, ModuleOptimizer) {
        (self.nets, self.optim_g, self.optim_d)
    }

    /// The device training runs on (the main device, with several replicas).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Trains on `devices` besides the main device, data parallel: each of the
    /// `1 + devices.len()` replicas takes an equal share of every batch, and their gradients
    /// are averaged on the main device before each optimizer step (Burn's main-device strategy: `GradientsParams::
    /// to_device` and `GradientsAccumulator`). Every replica has its own image pools, seeded
    /// from the configuration's seed and the replica's index. A batch that cannot be shared
    /// equally (the last of an epoch) trains on the main device alone, which computes the
    /// same mean over its images. With pool size 0, two replicas
    /// with batch 1 each compute what one device computes with batch 2 (`tests/parallel.rs`).
    ///
    /// The devices must be autodiff devices of compiled-in backends; a device may appear
    /// more than once (replicas that share it).
    ///
    /// ```
    /// # #[cfg(feature = "flex")] {
    /// use cyclegan_burn::prelude::*;
    /// let device = backend::cpu().autodiff();
    /// let config = CycleGanConfig::new()
    ///     .with_net_g(GeneratorKind::Resnet6Blocks).with_ngf(4).with_ndf(4).with_pool_size(0);
    /// let mut gan = CycleGan::try_new(&config, &device).unwrap().with_replicas(&[device.clone()]);
    /// assert_eq!(gan.replica_count(), 2);
    /// let losses = gan.train_step(Tensor::zeros([2, 3, 32, 32], &device), Tensor::ones([2, 3, 32, 32], &device));
    /// assert!(losses.is_finite());
    /// # }
    /// ```
    pub fn with_replicas(mut self, devices: &[Device]) -> Self {
        self.replicas.truncate(1);
        for (index, device) in devices.iter().enumerate() {
            self.replicas
                .push(Replica::new(&self.config, device, index as u64 + 1));
        }
        self
    }

    /// How many replicas train (1 on a single device).
    pub fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// The networks as replica `index` runs them in the next step: the main device's,
    /// moved to that replica's device.
    ///
    /// # Panics
    ///
    /// If there is no such replica.
    pub fn replica_nets(&self, index: usize) -> CycleGanNets {
        self.nets.clone().fork(&self.replicas[index].device)
    }

    /// The learning rate of both optimizers.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// Sets the learning rate of both optimizers (the official `update_learning_rate`).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// The two optimizers (generators, discriminators), e.g. to save their state.
    pub fn optimizers(&self) -> (&ModuleOptimizer, &ModuleOptimizer) {
        (&self.optim_g, &self.optim_d)
    }

    /// Replaces the optimizers (e.g. with states loaded from a checkpoint).
    pub fn set_optimizers(&mut self, optim_g: ModuleOptimizer, optim_d: ModuleOptimizer) {
        self.optim_g = optim_g;
        self.optim_d = optim_d;
    }

    /// Checks that a pair of batches can be trained on: channel counts, sizes the networks
    /// accept, equal batch sizes.
    pub fn check_batch(
        &self,
        shape_a: [usize; 4],
        shape_b: [usize; 4],
    ) -> Result<(), CycleGanError> {
        self.nets.g_a.check_input(shape_a)?;
        self.nets.g_b.check_input(shape_b)?;
        self.nets.d_b.check_input(shape_a)?;
        self.nets.d_a.check_input(shape_b)?;
        if shape_a[0] != shape_b[0] {
            return Err(CycleGanError::InvalidInputShape {
                shape: shape_b,
                reason: format!(
                    "batch of B has {} images, batch of A {}",
                    shape_b[0], shape_a[0]
                ),
            });
        }
        Ok(())
    }

    fn forward(
        nets: &CycleGanNets,
        device: &Device,
        real_a: Tensor<4>,
        real_b: Tensor<4>,
    ) -> Forward {
        let real_a = real_a.to_device(device);
        let real_b = real_b.to_device(device);
        let fake_b = nets.g_a.forward(real_a.clone());
        let rec_a = nets.g_b.forward(fake_b.clone());
        let fake_a = nets.g_b.forward(real_b.clone());
        let rec_b = nets.g_a.forward(fake_a.clone());
        Forward {
            real_a,
            real_b,
            fake_b,
            rec_a,
            fake_a,
            rec_b,
        }
    }

    fn zero(device: &Device) -> Tensor<1> {
        Tensor::zeros([1], device)
    }

    /// The generator objective's terms ([`LossTerm::GENERATOR`], in that order), with the
    /// discriminators' parameters held constant (the official
    /// `set_requires_grad([D_A, D_B], False)`): they receive no gradient from it.
    fn generator_terms(&self, nets: &CycleGanNets, f: &Forward) -> Terms {
        let device = f.real_a.device();
        let cycle = &self.cycle_loss;
        let weights = &self.config.loss;
        let (idt_a, idt_b) = if cycle.uses_identity() {
            let idt_a = nets.g_a.forward(f.real_b.clone());
            let idt_b = nets.g_b.forward(f.real_a.clone());
            (
                cycle.identity_a(idt_a, f.real_b.clone()),
                cycle.identity_b(idt_b, f.real_a.clone()),
            )
        } else {
            (Self::zero(&device), Self::zero(&device))
        };
        let adversarial = |weight: f64, d: &Discriminator, fake: &Tensor<4>| {
            if weight == 0.0 {
                Self::zero(&device)
            } else {
                let frozen = d.clone().no_grad();
                self.gan_loss
                    .forward(frozen.forward(fake.clone()), true)
                    .mul_scalar(weight)
            }
        };
        let cycle_a = if cycle.lambda_a == 0.0 {
            Self::zero(&device)
        } else {
            cycle.cycle_a(f.rec_a.clone(), f.real_a.clone())
        };
        let cycle_b = if cycle.lambda_b == 0.0 {
            Self::zero(&device)
        } else {
            cycle.cycle_b(f.rec_b.clone(), f.real_b.clone())
        };
        Terms(vec![
            (
                LossTerm::GA,
                adversarial(weights.lambda_gan_a, &nets.d_a, &f.fake_b),
            ),
            (
                LossTerm::GB,
                adversarial(weights.lambda_gan_b, &nets.d_b, &f.fake_a),
            ),
            (LossTerm::CycleA, cycle_a),
            (LossTerm::CycleB, cycle_b),
            (LossTerm::IdtA, idt_a),
            (LossTerm::IdtB, idt_b),
        ])
    }

    /// `0.5 · (GAN(D(real), real) + GAN(D(fake), fake))` with `fake` detached.
    fn discriminator_loss(&self, d: &Discriminator, real: Tensor<4>, fake: Tensor<4>) -> Tensor<1> {
        discriminator_loss(&self.gan_loss, d, real, fake)
    }

    /// One official `optimize_parameters()`: forward; generator update with the
    /// discriminators held constant; discriminator update on pooled, detached fakes made
    /// before the generator update. Works for any batch size ≥ 1 (A and B batches of equal
    /// size).
    ///
    /// # Panics
    ///
    /// Inside Burn if the batches do not fit the networks; programs call
    /// [`check_batch`](Self::check_batch) first.
    pub fn train_step(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        let device = self.device.clone();
        crate::kernels::on_pool_thread(&device, || self.train_step_here(real_a, real_b))
    }

    /// [`train_step`](Self::train_step) on the calling thread.
    fn train_step_here(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        let replicas = self.replicas.len();
        if replicas > 1 && real_a.dims()[0].is_multiple_of(replicas) {
            return self.train_step_replicated(real_a, real_b);
        }
        let f = Self::forward(&self.nets, &self.device, real_a, real_b);

        // Generators.
        let generator_terms = self.generator_terms(&self.nets, &f);
        let loss_g = generator_terms.total();
        let mut grads = loss_g.backward();
        let grads_g_a = GradientsParams::from_module(&mut grads, &self.nets.g_a);
        let grads_g_b = GradientsParams::from_module(&mut grads, &self.nets.g_b);
        drop(grads);
        let lr = self.learning_rate;
        self.nets.g_a = self.optim_g.step(lr, self.nets.g_a.clone(), grads_g_a);
        self.nets.g_b = self.optim_g.step(lr, self.nets.g_b.clone(), grads_g_b);

        // Discriminators, on fakes from before the generator update.
        let replica = &mut self.replicas[0];
        let fake_b = replica.pool_b.query(f.fake_b.clone().detach());
        let fake_a = replica.pool_a.query(f.fake_a.clone().detach());
        let discriminator_terms =
            discriminator_terms(&self.gan_loss, &self.nets, &f, fake_a, fake_b);
        let mut grads = discriminator_terms.total().backward();
        let grads_d_a = GradientsParams::from_module(&mut grads, &self.nets.d_a);
        let grads_d_b = GradientsParams::from_module(&mut grads, &self.nets.d_b);
        drop(grads);
        self.nets.d_a = self.optim_d.step(lr, self.nets.d_a.clone(), grads_d_a);
        self.nets.d_b = self.optim_d.step(lr, self.nets.d_b.clone(), grads_d_b);

        read_losses(generator_terms, loss_g, discriminator_terms)
    }

    /// [`train_step`](Self::train_step) over several replicas (data parallel, Burn's
    /// main-device strategy): every replica takes its equal share of the batch on its
    /// device, with the networks as they are on the main device; each replica's objective,
    /// scaled by `1 / replicas`, gives gradients that are moved to the main device and summed
    /// there (their mean), and the main device's optimizer steps once with them, first for
    /// the generators (the discriminators held constant on every replica), then for the
    /// discriminators (each replica's fakes from before the generator update, through its
    /// own pools). The losses are the replicas' means.
    fn train_step_replicated(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        let count = self.replicas.len();
        let scale = 1.0 / count as f64;
        let share = real_a.dims()[0] / count;
        let shares = |batch: Tensor<4>| batch.split(share, 0);
        let shares = shares(real_a).into_iter().zip(shares(real_b));
        let replica_nets: Vec<CycleGanNets> = self
            .replicas
            .iter()
            .map(|replica| self.nets.clone().fork(&replica.device))
            .collect();

        // Generators.
        let (mut sum_g_a, mut sum_g_b) = (GradientsAccumulator::new(), GradientsAccumulator::new());
        let mut passes = Vec::with_capacity(count);
        for ((replica, nets), (real_a, real_b)) in
            self.replicas.iter().zip(&replica_nets).zip(shares)
        {
            let f = Self::forward(nets, &replica.device, real_a, real_b);
            let generator_terms = self.generator_terms(nets, &f);
            let loss_g = generator_terms.total();
            let mut grads = loss_g.clone().mul_scalar(scale).backward();
            let grads_g_a = GradientsParams::from_module(&mut grads, &nets.g_a);
            let grads_g_b = GradientsParams::from_module(&mut grads, &nets.g_b);
            drop(grads);
            sum_g_a.accumulate(&self.nets.g_a, grads_g_a.to_device(&self.device, &nets.g_a));
            sum_g_b.accumulate(&self.nets.g_b, grads_g_b.to_device(&self.device, &nets.g_b));
            // What the discriminator pass needs, without the generator's graph.
            let f = Forward {
                real_a: f.real_a,
                real_b: f.real_b,
                fake_b: f.fake_b.detach(),
                rec_a: f.rec_a.detach(),
                fake_a: f.fake_a.detach(),
                rec_b: f.rec_b.detach(),
            };
            passes.push((f, generator_terms, loss_g));
        }
        let lr = self.learning_rate;
        self.nets.g_a = self
            .optim_g
            .step(lr, self.nets.g_a.clone(), sum_g_a.grads());
        self.nets.g_b = self
            .optim_g
            .step(lr, self.nets.g_b.clone(), sum_g_b.grads());

        // Discriminators, on each replica's fakes from before the generator update (the
        // replicas' discriminators are the main device's: the generator step left them).
        let (mut sum_d_a, mut sum_d_b) = (GradientsAccumulator::new(), GradientsAccumulator::new());
        let mut replica_losses = Vec::with_capacity(count);
        for ((replica, nets), (f, generator_terms, loss_g)) in
            self.replicas.iter_mut().zip(&replica_nets).zip(passes)
        {
            let fake_b = replica.pool_b.query(f.fake_b.clone());
            let fake_a = replica.pool_a.query(f.fake_a.clone());
            let discriminator_terms = discriminator_terms(&self.gan_loss, nets, &f, fake_a, fake_b);
            let mut grads = discriminator_terms.total().mul_scalar(scale).backward();
            let grads_d_a = GradientsParams::from_module(&mut grads, &nets.d_a);
            let grads_d_b = GradientsParams::from_module(&mut grads, &nets.d_b);
            drop(grads);
            sum_d_a.accumulate(&self.nets.d_a, grads_d_a.to_device(&self.device, &nets.d_a));
            sum_d_b.accumulate(&self.nets.d_b, grads_d_b.to_device(&self.device, &nets.d_b));
            replica_losses.push(read_losses(generator_terms, loss_g, discriminator_terms));
        }
        self.nets.d_a = self
            .optim_d
            .step(lr, self.nets.d_a.clone(), sum_d_a.grads());
        self.nets.d_b = self
            .optim_d
            .step(lr, self.nets.d_b.clone(), sum_d_b.grads());
        StepLosses::mean(&replica_losses)
    }

    /// The gradients the next [`train_step`](Self::train_step) would apply, without
    /// changing anything (the image pools are bypassed: the discriminators see this step's
    /// fakes). Useful to compare with another implementation.
    pub fn gradients(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> CycleGanGradients {
        let f = Self::forward(&self.nets, &self.device, real_a, real_b);
        let mut grads = self.generator_terms(&self.nets, &f).total().backward();
        let grads_g_a = GradientsParams::from_module(&mut grads, &self.nets.g_a);
        let grads_g_b = GradientsParams::from_module(&mut grads, &self.nets.g_b);
        let loss_d = self.discriminator_loss(&self.nets.d_a, f.real_b.clone(), f.fake_b.clone())
            + self.discriminator_loss(&self.nets.d_b, f.real_a.clone(), f.fake_a.clone());
        let mut grads = loss_d.backward();
        let grads_d_a = GradientsParams::from_module(&mut grads, &self.nets.d_a);
        let grads_d_b = GradientsParams::from_module(&mut grads, &self.nets.d_b);
        CycleGanGradients {
            g_a: gradients_state_dict(&self.nets.g_a, &grads_g_a),
            g_b: gradients_state_dict(&self.nets.g_b, &grads_g_b),
            d_a: gradients_state_dict(&self.nets.d_a, &grads_d_a),
            d_b: gradients_state_dict(&self.nets.d_b, &grads_d_b),
        }
    }
}

impl CycleGan {
    /// The official visuals for a batch, computed without autodiff: real_A, fake_B, rec_A,
    /// idt_B, real_B, fake_A, rec_B, idt_A (identity images only when input and output
    /// channels agree).
    pub fn visuals(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> Vec<(&'static str, Tensor<4>)> {
        let nets = self.nets.valid();
        let device = self.device.clone().without_autodiff();
        let real_a = real_a.detach().without_autodiff().to_device(&device);
        let real_b = real_b.detach().without_autodiff().to_device(&device);
        let fake_b = nets.g_a.forward(real_a.clone());
        let rec_a = nets.g_b.forward(fake_b.clone());
        let fake_a = nets.g_b.forward(real_b.clone());
        let rec_b = nets.g_a.forward(fake_a.clone());
        let mut visuals = vec![
            ("real_A", real_a.clone()),
            ("fake_B", fake_b),
            ("rec_A", rec_a),
        ];
        let same_channels = self.config.networks.input_nc == self.config.networks.output_nc;
        if same_channels {
            visuals.push(("idt_B", nets.g_b.forward(real_a)));
        }
        visuals.extend([
            ("real_B", real_b.clone()),
            ("fake_A", fake_a),
            ("rec_B", rec_b),
        ]);
        if same_channels {
            visuals.push(("idt_A", nets.g_a.forward(real_b)));
        }
        visuals
    }
}

/// The discriminator objective's terms ([`LossTerm::DISCRIMINATOR`]) on the real images of
/// `f` and the (pooled) fakes.
fn discriminator_terms(
    gan_loss: &GanLoss,
    nets: &CycleGanNets,
    f: &Forward,
    fake_a: Tensor<4>,
    fake_b: Tensor<4>,
) -> Terms {
    Terms(vec![
        (
            LossTerm::DA,
            discriminator_loss(gan_loss, &nets.d_a, f.real_b.clone(), fake_b),
        ),
        (
            LossTerm::DB,
            discriminator_loss(gan_loss, &nets.d_b, f.real_a.clone(), fake_a),
        ),
    ])
}

/// `0.5 · (GAN(D(real), real) + GAN(D(fake), fake))` with `fake` detached.
fn discriminator_loss(
    gan_loss: &GanLoss,
    d: &Discriminator,
    real: Tensor<4>,
    fake: Tensor<4>,
) -> Tensor<1> {
    let loss_real = gan_loss.forward(d.forward(real), true);
    let loss_fake = gan_loss.forward(d.forward(fake.detach()), false);
    (loss_real + loss_fake).mul_scalar(0.5)
}

/// Every term's value, in one read from the device.
fn read_losses(
    generator_terms: Terms,
    loss_g: Tensor<1>,
    discriminator_terms: Terms,
) -> StepLosses {
    let terms: Vec<(LossTerm, Tensor<1>)> = generator_terms
        .0
        .into_iter()
        .chain([(LossTerm::G, loss_g)])
        .chain(discriminator_terms.0)
        .collect();
    let values: Vec<f32> = Tensor::cat(terms.iter().map(|(_, t)| t.clone().detach()).collect(), 0)
        .into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("f32 losses");
    StepLosses::from_terms(terms.iter().map(|(term, _)| *term).zip(values))
}

/// One device that trains: its image pools (each replica keeps its own, as each official
/// DDP rank does).
struct Replica {
    device: Device,
    pool_a: ImagePool,
    pool_b: ImagePool,
}

impl Replica {
    /// Replica `index` on `device`, its pools seeded from the run seed and the index
    /// (replica 0's seeds are those of a single-device run).
    fn new(config: &CycleGanConfig, device: &Device, index: u64) -> Self {
        Self {
            device: device.clone(),
            pool_a: ImagePool::new(config.pool_size, sub_seed(config.seed, 10 + 2 * index)),
            pool_b: ImagePool::new(config.pool_size, sub_seed(config.seed, 11 + 2 * index)),
        }
    }
}
