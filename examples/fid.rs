//! FID and KID between two sets of images, as pytorch-fid (and torch-fidelity for KID)
//! compute them, with pytorch-fid's Inception weights.
//!
//! ```text
//! # once: the weights pytorch-fid uses (this program never downloads)
//! #   https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
//! cargo run --release --example fid -- --inception pt_inception-2015-12-05-6726825d.pth \
//!     results/horse2zebra/test_latest/fake_B datasets/horse2zebra/testB --kid
//! # either side may be pytorch-fid statistics (.npz with mu and sigma; FID only):
//! cargo run --release --example fid -- --inception pt_inception.pth fakes/ reference_stats.npz
//! # and the statistics of a folder can be saved for later:
//! cargo run --release --example fid -- --inception pt_inception.pth datasets/horse2zebra/testB --save_stats testB.npz
//! ```
//!
//! Features of a folder are cached (`--cache_dir`), keyed by the weights and every file's
//! name and bytes, so the real set is run through the network once.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use common::{BackendOption, images_progress_bar};
use cyclegan_burn::CycleGanError;
use cyclegan_burn::metrics::features::{FeatureSet, fingerprint_file, folder_features};
use cyclegan_burn::metrics::fid::{Gaussian, frechet_distance};
use cyclegan_burn::metrics::inception::FidInception;
use cyclegan_burn::metrics::kid::kernel_inception_distance;
use cyclegan_burn::metrics::npz::{read_gaussian, write_gaussian};

/// FID (and KID) between two folders of images or pytorch-fid statistics files.
#[derive(Parser, Debug)]
#[command(rename_all = "snake_case")]
struct Options {
    /// Two folders of images (or .npz statistics, for FID); one folder with --save_stats.
    #[arg(num_args = 1..=2, required = true)]
    paths: Vec<PathBuf>,
    /// pytorch-fid's weights file, pt_inception-2015-12-05-6726825d.pth.
    #[arg(long)]
    inception: PathBuf,
    /// Images per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Also KID (torch-fidelity's 100 subsets of up to 1000), from folders only.
    #[arg(long)]
    kid: bool,
    /// Seed of KID's subsets.
    #[arg(long, default_value_t = 0)]
    kid_seed: u64,
    /// Write the first path's statistics (mu, sigma) to this .npz, as pytorch-fid --save-stats.
    #[arg(long)]
    save_stats: Option<PathBuf>,
    /// Where folder features are cached.
    #[arg(long, default_value = ".fid_cache")]
    cache_dir: PathBuf,
    /// Compute folder features without the cache.
    #[arg(long)]
    no_cache: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    backend: BackendOption,
}

/// One side of the comparison.
enum Side {
    Features(FeatureSet),
    Statistics(Gaussian),
}

impl Side {
    fn gaussian(&self) -> Result<Gaussian, CycleGanError> {
        match self {
            Side::Features(features) => features.gaussian(),
            Side::Statistics(gaussian) => Ok(gaussian.clone()),
        }
    }
}

fn side(
    path: &Path,
    network: &FidInception,
    weights: u64,
    o: &Options,
    device: &burn::prelude::Device,
) -> Result<Side, CycleGanError> {
    if path.extension().is_some_and(|e| e == "npz") {
        return Ok(Side::Statistics(read_gaussian(path)?));
    }
    let bar = (!o.quiet).then(|| images_progress_bar(path.display().to_string()));
    let cache = (!o.no_cache).then_some(o.cache_dir.as_path());
    let features = folder_features(
        network,
        weights,
        path,
        o.batch_size,
        cache,
        device,
        &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
        },
    )?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(Side::Features(features))
}

fn run(o: Options) -> Result<(), CycleGanError> {
    let device = o.backend.device()?;
    let network = FidInception::load(&o.inception, &device)?;
    let weights = fingerprint_file(&o.inception)?;
    let first = side(&o.paths[0], &network, weights, &o, &device)?;
    if let Some(path) = &o.save_stats {
        write_gaussian(path, &first.gaussian()?)?;
        println!(
            "statistics of {} written to {}",
            o.paths[0].display(),
            path.display()
        );
    }
    let Some(second_path) = o.paths.get(1) else {
        if o.save_stats.is_none() {
            return Err(CycleGanError::config(
                "paths",
                "give two folders (or statistics files) to compare, or --save_stats",
            ));
        }
        return Ok(());
    };
    let second = side(second_path, &network, weights, &o, &device)?;
    let fid = frechet_distance(&first.gaussian()?, &second.gaussian()?)?;
    println!("FID: {fid:.6}");
    if o.kid {
        let (Side::Features(a), Side::Features(b)) = (&first, &second) else {
            return Err(CycleGanError::config(
                "kid",
                "KID needs the features of both sets: give two folders, not statistics files",
            ));
        };
        let kid = kernel_inception_distance(a.as_kid_features(), b.as_kid_features(), o.kid_seed)?;
        println!("KID: {:.6} ± {:.6}", kid.mean, kid.std);
    }
    Ok(())
}

fn main() -> ExitCode {
    common::main_with(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cyclegan_burn::data::{Domain, StripeShapes};
    use cyclegan_burn::import::state_dict::write_safetensors;
    use cyclegan_burn::import::{HostTensor, StateDict};

    /// Weights of the right layout (any values do for the program's plumbing).
    fn write_weights(path: &Path) {
        let mut dict = StateDict::new();
        for (index, (key, shape)) in FidInception::state_dict_layout().into_iter().enumerate() {
            let n: usize = shape.iter().product();
            let fan_in: usize = shape[1..].iter().product();
            let values = (0..n)
                .map(|i| {
                    let u = (((i * 7919 + index * 104_729) % 1000) as f32 / 1000.0) - 0.5;
                    if key.ends_with("conv.weight") {
                        u * (24.0 / fan_in as f32).sqrt()
                    } else if key.ends_with("running_var") || key.ends_with("bn.weight") {
                        1.0 + 0.2 * u
                    } else {
                        0.1 * u
                    }
                })
                .collect();
            dict.insert(key, HostTensor { shape, values });
        }
        write_safetensors(path, &dict, None).unwrap();
    }

    /// Two folders scored, statistics saved and compared, the feature cache reused, and a
    /// statistics file refused for KID.
    #[test]
    fn folders_and_statistics_files_are_scored_with_a_feature_cache() {
        let dir = std::env::temp_dir().join(format!("fid-program-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let images = StripeShapes::test(32, 6);
        for (domain, folder) in [(Domain::A, "a"), (Domain::B, "b")] {
            std::fs::create_dir_all(dir.join(folder)).unwrap();
            for index in 0..6 {
                images
                    .image(domain, index)
                    .save(dir.join(folder).join(format!("{index}.png")))
                    .unwrap();
            }
        }
        let weights = dir.join("inception.safetensors");
        write_weights(&weights);
        let options = |args: &[&str]| {
            let mut all = vec!["fid", "--quiet", "--inception", weights.to_str().unwrap()];
            all.extend_from_slice(args);
            Options::try_parse_from(all).unwrap()
        };
        let cache = dir.join("cache");
        let (a, b, stats) = (dir.join("a"), dir.join("b"), dir.join("a.npz"));
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        run(options(&[
            &path(&a),
            &path(&b),
            "--kid",
            "--batch_size",
            "4",
            "--save_stats",
            &path(&stats),
            "--cache_dir",
            &path(&cache),
        ]))
        .unwrap();
        assert_eq!(
            std::fs::read_dir(&cache).unwrap().count(),
            2,
            "one entry per folder"
        );
        // Statistics file against the folder, from the cache: the FID of the folders.
        let network = FidInception::load(&weights, &burn::prelude::Device::default()).unwrap();
        let fingerprint = fingerprint_file(&weights).unwrap();
        let device = common::BackendOption {
            backend: "cpu".into(),
        }
        .device()
        .unwrap();
        let features = |folder: &PathBuf, cache: Option<&Path>| {
            folder_features(
                &network,
                fingerprint,
                folder,
                4,
                cache,
                &device,
                &mut |_, _| {},
            )
            .unwrap()
        };
        let cached = features(&b, Some(&cache));
        assert_eq!(cached.values.len(), 6 * 2048);
        let fresh = features(&b, None);
        // The cache stores f64 copies of the f32 features: the same values.
        assert_eq!(cached, fresh);
        let fid_folders = frechet_distance(
            &features(&a, None).gaussian().unwrap(),
            &fresh.gaussian().unwrap(),
        )
        .unwrap();
        let fid_stats =
            frechet_distance(&read_gaussian(&stats).unwrap(), &fresh.gaussian().unwrap()).unwrap();
        assert!(fid_folders > 0.0 && ((fid_folders - fid_stats) / fid_folders).abs() < 1e-9);
        // An edited image invalidates the folder's cache entry.
        images
            .image(Domain::A, 0)
            .save(dir.join("b").join("0.png"))
            .unwrap();
        assert_ne!(features(&b, Some(&cache)), cached);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 3);
        // KID needs features on both sides.
        let err = run(options(&[&path(&a), &path(&stats), "--kid", "--no_cache"])).unwrap_err();
        assert!(err.to_string().contains("KID needs the features"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
