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

/// The entries of `dict` under `prefix`, without it.
fn sub_dict(dict: &StateDict, prefix: &str) -> StateDict {
    dict.iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect()
}

/// The small CUT or FastCUT model of `scripts/make_cut_fixtures.py`'s `make_steps`, with the
/// official initial weights of `steps_<mode>.safetensors`.
fn official_step_model(
    mode: cyclegan_burn::cut::CutMode,
    dict: &StateDict,
    device: &Device,
) -> cyclegan_burn::cut::Cut {
    use cyclegan_burn::cut::{Cut, CutConfig, CutNets};
    let base = CutConfig::new().with_cut_mode(mode);
    let config = base
        .clone()
        .with_networks(
            base.networks
                .with_ngf(8)
                .with_ndf(4)
                .with_net_g(GeneratorKind::Resnet6Blocks),
        )
        .with_netf_nc(32);
    let nets = CutNets::new(&config, device).unwrap();
    let source = std::path::Path::new("steps fixture");
    let nets = CutNets {
        g: nets
            .g
            .load_state_dict(&sub_dict(dict, "init.G."), source)
            .unwrap(),
        d: nets
            .d
            .load_state_dict(&sub_dict(dict, "init.D."), source)
            .unwrap(),
        f: nets
            .f
            .load_state_dict(&sub_dict(dict, "init.F."), source)
            .unwrap(),
    };
    Cut::try_from_nets(&config, nets, device).unwrap()
}

/// The patch ids `<prefix>.<step>.<j>` of the fixture, if any.
fn step_ids(dict: &StateDict, prefix: &str, step: usize) -> Option<Vec<Vec<usize>>> {
    let ids: Vec<Vec<usize>> = (0..)
        .map_while(|j| dict.get(&format!("{prefix}.{step}.{j}")))
        .map(|t| t.values.iter().map(|&v| v as usize).collect())
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// Biases of convs followed by an instance norm in the fixture's networks, which the norm
/// makes irrelevant: their true gradient is 0, both sides compute float noise (1e-7 to 1e-3
/// against weight gradients of 1e1 to 1e2). The down convs model.4 and model.8 are not
/// among them: CUT taps their outputs before the norm, so their biases learn.
fn is_pre_norm_bias(net: &str, key: &str) -> bool {
    match net {
        "G" => {
            key.ends_with("conv_block.1.bias")
                || key.ends_with("conv_block.5.bias")
                || ["model.1.bias", "model.19.bias", "model.23.bias"].contains(&key)
        }
        "D" => ["model.3.bias", "model.7.bias", "model.11.bias"].contains(&key),
        _ => false,
    }
}

/// Two steps of the small CUT or FastCUT model against the official `optimize_parameters()`
/// (`make_steps` of scripts/make_cut_fixtures.py), with the official flips and patches:
/// the losses of step 1 within 1e-5 and of step 2 within 1e-4 (relative; absolute below 1e-6), every gradient of
/// step 1 within 1e-4 (relative L2; pre-norm biases: noise below 1e-4 of the net's largest
/// gradient), every weight after step 2 within 1e-6 (pre-norm biases: moved by at most
/// Adam's bound of 2.06 · lr on both sides).
fn check_official_steps(mode: cyclegan_burn::cut::CutMode, file: &str) {
    use cyclegan_burn::cut::CutDraws;
    const LR: f32 = 2e-4;
    let device = common::device().autodiff();
    let dict = read_state_dict(common::crate_dir().join("tests/fixtures/cut").join(file)).unwrap();
    let mut cut = official_step_model(mode, &dict, &device);
    for (step, tolerance) in [(1, 1e-5), (2, 1e-4)] {
        let draws = CutDraws {
            // CUT has no flips: its steps report none.
            flipped: (mode == cyclegan_burn::cut::CutMode::FastCut)
                .then(|| dict[&format!("flipped.{step}")].values[0] == 1.0),
            patch_ids: step_ids(&dict, "ids", step),
            idt_patch_ids: step_ids(&dict, "idt_ids", step),
        };
        let real_a = tensor(&dict, &format!("real_A.{step}"), &device);
        let real_b = tensor(&dict, &format!("real_B.{step}"), &device);
        let report = cut.train_step_with(real_a, real_b, &draws, step == 1);
        assert_eq!(
            report.draws, draws,
            "{file} step {step}: the given draws are used"
        );
        let l = report.losses;
        let ours = [l.g_gan, l.d_real, l.d_fake, l.g, l.nce, l.nce_y];
        let theirs = host(&dict, &format!("losses.{step}"));
        eprintln!("{file} step {step}: losses {ours:?}, official {theirs:?}");
        for (name, (a, b)) in ["G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y"]
            .iter()
            .zip(ours.iter().zip(&theirs))
        {
            assert!(
                // D_fake is about 1e-10 here (D's first outputs are about 1e-5, squared):
                // below 1e-6 the tolerance is absolute.
                (a - b).abs() <= tolerance * b.abs().max(1e-6),
                "{file} step {step} {name}: {a} against {b}"
            );
        }
        let Some(gradients) = report.gradients else {
            continue;
        };
        for (net, ours) in [
            ("G", &gradients.g),
            ("D", &gradients.d),
            ("F", &gradients.f),
        ] {
            let official = sub_dict(&dict, &format!("grad.1.{net}."));
            assert_eq!(
                ours.keys().collect::<Vec<_>>(),
                official.keys().collect::<Vec<_>>(),
                "{file} {net}: gradient keys"
            );
            let largest = official
                .values()
                .flat_map(|t| &t.values)
                .fold(0.0f32, |m, v| m.max(v.abs()));
            let mut worst = 0.0f64;
            for (key, grad) in ours {
                let reference = &official[key].values;
                if is_pre_norm_bias(net, key) {
                    let noise = grad.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                    assert!(
                        noise <= 1e-4 * largest,
                        "{file} {net}.{key}: pre-norm bias gradient {noise} of {largest}"
                    );
                    continue;
                }
                let error = common::rel_l2(&grad.values, reference);
                worst = worst.max(error);
                assert!(error <= 1e-4, "{file} {net}.{key}: relative L2 {error:.2e}");
            }
            eprintln!("{file} step 1 gradients of {net}: largest relative L2 {worst:.2e}");
        }
    }
    let nets = cut.nets();
    for (net, ours) in [
        ("G", nets.g.to_state_dict()),
        ("D", nets.d.to_state_dict()),
        ("F", nets.f.to_state_dict()),
    ] {
        let official = sub_dict(&dict, &format!("after.2.{net}."));
        let initial = sub_dict(&dict, &format!("init.{net}."));
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            official.keys().collect::<Vec<_>>()
        );
        let mut worst = 0.0f32;
        for (key, weight) in &ours {
            let (reference, start) = (&official[key].values, &initial[key].values);
            if is_pre_norm_bias(net, key) {
                for side in [&weight.values, reference] {
                    let moved = common::max_abs_diff(side, start);
                    assert!(moved <= 2.06 * LR, "{file} {net}.{key}: moved {moved}");
                }
                continue;
            }
            let error = common::max_abs_diff(&weight.values, reference);
            worst = worst.max(error);
            assert!(error <= 1e-6, "{file} {net}.{key} after step 2: {error}");
        }
        eprintln!("{file} weights of {net} after step 2: largest difference {worst:.2e}");
    }
}

#[test]
fn two_cut_steps_equal_the_official_ones() {
    check_official_steps(cyclegan_burn::cut::CutMode::Cut, "steps_cut.safetensors");
}

#[test]
fn two_fastcut_steps_equal_the_official_ones() {
    check_official_steps(
        cyclegan_burn::cut::CutMode::FastCut,
        "steps_fastcut.safetensors",
    );
}

#[test]
fn fastcut_with_the_other_flip_decision_differs_from_the_official_step() {
    use cyclegan_burn::cut::{CutDraws, CutMode};
    let device = common::device().autodiff();
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/steps_fastcut.safetensors"))
            .unwrap();
    let mut cut = official_step_model(CutMode::FastCut, &dict, &device);
    // The official step 1 flipped the batch; not flipping it must not give its losses.
    assert_eq!(dict["flipped.1"].values[0], 1.0);
    let draws = CutDraws {
        flipped: Some(false),
        patch_ids: step_ids(&dict, "ids", 1),
        idt_patch_ids: None,
    };
    let report = cut.train_step_with(
        tensor(&dict, "real_A.1", &device),
        tensor(&dict, "real_B.1", &device),
        &draws,
        false,
    );
    let official_nce = host(&dict, "losses.1")[4];
    let relative = ((report.losses.nce - official_nce) / official_nce).abs();
    assert!(
        relative > 1e-3,
        "NCE {} against {official_nce}",
        report.losses.nce
    );
}

#[test]
fn drawn_steps_are_reproducible_from_the_seed_and_report_their_draws() {
    use cyclegan_burn::cut::{Cut, CutConfig, CutDraws, CutMode};
    let device = common::device().autodiff();
    let base = CutConfig::new().with_cut_mode(CutMode::FastCut);
    let config = base
        .clone()
        .with_networks(
            base.networks
                .with_ngf(4)
                .with_ndf(4)
                .with_net_g(GeneratorKind::Resnet6Blocks),
        )
        .with_netf_nc(16)
        .with_num_patches(20)
        .with_seed(5);
    let real_a = Tensor::<4>::random(
        [1, 3, 32, 32],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    let real_b = real_a.clone().flip([2]);
    let run = || {
        let mut cut = Cut::new(&config, &device);
        (0..3)
            .map(|_| {
                let step = cut.train_step_with(
                    real_a.clone(),
                    real_b.clone(),
                    &CutDraws::default(),
                    false,
                );
                (step.losses, step.draws)
            })
            .collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    for (losses, draws) in &first {
        assert!(losses.is_finite() && losses.nce > 0.0 && losses.nce_y == 0.0);
        assert!(draws.flipped.is_some() && draws.idt_patch_ids.is_none());
        let ids = draws.patch_ids.as_ref().unwrap();
        // 20 patches of each of the five taps (38², 32², 16², 8², 8² positions).
        assert_eq!(ids.iter().map(Vec::len).collect::<Vec<_>>(), [20; 5]);
    }
    // Three steps, three independent patch draws.
    assert_ne!(first[0].1.patch_ids, first[1].1.patch_ids);
}

#[test]
fn netf_round_trips_through_the_official_key_names_and_layouts() {
    use cyclegan_burn::cut::PatchSampleFConfig;
    let device = common::device();
    let net_f = PatchSampleFConfig::new()
        .with_netf_nc(8)
        .init_seeded(&[3, 16], &device, 1);
    let dict = net_f.to_state_dict();
    let keys: Vec<_> = dict.keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "mlp_0.0.bias",
            "mlp_0.0.weight",
            "mlp_0.2.bias",
            "mlp_0.2.weight",
            "mlp_1.0.bias",
            "mlp_1.0.weight",
            "mlp_1.2.bias",
            "mlp_1.2.weight"
        ]
    );
    // PyTorch's nn.Linear weight is [out, in].
    assert_eq!(dict["mlp_1.0.weight"].shape, [8, 16]);
    let first = net_f.mlps[1].first.weight.val();
    assert_eq!(
        dict["mlp_1.0.weight"].values,
        common::values(first.clone().transpose())
    );
    let fresh = PatchSampleFConfig::new()
        .with_netf_nc(8)
        .init_seeded(&[3, 16], &device, 2);
    let loaded = fresh
        .load_state_dict(&dict, std::path::Path::new("netF"))
        .unwrap();
    assert_eq!(loaded.to_state_dict(), dict);
    // A checkpoint with the weight as Burn stores it ([in, out]) is refused with its key.
    let mut wrong = dict.clone();
    wrong.insert("mlp_1.0.weight".into(), dict["mlp_1.0.weight"].transposed());
    let error = PatchSampleFConfig::new()
        .with_netf_nc(8)
        .init_seeded(&[3, 16], &device, 2)
        .load_state_dict(&wrong, std::path::Path::new("netF.pth"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("mlp_1.0.weight") && error.contains("netF.pth"),
        "{error}"
    );
}

#[test]
fn module_channels_are_those_of_the_generators_features() {
    let device = common::device();
    for (antialias, antialias_up) in [(true, true), (true, false), (false, false)] {
        let config = ResnetGeneratorConfig::new(3, 2)
            .with_ngf(4)
            .with_n_blocks(2)
            .with_antialias(antialias)
            .with_antialias_up(antialias_up);
        let channels = config.module_channels();
        let generator = config.init_seeded(&device, 0);
        let every: Vec<usize> = (0..channels.len()).collect();
        let taps = generator.forward_features(Tensor::zeros([1, 3, 16, 16], &device), &every);
        let tapped: Vec<usize> = taps.iter().map(|t| t.dims()[1]).collect();
        assert_eq!(tapped, channels, "antialias {antialias}/{antialias_up}");
    }
}

#[test]
fn cut_options_that_cannot_work_are_refused_by_name() {
    use cyclegan_burn::cut::{Cut, CutConfig};
    let device = common::device().autodiff();
    let unet = CutConfig::new()
        .with_networks(CutConfig::new().networks.with_net_g(GeneratorKind::Unet256));
    let past = CutConfig::new().with_nce_layers(vec![0, 40]);
    let twice = CutConfig::new().with_nce_layers(vec![4, 4]);
    let idt = CutConfig::new().with_networks(CutConfig::new().networks.with_output_nc(1));
    for (config, field) in [
        (unet, "netG"),
        (past, "nce_layers"),
        (twice, "nce_layers"),
        (idt, "nce_idt"),
        (CutConfig::new().with_nce_t(0.0), "nce_T"),
    ] {
        let error = Cut::try_new(&config, &device).unwrap_err().to_string();
        assert!(error.contains(field), "{field}: {error}");
    }
}

/// An all-zero row (netF's ReLU MLP gives one when every hidden unit is off) normalises to 0
/// with a finite gradient, where the official `Normalize` gives NaN and the run is lost.
#[test]
fn an_all_zero_patch_row_has_a_finite_gradient() {
    use cyclegan_burn::cut::PatchSampleF;
    let device = common::device().autodiff();
    let features = Tensor::<4>::zeros([1, 3, 2, 2], &device).require_grad();
    let net_f = PatchSampleF { mlps: Vec::new() };
    let (rows, _) = net_f.forward(
        std::slice::from_ref(&features),
        4,
        Some(&[vec![0, 1, 2, 3]]),
        &mut rand::rng(),
    );
    assert!(common::values(rows[0].clone()).iter().all(|&v| v == 0.0));
    let grads = rows[0].clone().sum().backward();
    let grad = common::values(features.grad(&grads).unwrap());
    assert!(grad.iter().all(|v| v.is_finite()), "{grad:?}");
}

/// The official netF, G and D state dicts of the step fixture, written as `.pth` the way
/// PyTorch saves them, load with their architecture detected (netF's maps and width from its
/// `mlp_{j}` tensors).
#[test]
fn official_cut_checkpoints_load_with_their_architecture_detected() {
    use cyclegan_burn::cut::PatchSampleF;
    use cyclegan_burn::import::pth::write_pth;
    let device = common::device();
    let dict =
        read_state_dict(common::crate_dir().join("tests/fixtures/cut/steps_cut.safetensors"))
            .unwrap();
    let dir = std::env::temp_dir().join(format!("cut-pth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |net: &str| dir.join(format!("latest_net_{net}.pth"));
    for net in ["G", "D", "F"] {
        write_pth(&path(net), &sub_dict(&dict, &format!("init.{net}.")), 0).unwrap();
    }
    let net_f = PatchSampleF::from_pytorch(path("F"), &device).unwrap();
    assert_eq!(net_f.mlps.len(), 5);
    assert_eq!(net_f.to_state_dict(), sub_dict(&dict, "init.F."));
    let g = ResnetGenerator::from_pytorch(path("G"), &device).unwrap();
    assert_eq!(g.blocks.len(), 6);
    assert_eq!(g.to_state_dict(), sub_dict(&dict, "init.G."));
    let d = NLayerDiscriminator::from_pytorch(path("D"), &device).unwrap();
    assert_eq!(d.to_state_dict(), sub_dict(&dict, "init.D."));
    // A generator file is no netF.
    let error = PatchSampleF::from_pytorch(path("G"), &device)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("mlp_0.0.weight") && error.contains("latest_net_G.pth"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CUT's three networks saved as the official code names them and loaded back into fresh
/// networks of the same configuration: the same weights, key for key.
#[test]
fn cut_nets_round_trip_through_official_files() {
    use cyclegan_burn::cut::{CutConfig, CutNets};
    let device = common::device();
    let base = CutConfig::new();
    let config = base
        .clone()
        .with_networks(base.networks.with_ngf(4).with_ndf(4))
        .with_netf_nc(8);
    let nets = CutNets::new(&config.clone().with_seed(1), &device).unwrap();
    let dir = std::env::temp_dir().join(format!("cut-nets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    nets.save_pytorch_dir(&dir, "latest", "pth").unwrap();
    for net in ["G", "D", "F"] {
        assert!(dir.join(format!("latest_net_{net}.pth")).is_file());
    }
    let loaded = CutNets::new(&config.with_seed(2), &device)
        .unwrap()
        .load_pytorch_dir(&dir, "latest", "pth", &device)
        .unwrap();
    assert_eq!(loaded.g.to_state_dict(), nets.g.to_state_dict());
    assert_eq!(loaded.d.to_state_dict(), nets.d.to_state_dict());
    assert_eq!(loaded.f.to_state_dict(), nets.f.to_state_dict());
    let _ = std::fs::remove_dir_all(&dir);
}
