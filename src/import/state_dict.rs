//! A framework-neutral state dict: named f32 tensors on the host, read from and written to
//! `.safetensors` and `.pth` files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::CycleGanError;

/// One tensor on the host: a shape and its values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

impl HostTensor {
    /// The transpose of a 2-D tensor (PyTorch's `nn.Linear` weight is `[out, in]`, Burn's
    /// `[in, out]`).
    ///
    /// # Panics
    ///
    /// If the tensor is not 2-D.
    pub fn transposed(&self) -> HostTensor {
        let [rows, cols] = self.shape[..] else {
            panic!("transposing a tensor of shape {:?}", self.shape);
        };
        let mut values = vec![0.0; self.values.len()];
        for r in 0..rows {
            for c in 0..cols {
                values[c * rows + r] = self.values[r * cols + c];
            }
        }
        HostTensor {
            shape: vec![cols, rows],
            values,
        }
    }
}

/// Named tensors in key order, as a PyTorch `state_dict()`.
pub type StateDict = BTreeMap<String, HostTensor>;

/// Prefixes that wrappers add to every key and that are stripped on reading:
/// `module.` (DataParallel) and `_orig_mod.` (torch.compile).
const WRAPPER_PREFIXES: [&str; 2] = ["module.", "_orig_mod."];

fn strip_wrappers(mut key: &str) -> String {
    while let Some(prefix) = WRAPPER_PREFIXES.iter().find(|p| key.starts_with(*p)) {
        key = &key[prefix.len()..];
    }
    // Community ports name the residual Sequential `block` instead of `conv_block`.
    match key.strip_prefix("model.").and_then(|r| r.split_once('.')) {
        Some((index, rest)) if index.parse::<usize>().is_ok() && rest.starts_with("block.") => {
            format!("model.{index}.conv_{rest}")
        }
        _ => key.to_string(),
    }
}

/// The checkpoint format, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointFormat {
    /// `.safetensors`.
    Safetensors,
    /// `.pth` / `.pt`: PyTorch's zip format or the legacy pre-1.6 format.
    Pth,
}

impl CheckpointFormat {
    /// The format of `path` by its extension.
    pub fn of(path: &Path) -> Result<Self, CycleGanError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("safetensors") => Ok(Self::Safetensors),
            Some("pth") | Some("pt") => Ok(Self::Pth),
            _ => Err(CycleGanError::checkpoint(
                path,
                "unknown checkpoint extension: expected .pth, .pt or .safetensors",
            )),
        }
    }
}

/// Reads every floating-point tensor of a checkpoint, converted to f32, with `module.` and
/// `_orig_mod.` prefixes stripped. Integer tensors (such as BatchNorm's
/// `num_batches_tracked`) are skipped.
pub fn read_state_dict(path: impl AsRef<Path>) -> Result<StateDict, CycleGanError> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(CycleGanError::checkpoint(path, "file not found"));
    }
    match CheckpointFormat::of(path)? {
        CheckpointFormat::Safetensors => {
            let bytes = std::fs::read(path).map_err(|e| CycleGanError::io(path, e))?;
            if bytes.is_empty() {
                return Err(CycleGanError::checkpoint(path, "the file is empty"));
            }
            parse_safetensors(&bytes, path)
        }
        CheckpointFormat::Pth => {
            let len = std::fs::metadata(path)
                .map_err(|e| CycleGanError::io(path, e))?
                .len();
            if len == 0 {
                return Err(CycleGanError::checkpoint(path, "the file is empty"));
            }
            parse_pth_file(path, len as usize)
        }
    }
}

/// The floating-point element types a checkpoint may store; everything is read as f32.
#[derive(Debug, Clone, Copy)]
enum FloatKind {
    F32,
    F64,
    F16,
    BF16,
}

impl FloatKind {
    fn width(self) -> usize {
        match self {
            FloatKind::F64 => 8,
            FloatKind::F32 => 4,
            FloatKind::F16 | FloatKind::BF16 => 2,
        }
    }

    /// Little-endian bytes to f32 values.
    fn decode(self, bytes: &[u8]) -> Vec<f32> {
        let chunks = bytes.chunks_exact(self.width());
        match self {
            FloatKind::F32 => chunks
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            FloatKind::F64 => chunks
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
            FloatKind::F16 => chunks
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            FloatKind::BF16 => chunks
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        }
    }
}

/// The floating-point tensors of a `.safetensors` file's bytes, as [`read_state_dict`]
/// reads them; `path` names the file in errors. (A `.pth` file is read from its path: a
/// PyTorch container keeps tensor data outside its pickle, and Burn's reader takes files.)
pub fn parse_safetensors(bytes: &[u8], path: &Path) -> Result<StateDict, CycleGanError> {
    use safetensors::Dtype;
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
        CycleGanError::checkpoint(path, format!("not a valid safetensors file: {e}"))
    })?;
    let mut dict = StateDict::new();
    for (name, view) in file.iter() {
        let kind = match view.dtype() {
            Dtype::F32 => FloatKind::F32,
            Dtype::F64 => FloatKind::F64,
            Dtype::F16 => FloatKind::F16,
            Dtype::BF16 => FloatKind::BF16,
            _ => continue,
        };
        dict.insert(
            strip_wrappers(name),
            HostTensor {
                shape: view.shape().to_vec(),
                values: kind.decode(view.data()),
            },
        );
    }
    Ok(dict)
}

fn parse_pth_file(path: &Path, file_len: usize) -> Result<StateDict, CycleGanError> {
    use burn::store::pytorch_reader::{DType, PytorchReader};
    let reader = PytorchReader::new(path).map_err(|e| {
        CycleGanError::checkpoint(path, format!("not a readable PyTorch checkpoint: {e}"))
    })?;
    let mut dict = StateDict::new();
    for (name, tensor) in reader.tensors() {
        let kind = match tensor.dtype() {
            DType::F32 => FloatKind::F32,
            DType::F64 => FloatKind::F64,
            DType::F16 => FloatKind::F16,
            DType::BF16 => FloatKind::BF16,
            _ => continue,
        };
        let shape = tensor.shape().to_vec();
        let claimed = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        // Storages are stored uncompressed: no tensor holds more bytes than the file.
        if claimed
            .and_then(|n| n.checked_mul(kind.width()))
            .is_none_or(|b| b > file_len)
        {
            return Err(CycleGanError::checkpoint(
                path,
                format!("tensor `{name}` claims shape {shape:?}, more data than the file holds"),
            ));
        }
        let bytes = tensor
            .read()
            .map_err(|e| CycleGanError::checkpoint(path, format!("tensor `{name}`: {e}")))?;
        let values = kind.decode(&bytes);
        if values.len() != shape.iter().product::<usize>() {
            return Err(CycleGanError::checkpoint(
                path,
                format!(
                    "tensor `{name}` has {} values for shape {shape:?}",
                    values.len()
                ),
            ));
        }
        dict.insert(strip_wrappers(name), HostTensor { shape, values });
    }
    Ok(dict)
}

/// Writes `dict` as a `.safetensors` file (f32), atomically: to a temporary file in the
/// same folder, flushed, then renamed over `path`.
pub fn write_safetensors(
    path: impl AsRef<Path>,
    dict: &StateDict,
    metadata: Option<std::collections::HashMap<String, String>>,
) -> Result<(), CycleGanError> {
    use safetensors::tensor::TensorView;
    let path = path.as_ref();
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = dict
        .iter()
        .map(|(name, t)| {
            let raw = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), raw, t.shape.clone())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, raw, shape)| {
            TensorView::new(safetensors::Dtype::F32, shape.clone(), raw).map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CycleGanError::checkpoint(path, format!("cannot serialise: {e}")))?;
    let data = safetensors::serialize(views, metadata)
        .map_err(|e| CycleGanError::checkpoint(path, format!("cannot serialise: {e}")))?;
    crate::io::write_atomic(path, &data)
}

/// Sort key that orders `model.2` before `model.10`.
pub(crate) fn natural_key(key: &str) -> Vec<(u64, String)> {
    key.split('.')
        .map(|part| match part.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (u64::MAX, part.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_prefixes_are_stripped() {
        assert_eq!(strip_wrappers("module.model.1.weight"), "model.1.weight");
        assert_eq!(
            strip_wrappers("_orig_mod.module.model.1.weight"),
            "model.1.weight"
        );
        assert_eq!(strip_wrappers("model.1.weight"), "model.1.weight");
        assert_eq!(
            strip_wrappers("model.10.block.1.weight"),
            "model.10.conv_block.1.weight"
        );
    }

    #[test]
    fn half_precision_values() {
        let bytes = [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b];
        assert_eq!(
            FloatKind::F16.decode(&bytes),
            vec![1.0, -2.0, 2f32.powi(-24), 65504.0]
        );
        // bfloat16: the upper half of an f32.
        assert_eq!(
            FloatKind::BF16.decode(&[0x80, 0x3f, 0x00, 0xc0]),
            vec![1.0, -2.0]
        );
    }

    #[test]
    fn safetensors_round_trip() {
        let dir = std::env::temp_dir().join(format!("cyclegan-burn-sd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.safetensors");
        let mut dict = StateDict::new();
        dict.insert(
            "model.1.weight".into(),
            HostTensor {
                shape: vec![2, 3],
                values: vec![1.0, -2.5, 3.25, 0.0, f32::MIN_POSITIVE, 7.0],
            },
        );
        write_safetensors(&path, &dict, None).unwrap();
        assert_eq!(read_state_dict(&path).unwrap(), dict);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_extension_is_an_error() {
        let err = CheckpointFormat::of(Path::new("net.ckpt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("net.ckpt") && err.contains(".pth"), "{err}");
    }
}
