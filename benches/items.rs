//! The benchmark items, shared by the criterion benches (`benches/networks.rs`) and the
//! side-by-side program (`examples/bench_item.rs`, driven by `scripts/bench_compare.py`):
//! the official default networks (resnet_9blocks ngf 64, basic D ndf 64, instance norm) at
//! batch 1, as `scripts/bench_pytorch.py` runs them in PyTorch.

use burn::tensor::Distribution;
use cyclegan_burn::prelude::*;

/// One thing to time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// `ResnetGenerator` forward (no autodiff) at `size × size`.
    GeneratorForward(usize),
    /// `NLayerDiscriminator` forward (no autodiff) at `size × size`.
    DiscriminatorForward(usize),
    /// One full CycleGAN training step (both generators, both discriminators, two Adam
    /// updates) at `size × size`.
    TrainStep(usize),
    /// A training step on a batch of 2 at `size × size` on one device (beside
    /// [`TrainStepReplicas`](Item::TrainStepReplicas); not in the PyTorch table).
    TrainStepBatch2(usize),
    /// A training step on a batch of 2 shared by two replicas on the same device (data
    /// parallel, one image each): the cost of the replication and gradient averaging.
    TrainStepReplicas(usize),
    /// One training step of the README's main command (`cargo run --release --example
    /// train`): the StripeShapes preset's networks (resnet_6blocks, ngf = ndf = 16, an
    /// n_layers discriminator with n_layers_D 1, lr 0.0005) at 32×32. Named `train_step_32`.
    PresetTrainStep,
    /// The translate program's work on a folder of `size × size` JPEGs (decode, translate
    /// with the default generator, write the input and the translation as PNGs), one
    /// iteration being the whole folder of [`FOLDER_IMAGES`] images.
    TranslateFolder(usize),
    /// Every JPEG of the [`TranslateFolder`](Item::TranslateFolder) folder decoded to RGB
    /// with the crate's decoder (`data::folder::load_rgb`, PIL's pixels), one iteration being
    /// the whole folder. PyTorch's side is PIL (`Image.open(f).convert("RGB")`).
    DecodeFolder(usize),
    /// The same folder through the `image` crate's decoder (zune-jpeg), which `load_rgb` used
    /// before it decoded JPEGs itself: [`DecodeFolder`](Item::DecodeFolder)'s baseline in the
    /// same build. PyTorch's side is PIL again.
    DecodeFolderImageCrate(usize),
    /// One CUT training step (official defaults: anti-aliased resnet_9blocks G and basic D,
    /// netF mlp_sample with 256 channels, 256 patches at nce_layers 0,4,8,12,16, the
    /// identity NCE term) at `size × size`.
    CutStep(usize),
    /// One FastCUT training step (as [`CutStep`](Item::CutStep), with no identity term and
    /// flip equivariance, lambda_NCE 10) at `size × size`.
    FastCutStep(usize),
    /// pool3 features of a batch of this many 256×256 images with pytorch-fid's Inception
    /// (preprocessing included; weights from a cheap formula: speed does not depend on them).
    FidFeatures(usize),
}

impl Item {
    /// The items of the benchmark table, in its order.
    pub const ALL: [Item; 10] = [
        Item::PresetTrainStep,
        Item::GeneratorForward(64),
        Item::GeneratorForward(128),
        Item::GeneratorForward(256),
        Item::DiscriminatorForward(256),
        Item::TrainStep(64),
        Item::TrainStep(128),
        Item::TranslateFolder(256),
        Item::DecodeFolder(256),
        Item::DecodeFolderImageCrate(256),
    ];

    /// `generator_forward_256` and so on.
    pub fn name(self) -> String {
        match self {
            Item::GeneratorForward(s) => format!("generator_forward_{s}"),
            Item::DiscriminatorForward(s) => format!("discriminator_forward_{s}"),
            Item::TrainStep(s) => format!("train_step_{s}"),
            Item::PresetTrainStep => "train_step_32".into(),
            Item::TranslateFolder(s) => format!("translate_folder_{s}"),
            Item::TrainStepBatch2(s) => format!("train_step_b2_{s}"),
            Item::TrainStepReplicas(s) => format!("train_step_x2_{s}"),
            Item::FidFeatures(batch) => format!("fid_features_{batch}"),
            Item::DecodeFolder(s) => format!("decode_folder_{s}"),
            Item::DecodeFolderImageCrate(s) => format!("decode_folder_image_crate_{s}"),
            Item::CutStep(s) => format!("cut_step_{s}"),
            Item::FastCutStep(s) => format!("fastcut_step_{s}"),
        }
    }

    /// The item called `name` (any size).
    #[allow(dead_code)]
    pub fn parse(name: &str) -> Option<Item> {
        let (kind, size) = name.rsplit_once('_')?;
        let size = size.parse().ok()?;
        match kind {
            "generator_forward" => Some(Item::GeneratorForward(size)),
            "discriminator_forward" => Some(Item::DiscriminatorForward(size)),
            "train_step" if size == 32 => Some(Item::PresetTrainStep),
            "train_step" => Some(Item::TrainStep(size)),
            "translate_folder" => Some(Item::TranslateFolder(size)),
            "train_step_b2" => Some(Item::TrainStepBatch2(size)),
            "train_step_x2" => Some(Item::TrainStepReplicas(size)),
            "fid_features" => Some(Item::FidFeatures(size)),
            "decode_folder" => Some(Item::DecodeFolder(size)),
            "decode_folder_image_crate" => Some(Item::DecodeFolderImageCrate(size)),
            "cut_step" => Some(Item::CutStep(size)),
            "fastcut_step" => Some(Item::FastCutStep(size)),
            _ => None,
        }
    }

    /// Builds the networks and input on `device` (a plain device; the training step makes
    /// its own autodiff device) and returns one iteration, which waits for the result.
    pub fn prepare(self, device: &Device) -> Box<dyn FnMut()> {
        let input = |size: usize, device: &Device| {
            Tensor::<4>::random([1, 3, size, size], Distribution::Uniform(-1.0, 1.0), device)
        };
        match self {
            Item::GeneratorForward(size) => {
                let generator = ResnetGeneratorConfig::new(3, 3).init_seeded(device, 0);
                let x = input(size, device);
                Box::new(move || {
                    let _ = generator.forward(x.clone()).into_data();
                })
            }
            Item::DiscriminatorForward(size) => {
                let discriminator = NLayerDiscriminatorConfig::new(3).init_seeded(device, 0);
                let x = input(size, device);
                Box::new(move || {
                    let _ = discriminator.forward(x.clone()).into_data();
                })
            }
            Item::TrainStep(size) => {
                let device = device.clone().autodiff();
                let mut gan = CycleGan::new(&CycleGanConfig::new(), &device);
                let (a, b) = (input(size, &device), input(size, &device));
                Box::new(move || {
                    // The losses are read back, which waits for the whole step.
                    let _ = gan.train_step(a.clone(), b.clone());
                })
            }
            Item::CutStep(size) | Item::FastCutStep(size) => {
                use cyclegan_burn::cut::{Cut, CutConfig, CutMode};
                let device = device.clone().autodiff();
                let mode = if matches!(self, Item::CutStep(_)) {
                    CutMode::Cut
                } else {
                    CutMode::FastCut
                };
                let mut cut = Cut::new(&CutConfig::new().with_cut_mode(mode), &device);
                let (a, b) = (input(size, &device), input(size, &device));
                Box::new(move || {
                    let _ = cut.train_step(a.clone(), b.clone());
                })
            }
            Item::PresetTrainStep => {
                let device = device.clone().autodiff();
                let config = CycleGanConfig::new()
                    .with_net_g(GeneratorKind::Resnet6Blocks)
                    .with_ngf(16)
                    .with_ndf(16)
                    .with_net_d(DiscriminatorKind::NLayers)
                    .with_n_layers_d(1)
                    .with_lr(0.0005);
                let mut gan = CycleGan::new(&config, &device);
                let (a, b) = (input(32, &device), input(32, &device));
                Box::new(move || {
                    let _ = gan.train_step(a.clone(), b.clone());
                })
            }
            Item::TranslateFolder(size) => {
                use cyclegan_burn::data::folder::{list_images, load_rgb};
                use cyclegan_burn::data::image::save_rgb;
                use cyclegan_burn::translate::translate_rgb;
                let folder = bench_folder(size);
                let paths = list_images(&folder, usize::MAX).expect("the bench folder");
                // In the temporary folder, never in or beside the images (which may be a
                // dataset): listing a folder takes its subfolders too.
                let results =
                    std::env::temp_dir().join(format!("cyclegan-burn-bench-{size}-results"));
                std::fs::create_dir_all(&results).expect("a results folder");
                let generator: Generator = ResnetGeneratorConfig::new(3, 3)
                    .init_seeded(device, 0)
                    .into();
                let device = device.clone();
                Box::new(move || {
                    for path in &paths {
                        let image = load_rgb(path).expect("a bench image");
                        let output = translate_rgb(&generator, &image, &device).expect("translate");
                        let stem = path.file_stem().expect("a file name").to_string_lossy();
                        save_rgb(&image, results.join(format!("{stem}_real.png"))).expect("save");
                        save_rgb(&output, results.join(format!("{stem}_fake.png"))).expect("save");
                    }
                })
            }
            Item::DecodeFolder(size) | Item::DecodeFolderImageCrate(size) => {
                use cyclegan_burn::data::folder::{list_images, load_rgb};
                let paths = list_images(&bench_folder(size), usize::MAX).expect("the bench folder");
                if matches!(self, Item::DecodeFolder(_)) {
                    Box::new(move || {
                        for path in &paths {
                            let _ = load_rgb(path).expect("a bench image");
                        }
                    })
                } else {
                    // As load_rgb read a file before: its bytes, then the image crate.
                    Box::new(move || {
                        for path in &paths {
                            let bytes = std::fs::read(path).expect("a bench image");
                            let image = image::load_from_memory(&bytes).expect("a bench image");
                            let _ = image.to_rgb8();
                        }
                    })
                }
            }
            Item::FidFeatures(batch) => {
                use cyclegan_burn::import::{HostTensor, StateDict};
                use cyclegan_burn::metrics::inception::FidInception;
                let mut dict = StateDict::new();
                for (key, shape) in FidInception::state_dict_layout() {
                    let n: usize = shape.iter().product();
                    let values = (0..n)
                        .map(|i| {
                            ((i % 97) as f32 / 97.0 - 0.5) * 0.05
                                + if key.ends_with("var") { 1.0 } else { 0.0 }
                        })
                        .collect();
                    dict.insert(key, HostTensor { shape, values });
                }
                let network =
                    FidInception::from_state_dict(&dict, std::path::Path::new("formula"), device)
                        .expect("the layout's own keys");
                let images: Vec<image::RgbImage> = (0..batch)
                    .map(|n| {
                        image::RgbImage::from_fn(256, 256, |x, y| {
                            image::Rgb([(x * 7 + n as u32) as u8, (y * 3) as u8, (x ^ y) as u8])
                        })
                    })
                    .collect();
                let device = device.clone();
                Box::new(move || {
                    let _ = network.features(&images, batch, &device).expect("features");
                })
            }
            Item::TrainStepBatch2(size) | Item::TrainStepReplicas(size) => {
                let device = device.clone().autodiff();
                let mut gan = CycleGan::new(&CycleGanConfig::new(), &device);
                if matches!(self, Item::TrainStepReplicas(_)) {
                    gan = gan.with_replicas(std::slice::from_ref(&device));
                }
                let pair = |device: &Device| {
                    Tensor::cat(vec![input(size, device), input(size, device)], 0)
                };
                let (a, b) = (pair(&device), pair(&device));
                Box::new(move || {
                    let _ = gan.train_step(a.clone(), b.clone());
                })
            }
        }
    }
}

/// Images in the folder of [`Item::TranslateFolder`].
pub const FOLDER_IMAGES: usize = 8;

/// The folder of JPEGs that `translate_folder_<size>` and `decode_folder_<size>` read, shared
/// with `scripts/bench_pytorch.py`: `$CYCLEGAN_BENCH_FOLDER` if set (the side-by-side script
/// sets it, so both sides read the same files; it is read, never written), else
/// `cyclegan-burn-bench-<size>` in the temporary folder, written here on first use:
/// [`FOLDER_IMAGES`] smooth pictures with edges, JPEG quality 90.
#[allow(dead_code)]
pub fn bench_folder(size: usize) -> std::path::PathBuf {
    if let Some(folder) = std::env::var_os("CYCLEGAN_BENCH_FOLDER") {
        return std::path::PathBuf::from(folder);
    }
    let folder = std::env::temp_dir().join(format!("cyclegan-burn-bench-{size}"));
    std::fs::create_dir_all(&folder).expect("a bench folder");
    for n in 0..FOLDER_IMAGES {
        let path = folder.join(format!("{n}.jpg"));
        if path.exists() {
            continue;
        }
        let side = size as f32;
        let picture = image::RgbImage::from_fn(size as u32, size as u32, |x, y| {
            let (u, v) = (x as f32 / side, y as f32 / side);
            let ring = (((u - 0.5).powi(2) + (v - 0.5).powi(2)).sqrt() * (8.0 + n as f32)).sin();
            let stripe = if (x / 16 + y / 16 + n as u32).is_multiple_of(2) {
                40.0
            } else {
                0.0
            };
            image::Rgb([
                (128.0 + 100.0 * ring) as u8,
                (200.0 * u + stripe) as u8,
                (60.0 + 150.0 * v) as u8,
            ])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&picture)
            .expect("JPEG encoding");
        std::fs::write(&path, bytes).expect("a bench image");
    }
    folder
}
