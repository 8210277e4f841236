//! Inception features of a folder of images, with a cache: a folder whose files have not
//! changed is not run through the network again (the real set of an FID is usually scored
//! many times).
//!
//! The cache key covers the network's weights (a fingerprint the caller gives, e.g. of the
//! weights file: [`fingerprint_file`]) and every image file's name and bytes, so renaming,
//! adding, removing or editing an image, or other weights, computes the features anew. A
//! cache entry is an `.npz` of the `[count, 2048]` features, written atomically.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use burn::prelude::Device;

use super::inception::{FEATURES, FidInception};
use super::npz::{NpyArray, read_npz, write_npz};
use crate::data::folder::{list_images, load_rgb};
use crate::error::CycleGanError;

/// Feature vectors of a set of images, row-major `count × dims`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    /// The values.
    pub values: Vec<f32>,
    /// The dimension of each vector (2048).
    pub dims: usize,
}

impl FeatureSet {
    /// The number of vectors.
    pub fn count(&self) -> usize {
        self.values.len() / self.dims.max(1)
    }

    /// The set as [`kid::Features`](super::kid::Features).
    pub fn as_kid_features(&self) -> super::kid::Features<'_> {
        super::kid::Features {
            values: &self.values,
            dims: self.dims,
        }
    }

    /// The set's mean and covariance.
    pub fn gaussian(&self) -> Result<super::fid::Gaussian, CycleGanError> {
        let mut statistics = super::fid::FeatureStatistics::new(self.dims);
        statistics.add_batch(&self.values, self.count())?;
        statistics.gaussian()
    }
}

/// A fingerprint of a file's bytes (for the cache key of the weights it holds).
pub fn fingerprint_file(path: &Path) -> Result<u64, CycleGanError> {
    let bytes = std::fs::read(path).map_err(|e| CycleGanError::io(path, e))?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    Ok(hasher.finish())
}

/// The pool3 features of every image of `dir` (sorted by name, as the data sets list them),
/// `batch_size` at a time; `progress(done, total)` is called after every batch. With a
/// `cache_dir`, features of an unchanged folder are read from there, and new ones written.
pub fn folder_features(
    network: &FidInception,
    weights_fingerprint: u64,
    dir: &Path,
    batch_size: usize,
    cache_dir: Option<&Path>,
    device: &Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<FeatureSet, CycleGanError> {
    let files = list_images(dir, usize::MAX)?;
    let cache = match cache_dir {
        Some(cache_dir) => Some(cache_path(cache_dir, &files, weights_fingerprint)?),
        None => None,
    };
    if let Some(cache) = cache.as_ref().filter(|path| path.is_file()) {
        let arrays = read_npz(cache)?;
        if let Some(NpyArray { shape, values }) = arrays.get("features")
            && shape.as_slice() == [files.len(), FEATURES]
        {
            progress(files.len(), files.len());
            return Ok(FeatureSet {
                values: values.iter().map(|&v| v as f32).collect(),
                dims: FEATURES,
            });
        }
    }
    let mut values = Vec::with_capacity(files.len() * FEATURES);
    for chunk in files.chunks(batch_size.max(1)) {
        let images = chunk
            .iter()
            .map(|path| load_rgb(path))
            .collect::<Result<Vec<_>, _>>()?;
        values.extend(network.features(&images, images.len(), device)?);
        progress(values.len() / FEATURES, files.len());
    }
    if let Some(cache) = cache {
        write_features(&cache, &values, files.len())?;
    }
    Ok(FeatureSet {
        values,
        dims: FEATURES,
    })
}

/// `<cache_dir>/<key>.npz` for these files and weights.
fn cache_path(cache_dir: &Path, files: &[PathBuf], weights: u64) -> Result<PathBuf, CycleGanError> {
    let mut hasher = DefaultHasher::new();
    (env!("CARGO_PKG_VERSION"), weights, files.len()).hash(&mut hasher);
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(file)
            .map_err(|e| CycleGanError::io(file, e))?
            .hash(&mut hasher);
    }
    std::fs::create_dir_all(cache_dir).map_err(|e| CycleGanError::io(cache_dir, e))?;
    Ok(cache_dir.join(format!("features-{:016x}.npz", hasher.finish())))
}

fn write_features(path: &Path, values: &[f32], count: usize) -> Result<(), CycleGanError> {
    let values: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    write_npz(path, &[("features", &values, &[count, FEATURES])])
}
