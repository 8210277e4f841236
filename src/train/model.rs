//! [`TrainModel`]: what a training run ([`train`](super::train), [`train_cut`](super::train_cut))
//! needs of the model it trains, so that one loop, one checkpointer and one report serve
//! CycleGAN ([`CycleGan`]) and CUT / FastCUT ([`Cut`]).

use burn::module::Module;
use burn::prelude::*;

use super::losses::StepLosses;
use super::step::CycleGan;
use crate::cut::Cut;
use crate::error::CycleGanError;
use crate::import::{PytorchLayout, StateDict};

/// A model in training, as a run drives it.
pub trait TrainModel {
    /// Checks that a pair of batches can be trained on (channels, sizes, batch sizes).
    fn check_batch(&self, shape_a: [usize; 4], shape_b: [usize; 4]) -> Result<(), CycleGanError>;

    /// One optimisation step on a batch of each domain.
    fn train_step(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses;

    /// The learning rate of the optimizers.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate of the optimizers (the official `update_learning_rate`).
    fn set_learning_rate(&mut self, learning_rate: f64);

    /// How many replicas train (data parallel), each taking `batch_size` images of a step.
    fn replica_count(&self) -> usize {
        1
    }

    /// Whether an epoch's last batch is left out when it is short (the official CUT's
    /// `drop_last`: its PatchNCE loss reshapes by `batch_size`). CycleGAN trains on it.
    fn drops_last_batch(&self) -> bool {
        false
    }

    /// The official visuals of a batch (`real_A`, `fake_B`, ...), computed without autodiff.
    fn visuals(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> Vec<(&'static str, Tensor<4>)>;

    /// Every network under its official name (`G_A`, `D_B`, ...; `G`, `D`, `F`), with its
    /// weights under the official keys: the `<label>_net_<name>` files of a checkpoint.
    fn official_networks(&self) -> Vec<(&'static str, StateDict)>;

    /// The files of an exact-resume bundle besides the trainer state: the networks as a Burn
    /// record (`nets.bpk`), each optimizer's state (`optim_<name>.bpk`), and whatever else the
    /// model needs (CUT: the number of steps, which seeds its random draws).
    fn resume_files(&self) -> Result<Vec<(String, Vec<u8>)>, String>;
}

/// The record bytes of `module`.
fn record_bytes<M: Module>(module: &M) -> Result<Vec<u8>, String> {
    module
        .clone()
        .into_record()
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|e| e.to_string())
}

/// The state bytes of an optimizer.
fn optimizer_bytes(optimizer: &burn::optim::ModuleOptimizer) -> Result<Vec<u8>, String> {
    optimizer
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|e| e.to_string())
}

impl TrainModel for CycleGan {
    fn check_batch(&self, shape_a: [usize; 4], shape_b: [usize; 4]) -> Result<(), CycleGanError> {
        CycleGan::check_batch(self, shape_a, shape_b)
    }

    fn train_step(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        CycleGan::train_step(self, real_a, real_b)
    }

    fn learning_rate(&self) -> f64 {
        CycleGan::learning_rate(self)
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        CycleGan::set_learning_rate(self, learning_rate);
    }

    fn replica_count(&self) -> usize {
        CycleGan::replica_count(self)
    }

    fn visuals(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> Vec<(&'static str, Tensor<4>)> {
        CycleGan::visuals(self, real_a, real_b)
    }

    fn official_networks(&self) -> Vec<(&'static str, StateDict)> {
        let nets = self.nets();
        vec![
            ("G_A", nets.g_a.to_state_dict()),
            ("G_B", nets.g_b.to_state_dict()),
            ("D_A", nets.d_a.to_state_dict()),
            ("D_B", nets.d_b.to_state_dict()),
        ]
    }

    fn resume_files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let (optim_g, optim_d) = self.optimizers();
        Ok(vec![
            ("nets.bpk".into(), record_bytes(self.nets())?),
            ("optim_G.bpk".into(), optimizer_bytes(optim_g)?),
            ("optim_D.bpk".into(), optimizer_bytes(optim_d)?),
        ])
    }
}

impl TrainModel for Cut {
    fn check_batch(&self, shape_a: [usize; 4], shape_b: [usize; 4]) -> Result<(), CycleGanError> {
        Cut::check_batch(self, shape_a, shape_b)
    }

    fn train_step(&mut self, real_a: Tensor<4>, real_b: Tensor<4>) -> StepLosses {
        Cut::train_step(self, real_a, real_b)
    }

    fn learning_rate(&self) -> f64 {
        Cut::learning_rate(self)
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        Cut::set_learning_rate(self, learning_rate);
    }

    fn drops_last_batch(&self) -> bool {
        true
    }

    fn visuals(&self, real_a: Tensor<4>, real_b: Tensor<4>) -> Vec<(&'static str, Tensor<4>)> {
        Cut::visuals(self, real_a, real_b)
    }

    fn official_networks(&self) -> Vec<(&'static str, StateDict)> {
        let nets = self.nets();
        vec![
            ("G", nets.g.to_state_dict()),
            ("D", nets.d.to_state_dict()),
            ("F", nets.f.to_state_dict()),
        ]
    }

    fn resume_files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let [optim_g, optim_d, optim_f] = self.optimizers();
        Ok(vec![
            ("nets.bpk".into(), record_bytes(self.nets())?),
            ("optim_G.bpk".into(), optimizer_bytes(optim_g)?),
            ("optim_D.bpk".into(), optimizer_bytes(optim_d)?),
            ("optim_F.bpk".into(), optimizer_bytes(optim_f)?),
            (
                "cut_steps.json".into(),
                self.steps_done().to_string().into_bytes(),
            ),
        ])
    }
}

impl std::fmt::Debug for dyn TrainModel + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainModel")
            .field("learning_rate", &self.learning_rate())
            .field("replica_count", &self.replica_count())
            .finish_non_exhaustive()
    }
}
