//! The training step against the PyTorch reference (`tests/fixtures/golden_small`): losses of
//! two steps, gradients, and weights after the first Adam step, with the tolerances the
//! golden README derives for a float32 port.

mod common;

use common::{golden_dict, golden_nets, rel_l2, to_tensor};
use cyclegan_burn::import::StateDict;
use cyclegan_burn::prelude::*;

const LR: f32 = 2e-4;

fn golden_gan(device: &Device) -> CycleGan {
    let config = common::small_config();
    CycleGan::from_nets(&config, golden_nets(device), device)
}

fn golden_inputs(device: &Device) -> (Tensor<4>, Tensor<4>) {
    let inputs = golden_dict("inputs.safetensors");
    (
        to_tensor(&inputs["real_A"], device),
        to_tensor(&inputs["real_B"], device),
    )
}

fn check_losses(losses: &StepLosses, step: &str, tolerance: f64) {
    let expected = golden_dict("losses.safetensors");
    for (term, got) in losses.terms() {
        let name = format!("loss_{}", term.name());
        let reference = expected[&format!("{step}.{name}")].values[0] as f64;
        let rel = ((got as f64 - reference) / reference).abs();
        eprintln!("parity {step}.{name}: relative diff {rel:.3e}");
        assert!(
            rel <= tolerance,
            "{step}.{name}: {got} vs {reference} (rel {rel:.2e})"
        );
    }
}

#[test]
fn two_steps_match_pytorch_losses() {
    let device = common::device().autodiff();
    let mut gan = golden_gan(&device);
    let (real_a, real_b) = golden_inputs(&device);
    let step1 = gan.train_step(real_a.clone(), real_b.clone());
    check_losses(&step1, "step1", 1e-5);
    let step2 = gan.train_step(real_a, real_b);
    check_losses(&step2, "step2", 2e-3);
}

/// Biases of convs that feed an instance norm: analytically zero gradient (golden README §6).
fn is_pre_norm_bias(net: &str, key: &str) -> bool {
    if !key.ends_with(".bias") {
        return false;
    }
    match net {
        "G_A" | "G_B" => !key.starts_with("model.19."),
        _ => !key.starts_with("model.0.") && !key.starts_with("model.11."),
    }
}

fn check_gradients(net: &str, got: &StateDict, expected: &StateDict) {
    let prefix = format!("{net}.");
    let reference: StateDict = expected
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|k| (k.to_string(), v.clone())))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>(),
        "{net}: gradient keys"
    );
    let mut worst = 0.0f64;
    for (key, grad) in got {
        let reference = &reference[key];
        assert_eq!(grad.shape, reference.shape, "{net}.{key}");
        if is_pre_norm_bias(net, key) {
            let max = grad.values.iter().map(|v| v.abs()).fold(0.0, f32::max);
            assert!(
                max <= 1e-4,
                "{net}.{key}: pre-norm bias gradient {max} should be ~0"
            );
        } else {
            let rel = rel_l2(&grad.values, &reference.values);
            worst = worst.max(rel);
            assert!(rel <= 1e-4, "{net}.{key}: relative L2 {rel:.2e}");
        }
    }
    eprintln!("parity gradients {net}: largest relative L2 {worst:.3e}");
}

#[test]
fn gradients_match_pytorch() {
    let device = common::device().autodiff();
    let gan = golden_gan(&device);
    let (real_a, real_b) = golden_inputs(&device);
    let grads = gan.gradients(real_a, real_b);
    let grads_g = golden_dict("grads_G.safetensors");
    let grads_d = golden_dict("grads_D.safetensors");
    check_gradients("G_A", &grads.g_a, &grads_g);
    check_gradients("G_B", &grads.g_b, &grads_g);
    check_gradients("D_A", &grads.d_a, &grads_d);
    check_gradients("D_B", &grads.d_b, &grads_d);
}

#[test]
fn weights_after_one_adam_step_match_pytorch() {
    let device = common::device().autodiff();
    let mut gan = golden_gan(&device);
    let (real_a, real_b) = golden_inputs(&device);
    gan.train_step(real_a, real_b);
    let nets = gan.nets();
    let cases = [
        ("G_A", nets.g_a.to_state_dict()),
        ("G_B", nets.g_b.to_state_dict()),
        ("D_A", nets.d_a.to_state_dict()),
        ("D_B", nets.d_b.to_state_dict()),
    ];
    let (mut total, mut outliers) = (0usize, 0usize);
    for (net, after) in cases {
        let expected = golden_dict(&format!("{net}_step1.safetensors"));
        let before = golden_dict(&format!("{net}.safetensors"));
        for (key, tensor) in &after {
            let reference = &expected[key].values;
            if is_pre_norm_bias(net, key) {
                // Moves by a random amount of at most lr: compare with the start only.
                for (v, v0) in tensor.values.iter().zip(&before[key].values) {
                    assert!(
                        (v - v0).abs() <= LR * 1.001,
                        "{net}.{key}: moved {}",
                        v - v0
                    );
                }
                continue;
            }
            for (v, r) in tensor.values.iter().zip(reference) {
                total += 1;
                let diff = (v - r).abs();
                if diff > 1e-6 {
                    outliers += 1;
                    assert!(
                        diff <= 2.0 * LR * 1.001,
                        "{net}.{key}: diff {diff} beyond 2·lr"
                    );
                }
            }
        }
    }
    eprintln!(
        "parity weights after step 1: {outliers} of {total} elements differ by more than 1e-6"
    );
    assert!(total > 190_000, "{total} elements compared");
    assert!(
        outliers as f64 <= 0.001 * total as f64,
        "{outliers} of {total} elements differ by more than 1e-6"
    );
}

#[test]
fn same_seed_same_losses() {
    let device = common::device().autodiff();
    let config = common::small_config().with_pool_size(4).with_seed(9);
    let (real_a, real_b) = golden_inputs(&device);
    let run = || {
        let mut gan = CycleGan::new(&config, &device);
        (0..3)
            .map(|_| gan.train_step(real_a.clone(), real_b.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn identity_terms_are_skipped_when_lambda_identity_is_zero() {
    let device = common::device().autodiff();
    let config = common::small_config().with_lambda_identity(0.0);
    let mut gan = CycleGan::from_nets(&config, golden_nets(&device), &device);
    let (real_a, real_b) = golden_inputs(&device);
    let losses = gan.train_step(real_a, real_b);
    assert_eq!((losses.idt_a, losses.idt_b), (0.0, 0.0));
    // The other step-1 terms do not depend on the identity terms.
    let expected = golden_dict("losses.safetensors");
    let reference = expected["step1.loss_cycle_A"].values[0];
    assert!(((losses.cycle_a - reference) / reference).abs() < 1e-5);
    let g = losses.g_a + losses.g_b + losses.cycle_a + losses.cycle_b;
    assert!((losses.g - g).abs() < 1e-4);
}

#[test]
fn ablation_weights_switch_terms_off() {
    let device = common::device().autodiff();
    let config = common::small_config()
        .with_lambda_gan_a(0.0)
        .with_lambda_gan_b(0.0)
        .with_lambda_b(0.0);
    let mut gan = CycleGan::from_nets(&config, golden_nets(&device), &device);
    let (real_a, real_b) = golden_inputs(&device);
    let losses = gan.train_step(real_a, real_b);
    assert_eq!((losses.g_a, losses.g_b, losses.cycle_b), (0.0, 0.0, 0.0));
    assert!(losses.cycle_a > 0.0);
    // idt_A uses lambda_B (0 here), idt_B uses lambda_A.
    assert_eq!(losses.idt_a, 0.0);
    assert!(losses.idt_b > 0.0);
}

#[test]
fn batches_larger_than_one_train() {
    let device = common::device().autodiff();
    let config = common::small_config().with_pool_size(3);
    let mut gan = CycleGan::from_nets(&config, golden_nets(&device), &device);
    let a = Tensor::<4>::random(
        [2, 3, 32, 32],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    let b = Tensor::<4>::random(
        [2, 3, 32, 32],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    gan.check_batch(a.dims(), b.dims()).unwrap();
    for _ in 0..3 {
        assert!(gan.train_step(a.clone(), b.clone()).is_finite());
    }
    assert!(gan.check_batch([2, 3, 32, 32], [1, 3, 32, 32]).is_err());
    assert!(gan.check_batch([2, 1, 32, 32], [2, 3, 32, 32]).is_err());
}

#[test]
fn invalid_configs_are_refused() {
    let device = common::device().autodiff();
    let config = common::small_config().with_output_nc(1);
    let err = CycleGan::try_new(&config, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("lambda_identity"), "{err}");
    let config = common::small_config()
        .with_output_nc(1)
        .with_lambda_identity(0.0);
    assert!(CycleGan::try_new(&config, &device).is_ok());
    let config = common::small_config().with_beta1(1.5);
    assert!(CycleGan::try_new(&config, &device).is_err());
}

#[test]
fn losses_fall_over_200_steps_on_a_fixed_pair_of_domains() {
    use cyclegan_burn::data::image::rgb_to_tensor;
    use cyclegan_burn::data::{Domain, StripeShapes};
    let device = common::device().autodiff();
    let data = StripeShapes::train(32, 4);
    let batch = |domain, i| rgb_to_tensor(&data.image(domain, i), &device).unsqueeze_dim::<4>(0);
    let a: Vec<Tensor<4>> = (0..4).map(|i| batch(Domain::A, i)).collect();
    let b: Vec<Tensor<4>> = (0..4).map(|i| batch(Domain::B, i)).collect();
    let config = common::small_config().with_seed(1);
    let mut gan = CycleGan::new(&config, &device);
    let mut cycle = Vec::new();
    let mut total = Vec::new();
    for step in 0..200 {
        let losses = gan.train_step(a[step % 4].clone(), b[(step * 3 + 1) % 4].clone());
        assert!(losses.is_finite(), "step {step}: {losses:?}");
        cycle.push(losses.cycle_a + losses.cycle_b);
        total.push(losses.g);
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (first, last) = (mean(&cycle[..20]), mean(&cycle[180..]));
    assert!(
        last <= 0.5 * first,
        "cycle loss {first} → {last}: should at least halve"
    );
    assert!(
        mean(&total[180..]) < mean(&total[..20]),
        "generator loss should fall"
    );
}
