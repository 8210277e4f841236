//! Metrics against scikit-image / numpy (fixtures from scripts/make_metric_fixtures.py).

mod common;

use std::path::PathBuf;

use cyclegan_burn::data::image::rgb_to_chw;
use cyclegan_burn::metrics::{FACADE_PALETTE, LabelScores, l1, nearest_class, psnr, ssim};
use image::RgbImage;

fn fixture(name: &str) -> PathBuf {
    common::crate_dir()
        .join("tests/fixtures/metrics")
        .join(name)
}

fn rgb(name: &str) -> RgbImage {
    image::open(fixture(name)).unwrap().to_rgb8()
}

fn expected(key: &str) -> f64 {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json[key].as_f64().unwrap()
}

/// `[3, H, W]` in 0..=255.
fn planes(image: &RgbImage) -> Vec<f32> {
    rgb_to_chw(image)
        .into_iter()
        .map(|v| (v + 1.0) * 127.5)
        .collect()
}

#[test]
fn l1_and_psnr_match_numpy_and_skimage() {
    let (a, b) = (planes(&rgb("a.png")), planes(&rgb("b.png")));
    assert!((l1(&a, &b) - expected("l1")).abs() < 1e-3);
    assert!((psnr(&a, &b, 255.0) - expected("psnr")).abs() < 1e-3);
    assert!(psnr(&a, &a, 255.0).is_infinite());
}

#[test]
fn ssim_matches_skimage_gaussian_weights() {
    let (a, b) = (rgb("a.png"), rgb("b.png"));
    let (w, h) = a.dimensions();
    let got = ssim(&planes(&a), &planes(&b), [3, h as usize, w as usize], 255.0);
    let want = expected("ssim");
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    let same = ssim(&planes(&a), &planes(&a), [3, h as usize, w as usize], 255.0);
    assert!((same - 1.0).abs() < 1e-9);
}

#[test]
fn label_scores_match_the_fcn_score_formulas() {
    let mut scores = LabelScores::new(&FACADE_PALETTE);
    scores.add(&rgb("truth.png"), &rgb("pred.png"));
    for (name, got) in [
        ("pixel_accuracy", scores.pixel_accuracy()),
        ("mean_class_accuracy", scores.mean_class_accuracy()),
        ("mean_iou", scores.mean_iou()),
    ] {
        assert!(
            (got - expected(name)).abs() < 1e-9,
            "{name}: {got} vs {}",
            expected(name)
        );
    }
}

#[test]
fn a_constant_facade_prediction_scores_like_the_dataset_readme_says() {
    // Predicting "facade" everywhere on a map that is 40 % facade: pixel accuracy 0.4,
    // per-class accuracy 1/k over the k classes present, IoU of facade 0.4.
    let truth = RgbImage::from_fn(10, 10, |x, _| {
        image::Rgb(if x < 4 {
            FACADE_PALETTE[1]
        } else {
            FACADE_PALETTE[(x % 3) as usize + 2]
        })
    });
    let prediction = RgbImage::from_pixel(10, 10, image::Rgb(FACADE_PALETTE[1]));
    let mut scores = LabelScores::new(&FACADE_PALETTE);
    scores.add(&truth, &prediction);
    assert!((scores.pixel_accuracy() - 0.4).abs() < 1e-12);
    assert!((scores.mean_class_accuracy() - 0.25).abs() < 1e-12);
    assert!((scores.mean_iou() - 0.1).abs() < 1e-12);
    assert_eq!(nearest_class([10, 10, 250], &FACADE_PALETTE), 1);
}
