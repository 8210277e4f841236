//! Checkpoints that survive crashes.
//!
//! A save under a label (`latest`, or an epoch number) writes two things into the run
//! folder:
//!
//! * `<label>_net_<name>.safetensors`: the weights under the official key names (CycleGAN:
//!   `G_A`, `G_B`, `D_A`, `D_B`; CUT: `G`, `D`, `F`), each file written to a temporary name,
//!   synced and renamed;
//! * `resume_<label>/`: everything an exact resume needs (the nets with Burn's parameter ids,
//!   every Adam state, the trainer state; CUT: the step count that seeds its draws), written
//!   as a whole into `resume_<label>.tmp/` and then swapped in, so that a crash at any moment
//!   leaves either the previous complete bundle or the new one.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

use super::config::CycleGanConfig;
use super::model::TrainModel;
use super::step::{CycleGan, adam_optimizer};
use crate::cut::{Cut, CutConfig, CutNets};
use crate::error::CycleGanError;
use crate::io::write_atomic;
use crate::model::CycleGanNets;

/// Where training stands, saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// The last completed epoch (counted from 1).
    pub epoch: usize,
    /// Training images seen so far (the official `total_iters`).
    pub total_iters: usize,
    /// Images of epoch `epoch + 1` already trained, when the run stopped inside it (a
    /// step budget, [`RunOptions::max_iters`](super::RunOptions::max_iters)); 0 at an
    /// epoch's end. A resume continues that epoch's data order where it stopped.
    #[serde(default)]
    pub epoch_progress: usize,
    /// Wall-clock seconds spent training so far, over all resumes.
    #[serde(default)]
    pub train_seconds: f64,
    /// The learning rate in use when the checkpoint was written.
    pub learning_rate: f64,
    /// The configuration the networks were built with (a CUT run keeps the default here
    /// and its own in [`cut`](Self::cut)).
    pub config: CycleGanConfig,
    /// The configuration of a CUT or FastCUT run; `None` for CycleGAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<CutConfig>,
}

/// Saves and loads checkpoints in one run folder (`<checkpoints_dir>/<name>`).
#[derive(Debug, Clone)]
pub struct Checkpointer {
    dir: PathBuf,
}

fn record_error(path: &Path, e: impl std::fmt::Display) -> CycleGanError {
    CycleGanError::checkpoint(path, e.to_string())
}

impl Checkpointer {
    /// A checkpointer writing into `dir`, created if needed; fails early if it is not
    /// writable.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, CycleGanError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| CycleGanError::io(&dir, e))?;
        let probe = dir.join(format!(".write-test-{}", std::process::id()));
        std::fs::write(&probe, b"ok").map_err(|e| CycleGanError::io(&dir, e))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Self { dir })
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn bundle(&self, label: &str) -> PathBuf {
        self.dir.join(format!("resume_{label}"))
    }

    /// The official-named weight file of one network (`G_A`, `G_B`, `D_A`, `D_B`).
    pub fn net_path(&self, label: &str, net: &str) -> PathBuf {
        self.dir.join(format!("{label}_net_{net}.safetensors"))
    }

    /// Saves `model` and `state` under `label`.
    pub fn save(
        &self,
        model: &dyn TrainModel,
        label: &str,
        state: &TrainerState,
    ) -> Result<(), CycleGanError> {
        for (name, dict) in model.official_networks() {
            crate::import::state_dict::write_safetensors(self.net_path(label, name), &dict, None)?;
        }

        let bundle = self.bundle(label);
        let tmp = self.dir.join(format!("resume_{label}.tmp"));
        let old = self.dir.join(format!("resume_{label}.old"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| CycleGanError::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| CycleGanError::io(&tmp, e))?;
        let files = model.resume_files().map_err(|e| record_error(&tmp, e))?;
        for (name, bytes) in files {
            write_atomic(tmp.join(name), &bytes)?;
        }
        let state_path = tmp.join("state.json");
        let json = serde_json::to_vec_pretty(state).map_err(|e| record_error(&state_path, e))?;
        write_atomic(&state_path, &json)?;
        sync_dir(&tmp);

        // Swap: bundle → old, tmp → bundle, drop old. `load` falls back to `old` if a crash
        // lands between the two renames.
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| CycleGanError::io(&old, e))?;
        }
        if bundle.exists() {
            std::fs::rename(&bundle, &old).map_err(|e| CycleGanError::io(&bundle, e))?;
        }
        std::fs::rename(&tmp, &bundle).map_err(|e| CycleGanError::io(&bundle, e))?;
        sync_dir(&self.dir);
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }

    /// Whether a complete resume bundle exists under `label`.
    pub fn exists(&self, label: &str) -> bool {
        self.complete_bundle(label).is_some()
    }

    fn complete_bundle(&self, label: &str) -> Option<PathBuf> {
        let candidates = [
            self.bundle(label),
            self.dir.join(format!("resume_{label}.old")),
        ];
        candidates.into_iter().find(|dir| {
            ["nets.bpk", "optim_G.bpk", "optim_D.bpk", "state.json"]
                .iter()
                .all(|f| dir.join(f).is_file())
        })
    }

    /// The networks' record saved under `label`, with the trainer state and the bundle it
    /// came from; `cut` says which model the caller expects, and a run of the other is
    /// refused with a message that says which it is.
    fn record(
        &self,
        label: &str,
        cut: bool,
    ) -> Result<(ModuleRecord, TrainerState, PathBuf), CycleGanError> {
        let state = self.state(label)?;
        let bundle = self.complete_bundle(label).expect("checked by state()");
        if state.cut.is_some() != cut {
            let (is, use_) = if cut {
                ("a CycleGAN", "load_nets / load")
            } else {
                ("a CUT", "load_cut_nets / load_cut")
            };
            return Err(CycleGanError::checkpoint(
                &bundle,
                format!("this is {is} run's checkpoint: use {use_}"),
            ));
        }
        let nets_path = bundle.join("nets.bpk");
        let bytes = std::fs::read(&nets_path).map_err(|e| CycleGanError::io(&nets_path, e))?;
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| record_error(&nets_path, e))?;
        Ok((record, state, bundle))
    }

    /// The four networks of a CycleGAN run saved under `label` (any architecture: it is read
    /// from the saved configuration), on `device`, e.g. to translate with the exact weights
    /// of a run.
    pub fn load_nets(
        &self,
        label: &str,
        device: &Device,
    ) -> Result<(CycleGanNets, TrainerState), CycleGanError> {
        let (record, state, bundle) = self.record(label, false)?;
        let nets = CycleGanNets::new(&state.config.networks, state.config.seed, device)?
            .try_load_record(record)
            .map_err(|e| record_error(&bundle.join("nets.bpk"), e))?;
        Ok((nets, state))
    }

    /// The three networks of a CUT or FastCUT run saved under `label`, on `device`.
    pub fn load_cut_nets(
        &self,
        label: &str,
        device: &Device,
    ) -> Result<(CutNets, TrainerState), CycleGanError> {
        let (record, state, bundle) = self.record(label, true)?;
        let config = state.cut.as_ref().expect("checked by record()");
        let nets = CutNets::new(config, device)?
            .try_load_record(record)
            .map_err(|e| record_error(&bundle.join("nets.bpk"), e))?;
        Ok((nets, state))
    }

    /// The trainer state saved under `label`.
    pub fn state(&self, label: &str) -> Result<TrainerState, CycleGanError> {
        let bundle = self.complete_bundle(label).ok_or_else(|| {
            CycleGanError::checkpoint(
                self.bundle(label),
                "nothing to resume: no complete checkpoint here",
            )
        })?;
        let path = bundle.join("state.json");
        let bytes = std::fs::read(&path).map_err(|e| CycleGanError::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| record_error(&path, e))
    }

    /// The optimizer state `name` of a bundle, for Adam with `beta1`.
    fn optimizer(
        bundle: &Path,
        name: &str,
        beta1: f64,
    ) -> Result<burn::optim::ModuleOptimizer, CycleGanError> {
        let path = bundle.join(name);
        let bytes = std::fs::read(&path).map_err(|e| CycleGanError::io(&path, e))?;
        adam_optimizer(beta1)
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| record_error(&path, e))
    }

    /// Restores a [`CycleGan`] exactly as saved under `label` (weights, Adam moments and
    /// step counts, learning rate), on `device`.
    pub fn load(
        &self,
        label: &str,
        device: &Device,
    ) -> Result<(CycleGan, TrainerState), CycleGanError> {
        let (nets, state) = self.load_nets(label, device)?;
        let bundle = self.complete_bundle(label).expect("checked by load_nets()");
        let mut gan = CycleGan::try_from_nets(&state.config, nets, device)?;
        let beta1 = state.config.optimizer.beta1;
        gan.set_optimizers(
            Self::optimizer(&bundle, "optim_G.bpk", beta1)?,
            Self::optimizer(&bundle, "optim_D.bpk", beta1)?,
        );
        gan.set_learning_rate(state.learning_rate);
        Ok((gan, state))
    }

    /// Restores a [`Cut`] exactly as saved under `label` (weights, the three Adam states,
    /// the learning rate and the step count that numbers its random draws), on `device`.
    pub fn load_cut(
        &self,
        label: &str,
        device: &Device,
    ) -> Result<(Cut, TrainerState), CycleGanError> {
        let (nets, state) = self.load_cut_nets(label, device)?;
        let bundle = self
            .complete_bundle(label)
            .expect("checked by load_cut_nets()");
        let config = state.cut.clone().expect("checked by load_cut_nets()");
        let mut cut = Cut::try_from_nets(&config, nets, device)?;
        let beta1 = config.optimizer.beta1;
        cut.set_optimizers([
            Self::optimizer(&bundle, "optim_G.bpk", beta1)?,
            Self::optimizer(&bundle, "optim_D.bpk", beta1)?,
            Self::optimizer(&bundle, "optim_F.bpk", beta1)?,
        ]);
        let steps_path = bundle.join("cut_steps.json");
        let steps =
            std::fs::read_to_string(&steps_path).map_err(|e| CycleGanError::io(&steps_path, e))?;
        cut.set_steps_done(
            steps
                .trim()
                .parse()
                .map_err(|e| record_error(&steps_path, e))?,
        );
        cut.set_learning_rate(state.learning_rate);
        Ok((cut, state))
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

/// The checkpointer writes every checkpoint a run asks for.
impl super::events::TrainObserver for Checkpointer {
    fn on_event(&mut self, event: &super::events::TrainEvent<'_>) -> Result<(), CycleGanError> {
        if let super::events::TrainEvent::Checkpoint {
            label,
            model,
            state,
        } = event
        {
            self.save(*model, label, state)?;
        }
        Ok(())
    }
}
