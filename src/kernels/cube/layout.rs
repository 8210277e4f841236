//! Output buffers in the layouts the GPU kernels write, and the launch shapes they use.

use burn::tensor::{DType, Shape};
use burn_cubecl::cubecl::prelude::{CubeCount, CubeDim};
use burn_cubecl::kernel::untile;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::ops::{permute, permute_nhwc_to_nchw};
use burn_cubecl::tensor::CubeTensor;

/// Threads of a kernel that gives one cube to each feature-map plane: enough to hide memory
/// latency, few enough for every device (lavapipe and Metal included).
const PLANE_THREADS: u32 = 256;

/// The largest cube count of one dimension that every runtime accepts (WebGPU's and Vulkan's
/// guaranteed minimum).
const MAX_COUNT: usize = 65_535;

/// `tensor` as a kernel can read it through its strides (un-tiled, if a matrix product left
/// it in storage tiles).
pub(super) fn readable(tensor: CubeTensor) -> CubeTensor {
    untile(tensor)
}

/// An uninitialised `f32` tensor of shape `[N, C, H, W]`, laid out channels-last (NHWC in
/// memory), on `reference`'s device: the layout Burn's CubeCL convolutions read without a
/// copy.
pub(super) fn empty_channels_last(reference: &CubeTensor, [n, c, h, w]: [usize; 4]) -> CubeTensor {
    let nhwc = empty_device_contiguous_dtype(
        reference.client.clone(),
        reference.device.clone(),
        Shape::new([n, h, w, c]),
        DType::F32,
    );
    permute_nhwc_to_nchw(nhwc)
}

/// The dimensions of `tensor` from the outermost in memory (largest stride) to the innermost.
/// Dimensions of size 1 go outermost, where their stride says nothing; ties keep the logical
/// order.
pub(super) fn memory_order(tensor: &CubeTensor) -> Vec<usize> {
    let shape = tensor.meta.shape();
    let strides = tensor.meta.strides();
    let mut order: Vec<usize> = (0..shape.len()).collect();
    order.sort_by_key(|&dim| {
        let unit = shape[dim] == 1;
        (!unit, std::cmp::Reverse(strides[dim]))
    });
    order
}

/// An uninitialised `f32` tensor of `reference`'s shape whose memory runs in `reference`'s
/// memory order (channels-last for a channels-last input), contiguous in that order.
pub(super) fn empty_like(reference: &CubeTensor) -> CubeTensor {
    let order = memory_order(reference);
    let shape = reference.meta.shape();
    let ordered = Shape::from(order.iter().map(|&dim| shape[dim]).collect::<Vec<_>>());
    let buffer = empty_device_contiguous_dtype(
        reference.client.clone(),
        reference.device.clone(),
        ordered,
        DType::F32,
    );
    let mut inverse = vec![0; order.len()];
    for (position, &dim) in order.iter().enumerate() {
        inverse[dim] = position;
    }
    permute(buffer, &inverse)
}

/// `tensor`'s view with its dimensions in `order` (no copy).
pub(super) fn permuted(tensor: CubeTensor, order: &[usize]) -> CubeTensor {
    permute(tensor, order)
}

/// The cube count and dimension of an element-wise kernel over `elements` values, one
/// thread each.
pub(super) fn elementwise(tensor: &CubeTensor, elements: usize) -> (CubeCount, CubeDim) {
    let cube_dim = CubeDim::new(&tensor.client, elements);
    let count =
        burn_cubecl::cubecl::calculate_cube_count_elemwise(&tensor.client, elements, cube_dim);
    (count, cube_dim)
}

/// The cube count and dimension of a kernel with one cube of [`plane_threads`] threads per
/// plane, for `planes` planes (cubes past the last plane return at once).
pub(super) fn per_plane(tensor: &CubeTensor, planes: usize) -> (CubeCount, CubeDim) {
    let threads = plane_threads(tensor);
    let x = planes.clamp(1, MAX_COUNT);
    let y = planes.div_ceil(x).max(1);
    (
        CubeCount::Static(x as u32, y as u32, 1),
        CubeDim::new_1d(threads),
    )
}

/// Threads per cube of the per-plane kernels: [`PLANE_THREADS`], or the device's limit if
/// lower, rounded down to a power of two (their reductions halve it).
pub(super) fn plane_threads(tensor: &CubeTensor) -> u32 {
    let limit = tensor.client.properties().hardware.max_units_per_cube;
    let threads = PLANE_THREADS.min(limit.max(1));
    1 << (31 - threads.leading_zeros())
}
