//! Running a loop compiled for the vector instructions of the CPU it runs on.
//!
//! The crate is compiled for the baseline CPU of its target (as every dependency is, unless
//! the user sets `target-cpu`): on x86-64, SSE2, four `f32` per vector. The `gemm` crate's
//! kernels detect the CPU at run time; this crate's own element-wise loops (instance norm,
//! activations, the Adam update, the JPEG decoder's IDCT and colour conversion) do the same
//! through [`vectorized`]: each loop is a
//! [`Vectorized`] value whose `run` is compiled a second and a third time inside
//! `#[target_feature]` functions (AVX-512F, AVX2 with FMA), and the widest the CPU has runs.
//! `run` must be `#[inline(always)]` (a closure would be compiled once, for the baseline,
//! and called). Results are the same to the bit: the loops keep their order of operations,
//! and Rust never fuses a multiply and an add on its own.

/// A loop to run through [`vectorized`]. Implement [`run`](Self::run) with
/// `#[inline(always)]`, with every helper it calls `#[inline(always)]` too.
pub(crate) trait Vectorized {
    /// What the loop returns.
    type Output;
    /// The loop.
    fn run(self) -> Self::Output;
}

/// `kernel.run()`, compiled for AVX-512F or AVX2 where the CPU has them (checked at run
/// time; the check is a cached load).
#[inline(always)]
pub(crate) fn vectorized<K: Vectorized>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { avx512(kernel) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { avx2(kernel) };
        }
    }
    kernel.run()
}

/// `kernel.run()` compiled for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn avx512<K: Vectorized>(kernel: K) -> K::Output {
    kernel.run()
}

/// `kernel.run()` compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2<K: Vectorized>(kernel: K) -> K::Output {
    kernel.run()
}
