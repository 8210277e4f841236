//! Reflection and replication padding on Flex: one copy forward, one scatter-add backward,
//! planes shared among the threads.

use burn::backend::TensorMetadata;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;

use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use crate::kernels::mirror_pad::{Mirror, MirrorPad};

impl MirrorPad for burn::backend::Flex {
    fn mirror_pad2d(x: FloatTensor<Self>, pad: usize, mirror: Mirror) -> FloatTensor<Self> {
        let [batch, channels, height, width] = x.shape().dims();
        if x.dtype() != burn::tensor::DType::F32 || pad >= height.min(width) {
            // Burn's op reports what is wrong with the padding.
            return Self::float_pad(
                x,
                &[(0, 0), (0, 0), (pad, pad), (pad, pad)],
                mirror.pad_mode(),
            );
        }
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        let (padded_h, padded_w) = (height + 2 * pad, width + 2 * pad);
        let columns = (0..padded_w)
            .map(|column| mirror.source(column, pad, width))
            .collect::<Vec<_>>();
        let output = filled_by_chunks(
            batch * channels * padded_h * padded_w,
            padded_h * padded_w,
            |plane, output| {
                let input = &input[plane * height * width..][..height * width];
                for (row, output) in output.chunks_exact_mut(padded_w).enumerate() {
                    let source = &input[mirror.source(row, pad, height) * width..][..width];
                    output[pad..pad + width].copy_from_slice(source);
                    for column in (0..pad).chain(pad + width..padded_w) {
                        output[column] = source[columns[column]];
                    }
                }
            },
        );
        from_vec(output, [batch, channels, padded_h, padded_w])
    }

    fn mirror_pad2d_backward(
        grad: FloatTensor<Self>,
        pad: usize,
        mirror: Mirror,
    ) -> FloatTensor<Self> {
        let [batch, channels, padded_h, padded_w] = grad.shape().dims();
        let (height, width) = (padded_h - 2 * pad, padded_w - 2 * pad);
        let grad = grad.to_contiguous();
        let grad = f32_slice(&grad);
        let columns = (0..padded_w)
            .map(|column| mirror.source(column, pad, width))
            .collect::<Vec<_>>();
        let input_grad = filled_by_chunks(
            batch * channels * height * width,
            height * width,
            |plane, input_grad| {
                let grad = &grad[plane * padded_h * padded_w..][..padded_h * padded_w];
                for (row, grad) in grad.chunks_exact(padded_w).enumerate() {
                    let target =
                        &mut input_grad[mirror.source(row, pad, height) * width..][..width];
                    for (target, grad) in target.iter_mut().zip(&grad[pad..pad + width]) {
                        *target += grad;
                    }
                    for column in (0..pad).chain(pad + width..padded_w) {
                        target[columns[column]] += grad[column];
                    }
                }
            },
        );
        from_vec(input_grad, [batch, channels, height, width])
    }
}
