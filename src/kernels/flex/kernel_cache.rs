//! Transformed kernels kept from one inference pass to the next.
//!
//! The Winograd kernels transform a layer's weights on every call (`G g Gᵀ`, `kernels::winograd`,
//! `winograd4x4`, `winograd_phases`): for a residual block's 3×3 convolution of 256
//! channels, 65 536 kernels into 1 M transformed values, about 8 % of the layer's time at a
//! 128² generator's size, and 2 ms of the 256² discriminator's 256 → 512 layer. In inference
//! the weights stay the same from call to call, so on devices without autodiff
//! ([`keeping_kernels`], around the convolution operations of `kernels::conv`) the
//! transformed kernels are kept, keyed by the weight's storage.
//!
//! An entry holds a weak reference to that storage, not the storage: it never keeps a
//! weight alive, and it is used only while the storage is alive and unchanged. Flex writes
//! into a tensor's storage in place only through `Arc::make_mut` or `Arc::get_mut`, which a
//! weak reference turns into a copy (or a move to a new allocation), so a weight changed in
//! place, or dropped, never matches the entry made for it; entries whose storage is gone
//! are dropped at the next lookup. Under autodiff (training) nothing is kept: the weights
//! change every step, and the transformed kernels of a generator's residual blocks (75
//! MiB) would add to a step's peak memory.

use std::cell::Cell;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::flex_tensor::f32_slice;
use super::spare::recycle;

/// The most transformed values kept (256 MiB of `f32`): more than the residual blocks of
/// two generators, beyond which the oldest entries are dropped.
const MAX_KEPT: usize = 64 << 20;

thread_local! {
    /// Whether this thread is inside [`keeping_kernels`] for a device without autodiff.
    static KEEPING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `operation` (one convolution on this thread) with transformed kernels kept from
/// call to call when `inference` (the device has no autodiff).
pub(crate) fn keeping_kernels<R>(inference: bool, operation: impl FnOnce() -> R) -> R {
    /// Sets the flag back as it was when dropped, also when `operation` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            KEEPING.set(self.0);
        }
    }
    let _restore = Restore(KEEPING.replace(inference));
    operation()
}

/// One kept set of transformed kernels.
struct Entry {
    key: Key,
    /// Whether the weight's storage is still alive at this address.
    alive_at: Box<dyn Fn(usize) -> bool + Send>,
    kernels: Arc<Vec<f32>>,
}

/// What a set of transformed kernels was made from: the weight's storage (the address of
/// its shared allocation, and where its values lie in it) and the transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    storage: usize,
    start: usize,
    len: usize,
    transform: &'static str,
}

static KEPT: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// A layer's transformed kernels: kept ones, shared, or made for this call (a spare buffer,
/// given back by [`Kernels::recycle`]).
pub(super) enum Kernels {
    Kept(Arc<Vec<f32>>),
    Fresh(Vec<f32>),
}

impl Deref for Kernels {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Kernels::Kept(kernels) => kernels,
            Kernels::Fresh(kernels) => kernels,
        }
    }
}

impl Kernels {
    /// Gives kernels made for this call back to the thread's spare buffers.
    pub(super) fn recycle(self) {
        if let Kernels::Fresh(kernels) = self {
            recycle([kernels]);
        }
    }
}

/// `make(weight's values)`, the kernels transformed by `transform` (a name for the
/// transform, part of the key; `len` values, in a spare buffer at least as long), kept for
/// the next calls with the same weight inside [`keeping_kernels`] for inference, made
/// fresh otherwise. `weight` is contiguous.
pub(super) fn transformed(
    weight: &FloatTensor<Flex>,
    transform: &'static str,
    len: usize,
    make: impl FnOnce(&[f32]) -> Vec<f32>,
) -> Kernels {
    let values = f32_slice(weight);
    if !KEEPING.get() {
        return Kernels::Fresh(make(values));
    }
    let storage = weight.data_arc();
    let key = Key {
        storage: Arc::as_ptr(&storage) as *const () as usize,
        start: values.as_ptr() as usize,
        len: values.len(),
        transform,
    };
    {
        let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        kept.retain(|entry| (entry.alive_at)(entry.key.storage));
        if let Some(entry) = kept.iter().find(|entry| entry.key == key) {
            return Kernels::Kept(Arc::clone(&entry.kernels));
        }
    }
    // Kept in a buffer of their own length: the spare buffer they were made in may be
    // much longer (a strided layer's phased input, say), and goes back to the pool.
    let made = make(values);
    let kernels = Arc::new(made[..len].to_vec());
    recycle([made]);
    let weak = Arc::downgrade(&storage);
    drop(storage);
    let entry = Entry {
        key,
        // A weak reference keeps the allocation (not the value), so no other storage can
        // take this address while the entry exists.
        alive_at: Box::new(move |address| {
            weak.strong_count() > 0 && Weak::as_ptr(&weak) as *const () as usize == address
        }),
        kernels: Arc::clone(&kernels),
    };
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    kept.push(entry);
    // The oldest entries go first when too many values are kept.
    while kept.iter().map(|entry| entry.kernels.len()).sum::<usize>() > MAX_KEPT && kept.len() > 1 {
        kept.remove(0);
    }
    Kernels::Kept(kernels)
}
