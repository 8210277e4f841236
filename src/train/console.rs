//! What a person sees of a training run in a terminal, as a [`TrainObserver`]: the
//! [`Console`].

use super::events::{TrainEvent, TrainObserver};
use super::loss_log::LossLog;
use super::losses::StepLosses;
use crate::error::CycleGanError;

/// Shows a training run on standard error: a progress bar per epoch with the running
/// losses, warnings, and (with [`with_official_lines`](Self::with_official_lines)) the
/// official console lines (loss lines, `End of epoch`, `saving the model`). The library
/// never prints; a program adds a `Console` to the run when it wants output.
#[derive(Default)]
pub struct Console {
    progress_bar: bool,
    official_lines: bool,
    bar: Option<indicatif::ProgressBar>,
    recent: Vec<StepLosses>,
}

impl Console {
    /// A console that shows warnings only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also shows a progress bar per epoch, with the losses of the last 50 steps.
    pub fn with_progress_bar(mut self, progress_bar: bool) -> Self {
        self.progress_bar = progress_bar;
        self
    }

    /// Also prints the official console lines: the loss lines of `loss_log.txt`, the end
    /// of every epoch with its time, and every checkpoint written.
    pub fn with_official_lines(mut self, official_lines: bool) -> Self {
        self.official_lines = official_lines;
        self
    }

    /// Prints `line`, above the progress bar when there is one.
    fn print(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl TrainObserver for Console {
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
        match event {
            TrainEvent::EpochStarted {
                epoch,
                last_epoch,
                steps,
                first_step,
                ..
            } if self.progress_bar => {
                let bar = indicatif::ProgressBar::new(*steps as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "epoch {prefix} {bar:30} {pos}/{len} [{elapsed}<{eta}, {per_sec}] {msg}",
                    )
                    .expect("valid template"),
                );
                bar.set_prefix(format!("{epoch}/{last_epoch}"));
                bar.set_position(*first_step as u64);
                self.bar = Some(bar);
                self.recent.clear();
            }
            TrainEvent::Step(step) => {
                if let Some(bar) = &self.bar {
                    if self.recent.len() == 50 {
                        self.recent.remove(0);
                    }
                    self.recent.push(*step.losses);
                    let running = StepLosses::mean(&self.recent);
                    bar.set_message(format!(
                        "G {:.3} D_A {:.3} D_B {:.3} cyc {:.3}",
                        running.g,
                        running.d_a,
                        running.d_b,
                        running.cycle_a + running.cycle_b
                    ));
                    bar.inc(1);
                }
            }
            TrainEvent::Losses(losses) if self.official_lines => self.print(&LossLog::line(
                losses.epoch,
                losses.epoch_iter,
                losses.seconds_per_image,
                losses.data_seconds,
                losses.losses,
            )),
            TrainEvent::EpochEnded { epoch, seconds, .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                if self.official_lines {
                    self.print(&format!(
                        "End of epoch {epoch} \t Time Taken: {seconds:.0} sec"
                    ));
                }
            }
            TrainEvent::Checkpoint { label, state, .. } if self.official_lines => {
                self.print(&format!(
                    "saving the model as `{label}` (epoch {}, total_iters {})",
                    state.epoch, state.total_iters
                ));
            }
            TrainEvent::Warning(warning) => self.print(&format!("warning: {warning}")),
            _ => {}
        }
        Ok(())
    }
}
