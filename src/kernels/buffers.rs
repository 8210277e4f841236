//! Spare buffers that the CPU kernels share, per thread.
//!
//! A layer pass needs scratch buffers (transformed tiles, grids, folded columns, reordered
//! weights) of up to tens of MiB. Fresh from the allocator, each is new memory on every
//! call: page faults and the kernel's clearing, which on small maps cost as much as the
//! arithmetic. Each thread keeps the [`SPARE_BUFFERS`] longest buffers its kernels gave
//! back, for their next calls: [`spare`] and [`recycle`] by hand, or [`Scratch`], which
//! takes one when made and gives it back when dropped.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

thread_local! {
    /// This thread's spare buffers.
    static SPARE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// At most this many buffers are kept per thread (a Winograd forward pass uses three at
/// once, and each thread of a pass one or two scratch buffers).
const SPARE_BUFFERS: usize = 6;

/// A buffer of at least `len` values (of any content; it may be longer): the smallest spare
/// one of this thread's that is long enough, else the longest made longer, else a new one.
pub(super) fn spare(len: usize) -> Vec<f32> {
    let mut buffer = SPARE
        .try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let fitting = (0..spare.len())
                .filter(|&index| spare[index].len() >= len)
                .min_by_key(|&index| spare[index].len());
            let longest = (0..spare.len()).max_by_key(|&index| spare[index].len());
            fitting.or(longest).map(|index| spare.swap_remove(index))
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    buffer
}

/// Keeps `buffers` for this thread's next calls of [`spare`]: the [`SPARE_BUFFERS`] longest.
pub(super) fn recycle<const N: usize>(buffers: [Vec<f32>; N]) {
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        for buffer in buffers {
            spare.push(buffer);
            if spare.len() > SPARE_BUFFERS {
                let shortest = (0..spare.len()).min_by_key(|&index| spare[index].len());
                shortest.map(|index| spare.swap_remove(index));
            }
        }
    });
}

/// A scratch buffer of the thread that makes it (the thread-local state of a tile loop,
/// `Tiles::for_each`): the longest spare buffer, of any content and length, which the
/// user resizes and overwrites; given back to the thread's spare buffers when dropped.
#[derive(Debug)]
pub(super) struct Scratch(Vec<f32>);

impl Default for Scratch {
    fn default() -> Self {
        Self(spare(0))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        recycle([std::mem::take(&mut self.0)]);
    }
}

impl Deref for Scratch {
    type Target = Vec<f32>;

    fn deref(&self) -> &Vec<f32> {
        &self.0
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut Vec<f32> {
        &mut self.0
    }
}
