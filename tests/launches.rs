//! GPU kernel launches of the default networks and of a training step, counted with
//! `kernels::launches::LaunchCounter` on the backend named by `CYCLEGAN_TEST_BACKEND`, with
//! this crate's GPU kernels and without them (Burn's composed operations). Built with `wgpu`
//! or `cuda` only; ignored by default (it needs a GPU backend, and a software one takes a
//! minute or two); run as
//!
//! ```text
//! CYCLEGAN_TEST_BACKEND=wgpu cargo test --release --features wgpu --test launches -- --ignored --nocapture
//! ```
//!
//! Launch counts do not depend on the image size, only on the layers and on which kernels
//! Burn's autotuning picks for the convolutions (which a first, uncounted pass settles). CI
//! runs it on lavapipe, where the counts are those a GPU makes with the same choices;
//! `scripts/gpu_checks.sh` counts them on a GPU as well.
#![cfg(any(feature = "wgpu", feature = "cuda"))]

mod common;

use std::sync::Mutex;

use cyclegan_burn::kernels::launches::LaunchCounter;
use cyclegan_burn::kernels::set_gpu_kernels;
use cyclegan_burn::prelude::*;

/// Held by each test for its whole run: the launch observer and the GPU-kernel switch are
/// both process-wide, so tests that ran at once would count each other's launches.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Launches of `work`'s second run (the first settles autotuning), with the kernels by name.
fn launches(work: &mut dyn FnMut()) -> (usize, Vec<(String, usize)>) {
    work();
    let counter = LaunchCounter::start();
    work();
    (counter.total(), counter.by_kernel())
}

/// The launches of `work` with this crate's GPU kernels and with Burn's operations,
/// printed, as `(ours, burns)`.
fn both_ways(name: &str, work: &mut dyn FnMut()) -> (usize, usize) {
    set_gpu_kernels(false);
    let (burns, _) = launches(work);
    set_gpu_kernels(true);
    let (ours, by_kernel) = launches(work);
    println!("{name}: {ours} launches ({burns} with Burn's operations)");
    for (kernel, count) in by_kernel {
        println!("  {count:5} {kernel}");
    }
    (ours, burns)
}

/// A random image of `size`² in [-1, 1).
fn image(size: usize, device: &Device) -> Tensor<4> {
    Tensor::<4>::random(
        [1, 3, size, size],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        device,
    )
}

/// The default ResNet generator (9 blocks, ngf 64) and PatchGAN (ndf 64), forward without
/// autodiff: at most 120 launches for the generator, and at least three times fewer than
/// with Burn's operations for both.
#[test]
#[ignore = "needs CYCLEGAN_TEST_BACKEND naming a GPU backend; see the file's first lines"]
fn forward_passes_launch_few_kernels() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3).init_seeded(&device, 0);
    let d = NLayerDiscriminatorConfig::new(3).init_seeded(&device, 1);
    let x = image(64, &device);
    let (g_ours, g_burns) = both_ways("generator forward", &mut || {
        let _ = g.forward(x.clone()).into_data();
    });
    let (d_ours, d_burns) = both_ways("discriminator forward", &mut || {
        let _ = d.forward(x.clone()).into_data();
    });
    assert!(g_ours <= 120, "generator forward: {g_ours} launches");
    assert!(
        3 * g_ours <= g_burns,
        "generator: {g_ours} against {g_burns}"
    );
    assert!(
        3 * d_ours <= d_burns,
        "discriminator: {d_ours} against {d_burns}"
    );
}

/// One training step of the default CycleGAN (two generators, two discriminators, identity
/// loss, image pools): at most 3,000 launches, and at least three times fewer than with
/// Burn's operations.
#[test]
#[ignore = "needs CYCLEGAN_TEST_BACKEND naming a GPU backend; see the file's first lines"]
fn a_training_step_launches_few_kernels() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = common::device().autodiff();
    let mut gan = CycleGan::new(&CycleGanConfig::new().with_seed(0), &device);
    let (a, b) = (image(64, &device), image(64, &device));
    let (ours, burns) = both_ways("training step", &mut || {
        let _ = gan.train_step(a.clone(), b.clone());
    });
    assert!(ours <= 3_000, "training step: {ours} launches");
    assert!(3 * ours <= burns, "training step: {ours} against {burns}");
}
