//! Plain `f32` access to Flex tensors, for this crate's Flex kernels (`tap_conv`, mirror
//! padding, instance norm), and the buffers they write.

use std::mem::MaybeUninit;

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, TensorData};
use rayon::prelude::*;

use super::gemm::Shared;

/// Buffers of at least this many elements are written on all threads.
const PARALLEL_FILL: usize = 1 << 16;

/// Chunks that one thread takes at a time hold at least this many elements.
const MIN_SHARE: usize = 1 << 12;

/// The `f32` elements of a contiguous tensor (the kernels check the dtype and make their
/// inputs contiguous first).
pub(crate) fn f32_slice(tensor: &FloatTensor<Flex>) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor (checked by the caller)")
}

/// A Flex tensor owning `values` (no copy).
pub(crate) fn from_vec(values: Vec<f32>, shape: impl Into<Shape>) -> FloatTensor<Flex> {
    <FloatTensor<Flex>>::from_data(TensorData::new(values, shape))
}

/// `len` values made chunk by chunk, `chunk` values each (the last may be shorter): each
/// chunk zeroed, then `fill(index of the chunk, chunk)`, on all threads when `len` is large.
///
/// Unlike `vec![0.0; len]` and then a parallel fill, no thread zeroes (and faults in the
/// pages of) the whole buffer beforehand: each chunk is first touched by the thread that
/// fills it, and zeroed while in its cache. On Flex a training step's activations are
/// fresh memory every step (they are freed in the backward pass), so this first touch is
/// a sizeable share of the element-wise kernels' time.
pub(crate) fn filled_by_chunks(
    len: usize,
    chunk: usize,
    fill: impl Fn(usize, &mut [f32]) + Sync,
) -> Vec<f32> {
    let mut values = Vec::<f32>::with_capacity(len);
    let fill_one = |(index, chunk): (usize, &mut [MaybeUninit<f32>])| {
        for value in chunk.iter_mut() {
            value.write(0.0);
        }
        // SAFETY: every element of the chunk was just written.
        let chunk = unsafe { &mut *(chunk as *mut [MaybeUninit<f32>] as *mut [f32]) };
        fill(index, chunk);
    };
    let spare = &mut values.spare_capacity_mut()[..len];
    let chunk = chunk.max(1);
    if len >= PARALLEL_FILL {
        spare
            .par_chunks_mut(chunk)
            .with_min_len(MIN_SHARE.div_ceil(chunk))
            .enumerate()
            .for_each(fill_one);
    } else {
        spare.chunks_mut(chunk).enumerate().for_each(fill_one);
    }
    // SAFETY: the chunks cover the first `len` elements, each one written above.
    unsafe { values.set_len(len) };
    values
}

/// `len` values that `write` writes through the pointer it is given (without zeroing
/// them first: each page is first touched by the thread that writes it).
///
/// # Safety
/// `write` must write every one of the `len` values before it returns, and read none it
/// has not written.
pub(super) unsafe fn written(len: usize, write: impl FnOnce(Shared)) -> Vec<f32> {
    let mut values = Vec::<f32>::with_capacity(len);
    write(Shared::uninit(&mut values.spare_capacity_mut()[..len]));
    // SAFETY: every element was written (the caller's contract).
    unsafe { values.set_len(len) };
    values
}

/// `len` zeros, written on all threads when `len` is large (see [`filled_by_chunks`]).
pub(crate) fn zeros(len: usize) -> Vec<f32> {
    filled_by_chunks(len, MIN_SHARE, |_, _| {})
}

/// Sets `values` to zero, on all threads when it is large.
pub(crate) fn zero(values: &mut [f32]) {
    fill_by_chunks(values, MIN_SHARE, |_, chunk| chunk.fill(0.0));
}

/// `fill(index of the chunk, chunk)` for every chunk of `chunk` values of `values` (the last
/// may be shorter), on all threads when `values` is large.
pub(crate) fn fill_by_chunks(
    values: &mut [f32],
    chunk: usize,
    fill: impl Fn(usize, &mut [f32]) + Sync,
) {
    let chunk = chunk.max(1);
    if values.len() >= PARALLEL_FILL {
        values
            .par_chunks_mut(chunk)
            .with_min_len(MIN_SHARE.div_ceil(chunk))
            .enumerate()
            .for_each(|(index, chunk)| fill(index, chunk));
    } else {
        values
            .chunks_mut(chunk)
            .enumerate()
            .for_each(|(index, chunk)| fill(index, chunk));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_zeroed_then_filled_in_order() {
        for (len, chunk) in [
            (0, 3),
            (10, 3),
            (PARALLEL_FILL + 5, 7),
            (PARALLEL_FILL * 3, 1),
        ] {
            let values = filled_by_chunks(len, chunk, |index, values| {
                assert!(values.iter().all(|&value| value == 0.0));
                for (offset, value) in values.iter_mut().enumerate() {
                    *value = (index * chunk + offset) as f32;
                }
            });
            assert_eq!(values.len(), len);
            assert!(
                values.iter().enumerate().all(|(i, &v)| v == i as f32),
                "{len} {chunk}"
            );
            let mut refilled = values.clone();
            fill_by_chunks(&mut refilled, chunk, |index, values| {
                values.iter_mut().for_each(|value| *value += index as f32)
            });
            assert!(
                refilled
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| v == (i + i / chunk) as f32)
            );
        }
        let mut values = zeros(PARALLEL_FILL * 2 + 1);
        assert!(values.iter().all(|&value| value == 0.0));
        values.fill(1.0);
        zero(&mut values);
        assert!(values.iter().all(|&value| value == 0.0));
    }
}
