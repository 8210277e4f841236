//! A whole training run, as the official `train.py`: epochs over a data loader, the
//! learning-rate policy, the loss log, the HTML report and checkpoints, with exact resume.
//! The programs parse options into a [`RunOptions`] and call [`train`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::data::dataset::Dataset;
use burn::prelude::*;

use super::checkpoint::{Checkpointer, TrainerState};
use super::config::CycleGanConfig;
use super::report::Report;
use super::schedule::LrPolicy;
use super::step::{CycleGan, StepLosses};
use crate::data::{DataLoader, UnalignedDataset};
use crate::error::CycleGanError;

/// What a run does besides the training step (the official `train.py` options).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Experiment name (`--name`): files go to `<checkpoints_dir>/<name>`.
    pub name: String,
    /// Where runs are kept (`--checkpoints_dir`).
    pub checkpoints_dir: PathBuf,
    /// Epochs at the initial learning rate (`--n_epochs`).
    pub n_epochs: usize,
    /// Epochs of decay (`--n_epochs_decay`).
    pub n_epochs_decay: usize,
    /// First epoch number (`--epoch_count`); a resumed run starts after its checkpoint.
    pub epoch_count: usize,
    /// Images per batch (`--batch_size`).
    pub batch_size: usize,
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
    /// Show a progress bar and warnings on standard error.
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            name: "experiment_name".into(),
            checkpoints_dir: PathBuf::from("checkpoints"),
            n_epochs: 100,
            n_epochs_decay: 100,
            epoch_count: 1,
            batch_size: 1,
            num_threads: 4,
            print_freq: 100,
            display_freq: 400,
            save_latest_freq: 5000,
            save_epoch_freq: 5,
            continue_train: false,
            epoch: "latest".into(),
            stop_after_epoch: None,
            max_iters: None,
            progress: false,
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

fn mean(losses: &[StepLosses]) -> StepLosses {
    let n = losses.len().max(1) as f32;
    let sum = |f: fn(&StepLosses) -> f32| losses.iter().map(f).sum::<f32>() / n;
    StepLosses {
        g_a: sum(|l| l.g_a),
        g_b: sum(|l| l.g_b),
        cycle_a: sum(|l| l.cycle_a),
        cycle_b: sum(|l| l.cycle_b),
        idt_a: sum(|l| l.idt_a),
        idt_b: sum(|l| l.idt_b),
        g: sum(|l| l.g),
        d_a: sum(|l| l.d_a),
        d_b: sum(|l| l.d_b),
    }
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
        gan: &CycleGan,
        config: &CycleGanConfig,
        train_seconds: &mut f64,
        clock: &mut Instant,
    ) -> TrainerState {
        *train_seconds += clock.elapsed().as_secs_f64();
        *clock = Instant::now();
        TrainerState {
            epoch: self.epoch,
            total_iters: self.total_iters,
            epoch_progress: self.epoch_progress,
            train_seconds: *train_seconds,
            learning_rate: gan.learning_rate(),
            config: config.clone(),
        }
    }
}

/// Trains `config` on `dataset` on `device` (an autodiff device) as `options` say.
///
/// Every epoch ends with a `latest` checkpoint (weights under the official names plus an
/// exact-resume bundle); every `save_epoch_freq` epochs one labelled with the epoch is kept.
/// A step budget ([`RunOptions::max_iters`]) ends the run with a `latest` checkpoint too,
/// possibly inside an epoch. As in the official code, the image pools are not saved: a resumed
/// run starts with empty pools (with `pool_size` 0 a resume is bit-exact).
/// A non-finite loss stops the run with an error naming the iteration, leaving the last
/// good checkpoint as it was.
pub fn train(
    config: &CycleGanConfig,
    dataset: Arc<UnalignedDataset>,
    options: &RunOptions,
    device: &Device,
) -> Result<RunSummary, CycleGanError> {
    config.validate()?;
    if options.batch_size == 0 {
        return Err(CycleGanError::option("batch_size", "must be at least 1"));
    }
    let run_dir = options.checkpoints_dir.join(&options.name);
    let checkpointer = Checkpointer::new(&run_dir)?;
    let total_epochs = options.n_epochs + options.n_epochs_decay;
    let policy = match config.lr_policy {
        LrPolicy::Linear { .. } => LrPolicy::Linear {
            n_epochs: options.n_epochs,
            n_epochs_decay: options.n_epochs_decay,
        },
        other => other,
    };

    let (mut gan, mut first_epoch, mut total_iters, mut epoch_progress, previous_seconds) =
        if options.continue_train {
            let (gan, state) = checkpointer.load(&options.epoch, device)?;
            let saved = &state.config;
            let same_networks = (
                saved.input_nc,
                saved.output_nc,
                saved.ngf,
                saved.ndf,
                saved.n_layers_d,
            ) == (
                config.input_nc,
                config.output_nc,
                config.ngf,
                config.ndf,
                config.n_layers_d,
            ) && (saved.net_g, saved.net_d, saved.norm, saved.dropout)
                == (config.net_g, config.net_d, config.norm, config.dropout);
            if !same_networks {
                return Err(CycleGanError::option(
                    "continue_train",
                    format!(
                        "the checkpoint in {} has other networks ({} ngf {} / {} ndf {}, norm {}); resume with the same network options",
                        run_dir.display(),
                        saved.net_g,
                        saved.ngf,
                        saved.net_d,
                        saved.ndf,
                        saved.norm
                    ),
                ));
            }
            // Loss and optimizer options may change on resume, as in the official code.
            let (nets, optim_g, optim_d) = gan.into_parts();
            let mut gan = CycleGan::try_from_nets(config, nets, device)?;
            gan.set_optimizers(optim_g, optim_d);
            (
                gan,
                state.epoch + 1,
                state.total_iters,
                state.epoch_progress,
                state.train_seconds,
            )
        } else {
            (
                CycleGan::try_new(config, device)?,
                options.epoch_count.max(1),
                0,
                0,
                0.0,
            )
        };
    // Training time is added up to each checkpoint, so that a run reports what its last
    // checkpoint records and a resume continues from exactly that figure (time after the
    // last checkpoint, such as writing it, belongs to no checkpoint and is not counted).
    let mut train_seconds = previous_seconds;
    let mut clock = Instant::now();
    let max_iters = options.max_iters.unwrap_or(usize::MAX);
    let last_epoch = options
        .stop_after_epoch
        .map_or(total_epochs, |stop| stop.min(total_epochs));
    let mut report = Report::new(&run_dir, &options.name)?;
    let loader = DataLoader::new(
        dataset.clone(),
        options.batch_size,
        options.num_threads,
        device,
    );
    let mut last_epoch_losses = StepLosses::default();
    let mut warned_resize = false;
    let mut trained_in = if epoch_progress > 0 {
        first_epoch
    } else {
        first_epoch - 1
    }
    .min(last_epoch);
    if first_epoch > last_epoch || total_iters >= max_iters {
        first_epoch = last_epoch + 1;
    }
    for epoch in first_epoch..=last_epoch {
        // Images of this epoch trained before a resume (only the first epoch of a resume).
        let skipped = std::mem::take(&mut epoch_progress);
        trained_in = epoch;
        dataset.set_epoch(epoch as u64);
        gan.set_learning_rate(policy.lr_at(config.lr, epoch));
        let epoch_start = Instant::now();
        let steps = dataset.len().div_ceil(options.batch_size);
        let bar = options.progress.then(|| {
            let bar = indicatif::ProgressBar::new(steps as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "epoch {prefix} {bar:30} {pos}/{len} [{elapsed}<{eta}, {per_sec}] {msg}",
                )
                .expect("valid template"),
            );
            bar.set_prefix(format!("{epoch}/{last_epoch}"));
            bar.set_position((skipped / options.batch_size) as u64);
            bar
        });
        let mut epoch_losses = Vec::with_capacity(steps);
        let mut since_print = Vec::new();
        let mut epoch_iter = skipped;
        let mut data_time = 0.0;
        let mut data_start = Instant::now();
        let mut visual_batch = None;
        for batch in loader.iter_from(skipped / options.batch_size) {
            let batch = batch?;
            data_time = data_start.elapsed().as_secs_f64();
            if options.progress
                && !warned_resize
                && let Some((path, (w, h), (nw, nh))) = dataset.resized_image()
            {
                // The official one-time warning of `__make_power_2`.
                eprintln!(
                    "warning: {} is {w}x{h}, not a multiple of 4: images are resized (here to {nw}x{nh}) for --preprocess none; \
                     this warning is shown once",
                    path.display()
                );
                warned_resize = true;
            }
            gan.check_batch(batch.real_a.dims(), batch.real_b.dims())?;
            let n = batch.real_a.dims()[0];
            let step_start = Instant::now();
            let losses = gan.train_step(batch.real_a.clone(), batch.real_b.clone());
            if !losses.is_finite() {
                return Err(CycleGanError::option(
                    "lr",
                    format!(
                        "training diverged at epoch {epoch}, iteration {}: a loss is not finite ({losses:?}); \
                         the last checkpoint in {} is intact",
                        total_iters + n,
                        run_dir.display()
                    ),
                ));
            }
            let previous = total_iters;
            total_iters += n;
            epoch_iter += n;
            epoch_losses.push(losses);
            since_print.push(losses);
            let crossed = |freq: usize| freq > 0 && previous / freq != total_iters / freq;
            if crossed(options.print_freq) {
                let time = step_start.elapsed().as_secs_f64() / n as f64;
                let fraction = epoch_iter as f64 / dataset.len().max(1) as f64;
                report.log_losses(
                    epoch,
                    fraction,
                    epoch_iter,
                    time,
                    data_time,
                    &mean(&since_print),
                )?;
                since_print.clear();
            }
            if crossed(options.display_freq) || visual_batch.is_none() {
                visual_batch = Some((batch.real_a.clone(), batch.real_b.clone()));
            }
            if crossed(options.save_latest_freq) {
                // The official `save_networks('latest')` every `save_latest_freq` images,
                // through the checkpointer: the four nets and the resume state, so that a run
                // that stops after it resumes from this point of the epoch.
                let progress = Progress {
                    epoch: epoch - 1,
                    total_iters,
                    epoch_progress: epoch_iter,
                };
                let state = progress.state(&gan, config, &mut train_seconds, &mut clock);
                checkpointer.save(&gan, "latest", &state)?;
            }
            if let Some(bar) = &bar {
                let running = mean(&epoch_losses[epoch_losses.len().saturating_sub(50)..]);
                bar.set_message(format!(
                    "G {:.3} D_A {:.3} D_B {:.3} cyc {:.3}",
                    running.g,
                    running.d_a,
                    running.d_b,
                    running.cycle_a + running.cycle_b
                ));
                bar.inc(1);
            }
            data_start = Instant::now();
            if total_iters >= max_iters {
                break;
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let epoch_complete = epoch_iter >= dataset.len();
        if !since_print.is_empty() {
            let time = epoch_start.elapsed().as_secs_f64() / (epoch_iter - skipped).max(1) as f64;
            let fraction = epoch_iter as f64 / dataset.len().max(1) as f64;
            report.log_losses(
                epoch,
                fraction.min(1.0),
                epoch_iter,
                time,
                data_time,
                &mean(&since_print),
            )?;
        }
        if let Some((real_a, real_b)) = visual_batch {
            report.save_visuals(epoch, &gan.visuals(real_a, real_b))?;
        }
        report.write_html()?;
        last_epoch_losses = mean(&epoch_losses);
        let progress = Progress {
            epoch: if epoch_complete { epoch } else { epoch - 1 },
            total_iters,
            epoch_progress: if epoch_complete { 0 } else { epoch_iter },
        };
        let state = progress.state(&gan, config, &mut train_seconds, &mut clock);
        checkpointer.save(&gan, "latest", &state)?;
        if !epoch_complete {
            break;
        }
        if options.save_epoch_freq > 0 && epoch % options.save_epoch_freq == 0 {
            checkpointer.save(&gan, &epoch.to_string(), &state)?;
        }
        if total_iters >= max_iters {
            break;
        }
    }
    report.write_html()?;
    Ok(RunSummary {
        report: report.index_path(),
        run_dir,
        last_epoch: trained_in,
        total_iters,
        last_epoch_losses,
        learning_rate: gan.learning_rate(),
        train_seconds,
    })
}
