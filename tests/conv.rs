//! `kernels::conv`: the convolutions with a matrix-product weight gradient give what Burn's own
//! `Conv2d` / `ConvTranspose2d` give (outputs and all three gradients), for the shapes the
//! networks use and for batches, strides, dilations and paddings around them.

mod common;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::tensor::Distribution;
use cyclegan_burn::kernels::{conv_transpose2d, conv2d};
use cyclegan_burn::prelude::*;

/// Largest absolute difference, relative to the largest magnitude of `expected`.
fn relative_error<const D: usize>(expected: Tensor<D>, actual: Tensor<D>) -> f32 {
    let scale = expected.clone().abs().max().into_scalar::<f32>().max(1e-6);
    (expected - actual).abs().max().into_scalar::<f32>() / scale
}

struct Grads {
    output: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    input: Tensor<4>,
}

/// Runs `forward` on a random input and back-propagates `sum(y²)`.
fn grads(
    input: &Tensor<4>,
    weight: &burn::module::Param<Tensor<4>>,
    bias: &burn::module::Param<Tensor<1>>,
    forward: impl Fn(Tensor<4>) -> Tensor<4>,
) -> Grads {
    let y = forward(input.clone());
    let g = (y.clone() * y.clone()).sum().backward();
    Grads {
        output: y.inner(),
        weight: weight.grad(&g).expect("weight gradient"),
        bias: bias.grad(&g).expect("bias gradient"),
        input: input.grad(&g).expect("input gradient"),
    }
}

/// Runs Burn's layer (`burns`) and ours (`ours`) with the parameters `weight` and `bias` on
/// one random input of `input_shape` and asserts outputs and gradients agree.
fn assert_same_as_burns(
    name: &str,
    input_shape: [usize; 4],
    weight: &burn::module::Param<Tensor<4>>,
    bias: Option<&burn::module::Param<Tensor<1>>>,
    burns: impl Fn(Tensor<4>) -> Tensor<4>,
    ours: impl Fn(Tensor<4>) -> Tensor<4>,
) {
    let input = Tensor::<4>::random(
        input_shape,
        Distribution::Uniform(-1.0, 1.0),
        &weight.val().device(),
    )
    .require_grad();
    let bias = bias.expect("bias");
    let expected = grads(&input, weight, bias, burns);
    let actual = grads(&input, weight, bias, ours);
    // The bias gradient of a channel is the sum of `2y` over its positions, which can cancel
    // to nearly nothing (a thin layer's few positions): its error is measured against the
    // sum of the magnitudes of what is added, not against the (random) size of the result.
    let bias_scale = (expected.output.clone().abs() * 2.0)
        .sum_dim(0)
        .sum_dim(2)
        .sum_dim(3)
        .max()
        .into_scalar::<f32>()
        .max(1e-6);
    let bias_error = (expected.bias - actual.bias)
        .abs()
        .max()
        .into_scalar::<f32>()
        / bias_scale;
    for (what, error) in [
        ("output", relative_error(expected.output, actual.output)),
        (
            "weight gradient",
            relative_error(expected.weight, actual.weight),
        ),
        ("bias gradient", bias_error),
        (
            "input gradient",
            relative_error(expected.input, actual.input),
        ),
    ] {
        assert!(
            error < 1e-5,
            "{name}: {what} differs by {error:e} (relative)"
        );
    }
}

#[test]
fn conv2d_matches_burns_conv2d_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, kernel, stride, padding, dilation, batch, size)
    for (c_in, c_out, kernel, stride, padding, dilation, batch, size) in [
        (3, 16, 7, 1, 0, 1, 1, 22),  // resnet stem after reflection padding
        (16, 32, 3, 2, 1, 1, 1, 16), // downsampling
        (32, 32, 3, 1, 0, 1, 2, 10), // residual block after padding, batch 2
        (8, 16, 4, 2, 1, 1, 3, 16),  // PatchGAN / U-Net
        (8, 1, 4, 1, 1, 1, 1, 9),    // PatchGAN head
        (4, 6, 3, 1, 2, 2, 2, 9),    // dilation
        (4, 6, 1, 1, 0, 1, 1, 7),    // pointwise
        // The 128² generator's output layer: 4 MiB of columns per tap, so the weight
        // gradient is built from seven products (of eight taps, the last of one).
        (64, 3, 7, 1, 0, 1, 1, 134),
    ] {
        let name = format!(
            "conv {c_in}→{c_out} k{kernel} s{stride} p{padding} d{dilation} n{batch} {size}²"
        );
        let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_dilation([dilation, dilation])
            .init(&device);
        assert_same_as_burns(
            &name,
            [batch, c_in, size, size],
            &conv.weight,
            conv.bias.as_ref(),
            |x| conv.forward(x),
            |x| conv2d(&conv, x),
        );
    }
}

/// Convolutions run tap by tap on Flex (one matrix product per kernel tap, on a grid as
/// wide as the padded input, or as one phase of it for strides): rectangular maps, zero
/// padding of each kind, kernels of every size the networks use, strides, batches, and thin
/// layers (an RGB head's taps folded, an RGB tail's taps in one product). Inputs of fewer
/// than 256 channels fold the taps into one product (the weight gradient: fewer than 128);
/// wider ones run a product per tap.
#[test]
fn tap_convolutions_match_burns_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, kernel [h, w], stride [h, w], padding (top, left, bottom, right),
    //  input [n, h, w])
    for (c_in, c_out, kernel, stride, padding, shape) in [
        (16, 16, [3, 3], [1, 1], (0, 0, 0, 0), [1, 6, 6]), // residual block, smallest map
        (16, 24, [3, 3], [1, 1], (0, 0, 0, 0), [2, 9, 13]), // rectangular, batch 2
        (16, 32, [4, 4], [1, 1], (1, 1, 1, 1), [2, 9, 9]), // PatchGAN's stride-1 layer
        (24, 16, [7, 7], [1, 1], (3, 3, 3, 3), [1, 11, 8]), // 7×7, zero padded
        (16, 24, [1, 1], [1, 1], (0, 0, 0, 0), [3, 5, 7]), // pointwise (PixelGAN)
        (16, 16, [2, 3], [1, 1], (1, 0, 0, 2), [1, 5, 6]), // rectangular kernel, uneven padding
        (16, 16, [3, 3], [1, 1], (0, 0, 0, 0), [1, 3, 3]), // a single output position
        (3, 16, [7, 7], [1, 1], (0, 0, 0, 0), [2, 13, 12]), // RGB head: taps folded
        (16, 3, [7, 7], [1, 1], (0, 0, 0, 0), [1, 12, 13]), // RGB tail: all taps in one product
        (32, 1, [4, 4], [1, 1], (1, 1, 1, 1), [1, 3, 3]),  // PatchGAN's output layer at 32²
        (4, 6, [3, 3], [1, 1], (1, 0, 2, 1), [2, 6, 7]),   // thin, uneven padding
        (16, 32, [3, 3], [2, 2], (1, 1, 1, 1), [2, 12, 12]), // resnet downsampling
        (16, 32, [3, 3], [2, 2], (1, 1, 1, 1), [1, 11, 9]), // odd sizes: unequal phases
        (3, 16, [4, 4], [2, 2], (1, 1, 1, 1), [2, 16, 16]), // PatchGAN / U-Net input layer
        (32, 16, [4, 4], [2, 2], (1, 1, 1, 1), [1, 8, 10]), // PatchGAN / U-Net layer
        (16, 16, [3, 5], [3, 2], (2, 0, 1, 2), [1, 10, 9]), // uneven strides and padding
        (16, 16, [2, 2], [2, 2], (0, 0, 0, 0), [1, 2, 2]), // one position per phase
        // 128 to 255 input channels: forward and input gradient folded, the weight gradient
        // a product per tap (the discriminator's d3, the generator's down2 and up1).
        (128, 16, [4, 4], [2, 2], (1, 1, 1, 1), [1, 8, 10]), // strided, as d3
        (160, 24, [3, 3], [1, 1], (1, 1, 1, 1), [2, 7, 6]),  // stride 1, batch 2
        // 256 input channels and more: a product per tap rather than folded taps.
        (256, 16, [3, 3], [1, 1], (0, 0, 0, 0), [2, 6, 7]), // 3×3, 16 outputs
        (256, 16, [4, 4], [2, 2], (1, 1, 1, 1), [1, 7, 6]), // strided
        (256, 16, [3, 5], [3, 2], (2, 0, 1, 2), [2, 10, 9]), // uneven strides, batch 2
        (256, 16, [1, 1], [2, 2], (0, 1, 0, 0), [1, 5, 4]), // phases no tap reads
        (256, 24, [7, 7], [1, 1], (3, 3, 3, 3), [1, 8, 9]), // 7×7, zero padded
        // Thin outputs over 16 input channels or more: every tap of an input row in one
        // product, its rows added onto the output at the taps' offsets.
        (256, 3, [3, 3], [1, 1], (1, 1, 1, 1), [1, 5, 6]), // 3 outputs
        (32, 2, [3, 5], [1, 1], (1, 0, 2, 1), [2, 9, 11]), // uneven kernel and padding, batch 2
    ] {
        assert_conv2d_same_as_burns(&device, [c_in, c_out], kernel, stride, padding, shape);
    }
}

/// [`assert_same_as_burns`] for a `Conv2d` of `[c_in, c_out]` channels with padding
/// `(top, left, bottom, right)` on inputs of `[batch, height, width]`.
fn assert_conv2d_same_as_burns(
    device: &Device,
    [c_in, c_out]: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: (usize, usize, usize, usize),
    [batch, height, width]: [usize; 3],
) {
    let (top, left, bottom, right) = padding;
    let name = format!(
        "conv {c_in}→{c_out} k{kernel:?} s{stride:?} p{padding:?} n{batch} {height}×{width}"
    );
    let conv = Conv2dConfig::new([c_in, c_out], kernel)
        .with_stride(stride)
        .with_padding(PaddingConfig2d::Explicit(top, left, bottom, right))
        .init(device);
    assert_same_as_burns(
        &name,
        [batch, c_in, height, width],
        &conv.weight,
        conv.bias.as_ref(),
        |x| conv.forward(x),
        |x| conv2d(&conv, x),
    );
}

/// 3×3 convolutions of stride 1 with 32 channels and more run by Winograd's F(2×2, 3×3)
/// (16 products of transformed tiles): even and odd output sizes (the last tiles reach
/// past an odd edge), zero padding of each kind, batches, and outputs of a single position.
#[test]
fn winograd_convolutions_match_burns_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, padding (top, left, bottom, right), input [n, h, w])
    for (c_in, c_out, padding, shape) in [
        (32, 32, (0, 0, 0, 0), [1, 6, 6]), // residual block after padding, even output
        (48, 40, (1, 1, 1, 1), [2, 9, 13]), // zero padded, odd output, batch 2
        (32, 64, (0, 2, 1, 0), [1, 7, 5]), // uneven padding
        (64, 32, (1, 1, 1, 1), [3, 3, 3]), // 3×3 output, batch 3
        (32, 48, (0, 0, 0, 0), [1, 3, 4]), // 1×2 output: one tile, half outside
        (256, 32, (0, 0, 0, 0), [2, 6, 7]), // residual block of ngf 64
        (32, 256, (2, 0, 0, 2), [1, 4, 4]), // padding wider than a tile's overlap
    ] {
        assert_conv2d_same_as_burns(&device, [c_in, c_out], [3, 3], [1, 1], padding, shape);
    }
}

/// 4×4 convolutions of stride 1 with 64 channels and more, on maps of 64 tiles and more, run
/// forward by Winograd's F(2×2, 4×4) (25 products of transformed 5×5 tiles) and backward tap
/// by tap: even and odd outputs (the last tiles reach past an odd edge), the PatchGAN's
/// padding and uneven padding, batches.
#[test]
fn winograd_4x4_convolutions_match_burns_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, padding (top, left, bottom, right), input [n, h, w])
    for (c_in, c_out, padding, shape) in [
        (64, 64, (1, 1, 1, 1), [1, 17, 17]), // the PatchGAN's layer: 16×16 outputs
        (96, 64, (1, 1, 1, 1), [2, 18, 18]), // odd output (17×17), batch 2
        (64, 80, (2, 0, 1, 3), [1, 16, 19]), // uneven padding, rectangular
        (256, 512, (1, 1, 1, 1), [1, 17, 17]), // the default PatchGAN's 256 → 512 at 128²
    ] {
        assert_conv2d_same_as_burns(&device, [c_in, c_out], [4, 4], [1, 1], padding, shape);
    }
}

/// 4×4 convolutions of stride 2 with 32 channels and more, on maps of 64 tiles and more, run
/// forward by Winograd's F(2×2, 2×2) on the input's four phases (9 products of transformed
/// 3×3 tiles over `4·c_in` phase channels) and backward tap by tap: the PatchGAN's layers,
/// odd outputs (the last tiles reach past the edge), odd padded sizes (a phase a row or
/// column short), uneven padding, batches.
#[test]
fn phased_winograd_convolutions_match_burns_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, padding (top, left, bottom, right), input [n, h, w])
    for (c_in, c_out, padding, shape) in [
        (64, 128, (1, 1, 1, 1), [1, 32, 32]), // the PatchGAN's d2 at 64²: 16×16 outputs
        (32, 48, (1, 1, 1, 1), [2, 35, 33]),  // odd output (17×16), batch 2
        (48, 32, (1, 1, 1, 1), [1, 33, 32]),  // odd padded height
        (32, 40, (2, 0, 1, 3), [1, 34, 37]),  // uneven padding, rectangular
        (128, 256, (1, 1, 1, 1), [1, 32, 32]), // the default PatchGAN's d3 at 128²
    ] {
        assert_conv2d_same_as_burns(&device, [c_in, c_out], [4, 4], [2, 2], padding, shape);
    }
}

/// Layers large enough to run on all threads: their products are computed by tiles of
/// positions (or output rows) or by blocks of channels shared out among the threads, and the
/// folded input gradient adds its tiles in two rounds so that no two threads add onto the
/// same place. Each case below has several tiles or blocks per pass.
#[test]
fn convolutions_shared_among_threads_match_burns() {
    let device = common::device().autodiff();
    for (c_in, c_out, kernel, stride, padding, size) in [
        (3, 64, 7, 1, 0, 40),    // RGB head: folded taps, tiles of positions
        (64, 128, 3, 2, 1, 96),  // downsampling: folded input gradient in two rounds
        (128, 256, 3, 2, 1, 48), // down2: folded forward, weight gradient per tap
        (64, 3, 7, 1, 3, 48),    // RGB tail: bands of rows, thin-output input gradient
        (512, 1, 4, 1, 1, 31),   // PatchGAN's output layer at 256²: bands of rows
        (256, 256, 3, 1, 0, 18), // residual block: Winograd's products on all threads
        (256, 16, 3, 1, 0, 18),  // 3×3 tap by tap: blocks of channels
    ] {
        let name = format!("conv {c_in}→{c_out} k{kernel} s{stride} p{padding} {size}²");
        let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .init(&device);
        assert_same_as_burns(
            &name,
            [1, c_in, size, size],
            &conv.weight,
            conv.bias.as_ref(),
            |x| conv.forward(x),
            |x| conv2d(&conv, x),
        );
    }
    // Upsampling: the transposed convolution's forward pass is the folded input gradient.
    let conv = ConvTranspose2dConfig::new([128, 64], [3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_padding_out([1, 1])
        .init(&device);
    assert_same_as_burns(
        "conv_transpose 128→64 k3 s2 p1 op1 48²",
        [1, 128, 48, 48],
        &conv.weight,
        conv.bias.as_ref(),
        |x| conv.forward(x),
        |x| conv_transpose2d(&conv, x),
    );
}

#[test]
fn conv_transpose2d_matches_burns_with_gradients() {
    let device = common::device().autodiff();
    // (c_in, c_out, kernel, stride, padding, output padding, batch, size)
    for (c_in, c_out, kernel, stride, padding, padding_out, batch, size) in [
        (32, 16, 3, 2, 1, 1, 1, 8),   // resnet upsampling
        (16, 8, 3, 2, 1, 1, 2, 6),    // batch 2
        (16, 8, 4, 2, 1, 0, 1, 8),    // U-Net
        (8, 4, 3, 1, 1, 0, 3, 5),     // stride 1, thin
        (32, 16, 3, 2, 1, 1, 2, 7),   // odd size
        (16, 24, 4, 2, 1, 0, 1, 5),   // U-Net decoder
        (16, 16, 3, 3, 1, 2, 1, 4),   // stride 3, output padding 2
        (16, 256, 3, 2, 1, 1, 2, 4),  // 256 outputs: the convolution's products per tap
        (256, 128, 3, 2, 1, 1, 1, 6), // up1: the convolution's weight gradient per tap
    ] {
        let name = format!(
            "conv_transpose {c_in}→{c_out} k{kernel} s{stride} p{padding} op{padding_out} n{batch} {size}²"
        );
        let conv = ConvTranspose2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_padding_out([padding_out, padding_out])
            .init(&device);
        assert_same_as_burns(
            &name,
            [batch, c_in, size, size],
            &conv.weight,
            conv.bias.as_ref(),
            |x| conv.forward(x),
            |x| conv_transpose2d(&conv, x),
        );
    }
    // Dilated: outside the tap plan, Burn's layer with the one-product weight gradient.
    let conv = ConvTranspose2dConfig::new([8, 6], [3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_dilation([2, 2])
        .init(&device);
    assert_same_as_burns(
        "conv_transpose 8→6 k3 s2 p1 d2 n2 5²",
        [2, 8, 5, 5],
        &conv.weight,
        conv.bias.as_ref(),
        |x| conv.forward(x),
        |x| conv_transpose2d(&conv, x),
    );
}

#[test]
fn without_autodiff_the_forward_is_burns() {
    let device = common::device();
    let conv = Conv2dConfig::new([3, 8], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    let x = Tensor::<4>::random([2, 3, 12, 12], Distribution::Uniform(-1.0, 1.0), &device);
    assert!(relative_error(conv.forward(x.clone()), conv2d(&conv, x)) < 1e-6);
}

/// Without autodiff the Winograd kernels keep a layer's transformed kernels from one call
/// to the next (`kernels::kernel_cache`): a second call gives the same output to the bit,
/// and a weight changed since (in place, or replaced) is never served the kernels made for
/// the old one, for each of the three transforms.
#[test]
fn kept_transformed_kernels_follow_the_weights() {
    let device = common::device();
    // (c_in, c_out, kernel, stride, padding, size): a residual block's 3×3, the PatchGAN's
    // 4×4 of stride 1 and its 4×4 of stride 2, each with enough channels and tiles for its
    // Winograd plan.
    for (c_in, c_out, kernel, stride, padding, size) in [
        (32, 32, 3, 1, 0, 18),
        (64, 64, 4, 1, 1, 18),
        (32, 32, 4, 2, 1, 34),
    ] {
        let name = format!("conv {c_in}→{c_out} k{kernel} s{stride} {size}²");
        // Without bias, so that doubling the weight doubles the output.
        let mut conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(false)
            .init(&device);
        let x = Tensor::<4>::random(
            [1, c_in, size, size],
            Distribution::Uniform(-1.0, 1.0),
            &device,
        );
        let first = conv2d(&conv, x.clone());
        assert!(
            relative_error(conv.forward(x.clone()), first.clone()) < 1e-5,
            "{name}: first call"
        );
        let again = conv2d(&conv, x.clone());
        assert_eq!(
            first.to_data().as_slice::<f32>().unwrap(),
            again.to_data().as_slice::<f32>().unwrap(),
            "{name}: a second call differs"
        );
        // Doubled (a tensor owned by the parameter alone, which Flex may scale in place).
        conv.weight = conv.weight.map(|weight| weight * 2.0);
        let doubled = conv2d(&conv, x.clone());
        assert!(
            relative_error(first.clone() * 2.0, doubled.clone()) < 1e-5,
            "{name}: the doubled weight's output is not twice the first"
        );
        assert!(
            relative_error(conv.forward(x.clone()), doubled) < 1e-5,
            "{name}: doubled weight"
        );
        // Replaced by fresh random values.
        conv.weight = conv
            .weight
            .map(|weight| weight.random_like(Distribution::Normal(0.0, 0.02)));
        assert!(
            relative_error(conv.forward(x.clone()), conv2d(&conv, x)) < 1e-5,
            "{name}: replaced weight"
        );
    }
}

/// The backward pass computes the input's and the weight's gradients in one operation when
/// both are needed (the Winograd layers transform the output gradient once for both), and
/// each alone otherwise: a frozen weight, an input without gradient. Each alone is the same,
/// to the bit, as its share of both, for a Winograd layer, a folded strided one and a
/// stride-1 one tap by tap.
#[test]
fn one_gradient_alone_is_its_share_of_both() {
    let device = common::device().autodiff();
    // (c_in, c_out, kernel, stride, padding, size)
    for (c_in, c_out, kernel, stride, padding, size) in [
        (32, 32, 3, 1, 1, 9),  // Winograd F(2×2, 3×3)
        (16, 32, 3, 2, 1, 12), // strided, taps folded
        (256, 16, 4, 1, 1, 7), // stride 1, a product per tap
    ] {
        let name = format!("conv {c_in}→{c_out} k{kernel} s{stride} {size}²");
        let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .init(&device);
        let input = Tensor::<4>::random(
            [2, c_in, size, size],
            Distribution::Uniform(-1.0, 1.0),
            &device,
        );
        let backward = |conv: &burn::nn::conv::Conv2d, input: Tensor<4>| {
            let y = conv2d(conv, input);
            (y.clone() * y).sum().backward()
        };
        let values = |tensor: Tensor<4>| tensor.to_data().try_to_vec::<f32>().unwrap();
        let both_input = input.clone().require_grad();
        let both = backward(&conv, both_input.clone());
        let weight_alone = backward(&conv, input.clone());
        let frozen = conv.clone().no_grad();
        let input_alone_input = input.require_grad();
        let input_alone = backward(&frozen, input_alone_input.clone());
        assert!(
            frozen.weight.grad(&input_alone).is_none(),
            "{name}: a frozen weight got a gradient"
        );
        // Compared to the bit (a message with the largest difference, not the values).
        let same = |alone: Tensor<4>, share: Tensor<4>, what: &str| {
            let (alone, share) = (values(alone), values(share));
            let difference = alone
                .iter()
                .zip(&share)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                alone == share,
                "{name}: the {what}'s gradient alone differs from its share of both by up to {difference}"
            );
        };
        same(
            conv.weight.grad(&weight_alone).expect("weight gradient"),
            conv.weight.grad(&both).expect("weight gradient"),
            "weight",
        );
        same(
            input_alone_input
                .grad(&input_alone)
                .expect("input gradient"),
            both_input.grad(&both).expect("input gradient"),
            "input",
        );
    }
}
