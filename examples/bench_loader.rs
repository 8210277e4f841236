//! Measures the data loader against the training step it has to feed: 256×256 JPEG images
//! per second with the official default transforms (bicubic resize to 286, random 256 crop,
//! flip) and N workers, beside the default CycleGAN's training steps per second at 256².
//!
//! ```text
//! cargo run --release --example bench_loader -- --dataroot ../shared/data/horse2zebra
//! ```

mod common;

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use cyclegan_burn::backend;
use cyclegan_burn::data::{DataLoader, DatasetOptions, UnalignedDataset};
use cyclegan_burn::train::{CycleGan, CycleGanConfig};

/// Loader throughput vs training-step rate.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// A dataset root with trainA/ and trainB/ (256×256 JPEGs for the reference figure).
    #[arg(long)]
    dataroot: std::path::PathBuf,
    /// Loader threads to measure (comma-separated).
    #[arg(long, default_value = "0,1,2")]
    workers: String,
    /// Batches (of 1) to load per measurement.
    #[arg(long, default_value_t = 200)]
    images: usize,
    /// Training steps of the default network at 256² to time (0: skip).
    #[arg(long, default_value_t = 2)]
    steps: usize,
}

fn main() -> std::process::ExitCode {
    common::main_with(run)
}

fn run(o: Options) -> Result<(), cyclegan_burn::CycleGanError> {
    let device = backend::cpu();
    let dataset = Arc::new(UnalignedDataset::new(
        &o.dataroot,
        DatasetOptions {
            max_dataset_size: o.images,
            ..Default::default()
        },
    )?);
    println!("| loader threads | pairs/s (A+B images, 286 resize + 256 crop + flip) |");
    println!("|---|---|");
    for workers in o
        .workers
        .split(',')
        .map(|w| w.trim().parse::<usize>().unwrap_or(0))
    {
        let loader = DataLoader::new(dataset.clone(), 1, workers, &device);
        let start = Instant::now();
        let mut n = 0;
        for batch in loader.iter() {
            let batch = batch?;
            n += batch.real_a.dims()[0];
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        println!("| {workers} | {rate:.1} |");
    }
    if o.steps > 0 {
        let train_device = device.autodiff();
        let mut gan = CycleGan::try_new(&CycleGanConfig::new(), &train_device)?;
        let loader = DataLoader::new(dataset.clone(), 1, 0, &train_device);
        let batches: Vec<_> = loader.iter().take(o.steps + 1).collect::<Result<_, _>>()?;
        gan.train_step(batches[0].real_a.clone(), batches[0].real_b.clone());
        let start = Instant::now();
        for batch in &batches[1..] {
            gan.train_step(batch.real_a.clone(), batch.real_b.clone());
        }
        let rate = o.steps as f64 / start.elapsed().as_secs_f64();
        println!(
            "\ndefault CycleGAN (resnet_9blocks, basic D) train_step at 256², batch 1: {rate:.3} steps/s"
        );
    }
    Ok(())
}
