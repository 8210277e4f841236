//! pytorch-fid's Inception network against PyTorch, without the real weights: weights from a
//! deterministic formula (`scripts/make_inception_fixtures.py` fills pytorch-fid's own
//! `InceptionV3` with the same formula), pool3 features of three images of odd sizes after
//! the full preprocessing (bilinear resize to 299, scaling to [-1, 1]).

mod common;

use cyclegan_burn::import::{HostTensor, StateDict};
use cyclegan_burn::metrics::inception::{FEATURES, FidInception, resize_bilinear};
use cyclegan_burn::metrics::npz::read_npz;

/// The script's `uniform`: FNV-1a of the key, then xorshift32 of `hash ^ i · 0x9E3779B1`.
fn uniform(key: &str, n: usize) -> impl Iterator<Item = f64> {
    let hash = key.bytes().fold(0x811C_9DC5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    (0..n).map(move |i| {
        let mut x = hash ^ (i as u32).wrapping_mul(0x9E37_79B1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as f64 / 2f64.powi(32) - 0.5
    })
}

/// The script's `formula`.
fn formula(key: &str, shape: &[usize]) -> Vec<f32> {
    let n = shape.iter().product();
    let fan_in: usize = shape[1..].iter().product();
    uniform(key, n)
        .map(|u| {
            let value = if key.ends_with("conv.weight") {
                u * (24.0 / fan_in as f64).sqrt()
            } else if key.ends_with("bn.weight") {
                1.0 + 0.2 * u
            } else if key.ends_with("bn.bias") || key.ends_with("bn.running_mean") {
                0.1 * u
            } else {
                1.0 + 0.5 * u
            };
            value as f32
        })
        .collect()
}

/// pool3 features within 1e-4 of PyTorch's (features are of size 0.06 to 1.1 here): float32
/// sums over up to 2,048 · 9 products in a different order per layer, through 47 layers, and
/// batch norms folded into the convolutions, differ by a few 1e-6; 1e-4 leaves room for
/// other machines' summation orders while a wrong padding, pooling or branch order moves
/// features by 1e-2 and more.
#[test]
fn pool3_features_match_pytorch_fid() {
    let device = common::device();
    let mut dict = StateDict::new();
    let layout = FidInception::state_dict_layout();
    assert_eq!(
        layout.len(),
        94 * 5,
        "94 convolutions, each with a batch norm"
    );
    let parameters: usize = layout
        .iter()
        .filter(|(key, _)| key.ends_with("conv.weight"))
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum();
    // As pytorch-fid's network (counted in PyTorch): 21,751,136 convolution weights.
    assert_eq!(parameters, 21_751_136);
    for (key, shape) in layout {
        let values = formula(&key, &shape);
        dict.insert(key, HostTensor { shape, values });
    }
    let network =
        FidInception::from_state_dict(&dict, std::path::Path::new("formula"), &device).unwrap();
    let dir = common::crate_dir().join("tests/fixtures/inception");
    let images: Vec<_> = (0..3)
        .map(|i| {
            image::open(dir.join(format!("image{i}.png")))
                .unwrap()
                .to_rgb8()
        })
        .collect();
    let expected = read_npz(dir.join("features.npz")).unwrap();
    // All three images in one batch, resized to 299 each.
    let features = network.features(&images, 3, &device).unwrap();
    assert_eq!(features.len(), 3 * FEATURES);
    for (index, got) in features.chunks(FEATURES).enumerate() {
        let want = &expected[&format!("image{index}")].values;
        let diff = got
            .iter()
            .zip(want)
            .map(|(g, w)| (*g as f64 - w).abs())
            .fold(0.0, f64::max);
        eprintln!("image{index}: max abs diff {diff:.2e}");
        assert!(diff <= 1e-4, "image{index}: max abs diff {diff}");
    }
}

#[test]
fn a_missing_or_foreign_weights_file_says_which_file_is_expected() {
    let device = common::device();
    let err = FidInception::load("nowhere/pt_inception.pth", &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pt_inception-2015-12-05-6726825d.pth")
            && err.contains("github.com/mseitzer/pytorch-fid"),
        "{err}"
    );
    let golden = common::golden("G_A.safetensors");
    let err = FidInception::load(&golden, &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Conv2d_1a_3x3.conv.weight"), "{err}");
}

/// `F.interpolate(mode='bilinear', align_corners=False)` on a 2×2 plane, worked by hand:
/// output 4×4 samples at −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last row).
#[test]
fn bilinear_resize_is_pytorchs() {
    let out = resize_bilinear(&[0.0, 1.0, 2.0, 3.0], [2, 2], [4, 4]);
    let row = |y: f32| [0.0f32, 0.25, 0.75, 1.0].map(|x| x + 2.0 * y).to_vec();
    let expected: Vec<f32> = [0.0, 0.25, 0.75, 1.0].into_iter().flat_map(row).collect();
    assert_eq!(out, expected);
}
