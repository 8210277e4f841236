//! Parity on a GPU, with a tolerance set from evidence: the small golden (forward outputs,
//! the gradients of a training step, the losses of two steps) computed on the GPU named by
//! `CYCLEGAN_TEST_BACKEND`, against the CPU golden, beside PyTorch's own run of it on the same
//! GPU with TF32 on (`scripts/gpu_reference.py`, whose folder `CYCLEGAN_GPU_REFERENCE` names).
//!
//! On NVIDIA GPUs Burn's convolutions stage `f32` operands as TF32 on tensor cores, with no
//! switch to turn it off, as PyTorch's cuDNN convolutions do by default: the CPU golden's
//! tolerances (1e-4 for outputs, 1e-5 for step-1 losses) do not hold there for either. Each
//! quantity here must stay within [`FACTOR`] times PyTorch's own deviation from the CPU
//! golden on that GPU (or within the CPU tolerance, where PyTorch's deviation is smaller).
//! Ignored by default (it needs a GPU and the reference); `scripts/gpu_checks.sh` runs it:
//!
//! ```text
//! python3 scripts/gpu_reference.py --device cuda --out /tmp/gpu-reference
//! CYCLEGAN_TEST_BACKEND=cuda CYCLEGAN_GPU_REFERENCE=/tmp/gpu-reference \
//!     cargo test --release --features cuda --test gpu_parity -- --ignored --nocapture
//! ```

mod common;

use std::path::PathBuf;

use common::{golden_dict, golden_nets, max_abs_diff, rel_l2, to_tensor, values};
use cyclegan_burn::import::StateDict;
use cyclegan_burn::import::state_dict::read_state_dict;
use cyclegan_burn::prelude::*;

/// How far past PyTorch's own TF32 deviation ours may go.
const FACTOR: f64 = 3.0;

/// The reference folder of `scripts/gpu_reference.py`.
fn reference(name: &str) -> StateDict {
    let folder = std::env::var_os("CYCLEGAN_GPU_REFERENCE")
        .map(PathBuf::from)
        .expect("CYCLEGAN_GPU_REFERENCE names the folder of scripts/gpu_reference.py");
    read_state_dict(folder.join(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// One quantity's deviations from the CPU golden, ours and PyTorch's on the GPU, against the
/// bound they set; the failures are collected.
struct Check {
    failures: Vec<String>,
}

impl Check {
    fn compare(&mut self, name: &str, ours: f64, pytorch: f64, cpu_tolerance: f64) {
        let bound = (FACTOR * pytorch).max(cpu_tolerance);
        let verdict = if ours <= bound { "ok" } else { "OVER" };
        println!(
            "{name:32} ours {ours:.3e}  PyTorch TF32 {pytorch:.3e}  bound {bound:.3e}  {verdict}"
        );
        if ours.is_nan() || ours > bound {
            self.failures
                .push(format!("{name}: {ours:.3e} > {bound:.3e}"));
        }
    }
}

fn relative(a: f32, b: f32) -> f64 {
    ((a as f64 - b as f64) / b as f64).abs()
}

#[test]
#[ignore = "needs a GPU backend and scripts/gpu_reference.py's folder; see the file's first lines"]
fn gpu_outputs_stay_within_pytorchs_own_tf32_deviation() {
    let device = common::device();
    let mut check = Check { failures: vec![] };

    // Forward outputs: max abs difference from the CPU golden.
    let nets = golden_nets(&device);
    let inputs = golden_dict("inputs.safetensors");
    let golden = golden_dict("forward.safetensors");
    let pytorch = reference("forward.safetensors");
    let real_a: Tensor<4> = to_tensor(&inputs["real_A"], &device);
    let real_b: Tensor<4> = to_tensor(&inputs["real_B"], &device);
    let fake_b = nets.g_a.forward(real_a.clone());
    let fake_a = nets.g_b.forward(real_b.clone());
    let outputs = [
        ("fake_B", fake_b.clone()),
        ("rec_A", nets.g_b.forward(fake_b.clone())),
        ("fake_A", fake_a.clone()),
        ("rec_B", nets.g_a.forward(fake_a.clone())),
        ("idt_A", nets.g_a.forward(real_b.clone())),
        ("idt_B", nets.g_b.forward(real_a.clone())),
        ("D_A_fake_B", nets.d_a.forward(fake_b)),
        ("D_B_fake_A", nets.d_b.forward(fake_a)),
        ("D_A_real_B", nets.d_a.forward(real_b)),
        ("D_B_real_A", nets.d_b.forward(real_a)),
    ];
    for (name, output) in outputs {
        let ours = values(output);
        let expected = &golden[name].values;
        check.compare(
            &format!("forward {name}"),
            max_abs_diff(&ours, expected) as f64,
            max_abs_diff(&pytorch[name].values, expected) as f64,
            1e-4,
        );
    }

    // The gradients of a training step: relative L2 from the CPU golden (the biases before
    // an instance norm, whose gradient is rounding only, left out).
    let train = device.clone().autodiff();
    let config = common::small_config();
    let gan = CycleGan::from_nets(&config, golden_nets(&train), &train);
    let (a, b) = (
        to_tensor(&inputs["real_A"], &train),
        to_tensor(&inputs["real_B"], &train),
    );
    let grads = gan.gradients(a, b);
    for (net, ours, file) in [
        ("G_A", &grads.g_a, "grads_G.safetensors"),
        ("G_B", &grads.g_b, "grads_G.safetensors"),
        ("D_A", &grads.d_a, "grads_D.safetensors"),
        ("D_B", &grads.d_b, "grads_D.safetensors"),
    ] {
        let golden = golden_dict(file);
        let pytorch = reference(file);
        let (mut worst_ours, mut worst_pytorch, mut worst_key) = (0f64, 0f64, String::new());
        for (key, grad) in ours {
            if is_pre_norm_bias(net, key) {
                continue;
            }
            let full = format!("{net}.{key}");
            let expected = &golden[&full].values;
            let error = rel_l2(&grad.values, expected);
            if error >= worst_ours {
                (worst_ours, worst_key) = (error, key.clone());
            }
            worst_pytorch = worst_pytorch.max(rel_l2(&pytorch[&full].values, expected));
        }
        check.compare(
            &format!("gradients {net} ({worst_key})"),
            worst_ours,
            worst_pytorch,
            1e-4,
        );
    }

    // The losses of two whole steps (Adam included): relative difference.
    let mut gan = CycleGan::from_nets(&config, golden_nets(&train), &train);
    let golden = golden_dict("losses.safetensors");
    let pytorch = reference("losses.safetensors");
    for (step, cpu_tolerance) in [("step1", 1e-5), ("step2", 2e-3)] {
        let losses = gan.train_step(
            to_tensor(&inputs["real_A"], &train),
            to_tensor(&inputs["real_B"], &train),
        );
        for (term, value) in losses.terms() {
            let key = format!("{step}.loss_{}", term.name());
            let expected = golden[&key].values[0];
            check.compare(
                &key,
                relative(value, expected),
                relative(pytorch[&key].values[0], expected),
                cpu_tolerance,
            );
        }
    }
    assert!(check.failures.is_empty(), "{:#?}", check.failures);
}

/// Biases of convolutions that feed an instance norm: a gradient of rounding only.
fn is_pre_norm_bias(net: &str, key: &str) -> bool {
    if !key.ends_with(".bias") {
        return false;
    }
    match net {
        "G_A" | "G_B" => !key.starts_with("model.19."),
        _ => !key.starts_with("model.0.") && !key.starts_with("model.11."),
    }
}
