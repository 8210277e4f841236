//! [`UnalignedDataset`]: two unpaired image collections, read as the official
//! `UnalignedDataset` does (`<root>/<phase>A`, `<root>/<phase>B`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::data::dataset::{Dataset, DatasetError};
use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::jpeg::{JpegError, JpegImage, MAX_SIDE, decode_jpeg};
use super::synthetic::{Domain, StripeShapes};
use super::transform::TransformOptions;
use crate::error::CycleGanError;

/// The file extensions the official code accepts (lower or upper case).
pub const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "ppm", "bmp", "tif", "tiff"];

/// Whether `path` has one of the official image extensions, all lower or all upper case.
pub fn is_image_file(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    IMAGE_EXTENSIONS
        .iter()
        .any(|known| ext == *known || ext == known.to_ascii_uppercase())
}

/// Every image file under `dir` (recursively, following links), sorted by path, at most
/// `max_dataset_size` of them (the first ones in sorted order).
pub fn list_images(dir: &Path, max_dataset_size: usize) -> Result<Vec<PathBuf>, CycleGanError> {
    if !dir.is_dir() {
        return Err(CycleGanError::Data {
            path: dir.to_path_buf(),
            message: "folder not found".into(),
        });
    }
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| CycleGanError::io(&current, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| CycleGanError::io(&current, e))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_image_file(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found.truncate(max_dataset_size);
    if found.is_empty() {
        return Err(CycleGanError::Data {
            path: dir.to_path_buf(),
            message: format!(
                "no images found (looked for {} in any folder below)",
                IMAGE_EXTENSIONS.join(", ")
            ),
        });
    }
    Ok(found)
}

/// Decodes any image file the `image` crate reads and converts it to 8-bit RGB (greyscale,
/// RGBA, palette and 16-bit files included), naming the file if it cannot be read.
pub fn load_rgb(path: &Path) -> Result<RgbImage, CycleGanError> {
    let bytes = std::fs::read(path).map_err(|e| CycleGanError::io(path, e))?;
    decode_rgb(bytes, path)
}

/// [`load_rgb`] on the bytes of a file; `path` names it in errors. Images over 100 million
/// pixels or 1 GiB of decoded data are refused rather than allocated.
///
/// JPEGs are decoded by [`super::jpeg`], to the pixels PIL gives (as the official pipeline
/// reads them); the kinds it leaves aside (CMYK, arithmetic coding, 12-bit, …) and every
/// other format go through the `image` crate.
pub fn decode_rgb(bytes: Vec<u8>, path: &Path) -> Result<RgbImage, CycleGanError> {
    if bytes.is_empty() {
        return Err(CycleGanError::Data {
            path: path.to_path_buf(),
            message: "the file is empty".into(),
        });
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        match decode_jpeg(&bytes) {
            Ok(image) => return Ok(jpeg_to_rgb(image)),
            Err(JpegError::Unsupported(_)) => {}
            Err(error) => {
                return Err(CycleGanError::Data {
                    path: path.to_path_buf(),
                    message: format!("cannot decode image: {error}"),
                });
            }
        }
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| CycleGanError::io(path, e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    limits.max_alloc = Some(1 << 30);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| CycleGanError::Data {
        path: path.to_path_buf(),
        message: format!("cannot decode image: {e}"),
    })?;
    Ok(image.to_rgb8())
}

/// A decoded JPEG as RGB (greyscale repeated in the three channels, as PIL's
/// `convert("RGB")`).
fn jpeg_to_rgb(image: JpegImage) -> RgbImage {
    let pixels = if image.channels == 1 {
        image.pixels.iter().flat_map(|&v| [v, v, v]).collect()
    } else {
        image.pixels
    };
    RgbImage::from_raw(image.width, image.height, pixels).expect("width · height · 3 samples")
}

/// Which folder is the model's domain A (`--direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Direction {
    /// `<phase>A` → `<phase>B` (default).
    #[default]
    AtoB,
    /// `<phase>B` → `<phase>A`.
    BtoA,
}

crate::names::official_names!(Direction, "direction", {
    AtoB => "AtoB",
    BtoA => "BtoA",
});

/// A source of images for one domain.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// Files on disk.
    Files(Vec<PathBuf>),
    /// One domain of the StripeShapes data.
    StripeShapes(StripeShapes, Domain),
}

impl ImageSource {
    /// Number of images.
    pub fn len(&self) -> usize {
        match self {
            ImageSource::Files(paths) => paths.len(),
            ImageSource::StripeShapes(data, _) => data.len,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A name for image `index`: its path, or `stripeshapes/<domain>/<index>`.
    pub fn path(&self, index: usize) -> PathBuf {
        match self {
            ImageSource::Files(paths) => paths[index].clone(),
            ImageSource::StripeShapes(data, domain) => PathBuf::from(format!(
                "stripeshapes{}/{domain:?}/{index:05}.png",
                data.size
            )),
        }
    }

    /// Image `index` as RGB.
    pub fn load(&self, index: usize) -> Result<RgbImage, CycleGanError> {
        match self {
            ImageSource::Files(paths) => load_rgb(&paths[index]),
            ImageSource::StripeShapes(data, domain) => Ok(data.image(*domain, index)),
        }
    }
}

/// One image after its transform: `[C, H, W]` values in [−1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct ImageItem {
    /// Values, channel-major.
    pub values: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Where it came from.
    pub path: PathBuf,
}

/// One training example: an image of each domain (in the model's orientation).
#[derive(Debug, Clone, PartialEq)]
pub struct UnalignedItem {
    /// The model's domain A image.
    pub a: ImageItem,
    /// The model's domain B image.
    pub b: ImageItem,
}

/// Options of an [`UnalignedDataset`] (the official data options).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetOptions {
    /// `test`, `train` or any phase name: the folders are `<phase>A` and `<phase>B`.
    pub phase: String,
    /// Which folder is the model's A.
    pub direction: Direction,
    /// Pair image i of A with image i mod |B| instead of a random B (`--serial_batches`).
    pub serial_batches: bool,
    /// At most this many images per domain (`--max_dataset_size`).
    pub max_dataset_size: usize,
    /// Channels of the model's A images (`--input_nc`).
    pub input_nc: usize,
    /// Channels of the model's B images (`--output_nc`).
    pub output_nc: usize,
    /// Resize / crop / flip.
    pub transform: TransformOptions,
    /// Seed of the random B choice, crops and flips.
    pub seed: u64,
}

impl Default for DatasetOptions {
    fn default() -> Self {
        Self {
            phase: "train".into(),
            direction: Direction::AtoB,
            serial_batches: false,
            max_dataset_size: usize::MAX,
            input_nc: 3,
            output_nc: 3,
            transform: TransformOptions::default(),
            seed: 0,
        }
    }
}

/// An image that `Preprocess::None` resized: its path, its size, the size it was given.
pub type Resized = (PathBuf, (u32, u32), (u32, u32));

/// Two unpaired collections of images. Its length is max(|A|, |B|); it visits the indices
/// `i` in a per-epoch shuffled order (in order with `serial_batches`), and index `i` holds A
/// image `i mod |A|` and a B image drawn at random (or `i mod |B|` with `serial_batches`), each
/// transformed with its own random crop and flip. Randomness comes from the seed, the epoch
/// ([`set_epoch`](Self::set_epoch)) and the index, so loading is reproducible with any
/// number of worker threads.
#[derive(Debug)]
pub struct UnalignedDataset {
    source_a: ImageSource,
    source_b: ImageSource,
    options: DatasetOptions,
    epoch: AtomicU64,
    order: std::sync::RwLock<Vec<usize>>,
    resized: std::sync::OnceLock<Resized>,
    fine_tune_after: Option<u64>,
}

impl UnalignedDataset {
    /// Lists `<dataroot>/<phase>A` and `<dataroot>/<phase>B`.
    pub fn new(dataroot: impl AsRef<Path>, options: DatasetOptions) -> Result<Self, CycleGanError> {
        let root = dataroot.as_ref();
        if !root.is_dir() {
            return Err(CycleGanError::Data {
                path: root.to_path_buf(),
                message: "dataroot not found".into(),
            });
        }
        let dir_a = root.join(format!("{}A", options.phase));
        let dir_b = root.join(format!("{}B", options.phase));
        for dir in [&dir_a, &dir_b] {
            if !dir.is_dir() {
                return Err(CycleGanError::Data {
                    path: dir.clone(),
                    message: format!(
                        "phase folder not found: expected {}A and {}B inside the dataroot",
                        options.phase, options.phase
                    ),
                });
            }
        }
        let a = ImageSource::Files(list_images(&dir_a, options.max_dataset_size)?);
        let b = ImageSource::Files(list_images(&dir_b, options.max_dataset_size)?);
        Self::from_sources(a, b, options)
    }

    /// The StripeShapes training split (`len` images per domain at `size²`) with the given
    /// options (use `Preprocess::None` to keep the native size).
    pub fn stripe_shapes(
        size: usize,
        len: usize,
        options: DatasetOptions,
    ) -> Result<Self, CycleGanError> {
        let data = StripeShapes::train(size, len);
        Self::from_sources(
            ImageSource::StripeShapes(data, Domain::A),
            ImageSource::StripeShapes(data, Domain::B),
            options,
        )
    }

    /// A dataset over two sources (folder A and folder B, before `direction`).
    pub fn from_sources(
        source_a: ImageSource,
        source_b: ImageSource,
        options: DatasetOptions,
    ) -> Result<Self, CycleGanError> {
        options.transform.validate()?;
        let (source_a, source_b) = match options.direction {
            Direction::AtoB => (source_a, source_b),
            Direction::BtoA => (source_b, source_a),
        };
        if source_a.is_empty() || source_b.is_empty() {
            return Err(CycleGanError::config(
                "max_dataset_size",
                "leaves no images",
            ));
        }
        let dataset = Self {
            source_a,
            source_b,
            options,
            epoch: AtomicU64::new(0),
            order: std::sync::RwLock::new(Vec::new()),
            resized: std::sync::OnceLock::new(),
            fine_tune_after: None,
        };
        dataset.set_epoch(0);
        Ok(dataset)
    }

    /// CUT's fine-tuning phase: in the epochs after `n_epochs` (the learning-rate decay),
    /// images are resized straight to `crop_size` (`load_size` replaced by `crop_size`, so
    /// the random crop takes the whole image; the flip stays), as the official CUT
    /// `UnalignedDataset` does. `None` (the default, CycleGAN's) keeps the transform.
    pub fn with_fine_tuning_after(mut self, n_epochs: Option<u64>) -> Self {
        self.fine_tune_after = n_epochs;
        self
    }

    /// Whether the epoch set last is in CUT's fine-tuning phase.
    pub fn is_fine_tuning(&self) -> bool {
        self.fine_tune_after
            .is_some_and(|n_epochs| self.epoch() > n_epochs)
    }

    /// Sets the epoch whose order and random draws (B choice, crops, flips) `get` makes.
    /// Unless `serial_batches`, item `i` of an epoch is item `order[i]` of a permutation
    /// drawn from the seed and the epoch, so a resumed run sees the same data as an
    /// uninterrupted one.
    pub fn set_epoch(&self, epoch: u64) {
        self.epoch.store(epoch, Ordering::Relaxed);
        let n = self.len_a().max(self.len_b());
        let mut order: Vec<usize> = (0..n).collect();
        if !self.options.serial_batches {
            let mut rng = StdRng::seed_from_u64(
                self.options.seed ^ epoch.wrapping_mul(0xA076_1D64_78BD_642F),
            );
            for i in (1..n).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
        }
        *self.order.write().expect("order lock") = order;
    }

    /// The first image that `Preprocess::None` had to resize to a multiple of 4 (path, size
    /// before, size after), for the official one-time warning.
    pub fn resized_image(&self) -> Option<&Resized> {
        self.resized.get()
    }

    /// The epoch set last.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Images in the model's domain A.
    pub fn len_a(&self) -> usize {
        self.source_a.len()
    }

    /// Images in the model's domain B.
    pub fn len_b(&self) -> usize {
        self.source_b.len()
    }

    /// The options.
    pub fn options(&self) -> &DatasetOptions {
        &self.options
    }

    fn rng(&self, index: usize) -> StdRng {
        let epoch = self.epoch.load(Ordering::Relaxed);
        let mut z = self.options.seed ^ 0xD1B5_4A32_D192_ED03;
        for v in [epoch, index as u64] {
            z = (z ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z ^= z >> 29;
        }
        StdRng::seed_from_u64(z)
    }

    /// The B index paired with item `index` in the current epoch.
    pub fn index_b(&self, index: usize) -> usize {
        if self.options.serial_batches {
            index % self.len_b()
        } else {
            self.rng(index).random_range(0..self.len_b())
        }
    }

    /// Item `index` as a [`CycleGanError`] on failure (the file is named).
    pub fn try_get(&self, position: usize) -> Result<UnalignedItem, CycleGanError> {
        let index = self.order.read().expect("order lock")[position];
        let index_a = index % self.len_a();
        let index_b = self.index_b(index);
        let mut rng = self.rng(index);
        // Keep the B choice's draw first, as index_b does.
        let _: usize = rng.random_range(0..self.len_b());
        let (nc_a, nc_b) = match self.options.direction {
            Direction::AtoB => (self.options.input_nc, self.options.output_nc),
            Direction::BtoA => (self.options.output_nc, self.options.input_nc),
        };
        let a = self.transformed(&self.source_a, index_a, nc_a, &mut rng)?;
        let b = self.transformed(&self.source_b, index_b, nc_b, &mut rng)?;
        Ok(UnalignedItem { a, b })
    }

    fn transformed(
        &self,
        source: &ImageSource,
        index: usize,
        channels: usize,
        rng: &mut StdRng,
    ) -> Result<ImageItem, CycleGanError> {
        let path = source.path(index);
        let image = source.load(index)?;
        let mut transform = TransformOptions {
            channels,
            ..self.options.transform
        };
        if self.is_fine_tuning() {
            transform.load_size = transform.crop_size;
        }
        let before = image.dimensions();
        let (image, applied) = transform.apply(&image, rng, &path)?;
        if applied.resized_to_multiple {
            let _ = self.resized.set((path.clone(), before, image.dimensions()));
        }
        let (w, h) = image.dimensions();
        Ok(ImageItem {
            values: transform.to_chw(&image),
            shape: [channels, h as usize, w as usize],
            path,
        })
    }
}

impl Dataset<UnalignedItem> for UnalignedDataset {
    fn get(&self, index: usize) -> Result<UnalignedItem, DatasetError> {
        self.try_get(index).map_err(DatasetError::new)
    }

    fn len(&self) -> usize {
        self.len_a().max(self.len_b())
    }
}

/// A shared dataset whose epoch can still be set while a loader holds it.
pub type SharedDataset = Arc<UnalignedDataset>;
