//! The kernels layer: every operation that this crate runs with kernels of its own, behind
//! one API that the networks and the optimizer call, with a room for each world of kernels:
//! `flex/` (the CPU, Burn's Flex backend) and `cube/` (GPUs, Burn's CubeCL backend, which
//! serves wgpu and CUDA alike).
//!
//! | operation | what it computes | CPU kernel (`flex/`) | GPU kernel (`cube/`) |
//! |---|---|---|---|
//! | [`conv2d`] | `Conv2d::forward` | Winograd F(2×2, 3×3), F(2×2, 4×4) (forward), F(2×2, 2×2) on a stride-2 layer's phases (forward) or one product per tap, forward and both gradients ([`conv`]) | Burn's (cubek's) autotuned convolution with the bias in its pass; the weight gradient's algorithm chosen for few launches; the bias's gradient in one launch |
//! | [`conv_transpose2d`] | `ConvTranspose2d::forward` | one product per tap, forward and both gradients | Burn's |
//! | [`instance_norm()`], [`instance_norm_activated`], [`instance_norm_residual`] | `InstanceNorm::forward` (then an activation, or plus the residual) | one pass for statistics, one for the output; textbook backward ([`instance_norm`](mod@instance_norm)) | one launch forward, one backward, a cube per plane |
//! | [`activate`], [`leaky_relu`] | `relu`, `leaky_relu`, `tanh` | one pass on all threads, forward and backward (ReLU and LeakyReLU; tanh is Burn's) ([`activation`]) | one launch forward, one backward |
//! | [`mirror_pad2d`] | `Tensor::pad` with `Reflect` / `Edge` | two copies ([`mirror_pad`]) | one launch forward (written channels-last, as the next convolution reads it), one backward |
//! | [`box_average3x3`], [`max_pool3x3`] | `avg_pool2d(3, 1, 1, count_include_pad=False)`, `max_pool2d(3, s, p)` (inference) | one pass per plane ([`pool3x3`]) | Burn's |
//! | the Adam update (the training step's optimizer) | `burn::optim::Adam` with PyTorch's epsilon | one pass per parameter | one launch per parameter (convolution weights written channels-last) |
//! | [`on_pool_thread`] | runs a whole pass where it is called | on a thread of the kernels' pool, so that each parallel region is not a hand-off between threads ([`threads`]) | — |
//!
//! Each operation is a Burn backend extension (`#[backend_extension]`): a trait whose
//! methods a backend implements with its own kernels, with an autodiff implementation that
//! records the backward pass. Which device runs which operation with this crate's kernel is
//! decided in one place, `registry::has_kernel`; everywhere else the operation is Burn's own,
//! and every backend runs it. On the CPU, results agree with Burn's to the bit (activations,
//! padding, Adam) or within `1e-5` (convolutions, instance norm; `tests/conv.rs`); on a GPU,
//! every kernel and a whole training step agree with the CPU's within `1e-5`
//! (`tests/backend_gradients.rs`, on Vulkan's software driver in CI).
//!
//! On a GPU each operation is a kernel launch, and at these networks' sizes the launches,
//! more than the arithmetic, decide the speed: `launches::LaunchCounter` counts them, and
//! `set_gpu_kernels` turns the GPU kernels off to compare with Burn's own operations (both in
//! builds with `wgpu` or `cuda`; `docs/benchmarks.md`).
//!
//! The CPU kernels share their matrix product and thread helpers (`flex::gemm`), their `f32`
//! access to Flex tensors (`flex_tensor`), the scratch buffers they keep from call to call
//! (`spare`) and the transformed kernels kept between inference passes (`kernel_cache`); the
//! run-time choice of AVX-512 / AVX2 code for element-wise loops (`simd`) serves them and the
//! JPEG decoder (`data::jpeg`); the GPU
//! kernels their output layouts and launch shapes (`cube::layout`) and a cube's reduction
//! (`cube::reduce`).

pub mod activation;
pub(crate) mod adam;
pub mod conv;
mod conv_backward;
mod conv_weight_grad;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub(crate) mod cube;
#[cfg(feature = "flex")]
pub(crate) mod flex;
pub mod instance_norm;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod launches;
pub mod mirror_pad;
pub mod pool3x3;
mod registry;
pub(crate) mod simd;
pub mod threads;

pub use activation::{Activation, activate, leaky_relu};
pub(crate) use adam::FusedAdam;
pub use conv::{conv_transpose2d, conv2d};
pub use instance_norm::{instance_norm, instance_norm_activated, instance_norm_residual};
pub use mirror_pad::{Mirror, mirror_pad2d};
pub use pool3x3::{box_average3x3, max_pool3x3};
pub use threads::on_pool_thread;

/// Whether GPU devices (wgpu, CUDA) run this crate's GPU kernels (`true`, the default) or
/// Burn's own composed operations, as before those kernels existed: for comparing the two
/// (results, speed, [launches](launches::LaunchCounter)) in one process. It applies to every
/// GPU device of the process from the next operation on; switch it between passes, not
/// while an autodiff graph recorded with the other setting is still to be differentiated.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn set_gpu_kernels(enabled: bool) {
    cube::set_enabled(enabled);
}
