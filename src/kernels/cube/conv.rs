//! Convolutions on CubeCL devices: Burn's (cubek's) kernels, with the bias added in the
//! convolution's own pass, the weight gradient's algorithm chosen here, and the bias's
//! gradient as one kernel.
//!
//! Burn's autodiff convolution asks its autotuner for the weight gradient among an implicit
//! GEMM (tensor cores), a convolution by the output gradient (`Direct`, three or four
//! launches) and an im2col product, which builds its columns with a slice assignment per
//! kernel tap: 52–102 launches for a 7×7 layer, 12–22 for a 3×3. Devices without
//! accelerated matrix products (where the GEMM candidates decline, as on Vulkan's software
//! driver) then pick between the last two by time alone; here they take `Direct`, so that a
//! training step's launches stay few. Devices with tensor cores keep the autotuner's choice.
//! The bias's gradient, which Burn computes as a transposition, a reshape (a copy for a
//! channels-last gradient) and a sum, is one kernel with a cube per channel.

use burn::backend::TensorMetadata;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;
use burn_cubecl::kernel::conv::{
    ConvStrategy, conv_data_backward, conv_forward, conv_weight_backward,
};
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;

use super::layout::{per_plane, plane_threads, readable};
use super::reduce::cube_sum;
use crate::kernels::conv::GemmGradConv;

impl GemmGradConv for CubeBackend {
    fn conv2d_gemm_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        forward(x, weight, None, options)
    }

    fn conv2d_gemm_grad_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        forward(x, weight, Some(bias), options)
    }

    fn conv2d_gemm_grad_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        conv_data_backward(grad, weight, x.shape(), options, ConvStrategy::default())
            .expect("the autotuned input gradient always has a candidate")
    }

    fn conv2d_gemm_grad_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let strategy = weight_grad_strategy(&x);
        let shape = weight.shape();
        conv_weight_backward(
            x.clone(),
            grad.clone(),
            shape.clone(),
            options.clone(),
            strategy,
        )
        .or_else(|_| conv_weight_backward(x, grad, shape, options, ConvStrategy::Direct))
        .expect("the direct weight gradient takes every convolution")
    }

    fn conv2d_gemm_grad_bias_backward(grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let grad = readable(grad);
        let channels = grad.shape().dims::<4>()[1];
        let output = empty_device_contiguous_dtype(
            grad.client.clone(),
            grad.device.clone(),
            [channels].into(),
            burn::tensor::DType::F32,
        );
        let (count, dim) = per_plane(&grad, channels);
        // SAFETY: every read lies within `grad`'s shape, every write within `output`'s
        // `channels` elements (cubes past the last channel return at once).
        unsafe {
            bias_grad_kernel::launch_unchecked(
                &grad.client,
                count,
                dim,
                grad.clone().into_tensor_arg(),
                output.clone().into_tensor_arg(),
                plane_threads(&grad) as usize,
            );
        }
        output
    }
}

/// Burn's autotuned convolution, with the bias in its pass.
fn forward(
    x: CubeTensor,
    weight: CubeTensor,
    bias: Option<CubeTensor>,
    options: ConvOptions<2>,
) -> CubeTensor {
    conv_forward(x, weight, bias, options, ConvStrategy::default())
        .expect("the autotuned convolution always has a candidate")
}

/// The weight gradient's algorithm on `x`'s device: the autotuner's choice where the device
/// multiplies matrices on tensor cores, else the convolution by the output gradient (see the
/// [module](self) documentation).
fn weight_grad_strategy(x: &CubeTensor) -> ConvStrategy {
    if x.client.features().matmul.cmma.is_empty() {
        ConvStrategy::Direct
    } else {
        ConvStrategy::default()
    }
}

/// One cube per channel: the sum of `grad` over its batch, rows and columns.
#[cube(launch_unchecked)]
fn bias_grad_kernel(grad: &Tensor<f32>, output: &mut Tensor<f32>, #[comptime] threads: usize) {
    let channel = CUBE_POS;
    if channel >= grad.shape(1) {
        terminate!();
    }
    let height = grad.shape(2);
    let width = grad.shape(3);
    let plane = height * width;
    let count = grad.shape(0) * plane;
    let mut sum = 0.0f32;
    let mut index = UNIT_POS as usize;
    while index < count {
        let batch = index / plane;
        let rest = index % plane;
        sum += grad[batch * grad.stride(0)
            + channel * grad.stride(1)
            + (rest / width) * grad.stride(2)
            + (rest % width) * grad.stride(3)];
        index += threads;
    }
    let mut shared = Shared::<[f32]>::new_slice(threads);
    let total = cube_sum(&mut shared, sum, threads);
    if UNIT_POS == 0 {
        output[channel] = total;
    }
}
