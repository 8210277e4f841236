//! Translate images with a trained generator (the official `test.py`, and the one-direction
//! `test` model).
//!
//! ```text
//! # a generator file: official .pth / .safetensors (architecture detected from the tensors)
//! cargo run --release --example translate -- --model latest_net_G_A.pth --input photo.jpg
//! # a run folder of the train example, G_A (A→B) or G_B (B→A)
//! cargo run --release --example translate -- --run checkpoints/stripeshapes --input ./dir
//! # a dataset root: translates <root>/testA (or testB with --direction BtoA)
//! cargo run --release --example translate -- --run checkpoints/horse2zebra --dataroot ./horse2zebra
//! ```

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::{BackendOption, GeneratorSource};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::data::Direction;
use cyclegan_burn::data::folder::{is_image_file, list_images, load_rgb};
use cyclegan_burn::data::image::save_rgb;
use cyclegan_burn::translate::translate_rgb;

/// Translate images at full resolution with a trained CycleGAN generator.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case", version)]
struct Options {
    #[command(flatten)]
    generator: GeneratorSource,
    /// An image or a folder of images.
    #[arg(long, conflicts_with = "dataroot")]
    input: Option<PathBuf>,
    /// A dataset root: translates <dataroot>/<phase>A (or B with BtoA).
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// The phase folder prefix for --dataroot.
    #[arg(long, default_value = "test")]
    phase: String,
    /// Where results go.
    #[arg(long, default_value = "./results")]
    results_dir: PathBuf,
    /// At most this many images (default: all).
    #[arg(long)]
    num_test: Option<usize>,
    #[command(flatten)]
    backend: BackendOption,
}

fn inputs(o: &Options) -> Result<Vec<PathBuf>, CycleGanError> {
    let mut paths = match (&o.input, &o.dataroot) {
        (Some(input), _) if input.is_file() => {
            if !is_image_file(input) {
                return Err(CycleGanError::Data {
                    path: input.clone(),
                    message: "not an image file (jpg, jpeg, png, ppm, bmp, tif, tiff)".into(),
                });
            }
            vec![input.clone()]
        }
        (Some(input), _) => list_images(input, usize::MAX)?,
        (None, Some(root)) => {
            let side = match o.generator.direction {
                Direction::AtoB => "A",
                Direction::BtoA => "B",
            };
            list_images(&root.join(format!("{}{side}", o.phase)), usize::MAX)?
        }
        (None, None) => {
            return Err(CycleGanError::config(
                "input",
                "give --input PATH or --dataroot FOLDER",
            ));
        }
    };
    if let Some(n) = o.num_test {
        paths.truncate(n);
    }
    Ok(paths)
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = o.backend.device()?;
    let (generator, model_file) = o.generator.load(&device)?;
    let paths = inputs(&o)?;
    let images_dir = o.results_dir.join("images");
    std::fs::create_dir_all(&images_dir).map_err(|e| CycleGanError::io(&images_dir, e))?;
    let bar = indicatif::ProgressBar::new(paths.len() as u64);
    let mut rows = String::new();
    for (i, path) in paths.iter().enumerate() {
        let image = load_rgb(path)?;
        let output = translate_rgb(&generator, &image, &device)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| i.to_string());
        let real = format!("{stem}_real.png");
        let fake = format!("{stem}_fake.png");
        save_rgb(&image, images_dir.join(&real))?;
        save_rgb(&output, images_dir.join(&fake))?;
        let _ = writeln!(
            rows,
            "<tr><td>{stem}</td><td><img src=\"images/{real}\"></td><td><img src=\"images/{fake}\"></td></tr>"
        );
        bar.inc(1);
    }
    bar.finish_and_clear();
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>img{{max-width:256px}} td{{text-align:center;font-family:sans-serif}}</style></head><body>\
         <h1>{title}</h1><table><tr><th>image</th><th>real</th><th>fake</th></tr>\n{rows}</table></body></html>\n",
        title = model_file.display()
    );
    let index = o.results_dir.join("index.html");
    cyclegan_burn::io::write_atomic(&index, html.as_bytes())?;
    eprintln!("translated {} images", paths.len());
    println!("results: {}", index.display());
    Ok(())
}

fn main() -> ExitCode {
    common::main_with(run)
}
