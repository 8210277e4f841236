//! Weight gradients of convolutions as one matrix product, `dW = grad · colsᵀ`, on any
//! backend's tensor operations: what [`GemmGradConv`](super::conv::GemmGradConv) computes
//! where this crate has no kernel for a layer.

use burn::backend::Backend;
use burn::backend::TensorMetadata;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions, PadMode};
use burn::backend::tensor::FloatTensor;
use burn::tensor::Slice;

/// The weight gradient of `conv_transpose2d(x, weight)` given its output's gradient:
/// `x` is to the output gradient what a convolution's output gradient is to its input, so
/// [`weight_grad`] with the roles swapped gives the `[c_in, c_out, k, k]` gradient.
pub(crate) fn transposed_weight_grad<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
    options: &ConvTransposeOptions<2>,
) -> FloatTensor<B> {
    let conv_options = ConvOptions::new(options.stride, options.padding, options.dilation, 1);
    weight_grad::<B>(grad, weight.shape().dims(), x, &conv_options)
}

/// The most column bytes one weight-gradient product builds at a time.
const COLUMNS_BYTES: usize = 32 << 20;

/// `dW = grad · colsᵀ`: the input's patches (one row per kernel tap and input channel, one
/// column per output position) against the output gradient, in one matrix product. The
/// result has the shape `[c_out, c_in, k_h, k_w]` given.
pub(crate) fn weight_grad<B: Backend>(
    x: FloatTensor<B>,
    [c_out, c_in, k_h, k_w]: [usize; 4],
    grad: FloatTensor<B>,
    options: &ConvOptions<2>,
) -> FloatTensor<B> {
    let [batch, _, _, _] = x.shape().dims();
    let [_, _, out_h, out_w] = grad.shape().dims();
    let [(top, bottom), (left, right)] = options.padding;
    let [stride_h, stride_w] = options.stride;
    let [dilation_h, dilation_w] = options.dilation;
    let positions = batch * out_h * out_w;

    let x = if options.padding == [(0, 0), (0, 0)] {
        x
    } else {
        B::float_pad(
            x,
            &[(0, 0), (0, 0), (top, bottom), (left, right)],
            PadMode::Constant(0.0),
        )
    };
    // [batch, c, h, w] → [c, batch·h·w]; a view when the batch is 1.
    let channels_first = |t: FloatTensor<B>, channels: usize| {
        let t = if batch == 1 {
            t
        } else {
            B::float_swap_dims(t, 0, 1)
        };
        B::float_reshape(t, [channels, positions].into())
    };
    let tap = |index: usize| {
        let (top, left) = ((index / k_w) * dilation_h, (index % k_w) * dilation_w);
        let tap = B::float_slice(
            x.clone(),
            &[
                Slice::from(..),
                Slice::from(..),
                Slice::new(
                    top as isize,
                    Some((top + stride_h * (out_h - 1) + 1) as isize),
                    stride_h as isize,
                ),
                Slice::new(
                    left as isize,
                    Some((left + stride_w * (out_w - 1) + 1) as isize),
                    stride_w as isize,
                ),
            ],
        );
        channels_first(tap, c_in)
    };
    let grad = channels_first(grad, c_out); // [c_out, positions]
    // The columns of as many taps as fit in COLUMNS_BYTES go into one product: all of them
    // for most layers; a few at a time for wide maps with many taps (the 7×7 output layer
    // of a generator has 49 · ngf rows per position).
    let taps = k_h * k_w;
    let tap_bytes = c_in * positions * core::mem::size_of::<f32>();
    let per_product = (COLUMNS_BYTES / tap_bytes.max(1)).clamp(1, taps);
    let products = (0..taps)
        .step_by(per_product)
        .map(|first| {
            let cols = (first..(first + per_product).min(taps))
                .map(tap)
                .collect::<Vec<_>>();
            let cols = B::float_cat(cols, 0); // [taps·c_in, positions]
            B::float_matmul(grad.clone(), B::float_transpose(cols)) // [c_out, taps·c_in]
        })
        .collect::<Vec<_>>();
    let weight_grad = if products.len() == 1 {
        products.into_iter().next().expect("one product")
    } else {
        B::float_cat(products, 1)
    };
    let weight_grad = B::float_reshape(weight_grad, [c_out, k_h * k_w, c_in].into());
    let weight_grad = B::float_swap_dims(weight_grad, 1, 2);
    B::float_reshape(weight_grad, [c_out, c_in, k_h, k_w].into())
}
