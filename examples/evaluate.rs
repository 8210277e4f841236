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
//! ```

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::{BackendOption, GeneratorSource};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::data::folder::load_rgb;
use cyclegan_burn::data::image::rgb_to_chw;
use cyclegan_burn::data::paired::paired_files;
use cyclegan_burn::data::{Direction, StripeShapes};
use cyclegan_burn::metrics::{
    FACADE_PALETTE, PairedLabelScores, StripeScores, l1, psnr, resized, ssim,
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
    Ok(())
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = o.backend.device()?;
    let (g, _) = o.generator.load(&device)?;
    match &o.dataroot {
        Some(_) => facades(&o, &g, &device),
        None => stripes(&o, &g, &device),
    }
}

fn main() -> ExitCode {
    common::main_with(run)
}
