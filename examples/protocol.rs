//! The quality protocols of `docs/results.md` as single commands: train each seed (and each
//! ablation variant) with a fixed budget, score the generator on paired test data beside the
//! trivial baselines, and print the tables as mean ± standard deviation over the seeds.
//!
//! ```text
//! # S: StripeShapes 32², ngf/ndf 32, 2,000 images per domain, constant lr, 5,000 steps, seeds 0-2
//! cargo run --release --example protocol -- --protocol S
//! # F: facades 64², ngf/ndf 32, 10 + 10 epochs (6,060 steps), seeds 0-2, G_A photo → label
//! cargo run --release --example protocol -- --protocol F --dataroot ../shared/data/facades
//! # the paper's ablation (Table 5 columns) on facades, seed 0
//! cargo run --release --example protocol -- --protocol F --dataroot ../shared/data/facades --ablation --seeds 0
//! # CUT and FastCUT at protocol F's networks and budget
//! cargo run --release --example protocol -- --protocol F --dataroot ../shared/data/facades --model cut
//! cargo run --release --example protocol -- --protocol F --dataroot ../shared/data/facades --model cut --CUT_mode FastCUT
//! ```
//!
//! `--steps` (S) and `--n_epochs` / `--n_epochs_decay` (F) change the budget for a quicker
//! look; the tables then say so. Each run trains through the library's `train` into
//! `--out/<protocol>_<variant>_seed<seed>/`: the official-named `latest_net_*.safetensors`,
//! `loss_log.txt`, the HTML report, a `samples.png` of test translations, and `run.json`
//! with the budget and the training wall time. A later call with the same budget scores
//! finished runs instead of training them again (`--retrain` to override) and resumes
//! unfinished ones from their last checkpoint (written after every epoch), so a protocol can
//! be stopped and continued, seeds can run as parallel processes, and one more call prints
//! the table over all of them.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use burn::data::dataset::Dataset;
use burn::prelude::Device;
use clap::Parser;
use common::{BackendOption, ModelName};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::cut::{CutConfig, CutMode};
use cyclegan_burn::data::folder::load_rgb;
use cyclegan_burn::data::paired::paired_files;
use cyclegan_burn::data::{
    DatasetOptions, Direction, Preprocess, StripeShapes, TransformOptions, UnalignedDataset,
};
use cyclegan_burn::io::write_atomic;
use cyclegan_burn::metrics::{
    FACADE_PALETTE, LabelScores, PairedLabelScores, StripeScores, resized,
};
use cyclegan_burn::model::{Generator, GeneratorKind, ResnetGenerator};
use cyclegan_burn::train::{
    Checkpointer, Console, CycleGanConfig, LrPolicy, RunOptions, RunSummary, train_cut_observed,
    train_observed,
};
use cyclegan_burn::translate::translate_rgb;
use image::{Rgb, RgbImage, imageops};

/// Run a quality protocol (S: StripeShapes, F: facades) over seeds and ablation variants.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// S (StripeShapes 32²) or F (facades 64², needs --dataroot).
    #[arg(long, value_enum)]
    protocol: Protocol,
    /// The model: cycle_gan, or cut (protocol F only: CUT's defaults on the protocol's
    /// networks, budget and data; its one generator is scored).
    #[arg(long, value_enum, default_value_t = ModelName::CycleGan)]
    model: ModelName,
    /// cut: CUT or FastCUT.
    #[arg(long = "CUT_mode", value_enum, default_value_t = CutMode::Cut)]
    cut_mode: CutMode,
    /// Facades folder (trainA/trainB photos/labels, testA/testB paired by file stem).
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// Seeds, comma-separated.
    #[arg(long, default_value = "0,1,2")]
    seeds: String,
    /// Run the paper's five loss variants (cycle alone, GAN alone, GAN + forward cycle,
    /// GAN + backward cycle, CycleGAN) instead of the full model only.
    #[arg(long)]
    ablation: bool,
    /// S: training steps (protocol: 5000).
    #[arg(long, default_value_t = 5000)]
    steps: usize,
    /// F: epochs at the initial learning rate (protocol: 10).
    #[arg(long, default_value_t = 10)]
    n_epochs: usize,
    /// F: epochs of linear decay (protocol: 10).
    #[arg(long, default_value_t = 10)]
    n_epochs_decay: usize,
    /// Where runs are kept.
    #[arg(long, default_value = "./checkpoints/protocol")]
    out: PathBuf,
    #[command(flatten)]
    backend: BackendOption,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Train every run again from scratch, deleting its folder in `--out` first (by
    /// default finished runs with the same budget are only scored and unfinished ones
    /// resume from their last checkpoint, so an interrupted protocol goes on, and seeds
    /// run as separate processes can be summarised by one more call).
    #[arg(long)]
    retrain: bool,
}

/// A loss variant of the paper's ablation (its Tables 4-5).
#[derive(Debug, Clone, Copy)]
struct Variant {
    label: &'static str,
    key: &'static str,
    gan: bool,
    forward_cycle: bool,
    backward_cycle: bool,
}

const FULL: Variant = Variant {
    label: "CycleGAN",
    key: "full",
    gan: true,
    forward_cycle: true,
    backward_cycle: true,
};

/// In the paper's row order.
/// CUT (`--model cut`; the loss switches are CycleGAN's and unused).
const CUT: Variant = Variant {
    label: "CUT",
    key: "cut",
    gan: true,
    forward_cycle: false,
    backward_cycle: false,
};

/// FastCUT (`--model cut --CUT_mode FastCUT`).
const FAST_CUT: Variant = Variant {
    label: "FastCUT",
    key: "fastcut",
    gan: true,
    forward_cycle: false,
    backward_cycle: false,
};

const ABLATION: [Variant; 5] = [
    Variant {
        label: "Cycle alone",
        key: "cycle",
        gan: false,
        forward_cycle: true,
        backward_cycle: true,
    },
    Variant {
        label: "GAN alone",
        key: "gan",
        gan: true,
        forward_cycle: false,
        backward_cycle: false,
    },
    Variant {
        label: "GAN + forward cycle",
        key: "gan_forward",
        gan: true,
        forward_cycle: true,
        backward_cycle: false,
    },
    Variant {
        label: "GAN + backward cycle",
        key: "gan_backward",
        gan: true,
        forward_cycle: false,
        backward_cycle: true,
    },
    FULL,
];

/// Protocol F trains and scores facades at this side length.
const FACADES_SIZE: u32 = 64;

/// `--protocol`: S (StripeShapes 32²) or F (facades 64²).
#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
enum Protocol {
    /// StripeShapes 32².
    #[value(name = "S", alias = "s")]
    Stripes,
    /// Facades 64² (needs --dataroot).
    #[value(name = "F", alias = "f")]
    Facades,
}

impl Protocol {
    /// The protocol's letter, as in docs/results.md and the summary files.
    fn letter(self) -> &'static str {
        match self {
            Protocol::Stripes => "S",
            Protocol::Facades => "F",
        }
    }
}

/// The scores of one run, in the order of [`Protocol::columns`].
struct RunResult {
    scores: Vec<f64>,
    seconds: f64,
    steps: usize,
}

impl Protocol {
    fn columns(self) -> &'static [&'static str] {
        match self {
            Protocol::Stripes => &[
                "B→A in-mask L1 ↓",
                "A→B low-pass in-mask L1 ↓",
                "A→B background L1 (vs input)",
                "A→B in-mask L1",
            ],
            Protocol::Facades => &["Per-pixel acc. ↑", "Per-class acc. ↑", "Class IOU ↑"],
        }
    }
}

fn config(protocol: Protocol, variant: Variant, seed: u64) -> CycleGanConfig {
    let lambda = |on: bool| if on { 10.0 } else { 0.0 };
    let gan = if variant.gan { 1.0 } else { 0.0 };
    CycleGanConfig::new()
        .with_ngf(32)
        .with_ndf(32)
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_lambda_a(lambda(variant.forward_cycle))
        .with_lambda_b(lambda(variant.backward_cycle))
        .with_lambda_identity(0.5)
        .with_lambda_gan_a(gan)
        .with_lambda_gan_b(gan)
        .with_lr(2e-4)
        .with_pool_size(50)
        .with_lr_policy(match protocol {
            Protocol::Stripes => LrPolicy::Constant,
            Protocol::Facades => LrPolicy::Linear,
        })
        .with_seed(seed)
}

fn dataset(protocol: Protocol, seed: u64, o: &Options) -> Result<UnalignedDataset, CycleGanError> {
    let (preprocess, size) = match protocol {
        Protocol::Stripes => (Preprocess::None, 32),
        Protocol::Facades => (Preprocess::ResizeAndCrop, FACADES_SIZE as usize),
    };
    let options = DatasetOptions {
        phase: "train".into(),
        direction: Direction::AtoB,
        transform: TransformOptions {
            preprocess,
            load_size: size,
            crop_size: size,
            no_flip: false,
            channels: 3,
        },
        seed,
        ..DatasetOptions::default()
    };
    match protocol {
        Protocol::Stripes => UnalignedDataset::stripe_shapes(32, 2000, options),
        Protocol::Facades => UnalignedDataset::new(facades_root(o)?, options),
    }
}

/// The checkpoint names of the A → B and B → A generators of a run of `model`.
fn generator_names(model: ModelName) -> [&'static str; 2] {
    match model {
        ModelName::CycleGan => ["G_A", "G_B"],
        ModelName::Cut => ["G", "G"],
    }
}

fn facades_root(o: &Options) -> Result<&Path, CycleGanError> {
    o.dataroot.as_deref().ok_or_else(|| {
        CycleGanError::config(
            "dataroot",
            "protocol F needs --dataroot, the facades folder (trainA/trainB/testA/testB)",
        )
    })
}

/// Trains one run through the library's [`train_observed`]: a `latest` checkpoint after every epoch
/// and at the end of the step budget, so a run that is killed resumes (`resume`) from its
/// last epoch instead of starting again.
fn train_run(
    protocol: Protocol,
    variant: Variant,
    seed: u64,
    o: &Options,
    run_name: &str,
    resume: bool,
    device: &Device,
) -> Result<RunSummary, CycleGanError> {
    let dataset = Arc::new(dataset(protocol, seed, o)?);
    let (n_epochs, n_epochs_decay, budget) = match protocol {
        Protocol::Stripes => (o.steps.div_ceil(dataset.len().max(1)), 0, o.steps),
        Protocol::Facades => (
            o.n_epochs,
            o.n_epochs_decay,
            dataset.len() * (o.n_epochs + o.n_epochs_decay),
        ),
    };
    let config = config(protocol, variant, seed)
        .with_n_epochs(n_epochs)
        .with_n_epochs_decay(n_epochs_decay);
    let options = RunOptions {
        name: run_name.into(),
        checkpoints_dir: o.out.clone(),
        batch_size: 1,
        num_threads: 2,
        print_freq: 100,
        display_freq: 1000,
        save_latest_freq: 0,
        save_epoch_freq: 0,
        continue_train: resume,
        max_iters: Some(budget),
        ..RunOptions::default()
    };
    let mut console = Console::new().with_progress_bar(!o.quiet);
    let device = device.clone().autodiff();
    match o.model {
        ModelName::CycleGan => {
            train_observed(&config, dataset, &options, &device, &mut [&mut console])
        }
        ModelName::Cut => {
            let cut = cut_config(&config, o.cut_mode)?;
            let dataset = Arc::new(
                Arc::try_unwrap(dataset)
                    .map_err(|_| CycleGanError::config("dataset", "shared before training"))?
                    .with_fine_tuning_after(Some(cut.schedule.n_epochs as u64)),
            );
            train_cut_observed(&cut, dataset, &options, &device, &mut [&mut console])
        }
    }
}

/// CUT or FastCUT with the protocol's networks, optimizer, schedule and seed (`shared`, the
/// CycleGAN configuration of the run) and CUT's own defaults for the rest: xavier init,
/// anti-aliased G and D, netF mlp_sample 256, 256 patches at layers 0,4,8,12,16, and the
/// mode's lambda_NCE, nce_idt and flips.
fn cut_config(shared: &CycleGanConfig, mode: CutMode) -> Result<CutConfig, CycleGanError> {
    let config = CutConfig {
        networks: shared
            .networks
            .clone()
            .with_init_type(cyclegan_burn::model::InitType::Xavier),
        optimizer: shared.optimizer.clone(),
        schedule: shared.schedule.clone(),
        seed: shared.seed,
        ..CutConfig::new().with_cut_mode(mode)
    };
    config.validate()?;
    Ok(config)
}

/// Input, output and truth side by side for the first `n` test items, scaled up.
fn sample_grid(rows: &[[RgbImage; 3]], scale: u32) -> RgbImage {
    let (w, h) = rows[0][0].dimensions();
    let (cw, ch) = (w * scale, h * scale);
    let mut grid = RgbImage::from_pixel(3 * cw + 4, rows.len() as u32 * (ch + 2), Rgb([255; 3]));
    for (r, row) in rows.iter().enumerate() {
        for (c, image) in row.iter().enumerate() {
            let big = imageops::resize(image, cw, ch, imageops::FilterType::Nearest);
            imageops::replace(
                &mut grid,
                &big,
                (c as u32 * (cw + 2)) as i64,
                (r as u32 * (ch + 2)) as i64,
            );
        }
    }
    grid
}

fn score(
    protocol: Protocol,
    (g_a, g_b): (&Generator, &Generator),
    o: &Options,
    run_dir: &Path,
    device: &Device,
) -> Result<(Vec<f64>, Vec<f64>), CycleGanError> {
    match protocol {
        Protocol::Stripes => {
            let test = StripeShapes::test(32, 200);
            let a_to_b = StripeScores::measure(g_a, &test, true, device)?;
            let b_to_a = StripeScores::measure(g_b, &test, false, device)?;
            let rows = (0..8)
                .map(|i| {
                    let item = test.paired(i);
                    let out = translate_rgb(g_a, &item.a, device)?;
                    Ok([item.a, out, item.b])
                })
                .collect::<Result<Vec<_>, CycleGanError>>()?;
            save_png(&sample_grid(&rows, 4), &run_dir.join("samples.png"))?;
            let pick = |s: &StripeScores, model: bool| if model { s.model } else { s.identity };
            let row = |model: bool| {
                vec![
                    pick(&b_to_a, model)[0],
                    pick(&a_to_b, model)[1],
                    pick(&a_to_b, model)[2],
                    pick(&a_to_b, model)[0],
                ]
            };
            Ok((row(true), row(false)))
        }
        Protocol::Facades => {
            let pairs = paired_files(facades_root(o)?, "test")?;
            let scores =
                PairedLabelScores::measure(g_a, &pairs, FACADES_SIZE, &FACADE_PALETTE, device)?;
            let rows = pairs
                .iter()
                .take(8)
                .map(|(photo, label)| {
                    let photo = resized(load_rgb(photo)?, FACADES_SIZE, false);
                    let label = resized(load_rgb(label)?, FACADES_SIZE, true);
                    let out = translate_rgb(g_a, &photo, device)?;
                    Ok([photo, out, label])
                })
                .collect::<Result<Vec<_>, CycleGanError>>()?;
            save_png(&sample_grid(&rows, 2), &run_dir.join("samples.png"))?;
            let row =
                |s: &LabelScores| vec![s.pixel_accuracy(), s.mean_class_accuracy(), s.mean_iou()];
            Ok((row(&scores.model), row(&scores.identity)))
        }
    }
}

fn save_png(image: &RgbImage, path: &Path) -> Result<(), CycleGanError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| CycleGanError::io(path, std::io::Error::other(e)))?;
    write_atomic(path, bytes.get_ref())
}

/// The all-"facade" prediction: the majority class everywhere.
fn facade_everywhere(o: &Options) -> Result<Vec<f64>, CycleGanError> {
    let pairs = paired_files(facades_root(o)?, "test")?;
    let mut scores = LabelScores::new(&FACADE_PALETTE);
    for (_, label) in &pairs {
        let label = resized(load_rgb(label)?, FACADES_SIZE, true);
        let (w, h) = label.dimensions();
        scores.add(&label, &RgbImage::from_pixel(w, h, Rgb(FACADE_PALETTE[1])));
    }
    Ok(vec![
        scores.pixel_accuracy(),
        scores.mean_class_accuracy(),
        scores.mean_iou(),
    ])
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let protocol = o.protocol;
    if protocol == Protocol::Facades {
        facades_root(&o)?;
    }
    let seeds = o
        .seeds
        .split(',')
        .map(|s| {
            s.trim().parse::<u64>().map_err(|_| {
                CycleGanError::config("seeds", format!("`{s}` is not a seed (use e.g. 0,1,2)"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let device = o.backend.device()?;
    let variants: Vec<Variant> = match (o.model, o.ablation) {
        (ModelName::Cut, _) if protocol != Protocol::Facades || o.ablation => {
            return Err(CycleGanError::config(
                "model",
                "--model cut runs protocol F without --ablation (CUT has no B → A generator for S's scores)",
            ));
        }
        (ModelName::Cut, _) => vec![match o.cut_mode {
            CutMode::Cut => CUT,
            CutMode::FastCut => FAST_CUT,
        }],
        (ModelName::CycleGan, true) => ABLATION.to_vec(),
        (ModelName::CycleGan, false) => vec![FULL],
    };
    let budget = match protocol {
        Protocol::Stripes => format!(
            "StripeShapes 32², resnet_6blocks ngf 32, basic D ndf 32, 2,000 images per domain, batch 1, constant lr 2e-4, {} steps; 200 test latents",
            o.steps
        ),
        Protocol::Facades => format!(
            "facades 64² (bicubic; labels nearest for scoring), flip, resnet_6blocks ngf 32, basic D ndf 32, lsgan, {}, batch 1, {} + {} epochs; G_A(testA) photo→label on 75 test pairs",
            match o.model {
                ModelName::CycleGan => "λ 10/10, identity 0.5, pool 50".to_string(),
                ModelName::Cut => format!(
                    "{}: anti-aliased G and D, xavier, netF mlp_sample 256, 256 patches at 0,4,8,12,16, no resize-crop in the decay epochs",
                    o.cut_mode
                ),
            },
            o.n_epochs,
            o.n_epochs_decay
        ),
    };
    let mut report = format!(
        "{budget}; seeds {}; backend {}\n\n",
        o.seeds, o.backend.backend
    );
    let mut identity_row = None;
    let mut rows: Vec<(Variant, Vec<RunResult>)> = Vec::new();
    for &variant in &variants {
        let mut results = Vec::new();
        for &seed in &seeds {
            let run_name = format!("{}_{}_seed{seed}", protocol.letter(), variant.key);
            let run_dir = o.out.join(&run_name);
            if o.retrain && run_dir.exists() {
                // From scratch: no old checkpoint, loss history or samples left behind.
                std::fs::remove_dir_all(&run_dir).map_err(|e| CycleGanError::io(&run_dir, e))?;
            }
            std::fs::create_dir_all(&run_dir).map_err(|e| CycleGanError::io(&run_dir, e))?;
            let net_path = |name: &str| run_dir.join(format!("latest_net_{name}.safetensors"));
            let record_path = run_dir.join("run.json");
            let budget_key = match protocol {
                Protocol::Stripes => format!("S steps {}", o.steps),
                Protocol::Facades => format!("F epochs {}+{}", o.n_epochs, o.n_epochs_decay),
            };
            let record = std::fs::read(&record_path)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
            let same_budget = record
                .as_ref()
                .is_some_and(|r| r["budget"] == budget_key.as_str());
            if let Some(other) = record.as_ref().filter(|_| !same_budget && !o.retrain) {
                return Err(CycleGanError::config(
                    "out",
                    format!(
                        "{} holds a run with another budget ({}); use --retrain to replace it or another --out",
                        run_dir.display(),
                        other["budget"]
                    ),
                ));
            }
            // Records written before runs could resume have no `finished` key: they are
            // finished.
            let finished = same_budget
                && !o.retrain
                && record.as_ref().is_some_and(|r| r["finished"] != false)
                && generator_names(o.model)
                    .iter()
                    .all(|name| net_path(name).exists());
            let (seconds, steps) = if finished {
                let record = record.expect("read above");
                eprintln!(
                    "{}: finished earlier, scoring its generators",
                    run_dir.display()
                );
                (
                    record["seconds"].as_f64().unwrap_or(0.0),
                    record["steps"].as_u64().unwrap_or(0) as usize,
                )
            } else {
                let resume =
                    same_budget && !o.retrain && Checkpointer::new(&run_dir)?.exists("latest");
                if resume {
                    eprintln!("{}: resuming from its last checkpoint", run_dir.display());
                }
                let started = serde_json::json!({
                    "budget": budget_key,
                    "finished": false,
                    "backend": o.backend.backend,
                });
                write_atomic(&record_path, started.to_string().as_bytes())?;
                let summary = train_run(protocol, variant, seed, &o, &run_name, resume, &device)?;
                let record = serde_json::json!({
                    "budget": budget_key,
                    "finished": true,
                    "seconds": summary.train_seconds,
                    "steps": summary.total_iters,
                    "backend": o.backend.backend,
                });
                write_atomic(&record_path, record.to_string().as_bytes())?;
                (summary.train_seconds, summary.total_iters)
            };
            let load = |name: &str| -> Result<Generator, CycleGanError> {
                Ok(Generator::Resnet(ResnetGenerator::from_pytorch(
                    net_path(name),
                    &device,
                )?))
            };
            // A CUT run's one generator stands in for G_B too: protocol F scores G_A only.
            let [a, b] = generator_names(o.model);
            let (g_a, g_b) = (load(a)?, load(b)?);
            let (scores, identity) = score(protocol, (&g_a, &g_b), &o, &run_dir, &device)?;
            let line = format!(
                "{} seed {seed}: {} steps in {:.1} min; {}",
                variant.label,
                steps,
                seconds / 60.0,
                protocol
                    .columns()
                    .iter()
                    .zip(&scores)
                    .map(|(c, v)| format!("{c} {v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            eprintln!("{line}");
            report.push_str(&line);
            report.push('\n');
            identity_row.get_or_insert(identity);
            results.push(RunResult {
                scores,
                seconds,
                steps,
            });
        }
        rows.push((variant, results));
    }
    let columns = protocol.columns();
    let mut table = format!(
        "\n| Loss | {} | runs | minutes per run |\n|---|",
        columns.join(" | ")
    );
    table.push_str(&"---|".repeat(columns.len() + 2));
    table.push('\n');
    for (variant, results) in &rows {
        let _ = write!(table, "| {} |", variant.label);
        for k in 0..columns.len() {
            let values: Vec<f64> = results.iter().map(|r| r.scores[k]).collect();
            let (mean, std) = mean_std(&values);
            if values.len() > 1 {
                let _ = write!(table, " {mean:.3} ± {std:.3} |");
            } else {
                let _ = write!(table, " {mean:.3} |");
            }
        }
        let minutes: Vec<f64> = results.iter().map(|r| r.seconds / 60.0).collect();
        let steps = results.first().map_or(0, |r| r.steps);
        let _ = writeln!(
            table,
            " {} × {steps} steps | {:.1} |",
            results.len(),
            mean_std(&minutes).0
        );
    }
    let baseline = |name: &str, values: &[f64]| {
        format!(
            "| {name} |{} | |\n",
            values
                .iter()
                .map(|v| format!(" {v:.3} |"))
                .collect::<String>()
        )
    };
    if let Some(identity) = &identity_row {
        table.push_str(&baseline("identity (output = input)", identity));
    }
    if protocol == Protocol::Facades {
        table.push_str(&baseline("all \"facade\"", &facade_everywhere(&o)?));
    }
    report.push_str(&table);
    println!("{report}");
    write_atomic(
        o.out.join(format!(
            "{}_{}summary.md",
            protocol.letter(),
            if o.ablation { "ablation_" } else { "" }
        )),
        report.as_bytes(),
    )?;
    Ok(())
}

fn main() -> ExitCode {
    common::main_with(run)
}
