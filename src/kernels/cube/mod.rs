//! The GPU kernels: this crate's implementations of the kernels layer's operations for Burn's
//! CubeCL backend (`burn_cubecl::CubeBackend`, which serves wgpu and CUDA alike), written in
//! CubeCL and compiled by it for each runtime.
//!
//! Without Burn's `fusion` (which this crate leaves off: it computed wrong training steps in
//! Burn 0.22.1, `docs/backends.md`), every tensor operation on a CubeCL device is a kernel
//! launch of its own, and the operations that Burn composes from many element-wise passes
//! cost a launch each: an instance norm about 8 forward and 25 backward, a reflection pad
//! 12–16 and 28–34, LeakyReLU 3 and 6, an Adam step 13 per parameter. The kernels here run
//! each as one launch, forward and backward:
//!
//! | file | operation | launches (forward / backward) |
//! |---|---|---|
//! | `instance_norm` | instance norm with its activation, or with the residual block's addition | 1 / 1 |
//! | `activation` | ReLU, LeakyReLU, tanh | 1 / 1 |
//! | `mirror_pad` | reflection and replication padding | 1 / 1 |
//! | `adam` | the Adam update of one parameter and its two moments | 1 |
//!
//! **Layout.** Burn's CubeCL convolutions read their input channels-last (NHWC in memory)
//! and copy any other input into that layout first, a launch and a pass per layer; their
//! output is channels-last. The padding kernel therefore writes channels-last (the
//! convolution that follows reads it as it is), and the norm and activation kernels write in
//! their input's memory order (channels-last after a convolution), so no layer's input is
//! copied. Every kernel reads its inputs through their strides, whatever their layout.
//!
//! The convolutions themselves stay Burn's (cubek's implicit-GEMM and direct kernels, chosen
//! by autotuning).

mod activation;
mod adam;
mod conv;
mod instance_norm;
mod layout;
mod mirror_pad;
mod reduce;

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the CubeCL devices run this crate's kernels ([`set_enabled`]).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Whether CubeCL devices run this crate's GPU kernels (the default) or Burn's operations.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Turns this crate's GPU kernels off (Burn's composed operations run instead, as before
/// they existed) or back on, for every CubeCL device of the process.
pub(crate) fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}
