//! The matrix product and the thread helpers that this crate's CPU kernels share: a
//! single-threaded `f32` product with strides ([`gemm`], on the `gemm` crate), the tiles and
//! blocks by which a layer pass shares its products out among the threads ([`Tiles`],
//! [`for_each_block`]), and a pointer that those blocks share ([`Shared`]).

use rayon::prelude::*;

/// Below this many channels a matrix side is thin: a product with a thin output side runs
/// transposed (the long side of positions becomes the rows, which the micro-kernel tiles
/// well), and a product with a thin inner side folds the kernel taps into it (columns of
/// `taps · channels` rows built from the grid, one product) rather than run `taps` products
/// that each stream the whole output for a handful of multiply-adds. A thin output's
/// forward pass and a thin input's gradient are one product for all taps,
/// `[channels · taps, positions]`, whose rows are then added onto their taps' places. The
/// generators' RGB head and tail are such layers.
pub(super) const THIN: usize = 16;

/// The most bytes of a tile's operands (folded columns, or input and output rows): about a
/// core's L2 cache (2 MiB on the machines measured; 1 and 4 MiB were slower).
pub(super) const TILE_BYTES: usize = 2 << 20;

/// Products (or loops of products over the taps) at least this large, in multiply-adds,
/// run on all threads.
pub(super) const PARALLEL_WORK: usize = 192 * 192 * 192;

/// The blocks that threads share out are multiples of this many rows (or columns): one
/// AVX-512 register of `f32`.
pub(super) const BLOCK: usize = 16;

/// The tiles that a product is computed by, each thread taking tiles in turn: runs of
/// `len` units (positions, or output rows) with as many units per tile as keep its
/// operands within [`TILE_BYTES`] (in a core's L2 cache), at least `min_len`, and as many
/// tiles as make equal shares for the threads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tiles {
    len: usize,
    pub(super) count: usize,
    units: usize,
}

impl Tiles {
    pub(super) fn new(units: usize, unit_bytes: usize, min_len: usize) -> Self {
        let threads = rayon::current_num_threads();
        let min_len = min_len.max(1);
        let fitting = (TILE_BYTES / unit_bytes.max(1)).max(min_len);
        // A multiple of the thread count, so that the last round keeps every thread busy.
        let count = units
            .div_ceil(fitting)
            .next_multiple_of(threads)
            .min(units.div_ceil(min_len))
            .max(1);
        let len = units.div_ceil(count).max(min_len).min(units.max(1));
        Self {
            len,
            count: units.div_ceil(len),
            units,
        }
    }

    /// Tiles of positions for products whose operands take `position_bytes` per position:
    /// at least [`BLOCK`] positions.
    pub(super) fn of_positions(positions: usize, position_bytes: usize) -> Self {
        Self::new(positions, position_bytes, BLOCK)
    }

    /// Calls `body(scratch, first unit, units)` for every tile, each thread with scratch
    /// buffers of its own (on all threads when `work` is at least [`PARALLEL_WORK`]).
    pub(super) fn for_each<S: Default + Send>(
        &self,
        work: usize,
        body: impl Fn(&mut S, usize, usize) + Sync,
    ) {
        let indices = 0..self.count;
        let tile = |scratch: &mut S, index: usize| {
            let first = index * self.len;
            body(scratch, first, self.len.min(self.units - first));
        };
        if work >= PARALLEL_WORK && self.count > 1 {
            indices.into_par_iter().for_each_init(S::default, tile);
        } else {
            let mut scratch = S::default();
            for index in indices {
                tile(&mut scratch, index);
            }
        }
    }

    /// `Σ_tiles` of what `body(columns, sum, first, len)` adds into `sum` for one tile:
    /// each thread accumulates its tiles into a sum of `sum_len` elements of its own.
    pub(super) fn sum(
        &self,
        sum_len: usize,
        work: usize,
        body: impl Fn(&mut Vec<f32>, &mut [f32], usize, usize) + Sync,
    ) -> Vec<f32> {
        let tile = |(mut columns, mut sum): (Vec<f32>, Vec<f32>), index: usize| {
            let first = index * self.len;
            body(
                &mut columns,
                &mut sum,
                first,
                self.len.min(self.units - first),
            );
            (columns, sum)
        };
        let start = || (Vec::new(), vec![0.0f32; sum_len]);
        if work >= PARALLEL_WORK && self.count > 1 {
            (0..self.count)
                .into_par_iter()
                .fold(start, tile)
                .map(|(_, sum)| sum)
                .reduce_with(|mut total, part| {
                    total.iter_mut().zip(&part).for_each(|(t, p)| *t += p);
                    total
                })
                .unwrap_or_else(|| vec![0.0; sum_len])
        } else {
            (0..self.count).fold(start(), tile).1
        }
    }
}

/// `dst = (read_dst ? dst : 0) + lhs · rhs` for `[m, n, k]` on the calling thread, each
/// matrix given as `(pointer, column stride, row stride)` (the callers share work out
/// among the threads by tiles or blocks).
///
/// # Safety
/// Every `(row, column)` of each matrix, through its strides, must lie inside one
/// allocation, and `dst` must not overlap `lhs` or `rhs`.
pub(super) unsafe fn gemm(
    [m, n, k]: [usize; 3],
    (dst, dst_cs, dst_rs): (*mut f32, usize, usize),
    read_dst: bool,
    (lhs, lhs_cs, lhs_rs): (*const f32, usize, usize),
    (rhs, rhs_cs, rhs_rs): (*const f32, usize, usize),
) {
    if m < THIN && n > m {
        // dstᵀ = rhsᵀ · lhsᵀ: the same product with the long side as rows.
        // SAFETY: the same elements, read through swapped strides.
        return unsafe {
            gemm(
                [n, m, k],
                (dst, dst_rs, dst_cs),
                read_dst,
                (rhs, rhs_rs, rhs_cs),
                (lhs, lhs_rs, lhs_cs),
            )
        };
    }
    // SAFETY: forwarded to the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs as isize,
            dst_rs as isize,
            read_dst,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Calls `body(start, len)` for blocks covering `0..length`: one block per thread of the
/// pool when `work` (multiply-adds) is at least [`PARALLEL_WORK`] and `length` allows blocks
/// of at least [`BLOCK`], each block a multiple of [`BLOCK`] but the last; one block on the
/// calling thread otherwise.
///
/// Splitting a whole product (or a whole loop of products over the kernel taps) into one
/// block per thread, each running the single-threaded kernel on its block, is faster than
/// running each product on all threads: the threads meet once per layer pass instead of
/// once per product, and each packs only its own operands (measured on the residual
/// blocks' 3×3 convolutions, `docs/benchmarks.md`).
pub(super) fn for_each_block(length: usize, work: usize, body: impl Fn(usize, usize) + Sync) {
    let threads = threads_for(work);
    let blocks = threads.min(length / BLOCK).max(1);
    if blocks == 1 {
        return body(0, length);
    }
    let block = length.div_ceil(blocks).next_multiple_of(BLOCK);
    rayon::scope(|scope| {
        for start in (block..length).step_by(block) {
            let body = &body;
            scope.spawn(move |_| body(start, block.min(length - start)));
        }
        body(0, block.min(length));
    });
}

/// The threads that a layer pass of `work` multiply-adds is shared among: all of the pool's
/// from [`PARALLEL_WORK`], else the calling thread alone.
pub(super) fn threads_for(work: usize) -> usize {
    if work >= PARALLEL_WORK {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// A pointer into a buffer that the blocks of [`for_each_block`] share: each block reads
/// it, or writes its own disjoint elements.
#[derive(Clone, Copy)]
pub(super) struct Shared(*mut f32);

// SAFETY: the blocks that share a pointer write disjoint elements (the callers' contract).
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    pub(super) fn new(buffer: &mut [f32]) -> Self {
        Self(buffer.as_mut_ptr())
    }

    /// A buffer that is only read.
    pub(super) fn of(buffer: &[f32]) -> Self {
        Self(buffer.as_ptr().cast_mut())
    }

    /// A buffer not written yet (its elements are written through the pointer before
    /// anything reads them).
    pub(super) fn uninit(buffer: &mut [std::mem::MaybeUninit<f32>]) -> Self {
        Self(buffer.as_mut_ptr().cast())
    }

    /// The same buffer from its element `offset` on.
    ///
    /// # Safety
    /// As [`at`](Self::at).
    pub(super) unsafe fn offset(self, offset: usize) -> Self {
        // SAFETY: forwarded to the caller.
        Self(unsafe { self.0.add(offset) })
    }

    /// The element `offset` places on.
    ///
    /// # Safety
    /// `offset` must stay inside the buffer (or one past its end).
    pub(super) unsafe fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: forwarded to the caller.
        unsafe { self.0.add(offset) }
    }
}
