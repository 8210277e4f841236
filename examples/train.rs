//! Train a CycleGAN, or CUT / FastCUT (`--model cut`), with the options of the official
//! `train.py` (CycleGAN's and CUT's).
//!
//! Without `--dataroot` it trains on the embedded StripeShapes data (32×32, flat objects ↔
//! striped objects) with settings that finish in a few minutes on two CPU cores:
//!
//! ```text
//! cargo run --release --example train
//! cargo run --release --example train -- --dataroot ../datasets/horse2zebra --name horse2zebra
//! cargo run --release --example train -- --model cut --CUT_mode FastCUT --dataroot ../datasets/horse2zebra
//! ```

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use burn::prelude::Device;
use clap::Parser;
use common::{BackendOption, ModelName, official_name, official_name_or_none};
use cyclegan_burn::cut::{CutConfig, CutMode, NetF};
use cyclegan_burn::data::{
    DatasetOptions, Direction, Preprocess, StripeShapes, TransformOptions, UnalignedDataset,
};
use cyclegan_burn::loss::GanMode;
use cyclegan_burn::model::{DiscriminatorKind, GeneratorKind, InitType, Norm};
use cyclegan_burn::train::report::{Report, write_options};
use cyclegan_burn::train::{
    Checkpointer, Console, CycleGanConfig, LrPolicyName, RunOptions, RunSummary,
    train_cut_observed, train_observed, write_test_page,
};
use cyclegan_burn::{CycleGanError, backend};
use serde::Serialize;

/// Train a CycleGAN or CUT / FastCUT (options and defaults of the official train.py; without
/// --dataroot, the embedded StripeShapes data with a small, fast preset and a held-out test
/// page).
#[derive(Parser, Debug, Serialize)]
#[command(rename_all = "snake_case", version)]
struct Options {
    /// The model: cycle_gan, or cut (CUT and FastCUT, with the options of the official CUT
    /// code).
    #[arg(long, value_enum, default_value_t = ModelName::CycleGan)]
    #[serde(serialize_with = "official_name")]
    model: ModelName,
    /// cut: CUT or FastCUT; sets the defaults of nce_idt, lambda_NCE, flip_equivariance
    /// and the epochs (200 + 200, FastCUT 150 + 50) [default: CUT].
    #[arg(long = "CUT_mode", value_enum)]
    #[serde(rename = "CUT_mode", serialize_with = "official_name_or_none")]
    cut_mode: Option<CutMode>,
    /// cut: weight of the GAN loss [default: 1].
    #[arg(long = "lambda_GAN")]
    #[serde(rename = "lambda_GAN")]
    lambda_gan: Option<f64>,
    /// cut: weight of the NCE loss [default: CUT 1, FastCUT 10].
    #[arg(long = "lambda_NCE")]
    #[serde(rename = "lambda_NCE")]
    lambda_nce: Option<f64>,
    /// cut: the identity NCE term NCE(G(Y), Y) [default: CUT true, FastCUT false].
    #[arg(long, action = clap::ArgAction::Set)]
    nce_idt: Option<bool>,
    /// cut: the generator layers whose features NCE compares [default: 0,4,8,12,16].
    #[arg(long)]
    nce_layers: Option<String>,
    /// cut: negatives from every image of the batch [default: false].
    #[arg(long, action = clap::ArgAction::Set)]
    nce_includes_all_negatives_from_minibatch: Option<bool>,
    /// cut: how netF samples the features [default: mlp_sample].
    #[arg(long = "netF", value_enum)]
    #[serde(rename = "netF", serialize_with = "official_name_or_none")]
    net_f: Option<NetF>,
    /// cut: width of netF's MLPs [default: 256].
    #[arg(long = "netF_nc")]
    #[serde(rename = "netF_nc")]
    netf_nc: Option<usize>,
    /// cut: temperature of the NCE loss [default: 0.07].
    #[arg(long = "nce_T")]
    #[serde(rename = "nce_T")]
    nce_t: Option<f64>,
    /// cut: patches per layer [default: 256].
    #[arg(long)]
    num_patches: Option<usize>,
    /// cut: flip equivariance [default: CUT false, FastCUT true].
    #[arg(long, action = clap::ArgAction::Set)]
    flip_equivariance: Option<bool>,
    /// cut: stride-2 convs instead of CUT's anti-aliased downsampling.
    #[arg(long)]
    no_antialias: bool,
    /// cut: transposed convs instead of CUT's upsample + conv.
    #[arg(long)]
    no_antialias_up: bool,
    /// Folder with trainA/ and trainB/ (default: the embedded StripeShapes data).
    #[arg(long)]
    dataroot: Option<PathBuf>,
    /// Experiment name: files go to <checkpoints_dir>/<name>.
    #[arg(long)]
    name: Option<String>,
    /// Where runs are kept.
    #[arg(long, default_value = "./checkpoints")]
    checkpoints_dir: PathBuf,
    #[command(flatten)]
    #[serde(flatten)]
    backend: BackendOption,
    /// GPU ids: e.g. 0  0,1,2  0,2; -1 for the CPU. Several ids train data parallel, one
    /// replica per GPU of --backend (cuda), each taking --batch_size images of every step.
    #[arg(long = "gpu_ids", allow_hyphen_values = true)]
    gpu_ids: Option<String>,
    /// Devices, one replica each (data parallel, --batch_size images each), named as
    /// --backend takes them: e.g. cuda:0,cuda:1, or cpu,cpu for two replicas on the CPU.
    #[arg(long)]
    devices: Option<String>,
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
    /// Generator architecture [default: resnet_9blocks; StripeShapes: resnet_6blocks].
    #[arg(long = "netG", value_enum)]
    #[serde(rename = "netG", serialize_with = "official_name_or_none")]
    net_g: Option<GeneratorKind>,
    /// Discriminator architecture [default: basic; StripeShapes: n_layers].
    #[arg(long = "netD", value_enum)]
    #[serde(rename = "netD", serialize_with = "official_name_or_none")]
    net_d: Option<DiscriminatorKind>,
    /// Layers of an n_layers discriminator [default: 3; StripeShapes: 1].
    #[arg(long = "n_layers_D")]
    #[serde(rename = "n_layers_D")]
    n_layers_d: Option<usize>,
    /// Normalisation layers.
    #[arg(long, value_enum, default_value_t = Norm::Instance)]
    #[serde(serialize_with = "official_name")]
    norm: Norm,
    /// Weight initialisation [default: normal; cut: xavier].
    #[arg(long, value_enum)]
    #[serde(serialize_with = "official_name_or_none")]
    init_type: Option<InitType>,
    /// Scale of normal, xavier and orthogonal init.
    #[arg(long, default_value_t = 0.02)]
    init_gain: f64,
    /// No dropout in the generator (the CycleGAN default; pass --no_dropout false for dropout).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    no_dropout: bool,
    /// Which folder is domain A.
    #[arg(long, value_enum, default_value_t = Direction::AtoB)]
    #[serde(serialize_with = "official_name")]
    direction: Direction,
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
    /// Resize and crop of training images [default: resize_and_crop; StripeShapes: none].
    #[arg(long, value_enum)]
    #[serde(serialize_with = "official_name_or_none")]
    preprocess: Option<Preprocess>,
    /// No random horizontal flip.
    #[arg(long)]
    no_flip: bool,
    /// Epochs at the initial learning rate [default: 100; StripeShapes: 3].
    #[arg(long)]
    n_epochs: Option<usize>,
    /// Epochs of linear decay to zero [default: 100; StripeShapes: 7].
    #[arg(long)]
    n_epochs_decay: Option<usize>,
    /// Adam beta1.
    #[arg(long, default_value_t = 0.5)]
    beta1: f64,
    /// Initial learning rate [default: 0.0002; StripeShapes: 0.0005].
    #[arg(long)]
    lr: Option<f64>,
    /// The adversarial loss (wgangp is WGAN without the gradient penalty, as officially).
    #[arg(long, value_enum, default_value_t = GanMode::Lsgan)]
    #[serde(serialize_with = "official_name")]
    gan_mode: GanMode,
    /// Size of the image pools (0: none).
    #[arg(long, default_value_t = 50)]
    pool_size: usize,
    /// Learning-rate policy.
    #[arg(long, value_enum, default_value_t = LrPolicyName::Linear)]
    #[serde(serialize_with = "official_name")]
    lr_policy: LrPolicyName,
    /// Multiply the learning rate by 0.1 every lr_decay_iters epochs (step policy).
    #[arg(long, default_value_t = 50)]
    lr_decay_iters: usize,
    /// cycle_gan: weight of the A → B → A cycle loss [default: 10].
    #[arg(long = "lambda_A")]
    #[serde(rename = "lambda_A")]
    lambda_a: Option<f64>,
    /// cycle_gan: weight of the B → A → B cycle loss [default: 10].
    #[arg(long = "lambda_B")]
    #[serde(rename = "lambda_B")]
    lambda_b: Option<f64>,
    /// cycle_gan: identity loss weight, relative to the cycle weights (0: off) [default: 0.5].
    #[arg(long)]
    lambda_identity: Option<f64>,
    /// Log losses every this many images.
    #[arg(long, default_value_t = 100)]
    print_freq: usize,
    /// Save sample images every this many images.
    #[arg(long, default_value_t = 400)]
    display_freq: usize,
    /// Save the latest checkpoint every this many images.
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
    /// StripeShapes: held-out test latents for the test page written after training (0: none).
    #[arg(long, default_value_t = 200)]
    num_test: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Write the StripeShapes data this command would train on (trainA/, trainB/ with
    /// --max_dataset_size images each at --load_size) and --num_test held-out latents
    /// (testA/, testB/, testMask/) to this folder in the official layout, then stop: any
    /// CycleGAN implementation can train on it (scripts/pytorch_stripeshapes.py).
    #[arg(long, conflicts_with = "dataroot")]
    export_data: Option<PathBuf>,
}

/// The StripeShapes preset (no --dataroot): chosen by measuring held-out scores within a
/// five-minute budget on two cores (docs/results.md, "The README's main command").
mod preset {
    pub const NGF: usize = 16;
    pub const NDF: usize = 16;
    /// An n_layers discriminator with one strided layer: 16×16 px patches, about two
    /// stripes, judged one by one.
    pub const N_LAYERS_D: usize = 1;
    pub const IMAGES: usize = 400;
    pub const EPOCHS: usize = 3;
    pub const EPOCHS_DECAY: usize = 7;
    pub const LR: f64 = 0.0005;
    /// Side of the images.
    pub const SIZE: usize = 32;
    /// Test latents shown as images on the test page.
    pub const SHOWN: usize = 12;
}

struct Plan {
    config: CycleGanConfig,
    /// The CUT configuration, with `--model cut` (then `config` holds the shared options).
    cut: Option<CutConfig>,
    run: RunOptions,
    dataset: UnalignedDataset,
    source: String,
}

/// Refuses the options of the model that does not train, as the official parsers know only
/// the chosen model's.
fn check_model_options(o: &Options) -> Result<(), CycleGanError> {
    let cut_only = [
        ("CUT_mode", o.cut_mode.is_some()),
        ("lambda_GAN", o.lambda_gan.is_some()),
        ("lambda_NCE", o.lambda_nce.is_some()),
        ("nce_idt", o.nce_idt.is_some()),
        ("nce_layers", o.nce_layers.is_some()),
        (
            "nce_includes_all_negatives_from_minibatch",
            o.nce_includes_all_negatives_from_minibatch.is_some(),
        ),
        ("netF", o.net_f.is_some()),
        ("netF_nc", o.netf_nc.is_some()),
        ("nce_T", o.nce_t.is_some()),
        ("num_patches", o.num_patches.is_some()),
        ("flip_equivariance", o.flip_equivariance.is_some()),
        ("no_antialias", o.no_antialias),
        ("no_antialias_up", o.no_antialias_up),
    ];
    let cycle_gan_only = [
        ("lambda_A", o.lambda_a.is_some()),
        ("lambda_B", o.lambda_b.is_some()),
        ("lambda_identity", o.lambda_identity.is_some()),
    ];
    let (other, model, given) = match o.model {
        ModelName::CycleGan => (&cut_only[..], "cut", "cycle_gan"),
        ModelName::Cut => (&cycle_gan_only[..], "cycle_gan", "cut"),
    };
    if let Some(&(name, _)) = other.iter().find(|(_, set)| *set) {
        return Err(CycleGanError::config(
            name,
            format!("is an option of --model {model}, not of --model {given}"),
        ));
    }
    Ok(())
}

/// The CUT configuration of `--model cut`: the mode's defaults, then the options given, on
/// the networks, optimizer and schedule of `shared`.
fn cut_config(
    o: &Options,
    shared: &CycleGanConfig,
    stripes: bool,
) -> Result<CutConfig, CycleGanError> {
    let mode = o.cut_mode.unwrap_or(CutMode::Cut);
    let defaults = CutConfig::new().with_cut_mode(mode);
    let nce_layers = match &o.nce_layers {
        Some(text) => text
            .split(',')
            .map(|layer| {
                layer.trim().parse().map_err(|_| {
                    CycleGanError::config(
                        "nce_layers",
                        format!("`{text}` is not a comma-separated list of layer indices"),
                    )
                })
            })
            .collect::<Result<Vec<usize>, _>>()?,
        None => defaults.nce_layers.clone(),
    };
    let schedule = shared
        .schedule
        .clone()
        .with_n_epochs(o.n_epochs.unwrap_or(if stripes {
            preset::EPOCHS
        } else {
            defaults.schedule.n_epochs
        }))
        .with_n_epochs_decay(o.n_epochs_decay.unwrap_or(if stripes {
            preset::EPOCHS_DECAY
        } else {
            defaults.schedule.n_epochs_decay
        }));
    let config = CutConfig {
        networks: shared
            .networks
            .clone()
            .with_init_type(o.init_type.unwrap_or(InitType::Xavier)),
        no_antialias: o.no_antialias,
        no_antialias_up: o.no_antialias_up,
        gan_mode: o.gan_mode,
        lambda_gan: o.lambda_gan.unwrap_or(defaults.lambda_gan),
        lambda_nce: o.lambda_nce.unwrap_or(defaults.lambda_nce),
        nce_idt: o.nce_idt.unwrap_or(defaults.nce_idt),
        nce_layers,
        nce_includes_all_negatives_from_minibatch: o
            .nce_includes_all_negatives_from_minibatch
            .unwrap_or(false),
        net_f: o.net_f.unwrap_or(defaults.net_f),
        netf_nc: o.netf_nc.unwrap_or(defaults.netf_nc),
        nce_t: o.nce_t.unwrap_or(defaults.nce_t),
        num_patches: o.num_patches.unwrap_or(defaults.num_patches),
        flip_equivariance: o.flip_equivariance.unwrap_or(defaults.flip_equivariance),
        optimizer: shared.optimizer.clone(),
        schedule,
        seed: o.seed,
        ..defaults
    };
    config.validate()?;
    Ok(config)
}

fn plan(o: &Options) -> Result<Plan, CycleGanError> {
    check_model_options(o)?;
    let stripes = o.dataroot.is_none();
    let pick = |value: Option<usize>, official: usize, preset: usize| {
        value.unwrap_or(if stripes { preset } else { official })
    };
    let net_g = o.net_g.unwrap_or(if stripes {
        GeneratorKind::Resnet6Blocks
    } else {
        GeneratorKind::Resnet9Blocks
    });
    let n_epochs = pick(o.n_epochs, 100, preset::EPOCHS);
    let n_epochs_decay = pick(o.n_epochs_decay, 100, preset::EPOCHS_DECAY);
    let config = CycleGanConfig::new()
        .with_input_nc(o.input_nc)
        .with_output_nc(o.output_nc)
        .with_ngf(pick(o.ngf, 64, preset::NGF))
        .with_ndf(pick(o.ndf, 64, preset::NDF))
        .with_net_g(net_g)
        .with_net_d(o.net_d.unwrap_or(if stripes {
            DiscriminatorKind::NLayers
        } else {
            DiscriminatorKind::Basic
        }))
        .with_n_layers_d(pick(o.n_layers_d, 3, preset::N_LAYERS_D))
        .with_norm(o.norm)
        .with_init_type(o.init_type.unwrap_or(InitType::Normal))
        .with_init_gain(o.init_gain)
        .with_dropout(!o.no_dropout)
        .with_gan_mode(o.gan_mode)
        .with_pool_size(o.pool_size)
        .with_lr(o.lr.unwrap_or(if stripes { preset::LR } else { 0.0002 }))
        .with_beta1(o.beta1)
        .with_lambda_a(o.lambda_a.unwrap_or(10.0))
        .with_lambda_b(o.lambda_b.unwrap_or(10.0))
        .with_lambda_identity(o.lambda_identity.unwrap_or(0.5))
        .with_n_epochs(n_epochs)
        .with_n_epochs_decay(n_epochs_decay)
        .with_lr_policy(o.lr_policy.policy(o.lr_decay_iters)?)
        .with_seed(o.seed);
    let cut = match o.model {
        ModelName::CycleGan => {
            config.validate()?;
            None
        }
        ModelName::Cut => Some(cut_config(o, &config, stripes)?),
    };
    let preprocess = o.preprocess.unwrap_or(if stripes {
        Preprocess::None
    } else {
        Preprocess::ResizeAndCrop
    });
    // A step's batch holds `batch_size` images per replica; all must have one size.
    let replicas = device_names(o)?.map_or(1, |names| names.len());
    if o.batch_size * replicas > 1
        && matches!(preprocess, Preprocess::None | Preprocess::ScaleWidth)
    {
        return Err(CycleGanError::config(
            "batch_size",
            format!(
                "--preprocess {preprocess} keeps image sizes, which may differ: use --batch_size 1 on one device"
            ),
        ));
    }
    let data_options = DatasetOptions {
        phase: "train".into(),
        direction: o.direction,
        serial_batches: o.serial_batches,
        max_dataset_size: o.max_dataset_size.unwrap_or(if stripes {
            preset::IMAGES
        } else {
            usize::MAX
        }),
        input_nc: o.input_nc,
        output_nc: o.output_nc,
        transform: TransformOptions {
            preprocess,
            load_size: pick(o.load_size, 286, preset::SIZE),
            crop_size: pick(o.crop_size, 256, preset::SIZE),
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
            let size = pick(o.load_size, 286, preset::SIZE);
            let len = data_options.max_dataset_size;
            (
                UnalignedDataset::stripe_shapes(size, len, data_options)?,
                format!("embedded StripeShapes, {len} images per domain at {size}x{size}"),
                match o.model {
                    ModelName::CycleGan => "stripeshapes",
                    ModelName::Cut => match o.cut_mode.unwrap_or(CutMode::Cut) {
                        CutMode::Cut => "stripeshapes_cut",
                        CutMode::FastCut => "stripeshapes_fastcut",
                    },
                },
            )
        }
    };
    let run = RunOptions {
        name: o.name.clone().unwrap_or_else(|| default_name.to_string()),
        checkpoints_dir: o.checkpoints_dir.clone(),
        epoch_count: o.epoch_count,
        batch_size: o.batch_size,
        replica_devices: Vec::new(),
        num_threads: o.num_threads,
        print_freq: o.print_freq,
        display_freq: o.display_freq,
        save_latest_freq: o.save_latest_freq,
        save_epoch_freq: o.save_epoch_freq,
        continue_train: o.continue_train,
        epoch: o.epoch.clone(),
        stop_after_epoch: None,
        max_iters: None,
    };
    // CUT's fine-tuning phase: no resize-and-crop in the decay epochs.
    let dataset =
        dataset.with_fine_tuning_after(cut.as_ref().map(|cut| cut.schedule.n_epochs as u64));
    Ok(Plan {
        config,
        cut,
        run,
        dataset,
        source,
    })
}

/// `train_opt.txt`: every option under its official name, from the options themselves;
/// those left unset show the value the run uses.
fn write_train_options(o: &Options, plan: &Plan, path: PathBuf) -> Result<(), CycleGanError> {
    let schedule = plan
        .cut
        .as_ref()
        .map_or(&plan.config.schedule, |cut| &cut.schedule);
    let cut = plan.cut.as_ref();
    let in_use = |name: &str| -> Option<String> {
        let from_cut = |value: &dyn Fn(&CutConfig) -> String| cut.map(value);
        Some(match name {
            "CUT_mode" => from_cut(&|c| c.mode.to_string())?,
            "lambda_GAN" => from_cut(&|c| c.lambda_gan.to_string())?,
            "lambda_NCE" => from_cut(&|c| c.lambda_nce.to_string())?,
            "nce_idt" => from_cut(&|c| c.nce_idt.to_string())?,
            "nce_layers" => from_cut(&|c| {
                let layers: Vec<String> = c.nce_layers.iter().map(usize::to_string).collect();
                layers.join(",")
            })?,
            "nce_includes_all_negatives_from_minibatch" => {
                from_cut(&|c| c.nce_includes_all_negatives_from_minibatch.to_string())?
            }
            "netF" => from_cut(&|c| c.net_f.to_string())?,
            "netF_nc" => from_cut(&|c| c.netf_nc.to_string())?,
            "nce_T" => from_cut(&|c| c.nce_t.to_string())?,
            "num_patches" => from_cut(&|c| c.num_patches.to_string())?,
            "flip_equivariance" => from_cut(&|c| c.flip_equivariance.to_string())?,
            "lambda_A" if cut.is_none() => plan.config.loss.lambda_a.to_string(),
            "lambda_B" if cut.is_none() => plan.config.loss.lambda_b.to_string(),
            "lambda_identity" if cut.is_none() => plan.config.loss.lambda_identity.to_string(),
            "init_type" => cut
                .map_or(plan.config.networks.init_type, |c| c.networks.init_type)
                .to_string(),
            "name" => plan.run.name.clone(),
            "ngf" => plan.config.networks.ngf.to_string(),
            "ndf" => plan.config.networks.ndf.to_string(),
            "netG" => plan.config.networks.net_g.to_string(),
            "netD" => plan.config.networks.net_d.to_string(),
            "n_layers_D" => plan.config.networks.n_layers_d.to_string(),
            "n_epochs" => schedule.n_epochs.to_string(),
            "n_epochs_decay" => schedule.n_epochs_decay.to_string(),
            "lr" => plan.config.optimizer.lr.to_string(),
            "preprocess" => plan.dataset.options().transform.preprocess.to_string(),
            "load_size" => plan.dataset.options().transform.load_size.to_string(),
            "crop_size" => plan.dataset.options().transform.crop_size.to_string(),
            "max_dataset_size" => plan.dataset.len_a().max(plan.dataset.len_b()).to_string(),
            "dataroot" => plan.source.clone(),
            _ => return None,
        })
    };
    let serde_json::Value::Object(fields) =
        serde_json::to_value(o).map_err(|e| CycleGanError::io(&path, std::io::Error::other(e)))?
    else {
        unreachable!("options serialise as a map");
    };
    // Sorted by name, as the official `print_options`.
    let printed: Vec<(String, String)> = fields
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                serde_json::Value::Null => in_use(&name).unwrap_or_else(|| "-".into()),
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            (name, value)
        })
        .collect();
    write_options(path, &printed)
}

/// The names of the devices that train, one replica each, the first the main one:
/// `--devices`, or `--gpu_ids` on `--backend`; `None` for `--backend` alone.
fn device_names(o: &Options) -> Result<Option<Vec<String>>, CycleGanError> {
    let names: Vec<String> = match (&o.devices, &o.gpu_ids) {
        (Some(_), Some(_)) => {
            return Err(CycleGanError::config(
                "devices",
                "give --devices or --gpu_ids, not both",
            ));
        }
        (Some(devices), None) => devices
            .split(',')
            .map(|name| name.trim().to_string())
            .collect(),
        (None, Some(ids)) if ids.trim() == "-1" => vec!["cpu".into()],
        (None, Some(ids)) => {
            let backend = o.backend.backend.trim().to_ascii_lowercase();
            let kind = backend.split(':').next().unwrap_or_default().to_string();
            if kind != "cuda" {
                return Err(CycleGanError::config(
                    "gpu_ids",
                    format!(
                        "`{ids}` names GPUs, which --backend {backend} does not have: use --backend cuda, -1 for the CPU, or --devices"
                    ),
                ));
            }
            ids.split(',')
                .map(|id| match id.trim().parse::<usize>() {
                    Ok(id) => Ok(format!("{kind}:{id}")),
                    Err(_) => Err(CycleGanError::config(
                        "gpu_ids",
                        format!("`{id}` is not a GPU id (e.g. 0,1)"),
                    )),
                })
                .collect::<Result<_, _>>()?
        }
        (None, None) => return Ok(None),
    };
    if names.iter().any(|name| name.is_empty()) {
        return Err(CycleGanError::config(
            "devices",
            format!("`{}` has an empty device name", names.join(",")),
        ));
    }
    Ok(Some(names))
}

/// The devices of [`device_names`], opened (and a GPU probed) here, before training starts.
fn training_devices(o: &Options) -> Result<Vec<Device>, CycleGanError> {
    match device_names(o)? {
        Some(names) => names.iter().map(|name| backend::device(name)).collect(),
        None => Ok(vec![o.backend.device()?]),
    }
}

fn run(o: Options) -> Result<(), CycleGanError> {
    if let Some(root) = &o.export_data {
        let options = plan(&o)?.dataset.options().clone();
        let size = options.transform.load_size;
        StripeShapes::train(size, options.max_dataset_size).export(root)?;
        StripeShapes::test(size, o.num_test).export(root)?;
        println!(
            "StripeShapes at {size}x{size}: {} training images per domain and {} test latents in {}",
            options.max_dataset_size,
            o.num_test,
            root.display()
        );
        return Ok(());
    }
    let devices = training_devices(&o)?;
    let inference_device = devices[0].clone();
    let device = inference_device.clone().autodiff();
    let mut plan = plan(&o)?;
    plan.run.replica_devices = devices[1..]
        .iter()
        .map(|device| device.clone().autodiff())
        .collect();
    let run_dir = plan.run.checkpoints_dir.join(&plan.run.name);
    std::fs::create_dir_all(&run_dir).map_err(|e| CycleGanError::io(&run_dir, e))?;
    write_train_options(&o, &plan, run_dir.join("train_opt.txt"))?;
    let networks = &plan.config.networks;
    let (model, total_epochs) = match &plan.cut {
        Some(cut) => (
            format!("{} ({} / {})", cut.mode, networks.net_g, networks.net_d),
            cut.schedule.total_epochs(),
        ),
        None => (
            format!("CycleGAN ({} / {})", networks.net_g, networks.net_d),
            plan.config.schedule.total_epochs(),
        ),
    };
    eprintln!(
        "training {model} on {} ({}), {total_epochs} epochs, run folder {}",
        plan.source,
        o.backend.backend,
        run_dir.display()
    );
    let image_size = plan.dataset.options().transform.load_size;
    let mut console = Console::new().with_progress_bar(!o.quiet);
    let dataset = Arc::new(plan.dataset);
    let summary = match &plan.cut {
        Some(cut) => train_cut_observed(cut, dataset, &plan.run, &device, &mut [&mut console])?,
        None => train_observed(
            &plan.config,
            dataset,
            &plan.run,
            &device,
            &mut [&mut console],
        )?,
    };
    eprintln!("{}", finished_line(&summary));
    println!("HTML report: {}", summary.report.display());
    if o.dataroot.is_none() && o.num_test > 0 && o.direction == Direction::AtoB {
        let checkpointer = Checkpointer::new(&run_dir)?;
        let (g_a, g_b) = if plan.cut.is_some() {
            let (nets, _) = checkpointer.load_cut_nets("latest", &inference_device)?;
            (nets.g.into(), None)
        } else {
            let (nets, _) = checkpointer.load_nets("latest", &inference_device)?;
            (nets.g_a, Some(nets.g_b))
        };
        let data = StripeShapes::test(image_size, o.num_test);
        let (page, scores) = write_test_page(
            &run_dir,
            &g_a,
            g_b.as_ref(),
            &data,
            preset::SHOWN,
            &inference_device,
        )?;
        Report::open(&run_dir, &plan.run.name)?.write_html()?;
        let forward = scores.visual_a_to_b.model;
        let mut line = format!(
            "held-out test ({} latents): A→B shape IoU {:.2}, colour error {:.3}, background L1 \
             {:.3}, stripes {:.2}× the truth's",
            o.num_test,
            forward.shape_iou,
            forward.colour_error,
            forward.background_l1,
            forward.stripe_energy,
        );
        if let Some(backward) = scores.visual_b_to_a.map(|v| v.model) {
            line.push_str(&format!(
                "; B→A shape IoU {:.2}, colour error {:.3}, background L1 {:.3}, stripes left \
                 {:.2}× the input's",
                backward.shape_iou,
                backward.colour_error,
                backward.background_l1,
                backward.stripe_energy,
            ));
        }
        eprintln!("{line}");
        println!("held-out test page: {}", page.display());
    }
    Ok(())
}

/// The line printed when training ends: the last epoch's mean losses.
fn finished_line(summary: &RunSummary) -> String {
    let losses: Vec<String> = summary
        .last_epoch_losses
        .named()
        .iter()
        .map(|(name, value)| format!("{name} {value:.3}"))
        .collect();
    format!(
        "finished epoch {} ({} images, {:.0} s): {}",
        summary.last_epoch,
        summary.total_iters,
        summary.train_seconds,
        losses.join(", ")
    )
}

fn main() -> ExitCode {
    common::main_with(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("train").chain(args.iter().copied()))
    }

    #[test]
    fn the_official_spellings_are_accepted() {
        let o = parse(&[
            "--netG",
            "unet_256",
            "--netD",
            "n_layers",
            "--n_layers_D",
            "4",
            "--norm",
            "instance_affine",
            "--init_type",
            "kaiming",
            "--direction",
            "BtoA",
            "--preprocess",
            "scale_width_and_crop",
            "--gan_mode",
            "wgan",
            "--lr_policy",
            "cosine",
        ])
        .unwrap();
        assert_eq!(o.net_g, Some(GeneratorKind::Unet256));
        assert_eq!(o.net_d, Some(DiscriminatorKind::NLayers));
        assert_eq!(o.norm, Norm::InstanceAffine);
        assert_eq!(o.init_type, Some(InitType::Kaiming));
        assert_eq!(o.direction, Direction::BtoA);
        assert_eq!(o.preprocess, Some(Preprocess::ScaleWidthAndCrop));
        assert_eq!(o.gan_mode, GanMode::Wgan, "`wgan` is an alias of `wgangp`");
        assert_eq!(o.lr_policy, LrPolicyName::Cosine);
        let config = plan(&o).unwrap().config;
        assert_eq!(config.networks.net_g, GeneratorKind::Unet256);
        assert_eq!(config.networks.n_layers_d, 4);
        assert_eq!(
            config.schedule.lr_policy,
            cyclegan_burn::train::LrPolicy::Cosine
        );
        assert_eq!(config.schedule.n_epochs, 3);
    }

    #[test]
    fn cut_options_take_the_modes_defaults_and_the_other_models_options_are_refused() {
        let fast = plan(&parse(&["--model", "cut", "--CUT_mode", "FastCUT"]).unwrap()).unwrap();
        let cut = fast.cut.expect("a CUT configuration");
        assert_eq!(cut.mode, CutMode::FastCut);
        assert_eq!(
            (cut.lambda_nce, cut.nce_idt, cut.flip_equivariance),
            (10.0, false, true)
        );
        // StripeShapes: the preset's networks and epochs, CUT's xavier init.
        assert_eq!(cut.networks.ngf, preset::NGF);
        assert_eq!(
            cut.schedule.total_epochs(),
            preset::EPOCHS + preset::EPOCHS_DECAY
        );
        assert_eq!(cut.networks.init_type, InitType::Xavier);
        assert_eq!(fast.run.name, "stripeshapes_fastcut");
        let o = parse(&["--model", "cut", "--lambda_NCE", "2", "--nce_layers", "0,4"]).unwrap();
        let cut = plan(&o).unwrap().cut.unwrap();
        assert_eq!((cut.lambda_nce, cut.nce_layers.clone()), (2.0, vec![0, 4]));
        assert_eq!(cut.schedule.n_epochs, preset::EPOCHS);
        for (args, option) in [
            (&["--model", "cut", "--lambda_A", "5"][..], "lambda_A"),
            (&["--lambda_NCE", "2"][..], "lambda_NCE"),
            (&["--no_antialias"][..], "no_antialias"),
            (&["--model", "cut", "--nce_layers", "0,x"][..], "nce_layers"),
        ] {
            let message = plan(&parse(args).unwrap()).err().unwrap().to_string();
            assert!(message.contains(option), "{args:?}: {message}");
        }
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_accepted_ones() {
        let message = parse(&["--netG", "resnet_12blocks"])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("resnet_12blocks")
                && message.contains("resnet_9blocks")
                && message.contains("unet_128"),
            "{message}"
        );
        let plateau = parse(&["--lr_policy", "plateau"]).unwrap();
        let message = plan(&plateau).err().unwrap().to_string();
        assert!(message.contains("validation metric"), "{message}");
    }

    /// The loss values of a run's `loss_log.txt`, line by line.
    fn logged_losses(run_dir: &std::path::Path) -> Vec<Vec<(String, f64)>> {
        std::fs::read_to_string(run_dir.join("loss_log.txt"))
            .unwrap()
            .lines()
            .filter(|line| line.starts_with("(epoch:"))
            .filter_map(|line| line.split_once(") "))
            .map(|(_, losses)| {
                losses
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .chunks(2)
                    .map(|pair| {
                        (
                            pair[0].trim_end_matches(':').to_string(),
                            pair[1].parse().unwrap(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// Two CPU replicas with `--batch_size 1` log the losses that one device logs with
    /// `--batch_size 2` (to the log's three decimals, give or take one in the last).
    #[test]
    fn two_cpu_replicas_log_what_one_device_logs_at_twice_the_batch() {
        let dir = std::env::temp_dir().join(format!("train-replicas-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let common = [
            "--max_dataset_size",
            "6",
            "--n_epochs",
            "2",
            "--n_epochs_decay",
            "0",
            "--ngf",
            "4",
            "--ndf",
            "4",
            "--pool_size",
            "0",
            "--num_test",
            "0",
            "--print_freq",
            "2",
            "--quiet",
            "--preprocess",
            "crop",
            "--load_size",
            "32",
            "--crop_size",
            "32",
            "--checkpoints_dir",
            dir.to_str().unwrap(),
        ];
        let with = |extra: &[&str]| parse(&[&common[..], extra].concat()).unwrap();
        run(with(&[
            "--name",
            "two",
            "--devices",
            "cpu,cpu",
            "--batch_size",
            "1",
        ]))
        .unwrap();
        run(with(&["--name", "one", "--batch_size", "2"])).unwrap();
        let (two, one) = (
            logged_losses(&dir.join("two")),
            logged_losses(&dir.join("one")),
        );
        assert_eq!(two.len(), 6, "a line every 2 images for 2 epochs of 6");
        assert_eq!(two.len(), one.len());
        // The two runs round differently (batches of one on each replica, of two on one
        // device; tests/parallel.rs checks one step to 1e-6), and a GAN this small carries
        // rounding differences forward, growing: the first epoch's lines agree to the
        // printed digits, the second's to about 1 % (measured on StripeShapes: at most 1.1 %;
        // a replica that trained on the wrong images or skipped the averaging is off by
        // tens of per cent).
        for (line, (two, one)) in two.iter().zip(&one).enumerate() {
            for ((name, a), (other, b)) in two.iter().zip(one) {
                let tolerance = if line < 3 {
                    1.5e-3
                } else {
                    1.5e-3 + 0.02 * a.abs().max(b.abs())
                };
                assert_eq!(name, other);
                assert!(
                    (a - b).abs() <= tolerance,
                    "line {line}, {name}: {a} vs {b}"
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replicas_the_machine_cannot_honour_are_refused_before_training() {
        let refused = |args: &[&str]| {
            let o = parse(args).unwrap();
            common::in_option_names(&training_devices(&o).unwrap_err())
        };
        let message = refused(&["--gpu_ids", "0,1"]);
        assert!(
            message.contains("--gpu_ids") && message.contains("--backend cuda"),
            "{message}"
        );
        let message = refused(&["--devices", "cpu,tpu"]);
        assert!(message.contains("tpu"), "{message}");
        let message = refused(&["--devices", "cpu:1"]);
        assert!(message.contains("one device"), "{message}");
        let message = refused(&["--devices", "cpu,cpu", "--gpu_ids", "-1"]);
        assert!(message.contains("not both"), "{message}");
        let message = refused(&["--gpu_ids", "0,x", "--backend", "cuda"]);
        assert!(
            message.contains("`x`") || message.contains("cuda"),
            "{message}"
        );
        // -1 is the CPU, as in the official code.
        let o = parse(&["--gpu_ids", "-1"]).unwrap();
        assert_eq!(training_devices(&o).unwrap().len(), 1);
        let o = parse(&["--devices", "cpu,cpu,cpu"]).unwrap();
        assert_eq!(training_devices(&o).unwrap().len(), 3);
    }

    #[test]
    fn library_errors_are_said_in_option_names() {
        let o = parse(&["--input_nc", "1", "--lambda_A=-1"]).unwrap();
        let error = plan(&o).err().unwrap();
        assert_eq!(
            error.to_string(),
            "invalid lambda_a: must be a finite number >= 0, got -1"
        );
        assert_eq!(
            common::in_option_names(&error),
            "invalid option --lambda_A: must be a finite number >= 0, got -1"
        );
        let o = parse(&["--input_nc", "1"]).unwrap();
        let message = common::in_option_names(&plan(&o).err().unwrap());
        assert!(
            message.starts_with(
                "invalid option --lambda_identity: the identity loss needs input_nc == output_nc"
            ),
            "{message}"
        );
    }

    #[test]
    fn train_opt_txt_lists_every_option_by_its_official_name_with_the_values_in_use() {
        let o = parse(&["--gan_mode", "vanilla", "--lambda_A", "5"]).unwrap();
        let plan = plan(&o).unwrap();
        let path = std::env::temp_dir().join(format!("train_opt-{}.txt", std::process::id()));
        write_train_options(&o, &plan, path.clone()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines: Vec<(&str, &str)> = text
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.trim(), value.trim()))
            .collect();
        let value = |name: &str| {
            lines
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
                .1
        };
        // Given on the command line, under the official names and spellings.
        assert_eq!(value("gan_mode"), "vanilla");
        assert_eq!(value("lambda_A"), "5.0");
        // Left to the StripeShapes preset: the values in use.
        assert_eq!(value("netG"), "resnet_6blocks");
        assert_eq!(value("ngf"), preset::NGF.to_string());
        assert_eq!(value("n_epochs_decay"), preset::EPOCHS_DECAY.to_string());
        assert_eq!(value("lr"), preset::LR.to_string());
        assert_eq!(value("preprocess"), "none");
        assert_eq!(value("netD"), "n_layers");
        assert_eq!(value("n_layers_D"), preset::N_LAYERS_D.to_string());
        assert_eq!(
            value("dataroot"),
            format!(
                "embedded StripeShapes, {} images per domain at 32x32",
                preset::IMAGES
            )
        );
        // Defaults and flattened groups are there too.
        assert_eq!(value("direction"), "AtoB");
        assert_eq!(value("backend"), "cpu");
        // One line per option, sorted by name as the official print_options.
        let names: Vec<&str> = lines.iter().map(|(name, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let fields = serde_json::to_value(&o).unwrap();
        assert_eq!(names.len(), fields.as_object().unwrap().len());
    }
}
