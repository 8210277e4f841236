//! The transforms of Winograd's F(2×2, 3×3) (`Bᵀ d B`, `G g Gᵀ`, `Aᵀ m A` and their
//! transposes, for the gradients), applied to many tiles at once in vectorised lanes, with
//! AVX2 and AVX-512 versions chosen at run time.

use std::ops::{Add, Mul, Neg, Sub};

/// The values a transform works on (`f32`; a trait so that the formulas read as algebra).
pub(super) trait Value:
    Copy + Add<Output = Self> + Sub<Output = Self> + Neg<Output = Self> + Mul<f32, Output = Self>
{
}

impl<T> Value for T where
    T: Copy + Add<Output = T> + Sub<Output = T> + Neg<Output = T> + Mul<f32, Output = T>
{
}

/// `Bᵀ d`: `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`, the input
/// tiles' transform (`Bᵀ d B`).
#[inline(always)]
pub(super) fn input_transform<T: Value>([d0, d1, d2, d3]: [T; 4]) -> [T; 4] {
    [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
}

/// `B v`, the transpose of [`input_transform`], for the input gradient (`B dV Bᵀ`).
#[inline(always)]
pub(super) fn input_transform_transposed<T: Value>([v0, v1, v2, v3]: [T; 4]) -> [T; 4] {
    [v0, v1 - v2 + v3, v1 + v2 - v0, -v3]
}

/// `G g`: `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`, the kernels' transform
/// (`G g Gᵀ`).
#[inline(always)]
pub(super) fn kernel_transform<T: Value>([g0, g1, g2]: [T; 3]) -> [T; 4] {
    let (even, odd) = ((g0 + g2) * 0.5, g1 * 0.5);
    [g0, even + odd, even - odd, g2]
}

/// `Gᵀ u`, the transpose of [`kernel_transform`], for the kernels' gradient (`Gᵀ dU G`).
#[inline(always)]
pub(super) fn kernel_transform_transposed<T: Value>([u0, u1, u2, u3]: [T; 4]) -> [T; 3] {
    let (sum, difference) = ((u1 + u2) * 0.5, (u1 - u2) * 0.5);
    [u0 + sum, difference, sum + u3]
}

/// `Aᵀ m`: `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`, the output blocks' transform (`Aᵀ M A`).
#[inline(always)]
pub(super) fn output_transform<T: Value>([m0, m1, m2, m3]: [T; 4]) -> [T; 2] {
    [m0 + m1 + m2, m1 - m2 - m3]
}

/// `A y`, the transpose of [`output_transform`], for the output gradient (`A dY Aᵀ`).
#[inline(always)]
pub(super) fn output_transform_transposed<T: Value>([y0, y1]: [T; 2]) -> [T; 4] {
    [y0, y0 + y1, y0 - y1, -y1]
}

/// `T x Tᵀ` for the 1-D transform `transform(v) = T v`: `transform` along every row of `x`,
/// then along every column. (Plain loops over fixed-size arrays, which the compiler
/// unrolls into straight-line arithmetic.)
#[inline(always)]
pub(super) fn separable<const I: usize, const O: usize>(
    x: &[[f32; I]; I],
    transform: impl Fn([f32; I]) -> [f32; O],
) -> [[f32; O]; O] {
    let mut rows = [[0.0; O]; I];
    for i in 0..I {
        rows[i] = transform(x[i]);
    }
    let mut result = [[0.0; O]; O];
    for b in 0..O {
        let mut column = [0.0; I];
        for i in 0..I {
            column[i] = rows[i][b];
        }
        let column = transform(column);
        for a in 0..O {
            result[a][b] = column[a];
        }
    }
    result
}

/// Matrices [`transform_matrices`] transforms at once: one AVX-512 vector of `f32`.
pub(super) const LANES: usize = 16;

/// The result buffer of [`TileScratch::transform`], kept from call to call by a thread.
#[derive(Default)]
pub(super) struct TileScratch {
    result: Vec<f32>,
}

impl TileScratch {
    /// `T x Tᵀ` of `len` matrices at once, `x[i][j]` being the slice of their `(i, j)`
    /// elements (`len` each), for the 1-D transform `transform(v) = T v`: the `[P, len]`
    /// results (`P = O·O`), `(a, b)` at row `a·O + b`.
    pub(super) fn transform<const I: usize, const O: usize, const P: usize>(
        &mut self,
        transform: impl Fn([f32; I]) -> [f32; O] + Copy,
        x: [[&[f32]; I]; I],
    ) -> &[f32] {
        let len = x[0][0].len();
        self.result.resize(P * len, 0.0);
        let mut rows = self.result.chunks_exact_mut(len);
        let out: [&mut [f32]; P] = std::array::from_fn(|_| rows.next().expect("P rows"));
        transform_into(transform, x, out);
        &self.result
    }
}

/// `T x Tᵀ` of `len` matrices at once, as [`TileScratch::transform`], written straight into
/// `out` (`P = O·O` slices of `len` values, `(a, b)` into `out[a·O + b]`): the places of a
/// buffer of transformed tiles, without a copy through a scratch buffer.
pub(super) fn transform_into<const I: usize, const O: usize, const P: usize>(
    transform: impl Fn([f32; I]) -> [f32; O] + Copy,
    x: [[&[f32]; I]; I],
    out: [&mut [f32]; P],
) {
    assert_eq!(P, O * O, "one result row per place");
    let len = x[0][0].len();
    assert!(
        x.iter().flatten().all(|values| values.len() == len)
            && out.iter().all(|values| values.len() == len),
        "{len} matrices in every input and result slice"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            unsafe { transform_avx512(transform, x, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            unsafe { transform_avx2(transform, x, out) };
            return;
        }
    }
    transform_matrices(transform, x, out);
}

/// [`transform_matrices`] compiled for AVX-512 (the crate is built for the baseline CPU,
/// where the loop's vectors are four values wide).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn transform_avx512<const I: usize, const O: usize, const P: usize>(
    transform: impl Fn([f32; I]) -> [f32; O] + Copy,
    x: [[&[f32]; I]; I],
    out: [&mut [f32]; P],
) {
    transform_matrices(transform, x, out)
}

/// [`transform_matrices`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn transform_avx2<const I: usize, const O: usize, const P: usize>(
    transform: impl Fn([f32; I]) -> [f32; O] + Copy,
    x: [[&[f32]; I]; I],
    out: [&mut [f32]; P],
) {
    transform_matrices(transform, x, out)
}

/// `out[a·O + b][n] = (T x_n Tᵀ)[a][b]` for every `n`, `x_n[i][j] = x[i][j][n]`.
///
/// [`LANES`] matrices at a time, copied into local arrays: the loop over them is plain
/// arithmetic on one element of each array, which the compiler vectorises (each operation
/// on all of them at once).
#[inline(always)]
pub(super) fn transform_matrices<const I: usize, const O: usize, const P: usize>(
    transform: impl Fn([f32; I]) -> [f32; O] + Copy,
    x: [[&[f32]; I]; I],
    mut out: [&mut [f32]; P],
) {
    let len = out[0].len();
    // Set once, outside the loop (zeroing them on every pass was a `memset` call per
    // pass, 1 % of a training step's samples): each pass writes every lane of `results`,
    // and the lanes of `tiles` past a last, partial set keep values of the pass before,
    // whose results are not written out.
    let mut tiles = [[[0.0f32; LANES]; I]; I];
    let mut results = [[0.0f32; LANES]; P];
    for start in (0..len).step_by(LANES) {
        let count = LANES.min(len - start);
        for i in 0..I {
            for j in 0..I {
                let values = &x[i][j][start..start + count];
                match <&[f32; LANES]>::try_from(values) {
                    // A copy of known length, which compiles to two vector moves.
                    Ok(values) => tiles[i][j] = *values,
                    Err(_) => tiles[i][j][..count].copy_from_slice(values),
                }
            }
        }
        for lane in 0..LANES {
            let mut tile = [[0.0; I]; I];
            for i in 0..I {
                for j in 0..I {
                    tile[i][j] = tiles[i][j][lane];
                }
            }
            let result = separable(&tile, transform);
            for a in 0..O {
                for b in 0..O {
                    results[a * O + b][lane] = result[a][b];
                }
            }
        }
        for (out, result) in out.iter_mut().zip(&results) {
            match <&mut [f32; LANES]>::try_from(&mut out[start..start + count]) {
                Ok(out) => *out = *result,
                Err(_) => out[start..start + count].copy_from_slice(&result[..count]),
            }
        }
    }
}
