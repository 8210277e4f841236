//! 3×3 average and max pooling on Flex (inference): one pass per plane, planes shared among
//! the threads.

use burn::backend::tensor::FloatTensor;

use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec};
use crate::kernels::pool3x3::Pool3x3;

impl Pool3x3 for burn::backend::Flex {
    fn max_pool3x3(x: FloatTensor<Self>, stride: usize, padding: usize) -> FloatTensor<Self> {
        let [batch, channels, height, width]: [usize; 4] =
            burn::backend::TensorMetadata::shape(&x).dims();
        let out_h = (height + 2 * padding - 3) / stride + 1;
        let out_w = (width + 2 * padding - 3) / stride + 1;
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        // The input rows (or columns) of output row `o`: `o·stride − padding ..+3`, clipped.
        let window = move |o: usize, len: usize| {
            let start = (o * stride).saturating_sub(padding);
            let end = (o * stride + 3 - padding).min(len);
            start..end
        };
        let plane = out_h * out_w;
        let output = filled_by_chunks(batch * channels * plane, plane, move |index, output| {
            let input = &input[index * height * width..][..height * width];
            for y in 0..out_h {
                let rows = window(y, height);
                for x in 0..out_w {
                    let columns = window(x, width);
                    let mut max = f32::NEG_INFINITY;
                    for row in rows.clone() {
                        for &value in &input[row * width + columns.start..row * width + columns.end]
                        {
                            // NaN wins, as in Burn's and PyTorch's max pooling.
                            if value > max || value.is_nan() {
                                max = value;
                            }
                        }
                    }
                    output[y * out_w + x] = max;
                }
            }
        });
        from_vec(output, [batch, channels, out_h, out_w])
    }

    fn box_average3x3(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let shape: [usize; 4] = burn::backend::TensorMetadata::shape(&x).dims();
        let [_, _, height, width] = shape;
        let plane = height * width;
        let x = x.to_contiguous();
        let input = f32_slice(&x);
        // The reciprocal of how many inputs a window covers: 3 along a side, 2 at its ends.
        let reach = |i: usize, len: usize| 3 - usize::from(i == 0) - usize::from(i + 1 == len);
        let output = filled_by_chunks(input.len(), plane, move |index, output| {
            let input = &input[index * plane..][..plane];
            for y in 0..height {
                let rows = y.saturating_sub(1)..(y + 2).min(height);
                for x in 0..width {
                    let columns = x.saturating_sub(1)..(x + 2).min(width);
                    let mut sum = 0.0f32;
                    for row in rows.clone() {
                        for value in &input[row * width + columns.start..row * width + columns.end]
                        {
                            sum += value;
                        }
                    }
                    let count = (reach(y, height) * reach(x, width)) as f32;
                    output[y * width + x] = sum / count;
                }
            }
        });
        from_vec(output, shape)
    }
}
