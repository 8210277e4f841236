//! The kernels layer: every operation that this crate runs with kernels of its own, behind
//! one API that the networks and the optimizer call.
//!
//! | operation | what it computes | this crate's kernel (Flex) |
//! |---|---|---|
//! | [`conv2d`], [`conv_transpose2d`] | `Conv2d::forward`, `ConvTranspose2d::forward` | Winograd F(2×2, 3×3), F(2×2, 4×4) (forward), F(2×2, 2×2) on a stride-2 layer's phases (forward) or one product per tap, forward and both gradients ([`conv`]) |
//! | [`instance_norm()`], [`instance_norm_activated`] | `InstanceNorm::forward` (then an activation) | one pass for statistics, one for the output; textbook backward ([`instance_norm`](mod@instance_norm)) |
//! | [`activate`], [`leaky_relu`] | `relu`, `leaky_relu` | one pass on all threads, forward and backward ([`activation`]) |
//! | [`mirror_pad2d`] | `Tensor::pad` with `Reflect` / `Edge` | two copies ([`mirror_pad`]) |
//! | [`box_average3x3`], [`max_pool3x3`] | `avg_pool2d(3, 1, 1, count_include_pad=False)`, `max_pool2d(3, s, p)` (inference) | one pass per plane ([`pool3x3`]) |
//! | the Adam update (the training step's optimizer) | `burn::optim::Adam` with PyTorch's epsilon | one pass per parameter |
//! | [`on_pool_thread`] | runs a whole pass where it is called | on a thread of the kernels' pool, so that each parallel region is not a hand-off between threads ([`threads`]) |
//!
//! Each operation is a Burn backend extension (`#[backend_extension]`): a trait whose
//! methods a backend implements with its own kernels, with an autodiff implementation that
//! records the backward pass. Which device runs which operation with this crate's kernel is
//! decided in one place, `registry::has_kernel`; everywhere else the operation is Burn's own,
//! and every backend runs it. Results agree with Burn's to the bit (activations, padding,
//! Adam) or within `1e-5` (convolutions, instance norm; `tests/conv.rs`).
//!
//! The CPU kernels share their matrix product and thread helpers (`gemm`), their `f32`
//! access to Flex tensors (`flex_tensor`), the scratch buffers they keep from call to call
//! (`spare`), the transformed kernels kept between inference passes (`kernel_cache`) and the run-time choice of AVX-512 / AVX2 code for their element-wise loops
//! (`simd`).

pub mod activation;
pub(crate) mod adam;
pub mod conv;
mod conv_backward;
mod conv_weight_grad;
#[cfg(feature = "flex")]
pub(crate) mod flex_tensor;
#[cfg(feature = "flex")]
mod gemm;
pub mod instance_norm;
#[cfg(feature = "flex")]
mod kernel_cache;
pub mod mirror_pad;
pub mod pool3x3;
mod registry;
#[cfg(feature = "flex")]
mod simd;
#[cfg(feature = "flex")]
mod spare;
#[cfg(feature = "flex")]
mod tap_conv;
pub mod threads;
#[cfg(feature = "flex")]
mod winograd;
#[cfg(feature = "flex")]
mod winograd4x4;
#[cfg(feature = "flex")]
mod winograd_blocks;
#[cfg(feature = "flex")]
mod winograd_phases;
#[cfg(feature = "flex")]
mod winograd_transform;

pub use activation::{Activation, activate, leaky_relu};
pub(crate) use adam::FusedAdam;
pub use conv::{conv_transpose2d, conv2d};
pub use instance_norm::{instance_norm, instance_norm_activated};
pub use mirror_pad::{Mirror, mirror_pad2d};
pub use pool3x3::{box_average3x3, max_pool3x3};
pub use threads::on_pool_thread;
