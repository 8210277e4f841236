//! A whole training run, as the official `train.py`: epochs over a data loader, the
//! learning-rate schedule, checkpoints with exact resume, and events for the loss log, the
//! HTML report and whatever else observes the run ([`events`](super::events)). The programs
//! parse options into a [`CycleGanConfig`] (or a [`CutConfig`]) and [`RunOptions`] and call
//! [`train`] or [`train_observed`] ([`train_cut`], [`train_cut_observed`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::data::dataset::Dataset;
use burn::prelude::*;

use super::checkpoint::{Checkpointer, TrainerState};
use super::config::CycleGanConfig;
use super::events::{LossesEvent, StepEvent, TrainEvent, TrainObserver, TrainWarning};
use super::loss_log::LossLog;
use super::losses::StepLosses;
use super::model::TrainModel;
use super::report::Report;
use super::schedule::ScheduleConfig;
use super::step::CycleGan;
use crate::cut::{Cut, CutConfig};
use crate::data::{DataLoader, UnalignedDataset};
use crate::error::CycleGanError;

/// What a run does besides the training step (the official `train.py` options); the
/// number of epochs is the configuration's [`schedule`](CycleGanConfig::schedule).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Experiment name (`--name`): files go to `<checkpoints_dir>/<name>`.
    pub name: String,
    /// Where runs are kept (`--checkpoints_dir`).
    pub checkpoints_dir: PathBuf,
    /// First epoch number (`--epoch_count`); a resumed run starts after its checkpoint.
    pub epoch_count: usize,
    /// Images per batch and device (`--batch_size`, per GPU as in the official DDP): a step
    /// takes `batch_size × (1 + replica_devices.len())` images.
    pub batch_size: usize,
    /// Devices that train replicas beside the `device` given to [`train`] (data parallel,
    /// [`CycleGan::with_replicas`]); empty for one device. The main device keeps the
    /// networks, the optimizers and what is saved.
    pub replica_devices: Vec<Device>,
    /// Loader threads (`--num_threads`).
    pub num_threads: usize,
    /// Log losses every this many images (`--print_freq`).
    pub print_freq: usize,
    /// Save sample images every this many images (`--display_freq`).
    pub display_freq: usize,
    /// Save the `latest` checkpoint (the four nets and the resume state) every this many
    /// images (`--save_latest_freq`), besides the one at every epoch's end.
    pub save_latest_freq: usize,
    /// Keep `<epoch>_net_*` every this many epochs (`--save_epoch_freq`).
    pub save_epoch_freq: usize,
    /// Resume from the checkpoint labelled [`epoch`](Self::epoch) (`--continue_train`).
    pub continue_train: bool,
    /// Which checkpoint to resume (`--epoch`, default `latest`).
    pub epoch: String,
    /// Stop after this epoch even if the schedule goes on (for tests and time budgets).
    pub stop_after_epoch: Option<usize>,
    /// Stop once this many images have been trained on in total, even inside an epoch (a
    /// step budget). The run then ends with a `latest` checkpoint that records how far into
    /// the epoch it got, and a resume ([`continue_train`](Self::continue_train)) carries on
    /// with the rest of that epoch's data order.
    pub max_iters: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            name: "experiment_name".into(),
            checkpoints_dir: PathBuf::from("checkpoints"),
            epoch_count: 1,
            batch_size: 1,
            replica_devices: Vec::new(),
            num_threads: 4,
            print_freq: 100,
            display_freq: 400,
            save_latest_freq: 5000,
            save_epoch_freq: 5,
            continue_train: false,
            epoch: "latest".into(),
            stop_after_epoch: None,
            max_iters: None,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The run folder.
    pub run_dir: PathBuf,
    /// The HTML report.
    pub report: PathBuf,
    /// The last epoch trained in (completed, unless [`RunOptions::max_iters`] stopped the
    /// run inside it).
    pub last_epoch: usize,
    /// Images trained on in total.
    pub total_iters: usize,
    /// Mean losses of the last epoch.
    pub last_epoch_losses: StepLosses,
    /// The learning rate of the last epoch.
    pub learning_rate: f64,
    /// Wall-clock seconds spent training, over all resumes of the run, up to its last
    /// checkpoint: the figure that checkpoint records, so that a resume adds to it.
    pub train_seconds: f64,
}

/// How far a run has got, at a checkpoint.
struct Progress {
    /// The last completed epoch.
    epoch: usize,
    /// Images trained on in total.
    total_iters: usize,
    /// Images of the next epoch already trained.
    epoch_progress: usize,
}

impl Progress {
    /// The state to save now: the training time is added up to this checkpoint (`clock`
    /// restarts), so that a run reports what its last checkpoint records.
    fn state(
        self,
        model: &dyn TrainModel,
        config: RunConfig<'_>,
        train_seconds: &mut f64,
        clock: &mut Instant,
    ) -> TrainerState {
        *train_seconds += clock.elapsed().as_secs_f64();
        *clock = Instant::now();
        let (config, cut) = match config {
            RunConfig::CycleGan(config) => (config.clone(), None),
            RunConfig::Cut(config) => (CycleGanConfig::new(), Some(config.clone())),
        };
        TrainerState {
            epoch: self.epoch,
            total_iters: self.total_iters,
            epoch_progress: self.epoch_progress,
            train_seconds: *train_seconds,
            learning_rate: model.learning_rate(),
            config,
            cut,
        }
    }
}

/// The configuration of the model a run trains.
#[derive(Debug, Clone, Copy)]
enum RunConfig<'a> {
    CycleGan(&'a CycleGanConfig),
    Cut(&'a CutConfig),
}

impl RunConfig<'_> {
    fn schedule(&self) -> &ScheduleConfig {
        match self {
            RunConfig::CycleGan(config) => &config.schedule,
            RunConfig::Cut(config) => &config.schedule,
        }
    }

    fn lr(&self) -> f64 {
        match self {
            RunConfig::CycleGan(config) => config.optimizer.lr,
            RunConfig::Cut(config) => config.optimizer.lr,
        }
    }
}

/// Where a resumed run starts (all zero for a fresh one, but the first epoch).
struct Start {
    first_epoch: usize,
    total_iters: usize,
    epoch_progress: usize,
    train_seconds: f64,
}

impl Start {
    fn fresh(options: &RunOptions) -> Self {
        Self {
            first_epoch: options.epoch_count.max(1),
            total_iters: 0,
            epoch_progress: 0,
            train_seconds: 0.0,
        }
    }

    fn resumed(state: &TrainerState) -> Self {
        Self {
            first_epoch: state.epoch + 1,
            total_iters: state.total_iters,
            epoch_progress: state.epoch_progress,
            train_seconds: state.train_seconds,
        }
    }
}

/// Refuses a batch size of 0; opens the run folder.
fn open_run(options: &RunOptions) -> Result<(PathBuf, Checkpointer), CycleGanError> {
    if options.batch_size == 0 {
        return Err(CycleGanError::config("batch_size", "must be at least 1"));
    }
    let run_dir = options.checkpoints_dir.join(&options.name);
    let checkpointer = Checkpointer::new(&run_dir)?;
    Ok((run_dir, checkpointer))
}

/// Trains `config` on `dataset` on `device` (an autodiff device) as `options` say, writing
/// the run folder (checkpoints, `loss_log.txt`, the HTML report) and printing nothing;
/// [`train_observed`] adds observers, such as a [`Console`](super::Console).
///
/// Every epoch ends with a `latest` checkpoint (weights under the official names plus an
/// exact-resume bundle); every `save_epoch_freq` epochs one labelled with the epoch is kept,
/// and every `save_latest_freq` images a `latest` one inside the epoch.
/// A step budget ([`RunOptions::max_iters`]) ends the run with a `latest` checkpoint too,
/// possibly inside an epoch. As in the official code, the image pools are not saved: a resumed
/// run starts with empty pools (with `pool_size` 0 a resume is bit-exact).
/// A non-finite loss stops the run with [`CycleGanError::Diverged`], leaving the last good
/// checkpoint as it was.
pub fn train(
    config: &CycleGanConfig,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
) -> Result<RunSummary, CycleGanError> {
    train_observed(config, dataset, options, device, &mut [])
}

/// [`train`], with `observers` receiving every [event](super::events) after the run's own
/// (the checkpointer, the loss log and the report), in the order given.
pub fn train_observed(
    config: &CycleGanConfig,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
    observers: &mut [&mut dyn TrainObserver],
) -> Result<RunSummary, CycleGanError> {
    config.validate()?;
    let (run_dir, checkpointer) = open_run(options)?;
    let (mut gan, start) = if options.continue_train {
        let (gan, state) = checkpointer.load(&options.epoch, device)?;
        if state.config.networks != config.networks {
            return Err(CycleGanError::checkpoint(
                checkpointer.dir(),
                format!(
                    "the checkpoint `{}` holds other networks ({:?}) than the configuration asks for ({:?}); resume with the same networks",
                    options.epoch, state.config.networks, config.networks
                ),
            ));
        }
        // Loss, optimizer and schedule options may change on resume, as in the official
        // code.
        let (nets, optim_g, optim_d) = gan.into_parts();
        let mut gan =
            CycleGan::try_from_nets(config, nets, device)?.with_replicas(&options.replica_devices);
        gan.set_optimizers(optim_g, optim_d);
        (gan, Start::resumed(&state))
    } else {
        (
            CycleGan::try_new(config, device)?.with_replicas(&options.replica_devices),
            Start::fresh(options),
        )
    };
    run_loop(
        &mut gan,
        RunConfig::CycleGan(config),
        dataset,
        options,
        device,
        (run_dir, checkpointer, start),
        observers,
    )
}

/// Trains a CUT or FastCUT model as [`train`] trains a CycleGAN: the same loop, schedule,
/// checkpoints (`<label>_net_{G,D,F}.safetensors` and the resume bundle), loss log and report.
/// A resume continues the draws (flips, patches) where the run stopped. Data-parallel
/// replicas are CycleGAN's only: [`RunOptions::replica_devices`] must be empty.
pub fn train_cut(
    config: &CutConfig,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
) -> Result<RunSummary, CycleGanError> {
    train_cut_observed(config, dataset, options, device, &mut [])
}

/// [`train_cut`], with `observers` receiving every [event](super::events) after the run's
/// own.
pub fn train_cut_observed(
    config: &CutConfig,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
    observers: &mut [&mut dyn TrainObserver],
) -> Result<RunSummary, CycleGanError> {
    config.validate()?;
    if !options.replica_devices.is_empty() {
        return Err(CycleGanError::config(
            "devices",
            "CUT trains on one device (data-parallel replicas are CycleGAN's only)",
        ));
    }
    let (run_dir, checkpointer) = open_run(options)?;
    let (mut cut, start) = if options.continue_train {
        let (cut, state) = checkpointer.load_cut(&options.epoch, device)?;
        let saved = state.cut.as_ref().expect("a CUT checkpoint");
        let networks = |c: &CutConfig| {
            (
                c.networks.clone(),
                c.no_antialias,
                c.no_antialias_up,
                c.net_f,
                c.netf_nc,
                c.nce_layers.clone(),
            )
        };
        if networks(saved) != networks(config) {
            return Err(CycleGanError::checkpoint(
                checkpointer.dir(),
                format!(
                    "the checkpoint `{}` holds other networks than the configuration asks for (G, D and netF options differ); resume with the same networks",
                    options.epoch
                ),
            ));
        }
        // Loss, optimizer and schedule options may change on resume, as in the official
        // code.
        let steps = cut.steps_done();
        let (nets, optimizers) = cut.into_parts();
        let mut cut = Cut::try_from_nets(config, nets, device)?;
        cut.set_optimizers(optimizers);
        cut.set_steps_done(steps);
        (cut, Start::resumed(&state))
    } else {
        (Cut::try_new(config, device)?, Start::fresh(options))
    };
    run_loop(
        &mut cut,
        RunConfig::Cut(config),
        dataset,
        options,
        device,
        (run_dir, checkpointer, start),
        observers,
    )
}

/// The epochs of a run: one loop for every model.
fn run_loop(
    model: &mut dyn TrainModel,
    config: RunConfig<'_>,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
    (run_dir, mut checkpointer, start): (PathBuf, Checkpointer, Start),
    observers: &mut [&mut dyn TrainObserver],
) -> Result<RunSummary, CycleGanError> {
    let Start {
        first_epoch,
        mut total_iters,
        mut epoch_progress,
        train_seconds: previous_seconds,
    } = start;
    let mut loss_log = LossLog::new(&run_dir);
    let mut report = Report::open(&run_dir, &options.name)?.with_display_freq(options.display_freq);
    let mut run = Run {
        observers: Vec::new(),
    };
    run.observers.push(&mut checkpointer);
    run.observers.push(&mut loss_log);
    run.observers.push(&mut report);
    run.observers
        .extend(observers.iter_mut().map(|observer| &mut **observer));

    // Training time is added up to each checkpoint, so that a run reports what its last
    // checkpoint records and a resume continues from exactly that figure (time after the
    // last checkpoint, such as writing it, belongs to no checkpoint and is not counted).
    let mut train_seconds = previous_seconds;
    let mut clock = Instant::now();
    let max_iters = options.max_iters.unwrap_or(usize::MAX);
    let total_epochs = config.schedule().total_epochs();
    let last_epoch = options
        .stop_after_epoch
        .map_or(total_epochs, |stop| stop.min(total_epochs));
    // Each replica takes `batch_size` images of every step's batch.
    let step_batch = options.batch_size * model.replica_count();
    let loader = DataLoader::new(dataset.clone(), step_batch, options.num_threads, device);
    let mut last_epoch_losses = StepLosses::default();
    let mut warned_resize = false;
    let mut trained_in = if epoch_progress > 0 {
        first_epoch
    } else {
        first_epoch - 1
    }
    .min(last_epoch);
    let first_epoch = if first_epoch > last_epoch || total_iters >= max_iters {
        last_epoch + 1
    } else {
        first_epoch
    };
    run.emit(TrainEvent::Started {
        run_dir: &run_dir,
        first_epoch,
        last_epoch,
        total_iters,
    })?;
    for epoch in first_epoch..=last_epoch {
        // Images of this epoch trained before a resume (only the first epoch of a resume).
        let skipped = std::mem::take(&mut epoch_progress);
        if !skipped.is_multiple_of(step_batch) {
            return Err(CycleGanError::checkpoint(
                &run_dir,
                format!(
                    "the run stopped {skipped} images into epoch {epoch}, which batches of {step_batch} images do not divide: resume with the batch size and replica count it had"
                ),
            ));
        }
        trained_in = epoch;
        dataset.set_epoch(epoch as u64);
        model.set_learning_rate(config.schedule().lr_at(config.lr(), epoch));
        let epoch_start = Instant::now();
        let epoch_size = dataset.len();
        // The images an epoch trains on: all, or (drop_last) whole batches only.
        let epoch_images = if model.drops_last_batch() {
            epoch_size - epoch_size % step_batch
        } else {
            epoch_size
        };
        if epoch_images == 0 {
            return Err(CycleGanError::config(
                "batch_size",
                format!(
                    "batches of {step_batch} images leave none of the {epoch_size} images of an epoch (this model drops a short last batch)"
                ),
            ));
        }
        let steps = epoch_images.div_ceil(step_batch);
        run.emit(TrainEvent::EpochStarted {
            epoch,
            last_epoch,
            steps,
            first_step: skipped / step_batch,
            learning_rate: model.learning_rate(),
        })?;
        let mut epoch_losses = Vec::with_capacity(steps);
        let mut since_print = Vec::new();
        let mut epoch_iter = skipped;
        let mut data_seconds = 0.0;
        let mut data_start = Instant::now();
        for batch in loader.iter_from(skipped / step_batch) {
            if epoch_iter >= epoch_images {
                break;
            }
            let batch = batch?;
            data_seconds = data_start.elapsed().as_secs_f64();
            if !warned_resize && let Some((path, from, to)) = dataset.resized_image() {
                warned_resize = true;
                run.emit(TrainEvent::Warning(TrainWarning::ImagesResized {
                    path: path.clone(),
                    from: *from,
                    to: *to,
                }))?;
            }
            model.check_batch(batch.real_a.dims(), batch.real_b.dims())?;
            let images = batch.real_a.dims()[0];
            let step_start = Instant::now();
            let losses = model.train_step(batch.real_a.clone(), batch.real_b.clone());
            let step_seconds = step_start.elapsed().as_secs_f64();
            if !losses.is_finite() {
                return Err(CycleGanError::Diverged {
                    epoch,
                    iteration: total_iters + images,
                    losses: format!("{losses:?}"),
                    run_dir,
                });
            }
            let previous = total_iters;
            total_iters += images;
            epoch_iter += images;
            epoch_losses.push(losses);
            since_print.push(losses);
            run.emit(TrainEvent::Step(StepEvent {
                epoch,
                epoch_iter,
                epoch_size,
                total_iters,
                losses: &losses,
                step_seconds,
                data_seconds,
                real_a: &batch.real_a,
                real_b: &batch.real_b,
                model: &*model,
            }))?;
            let crossed = |freq: usize| freq > 0 && previous / freq != total_iters / freq;
            if crossed(options.print_freq) {
                let mean = StepLosses::mean(&since_print);
                run.emit(TrainEvent::Losses(LossesEvent {
                    epoch,
                    epoch_iter,
                    epoch_fraction: (epoch_iter as f64 / epoch_size.max(1) as f64).min(1.0),
                    seconds_per_image: step_seconds / images as f64,
                    data_seconds,
                    losses: &mean,
                }))?;
                since_print.clear();
            }
            if crossed(options.save_latest_freq) {
                // The official `save_networks('latest')` every `save_latest_freq` images:
                // the four nets and the resume state, so that a run that stops after it
                // resumes from this point of the epoch.
                let progress = Progress {
                    epoch: epoch - 1,
                    total_iters,
                    epoch_progress: epoch_iter,
                };
                let state = progress.state(&*model, config, &mut train_seconds, &mut clock);
                run.emit(TrainEvent::Checkpoint {
                    label: "latest",
                    model: &*model,
                    state: &state,
                })?;
            }
            data_start = Instant::now();
            if total_iters >= max_iters {
                break;
            }
        }
        let epoch_complete = epoch_iter >= epoch_images;
        if !since_print.is_empty() {
            let mean = StepLosses::mean(&since_print);
            run.emit(TrainEvent::Losses(LossesEvent {
                epoch,
                epoch_iter,
                epoch_fraction: (epoch_iter as f64 / epoch_size.max(1) as f64).min(1.0),
                seconds_per_image: epoch_start.elapsed().as_secs_f64()
                    / (epoch_iter - skipped).max(1) as f64,
                data_seconds,
                losses: &mean,
            }))?;
        }
        run.emit(TrainEvent::EpochEnded {
            epoch,
            complete: epoch_complete,
            epoch_iter,
            seconds: epoch_start.elapsed().as_secs_f64(),
            model: &*model,
        })?;
        last_epoch_losses = StepLosses::mean(&epoch_losses);
        let progress = Progress {
            epoch: if epoch_complete { epoch } else { epoch - 1 },
            total_iters,
            epoch_progress: if epoch_complete { 0 } else { epoch_iter },
        };
        let state = progress.state(&*model, config, &mut train_seconds, &mut clock);
        run.emit(TrainEvent::Checkpoint {
            label: "latest",
            model: &*model,
            state: &state,
        })?;
        if !epoch_complete {
            break;
        }
        if options.save_epoch_freq > 0 && epoch % options.save_epoch_freq == 0 {
            run.emit(TrainEvent::Checkpoint {
                label: &epoch.to_string(),
                model: &*model,
                state: &state,
            })?;
        }
        if total_iters >= max_iters {
            break;
        }
    }
    let summary = RunSummary {
        report: report_path(&run_dir),
        run_dir,
        last_epoch: trained_in,
        total_iters,
        last_epoch_losses,
        learning_rate: model.learning_rate(),
        train_seconds,
    };
    run.emit(TrainEvent::Finished(&summary))?;
    Ok(summary)
}

/// The page of the run folder `run_dir`.
fn report_path(run_dir: &std::path::Path) -> PathBuf {
    run_dir.join("web").join("index.html")
}

/// The observers of a run, in the order they are told.
struct Run<'a, 'b> {
    observers: Vec<&'a mut (dyn TrainObserver + 'b)>,
}

impl Run<'_, '_> {
    fn emit(&mut self, event: TrainEvent<'_>) -> Result<(), CycleGanError> {
        for observer in &mut self.observers {
            observer.on_event(&event)?;
        }
        Ok(())
    }
}
