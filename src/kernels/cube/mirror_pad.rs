//! Reflection and replication padding on CubeCL devices: one launch forward, one backward.
//!
//! Burn builds a 2-D mirror pad from a fill, slices, flips and slice assignments (12–16
//! launches forward and 28–34 backward under autodiff). Here one thread writes one element
//! of the padded map, read from the element it repeats; the output is channels-last, the
//! layout Burn's convolutions read without a copy (a pad is always followed by one in these
//! networks). Backward, one thread gathers the gradient of one input element from the 1 to
//! `(2·pad + 1)²` padded places that repeat it, so no two threads add to the same place.

use burn::backend::TensorMetadata;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::DType;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::layout::{elementwise, empty_channels_last, readable};
use crate::kernels::mirror_pad::{Mirror, MirrorPad};

impl MirrorPad for CubeBackend {
    fn mirror_pad2d(x: FloatTensor<Self>, pad: usize, mirror: Mirror) -> FloatTensor<Self> {
        let [batch, channels, height, width] = x.shape().dims();
        if x.dtype() != DType::F32 || (mirror == Mirror::Reflect && pad >= height.min(width)) {
            // Burn's op reports what is wrong with the padding.
            return Self::float_pad(
                x,
                &[(0, 0), (0, 0), (pad, pad), (pad, pad)],
                mirror.pad_mode(),
            );
        }
        let x = readable(x);
        let output = empty_channels_last(&x, [batch, channels, height + 2 * pad, width + 2 * pad]);
        let (count, dim) = elementwise(&x, output.shape().num_elements());
        // SAFETY: every read index is a source index within the input, every write a place
        // within the output; threads past the last element return at once.
        unsafe {
            pad_forward_kernel::launch_unchecked(
                &x.client,
                count,
                dim,
                x.clone().into_tensor_arg(),
                output.clone().into_tensor_arg(),
                pad,
                mirror == Mirror::Reflect,
            );
        }
        output
    }

    fn mirror_pad2d_backward(
        grad: FloatTensor<Self>,
        pad: usize,
        mirror: Mirror,
    ) -> FloatTensor<Self> {
        let grad = readable(grad);
        let [batch, channels, padded_h, padded_w] = grad.shape().dims();
        let input_grad = empty_channels_last(
            &grad,
            [batch, channels, padded_h - 2 * pad, padded_w - 2 * pad],
        );
        let (count, dim) = elementwise(&grad, input_grad.shape().num_elements());
        // SAFETY: as forward.
        unsafe {
            pad_backward_kernel::launch_unchecked(
                &grad.client,
                count,
                dim,
                grad.clone().into_tensor_arg(),
                input_grad.clone().into_tensor_arg(),
                pad,
                mirror == Mirror::Reflect,
            );
        }
        input_grad
    }
}

/// The index of the input that padded index `index` repeats (`pad` places before the first
/// of `len`): `Mirror::source`.
#[cube]
fn source(index: usize, pad: usize, len: usize, #[comptime] reflect: bool) -> usize {
    let position = i32::cast_from(index) - i32::cast_from(pad);
    let last = i32::cast_from(len) - 1;
    let mut source = position;
    if reflect {
        if position < 0 {
            source = -position;
        } else if position > last {
            source = 2 * last - position;
        }
    } else {
        source = max(min(position, last), 0);
    }
    usize::cast_from(source)
}

/// The `candidate`-th padded index (of `2·pad + 1`) that may repeat input index `index` of a
/// side of `len`: the index itself shifted by the pad, then every place of the two borders.
#[cube]
fn candidate(index: usize, candidate: usize, pad: usize, len: usize) -> usize {
    let mut place = index + pad;
    if candidate > 0 {
        if candidate <= pad {
            place = candidate - 1;
        } else {
            place = len + candidate - 1;
        }
    }
    place
}

/// One thread per element of the padded output, whose memory is channels-last (NHWC): the
/// element it repeats.
#[cube(launch_unchecked)]
fn pad_forward_kernel(
    input: &Tensor<f32>,
    output: &mut Tensor<f32>,
    pad: usize,
    #[comptime] reflect: bool,
) {
    let index = ABSOLUTE_POS;
    if index >= output.len() {
        terminate!();
    }
    let channels = output.shape(1);
    let padded_h = output.shape(2);
    let padded_w = output.shape(3);
    let channel = index % channels;
    let rest = index / channels;
    let column = rest % padded_w;
    let rest = rest / padded_w;
    let row = rest % padded_h;
    let batch = rest / padded_h;
    let source_row = source(row, pad, input.shape(2), reflect);
    let source_column = source(column, pad, input.shape(3), reflect);
    output[index] = input[batch * input.stride(0)
        + channel * input.stride(1)
        + source_row * input.stride(2)
        + source_column * input.stride(3)];
}

/// One thread per element of the input's gradient, whose memory is channels-last (NHWC): the
/// sum of the output gradient over the padded places that repeat it.
#[cube(launch_unchecked)]
fn pad_backward_kernel(
    grad: &Tensor<f32>,
    input_grad: &mut Tensor<f32>,
    pad: usize,
    #[comptime] reflect: bool,
) {
    let index = ABSOLUTE_POS;
    if index >= input_grad.len() {
        terminate!();
    }
    let channels = input_grad.shape(1);
    let height = input_grad.shape(2);
    let width = input_grad.shape(3);
    let channel = index % channels;
    let rest = index / channels;
    let column = rest % width;
    let rest = rest / width;
    let row = rest % height;
    let batch = rest / height;
    let plane = batch * grad.stride(0) + channel * grad.stride(1);
    let mut sum = 0.0f32;
    for row_candidate in 0..2 * pad + 1 {
        let padded_row = candidate(row, row_candidate, pad, height);
        if row_candidate == 0 || source(padded_row, pad, height, reflect) == row {
            for column_candidate in 0..2 * pad + 1 {
                let padded_column = candidate(column, column_candidate, pad, width);
                if column_candidate == 0 || source(padded_column, pad, width, reflect) == column {
                    sum +=
                        grad[plane + padded_row * grad.stride(2) + padded_column * grad.stride(3)];
                }
            }
        }
    }
    input_grad[index] = sum;
}
