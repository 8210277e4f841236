//! The Adam update on CubeCL devices: one launch per parameter, for the parameter and both
//! moments, where Burn's `Adam` runs 13 element-wise launches (9 on the first step).
//!
//! The arithmetic is the CPU kernel's and Burn's, term by term in the same order
//! ([`AdamTerms`]): `m = m·β₁ + g·(1 − β₁)`, `v = v·β₂ + g²·(1 − β₂)`,
//! `p −= lr · m·c / (sqrt(v) + ε')`.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

use super::activation::strided_offset;
use super::layout::{
    elementwise, empty_channels_last, empty_like, memory_order, permuted, readable,
};
use crate::kernels::adam::{AdamTerms, AdamUpdate};

impl AdamUpdate for CubeBackend {
    fn adam_update(
        tensor: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        lr: f64,
        betas_epsilon: [f64; 3],
        time: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let terms = AdamTerms::new(lr, betas_epsilon, time);
        let [tensor, grad, moment_1, moment_2] = [tensor, grad, moment_1, moment_2].map(readable);
        // A convolution's weight comes out channels-last (`[c_out, k, k, c_in]` in memory):
        // the layout Burn's convolutions read it in, which they would otherwise copy it into
        // at every use. Other parameters keep their layout.
        let outputs = [&tensor, &tensor, &tensor].map(|tensor| match *tensor.shape().as_slice() {
            [c_out, c_in, k_h, k_w] => empty_channels_last(tensor, [c_out, c_in, k_h, k_w]),
            _ => empty_like(tensor),
        });
        let order = memory_order(&outputs[0]);
        let rank = order.len();
        let (count, dim) = elementwise(&tensor, tensor.shape().num_elements());
        let [new_tensor, new_moment_1, new_moment_2] = outputs;
        // SAFETY: the kernel reads and writes within the shape it is given, threads past the
        // last element returning at once.
        unsafe {
            adam_kernel::launch_unchecked(
                &tensor.client,
                count,
                dim,
                permuted(tensor.clone(), &order).into_tensor_arg(),
                permuted(grad, &order).into_tensor_arg(),
                permuted(moment_1, &order).into_tensor_arg(),
                permuted(moment_2, &order).into_tensor_arg(),
                permuted(new_tensor.clone(), &order).into_tensor_arg(),
                permuted(new_moment_1.clone(), &order).into_tensor_arg(),
                permuted(new_moment_2.clone(), &order).into_tensor_arg(),
                terms.lr,
                terms.beta_1,
                terms.beta_2,
                terms.factor_1,
                terms.factor_2,
                terms.combined_factor,
                terms.epsilon,
                rank,
            );
        }
        (new_tensor, new_moment_1, new_moment_2)
    }
}

/// One thread per element: the parameter and its moments after one Adam step. The outputs are
/// contiguous (their dimensions given in memory order); the inputs are read through their
/// strides.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
fn adam_kernel(
    tensor: &Tensor<f32>,
    grad: &Tensor<f32>,
    moment_1: &Tensor<f32>,
    moment_2: &Tensor<f32>,
    new_tensor: &mut Tensor<f32>,
    new_moment_1: &mut Tensor<f32>,
    new_moment_2: &mut Tensor<f32>,
    lr: f32,
    beta_1: f32,
    beta_2: f32,
    factor_1: f32,
    factor_2: f32,
    combined_factor: f32,
    epsilon: f32,
    #[comptime] rank: usize,
) {
    let index = ABSOLUTE_POS;
    if index >= new_tensor.len() {
        terminate!();
    }
    let g = grad[strided_offset(grad, grad, index, rank)];
    let m = moment_1[strided_offset(moment_1, grad, index, rank)] * beta_1 + g * factor_1;
    let v = moment_2[strided_offset(moment_2, grad, index, rank)] * beta_2 + g * g * factor_2;
    let update = m * combined_factor / (f32::sqrt(v) + epsilon);
    new_tensor[index] = tensor[strided_offset(tensor, grad, index, rank)] - update * lr;
    new_moment_1[index] = m;
    new_moment_2[index] = v;
}
