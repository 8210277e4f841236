//! Writing PyTorch `.pth` files: the zip format of `torch.save` (PyTorch ≥ 1.6), holding a
//! pickled `OrderedDict` of tensors rebuilt with `torch._utils._rebuild_tensor_v2`. The
//! pickle uses only names that `torch.load(weights_only=True)` accepts.

use std::io::{Cursor, Write};
use std::path::Path;

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::state_dict::{StateDict, natural_key};
use crate::error::CycleGanError;

/// Pickle protocol-2 opcodes used here.
mod op {
    pub const PROTO: u8 = 0x80;
    pub const GLOBAL: u8 = b'c';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const REDUCE: u8 = b'R';
    pub const MARK: u8 = b'(';
    pub const TUPLE: u8 = b't';
    pub const BINUNICODE: u8 = b'X';
    pub const BININT: u8 = b'J';
    pub const LONG1: u8 = 0x8a;
    pub const NEWFALSE: u8 = 0x89;
    pub const BINPERSID: u8 = b'Q';
    pub const SETITEMS: u8 = b'u';
    pub const STOP: u8 = b'.';
}

struct Pickler {
    out: Vec<u8>,
}

impl Pickler {
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(op::GLOBAL);
        self.out
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }

    fn string(&mut self, s: &str) {
        self.out.push(op::BINUNICODE);
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn int(&mut self, v: i64) {
        if let Ok(small) = i32::try_from(v) {
            self.out.push(op::BININT);
            self.out.extend_from_slice(&small.to_le_bytes());
        } else {
            self.out.push(op::LONG1);
            self.out.push(8);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn int_tuple(&mut self, values: &[usize]) {
        self.out.push(op::MARK);
        for &v in values {
            self.int(v as i64);
        }
        self.out.push(op::TUPLE);
    }

    fn empty_ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.out.push(op::EMPTY_TUPLE);
        self.out.push(op::REDUCE);
    }

    /// `_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`, the storage
    /// being the persistent id `('storage', torch.<kind>, key, 'cpu', numel)`.
    fn tensor(&mut self, storage_kind: &str, key: &str, shape: &[usize]) {
        let numel: usize = shape.iter().product();
        let mut stride = vec![1usize; shape.len()];
        for i in (0..shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * shape[i + 1];
        }
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(op::MARK);
        self.out.push(op::MARK);
        self.string("storage");
        self.global("torch", storage_kind);
        self.string(key);
        self.string("cpu");
        self.int(numel as i64);
        self.out.push(op::TUPLE);
        self.out.push(op::BINPERSID);
        self.int(0);
        self.int_tuple(shape);
        self.int_tuple(&stride);
        self.out.push(op::NEWFALSE);
        self.empty_ordered_dict();
        self.out.push(op::TUPLE);
        self.out.push(op::REDUCE);
    }
}

/// A state-dict entry to write: f32 values, or an int64 scalar buffer such as BatchNorm's
/// `num_batches_tracked`.
pub enum PthValue<'a> {
    /// A float tensor.
    F32(&'a [usize], &'a [f32]),
    /// An int64 tensor.
    I64(&'a [usize], &'a [i64]),
}

/// The bytes of a `.pth` file holding `entries` in order.
pub fn pth_bytes(archive: &str, entries: &[(String, PthValue<'_>)]) -> Result<Vec<u8>, String> {
    let mut pickler = Pickler {
        out: vec![op::PROTO, 2],
    };
    pickler.empty_ordered_dict();
    pickler.out.push(op::MARK);
    for (index, (name, value)) in entries.iter().enumerate() {
        pickler.string(name);
        match value {
            PthValue::F32(shape, _) => pickler.tensor("FloatStorage", &index.to_string(), shape),
            PthValue::I64(shape, _) => pickler.tensor("LongStorage", &index.to_string(), shape),
        }
    }
    pickler.out.push(op::SETITEMS);
    pickler.out.push(op::STOP);

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // PyTorch aligns storages to 64 bytes; stored (uncompressed) entries as torch.save writes.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .with_alignment(64);
    let err = |e: zip::result::ZipError| e.to_string();
    zip.start_file(format!("{archive}/data.pkl"), options)
        .map_err(err)?;
    zip.write_all(&pickler.out).map_err(|e| e.to_string())?;
    zip.start_file(format!("{archive}/byteorder"), options)
        .map_err(err)?;
    zip.write_all(b"little").map_err(|e| e.to_string())?;
    for (index, (_, value)) in entries.iter().enumerate() {
        zip.start_file(format!("{archive}/data/{index}"), options)
            .map_err(err)?;
        let bytes: Vec<u8> = match value {
            PthValue::F32(_, values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            PthValue::I64(_, values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    zip.start_file(format!("{archive}/version"), options)
        .map_err(err)?;
    zip.write_all(b"3\n").map_err(|e| e.to_string())?;
    Ok(zip.finish().map_err(err)?.into_inner())
}

/// Writes `dict` as a `.pth` file that `torch.load` reads as an `OrderedDict` state dict.
/// For every `<layer>.running_mean` a `<layer>.num_batches_tracked` (int64, `batches`) is
/// added, as BatchNorm's `state_dict()` has it. Written atomically.
pub fn write_pth(path: &Path, dict: &StateDict, batches: i64) -> Result<(), CycleGanError> {
    let counts: Vec<(String, [i64; 1])> = dict
        .keys()
        .filter_map(|k| k.strip_suffix(".running_mean"))
        .map(|layer| (format!("{layer}.num_batches_tracked"), [batches]))
        .collect();
    let mut entries: Vec<(String, PthValue<'_>)> = dict
        .iter()
        .map(|(k, t)| (k.clone(), PthValue::F32(&t.shape, &t.values)))
        .collect();
    const SCALAR: [usize; 0] = [];
    for (key, value) in &counts {
        entries.push((key.clone(), PthValue::I64(&SCALAR, value)));
    }
    entries.sort_by_key(|(k, _)| natural_key(k));
    let archive = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && s.is_ascii())
        .unwrap_or("archive")
        .to_string();
    let bytes = pth_bytes(&archive, &entries).map_err(|e| CycleGanError::checkpoint(path, e))?;
    crate::io::write_atomic(path, &bytes)
}
