//! The one place that decides, per operation and per device, whether this crate's kernel
//! runs or Burn's own operations do.
//!
//! Every operation of the kernels layer ([`conv2d`](super::conv2d),
//! [`instance_norm_activated`](super::instance_norm_activated), [`activate`](super::activate),
//! [`mirror_pad2d`](super::mirror_pad2d), the fused Adam update) asks [`has_kernel`] before
//! it hands its tensors to its backend extension; where the answer is no, it runs Burn's
//! operations, which every backend has. Adding a kernel for another backend is one
//! implementation (the extension trait implemented for that backend, and the backend named
//! in the trait's `#[backend_extension(...)]` list) plus one registration here.

use burn::prelude::Device;

/// The operations that have kernels of this crate on some backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Convolutions with their gradients ([`GemmGradConv`](super::conv::GemmGradConv)).
    Conv,
    /// Convolutions with the bias added in the convolution's own pass
    /// ([`GemmGradConv::conv2d_gemm_grad_biased`](super::conv::GemmGradConv::conv2d_gemm_grad_biased)).
    ConvBiased,
    /// Transposed convolutions with their gradients ([`GemmGradConv`](super::conv::GemmGradConv)).
    ConvTranspose,
    /// Instance normalisation with its activation ([`InstanceNorm2d`](super::instance_norm::InstanceNorm2d)).
    InstanceNorm,
    /// Instance normalisation with the residual block's addition fused in
    /// ([`InstanceNorm2d::instance_norm2d_residual`](super::instance_norm::InstanceNorm2d::instance_norm2d_residual)).
    InstanceNormResidual,
    /// ReLU and LeakyReLU ([`Activate`](super::activation::Activate)).
    Activation,
    /// Tanh ([`Activate`](super::activation::Activate)).
    Tanh,
    /// Reflection and replication padding ([`MirrorPad`](super::mirror_pad::MirrorPad)).
    MirrorPad,
    /// The Adam update of one parameter ([`AdamUpdate`](super::adam::AdamUpdate)).
    AdamUpdate,
    /// 3×3 average and max pooling of inference ([`Pool3x3`](super::pool3x3::Pool3x3)).
    Pool3x3,
    /// Whole passes moved onto a thread of the kernels' thread pool
    /// ([`on_pool_thread`](super::on_pool_thread)).
    PoolThread,
}

/// The backends that have kernels of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KernelBackend {
    /// Burn's pure-Rust CPU backend.
    #[cfg(feature = "flex")]
    Flex,
    /// Burn's CubeCL backend: wgpu (Vulkan, Metal, DX12) and CUDA.
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    Cube,
}

impl KernelBackend {
    /// The backend `device` (or the device an autodiff device wraps) runs on, if it has
    /// kernels of this crate.
    fn of(device: &Device) -> Option<Self> {
        match device.clone().inner().as_dispatch() {
            #[cfg(feature = "flex")]
            burn::backend::DispatchDevice::Flex(_) => Some(KernelBackend::Flex),
            #[cfg(any(feature = "wgpu", feature = "cuda"))]
            burn::backend::DispatchDevice::Cube(_) if super::cube::enabled() => {
                Some(KernelBackend::Cube)
            }
            _ => None,
        }
    }

    /// The registrations: which operations this backend runs with this crate's kernels.
    fn runs(self, op: Op) -> bool {
        let _ = op;
        match self {
            #[cfg(feature = "flex")]
            KernelBackend::Flex => matches!(
                op,
                Op::Conv
                    | Op::ConvTranspose
                    | Op::InstanceNorm
                    | Op::Activation
                    | Op::MirrorPad
                    | Op::AdamUpdate
                    | Op::Pool3x3
                    | Op::PoolThread
            ),
            // The convolutions are Burn's (cubek's), with the weight gradient and the bias's
            // chosen here; transposed convolutions are Burn's as they are; the kernels of
            // `kernels::cube` run what Burn composes from many element-wise operations.
            #[cfg(any(feature = "wgpu", feature = "cuda"))]
            KernelBackend::Cube => matches!(
                op,
                Op::Conv
                    | Op::ConvBiased
                    | Op::InstanceNorm
                    | Op::InstanceNormResidual
                    | Op::Activation
                    | Op::Tanh
                    | Op::MirrorPad
                    | Op::AdamUpdate
            ),
        }
    }
}

/// Whether `op` runs on `device` with this crate's kernel (otherwise with Burn's
/// operations).
pub(crate) fn has_kernel(op: Op, device: &Device) -> bool {
    KernelBackend::of(device).is_some_and(|backend| backend.runs(op))
}
