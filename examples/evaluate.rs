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

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cyclegan_burn::CycleGanError;
use cyclegan_burn::backend;
use cyclegan_burn::data::StripeShapes;
use cyclegan_burn::data::folder::load_rgb;
use cyclegan_burn::data::image::rgb_to_chw;
use cyclegan_burn::data::paired::paired_files;
use cyclegan_burn::data::synthetic::stripe_period;
use cyclegan_burn::data::transform::resize_bicubic;
use cyclegan_burn::metrics::{FACADE_PALETTE, LabelScores, l1, psnr, ssim};
use cyclegan_burn::model::ResnetGenerator;
use cyclegan_burn::train::Generator;
use cyclegan_burn::translate::translate_rgb;
use image::{RgbImage, imageops};

/// Score a generator on paired data beside the identity baseline.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// A run folder of the train example.
    #[arg(long)]
    run: Option<PathBuf>,
    /// Or a generator file (.pth / .safetensors).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Which checkpoint of the run folder.
    #[arg(long, default_value = "latest")]
    epoch: String,
    /// AtoB (G_A) or BtoA (G_B).
    #[arg(long, default_value = "AtoB")]
    direction: String,
    /// A paired dataset (testA/testB sharing file stems); default: the StripeShapes test split.
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// Resize images to this size before translating (0: as stored). Label maps use nearest.
    #[arg(long, default_value_t = 0)]
    load_size: u32,
    /// StripeShapes test images (size from --load_size, default 32).
    #[arg(long, default_value_t = 200)]
    num_test: usize,
    /// Backend.
    #[arg(long, default_value = "cpu")]
    backend: String,
}

fn generator(o: &Options, device: &burn::prelude::Device) -> Result<Generator, CycleGanError> {
    let file = match (&o.model, &o.run) {
        (Some(file), _) => file.clone(),
        (None, Some(run)) => {
            let net = if o.direction == "BtoA" { "G_B" } else { "G_A" };
            run.join(format!("{}_net_{net}.safetensors", o.epoch))
        }
        _ => {
            return Err(CycleGanError::option(
                "run",
                "give --run FOLDER or --model FILE",
            ));
        }
    };
    Ok(Generator::Resnet(ResnetGenerator::from_pytorch(
        &file, device,
    )?))
}

fn sized(image: RgbImage, size: u32, labels: bool) -> RgbImage {
    if size == 0 || image.dimensions() == (size, size) {
        image
    } else if labels {
        imageops::resize(&image, size, size, imageops::FilterType::Nearest)
    } else {
        resize_bicubic(&image, size, size)
    }
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
    let to_labels = o.direction != "BtoA";
    let (mut model, mut identity) = (
        LabelScores::new(&FACADE_PALETTE),
        LabelScores::new(&FACADE_PALETTE),
    );
    let mut photo_scores = [[0.0f64; 3]; 2];
    for (photo_path, label_path) in &pairs {
        let photo = sized(load_rgb(photo_path)?, o.load_size, false);
        let label = sized(load_rgb(label_path)?, o.load_size, true);
        let (input, truth) = if to_labels {
            (&photo, &label)
        } else {
            (&label, &photo)
        };
        let output = translate_rgb(g, input, device)?;
        if to_labels {
            model.add(truth, &output);
            identity.add(truth, input);
        } else {
            let (w, h) = truth.dimensions();
            let shape = [3, h as usize, w as usize];
            for (k, candidate) in [&output, input].into_iter().enumerate() {
                let (x, y) = (planes(candidate), planes(truth));
                photo_scores[k][0] += l1(&x, &y) / 255.0;
                photo_scores[k][1] += psnr(&x, &y, 255.0);
                photo_scores[k][2] += ssim(&x, &y, shape, 255.0);
            }
        }
    }
    let n = pairs.len() as f64;
    if to_labels {
        println!("facades photo→label, {} test pairs\n", pairs.len());
        println!("| | per-pixel acc. | per-class acc. | mean IoU |\n|---|---|---|---|");
        for (name, s) in [("model", &model), ("identity (input as labels)", &identity)] {
            println!(
                "| {name} | {:.3} | {:.3} | {:.3} |",
                s.pixel_accuracy(),
                s.mean_class_accuracy(),
                s.mean_iou()
            );
        }
    } else {
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
    }
    Ok(())
}

/// Mean |a − b| over the pixels where `mask` says (values 0..=255 per channel, scaled to 0..1).
fn masked_l1(a: &RgbImage, b: &RgbImage, mask: &[bool]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for ((pa, pb), &m) in a.pixels().zip(b.pixels()).zip(mask) {
        if m {
            sum += (0..3)
                .map(|c| (pa.0[c] as f64 - pb.0[c] as f64).abs())
                .sum::<f64>()
                / 3.0
                / 255.0;
            n += 1;
        }
    }
    sum / n.max(1) as f64
}

/// A box blur of side `k` (edge-clamped): stripes of period `k` average out.
fn box_blur(image: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let r = k as i64 / 2;
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0u32; 3];
        let mut n = 0;
        for dy in -r..k as i64 - r {
            for dx in -r..k as i64 - r {
                let sx = (x as i64 + dx).clamp(0, w as i64 - 1) as u32;
                let sy = (y as i64 + dy).clamp(0, h as i64 - 1) as u32;
                let p = image.get_pixel(sx, sy).0;
                (0..3).for_each(|c| acc[c] += p[c] as u32);
                n += 1;
            }
        }
        image::Rgb(acc.map(|v| (v / n) as u8))
    })
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
    let a_to_b = o.direction != "BtoA";
    let period = stripe_period(size).round() as u32;
    // [model, identity] × [in-mask L1, low-pass in-mask L1, background L1]
    let mut scores = [[0.0f64; 3]; 2];
    for i in 0..o.num_test {
        let item = data.paired(i);
        let mask: Vec<bool> = item.mask.pixels().map(|p| p.0[0] > 0).collect();
        let background: Vec<bool> = mask.iter().map(|m| !m).collect();
        let (input, truth) = if a_to_b {
            (&item.a, &item.b)
        } else {
            (&item.b, &item.a)
        };
        let output = translate_rgb(g, input, device)?;
        let truth_low = box_blur(truth, period);
        for (k, candidate) in [&output, input].into_iter().enumerate() {
            scores[k][0] += masked_l1(candidate, truth, &mask);
            scores[k][1] += masked_l1(&box_blur(candidate, period), &truth_low, &mask);
            scores[k][2] += masked_l1(candidate, input, &background);
        }
    }
    let n = o.num_test as f64;
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
    for (name, s) in [("model", scores[0]), ("identity", scores[1])] {
        println!(
            "| {name} | {:.4} | {:.4} | {:.4} |",
            s[0] / n,
            s[1] / n,
            s[2] / n
        );
    }
    Ok(())
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = backend::device(&o.backend)?;
    let g = generator(&o, &device)?;
    match &o.dataroot {
        Some(_) => facades(&o, &g, &device),
        None => stripes(&o, &g, &device),
    }
}

fn main() -> ExitCode {
    match run(Options::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
