//! Data: folder listing, pairing, direction, transforms against PIL, loader, errors.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataset::Dataset;
use cyclegan_burn::data::folder::{list_images, load_rgb};
use cyclegan_burn::data::transform::{luma, resize_bicubic};
use cyclegan_burn::data::{
    DataLoader, DatasetOptions, Direction, Preprocess, TransformOptions, UnalignedDataset,
};
use image::RgbImage;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("cyclegan-burn-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An image whose every pixel is `(id, id, id)` at `size²`.
fn write_image(path: &Path, id: u8, size: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    RgbImage::from_pixel(size, size, image::Rgb([id, id, id]))
        .save(path)
        .unwrap();
}

fn fixture_root(name: &str, n_a: u8, n_b: u8) -> TempDir {
    let dir = TempDir::new(name);
    for i in 0..n_a {
        write_image(&dir.0.join(format!("trainA/a{i:02}.png")), i, 8);
    }
    for i in 0..n_b {
        write_image(&dir.0.join(format!("trainB/b{i:02}.png")), 100 + i, 8);
    }
    dir
}

fn no_transform() -> DatasetOptions {
    DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            no_flip: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn id_of(values: &[f32]) -> u8 {
    ((values[0] + 1.0) * 127.5).round() as u8
}

#[test]
fn listing_is_recursive_sorted_and_filtered_by_extension() {
    let dir = TempDir::new("listing");
    for name in [
        "b.png",
        "a.JPG",
        "sub/c.jpeg",
        "sub/deeper/d.bmp",
        "e.tiff",
        "f.PPM",
    ] {
        write_image(&dir.0.join("x").join(name.to_lowercase()), 1, 4);
        if name != name.to_lowercase() {
            std::fs::rename(
                dir.0.join("x").join(name.to_lowercase()),
                dir.0.join("x").join(name),
            )
            .unwrap();
        }
    }
    std::fs::write(dir.0.join("x/notes.txt"), "not an image").unwrap();
    std::fs::write(
        dir.0.join("x/mixed.Png"),
        "mixed case is not an official extension",
    )
    .unwrap();
    let found = list_images(&dir.0.join("x"), usize::MAX).unwrap();
    let names: Vec<String> = found
        .iter()
        .map(|p| {
            p.strip_prefix(dir.0.join("x"))
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "a.JPG",
            "b.png",
            "e.tiff",
            "f.PPM",
            "sub/c.jpeg",
            "sub/deeper/d.bmp"
        ]
    );
    assert_eq!(list_images(&dir.0.join("x"), 2).unwrap().len(), 2);
}

#[test]
fn length_is_the_larger_domain_and_serial_pairs_by_index() {
    let root = fixture_root("serial", 5, 3);
    let options = DatasetOptions {
        serial_batches: true,
        ..no_transform()
    };
    let data = UnalignedDataset::new(&root.0, options).unwrap();
    assert_eq!(data.len(), 5);
    for i in 0..5 {
        let item = data.get(i).unwrap();
        assert_eq!(id_of(&item.a.values), i as u8);
        assert_eq!(id_of(&item.b.values), 100 + (i % 3) as u8);
        assert!(item.a.path.ends_with(format!("trainA/a{i:02}.png")));
    }
}

#[test]
fn random_pairing_covers_b_and_is_seeded() {
    let root = fixture_root("random", 4, 6);
    let data = UnalignedDataset::new(&root.0, no_transform()).unwrap();
    assert_eq!(data.len(), 6);
    let mut seen = std::collections::HashSet::new();
    let mut orders = std::collections::HashSet::new();
    for epoch in 0..30 {
        data.set_epoch(epoch);
        let mut ids_a = Vec::new();
        for i in 0..6 {
            let item = data.get(i).unwrap();
            ids_a.push(id_of(&item.a.values));
            seen.insert(id_of(&item.b.values));
        }
        orders.insert(ids_a.clone());
        ids_a.sort();
        assert_eq!(
            ids_a,
            [0, 0, 1, 1, 2, 3],
            "each index once per epoch, A = index mod |A|"
        );
    }
    assert!(orders.len() > 5, "the order is shuffled per epoch");
    assert_eq!(seen.len(), 6, "every B image gets drawn");
    let again = UnalignedDataset::new(&root.0, no_transform()).unwrap();
    again.set_epoch(29);
    assert_eq!(again.get(3).unwrap(), data.get(3).unwrap());
}

#[test]
fn max_dataset_size_and_direction() {
    let root = fixture_root("direction", 5, 3);
    let options = DatasetOptions {
        max_dataset_size: 2,
        direction: Direction::BtoA,
        serial_batches: true,
        ..no_transform()
    };
    let data = UnalignedDataset::new(&root.0, options).unwrap();
    assert_eq!((data.len_a(), data.len_b()), (2, 2));
    let item = data.get(1).unwrap();
    assert_eq!(
        id_of(&item.a.values),
        101,
        "BtoA: the model's A comes from trainB"
    );
    assert_eq!(id_of(&item.b.values), 1);
}

#[test]
fn greyscale_domains_get_one_channel() {
    let root = fixture_root("grey", 2, 2);
    let options = DatasetOptions {
        input_nc: 1,
        ..no_transform()
    };
    let item = UnalignedDataset::new(&root.0, options)
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(item.a.shape, [1, 8, 8]);
    assert_eq!(item.b.shape, [3, 8, 8]);
}

#[test]
fn loader_batches_with_paths_and_several_workers() {
    let root = fixture_root("loader", 6, 6);
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::Crop,
            crop_size: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let data = Arc::new(UnalignedDataset::new(&root.0, options).unwrap());
    let device = common::device();
    let loader = DataLoader::new(data.clone(), 4, 2, &device);
    assert_eq!(loader.num_batches(), 2);
    let batches: Vec<_> = loader.iter().map(|b| b.unwrap()).collect();
    // The same batches in the same order with any number of workers.
    for workers in [0, 1, 3] {
        let again: Vec<_> = DataLoader::new(data.clone(), 4, workers, &device)
            .iter()
            .map(|b| b.unwrap())
            .collect();
        for (x, y) in batches.iter().zip(&again) {
            assert_eq!(x.paths_a, y.paths_a);
            assert_eq!(x.paths_b, y.paths_b);
            assert_eq!(
                common::values(x.real_a.clone()),
                common::values(y.real_a.clone())
            );
        }
    }
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0].real_a.dims(), [4, 3, 4, 4]);
    assert_eq!(batches[1].real_b.dims(), [2, 3, 4, 4]);
    let mut ids: Vec<u8> = batches
        .iter()
        .flat_map(|b| {
            b.paths_a.iter().map(|p| {
                p.file_name().unwrap().to_string_lossy()[1..3]
                    .parse::<u8>()
                    .unwrap()
            })
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5], "each A image once per epoch");
}

#[test]
fn errors_name_the_path() {
    let root = fixture_root("errors", 2, 2);
    let err = UnalignedDataset::new(root.0.join("nope"), no_transform())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope") && err.contains("dataroot"), "{err}");
    let options = DatasetOptions {
        phase: "test".into(),
        ..no_transform()
    };
    let err = UnalignedDataset::new(&root.0, options)
        .unwrap_err()
        .to_string();
    assert!(err.contains("testA") && err.contains("phase"), "{err}");
    std::fs::create_dir_all(root.0.join("emptyA")).unwrap();
    std::fs::create_dir_all(root.0.join("emptyB")).unwrap();
    let options = DatasetOptions {
        phase: "empty".into(),
        ..no_transform()
    };
    let err = UnalignedDataset::new(&root.0, options)
        .unwrap_err()
        .to_string();
    assert!(err.contains("emptyA") && err.contains("no images"), "{err}");

    // A corrupt and an empty file are reported by name, not dropped.
    std::fs::write(root.0.join("trainA/a00.png"), b"\x89PNG\r\n\x1a\n garbage").unwrap();
    std::fs::write(root.0.join("trainA/a01.png"), b"").unwrap();
    let data = UnalignedDataset::new(
        &root.0,
        DatasetOptions {
            serial_batches: true,
            ..no_transform()
        },
    )
    .unwrap();
    let err = data.try_get(0).unwrap_err().to_string();
    assert!(err.contains("a00.png") && err.contains("decode"), "{err}");
    let err = data.try_get(1).unwrap_err().to_string();
    assert!(err.contains("a01.png") && err.contains("empty"), "{err}");
    let err = data.get(0).unwrap_err().to_string();
    assert!(err.contains("a00.png"), "{err}");
    // Through the loader with workers, the error surfaces with the file name.
    let shared = Arc::new(data);
    let results: Vec<_> = DataLoader::new(shared, 1, 2, &common::device())
        .iter()
        .collect();
    assert!(
        results
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.to_string().contains("a0")))
    );
}

fn fixture(name: &str) -> PathBuf {
    common::crate_dir()
        .join("tests/fixtures/transform")
        .join(name)
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (*x as i64 - *y as i64).unsigned_abs())
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Fixtures from scripts/make_transform_fixtures.py (PIL 13).
#[test]
fn bicubic_resize_matches_pil() {
    let input = load_rgb(&fixture("input.png")).unwrap();
    for (name, w, h) in [("bicubic_286.png", 286, 286), ("bicubic_37x29.png", 37, 29)] {
        let reference = load_rgb(&fixture(name)).unwrap();
        let ours = resize_bicubic(&input, w, h);
        let diff = mean_abs_diff(&ours, &reference);
        assert!(diff <= 2.0, "{name}: mean abs diff {diff} grey levels");
    }
}

#[test]
fn greyscale_matches_pil_exactly() {
    let input = load_rgb(&fixture("input.png")).unwrap();
    let reference = image::open(fixture("grey.png")).unwrap().to_luma8();
    for (p, r) in input.pixels().zip(reference.pixels()) {
        assert_eq!(luma(p.0), r.0[0]);
    }
}

#[test]
fn stripe_shapes_dataset_feeds_the_loader() {
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            ..Default::default()
        },
        ..Default::default()
    };
    let data = Arc::new(UnalignedDataset::stripe_shapes(32, 8, options).unwrap());
    let loader = DataLoader::new(data, 2, 0, &common::device());
    let batch = loader.iter().next().unwrap().unwrap();
    assert_eq!(batch.real_a.dims(), [2, 3, 32, 32]);
}

#[test]
fn every_image_kind_is_converted_to_rgb() {
    let dir = TempDir::new("kinds");
    let grey = image::GrayImage::from_pixel(4, 4, image::Luma([200]));
    grey.save(dir.0.join("grey.png")).unwrap();
    let rgba = image::RgbaImage::from_pixel(4, 4, image::Rgba([10, 20, 30, 0]));
    rgba.save(dir.0.join("rgba.png")).unwrap();
    let deep = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_pixel(
        4,
        4,
        image::Rgb([65535, 32896, 0]),
    );
    deep.save(dir.0.join("deep.png")).unwrap();
    let grey_alpha = image::GrayAlphaImage::from_pixel(4, 4, image::LumaA([77, 255]));
    grey_alpha.save(dir.0.join("grey_alpha.png")).unwrap();
    RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]))
        .save(dir.0.join("plain.bmp"))
        .unwrap();
    assert_eq!(
        load_rgb(&dir.0.join("grey.png")).unwrap().get_pixel(0, 0).0,
        [200, 200, 200]
    );
    // Alpha is dropped, not composited (PIL's convert("RGB")).
    assert_eq!(
        load_rgb(&dir.0.join("rgba.png")).unwrap().get_pixel(0, 0).0,
        [10, 20, 30]
    );
    assert_eq!(
        load_rgb(&dir.0.join("deep.png")).unwrap().get_pixel(0, 0).0,
        [255, 128, 0]
    );
    assert_eq!(
        load_rgb(&dir.0.join("grey_alpha.png"))
            .unwrap()
            .get_pixel(0, 0)
            .0,
        [77, 77, 77]
    );
    assert_eq!(
        load_rgb(&dir.0.join("plain.bmp"))
            .unwrap()
            .get_pixel(3, 3)
            .0,
        [1, 2, 3]
    );
}

/// Real JPEGs from horse2zebra's trainB, shipped in `tests/fixtures/greyscale_jpegs`: two of
/// the seven greyscale (one-component) zebras of the official zip and one colour zebra.
#[test]
fn real_greyscale_jpegs_load_as_rgb() {
    let dir = common::crate_dir().join("tests/fixtures/greyscale_jpegs");
    let paths = list_images(&dir, usize::MAX).unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "n02391049_2361.jpg",
            "n02391049_737.jpg",
            "n02391049_8008.jpg"
        ]
    );
    let mut grey = Vec::new();
    for path in &paths {
        let decoded = image::ImageReader::open(path).unwrap().decode().unwrap();
        let rgb = load_rgb(path).unwrap();
        assert_eq!(rgb.dimensions(), (256, 256));
        let channels_equal = rgb.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]);
        if decoded.color().channel_count() == 1 {
            grey.push(path.file_name().unwrap().to_owned());
            assert!(channels_equal, "{}", path.display());
        } else {
            assert!(!channels_equal, "{} is a colour photo", path.display());
        }
        // The pixels are PIL's `Image.open(f).convert("RGB")` (its grey level repeated):
        // the SHA-256 that scripts/make_jpeg_fixtures.py --hashes recorded for this file.
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(
            common::sha256_prefix(rgb.as_raw()),
            common::pil_rgb_hashes()[&format!("horse2zebra/trainB/{name}")],
            "{name}"
        );
    }
    assert_eq!(grey, ["n02391049_2361.jpg", "n02391049_8008.jpg"]);

    // Through the dataset and its transform: three-channel tensors in [-1, 1].
    let root = TempDir::new("greyscale");
    for (domain, files) in [("trainA", &paths[..1]), ("trainB", &paths[..])] {
        std::fs::create_dir_all(root.0.join(domain)).unwrap();
        for path in files {
            std::fs::copy(path, root.0.join(domain).join(path.file_name().unwrap())).unwrap();
        }
    }
    let options = DatasetOptions {
        transform: TransformOptions {
            preprocess: Preprocess::None,
            no_flip: true,
            ..TransformOptions::default()
        },
        serial_batches: true,
        ..DatasetOptions::default()
    };
    let dataset = UnalignedDataset::new(&root.0, options).unwrap();
    for index in 0..dataset.len() {
        let item = dataset.get(index).unwrap();
        for image in [&item.a, &item.b] {
            assert_eq!(image.shape, [3, 256, 256]);
            assert!(image.values.iter().all(|v| (-1.0..=1.0).contains(v)));
        }
    }
}

/// The same check over all 1,334 zebras of `../shared/data/horse2zebra/trainB`: optional
/// data that a clone of the repository does not have, so it is ignored unless asked for
/// (`cargo test --release --test data -- --ignored optional_data`; CI runs it, where
/// `../shared` is present). `real_greyscale_jpegs_load_as_rgb` covers the same code on
/// shipped fixtures.
#[test]
#[ignore = "optional data: needs ../shared/data/horse2zebra (the project's data folder)"]
fn optional_data_all_greyscale_jpegs_of_horse2zebra_load_as_rgb() {
    let dir = common::crate_dir().join("../shared/data/horse2zebra/trainB");
    let paths = list_images(&dir, usize::MAX).unwrap();
    assert_eq!(paths.len(), 1334);
    let mut grey = 0;
    for path in &paths {
        let decoded = image::ImageReader::open(path).unwrap().decode().unwrap();
        if decoded.color().channel_count() == 1 {
            grey += 1;
            let rgb = load_rgb(path).unwrap();
            assert_eq!(rgb.dimensions(), (256, 256));
            assert!(rgb.pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
        }
    }
    assert_eq!(grey, 7, "the dataset README lists 7 greyscale zebras");
}
