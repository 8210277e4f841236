//! Where a network pass runs: on a thread of the pool that the CPU kernels share their work
//! out to.
//!
//! Every parallel region of this crate's kernels and of Burn's Flex operations (rayon's
//! global pool, one thread per core) costs its caller a hand-off when the caller is not one
//! of the pool's threads: the work is queued, a sleeping worker is woken, and the caller
//! sleeps until the region ends and is woken in turn. A training step at 32² runs thousands
//! of such regions, each of a few microseconds of work, and two threads of the pool plus
//! the caller competed for two cores: `perf stat` counted about 13,000 context switches per
//! step, and the step took 1.5× as long as it does from inside the pool
//! (`docs/benchmarks.md`, round three). [`on_pool_thread`] moves a whole pass (a forward
//! pass, a training step) onto a thread of the pool once: its regions then share their work
//! with the other threads by work stealing, and the caller sleeps once per pass.

use burn::prelude::Device;

use super::registry::{Op, has_kernel};

/// Runs `work` on a thread of the CPU kernels' thread pool when `device` runs them (Flex,
/// the pure-Rust CPU backend), and returns its result; on other devices, and when already
/// on such a thread, runs it where it is called. The result is the same either way: only the
/// thread differs.
///
/// The networks' `forward` methods and [`CycleGan::train_step`](crate::train::CycleGan::train_step)
/// call it, so code of your own needs it only around longer work of its own that calls
/// many small operations on the CPU (a custom training loop, say).
///
/// ```
/// use cyclegan_burn::kernels::on_pool_thread;
/// use cyclegan_burn::prelude::*;
///
/// let device = cyclegan_burn::backend::cpu();
/// let x = Tensor::<2>::ones([2, 3], &device);
/// let sum: f32 = on_pool_thread(&device, || (x.clone() * 2.0).sum().into_scalar());
/// assert_eq!(sum, 12.0);
/// ```
pub fn on_pool_thread<R: Send>(device: &Device, work: impl FnOnce() -> R + Send) -> R {
    if has_kernel(Op::PoolThread, device) {
        on_kernels_pool(work)
    } else {
        work()
    }
}

/// `work()` on a thread of rayon's global pool: where it is when already on one; else
/// `scope`, which called from outside the pool runs its body on one of the pool's threads
/// and blocks the caller until it returns.
#[cfg(feature = "flex")]
fn on_kernels_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        work()
    } else {
        rayon::scope(|_| work())
    }
}

/// Without Flex no device runs the kernels (`has_kernel` is false everywhere).
#[cfg(not(feature = "flex"))]
fn on_kernels_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    work()
}
