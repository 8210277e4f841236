//! Train a CycleGAN, with the options of the official `train.py`.
//!
//! Without `--dataroot` it trains on the embedded StripeShapes data (32×32, flat objects ↔
//! striped objects) with settings that finish in a few minutes on two CPU cores:
//!
//! ```text
//! cargo run --release --example train
//! cargo run --release --example train -- --dataroot ../datasets/horse2zebra --name horse2zebra
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use cyclegan_burn::CycleGanError;
use cyclegan_burn::backend;
use cyclegan_burn::data::{
    DatasetOptions, Direction, Preprocess, TransformOptions, UnalignedDataset,
};
use cyclegan_burn::loss::GanMode;
use cyclegan_burn::model::{InitType, Norm};
use cyclegan_burn::train::report::write_options;
use cyclegan_burn::train::{
    CycleGanConfig, DiscriminatorKind, GeneratorKind, LrPolicy, RunOptions, train,
};

/// Train a CycleGAN (options and defaults of the official train.py; without --dataroot,
/// the embedded StripeShapes data with a small, fast preset).
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case", version)]
struct Options {
    /// Folder with trainA/ and trainB/ (default: the embedded StripeShapes data).
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// Experiment name: files go to <checkpoints_dir>/<name>.
    #[arg(long)]
    name: Option<String>,
    /// Where runs are kept.
    #[arg(long, default_value = "./checkpoints")]
    checkpoints_dir: PathBuf,
    /// Backend: cpu, flex, ndarray, wgpu, vulkan, cuda (as compiled in).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// Seed of weights, image pools, data order, crops and flips.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Channels of domain A images.
    #[arg(long, default_value_t = 3)]
    input_nc: usize,
    /// Channels of domain B images.
    #[arg(long, default_value_t = 3)]
    output_nc: usize,
    /// Generator filters in the first conv layer [default: 64; StripeShapes: 16].
    #[arg(long)]
    ngf: Option<usize>,
    /// Discriminator filters in the first conv layer [default: 64; StripeShapes: 16].
    #[arg(long)]
    ndf: Option<usize>,
    /// resnet_9blocks | resnet_6blocks | unet_256 | unet_128 [default: resnet_9blocks; StripeShapes: resnet_6blocks].
    #[arg(long = "netG")]
    net_g: Option<String>,
    /// basic | n_layers | pixel.
    #[arg(long = "netD", default_value = "basic")]
    net_d: String,
    /// Layers of an n_layers discriminator.
    #[arg(long = "n_layers_D", default_value_t = 3)]
    n_layers_d: usize,
    /// instance | batch | none | instance_affine.
    #[arg(long, default_value = "instance")]
    norm: String,
    /// normal | xavier | kaiming | orthogonal.
    #[arg(long, default_value = "normal")]
    init_type: String,
    /// Scale of normal, xavier and orthogonal init.
    #[arg(long, default_value_t = 0.02)]
    init_gain: f64,
    /// No dropout in the generator (the CycleGAN default; pass --no_dropout false for dropout).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    no_dropout: bool,
    /// AtoB or BtoA.
    #[arg(long, default_value = "AtoB")]
    direction: String,
    /// Take images in order (no shuffling, B paired by index).
    #[arg(long)]
    serial_batches: bool,
    /// Loader threads.
    #[arg(long, default_value_t = 4)]
    num_threads: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 1)]
    batch_size: usize,
    /// Scale images to this size [default: 286; StripeShapes: 32].
    #[arg(long)]
    load_size: Option<usize>,
    /// Then crop to this size [default: 256; StripeShapes: 32].
    #[arg(long)]
    crop_size: Option<usize>,
    /// At most this many images per domain [StripeShapes: 200].
    #[arg(long)]
    max_dataset_size: Option<usize>,
    /// resize_and_crop | crop | scale_width | scale_width_and_crop | none [StripeShapes: none].
    #[arg(long)]
    preprocess: Option<String>,
    /// No random horizontal flip.
    #[arg(long)]
    no_flip: bool,
    /// Epochs at the initial learning rate [default: 100; StripeShapes: 3].
    #[arg(long)]
    n_epochs: Option<usize>,
    /// Epochs of linear decay to zero [default: 100; StripeShapes: 3].
    #[arg(long)]
    n_epochs_decay: Option<usize>,
    /// Adam beta1.
    #[arg(long, default_value_t = 0.5)]
    beta1: f64,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.0002)]
    lr: f64,
    /// lsgan | vanilla | wgangp.
    #[arg(long, default_value = "lsgan")]
    gan_mode: String,
    /// Size of the image pools (0: none).
    #[arg(long, default_value_t = 50)]
    pool_size: usize,
    /// linear | step | cosine | constant.
    #[arg(long, default_value = "linear")]
    lr_policy: String,
    /// Multiply the learning rate by 0.1 every lr_decay_iters epochs (step policy).
    #[arg(long, default_value_t = 50)]
    lr_decay_iters: usize,
    /// Weight of the A → B → A cycle loss.
    #[arg(long = "lambda_A", default_value_t = 10.0)]
    lambda_a: f64,
    /// Weight of the B → A → B cycle loss.
    #[arg(long = "lambda_B", default_value_t = 10.0)]
    lambda_b: f64,
    /// Identity loss weight, relative to the cycle weights (0: off).
    #[arg(long, default_value_t = 0.5)]
    lambda_identity: f64,
    /// Log losses every this many images.
    #[arg(long, default_value_t = 100)]
    print_freq: usize,
    /// Save sample images every this many images.
    #[arg(long, default_value_t = 400)]
    display_freq: usize,
    /// Save latest generator weights every this many images.
    #[arg(long, default_value_t = 5000)]
    save_latest_freq: usize,
    /// Keep the checkpoint of every this many epochs.
    #[arg(long, default_value_t = 5)]
    save_epoch_freq: usize,
    /// Resume from the checkpoint named by --epoch.
    #[arg(long)]
    continue_train: bool,
    /// First epoch number (when not resuming).
    #[arg(long, default_value_t = 1)]
    epoch_count: usize,
    /// Which checkpoint to resume: latest or an epoch number.
    #[arg(long, default_value = "latest")]
    epoch: String,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

struct Plan {
    config: CycleGanConfig,
    run: RunOptions,
    dataset: UnalignedDataset,
    source: String,
}

fn plan(o: &Options) -> Result<Plan, CycleGanError> {
    let stripes = o.dataroot.is_none();
    let pick = |value: Option<usize>, official: usize, preset: usize| {
        value.unwrap_or(if stripes { preset } else { official })
    };
    let net_g: GeneratorKind = o
        .net_g
        .as_deref()
        .unwrap_or(if stripes {
            "resnet_6blocks"
        } else {
            "resnet_9blocks"
        })
        .parse()?;
    let net_d: DiscriminatorKind = o.net_d.parse()?;
    let n_epochs = pick(o.n_epochs, 100, 3);
    let n_epochs_decay = pick(o.n_epochs_decay, 100, 3);
    let config = CycleGanConfig::new()
        .with_input_nc(o.input_nc)
        .with_output_nc(o.output_nc)
        .with_ngf(pick(o.ngf, 64, 16))
        .with_ndf(pick(o.ndf, 64, 16))
        .with_net_g(net_g)
        .with_net_d(net_d)
        .with_n_layers_d(o.n_layers_d)
        .with_norm(o.norm.parse::<Norm>()?)
        .with_init_type(o.init_type.parse::<InitType>()?)
        .with_init_gain(o.init_gain)
        .with_dropout(!o.no_dropout)
        .with_gan_mode(o.gan_mode.parse::<GanMode>()?)
        .with_pool_size(o.pool_size)
        .with_lr(o.lr)
        .with_beta1(o.beta1)
        .with_lambda_a(o.lambda_a)
        .with_lambda_b(o.lambda_b)
        .with_lambda_identity(o.lambda_identity)
        .with_lr_policy(LrPolicy::from_name(
            &o.lr_policy,
            n_epochs,
            n_epochs_decay,
            o.lr_decay_iters,
        )?)
        .with_seed(o.seed);
    config.validate()?;
    let preprocess: Preprocess = o
        .preprocess
        .as_deref()
        .unwrap_or(if stripes { "none" } else { "resize_and_crop" })
        .parse()?;
    if o.batch_size > 1 && matches!(preprocess, Preprocess::None | Preprocess::ScaleWidth) {
        return Err(CycleGanError::option(
            "batch_size",
            format!(
                "--preprocess {preprocess} keeps image sizes, which may differ: use --batch_size 1"
            ),
        ));
    }
    let data_options = DatasetOptions {
        phase: "train".into(),
        direction: o.direction.parse::<Direction>()?,
        serial_batches: o.serial_batches,
        max_dataset_size: o
            .max_dataset_size
            .unwrap_or(if stripes { 200 } else { usize::MAX }),
        input_nc: o.input_nc,
        output_nc: o.output_nc,
        transform: TransformOptions {
            preprocess,
            load_size: pick(o.load_size, 286, 32),
            crop_size: pick(o.crop_size, 256, 32),
            no_flip: o.no_flip,
            channels: 3,
        },
        seed: o.seed,
    };
    let (dataset, source, default_name) = match &o.dataroot {
        Some(root) => (
            UnalignedDataset::new(root, data_options)?,
            root.display().to_string(),
            "experiment_name",
        ),
        None => {
            let size = pick(o.load_size, 286, 32);
            let len = data_options.max_dataset_size;
            (
                UnalignedDataset::stripe_shapes(size, len, data_options)?,
                format!("embedded StripeShapes, {len} images per domain at {size}x{size}"),
                "stripeshapes",
            )
        }
    };
    let run = RunOptions {
        name: o.name.clone().unwrap_or_else(|| default_name.to_string()),
        checkpoints_dir: o.checkpoints_dir.clone(),
        n_epochs,
        n_epochs_decay,
        epoch_count: o.epoch_count,
        batch_size: o.batch_size,
        num_threads: o.num_threads,
        print_freq: o.print_freq,
        display_freq: o.display_freq,
        save_latest_freq: o.save_latest_freq,
        save_epoch_freq: o.save_epoch_freq,
        continue_train: o.continue_train,
        epoch: o.epoch.clone(),
        stop_after_epoch: None,
        max_iters: None,
        progress: !o.quiet,
    };
    Ok(Plan {
        config,
        run,
        dataset,
        source,
    })
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = backend::device(&o.backend)?.autodiff();
    let plan = plan(&o)?;
    let run_dir = plan.run.checkpoints_dir.join(&plan.run.name);
    std::fs::create_dir_all(&run_dir).map_err(|e| CycleGanError::io(&run_dir, e))?;
    // The options as given, under their official names; unset ones show the value in use.
    let official = |name: &str| match name {
        "net_g" => "netG".to_string(),
        "net_d" => "netD".to_string(),
        "n_layers_d" => "n_layers_D".to_string(),
        "lambda_a" => "lambda_A".to_string(),
        "lambda_b" => "lambda_B".to_string(),
        other => other.to_string(),
    };
    let in_use = |name: &str| -> Option<String> {
        Some(match name {
            "name" => plan.run.name.clone(),
            "ngf" => plan.config.ngf.to_string(),
            "ndf" => plan.config.ndf.to_string(),
            "net_g" => plan.config.net_g.to_string(),
            "n_epochs" => plan.run.n_epochs.to_string(),
            "n_epochs_decay" => plan.run.n_epochs_decay.to_string(),
            "preprocess" => plan.dataset.options().transform.preprocess.to_string(),
            "load_size" => plan.dataset.options().transform.load_size.to_string(),
            "crop_size" => plan.dataset.options().transform.crop_size.to_string(),
            "max_dataset_size" => plan.dataset.len_a().max(plan.dataset.len_b()).to_string(),
            "dataroot" => plan.source.clone(),
            _ => return None,
        })
    };
    // `{:#?}` prints `field: value,` per line, and `Some(` / value / `),` over three lines.
    let debug = format!("{o:#?}");
    let mut lines = debug.lines().map(str::trim);
    let mut printed: Vec<(String, String)> = Vec::new();
    while let Some(line) = lines.next() {
        let Some((key, value)) = line.trim_end_matches(',').split_once(": ") else {
            continue;
        };
        let value = match value {
            "Some(" => {
                let inner = lines
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(',')
                    .to_string();
                let _closing = lines.next();
                inner
            }
            "None" => in_use(key).unwrap_or_else(|| "-".into()),
            other => other.to_string(),
        };
        printed.push((official(key), value.trim_matches('"').to_string()));
    }
    write_options(run_dir.join("train_opt.txt"), &printed)?;
    eprintln!(
        "training {} / {} on {} ({}), {} epochs, run folder {}",
        plan.config.net_g,
        plan.config.net_d,
        plan.source,
        o.backend,
        plan.run.n_epochs + plan.run.n_epochs_decay,
        run_dir.display()
    );
    let summary = train(&plan.config, Arc::new(plan.dataset), &plan.run, &device)?;
    let l = summary.last_epoch_losses;
    eprintln!(
        "finished epoch {} ({} images): G {:.3}, D_A {:.3}, D_B {:.3}, cycle {:.3}",
        summary.last_epoch,
        summary.total_iters,
        l.g,
        l.d_a,
        l.d_b,
        l.cycle_a + l.cycle_b
    );
    println!("HTML report: {}", summary.report.display());
    Ok(())
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
