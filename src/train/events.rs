//! What a training run reports while it runs: [`TrainEvent`]s, delivered in order to every
//! [`TrainObserver`] of the run.
//!
//! [`train`](super::train) itself only trains and says what happened. The files of a run are
//! written by observers it always has (the [`Checkpointer`](super::Checkpointer) on
//! [`TrainEvent::Checkpoint`], the [`LossLog`](super::LossLog) and the
//! [`Report`](super::Report)); what a person sees is up to the observers a program adds
//! (the [`Console`](super::Console): a progress bar, warnings and the official console
//! lines). The library prints nothing of its own.
//!
//! ```
//! use cyclegan_burn::train::{TrainEvent, TrainObserver};
//! use cyclegan_burn::CycleGanError;
//!
//! /// Counts the steps of a run.
//! #[derive(Default)]
//! struct StepCounter(usize);
//!
//! impl TrainObserver for StepCounter {
//!     fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
//!         if let TrainEvent::Step(_) = event {
//!             self.0 += 1;
//!         }
//!         Ok(())
//!     }
//! }
//! ```

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::checkpoint::TrainerState;
use super::losses::StepLosses;
use super::model::TrainModel;
use super::run::RunSummary;
use crate::error::CycleGanError;

/// Something that happened in a training run.
#[derive(Debug)]
pub enum TrainEvent<'a> {
    /// Training is about to start (or resume) with epoch `first_epoch`; it ends after
    /// `last_epoch`.
    Started {
        /// The run folder.
        run_dir: &'a Path,
        /// The first epoch this call trains.
        first_epoch: usize,
        /// The last epoch it trains, unless a step budget stops it first.
        last_epoch: usize,
        /// Images trained on before (by the run this one resumes).
        total_iters: usize,
    },
    /// An epoch begins.
    EpochStarted {
        /// The epoch (counted from 1).
        epoch: usize,
        /// The last epoch of the run.
        last_epoch: usize,
        /// Steps of a whole epoch.
        steps: usize,
        /// Steps of it trained before a resume (0 but for the first epoch of a resume).
        first_step: usize,
        /// The learning rate of the epoch.
        learning_rate: f64,
    },
    /// One training step is done.
    Step(StepEvent<'a>),
    /// The losses averaged since the last such event: every `print_freq` images and at the
    /// end of an epoch (the official `print_current_losses`).
    Losses(LossesEvent<'a>),
    /// An epoch ended, or a step budget stopped the run inside it.
    EpochEnded {
        /// The epoch.
        epoch: usize,
        /// Whether every image of the epoch was trained on.
        complete: bool,
        /// Images of the epoch trained on.
        epoch_iter: usize,
        /// Seconds the epoch took in this call.
        seconds: f64,
        /// The model after the epoch.
        model: &'a dyn TrainModel,
    },
    /// A checkpoint is due under `label` (`latest`, or the epoch number): the
    /// [`Checkpointer`](super::Checkpointer) writes it.
    Checkpoint {
        /// `latest`, or an epoch number.
        label: &'a str,
        /// The model to save.
        model: &'a dyn TrainModel,
        /// Where training stands.
        state: &'a TrainerState,
    },
    /// Something a person should know that does not stop training.
    Warning(TrainWarning),
    /// The run ended without error.
    Finished(&'a RunSummary),
}

/// One training step.
#[derive(Debug)]
pub struct StepEvent<'a> {
    /// The epoch.
    pub epoch: usize,
    /// Images of the epoch trained on, this step's included.
    pub epoch_iter: usize,
    /// Images in an epoch.
    pub epoch_size: usize,
    /// Images trained on in total, this step's included.
    pub total_iters: usize,
    /// The step's losses.
    pub losses: &'a StepLosses,
    /// Seconds the step took.
    pub step_seconds: f64,
    /// Seconds spent waiting for the batch.
    pub data_seconds: f64,
    /// The batch of domain A the step trained on.
    pub real_a: &'a Tensor<4>,
    /// The batch of domain B.
    pub real_b: &'a Tensor<4>,
    /// The model after the step.
    pub model: &'a dyn TrainModel,
}

/// Losses averaged over the steps since the previous [`TrainEvent::Losses`].
#[derive(Debug)]
pub struct LossesEvent<'a> {
    /// The epoch.
    pub epoch: usize,
    /// Images of the epoch trained on.
    pub epoch_iter: usize,
    /// The fraction of the epoch done (`epoch_iter / epoch_size`, at most 1).
    pub epoch_fraction: f64,
    /// Seconds per image of the last step (of the epoch's steps in this call, at an
    /// epoch's end), the official `t_comp`.
    pub seconds_per_image: f64,
    /// Seconds the last batch took to load, the official `t_data`.
    pub data_seconds: f64,
    /// The mean losses.
    pub losses: &'a StepLosses,
}

/// A warning of a training run.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainWarning {
    /// Images whose sides are not multiples of 4 are resized for `preprocess` `none`, as
    /// the official `__make_power_2` does (reported once per run, for the first such image).
    ImagesResized {
        /// The first such image.
        path: PathBuf,
        /// Its width and height.
        from: (u32, u32),
        /// The size it was resized to.
        to: (u32, u32),
    },
}

impl std::fmt::Display for TrainWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainWarning::ImagesResized {
                path,
                from: (w, h),
                to: (nw, nh),
            } => write!(
                f,
                "{} is {w}x{h}, not a multiple of 4: images are resized (here to {nw}x{nh}) for preprocess `none`; this warning is shown once",
                path.display()
            ),
        }
    }
}

/// A subscriber to the events of a training run. An error stops the run with that error.
pub trait TrainObserver {
    /// Called with every event, in order.
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError>;
}

impl<T: TrainObserver + ?Sized> TrainObserver for &mut T {
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
        (**self).on_event(event)
    }
}
