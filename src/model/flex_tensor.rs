//! Plain `f32` access to Flex tensors, for this crate's Flex kernels (`tap_conv`, mirror
//! padding, instance norm).

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use burn::tensor::TensorData;

/// The `f32` elements of a contiguous tensor (the kernels check the dtype and make their
/// inputs contiguous first).
pub(crate) fn f32_slice(tensor: &FloatTensor<Flex>) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor (checked by the caller)")
}

/// A Flex tensor owning `values` (no copy).
pub(crate) fn from_vec(values: Vec<f32>, shape: [usize; 4]) -> FloatTensor<Flex> {
    <FloatTensor<Flex>>::from_data(TensorData::new(values, shape))
}
