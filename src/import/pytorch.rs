//! Official state-dict key names for every network, and moving weights between Burn modules
//! and [`StateDict`]s.
//!
//! Each network knows which of its layers corresponds to which official `nn.Sequential`
//! index ([`PytorchLayout`]). A parameter's official key is its layer's prefix plus the leaf
//! name, with Burn's norm names mapped back (`gamma` → `weight`, `beta` → `bias`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

use super::pth::write_pth;
use super::state_dict::{HostTensor, StateDict, natural_key, read_state_dict, write_safetensors};
use crate::cut::PatchSampleF;
use crate::error::CycleGanError;
use crate::model::antialias::{downsample_filter, upsample_filter};
use crate::model::{
    CycleGanNets, Discriminator, Generator, NLayerDiscriminator, PaddingType, PixelDiscriminator,
    ResnetGenerator, UnetGenerator, UnetRole,
};

/// A network whose layers have official PyTorch state-dict names.
pub trait PytorchLayout: Module + Sized {
    /// Pairs of (Burn module path of a layer, official key prefix of that layer), e.g.
    /// `("blocks.0.conv1", "model.10.conv_block.1")`.
    fn pytorch_layers(&self) -> Vec<(String, String)>;

    /// Fixed tensors the official state dict carries beside the parameters (the blur
    /// filters of CUT's anti-aliased layers, registered buffers there), by official key.
    /// Saved with the weights; on load they must be there with these values.
    fn pytorch_buffers(&self) -> Vec<(String, HostTensor)> {
        Vec::new()
    }

    /// The Burn paths of the 2-D parameters that the official model stores transposed
    /// (`nn.Linear` weights: `[out, in]` there, `[in, out]` in Burn).
    fn pytorch_transposed(&self) -> BTreeSet<String> {
        BTreeSet::new()
    }

    /// The official key of every parameter, by Burn parameter path.
    fn pytorch_keys(&self) -> BTreeMap<String, String> {
        let layers: BTreeMap<String, String> = self.pytorch_layers().into_iter().collect();
        param_paths(self)
            .into_iter()
            .map(|(path, _)| {
                let (layer, leaf) = path.rsplit_once('.').unwrap_or(("", &path));
                let prefix = layers
                    .get(layer)
                    .unwrap_or_else(|| panic!("no official name for layer `{layer}`"));
                let leaf = match leaf {
                    "gamma" => "weight",
                    "beta" => "bias",
                    other => other,
                };
                let key = format!("{prefix}.{leaf}");
                (path, key)
            })
            .collect()
    }

    /// The weights as a state dict with the official key names.
    fn to_state_dict(&self) -> StateDict {
        let keys = self.pytorch_keys();
        let mut collector = Collector {
            path: PathTracker::default(),
            out: StateDict::new(),
        };
        self.visit(&mut collector);
        let transposed = self.pytorch_transposed();
        collector
            .out
            .into_iter()
            .map(|(path, tensor)| official_entry(&keys, &transposed, path, tensor))
            .chain(self.pytorch_buffers())
            .collect()
    }

    /// Replaces every weight with the one of the same official name in `dict`.
    ///
    /// Every parameter must be present with its exact shape, and every floating-point entry
    /// of `dict` must be used, except entries that the official model ignores (InstanceNorm
    /// running statistics of old checkpoints). Otherwise the error lists the missing,
    /// unexpected and wrongly shaped keys (the first few of each) with a hint. `source` names
    /// the file in errors.
    fn load_state_dict(self, dict: &StateDict, source: &Path) -> Result<Self, CycleGanError> {
        let keys = self.pytorch_keys();
        let transposed = self.pytorch_transposed();
        let mut missing = Vec::new();
        let mut wrong_shape = Vec::new();
        // In the network's own layer order, so that the first entries listed are the first
        // layers that differ.
        for (path, mut shape) in param_paths(&self) {
            if transposed.contains(&path) {
                shape.reverse();
            }
            let key = &keys[&path];
            match dict.get(key) {
                None => missing.push(key.clone()),
                Some(t) if t.shape != shape => wrong_shape.push(format!(
                    "{key} (checkpoint {:?}, model {:?})",
                    t.shape, shape
                )),
                Some(_) => {}
            }
        }
        let buffers = self.pytorch_buffers();
        for (key, buffer) in &buffers {
            match dict.get(key) {
                None => missing.push(key.clone()),
                Some(t) if t.shape != buffer.shape => wrong_shape.push(format!(
                    "{key} (checkpoint {:?}, model {:?})",
                    t.shape, buffer.shape
                )),
                Some(t) if t.values != buffer.values => wrong_shape.push(format!(
                    "{key} (a fixed filter whose values differ from the official one)"
                )),
                Some(_) => {}
            }
        }
        let wanted: BTreeSet<&String> = keys
            .values()
            .chain(buffers.iter().map(|(key, _)| key))
            .collect();
        let mut unexpected: Vec<String> = dict
            .keys()
            .filter(|k| !wanted.contains(k) && !is_ignored_key(k, &wanted))
            .cloned()
            .collect();
        unexpected.sort_by_key(|k| natural_key(k));
        if !missing.is_empty() || !wrong_shape.is_empty() || !unexpected.is_empty() {
            return Err(CycleGanError::checkpoint(
                source,
                mismatch_message(&missing, &unexpected, &wrong_shape),
            ));
        }
        let by_path: BTreeMap<String, HostTensor> = keys
            .iter()
            .map(|(path, key)| {
                let official = &dict[key];
                let tensor = if transposed.contains(path) {
                    official.transposed()
                } else {
                    official.clone()
                };
                (path.clone(), tensor)
            })
            .collect();
        let mut loader = Loader {
            path: PathTracker::default(),
            tensors: by_path,
        };
        Ok(self.map(&mut loader))
    }

    /// Loads an official checkpoint (`.pth`, `.pt` or `.safetensors`, by extension) into this
    /// network, whose architecture must match the checkpoint's.
    fn load_pytorch(self, path: impl AsRef<Path>, _device: &Device) -> Result<Self, CycleGanError> {
        let path = path.as_ref();
        let dict = read_state_dict(path)?;
        self.load_state_dict(&dict, path)
    }

    /// Saves the weights under the official key names and layouts, as `.pth` (PyTorch's zip
    /// format, loadable with `torch.load` + `load_state_dict(strict=True)`) or
    /// `.safetensors`, by extension. Written atomically.
    fn save_pytorch(&self, path: impl AsRef<Path>) -> Result<(), CycleGanError> {
        let path = path.as_ref();
        match super::state_dict::CheckpointFormat::of(path)? {
            super::state_dict::CheckpointFormat::Safetensors => {
                write_safetensors(path, &self.to_state_dict(), None)
            }
            super::state_dict::CheckpointFormat::Pth => write_pth(path, &self.to_state_dict(), 0),
        }
    }
}

/// Keys the official model carries but never uses: running statistics of InstanceNorm layers
/// (old PyTorch versions saved them) and BatchNorm's `num_batches_tracked`.
fn is_ignored_key(key: &str, wanted: &BTreeSet<&String>) -> bool {
    let Some((prefix, leaf)) = key.rsplit_once('.') else {
        return false;
    };
    match leaf {
        "num_batches_tracked" => true,
        // Running stats of a layer that has no weight in the model: an InstanceNorm.
        "running_mean" | "running_var" => !wanted.contains(&format!("{prefix}.running_mean")),
        _ => false,
    }
}

fn mismatch_message(missing: &[String], unexpected: &[String], wrong_shape: &[String]) -> String {
    const SHOW: usize = 5;
    let list = |items: &[String]| {
        let mut s = items
            .iter()
            .take(SHOW)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if items.len() > SHOW {
            s.push_str(&format!(", ... ({} in all)", items.len()));
        }
        s
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing keys: {}", list(missing)));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected keys: {}", list(unexpected)));
    }
    if !wrong_shape.is_empty() {
        parts.push(format!("wrong shapes: {}", list(wrong_shape)));
    }
    let mut message = format!("does not fit the network; {}", parts.join("; "));
    let all: Vec<&String> = missing.iter().chain(unexpected).collect();
    let hint = if all.iter().any(|k| k.contains("conv_block.6.weight"))
        && unexpected.iter().any(|k| k.contains("conv_block.6"))
    {
        Some(
            "the checkpoint has the dropout layout (second conv at conv_block.6): build the generator with dropout",
        )
    } else if missing.iter().any(|k| k.contains("conv_block.6")) {
        Some("the network has dropout but the checkpoint does not: build it with dropout off")
    } else if unexpected.iter().any(|k| k.ends_with("running_mean"))
        || missing.iter().any(|k| k.ends_with("running_mean"))
    {
        Some("the norm layers differ (batch vs instance): check the norm")
    } else if !wrong_shape.is_empty() {
        Some(
            "the layer sizes differ: check ngf/ndf, input_nc/output_nc and the number of blocks or layers",
        )
    } else if !unexpected.is_empty() || !missing.is_empty() {
        Some("the architectures differ: check net_g / net_d, n_blocks or n_layers_d and the norm")
    } else {
        None
    };
    if let Some(hint) = hint {
        message.push_str(&format!(" (hint: {hint})"));
    }
    message
}

/// Tracks the dotted Burn path of the parameter being visited, leaving out enum variant names.
#[derive(Default)]
struct PathTracker {
    segments: Vec<Option<String>>,
}

impl PathTracker {
    fn enter(&mut self, name: &str, container_type: &str) {
        let skip = container_type.starts_with("Enum:");
        self.segments.push((!skip).then(|| name.to_string()));
    }

    fn exit(&mut self) {
        self.segments.pop();
    }

    fn current(&self) -> String {
        self.segments
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(".")
    }
}

struct ShapeCollector {
    path: PathTracker,
    out: Vec<(String, Vec<usize>)>,
}

impl ModuleVisitor for ShapeCollector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out
            .push((self.path.current(), param.lazy_shape().dims::<D>().to_vec()));
    }
}

/// The Burn path and shape of every float parameter (buffers such as BatchNorm running
/// statistics included), in visiting order.
pub fn param_paths<M: Module>(module: &M) -> Vec<(String, Vec<usize>)> {
    let mut collector = ShapeCollector {
        path: PathTracker::default(),
        out: Vec::new(),
    };
    module.visit(&mut collector);
    collector.out
}

/// The number of trainable parameters, counted as PyTorch's `sum(p.numel() for p in
/// net.parameters())` does: BatchNorm running statistics are buffers, not parameters.
pub fn trainable_param_count<M: Module>(module: &M) -> usize {
    param_paths(module)
        .into_iter()
        .filter(|(path, _)| !path.ends_with("running_mean") && !path.ends_with("running_var"))
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum()
}

struct Collector {
    path: PathTracker,
    out: StateDict,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("f32 data");
        self.out
            .insert(self.path.current(), HostTensor { shape, values });
    }
}

struct Loader {
    path: PathTracker,
    tensors: BTreeMap<String, HostTensor>,
}

impl ModuleMapper for Loader {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.current();
        let Some(host) = self.tensors.get(&path) else {
            return param;
        };
        let (id, old, mapper) = param.consume();
        let device = old.device();
        let require_grad = old.is_require_grad();
        let mut tensor = Tensor::<D>::from_data(
            TensorData::new(host.values.clone(), host.shape.clone()),
            &device,
        );
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}

impl PytorchLayout for ResnetGenerator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        let layout = GeneratorIndices::of(self);
        let mut layers = vec![
            ("stem.conv".to_string(), "model.1".to_string()),
            ("stem.norm".into(), "model.2".into()),
        ];
        for i in 0..self.down.len() {
            let conv = layout.down_conv(i);
            layers.push((format!("down.{i}.conv"), format!("model.{conv}")));
            layers.push((format!("down.{i}.norm"), format!("model.{}", conv + 1)));
        }
        for (b, block) in self.blocks.iter().enumerate() {
            let pad_layer = usize::from(block.padding != PaddingType::Zero);
            let conv1 = pad_layer;
            // [pad], conv, norm, relu, [dropout], [pad], conv, norm
            let conv2 = conv1 + 3 + usize::from(block.dropout.is_some()) + pad_layer;
            let base = format!("model.{}.conv_block", layout.blocks + b);
            layers.push((format!("blocks.{b}.conv1"), format!("{base}.{conv1}")));
            layers.push((format!("blocks.{b}.norm1"), format!("{base}.{}", conv1 + 1)));
            layers.push((format!("blocks.{b}.conv2"), format!("{base}.{conv2}")));
            layers.push((format!("blocks.{b}.norm2"), format!("{base}.{}", conv2 + 1)));
        }
        let up_name = if self.up_resampled.is_empty() {
            "up"
        } else {
            "up_resampled"
        };
        for i in 0..self.up.len() + self.up_resampled.len() {
            let conv = layout.up_conv(i);
            layers.push((format!("{up_name}.{i}.conv"), format!("model.{conv}")));
            layers.push((format!("{up_name}.{i}.norm"), format!("model.{}", conv + 1)));
        }
        layers.push(("head".into(), format!("model.{}", layout.head())));
        layers
    }

    fn pytorch_buffers(&self) -> Vec<(String, HostTensor)> {
        let layout = GeneratorIndices::of(self);
        let mut buffers = Vec::new();
        if self.antialias {
            // After each down stage's ReLU: [C, 1, 3, 3] copies of [1, 2, 1]² / 16.
            for (i, down) in self.down.iter().enumerate() {
                let channels = down.conv.weight.dims()[0];
                let key = format!("model.{}.filt", layout.down_conv(i) + 3);
                buffers.push((key, blur_filter(downsample_filter(channels))));
            }
        }
        for (i, up) in self.up_resampled.iter().enumerate() {
            // Before each up conv: [C_in, 1, 4, 4] copies of [1, 3, 3, 1]² / 64 · 4.
            let channels = up.conv.weight.dims()[1];
            let key = format!("model.{}.filt", layout.up_conv(i) - 1);
            buffers.push((key, blur_filter(upsample_filter(channels))));
        }
        buffers
    }
}

/// The official `model.N` indices of a ResNet generator's layers, CycleGAN's or CUT's
/// anti-aliased ones: a down stage is conv / norm / ReLU (/ blur), an up stage
/// (upsample /) conv / norm / ReLU.
struct GeneratorIndices {
    per_down: usize,
    per_up: usize,
    /// Index of the first residual block.
    blocks: usize,
    n_blocks: usize,
    up_resampled: bool,
}

impl GeneratorIndices {
    fn of(generator: &ResnetGenerator) -> Self {
        let per_down = if generator.antialias { 4 } else { 3 };
        Self {
            per_down,
            per_up: if generator.up_resampled.is_empty() {
                3
            } else {
                4
            },
            blocks: 4 + 2 * per_down,
            n_blocks: generator.blocks.len(),
            up_resampled: !generator.up_resampled.is_empty(),
        }
    }

    fn down_conv(&self, i: usize) -> usize {
        4 + self.per_down * i
    }

    fn up_conv(&self, i: usize) -> usize {
        self.blocks + self.n_blocks + self.per_up * i + usize::from(self.up_resampled)
    }

    /// The output conv, after the reflection pad that follows the up stages.
    fn head(&self) -> usize {
        self.blocks + self.n_blocks + 2 * self.per_up + 1
    }
}

/// A blur layer's fixed filter as a state-dict entry.
fn blur_filter((values, shape): (Vec<f32>, [usize; 4])) -> HostTensor {
    HostTensor {
        shape: shape.to_vec(),
        values,
    }
}

impl PytorchLayout for NLayerDiscriminator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        // CycleGAN: conv / norm / LeakyReLU per layer from model.2; CUT's anti-aliased
        // layout adds a blur after the first conv and after each downsampling layer.
        let (start, per_layer) = if self.antialias { (3, 4) } else { (2, 3) };
        let mut layers = vec![("first".to_string(), "model.0".to_string())];
        for j in 0..self.layers.len() {
            let conv = start + per_layer * j;
            layers.push((format!("layers.{j}.conv"), format!("model.{conv}")));
            layers.push((format!("layers.{j}.norm"), format!("model.{}", conv + 1)));
        }
        // Three modules (conv, norm, LeakyReLU) after the stride-1 layer's conv.
        let last = start + per_layer * (self.layers.len().max(1) - 1) + 3;
        layers.push(("last".into(), format!("model.{last}")));
        layers
    }

    fn pytorch_buffers(&self) -> Vec<(String, HostTensor)> {
        if !self.antialias {
            return Vec::new();
        }
        // model.2 after the first conv, then model.6, model.10, ... after each downsampling
        // layer: [channels, 1, 3, 3] copies of [1, 2, 1] ⊗ [1, 2, 1] / 16.
        let mut channels = vec![self.first.weight.dims()[0]];
        let downsampling = self.layers.len().saturating_sub(1);
        channels.extend(
            self.layers[..downsampling]
                .iter()
                .map(|layer| layer.conv.weight.dims()[0]),
        );
        channels
            .into_iter()
            .enumerate()
            .map(|(j, c)| {
                let filter = blur_filter(downsample_filter(c));
                (format!("model.{}.filt", 2 + 4 * j), filter)
            })
            .collect()
    }
}

impl PytorchLayout for PixelDiscriminator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        [
            ("first", "net.0"),
            ("middle.conv", "net.2"),
            ("middle.norm", "net.3"),
            ("last", "net.5"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }
}

impl PytorchLayout for UnetGenerator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        let mut layers = Vec::new();
        let mut prefix = "model.model".to_string();
        for (d, block) in self.blocks.iter().enumerate() {
            let names: &[(&str, usize)] = match block.role {
                UnetRole::Outermost => &[("down_conv", 0), ("up_conv", 3)],
                UnetRole::Innermost => &[("down_conv", 1), ("up_conv", 3), ("up_norm", 4)],
                UnetRole::Middle | UnetRole::MiddleWithDropout => &[
                    ("down_conv", 1),
                    ("down_norm", 2),
                    ("up_conv", 5),
                    ("up_norm", 6),
                ],
            };
            for (field, index) in names {
                layers.push((format!("blocks.{d}.{field}"), format!("{prefix}.{index}")));
            }
            // The next level is this level's submodule: index 1 at the outermost level, 3 inside.
            let sub = if block.role == UnetRole::Outermost {
                1
            } else {
                3
            };
            prefix = format!("{prefix}.{sub}.model");
        }
        // Identity norms have no parameters, so they need no names.
        layers
    }
}

struct GradientCollector<'a> {
    path: PathTracker,
    grads: &'a burn::optim::GradientsParams,
    out: StateDict,
}

impl ModuleVisitor for GradientCollector<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let shape = grad.dims().to_vec();
            let values = grad
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("f32 data");
            self.out
                .insert(self.path.current(), HostTensor { shape, values });
        }
    }
}

/// The gradients in `grads` of `module`'s parameters, under the official key names.
pub fn gradients_state_dict<M: PytorchLayout>(
    module: &M,
    grads: &burn::optim::GradientsParams,
) -> StateDict {
    let keys = module.pytorch_keys();
    let mut collector = GradientCollector {
        path: PathTracker::default(),
        grads,
        out: StateDict::new(),
    };
    module.visit(&mut collector);
    let transposed = module.pytorch_transposed();
    collector
        .out
        .into_iter()
        .map(|(path, tensor)| official_entry(&keys, &transposed, path, tensor))
        .collect()
}

/// A parameter (or its gradient) at Burn path `path` under its official key and layout.
fn official_entry(
    keys: &BTreeMap<String, String>,
    transposed: &BTreeSet<String>,
    path: String,
    tensor: HostTensor,
) -> (String, HostTensor) {
    let tensor = if transposed.contains(&path) {
        tensor.transposed()
    } else {
        tensor
    };
    (keys[&path].clone(), tensor)
}

impl PytorchLayout for PatchSampleF {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        (0..self.mlps.len())
            .flat_map(|j| {
                [
                    (format!("mlps.{j}.first"), format!("mlp_{j}.0")),
                    (format!("mlps.{j}.second"), format!("mlp_{j}.2")),
                ]
            })
            .collect()
    }

    fn pytorch_transposed(&self) -> BTreeSet<String> {
        (0..self.mlps.len())
            .flat_map(|j| {
                [
                    format!("mlps.{j}.first.weight"),
                    format!("mlps.{j}.second.weight"),
                ]
            })
            .collect()
    }
}

impl PytorchLayout for Generator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        match self {
            Generator::Resnet(g) => g.pytorch_layers(),
            Generator::Unet(g) => g.pytorch_layers(),
        }
    }

    fn pytorch_buffers(&self) -> Vec<(String, HostTensor)> {
        match self {
            Generator::Resnet(g) => g.pytorch_buffers(),
            Generator::Unet(g) => g.pytorch_buffers(),
        }
    }
}

impl PytorchLayout for Discriminator {
    fn pytorch_layers(&self) -> Vec<(String, String)> {
        match self {
            Discriminator::NLayer(d) => d.pytorch_layers(),
            Discriminator::Pixel(d) => d.pytorch_layers(),
        }
    }

    fn pytorch_buffers(&self) -> Vec<(String, HostTensor)> {
        match self {
            Discriminator::NLayer(d) => d.pytorch_buffers(),
            Discriminator::Pixel(d) => d.pytorch_buffers(),
        }
    }
}

impl CycleGanNets {
    /// Loads the four nets from official checkpoints named as the official code saves them,
    /// `<dir>/<prefix>_net_{G_A,G_B,D_A,D_B}.<ext>` (e.g. `latest_net_G_A.pth`).
    pub fn load_pytorch_dir(
        self,
        dir: impl AsRef<Path>,
        prefix: &str,
        ext: &str,
        device: &Device,
    ) -> Result<Self, CycleGanError> {
        let file = |name: &str| official_net_file(dir.as_ref(), prefix, name, ext);
        Ok(Self {
            g_a: self.g_a.load_pytorch(file("G_A"), device)?,
            g_b: self.g_b.load_pytorch(file("G_B"), device)?,
            d_a: self.d_a.load_pytorch(file("D_A"), device)?,
            d_b: self.d_b.load_pytorch(file("D_B"), device)?,
        })
    }
}

/// `<dir>/<prefix>_net_<name>.<ext>`: where the official code saves network `name` (`G_A`,
/// `D_B`, CUT's `G`, `F`, ...) under the label `prefix` (`latest`, an epoch).
pub fn official_net_file(dir: &Path, prefix: &str, name: &str, ext: &str) -> std::path::PathBuf {
    dir.join(format!("{prefix}_net_{name}.{ext}"))
}
