//! Numeric parity of the forward pass with the PyTorch reference (`tests/fixtures/golden_small`,
//! from `shared/golden/small`): with the golden weights loaded, every output within max abs
//! 1e-4 (the golden README's tolerance for a float32 port).

mod common;

use common::{golden_dict, golden_nets, max_abs_diff, to_tensor, values};
use cyclegan_burn::prelude::*;

const TOLERANCE: f32 = 1e-4;

#[test]
fn forward_outputs_match_pytorch() {
    let device = common::device();
    let nets = golden_nets(&device);
    let inputs = golden_dict("inputs.safetensors");
    let expected = golden_dict("forward.safetensors");
    let real_a: Tensor<4> = to_tensor(&inputs["real_A"], &device);
    let real_b: Tensor<4> = to_tensor(&inputs["real_B"], &device);

    let fake_b = nets.g_a.forward(real_a.clone());
    let rec_a = nets.g_b.forward(fake_b.clone());
    let fake_a = nets.g_b.forward(real_b.clone());
    let rec_b = nets.g_a.forward(fake_a.clone());
    let outputs = [
        ("fake_B", fake_b.clone()),
        ("rec_A", rec_a),
        ("fake_A", fake_a.clone()),
        ("rec_B", rec_b),
        ("idt_A", nets.g_a.forward(real_b.clone())),
        ("idt_B", nets.g_b.forward(real_a.clone())),
        ("D_A_fake_B", nets.d_a.forward(fake_b)),
        ("D_B_fake_A", nets.d_b.forward(fake_a)),
        ("D_A_real_B", nets.d_a.forward(real_b)),
        ("D_B_real_A", nets.d_b.forward(real_a)),
    ];
    for (name, output) in outputs {
        let reference = &expected[name];
        assert_eq!(output.dims().to_vec(), reference.shape, "{name} shape");
        let diff = max_abs_diff(&values(output), &reference.values);
        eprintln!("parity small {name}: max abs diff {diff:.3e}");
        assert!(diff <= TOLERANCE, "{name}: max abs diff {diff}");
    }
}

#[test]
fn golden_weights_load_exactly() {
    let device = common::device();
    let nets = golden_nets(&device);
    for (name, dict) in [
        ("G_A.safetensors", nets.g_a.to_state_dict()),
        ("G_B.safetensors", nets.g_b.to_state_dict()),
        ("D_A.safetensors", nets.d_a.to_state_dict()),
        ("D_B.safetensors", nets.d_b.to_state_dict()),
    ] {
        assert_eq!(dict, golden_dict(name), "{name}");
    }
}

/// The golden README's formula for the golden weights, implemented independently here; it
/// checks both the stored files and our reading of them.
fn golden_uniform(name: &str, n: usize, scale: f32) -> Vec<f32> {
    let mut seed: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        seed ^= b as u64;
        seed = seed.wrapping_mul(0x100000001b3);
    }
    (1..=n as u64)
        .map(|i| {
            let mut s = seed.wrapping_add(i.wrapping_mul(0x9E3779B97F4A7C15));
            s = (s ^ (s >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
            s = (s ^ (s >> 27)).wrapping_mul(0x94D049BB133111EB);
            let z = s ^ (s >> 31);
            let u = (z >> 40) as f32 * (1.0f32 / 16777216.0);
            (2.0f32 * u - 1.0f32) * scale
        })
        .collect()
}

#[test]
fn golden_files_follow_the_documented_formula() {
    let dict = golden_dict("G_A.safetensors");
    let w = &dict["model.1.weight"];
    let expected = golden_uniform(
        "G_A/model.1.weight",
        w.values.len(),
        f32::from_bits(0x3d0de3bd),
    );
    assert_eq!(w.values, expected);
    assert_eq!(&expected[..2], &[-0.024129903, -0.018638412]);
}

#[test]
fn pth_checkpoints_reproduce_the_golden_outputs() {
    let device = common::device();
    let inputs = golden_dict("inputs.safetensors");
    let expected = golden_dict("forward.safetensors");
    let real_a: Tensor<4> = to_tensor(&inputs["real_A"], &device);
    for file in [
        "latest_net_G_A.pth",
        "latest_net_G_A_legacy_format.pth",
        "latest_net_G_A_with_instancenorm_stats.pth",
    ] {
        let g = common::small_generator(&device)
            .load_pytorch(common::golden(file), &device)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let diff = max_abs_diff(
            &values(g.forward(real_a.clone())),
            &expected["fake_B"].values,
        );
        assert!(diff <= TOLERANCE, "{file}: max abs diff {diff}");
    }
    let d = common::small_discriminator(&device)
        .load_pytorch(common::golden("latest_net_D_A.pth"), &device)
        .unwrap();
    let fake_b: Tensor<4> = to_tensor(&expected["fake_B"], &device);
    let diff = max_abs_diff(&values(d.forward(fake_b)), &expected["D_A_fake_B"].values);
    assert!(diff <= TOLERANCE, "D_A: {diff}");
}

#[test]
fn wrong_architecture_checkpoint_is_a_clear_error() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(8)
        .with_n_blocks(3)
        .init_seeded(&device, 0);
    let err = g
        .load_pytorch(common::golden("G_A.safetensors"), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("G_A.safetensors"), "{err}");
    assert!(
        err.contains("missing keys: model.12.conv_block.1.weight, model.12.conv_block.1.bias"),
        "{err}"
    );
    assert!(
        err.contains("unexpected keys: model.12.bias, model.12.weight, model.15.bias"),
        "{err}"
    );
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(16)
        .with_n_blocks(2)
        .init_seeded(&device, 0);
    let err = g
        .load_pytorch(common::golden("G_A.safetensors"), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("wrong shapes: model.1.weight (checkpoint [8, 3, 7, 7], model [16, 3, 7, 7])"),
        "{err}"
    );
    let d = common::small_discriminator(&device);
    let err = d
        .load_pytorch(common::golden("G_A.safetensors"), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unexpected keys"), "{err}");
}

#[test]
fn non_checkpoint_files_are_errors() {
    let device = common::device();
    let dir = std::env::temp_dir().join(format!("cyclegan-burn-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.pth");
    std::fs::write(&junk, b"this is not a checkpoint").unwrap();
    let err = common::small_generator(&device)
        .load_pytorch(&junk, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("junk.pth"), "{err}");
    let truncated = dir.join("truncated.safetensors");
    let bytes = std::fs::read(common::golden("G_A.safetensors")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = common::small_generator(&device)
        .load_pytorch(&truncated, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("truncated.safetensors"), "{err}");
    let missing = common::small_generator(&device).load_pytorch(dir.join("nope.pth"), &device);
    assert!(missing.unwrap_err().to_string().contains("not found"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The golden "default" configuration (resnet_9blocks, ngf 64; basic D, ndf 64; 64×64), whose
/// weights are not stored but given by the formula: tolerance 3e-4 (golden README §6).
#[test]
fn default_resnet_9blocks_forward_matches_pytorch() {
    use cyclegan_burn::import::pytorch::param_paths;
    use cyclegan_burn::import::{HostTensor, StateDict};
    let device = common::device();
    let scale = f32::from_bits(0x3d0de3bd);
    let formula = |net: &str,
                   keys: std::collections::BTreeMap<String, String>,
                   shapes: Vec<(String, Vec<usize>)>| {
        let mut dict = StateDict::new();
        for (path, shape) in shapes {
            let key = &keys[&path];
            let n = shape.iter().product();
            let values = golden_uniform(&format!("{net}/{key}"), n, scale);
            dict.insert(key.clone(), HostTensor { shape, values });
        }
        dict
    };
    let generator = |net: &str| {
        let g = ResnetGeneratorConfig::new(3, 3).init_seeded(&device, 0);
        let dict = formula(net, g.pytorch_keys(), param_paths(&g));
        g.load_state_dict(&dict, std::path::Path::new(net)).unwrap()
    };
    let discriminator = |net: &str| {
        let d = NLayerDiscriminatorConfig::new(3).init_seeded(&device, 0);
        let dict = formula(net, d.pytorch_keys(), param_paths(&d));
        d.load_state_dict(&dict, std::path::Path::new(net)).unwrap()
    };
    let dir = common::crate_dir().join("tests/fixtures/golden_default");
    let read =
        |name: &str| cyclegan_burn::import::state_dict::read_state_dict(dir.join(name)).unwrap();
    let inputs = read("inputs.safetensors");
    let expected = read("forward.safetensors");
    let (g_a, g_b, d_a) = (generator("G_A"), generator("G_B"), discriminator("D_A"));
    let real_a: Tensor<4> = to_tensor(&inputs["real_A"], &device);
    let fake_b = g_a.forward(real_a);
    let rec_a = g_b.forward(fake_b.clone());
    for (name, output) in [
        ("fake_B", fake_b.clone()),
        ("rec_A", rec_a),
        ("D_A_fake_B", d_a.forward(fake_b)),
    ] {
        let diff = max_abs_diff(&values(output), &expected[name].values);
        eprintln!("parity default {name}: max abs diff {diff:.3e}");
        assert!(diff <= 3e-4, "{name}: max abs diff {diff}");
    }
}
