//! Training: the configuration of a CycleGAN, the training step with two Adam optimizers
//! and image pools, learning-rate schedules, and whole runs with checkpoints, which report
//! through [`events`] to the loss log, the HTML report and the programs' console.

pub mod checkpoint;
pub mod config;
pub mod console;
pub mod events;
pub mod loss_log;
pub mod losses;
pub mod model;
pub mod report;
pub mod run;
pub mod schedule;
pub mod step;
pub mod test_page;

pub use checkpoint::{Checkpointer, TrainerState};
pub use config::{CycleGanConfig, OptimizerConfig};
pub use console::Console;
pub use events::{LossesEvent, StepEvent, TrainEvent, TrainObserver, TrainWarning};
pub use loss_log::LossLog;
pub use losses::{LossSet, LossTerm, StepLosses};
pub use model::TrainModel;
pub use report::Report;
pub use run::{RunOptions, RunSummary, train, train_cut, train_cut_observed, train_observed};
pub use schedule::{LrPolicy, LrPolicyName, ScheduleConfig};
pub use step::{CycleGan, CycleGanGradients};
pub use test_page::{HeldOutScores, write_test_page};
