//! Architecture detection: build the network a checkpoint was trained as, from its tensors.

use std::collections::BTreeSet;
use std::path::Path;

use burn::prelude::*;

use super::pytorch::PytorchLayout;
use super::state_dict::{StateDict, read_state_dict};
use crate::cut::{PatchSampleF, PatchSampleFConfig};
use crate::error::CycleGanError;
use crate::model::{
    NLayerDiscriminator, NLayerDiscriminatorConfig, Norm, PaddingType, ResnetGenerator,
    ResnetGeneratorConfig,
};

fn shape<'a>(dict: &'a StateDict, key: &str) -> Option<&'a [usize]> {
    dict.get(key).map(|t| t.shape.as_slice())
}

/// Whether `key` holds a conv weight (4-D), not a norm weight (1-D).
fn is_conv(dict: &StateDict, key: &str) -> bool {
    shape(dict, key).is_some_and(|s| s.len() == 4)
}

/// The norm implied by a conv at `conv` followed by a norm at `norm`: instance norms come
/// with conv biases (the official rule), batch norms with running statistics and no bias.
fn detect_norm(dict: &StateDict, conv: &str, norm: &str) -> Norm {
    let biased = dict.contains_key(&format!("{conv}.bias"));
    let weighted = dict.contains_key(&format!("{norm}.weight"));
    match (biased, weighted) {
        (true, true) => Norm::InstanceAffine,
        (true, false) => Norm::Instance,
        (false, true) => Norm::Batch,
        (false, false) => Norm::None,
    }
}

/// The [`ResnetGeneratorConfig`] a state dict with official keys was made from: channels,
/// ngf, number of blocks, norm, dropout and block padding (replicate padding cannot be told
/// from reflection by the tensors; reflection is assumed).
pub fn detect_resnet_generator(dict: &StateDict) -> Result<ResnetGeneratorConfig, String> {
    let stem = shape(dict, "model.1.weight")
        .filter(|s| s.len() == 4 && s[2] == 7)
        .ok_or("not a ResNet generator: no 7x7 conv at model.1.weight")?;
    let (ngf, input_nc) = (stem[0], stem[1]);
    let blocks: BTreeSet<usize> = dict
        .keys()
        .filter_map(|k| {
            let rest = k.strip_prefix("model.")?;
            let (index, rest) = rest.split_once('.')?;
            rest.starts_with("conv_block.")
                .then(|| index.parse().ok())?
        })
        .collect();
    let n_blocks = blocks.len();
    // CUT's anti-aliased down stages put a blur after each (model.7, model.11), so the
    // blocks start at 12; its anti-aliased up stages start with a blur.
    let antialias = dict.contains_key("model.7.filt");
    let first_block = if antialias { 12 } else { 10 };
    if blocks
        .iter()
        .copied()
        .ne(first_block..first_block + n_blocks)
    {
        return Err(format!("residual blocks at unexpected indices {blocks:?}"));
    }
    let antialias_up = dict.contains_key(&format!("model.{}.filt", first_block + n_blocks));
    let per_up = if antialias_up { 4 } else { 3 };
    let head = format!("model.{}.weight", first_block + n_blocks + 2 * per_up + 1);
    let output_nc = shape(dict, &head)
        .filter(|s| s.len() == 4 && s[1] == ngf)
        .ok_or_else(|| format!("no output conv at {head}"))?[0];
    let block = |rest: &str| format!("model.{first_block}.conv_block.{rest}");
    let (padding, dropout) = if n_blocks == 0 {
        (PaddingType::Reflect, false)
    } else if is_conv(dict, &block("0.weight")) {
        (PaddingType::Zero, is_conv(dict, &block("4.weight")))
    } else {
        (PaddingType::Reflect, is_conv(dict, &block("6.weight")))
    };
    Ok(ResnetGeneratorConfig::new(input_nc, output_nc)
        .with_ngf(ngf)
        .with_n_blocks(n_blocks)
        .with_norm(detect_norm(dict, "model.4", "model.5"))
        .with_dropout(dropout)
        .with_padding(padding)
        .with_antialias(antialias)
        .with_antialias_up(antialias_up))
}

/// The [`NLayerDiscriminatorConfig`] a state dict with official keys was made from.
pub fn detect_n_layer_discriminator(dict: &StateDict) -> Result<NLayerDiscriminatorConfig, String> {
    let first = shape(dict, "model.0.weight")
        .filter(|s| s.len() == 4 && s[2] == 4)
        .ok_or("not a PatchGAN discriminator: no 4x4 conv at model.0.weight")?;
    let (ndf, input_nc) = (first[0], first[1]);
    if dict.contains_key("model.2.filt") {
        // CUT's anti-aliased layout: layer convs at model.3, 7, 11, ..., the last conv three
        // modules after the last of them.
        let mut layers: usize = 0;
        while dict.contains_key(&format!("model.{}.weight", 3 + 4 * layers)) {
            layers += 1;
        }
        let last = shape(dict, &format!("model.{}.weight", 4 * layers + 2));
        if layers == 0 || last.map(|s| s[0]) != Some(1) {
            return Err("not a PatchGAN discriminator: no final 1-channel conv".into());
        }
        return Ok(NLayerDiscriminatorConfig::new(input_nc)
            .with_ndf(ndf)
            .with_n_layers(layers)
            .with_norm(detect_norm(dict, "model.3", "model.4"))
            .with_antialias(true));
    }
    // Convs at model.0, 2, 5, 8, ...: the last one has one output channel.
    let mut convs: usize = 0;
    while dict.contains_key(&format!("model.{}.weight", 2 + 3 * convs)) {
        convs += 1;
    }
    let last = shape(
        dict,
        &format!("model.{}.weight", 2 + 3 * convs.saturating_sub(1)),
    );
    if convs < 2 || last.map(|s| s[0]) != Some(1) {
        return Err("not a PatchGAN discriminator: no final 1-channel conv".into());
    }
    Ok(NLayerDiscriminatorConfig::new(input_nc)
        .with_ndf(ndf)
        .with_n_layers(convs - 1)
        .with_norm(detect_norm(dict, "model.2", "model.3")))
}

impl ResnetGenerator {
    /// Loads an official ResNet generator checkpoint (`.pth` or `.safetensors`) whatever
    /// it was trained as: channels, ngf, blocks, norm and dropout come from the tensors.
    pub fn from_pytorch(path: impl AsRef<Path>, device: &Device) -> Result<Self, CycleGanError> {
        let path = path.as_ref();
        let dict = read_state_dict(path)?;
        let config =
            detect_resnet_generator(&dict).map_err(|m| CycleGanError::checkpoint(path, m))?;
        config.init_seeded(device, 0).load_state_dict(&dict, path)
    }
}

impl NLayerDiscriminator {
    /// Loads an official PatchGAN checkpoint whatever it was trained as.
    pub fn from_pytorch(path: impl AsRef<Path>, device: &Device) -> Result<Self, CycleGanError> {
        let path = path.as_ref();
        let dict = read_state_dict(path)?;
        let config =
            detect_n_layer_discriminator(&dict).map_err(|m| CycleGanError::checkpoint(path, m))?;
        config.init_seeded(device, 0).load_state_dict(&dict, path)
    }
}

/// The configuration and map channels of an official netF (`PatchSampleF`) state dict: its
/// `mlp_{j}.0.weight` tensors (`[netF_nc, channels_j]`), in order.
pub fn detect_patch_sample_f(dict: &StateDict) -> Result<(PatchSampleFConfig, Vec<usize>), String> {
    let mut channels = Vec::new();
    let mut width = None;
    while let Some(first) = dict.get(&format!("mlp_{}.0.weight", channels.len())) {
        let [out, input] = first.shape[..] else {
            return Err(format!(
                "mlp_{}.0.weight has shape {:?}, not [netF_nc, channels]",
                channels.len(),
                first.shape
            ));
        };
        if width.is_some_and(|w| w != out) {
            return Err(format!(
                "mlp_{}.0.weight is {out} wide where the first MLP is {}",
                channels.len(),
                width.unwrap_or_default()
            ));
        }
        width = Some(out);
        channels.push(input);
    }
    let Some(netf_nc) = width else {
        return Err(
            "no mlp_0.0.weight: not a netF (mlp_sample) checkpoint (netF `sample` has no weights)"
                .into(),
        );
    };
    Ok((PatchSampleFConfig::new().with_netf_nc(netf_nc), channels))
}

impl PatchSampleF {
    /// Loads an official CUT netF checkpoint (`latest_net_F.pth` of `--netF mlp_sample`): the
    /// number of maps, their channels and netF_nc come from the tensors.
    pub fn from_pytorch(path: impl AsRef<Path>, device: &Device) -> Result<Self, CycleGanError> {
        let path = path.as_ref();
        let dict = read_state_dict(path)?;
        let (config, channels) =
            detect_patch_sample_f(&dict).map_err(|m| CycleGanError::checkpoint(path, m))?;
        config
            .init_seeded(&channels, device, 0)
            .load_state_dict(&dict, path)
    }
}
