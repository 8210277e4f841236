//! CUT's patch sampler and PatchNCE loss against the official code
//! (tests/fixtures/cut/patch_nce.safetensors, from scripts/make_cut_fixtures.py, which runs
//! the official `PatchSampleF` and `PatchNCELoss` on the CPU).

mod common;

use burn::module::Param;
use cyclegan_burn::cut::{PatchNceLossConfig, PatchSampleF, PatchSampleFConfig, draw_patch_ids};
use cyclegan_burn::import::StateDict;
use cyclegan_burn::import::state_dict::read_state_dict;
use cyclegan_burn::prelude::*;

const MAPS: usize = 3;
const NUM_PATCHES: usize = 16;

fn fixture() -> StateDict {
    read_state_dict(common::crate_dir().join("tests/fixtures/cut/patch_nce.safetensors")).unwrap()
}

fn tensor<const D: usize>(dict: &StateDict, key: &str, device: &Device) -> Tensor<D> {
    common::to_tensor(&dict[key], device)
}

fn host(dict: &StateDict, key: &str) -> Vec<f32> {
    dict[key].values.clone()
}

fn ids(dict: &StateDict) -> Vec<Vec<usize>> {
    (0..MAPS)
        .map(|j| {
            host(dict, &format!("ids.{j}"))
                .iter()
                .map(|&v| v as usize)
                .collect()
        })
        .collect()
}

/// netF with the official MLP weights (PyTorch's `[out, in]`, transposed into Burn's).
fn official_net_f(dict: &StateDict, device: &Device) -> PatchSampleF {
    let channels: Vec<usize> = (0..MAPS)
        .map(|j| dict[&format!("feat_k.{j}")].shape[1])
        .collect();
    let mut net_f = PatchSampleFConfig::new()
        .with_netf_nc(32)
        .init_seeded(&channels, device, 0);
    load_official_mlps(&mut net_f, dict, device);
    net_f
}

/// Replaces netF's MLP weights with the official `mlp_{j}.{0,2}.{weight,bias}` of `dict`.
fn load_official_mlps(net_f: &mut PatchSampleF, dict: &StateDict, device: &Device) {
    for (j, mlp) in net_f.mlps.iter_mut().enumerate() {
        for (layer, linear) in [(0, &mut mlp.first), (2, &mut mlp.second)] {
            let weight: Tensor<2> = tensor(dict, &format!("mlp_{j}.{layer}.weight"), device);
            linear.weight = Param::from_tensor(weight.transpose());
            linear.bias = Some(Param::from_tensor(tensor(
                dict,
                &format!("mlp_{j}.{layer}.bias"),
                device,
            )));
        }
    }
}

/// The same keys, shapes and values.
fn assert_same_state_dict(ours: &StateDict, official: &StateDict, what: &str) {
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        official.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (key, tensor) in official {
        assert_eq!(ours[key].shape, tensor.shape, "{what} {key}");
        assert_eq!(ours[key].values, tensor.values, "{what} {key}");
    }
}

fn assert_close(ours: &[f32], theirs: &[f32], relative: f32, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= relative * b.abs().max(1.0),
            "{what}[{i}]: {a} against {b}"
        );
    }
}

#[test]
fn patch_sample_f_equals_the_official_one_for_given_ids() {
    let dict = fixture();
    let device = common::device();
    let net_f = official_net_f(&dict, &device);
    let ids = ids(&dict);
    assert_eq!(
        ids[2].len(),
        12,
        "a 3×4 map gives all its 12 positions, fewer than 16"
    );
    let mut rng = rand::rng();
    for (prefix, expected) in [("feat_k", "k"), ("feat_q", "q")] {
        let features: Vec<Tensor<4>> = (0..MAPS)
            .map(|j| tensor(&dict, &format!("{prefix}.{j}"), &device))
            .collect();
        let (rows, used) = net_f.forward(&features, NUM_PATCHES, Some(&ids), &mut rng);
        assert_eq!(used, ids);
        for (j, row) in rows.into_iter().enumerate() {
            let ours = common::values(row);
            assert_close(
                &ours,
                &host(&dict, &format!("{expected}.{j}")),
                1e-6,
                expected,
            );
        }
    }
    // `sample`: no MLP, the gathered features normalised.
    let sample = PatchSampleFConfig::new()
        .with_use_mlp(false)
        .init_seeded(&[], &device, 0);
    let features: Vec<Tensor<4>> = (0..MAPS)
        .map(|j| tensor(&dict, &format!("feat_k.{j}"), &device))
        .collect();
    let (rows, _) = sample.forward(&features, NUM_PATCHES, Some(&ids), &mut rng);
    for (j, row) in rows.into_iter().enumerate() {
        let ours = common::values(row);
        assert_close(
            &ours,
            &host(&dict, &format!("sample_k.{j}")),
            1e-6,
            "sample",
        );
    }
}

#[test]
fn drawn_patch_ids_are_distinct_positions_of_the_map() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let ids = draw_patch_ids(100, 16, &mut rng);
    assert_eq!(ids.len(), 16);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 16);
    assert!(ids.iter().all(|&id| id < 100));
    assert_ne!(sorted, ids, "in random order, not the first positions");
    assert_eq!(draw_patch_ids(12, 16, &mut rng).len(), 12);
}

#[test]
fn patch_nce_equals_the_official_loss_row_by_row() {
    let dict = fixture();
    let device = common::device();
    for (all_negatives, key) in [(false, "loss"), (true, "loss_all_negatives")] {
        let loss = PatchNceLossConfig::new()
            .with_includes_all_negatives_from_minibatch(all_negatives)
            .init();
        for j in 0..MAPS {
            let query = tensor(&dict, &format!("q.{j}"), &device);
            let keys = tensor(&dict, &format!("k.{j}"), &device);
            let ours = common::values(loss.forward(query, keys, 2));
            // Measured: 1.2e-6 at worst. The logits are similarities divided by 0.07, so
            // float32 sums in another order move a row's loss by about 1e-6 relative.
            assert_close(&ours, &host(&dict, &format!("{key}.{j}")), 2e-6, key);
        }
    }
}

#[test]
fn the_gradients_of_the_nce_loss_equal_the_official_ones() {
    let dict = fixture();
    let device = common::device().autodiff();
    let net_f = official_net_f(&dict, &device);
    let ids = ids(&dict);
    let mut rng = rand::rng();
    let keys: Vec<Tensor<4>> = (0..MAPS)
        .map(|j| tensor(&dict, &format!("feat_k.{j}"), &device))
        .collect();
    let queries: Vec<Tensor<4>> = (0..MAPS)
        .map(|j| tensor::<4>(&dict, &format!("feat_q.{j}"), &device).require_grad())
        .collect();
    let (k, _) = net_f.forward(&keys, NUM_PATCHES, Some(&ids), &mut rng);
    let (q, _) = net_f.forward(&queries, NUM_PATCHES, Some(&ids), &mut rng);
    let loss = PatchNceLossConfig::new().init();
    let total = q
        .into_iter()
        .zip(k)
        .map(|(q, k)| loss.forward(q, k, 2).mean())
        .reduce(|a, b| a + b)
        .unwrap();
    assert_close(
        &common::values(total.clone()),
        &host(&dict, "total"),
        1e-6,
        "total",
    );
    let grads = total.backward();
    for (j, query) in queries.iter().enumerate() {
        let ours = common::values(query.grad(&grads).unwrap());
        let theirs = host(&dict, &format!("grad_feat_q.{j}"));
        let error = common::rel_l2(&ours, &theirs);
        assert!(error < 1e-5, "grad of feat_q.{j}: relative L2 {error}");
    }
    for (j, mlp) in net_f.mlps.iter().enumerate() {
        for (layer, linear) in [(0, &mlp.first), (2, &mlp.second)] {
            let weight: Vec<f32> = common::values(linear.weight.grad(&grads).unwrap().transpose());
            let theirs = host(&dict, &format!("grad_mlp_{j}.{layer}.weight"));
            let error = common::rel_l2(&weight, &theirs);
            assert!(
                error < 1e-5,
                "grad of mlp_{j}.{layer}.weight: relative L2 {error}"
            );
            let bias = common::values(linear.bias.as_ref().unwrap().grad(&grads).unwrap());
            let theirs = host(&dict, &format!("grad_mlp_{j}.{layer}.bias"));
            let error = common::rel_l2(&bias, &theirs);
            // The second layer's bias gradient sums 2·16 rows that nearly cancel (each row's
            // gradient is orthogonal to its output, which the L2 normalisation divides by a
            // small norm): PyTorch's own float32 result is 2.9e-4 to 8.3e-4 (relative L2) off
            // its float64 one here, and ours 4.1e-4 to 1.3e-3 off PyTorch's float32. Every
            // other gradient agrees within 7.5e-6.
            let tolerance = if layer == 2 { 5e-3 } else { 1e-5 };
            assert!(
                error < tolerance,
                "grad of mlp_{j}.{layer}.bias: relative L2 {error}"
            );
        }
    }
}

#[test]
fn the_loss_falls_when_queries_match_their_keys() {
    // A query equal to its key scores higher than one equal to another patch's key.
    let device = common::device();
    let keys = Tensor::<2>::from_data([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], &device);
    let shuffled = Tensor::<2>::from_data([[0.0, 1.0], [0.6, 0.8], [1.0, 0.0]], &device);
    let loss = PatchNceLossConfig::new().init();
    let matched = common::values(loss.forward(keys.clone(), keys.clone(), 1).mean());
    let mismatched = common::values(loss.forward(shuffled, keys, 1).mean());
    assert!(
        matched[0] < mismatched[0],
        "{matched:?} against {mismatched:?}"
    );
}

#[test]
fn blur_downsample_and_upsample_equal_the_official_layers() {
    use cyclegan_burn::model::antialias::{blur_downsample, blur_upsample};
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/antialias.safetensors"))
            .unwrap();
    let device = common::device();
    for i in 0..3 {
        for (name, resample) in [
            ("down", blur_downsample as fn(Tensor<4>) -> Tensor<4>),
            ("up", blur_upsample),
        ] {
            let input = tensor::<4>(&dict, &format!("{name}_in.{i}"), &device);
            let expected = &dict[&format!("{name}_out.{i}")];
            let output = resample(input);
            assert_eq!(output.dims().to_vec(), expected.shape, "{name} {i}");
            let error = common::max_abs_diff(&common::values(output), &expected.values);
            assert!(error < 1e-6, "{name} {i}: max abs difference {error}");
        }
    }
}

#[test]
fn the_anti_aliased_patchgan_equals_the_official_cut_discriminator() {
    use cyclegan_burn::import::PytorchLayout;
    use cyclegan_burn::import::pytorch::trainable_param_count;
    let device = common::device();
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/antialias.safetensors"))
            .unwrap();
    for n_layers in [3, 1] {
        let path = common::crate_dir().join(format!(
            "tests/fixtures/cut/nlayer_antialias_{n_layers}.safetensors"
        ));
        // The layout (anti-aliased, layers, ndf, norm) is read from the official keys.
        let net_d = NLayerDiscriminator::from_pytorch(&path, &device).unwrap();
        assert!(net_d.antialias);
        assert_eq!(net_d.layers.len(), n_layers);
        let expected = &dict[&format!("d{n_layers}_out")];
        let [_, _, h, w] = expected.shape[..] else {
            panic!("a 4-d output")
        };
        assert_eq!(net_d.output_size(64, 64), Some([h, w]));
        let output = net_d.forward(tensor(&dict, &format!("d{n_layers}_in"), &device));
        assert_eq!(output.dims().to_vec(), expected.shape);
        let values = common::values(output);
        let scale = expected.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let error = common::max_abs_diff(&values, &expected.values);
        assert!(
            error <= 1e-5 * scale,
            "n_layers {n_layers}: {error} of {scale}"
        );
        // Saved back, the state dict is the official one, blur filters included.
        let official = read_state_dict(&path).unwrap();
        assert_same_state_dict(&net_d.to_state_dict(), &official, "discriminator");
    }
    // CUT's default discriminator has CycleGAN's parameters (2,764,737) in another layout.
    let cut_d = NLayerDiscriminatorConfig::new(3)
        .with_antialias(true)
        .init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&cut_d), 2_764_737);
    assert_eq!(cut_d.output_size(256, 256), Some([30, 30]));
}

#[test]
fn the_anti_aliased_resnet_generator_equals_the_official_cut_generator() {
    use cyclegan_burn::import::PytorchLayout;
    use cyclegan_burn::import::pytorch::trainable_param_count;
    let device = common::device();
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/antialias.safetensors"))
            .unwrap();
    for (variant, antialias_up) in [("aa", true), ("aa_down", false)] {
        let path =
            common::crate_dir().join(format!("tests/fixtures/cut/resnet_{variant}.safetensors"));
        // The layout (both resamplings, ngf, blocks, norm) is read from the official keys.
        let net_g = ResnetGenerator::from_pytorch(&path, &device).unwrap();
        assert!(net_g.antialias, "{variant}");
        assert_eq!(net_g.up_resampled.len(), if antialias_up { 2 } else { 0 });
        assert_eq!(net_g.up.len(), if antialias_up { 0 } else { 2 });
        assert_eq!(net_g.blocks.len(), 9);
        let expected = &dict[&format!("g_{variant}_out")];
        let output = net_g.forward(tensor(&dict, &format!("g_{variant}_in"), &device));
        assert_eq!(output.dims().to_vec(), expected.shape);
        let error = common::max_abs_diff(&common::values(output), &expected.values);
        assert!(error <= 1e-5, "{variant}: max abs difference {error}");
        // Saved back, the state dict is the official one, blur filters included.
        let official = read_state_dict(&path).unwrap();
        assert_same_state_dict(&net_g.to_state_dict(), &official, variant);
    }
    // CUT's default generator has CycleGAN's 11,378,179 parameters.
    check_generator_taps(&dict, &device);
    let cut_g = ResnetGeneratorConfig::new(3, 3)
        .with_antialias(true)
        .with_antialias_up(true)
        .init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&cut_g), 11_378_179);
}

/// `forward_features` against the official `forward(x, layers, encode_only=True)` (the same
/// taps as scripts/make_cut_fixtures.py's TAPS).
fn check_generator_taps(dict: &StateDict, device: &Device) {
    let taps: [(&str, &[usize]); 2] = [
        ("aa", &[0, 3, 4, 7, 8, 11, 12, 16, 21, 22, 25, 29, 31]),
        ("aa_down", &[0, 4, 8, 12, 16, 21, 24, 27, 29]),
    ];
    for (variant, layers) in taps {
        let path =
            common::crate_dir().join(format!("tests/fixtures/cut/resnet_{variant}.safetensors"));
        let net_g = ResnetGenerator::from_pytorch(&path, device).unwrap();
        let input = tensor(dict, &format!("g_{variant}_in"), device);
        let features = net_g.forward_features(input, layers);
        assert_eq!(features.len(), layers.len(), "{variant}");
        for (k, (feature, layer)) in features.into_iter().zip(layers).enumerate() {
            let expected = &dict[&format!("g_{variant}_taps.{k}")];
            assert_eq!(
                feature.dims().to_vec(),
                expected.shape,
                "{variant} layer {layer}"
            );
            let values = common::values(feature);
            let scale = expected.values.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let error = common::max_abs_diff(&values, &expected.values);
            assert!(
                error <= 1e-5 * scale,
                "{variant} layer {layer}: {error} of {scale}"
            );
        }
    }
}

#[test]
fn the_nce_term_equals_the_official_calculate_nce_loss() {
    use cyclegan_burn::cut::NceLossConfig;
    let device = common::device();
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/nce.safetensors")).unwrap();
    let generator = ResnetGenerator::from_pytorch(
        common::crate_dir().join("tests/fixtures/cut/resnet_aa.safetensors"),
        &device,
    )
    .unwrap();
    let mut net_f =
        PatchSampleFConfig::new()
            .with_netf_nc(32)
            .init_seeded(&[3, 8, 16, 16, 16], &device, 0);
    load_official_mlps(&mut net_f, &dict, &device);
    let ids: Vec<Vec<usize>> = (0..5)
        .map(|j| {
            host(&dict, &format!("ids.{j}"))
                .iter()
                .map(|&v| v as usize)
                .collect()
        })
        .collect();
    // The 8×8 taps have 64 positions, fewer than the 256 patches asked for.
    assert_eq!(
        ids.iter().map(Vec::len).collect::<Vec<_>>(),
        [256, 256, 256, 64, 64]
    );
    let source = tensor::<4>(&dict, "src", &device);
    let mut rng = rand::rng();
    // Outputs close to the source (flipped for FastCUT's flipped case): the official loss with
    // the right flip decision and with the wrong one (1.61 against 9.34, 64.5 against 84.9),
    // both matched.
    for (key, lambda_nce, flipped, output) in [
        ("nce", 1.0, false, "tgt"),
        ("nce_flipped", 10.0, true, "tgt_flipped"),
    ] {
        let nce = NceLossConfig::new().with_lambda_nce(lambda_nce).init();
        for (suffix, decision) in [("", flipped), ("_wrong_flip", !flipped)] {
            let (loss, used) = nce.forward(
                &generator,
                &net_f,
                source.clone(),
                tensor(&dict, output, &device),
                decision,
                Some(&ids),
                &mut rng,
            );
            assert_eq!(used, ids);
            let name = format!("{key}{suffix}");
            assert_close(&common::values(loss), &host(&dict, &name), 1e-5, &name);
        }
    }
    let output = tensor::<4>(&dict, "tgt", &device);
    // Without ids, each layer's are drawn: distinct positions of its map.
    let (_, drawn) = NceLossConfig::new()
        .init()
        .forward(&generator, &net_f, source, output, false, None, &mut rng);
    assert_eq!(
        drawn.iter().map(Vec::len).collect::<Vec<_>>(),
        [256, 256, 256, 64, 64]
    );
}
