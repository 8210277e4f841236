//! What the example programs share: `main` (parse, run, report an error), the backend
//! option, and where a generator comes from (`--model`, `--run`, `--epoch`, `--direction`).
//!
//! Each program includes it with `mod common;`; not every program uses every item.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::prelude::Device;
use clap::{Args, Parser, ValueEnum};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::backend;
use cyclegan_burn::data::Direction;
use cyclegan_burn::model::Generator;
use cyclegan_burn::model::{NLayerDiscriminator, ResnetGenerator};
use cyclegan_burn::train::Checkpointer;

/// Parses the program's options and runs it: an error is printed as `error: …` on standard
/// error and the program exits with status 1.
pub fn main_with<O: Parser>(run: impl FnOnce(O) -> Result<(), CycleGanError>) -> ExitCode {
    match run(O::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", in_option_names(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error as the programs say it: a configuration field named by its option
/// (`invalid option --lambda_A: ...`), everything else as the library says it.
pub fn in_option_names(error: &CycleGanError) -> String {
    match error {
        CycleGanError::InvalidConfig { field, message } => {
            format!("invalid option --{}: {message}", option_name(field))
        }
        other => other.to_string(),
    }
}

/// The official option that sets the library's configuration field `field`.
pub fn option_name(field: &str) -> &str {
    match field {
        "net_g" => "netG",
        "net_d" => "netD",
        "n_layers_d" => "n_layers_D",
        "lambda_a" => "lambda_A",
        "lambda_b" => "lambda_B",
        "dropout" => "no_dropout",
        "device" => "backend",
        other => other,
    }
}

/// `--backend`: which compiled-in backend runs the program.
#[derive(Args, Debug, Clone, serde::Serialize)]
pub struct BackendOption {
    /// Backend: cpu, flex, ndarray, wgpu, vulkan, cuda or cuda:N (as compiled in).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
}

impl BackendOption {
    /// The device of `--backend` (a clear error when it is not compiled in or not usable).
    pub fn device(&self) -> Result<Device, CycleGanError> {
        backend::device(&self.backend)
    }
}

/// Which model trains (`--model` of the train and protocol programs).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ModelName {
    /// CycleGAN: two generators, two discriminators, cycle and identity losses.
    #[value(name = "cycle_gan")]
    CycleGan,
    /// CUT or FastCUT (`--CUT_mode`): one generator, one discriminator, PatchNCE.
    #[value(name = "cut")]
    Cut,
}

/// Where a generator comes from: a file, or a run folder of the train program and which of
/// its checkpoints and directions.
#[derive(Args, Debug, Clone)]
pub struct GeneratorSource {
    /// A generator checkpoint (.pth or .safetensors, official key names), or a Burn record:
    /// a run's resume bundle folder (resume_<epoch>/) or its nets.bpk.
    #[arg(long, conflicts_with = "run")]
    pub model: Option<PathBuf>,
    /// A run folder written by the train program (uses <epoch>_net_G_A or G_B; a CUT run's
    /// <epoch>_net_G).
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Which checkpoint of the run folder: latest or an epoch number.
    #[arg(long, default_value = "latest")]
    pub epoch: String,
    /// AtoB (G_A) or BtoA (G_B).
    #[arg(long, value_enum, default_value_t = Direction::AtoB)]
    pub direction: Direction,
}

impl GeneratorSource {
    /// The official name of the generator for [`direction`](Self::direction).
    pub fn net_name(&self) -> &'static str {
        match self.direction {
            Direction::AtoB => "G_A",
            Direction::BtoA => "G_B",
        }
    }

    /// Whether `--run` names a CUT run (one generator, `<epoch>_net_G`, A → B only).
    pub fn is_cut_run(&self) -> bool {
        self.run.as_ref().is_some_and(|run| {
            let has = |net: &str| {
                ["safetensors", "pth"].iter().any(|ext| {
                    run.join(format!("{}_net_{net}.{ext}", self.epoch))
                        .is_file()
                })
            };
            has("G") && !has("G_A")
        })
    }

    /// Loads the generator and says which file it came from.
    pub fn load(&self, device: &Device) -> Result<(Generator, PathBuf), CycleGanError> {
        if let Some(model) = &self.model
            && let Some(g) = self.load_burn_record(model, device)?
        {
            return Ok((g, model.clone()));
        }
        let file = match (&self.model, &self.run) {
            (Some(model), _) => model.clone(),
            (None, Some(run)) => {
                let file =
                    |net: &str, ext: &str| run.join(format!("{}_net_{net}.{ext}", self.epoch));
                let candidates = ["safetensors", "pth"].map(|ext| file(self.net_name(), ext));
                // A CUT run's one generator, G (A → B).
                let cut = ["safetensors", "pth"].map(|ext| file("G", ext));
                match candidates.iter().find(|p| p.is_file()) {
                    Some(found) => found.clone(),
                    None => match cut.iter().find(|p| p.is_file()) {
                        Some(_) if self.direction == Direction::BtoA => {
                            return Err(CycleGanError::checkpoint(
                                run,
                                "a CUT run has one generator, G (A → B): use --direction AtoB",
                            ));
                        }
                        Some(found) => found.clone(),
                        None => {
                            return Err(CycleGanError::checkpoint(
                                &candidates[0],
                                "not found in the run folder (check --run and --epoch)",
                            ));
                        }
                    },
                }
            }
            (None, None) => {
                return Err(CycleGanError::config(
                    "model",
                    "give --model FILE or --run FOLDER",
                ));
            }
        };
        if NLayerDiscriminator::from_pytorch(&file, device).is_ok() {
            return Err(CycleGanError::checkpoint(
                &file,
                "this is a discriminator, not a generator",
            ));
        }
        Ok((ResnetGenerator::from_pytorch(&file, device)?.into(), file))
    }

    /// The G_A or G_B of a resume bundle (`<run>/resume_<label>/` or its `nets.bpk`).
    fn load_burn_record(
        &self,
        model: &Path,
        device: &Device,
    ) -> Result<Option<Generator>, CycleGanError> {
        let bundle = if model.file_name().is_some_and(|n| n == "nets.bpk") {
            model.parent().unwrap_or(model)
        } else if model.is_dir() {
            model
        } else {
            return Ok(None);
        };
        let label = bundle
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("resume_"))
            .ok_or_else(|| {
                CycleGanError::checkpoint(
                    model,
                    "expected a resume_<epoch> folder of a run, or its nets.bpk",
                )
            })?;
        let run = bundle.parent().unwrap_or(Path::new("."));
        let checkpointer = Checkpointer::new(run)?;
        if checkpointer.state(label)?.cut.is_some() {
            if self.direction == Direction::BtoA {
                return Err(CycleGanError::checkpoint(
                    model,
                    "a CUT run has one generator, G (A → B): use --direction AtoB",
                ));
            }
            let (nets, _) = checkpointer.load_cut_nets(label, device)?;
            return Ok(Some(nets.g.into()));
        }
        let (nets, _) = checkpointer.load_nets(label, device)?;
        Ok(Some(match self.direction {
            Direction::AtoB => nets.g_a,
            Direction::BtoA => nets.g_b,
        }))
    }
}

/// Serialises an option enum under its official spelling (its `ValueEnum` name), for
/// `#[serde(serialize_with = "official_name")]`.
pub fn official_name<T: ValueEnum, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let name = value
        .to_possible_value()
        .map(|possible| possible.get_name().to_string())
        .unwrap_or_default();
    serializer.serialize_str(&name)
}

/// [`official_name`] for an optional enum (`None` as a unit).
pub fn official_name_or_none<T: ValueEnum, S: serde::Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => official_name(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// A progress bar over images on standard error, titled `prefix`; its length is set as the
/// work becomes known.
pub fn images_progress_bar(prefix: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} {bar:30} {pos}/{len} images [{elapsed}<{eta}, {per_sec}]",
        )
        .expect("valid template"),
    );
    bar.set_prefix(prefix);
    bar
}
