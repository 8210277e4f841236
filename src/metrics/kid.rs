//! The Kernel Inception Distance (Bińkowski et al. 2018) between two sets of feature
//! vectors, as torch-fidelity computes it: the unbiased estimate of the squared maximum
//! mean discrepancy with the cubic polynomial kernel `k(x, y) = (x·y / d + 1)³`, averaged
//! over random subsets of both sets (torch-fidelity's defaults: 100 subsets of 1000).
//!
//! For subsets `X`, `Y` of `m` vectors each,
//!
//! ```text
//! MMD² = (Σ_{i≠j} k(xᵢ, xⱼ) + Σ_{i≠j} k(yᵢ, yⱼ)) / (m (m − 1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / m²
//! ```
//!
//! and KID is the mean of the subsets' values, reported with their standard deviation
//! (`np.std`, population). Everything is computed in `f64`.

use faer::Mat;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

use crate::error::CycleGanError;

/// torch-fidelity's default number of subsets.
pub const DEFAULT_SUBSETS: usize = 100;

/// torch-fidelity's default subset size (smaller sets use all their vectors).
pub const DEFAULT_SUBSET_SIZE: usize = 1000;

/// A KID estimate: the mean over subsets and its standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kid {
    /// The mean of the subsets' unbiased MMD² values.
    pub mean: f64,
    /// Their standard deviation (population, as `np.std`).
    pub std: f64,
}

/// A set of feature vectors, row-major `count × dims` values.
#[derive(Debug, Clone, Copy)]
pub struct Features<'a> {
    /// The values.
    pub values: &'a [f32],
    /// The dimension of each vector.
    pub dims: usize,
}

impl Features<'_> {
    /// The number of vectors.
    pub fn count(&self) -> usize {
        self.values.len() / self.dims.max(1)
    }

    fn rows(&self, indices: &[usize]) -> Mat<f64> {
        Mat::from_fn(indices.len(), self.dims, |row, column| {
            self.values[indices[row] * self.dims + column] as f64
        })
    }
}

/// Random subsets (indices into the two sets, without repetition inside a subset), the same
/// for the same seed.
pub fn random_subsets(
    count_a: usize,
    count_b: usize,
    subsets: usize,
    subset_size: usize,
    seed: u64,
) -> Vec<(Vec<usize>, Vec<usize>)> {
    let size = subset_size.min(count_a).min(count_b);
    let mut rng = StdRng::seed_from_u64(seed);
    (0..subsets)
        .map(|_| {
            let a = sample(&mut rng, count_a, size).into_vec();
            let b = sample(&mut rng, count_b, size).into_vec();
            (a, b)
        })
        .collect()
}

/// KID over `subsets` (pairs of index lists of one length, at least 2, into `a` and `b`).
///
/// ```
/// use cyclegan_burn::metrics::kid::{Features, kernel_inception_distance_over, random_subsets};
/// let a: Vec<f32> = (0..40).map(|i| (i % 7) as f32 / 7.0).collect(); // 20 vectors of 2
/// let b: Vec<f32> = a.iter().map(|v| v + 0.5).collect();
/// let subsets = random_subsets(20, 20, 10, 8, 0);
/// let (a, b) = (Features { values: &a, dims: 2 }, Features { values: &b, dims: 2 });
/// let shifted = kernel_inception_distance_over(a, b, &subsets).unwrap();
/// let same = kernel_inception_distance_over(a, a, &subsets).unwrap();
/// assert!(shifted.mean > 10.0 * same.mean.abs());
/// ```
pub fn kernel_inception_distance_over(
    a: Features<'_>,
    b: Features<'_>,
    subsets: &[(Vec<usize>, Vec<usize>)],
) -> Result<Kid, CycleGanError> {
    let invalid = |reason: String| CycleGanError::InvalidInputShape {
        shape: [a.count(), a.dims, b.count(), b.dims],
        reason,
    };
    if a.dims != b.dims || a.dims == 0 {
        return Err(invalid(format!(
            "features of {} and {} dimensions cannot be compared",
            a.dims, b.dims
        )));
    }
    if subsets.is_empty() {
        return Err(invalid("KID needs at least one subset".into()));
    }
    let mut values = Vec::with_capacity(subsets.len());
    for (rows_a, rows_b) in subsets {
        let m = rows_a.len();
        if m < 2 || rows_b.len() != m {
            return Err(invalid(format!(
                "subsets need equal sizes of at least 2, got {m} and {}",
                rows_b.len()
            )));
        }
        if let Some(&bad) = rows_a.iter().find(|&&i| i >= a.count()) {
            return Err(invalid(format!("index {bad} is beyond the first set")));
        }
        if let Some(&bad) = rows_b.iter().find(|&&i| i >= b.count()) {
            return Err(invalid(format!("index {bad} is beyond the second set")));
        }
        values.push(mmd2_unbiased(&a.rows(rows_a), &b.rows(rows_b)));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    Ok(Kid {
        mean,
        std: variance.sqrt(),
    })
}

/// KID with torch-fidelity's defaults: [`DEFAULT_SUBSETS`] random subsets of
/// [`DEFAULT_SUBSET_SIZE`] (or of the smaller set's size) drawn from `seed`.
pub fn kernel_inception_distance(
    a: Features<'_>,
    b: Features<'_>,
    seed: u64,
) -> Result<Kid, CycleGanError> {
    let subsets = random_subsets(
        a.count(),
        b.count(),
        DEFAULT_SUBSETS,
        DEFAULT_SUBSET_SIZE,
        seed,
    );
    kernel_inception_distance_over(a, b, &subsets)
}

/// The unbiased MMD² of two subsets (rows) with the cubic polynomial kernel.
fn mmd2_unbiased(x: &Mat<f64>, y: &Mat<f64>) -> f64 {
    let (m, d) = (x.nrows() as f64, x.ncols() as f64);
    let kernel_sums = |p: &Mat<f64>, q: &Mat<f64>, skip_diagonal: bool| {
        let gram = p * q.transpose();
        let mut total = 0.0;
        for i in 0..gram.nrows() {
            for j in 0..gram.ncols() {
                if skip_diagonal && i == j {
                    continue;
                }
                total += (gram[(i, j)] / d + 1.0).powi(3);
            }
        }
        total
    };
    let xx = kernel_sums(x, x, true);
    let yy = kernel_sums(y, y, true);
    let xy = kernel_sums(x, y, false);
    (xx + yy) / (m * (m - 1.0)) - 2.0 * xy / (m * m)
}
