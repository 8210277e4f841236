//! The CPU kernels: this crate's implementations of the kernels layer's operations for Burn's
//! Flex backend, and the helpers they share.
//!
//! | file | what |
//! |---|---|
//! | `conv` | [`GemmGradConv`](super::conv::GemmGradConv): the plan per layer (`winograd`, `winograd4x4`, `winograd_phases`, on the block geometry of `winograd_blocks` and the transforms of `winograd_transform`, else `tap_conv`) |
//! | `instance_norm`, `activation`, `mirror_pad`, `pool3x3`, `adam` | the other operations, one pass each on all threads |
//! | `gemm` | the matrix product and thread helpers the kernels share |
//! | `flex_tensor` | `f32` access to Flex tensors, buffers built chunk by chunk on all threads |
//! | `spare` | the scratch buffers kept from call to call, one pool per thread |
//! | `kernel_cache` | the Winograd kernels' transformed weights kept between inference passes |

pub(crate) mod activation;
pub(crate) mod adam;
mod conv;
pub(crate) mod flex_tensor;
mod gemm;
mod instance_norm;
pub(crate) mod kernel_cache;
mod mirror_pad;
mod pool3x3;
mod spare;
mod tap_conv;
mod winograd;
mod winograd4x4;
mod winograd_blocks;
mod winograd_phases;
mod winograd_transform;
