//! Scratch buffers that the CPU kernels keep from call to call, one pool per thread
//! ([`spare`] takes one, [`recycle`] gives it back): a layer's large temporaries (the
//! Winograd kernels' transformed tiles and products, the tap-by-tap convolutions' phased
//! input and output grid) are the same sizes pass after pass, and fresh memory for each
//! would be page faults and the kernel's clearing on every call (a tenth of a strided
//! layer's time at 256²; `docs/benchmarks.md`).

thread_local! {
    /// The scratch buffers of this thread's last calls, for the next ones: the Winograd
    /// kernels' transformed tiles are 16 MiB each for the residual blocks of a 256²
    /// generator, and a strided layer's phased input as much, and would otherwise be fresh
    /// memory (page faults and the kernel's clearing) on every call.
    static SPARE: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// At most this many buffers are kept in [`SPARE`] (a Winograd forward pass uses three at
/// once).
const SPARE_BUFFERS: usize = 4;

/// A buffer of at least `len` values (of any content): the smallest spare one of this
/// thread's that is long enough, else the longest made longer, else a new one.
pub(super) fn spare(len: usize) -> Vec<f32> {
    let mut buffer = SPARE
        .with_borrow_mut(|spare| {
            let fitting = (0..spare.len())
                .filter(|&index| spare[index].len() >= len)
                .min_by_key(|&index| spare[index].len());
            let longest = (0..spare.len()).max_by_key(|&index| spare[index].len());
            fitting.or(longest).map(|index| spare.swap_remove(index))
        })
        .unwrap_or_default();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    buffer
}

/// Keeps `buffers` for this thread's next calls of [`spare`]: the [`SPARE_BUFFERS`] longest
/// (empty ones are dropped).
pub(super) fn recycle<const N: usize>(buffers: [Vec<f32>; N]) {
    SPARE.with_borrow_mut(|spare| {
        for buffer in buffers.into_iter().filter(|buffer| !buffer.is_empty()) {
            spare.push(buffer);
            if spare.len() > SPARE_BUFFERS {
                let shortest = (0..spare.len()).min_by_key(|&index| spare[index].len());
                shortest.map(|index| spare.swap_remove(index));
            }
        }
    });
}
