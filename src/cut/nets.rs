//! [`CutNets`]: the three networks of a CUT model, G, D and netF.

use std::path::Path;

use burn::prelude::*;

use super::{CutConfig, PatchSampleF};
use crate::error::CycleGanError;
use crate::import::PytorchLayout;
use crate::import::pytorch::official_net_file;
use crate::model::networks::sub_seed;
use crate::model::{Discriminator, ResnetGenerator};

/// The networks of a CUT model: the generator `G` (A → B), the discriminator `D` (judging
/// domain B) and the patch sampler `F` (netF), saved by the official code as
/// `<epoch>_net_G.pth`, `_net_D.pth` and `_net_F.pth`.
#[derive(Module, Debug)]
pub struct CutNets {
    /// The generator, A → B.
    pub g: ResnetGenerator,
    /// The discriminator of domain B.
    pub d: Discriminator,
    /// The patch sampler of the NCE loss.
    pub f: PatchSampleF,
}

impl CutNets {
    /// Fresh networks for `config`, each from its own sub-seed of `config.seed`. netF's MLPs
    /// are sized from the generator's channels at the NCE layers (the official code builds
    /// them at the first forward pass, from the features it sees: the same sizes).
    pub fn new(config: &CutConfig, device: &Device) -> Result<Self, CycleGanError> {
        config.validate()?;
        let channels = config.generator().module_channels();
        let mut layers = config.nce_layers.clone();
        layers.sort_unstable();
        let f_channels: Vec<usize> = layers
            .iter()
            .filter_map(|&layer| channels.get(layer).copied())
            .collect();
        Ok(Self {
            g: config.init_generator(device, sub_seed(config.seed, 0)),
            d: config.init_discriminator(device, sub_seed(config.seed, 2)),
            f: config
                .patch_sample_f()
                .init_seeded(&f_channels, device, sub_seed(config.seed, 4)),
        })
    }

    /// Loads the three networks from official checkpoints named as the official code saves
    /// them, `<dir>/<prefix>_net_{G,D,F}.<ext>` (e.g. `latest_net_F.pth`).
    pub fn load_pytorch_dir(
        self,
        dir: impl AsRef<Path>,
        prefix: &str,
        ext: &str,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let file = |name: &str| official_net_file(dir.as_ref(), prefix, name, ext);
        Ok(Self {
            g: self.g.load_pytorch(file("G"), device)?,
            d: self.d.load_pytorch(file("D"), device)?,
            f: self.f.load_pytorch(file("F"), device)?,
        })
    }

    /// Saves the three networks as the official code does,
    /// `<dir>/<prefix>_net_{G,D,F}.<ext>` (`.pth` or `.safetensors`), each written atomically.
    pub fn save_pytorch_dir(
        &self,
        dir: impl AsRef<Path>,
        prefix: &str,
        ext: &str,
    ) -> Result<(), CycleGanError> {
        let file = |name: &str| official_net_file(dir.as_ref(), prefix, name, ext);
        self.g.save_pytorch(file("G"))?;
        self.d.save_pytorch(file("D"))?;
        self.f.save_pytorch(file("F"))
    }
}
