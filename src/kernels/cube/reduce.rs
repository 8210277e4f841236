//! Reductions within one cube, shared by the GPU kernels that give a cube to each plane or
//! channel.

use burn_cubecl::cubecl;
use burn_cubecl::cubecl::prelude::*;

/// The sum of `value` over the cube's threads (a power of two), through `shared` (one place
/// per thread), halving the active threads at each of the unrolled steps; every thread gets
/// the sum.
#[cube]
pub(super) fn cube_sum(shared: &mut Shared<[f32]>, value: f32, #[comptime] threads: usize) -> f32 {
    let unit = UNIT_POS as usize;
    shared[unit] = value;
    sync_cube();
    #[unroll]
    for step in 0..comptime!(threads.trailing_zeros() as usize) {
        let half = comptime!(threads >> (step + 1));
        if unit < half {
            let sum = shared[unit] + shared[unit + half];
            shared[unit] = sum;
        }
        sync_cube();
    }
    let total = shared[0];
    sync_cube();
    total
}
