//! FID and KID against numpy / scipy / pytorch-fid on fixed feature sets
//! (`tests/fixtures/fid`, from `scripts/make_fid_fixtures.py`), and pytorch-fid's `.npz`
//! statistics files both ways.

mod common;

use std::collections::BTreeMap;

use cyclegan_burn::metrics::fid::{FeatureStatistics, Gaussian, frechet_distance};
use cyclegan_burn::metrics::kid::{Features, kernel_inception_distance_over, random_subsets};
use cyclegan_burn::metrics::npz::{NpyArray, npy_bytes, read_gaussian, read_npz, write_gaussian};

fn fixtures(name: &str) -> BTreeMap<String, NpyArray> {
    read_npz(common::crate_dir().join("tests/fixtures/fid").join(name)).unwrap()
}

fn expected(name: &str) -> f64 {
    fixtures("expected.npz")[name].values[0]
}

/// A feature set as `f32` rows, as the network gives them.
fn set(features: &BTreeMap<String, NpyArray>, name: &str) -> (Vec<f32>, usize) {
    let array = &features[name];
    let values = array.values.iter().map(|&v| v as f32).collect();
    (values, array.shape[1])
}

/// Statistics accumulated in batches of 64, as the feature extractor delivers them.
fn statistics(features: &BTreeMap<String, NpyArray>, name: &str) -> Gaussian {
    let (values, dims) = set(features, name);
    let mut stats = FeatureStatistics::new(dims);
    for batch in values.chunks(64 * dims) {
        stats.add_batch(batch, batch.len() / dims).unwrap();
    }
    stats.gaussian().unwrap()
}

fn relative(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}

/// Means and covariances as `np.mean` and `np.cov(rowvar=False)`, accumulated in batches.
#[test]
fn statistics_are_numpys() {
    let features = fixtures("features.npz");
    let expected = fixtures("expected.npz");
    let gaussian = statistics(&features, "well_a");
    let worst = |got: &[f64], want: &[f64]| {
        got.iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f64::max)
    };
    let (mu, sigma) = (&expected["mu_well_a"], &expected["sigma_well_a"]);
    assert_eq!(sigma.shape, [64, 64]);
    let (mu_diff, sigma_diff) = (
        worst(&gaussian.mu, &mu.values),
        worst(&gaussian.sigma, &sigma.values),
    );
    eprintln!("mean max abs diff {mu_diff:.2e}, covariance {sigma_diff:.2e}");
    assert!(mu_diff <= 1e-12 && sigma_diff <= 1e-12);
}

/// FID within 1e-6 relative of pytorch-fid's (scipy's `sqrtm`) on full-rank, singular and
/// near-singular covariances.
#[test]
fn fid_is_pytorch_fids() {
    let features = fixtures("features.npz");
    for case in ["well", "singular", "near"] {
        let a = statistics(&features, &format!("{case}_a"));
        let b = statistics(&features, &format!("{case}_b"));
        let got = frechet_distance(&a, &b).unwrap();
        let want = expected(&format!("fid_{case}"));
        eprintln!(
            "FID {case}: {got} vs {want} (relative {:.2e})",
            relative(got, want)
        );
        assert!(relative(got, want) <= 1e-6, "{case}: {got} vs {want}");
        // Symmetric, and 0 against itself, within the tolerance held to pytorch-fid. (On a
        // rank-deficient covariance, the eigenvalues that are zero come out as rounding,
        // about 1e-16 of the largest, and their square roots at 1e-8: the singular case
        // gives -2.8e-7 on an AVX2 machine, -1e-8 or so on AVX-512, of an FID of 23.7.)
        assert!(relative(frechet_distance(&b, &a).unwrap(), want) <= 1e-6);
        let itself = frechet_distance(&a, &a).unwrap();
        eprintln!("FID {case} against itself: {itself:e}");
        assert!(
            itself.abs() <= 1e-6 * want,
            "{case} against itself: {itself:e}"
        );
    }
}

/// KID mean and standard deviation within 1e-6 relative of torch-fidelity's formulas over
/// the same subsets.
#[test]
fn kid_is_torch_fidelitys() {
    let features = fixtures("features.npz");
    let ((a, dims), (b, _)) = (set(&features, "well_a"), set(&features, "well_b"));
    let indices = |name: &str| -> Vec<Vec<usize>> {
        let array = &features[name];
        array
            .values
            .chunks(array.shape[1])
            .map(|row| row.iter().map(|&i| i as usize).collect())
            .collect()
    };
    let subsets: Vec<_> = indices("kid_a").into_iter().zip(indices("kid_b")).collect();
    let kid = kernel_inception_distance_over(
        Features { values: &a, dims },
        Features { values: &b, dims },
        &subsets,
    )
    .unwrap();
    let (mean, std) = (expected("kid_mean"), expected("kid_std"));
    eprintln!("KID {kid:?} vs mean {mean}, std {std}");
    assert!(relative(kid.mean, mean) <= 1e-6 && relative(kid.std, std) <= 1e-6);
}

#[test]
fn random_subsets_are_seeded_and_within_the_sets() {
    let subsets = random_subsets(30, 50, 5, 1000, 7);
    assert_eq!(subsets, random_subsets(30, 50, 5, 1000, 7));
    assert_ne!(subsets, random_subsets(30, 50, 5, 1000, 8));
    for (a, b) in &subsets {
        // Up to 1000: the smaller set's size.
        assert_eq!((a.len(), b.len()), (30, 30));
        assert!(a.iter().all(|&i| i < 30) && b.iter().all(|&i| i < 50));
        let mut unique = a.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 30);
    }
}

/// pytorch-fid's statistics file loads with its values, and the crate's own file holds the
/// same `.npy` entries, byte for byte, as `np.savez` wrote.
#[test]
fn statistics_files_round_trip_with_numpy() {
    let dir = common::crate_dir().join("tests/fixtures/fid");
    let numpy = read_gaussian(dir.join("stats_well_a.npz")).unwrap();
    let expected = fixtures("expected.npz");
    assert_eq!(numpy.mu, expected["mu_well_a"].values);
    assert_eq!(numpy.sigma, expected["sigma_well_a"].values);

    let ours = std::env::temp_dir().join(format!("fid-stats-{}.npz", std::process::id()));
    write_gaussian(&ours, &numpy).unwrap();
    assert_eq!(read_gaussian(&ours).unwrap(), numpy);
    // The array entries of both archives.
    let entries = |path: &std::path::Path| {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        ["mu.npy", "sigma.npy"].map(|name| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut archive.by_name(name).unwrap(), &mut bytes).unwrap();
            bytes
        })
    };
    assert_eq!(entries(&ours), entries(&dir.join("stats_well_a.npz")));
    assert_eq!(entries(&ours)[0], npy_bytes(&numpy.mu, &[64]));
    // `CYCLEGAN_KEEP_NPZ=path` keeps the crate's file, to load it in numpy by hand.
    if let Some(keep) = std::env::var_os("CYCLEGAN_KEEP_NPZ") {
        std::fs::copy(&ours, keep).unwrap();
    }
    std::fs::remove_file(&ours).unwrap();

    // Wrong files are errors naming the problem.
    let err = read_gaussian(dir.join("features.npz"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no array `mu`"), "{err}");
    let err = read_gaussian(dir.join("missing.npz"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.npz"), "{err}");
}
