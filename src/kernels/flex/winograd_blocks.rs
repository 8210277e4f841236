//! What the Winograd kernels share: the geometry of a layer computed by 2×2 blocks of outputs
//! and the checks that choose it (`winograd`, F(2×2, 3×3); `winograd4x4`, F(2×2, 4×4) for
//! stride 1; `winograd_phases`, F(2×2, 2×2) on the phases of stride 2), and the forward pass
//! of the two 4×4 kernels, which multiplies the transformed kernels with the transformed
//! tiles place by place and transforms the products back into output blocks. Each kernel
//! brings its own transforms of the kernels and of the input.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use burn::tensor::DType;

use super::flex_tensor::{f32_slice, from_vec, zeros};
use super::gemm::{Shared, for_each_block, gemm};
use super::kernel_cache;
use super::spare::{recycle, spare};
use super::winograd::merge_columns;
use super::winograd_transform::TileScratch;

/// The geometry of one convolution computed by 2×2 blocks of outputs, one tile each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Blocks {
    pub(super) batch: usize,
    pub(super) c_in: usize,
    pub(super) c_out: usize,
    /// Zero padding above and to the left (below and to the right follows from `output`).
    pub(super) padding: [usize; 2],
    /// The unpadded input's height and width.
    pub(super) input: [usize; 2],
    pub(super) output: [usize; 2],
    /// Tiles per column and per row of one item: one per 2×2 block of outputs, the last
    /// reaching past the output when it is odd.
    pub(super) tiles: [usize; 2],
}

impl Blocks {
    /// The geometry of `conv2d(x, weight)` with `options` when it is an undilated,
    /// ungrouped `f32` convolution with a `kernel × kernel` kernel of stride `stride`, with
    /// at least `min_channels` input and output channels and `min_tiles` tiles; else `None`.
    pub(super) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
        [kernel, stride]: [usize; 2],
        [min_channels, min_tiles]: [usize; 2],
    ) -> Option<Self> {
        let [batch, c_in, in_h, in_w] = x.shape().dims();
        let [c_out, weight_c_in, k_h, k_w] = weight.shape().dims();
        let [(top, bottom), (left, right)] = options.padding;
        let (padded_h, padded_w) = (in_h + top + bottom, in_w + left + right);
        if [k_h, k_w] != [kernel, kernel]
            || weight_c_in != c_in
            || options.stride != [stride, stride]
            || options.dilation != [1, 1]
            || options.groups != 1
            || c_in < min_channels
            || c_out < min_channels
            || batch == 0
            || padded_h < kernel
            || padded_w < kernel
            || x.dtype() != DType::F32
            || weight.dtype() != DType::F32
        {
            return None;
        }
        let output = [
            (padded_h - kernel) / stride + 1,
            (padded_w - kernel) / stride + 1,
        ];
        let tiles = [output[0].div_ceil(2), output[1].div_ceil(2)];
        (tiles[0] * tiles[1] >= min_tiles).then_some(Self {
            batch,
            c_in,
            c_out,
            padding: [top, left],
            input: [in_h, in_w],
            output,
            tiles,
        })
    }

    pub(super) fn tile_count(&self) -> usize {
        self.tiles[0] * self.tiles[1]
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`, from the `P = M·M` places of
    /// `M×M` transformed tiles: `transformed_kernels(weight)` the transformed kernels
    /// `[P, c_out, inner]` (in a spare buffer at least as long; kept between inference
    /// passes under the name `transform`, see `kernels::kernel_cache`),
    /// `transformed_input(item)` one item's transformed tiles `[P, inner, tiles]` (a spare
    /// buffer, recycled here), and `output_transform` the 1-D `Aᵀ` back to 2×2 blocks. Each
    /// thread takes a block of output channels through the `P` products and the output
    /// transform.
    pub(super) fn forward<const M: usize, const P: usize>(
        &self,
        (x, weight): (FloatTensor<Flex>, FloatTensor<Flex>),
        (transform, transformed_kernels): (&'static str, impl FnOnce(&[f32]) -> Vec<f32>),
        inner: usize,
        transformed_input: impl Fn(&[f32]) -> Vec<f32>,
        output_transform: impl Fn([f32; M]) -> [f32; 2] + Copy + Sync,
    ) -> FloatTensor<Flex> {
        assert_eq!(P, M * M, "one place per element of a transformed tile");
        let weight = weight.to_contiguous();
        let kernels = kernel_cache::transformed(
            &weight,
            transform,
            P * self.c_out * inner,
            transformed_kernels,
        );
        let x = x.to_contiguous();
        let x = f32_slice(&x);
        let [in_h, in_w] = self.input;
        let [out_h, out_w] = self.output;
        let (input_len, output_len) = (self.c_in * in_h * in_w, self.c_out * out_h * out_w);
        let tiles = self.tile_count();
        let mut output = zeros(self.batch * output_len);
        let mut products = spare(P * self.c_out * tiles);
        for (item, output) in output.chunks_exact_mut(output_len).enumerate() {
            let transformed_buffer = transformed_input(&x[item * input_len..][..input_len]);
            let (target, places) = (Shared::new(output), Shared::new(&mut products));
            let (kernels, transformed) = (Shared::of(&kernels), Shared::of(&transformed_buffer));
            let work = P * self.c_out * inner * tiles;
            for_each_block(self.c_out, work, |first, channels| {
                for place in 0..P {
                    // SAFETY: dst is this block's rows of place `place` of the products
                    // ([P, c_out, tiles]); lhs its rows of the kernels ([P, c_out, inner]);
                    // rhs the place's tiles ([P, inner, tiles]). Blocks are disjoint.
                    unsafe {
                        gemm(
                            [channels, tiles, inner],
                            (places.at((place * self.c_out + first) * tiles), 1, tiles),
                            false,
                            (kernels.at((place * self.c_out + first) * inner), 1, inner),
                            (transformed.at(place * inner * tiles), 1, tiles),
                        );
                    }
                }
                let mut scratch = TileScratch::default();
                for channel in first..first + channels {
                    // SAFETY: the block's own channel of the output.
                    let plane = unsafe {
                        std::slice::from_raw_parts_mut(
                            target.at(channel * out_h * out_w),
                            out_h * out_w,
                        )
                    };
                    // SAFETY: the block's own channel of the products, written above on
                    // this thread.
                    unsafe {
                        self.output_blocks::<M, P>(
                            places,
                            channel,
                            plane,
                            &mut scratch,
                            output_transform,
                        )
                    };
                }
            });
            recycle([transformed_buffer]);
        }
        recycle([products]);
        kernels.recycle();
        from_vec(output, [self.batch, self.c_out, out_h, out_w])
    }

    /// `Y = Aᵀ M A` of every tile of output channel `channel`, from the products
    /// (`[P, c_out, tiles]` at `products`), written onto its output plane (the blocks
    /// cropped at an odd edge).
    ///
    /// # Safety
    /// `products` must point at the products of this geometry, and no other thread may
    /// write channel `channel` of them meanwhile.
    unsafe fn output_blocks<const M: usize, const P: usize>(
        &self,
        products: Shared,
        channel: usize,
        plane: &mut [f32],
        scratch: &mut TileScratch,
        output_transform: impl Fn([f32; M]) -> [f32; 2] + Copy,
    ) {
        let [out_h, out_w] = self.output;
        let [tiles_h, tiles_w] = self.tiles;
        let tiles = self.tile_count();
        for tile_row in 0..tiles_h {
            let input = std::array::from_fn(|a| {
                std::array::from_fn(|b| {
                    let start = ((a * M + b) * self.c_out + channel) * tiles + tile_row * tiles_w;
                    // SAFETY: a row of tiles of this channel in place (a, b) (the contract).
                    unsafe { std::slice::from_raw_parts(products.at(start), tiles_w) }
                })
            });
            let values = scratch.transform::<M, 2, 4>(output_transform, input);
            for r in 0..2 {
                let y = 2 * tile_row + r;
                if y < out_h {
                    let even = &values[(r * 2) * tiles_w..][..tiles_w];
                    let odd = &values[(r * 2 + 1) * tiles_w..][..tiles_w];
                    merge_columns([even, odd], 0, &mut plane[y * out_w..][..out_w]);
                }
            }
        }
    }
}
