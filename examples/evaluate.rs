//! Score a trained generator on a paired test set, beside the identity baseline
//! (output = input).
//!
//! ```text
//! # facades photo → label (A → B): per-pixel accuracy, per-class accuracy, mean IoU
//! cargo run --release --example evaluate -- --run checkpoints/facades --dataroot ../shared/data/facades
//! # facades label → photo (B → A): L1, PSNR, SSIM
//! cargo run --release --example evaluate -- --run checkpoints/facades --dataroot ../shared/data/facades --direction BtoA
//! # StripeShapes test split: in-mask L1, low-pass in-mask L1, background L1
//! cargo run --release --example evaluate -- --run checkpoints/stripeshapes
//! # unpaired data (horse2zebra): FID and KID of G_A(testA) against testB and of G_B(testB)
//! # against testA, each beside the identity baseline (the untranslated test set)
//! cargo run --release --example evaluate -- --run checkpoints/horse2zebra \
//!     --dataroot datasets/horse2zebra --fid --kid --inception pt_inception-2015-12-05-6726825d.pth
//! # any two folders, e.g. translations written by the translate program against real images
//! cargo run --release --example evaluate -- --fid --kid --inception pt_inception.pth \
//!     --folders results/fake_B datasets/horse2zebra/testB
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use common::{BackendOption, GeneratorSource, images_progress_bar};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::data::folder::{list_images, load_rgb};
use cyclegan_burn::data::image::rgb_to_chw;
use cyclegan_burn::data::paired::paired_files;
use cyclegan_burn::data::{Direction, StripeShapes};
use cyclegan_burn::metrics::features::{FeatureSet, fingerprint_file, folder_features};
use cyclegan_burn::metrics::fid::frechet_distance;
use cyclegan_burn::metrics::inception::{FEATURES, FidInception};
use cyclegan_burn::metrics::kid::kernel_inception_distance;
use cyclegan_burn::metrics::{
    FACADE_PALETTE, PairedLabelScores, StripeScores, l1, psnr, resized, ssim,
    visual::VisualComparison,
};
use cyclegan_burn::model::Generator;
use cyclegan_burn::translate::translate_rgb;
use image::RgbImage;

/// Score a generator on paired data beside the identity baseline.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    #[command(flatten)]
    generator: GeneratorSource,
    /// A paired dataset (testA/testB sharing file stems); default: the StripeShapes test split.
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// Resize images to this size before translating (0: as stored). Label maps use nearest.
    #[arg(long, default_value_t = 0)]
    load_size: u32,
    /// StripeShapes test images (size from --load_size, default 32).
    #[arg(long, default_value_t = 200)]
    num_test: usize,
    /// FID of the translated test set against the other domain's, beside identity
    /// (unpaired --dataroot with testA/testB; needs --inception).
    #[arg(long)]
    fid: bool,
    /// KID (torch-fidelity's 100 subsets of up to 1000) beside FID.
    #[arg(long)]
    kid: bool,
    /// pytorch-fid's weights file, pt_inception-2015-12-05-6726825d.pth (never downloaded).
    #[arg(long)]
    inception: Option<PathBuf>,
    /// Images per Inception forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// With --fid / --kid: score these two folders of images against each other (no
    /// generator needed), e.g. translations against the real target domain.
    #[arg(long, num_args = 2, value_names = ["GENERATED", "REAL"])]
    folders: Vec<PathBuf>,
    /// Where the real sets' Inception features are cached.
    #[arg(long, default_value = ".fid_cache")]
    cache_dir: PathBuf,
    #[command(flatten)]
    backend: BackendOption,
}

fn planes(image: &RgbImage) -> Vec<f32> {
    rgb_to_chw(image)
        .into_iter()
        .map(|v| (v + 1.0) * 127.5)
        .collect()
}

fn facades(
    o: &Options,
    g: &Generator,
    device: &burn::prelude::Device,
) -> Result<(), CycleGanError> {
    let root = o.dataroot.as_ref().expect("checked");
    let pairs = paired_files(root, "test")?;
    let to_labels = o.generator.direction == Direction::AtoB;
    if to_labels {
        let scores = PairedLabelScores::measure(g, &pairs, o.load_size, &FACADE_PALETTE, device)?;
        println!("facades photo→label, {} test pairs\n", pairs.len());
        println!("| | per-pixel acc. | per-class acc. | mean IoU |\n|---|---|---|---|");
        for (name, s) in [
            ("model", &scores.model),
            ("identity (input as labels)", &scores.identity),
        ] {
            println!(
                "| {name} | {:.3} | {:.3} | {:.3} |",
                s.pixel_accuracy(),
                s.mean_class_accuracy(),
                s.mean_iou()
            );
        }
        return Ok(());
    }
    let mut photo_scores = [[0.0f64; 3]; 2];
    for (photo_path, label_path) in &pairs {
        let photo = resized(load_rgb(photo_path)?, o.load_size, false);
        let label = resized(load_rgb(label_path)?, o.load_size, true);
        let (input, truth) = (&label, &photo);
        let output = translate_rgb(g, input, device)?;
        let (w, h) = truth.dimensions();
        let shape = [3, h as usize, w as usize];
        for (k, candidate) in [&output, input].into_iter().enumerate() {
            let (x, y) = (planes(candidate), planes(truth));
            photo_scores[k][0] += l1(&x, &y) / 255.0;
            photo_scores[k][1] += psnr(&x, &y, 255.0);
            photo_scores[k][2] += ssim(&x, &y, shape, 255.0);
        }
    }
    let n = pairs.len() as f64;
    println!("facades label→photo, {} test pairs\n", pairs.len());
    println!("| | L1 | PSNR (dB) | SSIM |\n|---|---|---|---|");
    for (name, s) in [("model", photo_scores[0]), ("identity", photo_scores[1])] {
        println!(
            "| {name} | {:.4} | {:.2} | {:.4} |",
            s[0] / n,
            s[1] / n,
            s[2] / n
        );
    }
    Ok(())
}

fn stripes(
    o: &Options,
    g: &Generator,
    device: &burn::prelude::Device,
) -> Result<(), CycleGanError> {
    let size = if o.load_size == 0 {
        32
    } else {
        o.load_size as usize
    };
    let data = StripeShapes::test(size, o.num_test);
    let a_to_b = o.generator.direction == Direction::AtoB;
    let scores = StripeScores::measure(g, &data, a_to_b, device)?;
    println!(
        "StripeShapes {} at {size}x{size}, {} held-out test latents (L1 in [0, 1])\n",
        if a_to_b {
            "A→B (add stripes)"
        } else {
            "B→A (remove stripes)"
        },
        o.num_test
    );
    println!(
        "| | in-mask L1 | low-pass in-mask L1 | background L1 (vs input) |\n|---|---|---|---|"
    );
    for (name, s) in [("model", scores.model), ("identity", scores.identity)] {
        println!("| {name} | {:.4} | {:.4} | {:.4} |", s[0], s[1], s[2]);
    }
    let visual = VisualComparison::measure(g, &data, a_to_b, device)?;
    let against = if a_to_b { "the truth's" } else { "the input's" };
    println!(
        "\nWhat a person sees (shape IoU higher is better; stripe energy as a ratio to {against})\n"
    );
    println!(
        "| | shape IoU | colour error | background L1 | stripe energy |\n|---|---|---|---|---|"
    );
    for (name, v) in [
        ("model", visual.model),
        ("identity", visual.identity),
        ("perfect", visual.perfect),
    ] {
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.2} |",
            v.shape_iou, v.colour_error, v.background_l1, v.stripe_energy
        );
    }
    Ok(())
}

/// FID (and KID) of sets of images against a real set, one table row per set.
fn print_scores(
    o: &Options,
    title: &str,
    rows: &[(&str, FeatureSet)],
    real: &FeatureSet,
) -> Result<(), CycleGanError> {
    let real_gaussian = real.gaussian()?;
    println!("{title}\n");
    println!(
        "| | FID |{}\n|---|---|{}",
        if o.kid { " KID |" } else { "" },
        if o.kid { "---|" } else { "" }
    );
    for (name, set) in rows {
        let fid = frechet_distance(&set.gaussian()?, &real_gaussian)?;
        let kid = if o.kid {
            let kid = kernel_inception_distance(set.as_kid_features(), real.as_kid_features(), 0)?;
            format!(" {:.4} ± {:.4} |", kid.mean, kid.std)
        } else {
            String::new()
        };
        println!("| {name} | {fid:.3} |{kid}");
    }
    println!();
    Ok(())
}

/// The Inception network and its weights' fingerprint, from --inception.
fn inception(
    o: &Options,
    device: &burn::prelude::Device,
) -> Result<(FidInception, u64), CycleGanError> {
    let weights = o.inception.as_ref().ok_or_else(|| {
        CycleGanError::config(
            "inception",
            "FID and KID need --inception, pytorch-fid's weights file pt_inception-2015-12-05-6726825d.pth",
        )
    })?;
    Ok((
        FidInception::load(weights, device)?,
        fingerprint_file(weights)?,
    ))
}

/// A folder's features, cached.
fn cached_features(
    o: &Options,
    network: &FidInception,
    fingerprint: u64,
    dir: &Path,
    device: &burn::prelude::Device,
) -> Result<FeatureSet, CycleGanError> {
    let bar = images_progress_bar(format!("features of {}", dir.display()));
    let features = folder_features(
        network,
        fingerprint,
        dir,
        o.batch_size,
        Some(&o.cache_dir),
        device,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    );
    bar.finish_and_clear();
    features
}

/// The features of `g`'s translations of every image of `source`.
fn translated_features(
    o: &Options,
    network: &FidInception,
    g: &Generator,
    source: &Path,
    device: &burn::prelude::Device,
) -> Result<FeatureSet, CycleGanError> {
    let files = list_images(source, usize::MAX)?;
    let bar = images_progress_bar(format!("translations of {}", source.display()));
    bar.set_length(files.len() as u64);
    let mut values = Vec::with_capacity(files.len() * FEATURES);
    for chunk in files.chunks(o.batch_size.max(1)) {
        let outputs = chunk
            .iter()
            .map(|path| translate_rgb(g, &load_rgb(path)?, device))
            .collect::<Result<Vec<_>, _>>()?;
        values.extend(network.features(&outputs, outputs.len(), device)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(FeatureSet {
        values,
        dims: FEATURES,
    })
}

/// --fid / --kid: two folders (--folders), or a generator's translations of the test set
/// beside the identity baseline, in both directions for a run folder.
fn inception_scores(o: &Options, device: &burn::prelude::Device) -> Result<(), CycleGanError> {
    let (network, fingerprint) = inception(o, device)?;
    if let [generated, real] = o.folders.as_slice() {
        let rows = [(
            "generated",
            cached_features(o, &network, fingerprint, generated, device)?,
        )];
        let real_set = cached_features(o, &network, fingerprint, real, device)?;
        let title = format!("{} against {}", generated.display(), real.display());
        return print_scores(o, &title, &rows, &real_set);
    }
    let Some(root) = &o.dataroot else {
        return Err(CycleGanError::config(
            "fid",
            "FID and KID need --folders GENERATED REAL, or --dataroot (with testA and testB) and a generator",
        ));
    };
    // A CycleGAN run folder has both generators: both directions; a CUT run or a single
    // file, its own.
    let directions = if o.generator.run.is_some() && !o.generator.is_cut_run() {
        vec![Direction::AtoB, Direction::BtoA]
    } else {
        vec![o.generator.direction]
    };
    for direction in directions {
        let source_generator = GeneratorSource {
            direction,
            ..o.generator.clone()
        };
        let (g, _) = source_generator.load(device)?;
        let (source, target) = match direction {
            Direction::AtoB => (root.join("testA"), root.join("testB")),
            Direction::BtoA => (root.join("testB"), root.join("testA")),
        };
        let translated = translated_features(o, &network, &g, &source, device)?;
        let identity = cached_features(o, &network, fingerprint, &source, device)?;
        let real = cached_features(o, &network, fingerprint, &target, device)?;
        let name = |dir: &Path| {
            dir.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        let title = format!(
            "{} {} → {} ({} and {} test images)",
            root.display(),
            name(&source),
            name(&target),
            translated.count(),
            real.count()
        );
        print_scores(
            o,
            &title,
            &[
                (source_generator.net_name(), translated),
                ("identity", identity),
            ],
            &real,
        )?;
    }
    Ok(())
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = o.backend.device()?;
    if o.fid || o.kid {
        return inception_scores(&o, &device);
    }
    let (g, _) = o.generator.load(&device)?;
    match &o.dataroot {
        Some(_) => facades(&o, &g, &device),
        None => stripes(&o, &g, &device),
    }
}

fn main() -> ExitCode {
    common::main_with(run)
}
