//! 4×4 convolutions of stride 1 on Flex by Winograd's minimal filtering, F(2×2, 4×4): the
//! forward pass of the PatchGAN discriminator's stride-1 layer (`ndf·4 → ndf·8`, 256 → 512
//! channels in the default model), its largest by far.
//!
//! A 2×2 block of outputs of one input and one output channel is computed from the 5×5
//! tile of the (zero-padded) input under it as
//!
//! ```text
//! Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//! ```
//!
//! with `g` the 4×4 kernel and the constant matrices of the interpolation points
//! `0, 1, −1, ½, ∞` written out in [`input_transform`], [`kernel_transform`] and
//! [`output_transform`] (Lavin & Gray's construction; `scripts/winograd_f2x4.py` derives
//! them and measures their rounding: of the point sets it tries, these round least, their
//! worst error over 200 tiles of 256 channels 1.7× the direct sum's, against 2.7× for
//! `0, 1, −1, 2`). Summed over input channels, each of the 25 places of the
//! transformed tile is one matrix product `M[place] = U[place] · V[place]`, `U = [c_out, c_in]`
//! and `V = [c_in, tiles]`: 25 multiply-adds per 4 outputs and channel pair where the direct
//! convolution has 64, 2.56× fewer.
//!
//! Only the forward pass runs this way: the gradients of the layer stay the tap-by-tap
//! products of `kernels::tap_conv`, exact for any forward pass. The forward pass's rounding
//! differs from the direct convolution's by about as much as two summation orders of the
//! direct one (`tests/conv.rs` holds it to `1e-5` of Burn's convolution, as every kernel).
//!
//! Used on Flex for undilated, ungrouped `f32` 4×4 convolutions of stride 1 with at least
//! [`MIN_CHANNELS`] input and output channels on maps of at least [`MIN_TILES`] tiles
//! (the discriminator's stride-1 layer from 128² inputs on; below that, the transforms of
//! the 2 M kernel values outweigh the products they save). Each thread takes a block of
//! output channels and runs the 25 products and the output transform of its block; the
//! input and kernel transforms run by channels on all threads.

use burn::backend::Flex;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use super::winograd::{Places, split_columns};
use super::winograd_blocks::Blocks;
use super::winograd_transform::{Value, transform_into};

/// Places of a transformed 5×5 tile.
const PLACES: usize = 25;

/// Fewer input or output channels than this run tap by tap: the transforms would cost
/// more than the products save.
const MIN_CHANNELS: usize = 64;

/// Maps of fewer 2×2 tiles than this (outputs under 15×15) run tap by tap: the kernels'
/// transform (`c_out·c_in` kernels, every call) costs about as much as the products save.
const MIN_TILES: usize = 64;

/// `Bᵀ d` for `Bᵀ = [[½, −1, −½, 1, 0], [0, −½, ½, 1, 0], [0, ½, −3⁄2, 1, 0], [0, −1, 0, 1, 0],
/// [0, ½, −1, −½, 1]]`, the input tiles' transform (`Bᵀ d B`).
#[inline(always)]
pub(super) fn input_transform<T: Value>([d0, d1, d2, d3, d4]: [T; 5]) -> [T; 5] {
    [
        (d0 - d2) * 0.5 - d1 + d3,
        (d2 - d1) * 0.5 + d3,
        d1 * 0.5 - d2 * 1.5 + d3,
        d3 - d1,
        (d1 - d3) * 0.5 - d2 + d4,
    ]
}

/// `G g` for `G = [[2, 0, 0, 0], [1, 1, 1, 1], [−⅓, ⅓, −⅓, ⅓], [−8⁄3, −4⁄3, −⅔, −⅓],
/// [0, 0, 0, 1]]`, the kernels' transform (`G g Gᵀ`).
#[inline(always)]
pub(super) fn kernel_transform<T: Value>([g0, g1, g2, g3]: [T; 4]) -> [T; 5] {
    const THIRD: f32 = 1.0 / 3.0;
    [
        g0 * 2.0,
        g0 + g1 + g2 + g3,
        (g1 + g3 - g0 - g2) * THIRD,
        -(g0 * 8.0 + g1 * 4.0 + g2 * 2.0 + g3) * THIRD,
        g3,
    ]
}

/// `Aᵀ m` for `Aᵀ = [[1, 1, 1, 1, 0], [0, 1, −1, ½, 1]]`, the output blocks' transform
/// (`Aᵀ M A`).
#[inline(always)]
pub(super) fn output_transform<T: Value>([m0, m1, m2, m3, m4]: [T; 5]) -> [T; 2] {
    [m0 + m1 + m2 + m3, m1 - m2 + m3 * 0.5 + m4]
}

/// The geometry of one 4×4 convolution of stride 1 computed tile by tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Winograd4x4(Blocks);

impl Winograd4x4 {
    /// The plan for `conv2d(x, weight)` with `options`, or `None` when the layer is not an
    /// undilated, ungrouped `f32` 4×4 convolution of stride 1 with at least
    /// [`MIN_CHANNELS`] input and output channels and [`MIN_TILES`] tiles.
    pub(crate) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        Blocks::plan(x, weight, options, [4, 1], [MIN_CHANNELS, MIN_TILES]).map(Self)
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`.
    pub(crate) fn forward(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        self.0.forward::<5, PLACES>(
            (x, weight),
            ("F(2×2, 4×4)", |weight| self.transformed_kernels(weight)),
            self.0.c_in,
            |x| self.transformed_input(x),
            output_transform,
        )
    }

    /// `U[place, c_out, c_in] = (G g Gᵀ)[place]` of every kernel `g = weight[c_out, c_in]`
    /// (in a spare buffer of this thread's, at least as long).
    fn transformed_kernels(&self, weight: &[f32]) -> Vec<f32> {
        let (c_in, c_out) = (self.0.c_in, self.0.c_out);
        let (buffer, places) = Places::<PLACES>::new(c_out, c_in);
        (0..c_out).into_par_iter().for_each_init(
            || vec![0.0f32; 16 * c_in],
            |taps, channel| {
                // The output channel's kernels tap by tap, [16, c_in], then transformed.
                let kernels = weight[channel * c_in * 16..][..c_in * 16].chunks_exact(16);
                for (c, kernel) in kernels.enumerate() {
                    for (tap, &value) in kernel.iter().enumerate() {
                        taps[tap * c_in + c] = value;
                    }
                }
                let input = std::array::from_fn(|i| {
                    std::array::from_fn(|j| &taps[(i * 4 + j) * c_in..][..c_in])
                });
                // SAFETY: this output channel's row of every place, written by this channel
                // only.
                let out = unsafe { places.slices(channel, 0, c_in) };
                transform_into::<4, 5, PLACES>(kernel_transform, input, out);
            },
        );
        buffer
    }

    /// `V[place, c_in, tile] = (Bᵀ d B)[place]` of every 5×5 tile `d` of one item's
    /// zero-padded input (in a spare buffer of this thread's, at least as long).
    fn transformed_input(&self, x: &[f32]) -> Vec<f32> {
        let [in_h, in_w] = self.0.input;
        let [top, left] = self.0.padding;
        let [tiles_h, tiles_w] = self.0.tiles;
        let tiles = self.0.tile_count();
        // A padded row split into its even and odd columns: tile `tx` reads columns
        // `2tx..2tx + 5`, even places `tx..tx + 3` and odd places `tx..tx + 2`.
        let half = tiles_w + 2;
        let (buffer, places) = Places::<PLACES>::new(self.0.c_in, tiles);
        (0..self.0.c_in).into_par_iter().for_each_init(
            || vec![0.0f32; 5 * 2 * half],
            |split_rows, channel| {
                let plane = &x[channel * in_h * in_w..][..in_h * in_w];
                for tile_row in 0..tiles_h {
                    // The tile row's five padded rows (zero where they are padding).
                    split_rows.fill(0.0);
                    for (r, split) in split_rows.chunks_exact_mut(2 * half).enumerate() {
                        let y = (2 * tile_row + r).checked_sub(top).filter(|&y| y < in_h);
                        let Some(y) = y else { continue };
                        let (even, odd) = split.split_at_mut(half);
                        split_columns(&plane[y * in_w..][..in_w], left, [even, odd]);
                    }
                    let input = std::array::from_fn(|r| {
                        std::array::from_fn(|s| {
                            &split_rows[(r * 2 + s % 2) * half + s / 2..][..tiles_w]
                        })
                    });
                    // SAFETY: this channel's row of tiles in every place, written by this
                    // channel only.
                    let out = unsafe { places.slices(channel, tile_row * tiles_w, tiles_w) };
                    transform_into::<5, 5, PLACES>(input_transform, input, out);
                }
            },
        );
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Aᵀ[(G g) ⊙ (Bᵀ d)]` is the correlation of `d` (5 values) with `g` (4), in 1-D and
    /// hence, the transforms being separable, in 2-D.
    #[test]
    fn the_matrices_compute_a_correlation() {
        let g = [0.3f32, -1.2, 0.7, 2.0];
        let d = [1.0f32, -0.5, 2.5, 0.25, -3.0];
        let (kernel, tile) = (kernel_transform(g), input_transform(d));
        let product: [f32; 5] = std::array::from_fn(|i| kernel[i] * tile[i]);
        let y = output_transform(product);
        for (i, &value) in y.iter().enumerate() {
            let expected: f32 = (0..4).map(|l| g[l] * d[i + l]).sum();
            assert!(
                (value - expected).abs() < 1e-5,
                "output {i}: {value} against {expected}"
            );
        }
    }
}
