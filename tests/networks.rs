//! The official networks: parameter counts, output shapes, initialisation, input checks.

mod common;

use cyclegan_burn::CycleGanError;
use cyclegan_burn::import::pytorch::{param_paths, trainable_param_count};
use cyclegan_burn::prelude::*;

// Counting parameters needs no computation, so the big networks are cheap to build: their
// weights are drawn on the host, which is the only cost.

#[test]
fn resnet_parameter_counts_equal_the_official_ones() {
    let device = common::device();
    let cases = [
        (9, Norm::Instance, 11_378_179),
        (6, Norm::Instance, 7_837_699),
        (9, Norm::Batch, 11_383_427),
        (9, Norm::None, 11_372_931),
    ];
    for (n_blocks, norm, expected) in cases {
        let g = ResnetGeneratorConfig::new(3, 3)
            .with_n_blocks(n_blocks)
            .with_norm(norm)
            .init_seeded(&device, 0);
        assert_eq!(
            trainable_param_count(&g),
            expected,
            "resnet_{n_blocks}blocks/{norm}"
        );
    }
}

#[test]
fn unet_parameter_counts_equal_the_official_ones() {
    let device = common::device();
    let g = UnetGeneratorConfig::unet_256(3, 3).init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&g), 54_409_603, "unet_256/instance");
    let g = UnetGeneratorConfig::unet_128(3, 3).init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&g), 41_825_667, "unet_128/instance");
}

#[test]
fn discriminator_parameter_counts_equal_the_official_ones() {
    let device = common::device();
    let d = NLayerDiscriminatorConfig::new(3).init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&d), 2_764_737, "basic/instance");
    let d = NLayerDiscriminatorConfig::new(3)
        .with_norm(Norm::Batch)
        .init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&d), 2_765_633, "basic/batch");
    let d = PixelDiscriminatorConfig::new(3).init_seeded(&device, 0);
    assert_eq!(trainable_param_count(&d), 8_705, "pixel/instance");
}

#[test]
fn batch_norm_buffers_are_not_parameters() {
    let device = common::device();
    let d = NLayerDiscriminatorConfig::new(3)
        .with_norm(Norm::Batch)
        .init_seeded(&device, 0);
    let buffers: usize = param_paths(&d)
        .iter()
        .filter(|(p, _)| p.ends_with("running_mean") || p.ends_with("running_var"))
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    // 2 × (128 + 256 + 512) running statistics.
    assert_eq!(buffers, 2 * (128 + 256 + 512));
}

#[test]
fn generator_output_sizes_follow_the_official_rule() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1)
        .init_seeded(&device, 0);
    for (h, w) in [(32usize, 32usize), (36, 28), (30, 33), (250, 22)] {
        let y = g.forward(Tensor::zeros([1, 3, h, w], &device));
        let expected = ResnetGenerator::output_size(h, w);
        assert_eq!(y.dims(), [1, 3, expected[0], expected[1]], "{h}x{w}");
    }
    assert_eq!(ResnetGenerator::output_size(250, 256), [252, 256]);
    assert_eq!(ResnetGenerator::output_size(256, 360), [256, 360]);
}

#[test]
fn generator_outputs_are_in_tanh_range_and_channel_counts_follow_config() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(1, 3)
        .with_ngf(4)
        .with_n_blocks(2)
        .with_init_gain(1.0)
        .init_seeded(&device, 3);
    let x = Tensor::<4>::random(
        [2, 1, 16, 16],
        burn::tensor::Distribution::Uniform(-1.0, 1.0),
        &device,
    );
    let y = g.forward(x);
    assert_eq!(y.dims(), [2, 3, 16, 16]);
    let v = common::values(y);
    assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)));
    assert!(v.iter().any(|x| x.abs() > 0.1), "output should not be flat");
}

#[test]
fn unet_keeps_the_size() {
    let device = common::device();
    let g = UnetGeneratorConfig::new(3, 2, 5)
        .with_ngf(4)
        .with_dropout(true)
        .init_seeded(&device, 0);
    let y = g.forward(Tensor::zeros([2, 3, 64, 32], &device));
    assert_eq!(y.dims(), [2, 2, 64, 32]);
}

#[test]
fn discriminator_output_sizes() {
    let device = common::device();
    let d = NLayerDiscriminatorConfig::new(3)
        .with_ndf(4)
        .init_seeded(&device, 0);
    for ((h, w), expected) in [
        ((256, 256), [30, 30]),
        ((128, 128), [14, 14]),
        ((256, 360), [30, 43]),
    ] {
        assert_eq!(d.output_size(h, w), Some(expected));
        let y = d.forward(Tensor::zeros([1, 3, h, w], &device));
        assert_eq!(y.dims(), [1, 1, expected[0], expected[1]], "{h}x{w}");
    }
    let d = NLayerDiscriminatorConfig::new(3)
        .with_ndf(4)
        .with_n_layers(2)
        .init_seeded(&device, 0);
    let y = d.forward(Tensor::zeros([1, 3, 64, 64], &device));
    assert_eq!(Some([y.dims()[2], y.dims()[3]]), d.output_size(64, 64));
    let p = PixelDiscriminatorConfig::new(3)
        .with_ndf(4)
        .init_seeded(&device, 0);
    assert_eq!(
        p.forward(Tensor::zeros([1, 3, 9, 7], &device)).dims(),
        [1, 1, 9, 7]
    );
}

#[test]
fn fresh_default_generator_has_official_init_statistics() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3).init_seeded(&device, 42);
    let dict = g.to_state_dict();
    let (mut weights, mut biases) = (Vec::new(), Vec::new());
    for (key, t) in &dict {
        if key.ends_with(".weight") {
            weights.extend_from_slice(&t.values);
        } else if key.ends_with(".bias") {
            biases.extend_from_slice(&t.values);
        }
    }
    let n = weights.len() as f64;
    let mean = weights.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (weights
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(mean.abs() < 0.02 * 0.05, "mean {mean}");
    assert!((std / 0.02 - 1.0).abs() < 0.05, "std {std}");
    assert!(!biases.is_empty());
    assert!(
        biases.iter().all(|&b| b == 0.0),
        "biases must start at exactly 0"
    );
}

#[test]
fn batch_norm_weights_start_near_one() {
    let device = common::device();
    let d = NLayerDiscriminatorConfig::new(3)
        .with_norm(Norm::Batch)
        .init_seeded(&device, 1);
    let dict = d.to_state_dict();
    let gamma = &dict["model.3.weight"].values;
    let mean = gamma.iter().sum::<f32>() / gamma.len() as f32;
    assert!((mean - 1.0).abs() < 0.01, "{mean}");
    assert!(gamma.iter().any(|&g| g != 1.0));
    assert!(dict["model.3.bias"].values.iter().all(|&b| b == 0.0));
    // Batch norm: no conv bias before it, as the official use_bias rule.
    assert!(!dict.contains_key("model.2.bias"));
    assert!(dict.contains_key("model.0.bias") && dict.contains_key("model.11.bias"));
}

#[test]
fn same_seed_same_network() {
    let device = common::device();
    let config = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1);
    let a = config.init_seeded(&device, 5).to_state_dict();
    let b = config.init_seeded(&device, 5).to_state_dict();
    let c = config.init_seeded(&device, 6).to_state_dict();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn inputs_of_the_wrong_channel_count_are_errors() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1)
        .init_seeded(&device, 0);
    let err = g
        .try_forward(Tensor::zeros([1, 1, 32, 32], &device))
        .unwrap_err();
    assert!(
        matches!(
            err,
            CycleGanError::ChannelMismatch {
                expected: 3,
                found: 1
            }
        ),
        "{err}"
    );
    let d = NLayerDiscriminatorConfig::new(3)
        .with_ndf(4)
        .init_seeded(&device, 0);
    assert!(matches!(
        d.check_input([1, 4, 64, 64]),
        Err(CycleGanError::ChannelMismatch {
            expected: 3,
            found: 4
        })
    ));
}

#[test]
fn inputs_too_small_are_errors_not_panics() {
    let device = common::device();
    let g = ResnetGeneratorConfig::new(3, 3)
        .with_ngf(4)
        .with_n_blocks(1)
        .init_seeded(&device, 0);
    // The 7×7 stem reflects by 3, the blocks (at a quarter of the size) by 1.
    let err = g
        .try_forward(Tensor::zeros([1, 3, 3, 32], &device))
        .unwrap_err();
    assert!(err.to_string().contains("at least"), "{err}");
    assert!(
        g.check_input([1, 3, 4, 32]).is_err(),
        "4 → 1 pixel in the blocks, reflect pad 1 fails"
    );
    assert!(g.check_input([1, 3, 5, 5]).is_ok());
    assert!(g.try_forward(Tensor::zeros([1, 3, 5, 5], &device)).is_ok());

    let d = NLayerDiscriminatorConfig::new(3)
        .with_ndf(4)
        .init_seeded(&device, 0);
    assert!(d.check_input([1, 3, 16, 16]).is_err());
    assert!(d.check_input([1, 3, 32, 32]).is_ok());
    assert!(
        d.try_forward(Tensor::zeros([1, 3, 32, 32], &device))
            .is_ok()
    );

    let u = UnetGeneratorConfig::new(3, 3, 5)
        .with_ngf(4)
        .init_seeded(&device, 0);
    let err = u.check_input([1, 3, 48, 32]).unwrap_err().to_string();
    assert!(err.contains("multiples of 32"), "{err}");
    assert!(
        UnetGeneratorConfig::new(3, 3, 4)
            .try_init_seeded(&device, 0)
            .is_err()
    );
}

#[test]
fn padding_types_and_dropout_build_and_run() {
    let device = common::device();
    for padding in [
        PaddingType::Reflect,
        PaddingType::Replicate,
        PaddingType::Zero,
    ] {
        let g = ResnetGeneratorConfig::new(3, 3)
            .with_ngf(4)
            .with_n_blocks(2)
            .with_padding(padding)
            .with_dropout(true)
            .init_seeded(&device, 0);
        assert_eq!(
            g.forward(Tensor::zeros([1, 3, 12, 12], &device)).dims(),
            [1, 3, 12, 12]
        );
        // Dropout is active only when training on an autodiff device: inference is
        // deterministic.
        let x = Tensor::<4>::ones([1, 3, 12, 12], &device);
        assert_eq!(
            common::values(g.forward(x.clone())),
            common::values(g.forward(x))
        );
    }
}

#[test]
fn norm_variants_parse_and_build() {
    let device = common::device();
    for name in ["instance", "instance_affine", "batch", "none"] {
        let norm: Norm = name.parse().unwrap();
        assert_eq!(norm.to_string(), name);
        let g = ResnetGeneratorConfig::new(3, 3)
            .with_ngf(4)
            .with_n_blocks(1)
            .with_norm(norm)
            .init_seeded(&device, 0);
        assert_eq!(
            g.forward(Tensor::zeros([2, 3, 8, 8], &device)).dims(),
            [2, 3, 8, 8]
        );
    }
    assert!(
        "group"
            .parse::<Norm>()
            .unwrap_err()
            .to_string()
            .contains("invalid norm: `group` is not one of instance, instance_affine, batch, none")
    );
}

/// Why the embedded data's background keeps one base colour (docs/results.md): the official
/// generator's first instance norm removes any per-channel constant added to the input (the
/// reflection-padded convolution turns it into a constant per feature map), so no generator
/// with instance norm can tell two inputs apart that differ by a colour offset, nor give
/// them different outputs. Without the norm it can.
#[test]
fn an_instance_norm_generator_cannot_see_a_global_colour_offset() {
    let device = common::device();
    let x = Tensor::<4>::random(
        [1, 3, 16, 16],
        burn::tensor::Distribution::Uniform(-0.8, 0.8),
        &device,
    );
    let offset = Tensor::<1>::from_floats([0.15, -0.1, 0.05], &device).reshape([1, 3, 1, 1]);
    let shifted = x.clone() + offset;
    let largest_change = |norm: Norm| {
        let g = ResnetGeneratorConfig::new(3, 3)
            .with_ngf(8)
            .with_n_blocks(2)
            .with_norm(norm)
            .with_init_gain(0.5)
            .init_seeded(&device, 5);
        let (y, y_shifted) = (
            common::values(g.forward(x.clone())),
            common::values(g.forward(shifted.clone())),
        );
        y.iter()
            .zip(&y_shifted)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    };
    let with_norm = largest_change(Norm::Instance);
    assert!(
        with_norm < 1e-4,
        "instance norm: output moved by {with_norm}"
    );
    let without_norm = largest_change(Norm::None);
    assert!(
        without_norm > 1e-3,
        "no norm: output moved by only {without_norm}"
    );
}
