//! `loss_log.txt` in the official line format, written by the [`LossLog`] observer.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::events::{TrainEvent, TrainObserver};
use super::losses::StepLosses;
use crate::error::CycleGanError;

/// Appends to `<run>/loss_log.txt` as the official visualizer does: a header line when a
/// run starts or resumes, then one line per [`TrainEvent::Losses`].
#[derive(Debug, Clone)]
pub struct LossLog {
    path: PathBuf,
}

impl LossLog {
    /// The log of the run folder `run_dir`.
    pub fn new(run_dir: impl AsRef<Path>) -> Self {
        Self {
            path: run_dir.as_ref().join("loss_log.txt"),
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The official line: `(epoch: E, iters: I, time: T, data: D) D_A: x G_A: x ...`.
    ///
    /// ```
    /// use cyclegan_burn::train::{LossLog, StepLosses};
    /// let line = LossLog::line(3, 100, 0.25, 0.01, &StepLosses { d_a: 0.5, ..Default::default() });
    /// assert!(line.starts_with("(epoch: 3, iters: 100, time: 0.250, data: 0.010) D_A: 0.500 G_A: 0.000"));
    /// ```
    pub fn line(epoch: usize, iters: usize, time: f64, data: f64, losses: &StepLosses) -> String {
        let mut line =
            format!("(epoch: {epoch}, iters: {iters}, time: {time:.3}, data: {data:.3}) ");
        for (name, value) in losses.named() {
            let _ = write!(line, "{name}: {value:.3} ");
        }
        line
    }

    fn append(&self, text: &str) -> Result<(), CycleGanError> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| CycleGanError::io(&self.path, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| CycleGanError::io(&self.path, e))
    }
}

impl TrainObserver for LossLog {
    fn on_event(&mut self, event: &TrainEvent<'_>) -> Result<(), CycleGanError> {
        match event {
            TrainEvent::Started { .. } => self.append(&format!(
                "================ Training Loss ({}) ================\n",
                unix_time_string()
            )),
            TrainEvent::Losses(losses) => self.append(
                &(Self::line(
                    losses.epoch,
                    losses.epoch_iter,
                    losses.seconds_per_image,
                    losses.data_seconds,
                    losses.losses,
                ) + "\n"),
            ),
            _ => Ok(()),
        }
    }
}

/// Seconds since the Unix epoch, for log headers (the crate has no calendar dependency).
fn unix_time_string() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("unix time {secs}")
}
