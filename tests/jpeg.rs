//! The JPEG decoder against PIL: every kind of file (tests/fixtures/jpeg, from
//! scripts/make_jpeg_fixtures.py) decodes to PIL's pixels exactly; damaged files give errors,
//! not panics; and (optional data) every JPEG of horse2zebra and facades equals PIL's.

mod common;

use std::path::{Path, PathBuf};

use cyclegan_burn::data::folder::{decode_rgb, load_rgb};
use cyclegan_burn::data::jpeg::{JpegError, decode_jpeg};

fn fixture(name: &str) -> PathBuf {
    common::crate_dir().join("tests/fixtures/jpeg").join(name)
}

/// The kinds the decoder takes, each with PIL's pixels beside it.
const KINDS: [&str; 19] = [
    "baseline_444",
    "baseline_422",
    "baseline_420",
    "baseline_420_q100",
    "baseline_420_q10",
    "optimized_420",
    "restart_blocks_420",
    "restart_rows_444",
    "progressive_420",
    "progressive_422",
    "progressive_444",
    "progressive_restart_420",
    "grey",
    "grey_progressive",
    "rgb_adobe",
    "tiny_420",
    "narrow_422",
    "turbo_440",
    "turbo_411",
];

#[test]
fn every_kind_of_jpeg_decodes_to_pil_pixels_exactly() {
    for kind in KINDS {
        let bytes = std::fs::read(fixture(&format!("{kind}.jpg"))).unwrap();
        let decoded = decode_jpeg(&bytes).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let expected = image::open(fixture(&format!("{kind}.png"))).unwrap();
        let (expected_pixels, channels) = match expected.color().channel_count() {
            1 => (expected.to_luma8().into_raw(), 1),
            _ => (expected.to_rgb8().into_raw(), 3),
        };
        assert_eq!(
            (decoded.width, decoded.height, decoded.channels),
            (expected.width(), expected.height(), channels),
            "{kind}"
        );
        let differing = decoded
            .pixels
            .iter()
            .zip(&expected_pixels)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{kind}: {differing} samples differ from PIL's"
        );
    }
}

#[test]
fn the_image_crate_decoder_differs_from_pil_where_this_one_does_not() {
    // Why the decoder exists: zune-jpeg (the `image` crate's) rounds differently. If this
    // starts failing, the `image` crate matches PIL and could be used again.
    let path = fixture("baseline_420.jpg");
    let theirs = image::open(&path).unwrap().to_rgb8();
    let pil = image::open(fixture("baseline_420.png")).unwrap().to_rgb8();
    assert!(
        theirs.as_raw() != pil.as_raw(),
        "the image crate now gives PIL's pixels"
    );
    assert!(
        load_rgb(&path).unwrap().as_raw() == pil.as_raw(),
        "load_rgb does not give PIL's pixels"
    );
}

#[test]
fn load_rgb_repeats_greyscale_in_three_channels() {
    let rgb = load_rgb(&fixture("grey.jpg")).unwrap();
    let grey = image::open(fixture("grey.png")).unwrap().to_luma8();
    assert_eq!(rgb.dimensions(), grey.dimensions());
    for (pixel, value) in rgb.pixels().zip(grey.pixels()) {
        assert_eq!(pixel.0, [value.0[0]; 3]);
    }
}

#[test]
fn cmyk_is_left_to_the_image_crate() {
    let path = fixture("cmyk.jpg");
    let bytes = std::fs::read(&path).unwrap();
    assert!(matches!(decode_jpeg(&bytes), Err(JpegError::Unsupported(m)) if m.contains("CMYK")));
    assert_eq!(load_rgb(&path).unwrap().dimensions(), (45, 37));
}

#[test]
fn a_truncated_jpeg_is_an_error_naming_the_file() {
    let bytes = std::fs::read(fixture("baseline_420.jpg")).unwrap();
    let half = bytes[..bytes.len() / 2].to_vec();
    assert!(matches!(decode_jpeg(&half), Err(JpegError::Corrupt(m)) if m.contains("truncated")));
    let error = decode_rgb(half, Path::new("photos/cut.jpg"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("photos/cut.jpg"), "{error}");
    assert!(error.contains("truncated"), "{error}");
}

#[test]
fn a_huge_frame_is_refused_before_it_is_allocated() {
    let bytes = std::fs::read(fixture("baseline_444.jpg")).unwrap();
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let with_size = |width: u16, height: u16| {
        let mut patched = bytes.clone();
        patched[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        patched[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
        patched
    };
    let outcome = |bytes: &[u8]| decode_jpeg(bytes).map(|image| (image.width, image.height));
    // 10,000² in three components would take 1.4 GiB.
    let error = outcome(&with_size(10_000, 10_000)).unwrap_err();
    assert!(
        matches!(&error, JpegError::Unsupported(m) if m.contains("MiB")),
        "{error}"
    );
    let error = outcome(&with_size(10_001, 8)).unwrap_err();
    assert!(
        matches!(&error, JpegError::Unsupported(m) if m.contains("10000")),
        "{error}"
    );
    // A size that fits is decoded as far as the data goes: up to the end-of-image marker,
    // then zeros (libjpeg's "premature end of data segment"; PIL opens this file too) ...
    assert_eq!(outcome(&with_size(4_000, 3_000)), Ok((4_000, 3_000)));
    // ... and without the marker, the file is truncated (PIL: "image file is truncated").
    let without_end = with_size(4_000, 3_000);
    let error = outcome(&without_end[..without_end.len() - 2]).unwrap_err();
    assert!(
        matches!(&error, JpegError::Corrupt(m) if m.contains("truncated")),
        "{error}"
    );
}

#[test]
fn damaged_jpegs_never_panic() {
    for kind in [
        "baseline_420",
        "progressive_420",
        "restart_blocks_420",
        "grey",
    ] {
        let bytes = std::fs::read(fixture(&format!("{kind}.jpg"))).unwrap();
        // Every prefix.
        for length in 0..bytes.len() {
            let _ = decode_jpeg(&bytes[..length]);
        }
        // Bytes overwritten, a few at a time, at positions from a fixed generator.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            let mut damaged = bytes.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % damaged.len() as u64) as usize;
                damaged[at] = (state >> 32) as u8;
            }
            let _ = decode_jpeg(&damaged);
        }
    }
    assert!(matches!(
        decode_jpeg(b"not a jpeg"),
        Err(JpegError::Corrupt(_))
    ));
}

/// Every JPEG of horse2zebra (all four splits, the 7 greyscale zebras included) and of
/// facades decodes to PIL's pixels: 3,039 files. Needs the project's `../shared/data`
/// (`cargo test --release --test jpeg -- --ignored optional_data`; CI runs it).
#[test]
#[ignore = "optional data: needs ../shared/data/horse2zebra and facades (the project's data folder)"]
fn optional_data_every_jpeg_of_horse2zebra_and_facades_decodes_to_pil_pixels() {
    let data = common::crate_dir().join("../shared/data");
    let hashes = common::pil_rgb_hashes();
    assert_eq!(hashes.len(), 3039);
    assert_eq!(
        hashes
            .keys()
            .filter(|k| k.starts_with("horse2zebra/test"))
            .count(),
        260
    );
    let mut differing = Vec::new();
    for (relative, expected) in &hashes {
        let rgb = load_rgb(&data.join(relative)).unwrap();
        if &common::sha256_prefix(rgb.as_raw()) != expected {
            differing.push(relative.clone());
        }
    }
    assert!(
        differing.is_empty(),
        "{} of {} files differ from PIL's pixels: {:?}",
        differing.len(),
        hashes.len(),
        &differing[..differing.len().min(10)]
    );
}
