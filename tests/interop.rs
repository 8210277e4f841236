//! PyTorch interop: official key layouts for every variant, .pth and .safetensors round trips,
//! architecture detection, tolerance of real-world checkpoint quirks.

mod common;

use std::path::PathBuf;

use cyclegan_burn::import::StateDict;
use cyclegan_burn::import::state_dict::{read_state_dict, write_safetensors};
use cyclegan_burn::prelude::*;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cyclegan-burn-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Saves `net` in both formats, loads each into a freshly seeded copy, and checks the
/// weights are bit-identical and the keys are `expected_keys`.
fn round_trip<M: PytorchLayout + Clone>(
    label: &str,
    net: &M,
    fresh: impl Fn() -> M,
    expected_keys: &[&str],
) {
    let device = common::device();
    let original = net.to_state_dict();
    for key in expected_keys {
        assert!(
            original.contains_key(*key),
            "{label}: key {key} missing; have {:?}",
            original.keys().collect::<Vec<_>>()
        );
    }
    for ext in ["pth", "safetensors"] {
        let path = temp(&format!("{label}.{ext}"));
        net.save_pytorch(&path).unwrap();
        let loaded = fresh()
            .load_pytorch(&path, &device)
            .unwrap_or_else(|e| panic!("{label}.{ext}: {e}"));
        assert_eq!(
            loaded.to_state_dict(),
            original,
            "{label}.{ext}: weights differ after the round trip"
        );
    }
}

#[test]
fn every_resnet_variant_round_trips_with_official_keys() {
    let device = common::device();
    let cases: Vec<(&str, ResnetGeneratorConfig, Vec<&str>)> = vec![
        (
            "resnet_instance",
            ResnetGeneratorConfig::new(3, 3)
                .with_ngf(4)
                .with_n_blocks(2),
            vec![
                "model.1.bias",
                "model.10.conv_block.5.weight",
                "model.12.weight",
                "model.19.bias",
            ],
        ),
        (
            "resnet_batch",
            ResnetGeneratorConfig::new(3, 3)
                .with_ngf(4)
                .with_n_blocks(3)
                .with_norm(Norm::Batch),
            vec![
                "model.2.weight",
                "model.2.running_mean",
                "model.12.conv_block.6.running_var",
                "model.20.weight",
            ],
        ),
        (
            "resnet_none_dropout",
            ResnetGeneratorConfig::new(1, 3)
                .with_ngf(4)
                .with_n_blocks(1)
                .with_norm(Norm::None)
                .with_dropout(true),
            vec![
                "model.10.conv_block.1.weight",
                "model.10.conv_block.6.weight",
                "model.18.bias",
            ],
        ),
        (
            "resnet_affine_zero",
            ResnetGeneratorConfig::new(3, 3)
                .with_ngf(4)
                .with_n_blocks(1)
                .with_norm(Norm::InstanceAffine)
                .with_padding(PaddingType::Zero),
            vec![
                "model.2.weight",
                "model.10.conv_block.0.weight",
                "model.10.conv_block.4.bias",
            ],
        ),
    ];
    for (label, config, keys) in cases {
        let net = config.init_seeded(&device, 1);
        round_trip(label, &net, || config.init_seeded(&device, 2), &keys);
        // Architecture detection rebuilds the same network.
        let path = temp(&format!("{label}.pth"));
        let detected = ResnetGenerator::from_pytorch(&path, &device)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            detected.to_state_dict(),
            net.to_state_dict(),
            "{label}: detection"
        );
        assert_eq!(detected.blocks.len(), config.n_blocks);
    }
}

#[test]
fn unet_and_discriminators_round_trip_with_official_keys() {
    let device = common::device();
    let unet = UnetGeneratorConfig::new(3, 3, 6)
        .with_ngf(2)
        .with_dropout(true);
    round_trip(
        "unet",
        &unet.init_seeded(&device, 1),
        || unet.init_seeded(&device, 2),
        &[
            "model.model.0.weight",
            "model.model.3.bias",
            "model.model.1.model.1.weight",
            "model.model.1.model.5.weight",
            "model.model.1.model.3.model.3.model.3.model.3.model.1.weight",
            "model.model.1.model.3.model.3.model.3.model.3.model.3.weight",
        ],
    );
    let unet_batch = UnetGeneratorConfig::new(3, 3, 5)
        .with_ngf(2)
        .with_norm(Norm::Batch);
    round_trip(
        "unet_batch",
        &unet_batch.init_seeded(&device, 1),
        || unet_batch.init_seeded(&device, 2),
        &["model.model.1.model.2.running_mean", "model.model.0.weight"],
    );
    for (n_layers, norm) in [(2usize, Norm::Instance), (4, Norm::Batch)] {
        let config = NLayerDiscriminatorConfig::new(3)
            .with_ndf(2)
            .with_n_layers(n_layers)
            .with_norm(norm);
        let last = format!("model.{}.weight", 3 * n_layers + 2);
        round_trip(
            "nlayer",
            &config.init_seeded(&device, 1),
            || config.init_seeded(&device, 2),
            &["model.0.bias", &last],
        );
        let path = temp("nlayer.pth");
        let detected = NLayerDiscriminator::from_pytorch(&path, &device).unwrap();
        assert_eq!(detected.layers.len(), n_layers);
        assert_eq!(
            detected.to_state_dict(),
            config.init_seeded(&device, 1).to_state_dict()
        );
    }
    let pixel = PixelDiscriminatorConfig::new(3).with_ndf(4);
    round_trip(
        "pixel",
        &pixel.init_seeded(&device, 1),
        || pixel.init_seeded(&device, 2),
        &["net.0.weight", "net.2.weight", "net.5.weight"],
    );
}

#[test]
fn golden_checkpoints_are_detected() {
    let device = common::device();
    for file in [
        "latest_net_G_A.pth",
        "latest_net_G_A_legacy_format.pth",
        "latest_net_G_A_with_instancenorm_stats.pth",
        "G_A.safetensors",
    ] {
        let g = ResnetGenerator::from_pytorch(common::golden(file), &device)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            (g.blocks.len(), g.input_nc, g.output_nc),
            (2, 3, 3),
            "{file}"
        );
        assert_eq!(
            g.to_state_dict(),
            common::golden_dict("G_A.safetensors"),
            "{file}"
        );
    }
    let d =
        NLayerDiscriminator::from_pytorch(common::golden("latest_net_D_A.pth"), &device).unwrap();
    assert_eq!(d.to_state_dict(), common::golden_dict("D_A.safetensors"));
}

#[test]
fn wrapper_prefixes_and_community_names_load() {
    let device = common::device();
    let dict = common::golden_dict("G_A.safetensors");
    let renamed: StateDict = dict
        .iter()
        .map(|(k, v)| {
            (
                format!("module._orig_mod.{}", k.replace(".conv_block.", ".block.")),
                v.clone(),
            )
        })
        .collect();
    let path = temp("community.safetensors");
    write_safetensors(&path, &renamed, None).unwrap();
    let g = common::small_generator(&device)
        .load_pytorch(&path, &device)
        .unwrap();
    assert_eq!(g.to_state_dict(), dict);
    assert!(ResnetGenerator::from_pytorch(&path, &device).is_ok());
}

#[test]
fn batch_norm_running_statistics_are_loaded() {
    let device = common::device();
    let config = NLayerDiscriminatorConfig::new(3)
        .with_ndf(2)
        .with_norm(Norm::Batch);
    let mut dict = config.init_seeded(&device, 1).to_state_dict();
    dict.get_mut("model.3.running_mean")
        .unwrap()
        .values
        .iter_mut()
        .for_each(|v| *v = 0.25);
    dict.get_mut("model.3.running_var")
        .unwrap()
        .values
        .iter_mut()
        .for_each(|v| *v = 4.0);
    let path = temp("bn_stats.safetensors");
    write_safetensors(&path, &dict, None).unwrap();
    let d = config
        .init_seeded(&device, 2)
        .load_pytorch(&path, &device)
        .unwrap();
    let back = d.to_state_dict();
    assert!(
        back["model.3.running_mean"]
            .values
            .iter()
            .all(|&v| v == 0.25)
    );
    assert!(back["model.3.running_var"].values.iter().all(|&v| v == 4.0));
}

#[test]
fn dropout_mismatch_gets_a_hint() {
    let device = common::device();
    let with_dropout = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1)
        .with_dropout(true);
    let path = temp("dropout.pth");
    with_dropout
        .init_seeded(&device, 0)
        .save_pytorch(&path)
        .unwrap();
    let err = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1)
        .init_seeded(&device, 0)
        .load_pytorch(&path, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dropout"), "{err}");
}

#[test]
fn truncated_and_foreign_pth_files_are_errors() {
    let device = common::device();
    let bytes = std::fs::read(common::golden("latest_net_G_A.pth")).unwrap();
    for (name, content) in [
        ("truncated.pth", bytes[..bytes.len() / 3].to_vec()),
        ("empty.pth", Vec::new()),
        ("text.pth", b"hello".to_vec()),
    ] {
        let path = temp(name);
        std::fs::write(&path, content).unwrap();
        let err = common::small_generator(&device)
            .load_pytorch(&path, &device)
            .unwrap_err()
            .to_string();
        assert!(err.contains(name), "{name}: {err}");
    }
    let err = read_state_dict(temp("does-not-exist.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn hostile_pth_files_are_errors_with_bounded_memory() {
    use cyclegan_burn::import::pth::{PthValue, pth_bytes};
    let device = common::device();
    // A pickle that claims a tensor of 10^12 floats backed by a 4-byte storage.
    let huge = [1_000_000usize, 1_000_000];
    let one = [1.0f32];
    let bytes = pth_bytes(
        "hostile",
        &[("model.1.weight".into(), PthValue::F32(&huge, &one))],
    )
    .unwrap();
    let path = temp("hostile_size.pth");
    std::fs::write(&path, bytes).unwrap();
    let err = common::small_generator(&device)
        .load_pytorch(&path, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hostile_size.pth"), "{err}");

    // A zip whose pickle is garbage.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("archive/data.pkl", options).unwrap();
    std::io::Write::write_all(
        &mut zip,
        b"\x80\x02c__builtin__\neval\n(X\x04\x00\x00\x001+1tR.",
    )
    .unwrap();
    let path = temp("hostile_pickle.pth");
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    let err = common::small_generator(&device)
        .load_pytorch(&path, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hostile_pickle.pth"), "{err}");
}
