//! Training: the configuration of a CycleGAN, its networks, the training step with two Adam
//! optimizers and image pools, and learning-rate schedules.

mod adam;
pub mod checkpoint;
pub mod config;
pub mod nets;
pub mod report;
pub mod run;
pub mod schedule;
pub mod step;
pub mod test_page;

pub use checkpoint::{Checkpointer, TrainerState};
pub use config::{CycleGanConfig, DiscriminatorKind, GeneratorKind};
pub use nets::{CycleGanNets, Discriminator, Generator};
pub use run::{RunOptions, RunSummary, train};
pub use schedule::{LrPolicy, LrPolicyName};
pub use step::{CycleGan, CycleGanGradients, StepLosses};
pub use test_page::{HeldOutScores, write_test_page};
