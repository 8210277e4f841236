//! Data-parallel training (`CycleGan::with_replicas`, `RunOptions::replica_devices`): two
//! replicas with batch 1 each compute what one device computes with batch 2.

mod common;

use burn::tensor::s;
use cyclegan_burn::data::{Domain, StripeShapes};
use cyclegan_burn::import::{PytorchLayout, StateDict};
use cyclegan_burn::prelude::*;

fn config() -> CycleGanConfig {
    CycleGanConfig::new()
        .with_net_g(GeneratorKind::Resnet6Blocks)
        .with_ngf(8)
        .with_ndf(8)
        .with_pool_size(0)
        .with_seed(7)
}

/// Batches of two StripeShapes images per domain, `[2, 3, 32, 32]`, different each step.
fn batch(step: usize, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let data = StripeShapes::train(32, 8);
    let images = |domain| {
        let pair = [2 * step, 2 * step + 1].map(|index| {
            cyclegan_burn::data::image::rgb_to_tensor(&data.image(domain, index), device)
        });
        Tensor::stack::<4>(pair.to_vec(), 0)
    };
    (images(Domain::A), images(Domain::B))
}

fn weights(nets: &CycleGanNets) -> Vec<(String, StateDict)> {
    vec![
        ("G_A".into(), nets.g_a.to_state_dict()),
        ("G_B".into(), nets.g_b.to_state_dict()),
        ("D_A".into(), nets.d_a.to_state_dict()),
        ("D_B".into(), nets.d_b.to_state_dict()),
    ]
}

/// The largest weight difference between two runs' networks, apart from the biases of
/// convolutions that feed an instance norm; the count of weights that differ by more than
/// 1e-6; the largest difference among those biases; the number of weights compared.
fn weight_differences(a: &CycleGanNets, b: &CycleGanNets) -> (f32, usize, f32, usize) {
    let (mut largest, mut largest_pre_norm, mut compared, mut beyond) =
        (0f32, 0f32, 0usize, 0usize);
    for ((net, want), (_, got)) in weights(a).into_iter().zip(weights(b)) {
        let last_conv = want
            .keys()
            .filter_map(|key| {
                key.strip_prefix("model.")?
                    .split('.')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .max()
            .unwrap();
        for (key, tensor) in &want {
            let layer: usize = key["model.".len()..]
                .split('.')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let pre_norm = key.ends_with(".bias")
                && layer != last_conv
                && !(net.starts_with('D') && layer == 0);
            for (a, b) in tensor.values.iter().zip(&got[key].values) {
                let diff = (a - b).abs();
                if pre_norm {
                    largest_pre_norm = largest_pre_norm.max(diff);
                } else {
                    compared += 1;
                    beyond += usize::from(diff > 1e-6);
                    largest = largest.max(diff);
                }
            }
        }
    }
    (largest, beyond, largest_pre_norm, compared)
}

/// Two replicas with batch 1 each against one device with batch 2, over three steps.
///
/// Both compute the same mean losses and the same averaged gradients; only the order of
/// the f32 sums differs (a batch-2 reduction against two batch-1 reductions added
/// afterwards). So the first step's losses, from the same weights, agree to a relative
/// 1e-5, and after it every weight agrees within 1e-6 (measured: 6e-9) except the biases
/// of convolutions that feed an instance norm: their true gradient is zero, and Adam moves
/// a rounding-level gradient by up to `lr` either way (the golden README's §6 says the same
/// of PyTorch), so they agree within `2 · lr`. From there the runs start from weights that
/// differ by those moves, which a norm removes only in exact arithmetic, and Adam (β1 0.5)
/// turns the rounding differences of small or sign-changing gradients into differences of
/// a step's size: the later steps' losses agree to a relative 1e-4 (measured on StripeShapes:
/// up to 5e-5), while a replica that computed anything else (a gradient not averaged, a
/// batch split wrongly) is off by far more.
#[test]
fn two_replicas_with_batch_1_equal_one_device_with_batch_2() {
    let device = common::device().autodiff();
    let config = config();
    let lr = config.optimizer.lr as f32;
    let mut single = CycleGan::try_new(&config, &device).unwrap();
    let mut replicated = CycleGan::try_new(&config, &device)
        .unwrap()
        .with_replicas(std::slice::from_ref(&device));
    assert_eq!(replicated.replica_count(), 2);
    for step in 0..3 {
        let (real_a, real_b) = batch(step, &device);
        let expected = single.train_step(real_a.clone(), real_b.clone());
        let got = replicated.train_step(real_a, real_b);
        for ((term, want), (_, value)) in expected.terms().into_iter().zip(got.terms()) {
            let relative = ((value - want) / want.abs().max(1e-12)).abs();
            eprintln!("step {step} {}: relative diff {relative:.2e}", term.name());
            let tolerance = if step == 0 { 1e-5 } else { 1e-4 };
            assert!(
                relative <= tolerance,
                "step {step} {}: {value} vs {want}",
                term.name()
            );
        }
        if step == 0 {
            let (largest, beyond, largest_pre_norm, compared) =
                weight_differences(single.nets(), replicated.nets());
            eprintln!(
                "after one step, {compared} weights: {beyond} differ by more than 1e-6, the largest by {largest:.2e}; biases before a norm: {largest_pre_norm:.2e}"
            );
            assert!(compared > 300_000, "{compared}");
            assert_eq!(beyond, 0, "weights differ by up to {largest}");
            assert!(largest_pre_norm <= 2.0 * lr, "{largest_pre_norm}");
        }
    }
}

/// The replicas run the main device's networks: after training they are the same to the
/// bit, and the same as the main device's.
#[test]
fn replicas_stay_identical() {
    let device = common::device().autodiff();
    let mut gan = CycleGan::try_new(&config(), &device)
        .unwrap()
        .with_replicas(&[device.clone(), device.clone()]);
    for step in 0..2 {
        let (a, b) = batch(step, &device);
        // Three replicas share a batch of 3: one image each.
        let a = Tensor::cat(vec![a.clone(), a.slice(s![0..1])], 0);
        let b = Tensor::cat(vec![b.clone(), b.slice(s![0..1])], 0);
        assert!(gan.train_step(a, b).is_finite());
    }
    let main = weights(gan.nets());
    for index in 0..3 {
        assert_eq!(weights(&gan.replica_nets(index)), main, "replica {index}");
    }
}

/// A batch that the replicas cannot share equally (the last of an epoch) trains on the
/// main device: exactly the single-device step.
#[test]
fn a_batch_the_replicas_cannot_share_trains_on_the_main_device() {
    let device = common::device().autodiff();
    let mut single = CycleGan::try_new(&config(), &device).unwrap();
    let mut replicated = CycleGan::try_new(&config(), &device)
        .unwrap()
        .with_replicas(std::slice::from_ref(&device));
    let (a, b) = batch(0, &device);
    let (a, b) = (a.slice(s![0..1]), b.slice(s![0..1]));
    assert_eq!(
        single.train_step(a.clone(), b.clone()),
        replicated.train_step(a, b)
    );
    assert_eq!(weights(single.nets()), weights(replicated.nets()));
}

/// A run on two replicas that stops after an epoch and resumes ends where the same run
/// without the stop ends: checkpoint state and the four networks, bit for bit (pool size 0,
/// so the empty pools of a resume change nothing).
#[test]
fn a_resumed_run_on_two_replicas_continues_exactly() {
    use std::sync::Arc;

    use cyclegan_burn::data::{DatasetOptions, Preprocess, TransformOptions, UnalignedDataset};
    use cyclegan_burn::train::{Checkpointer, RunOptions, train};

    let dir = std::env::temp_dir().join(format!("cyclegan-burn-parallel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let device = common::device().autodiff();
    let config = config()
        .with_ngf(4)
        .with_ndf(4)
        .with_n_epochs(2)
        .with_n_epochs_decay(1);
    let data = || {
        let options = DatasetOptions {
            transform: TransformOptions {
                preprocess: Preprocess::None,
                ..Default::default()
            },
            seed: 3,
            ..Default::default()
        };
        Arc::new(UnalignedDataset::stripe_shapes(32, 6, options).unwrap())
    };
    let options = |name: &str, stop: usize, continue_train: bool| RunOptions {
        name: name.into(),
        checkpoints_dir: dir.clone(),
        batch_size: 1,
        replica_devices: vec![device.clone()],
        num_threads: 1,
        stop_after_epoch: Some(stop),
        continue_train,
        ..Default::default()
    };
    let straight = train(&config, data(), &options("straight", 3, false), &device).unwrap();
    train(&config, data(), &options("resumed", 1, false), &device).unwrap();
    let resumed = train(&config, data(), &options("resumed", 3, true), &device).unwrap();
    // Batches of 2 (1 per replica) of 6 images: 3 steps per epoch.
    assert_eq!((straight.total_iters, resumed.total_iters), (18, 18));
    let load = |name: &str| {
        Checkpointer::new(dir.join(name))
            .unwrap()
            .load("latest", &device)
            .unwrap()
    };
    let ((a, state_a), (b, state_b)) = (load("straight"), load("resumed"));
    assert_eq!(
        (state_a.epoch, state_a.total_iters, state_a.learning_rate),
        (state_b.epoch, state_b.total_iters, state_b.learning_rate)
    );
    assert_eq!(weights(a.nets()), weights(b.nets()));
    std::fs::remove_dir_all(&dir).unwrap();
}
