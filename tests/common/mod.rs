//! Helpers shared by the integration tests: the PyTorch goldens of `tests/fixtures`.
#![allow(dead_code)]

use std::path::PathBuf;

use cyclegan_burn::import::state_dict::read_state_dict;
use cyclegan_burn::import::{HostTensor, StateDict};
use cyclegan_burn::model::GeneratorKind;
use cyclegan_burn::prelude::*;

/// The crate's root: `CARGO_MANIFEST_DIR` as cargo sets it when it runs the test, else as it
/// was at compile time. A test binary can outlive the checkout it was built in (a build
/// directory shared among clones keeps binaries whose sources did not change), so the
/// run-time value comes first.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// `tests/fixtures/jpeg/pil_rgb_sha256.txt` (from `scripts/make_jpeg_fixtures.py --hashes`):
/// a JPEG's path under the project's `shared/data` → [`sha256_prefix`] of PIL's RGB pixels
/// of it (`Image.open(f).convert("RGB")`).
pub fn pil_rgb_hashes() -> std::collections::BTreeMap<String, String> {
    let list = std::fs::read_to_string(crate_dir().join("tests/fixtures/jpeg/pil_rgb_sha256.txt"))
        .unwrap();
    list.lines()
        .map(|line| {
            let (path, hash) = line.split_once(' ').expect("path and hash");
            (path.to_string(), hash.to_string())
        })
        .collect()
}

/// The first 16 hex digits of the SHA-256 of `bytes`.
pub fn sha256_prefix(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `tests/fixtures/golden_small/<name>`: copied from `shared/golden/small` (PyTorch 2.15
/// reference of the official model; see tests/fixtures/README.md).
pub fn golden(name: &str) -> PathBuf {
    crate_dir().join("tests/fixtures/golden_small").join(name)
}

pub fn golden_dict(name: &str) -> StateDict {
    read_state_dict(golden(name)).unwrap_or_else(|e| panic!("{e}"))
}

pub fn to_tensor<const D: usize>(t: &HostTensor, device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(t.values.clone(), t.shape.clone()), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// L2(a − b) / L2(b).
pub fn rel_l2(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
    (num / den.max(1e-300)).sqrt()
}

/// The golden "small" configuration: resnet with 2 blocks, ngf 8; basic D, ndf 8; instance
/// norm; pool 0.
pub fn small_config() -> CycleGanConfig {
    CycleGanConfig::new()
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_ngf(8)
        .with_ndf(8)
        .with_pool_size(0)
}

pub fn small_generator(device: &Device) -> ResnetGenerator {
    ResnetGeneratorConfig::new(3, 3)
        .with_ngf(8)
        .with_n_blocks(2)
        .init_seeded(device, 0)
}

pub fn small_discriminator(device: &Device) -> NLayerDiscriminator {
    NLayerDiscriminatorConfig::new(3)
        .with_ndf(8)
        .init_seeded(device, 0)
}

/// The four golden networks, loaded from the golden safetensors.
pub fn golden_nets(device: &Device) -> cyclegan_burn::model::CycleGanNets {
    use cyclegan_burn::model::{CycleGanNets, Discriminator, Generator};
    let load_g = |name: &str| {
        small_generator(device)
            .load_pytorch(golden(name), device)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let load_d = |name: &str| {
        small_discriminator(device)
            .load_pytorch(golden(name), device)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    CycleGanNets {
        g_a: Generator::Resnet(load_g("G_A.safetensors")),
        g_b: Generator::Resnet(load_g("G_B.safetensors")),
        d_a: Discriminator::NLayer(load_d("D_A.safetensors")),
        d_b: Discriminator::NLayer(load_d("D_B.safetensors")),
    }
}

/// The device tests run on: the default CPU backend, or the backend named by the
/// `CYCLEGAN_TEST_BACKEND` environment variable (e.g. `wgpu`, with `--features wgpu`).
pub fn device() -> Device {
    match std::env::var("CYCLEGAN_TEST_BACKEND") {
        Ok(name) if !name.is_empty() => {
            backend::device(&name).unwrap_or_else(|e| panic!("CYCLEGAN_TEST_BACKEND={name}: {e}"))
        }
        _ => backend::cpu(),
    }
}
