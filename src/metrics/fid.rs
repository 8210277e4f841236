//! The Fréchet Inception Distance between two sets of feature vectors, as pytorch-fid
//! computes it: the Fréchet distance of the two Gaussians with the sets' means and
//! (unbiased, `np.cov`) covariances,
//!
//! ```text
//! FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁ Σ₂)
//! ```
//!
//! Statistics are accumulated in `f64` from batches of `f32` features
//! ([`FeatureStatistics::add_batch`]), shifted by the first vector against cancellation, so
//! a set of any size never has to be held in memory. pytorch-fid takes the square root of
//! the product with `scipy.linalg.sqrtm` (a Schur decomposition of a non-symmetric matrix,
//! retried with `1e-6` added to both diagonals when it is not finite). Here the trace comes
//! from symmetric eigendecompositions instead: `Σ₁ Σ₂` is similar to the symmetric
//! `√Σ₁ Σ₂ √Σ₁`, whose eigenvalues are real and non-negative, so `tr √(Σ₁ Σ₂)` is the sum
//! of their square roots (negative rounding residue clamped to 0). That is the same number
//! for well-conditioned inputs and stays real and finite for singular ones, where `sqrtm`
//! needs its retry (`tests/fid.rs` compares both with scipy).
//!
//! The eigendecompositions are faer's (`self_adjoint_eigen`): a maintained pure-Rust
//! library whose blocked, multithreaded decompositions take about a second for the
//! 2048×2048 matrices of Inception features, where an unblocked one (nalgebra's
//! `SymmetricEigen`) takes tens of seconds.

use faer::{Mat, Side};

use crate::error::CycleGanError;

/// Mean and covariance of a set of feature vectors (pytorch-fid's `mu` and `sigma`),
/// accumulated batch by batch in `f64`.
///
/// ```
/// use cyclegan_burn::metrics::fid::FeatureStatistics;
/// let mut stats = FeatureStatistics::new(2);
/// stats.add_batch(&[1.0, 2.0, 3.0, 6.0], 2).unwrap(); // two vectors: (1, 2) and (3, 6)
/// assert_eq!(stats.mean(), vec![2.0, 4.0]);
/// assert_eq!(stats.covariance().unwrap(), vec![2.0, 4.0, 4.0, 8.0]); // np.cov, unbiased
/// ```
#[derive(Debug, Clone)]
pub struct FeatureStatistics {
    dims: usize,
    count: usize,
    /// The first vector, subtracted from every vector before summing.
    shift: Vec<f64>,
    /// Σ (x − shift).
    sum: Vec<f64>,
    /// Σ (x − shift)(x − shift)ᵀ, row-major `dims × dims`.
    products: Mat<f64>,
}

impl FeatureStatistics {
    /// Statistics of `dims`-dimensional vectors (2048 for pytorch-fid's pool3 features),
    /// with no vector yet.
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            count: 0,
            shift: Vec::new(),
            sum: vec![0.0; dims],
            products: Mat::zeros(dims, dims),
        }
    }

    /// The vectors' dimension.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// How many vectors were added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds `rows` vectors, row-major in `features` (`rows × dims` values).
    pub fn add_batch(&mut self, features: &[f32], rows: usize) -> Result<(), CycleGanError> {
        if features.len() != rows * self.dims {
            return Err(CycleGanError::InvalidInputShape {
                shape: [rows, features.len() / rows.max(1), 1, 1],
                reason: format!(
                    "{} values are not {rows} feature vectors of {} dimensions",
                    features.len(),
                    self.dims
                ),
            });
        }
        if rows == 0 {
            return Ok(());
        }
        if self.shift.is_empty() {
            self.shift = features[..self.dims].iter().map(|&v| v as f64).collect();
        }
        let shift = &self.shift;
        let centred = Mat::<f64>::from_fn(rows, self.dims, |row, column| {
            features[row * self.dims + column] as f64 - shift[column]
        });
        for row in 0..rows {
            for (column, sum) in self.sum.iter_mut().enumerate() {
                *sum += centred[(row, column)];
            }
        }
        self.products += centred.transpose() * &centred;
        self.count += rows;
        Ok(())
    }

    /// The mean vector `μ`.
    pub fn mean(&self) -> Vec<f64> {
        let count = self.count.max(1) as f64;
        let shift = |i: usize| self.shift.get(i).copied().unwrap_or(0.0);
        (0..self.dims)
            .map(|i| shift(i) + self.sum[i] / count)
            .collect()
    }

    /// The covariance `Σ`, row-major `dims × dims`, with `np.cov`'s unbiased normalisation
    /// (`n − 1`); at least two vectors are needed.
    pub fn covariance(&self) -> Result<Vec<f64>, CycleGanError> {
        if self.count < 2 {
            return Err(CycleGanError::InvalidInputShape {
                shape: [self.count, self.dims, 1, 1],
                reason: "a covariance needs at least two feature vectors".into(),
            });
        }
        let n = self.count as f64;
        let centre: Vec<f64> = self.sum.iter().map(|s| s / n).collect();
        let mut sigma = vec![0.0; self.dims * self.dims];
        for i in 0..self.dims {
            for j in 0..self.dims {
                sigma[i * self.dims + j] =
                    (self.products[(i, j)] - n * centre[i] * centre[j]) / (n - 1.0);
            }
        }
        Ok(sigma)
    }

    /// The finished statistics (mean and covariance).
    pub fn gaussian(&self) -> Result<Gaussian, CycleGanError> {
        Ok(Gaussian {
            mu: self.mean(),
            sigma: self.covariance()?,
        })
    }
}

/// A mean and covariance, as pytorch-fid keeps them for a set of images (and writes them to
/// `.npz` files, [`npz`](super::npz)).
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    /// The mean, `d` values.
    pub mu: Vec<f64>,
    /// The covariance, row-major `d × d`.
    pub sigma: Vec<f64>,
}

impl Gaussian {
    /// The dimension `d`.
    pub fn dims(&self) -> usize {
        self.mu.len()
    }

    /// Checks that `sigma` is `d × d` for `d = mu.len()`.
    pub fn check(&self) -> Result<(), CycleGanError> {
        let d = self.dims();
        if d == 0 || self.sigma.len() != d * d {
            return Err(CycleGanError::InvalidInputShape {
                shape: [d, self.sigma.len(), 1, 1],
                reason: format!(
                    "a mean of {d} values needs a {d}×{d} covariance, got {} values",
                    self.sigma.len()
                ),
            });
        }
        Ok(())
    }
}

/// The Fréchet distance between two Gaussians (the FID when they are the Inception feature
/// statistics of two image sets).
///
/// ```
/// use cyclegan_burn::metrics::fid::{Gaussian, frechet_distance};
/// let a = Gaussian { mu: vec![0.0, 0.0], sigma: vec![1.0, 0.0, 0.0, 1.0] };
/// let b = Gaussian { mu: vec![3.0, 4.0], sigma: vec![4.0, 0.0, 0.0, 4.0] };
/// // ‖μ₁ − μ₂‖² = 25; tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂) = 2 + 8 − 2·4 = 2.
/// assert!((frechet_distance(&a, &b).unwrap() - 27.0).abs() < 1e-12);
/// ```
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<f64, CycleGanError> {
    a.check()?;
    b.check()?;
    if a.dims() != b.dims() {
        return Err(CycleGanError::InvalidInputShape {
            shape: [a.dims(), b.dims(), 1, 1],
            reason: format!(
                "statistics of {} and {} dimensions cannot be compared",
                a.dims(),
                b.dims()
            ),
        });
    }
    let d = a.dims();
    let mean_term: f64 = a.mu.iter().zip(&b.mu).map(|(x, y)| (x - y) * (x - y)).sum();
    let trace = |sigma: &[f64]| (0..d).map(|i| sigma[i * d + i]).sum::<f64>();
    Ok(mean_term + trace(&a.sigma) + trace(&b.sigma) - 2.0 * trace_sqrt_product(a, b)?)
}

/// `tr √(Σ₁ Σ₂)` from the eigenvalues of `√Σ₁ Σ₂ √Σ₁` (see the [module](self)
/// documentation).
pub fn trace_sqrt_product(a: &Gaussian, b: &Gaussian) -> Result<f64, CycleGanError> {
    let d = a.dims();
    let matrix = |sigma: &[f64]| Mat::<f64>::from_fn(d, d, |i, j| sigma[i * d + j]);
    let (sigma_a, sigma_b) = (matrix(&a.sigma), matrix(&b.sigma));
    let eigen = |m: &Mat<f64>| {
        m.self_adjoint_eigen(Side::Lower)
            .map_err(|e| CycleGanError::InvalidInputShape {
                shape: [d, d, 1, 1],
                reason: format!("the covariance's eigendecomposition failed: {e:?}"),
            })
    };
    let decomposition = eigen(&sigma_a)?;
    let (u, s) = (decomposition.U(), decomposition.S().column_vector());
    let root = Mat::<f64>::from_fn(d, d, |i, j| u[(i, j)] * s[j].max(0.0).sqrt());
    let sqrt_a = &root * u.transpose();
    let product = &sqrt_a * &sigma_b * &sqrt_a;
    let symmetric = Mat::<f64>::from_fn(d, d, |i, j| 0.5 * (product[(i, j)] + product[(j, i)]));
    let values = symmetric
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| CycleGanError::InvalidInputShape {
            shape: [d, d, 1, 1],
            reason: format!("the product's eigendecomposition failed: {e:?}"),
        })?;
    Ok(values.iter().map(|v| v.max(0.0).sqrt()).sum())
}
