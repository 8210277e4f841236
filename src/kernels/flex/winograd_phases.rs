//! 4×4 convolutions of stride 2 on Flex as 2×2 convolutions of stride 1 on the input's four
//! phases, each by Winograd's minimal filtering F(2×2, 2×2): the forward pass of the PatchGAN
//! discriminator's strided layers (`ndf → ndf·2 → ndf·4`, 64 → 128 → 256 channels in the
//! default model) and of the U-Net's encoder.
//!
//! **Phases.** Output `y[o] = Σ_k g[k] · x[2o + k]` (1-D, `x` zero-padded, `k` in `0..4`) splits
//! by the parity `a` of the tap, `k = 2k' + a`, into `Σ_a Σ_k' g[2k' + a] · x_a[o + k']` with
//! `x_a[m] = x[2m + a]`: two taps of stride 1 on each phase of the input. In 2-D the four
//! phases `(a, b)` of the `c_in` input channels are `4·c_in` channels of a 2×2 convolution of
//! stride 1, phase `(a, b)`'s kernel of channel pair `(o, c)` being
//! `weight[o, c, 2k' + a, 2l' + b]`.
//!
//! **F(2×2, 2×2).** A 2×2 block of outputs of such a convolution comes from the 3×3 tile
//! under it as `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, with the points `0, 1, ∞`:
//!
//! ```text
//! Bᵀ = [[1, −1, 0], [0, 1, 0], [0, −1, 1]]    G = [[1, 0], [1, 1], [0, 1]]    Aᵀ = [[1, 1, 0], [0, 1, 1]]
//! ```
//!
//! Summed over the `4·c_in` phase channels, each of the 9 places of the transformed tile is
//! one matrix product `M[place] = U[place] · V[place]`: 9 multiply-adds per 2×2 block and
//! phase channel where the direct convolution has 16, 1.78× fewer. The transforms only add
//! and subtract (no scaling), so they round as little as any order of the direct sum
//! (`tests/conv.rs` holds the layer to `1e-5` of Burn's convolution, as every kernel).
//!
//! The input transform reads the padded input's rows `4·ty .. 4·ty + 6` of a row of tiles
//! `ty` and splits them by column modulo 4; no phased copy of the input is made.
//!
//! Only the forward pass runs this way: the gradients of the layer stay the tap-by-tap
//! products of `kernels::tap_conv`, exact for any forward pass. Used on Flex for undilated,
//! ungrouped `f32` 4×4 convolutions of stride 2 with at least [`MIN_CHANNELS`] input and
//! output channels on maps of at least [`MIN_TILES`] tiles. Each thread takes a block of
//! output channels and runs the 9 products and the output transform of its block; the input
//! and kernel transforms run by channels on all threads.

use burn::backend::Flex;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use rayon::prelude::*;

use super::winograd::Places;
use super::winograd_blocks::Blocks;
use super::winograd_transform::{Value, transform_into};

/// Places of a transformed 3×3 tile.
const PLACES: usize = 9;

/// Input phases of a stride of 2 in both directions.
const PHASES: usize = 4;

/// Fewer input or output channels than this run tap by tap (the first layer of RGB input
/// and the narrow networks of the small presets).
const MIN_CHANNELS: usize = 32;

/// Maps of fewer 2×2 tiles than this (outputs under 15×15) run tap by tap: the kernels'
/// transform (`9·4·c_out·c_in` values, every call) costs more than the products save there
/// (the discriminator's 128 → 256 layer at a 64² input, 16 tiles: 1.06 ms forward against
/// 0.85 tap by tap, where its 64 → 128 layer, 64 tiles, took 0.91 against 1.22).
const MIN_TILES: usize = 64;

/// `Bᵀ d` for `Bᵀ = [[1, −1, 0], [0, 1, 0], [0, −1, 1]]`, the input tiles' transform
/// (`Bᵀ d B`).
#[inline(always)]
pub(super) fn input_transform<T: Value>([d0, d1, d2]: [T; 3]) -> [T; 3] {
    [d0 - d1, d1, d2 - d1]
}

/// `G g` for `G = [[1, 0], [1, 1], [0, 1]]`, the kernels' transform (`G g Gᵀ`).
#[inline(always)]
pub(super) fn kernel_transform<T: Value>([g0, g1]: [T; 2]) -> [T; 3] {
    [g0, g0 + g1, g1]
}

/// `Aᵀ m` for `Aᵀ = [[1, 1, 0], [0, 1, 1]]`, the output blocks' transform (`Aᵀ M A`).
#[inline(always)]
pub(super) fn output_transform<T: Value>([m0, m1, m2]: [T; 3]) -> [T; 2] {
    [m0 + m1, m1 + m2]
}

/// The geometry of one 4×4 convolution of stride 2 computed tile by tile on its phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhasedWinograd(Blocks);

impl PhasedWinograd {
    /// The plan for `conv2d(x, weight)` with `options`, or `None` when the layer is not an
    /// undilated, ungrouped `f32` 4×4 convolution of stride 2 with at least
    /// [`MIN_CHANNELS`] input and output channels and [`MIN_TILES`] tiles.
    pub(crate) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        Blocks::plan(x, weight, options, [4, 2], [MIN_CHANNELS, MIN_TILES]).map(Self)
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`.
    pub(crate) fn forward(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        self.0.forward::<3, PLACES>(
            (x, weight),
            ("F(2×2, 2×2) phases", |weight| {
                self.transformed_kernels(weight)
            }),
            PHASES * self.0.c_in,
            |x| self.transformed_input(x),
            output_transform,
        )
    }

    /// `U[place, c_out, (phase, c_in)] = (G g Gᵀ)[place]` of every phase's 2×2 kernel
    /// `g = weight[c_out, c_in, 2k' + a, 2l' + b]`, phase `(a, b)` numbered `2a + b` (in a
    /// spare buffer of this thread's, at least as long).
    fn transformed_kernels(&self, weight: &[f32]) -> Vec<f32> {
        let c_in = self.0.c_in;
        let (buffer, places) = Places::<PLACES>::new(self.0.c_out, PHASES * self.0.c_in);
        (0..self.0.c_out).into_par_iter().for_each_init(
            || vec![0.0f32; 16 * c_in],
            |taps, channel| {
                // The output channel's kernels tap by tap, [16, c_in].
                let kernels = weight[channel * c_in * 16..][..c_in * 16].chunks_exact(16);
                for (c, kernel) in kernels.enumerate() {
                    for (tap, &value) in kernel.iter().enumerate() {
                        taps[tap * c_in + c] = value;
                    }
                }
                for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let input = std::array::from_fn(|k| {
                        std::array::from_fn(|l| {
                            &taps[((2 * k + a) * 4 + 2 * l + b) * c_in..][..c_in]
                        })
                    });
                    // SAFETY: this output channel's row of every place, the phase's share of
                    // it, written by this channel only.
                    let out = unsafe { places.slices(channel, (2 * a + b) * c_in, c_in) };
                    transform_into::<2, 3, PLACES>(kernel_transform, input, out);
                }
            },
        );
        buffer
    }

    /// `V[place, (phase, c_in), tile] = (Bᵀ d B)[place]` of every 3×3 tile `d` of each phase
    /// of one item's zero-padded input (in a spare buffer of this thread's, at least as
    /// long).
    fn transformed_input(&self, x: &[f32]) -> Vec<f32> {
        let [in_h, in_w] = self.0.input;
        let [top, left] = self.0.padding;
        let [tiles_h, tiles_w] = self.0.tiles;
        let (c_in, tiles) = (self.0.c_in, self.0.tile_count());
        // A padded row split by column modulo 4: tile `tx` of column phase `b` reads padded
        // columns `4tx + b + 2s` (s = 0, 1, 2), that is places `tx`, `tx` and `tx + 1` of
        // the splits `b`, `b + 2` and `b`.
        let quarter = tiles_w + 1;
        let (buffer, places) = Places::<PLACES>::new(PHASES * self.0.c_in, tiles);
        (0..c_in).into_par_iter().for_each_init(
            || vec![0.0f32; 6 * 4 * quarter],
            |split_rows, channel| {
                let plane = &x[channel * in_h * in_w..][..in_h * in_w];
                for tile_row in 0..tiles_h {
                    // The tile row's six padded rows (zero where they are padding).
                    split_rows.fill(0.0);
                    for (r, split) in split_rows.chunks_exact_mut(4 * quarter).enumerate() {
                        let y = (4 * tile_row + r).checked_sub(top).filter(|&y| y < in_h);
                        let Some(y) = y else { continue };
                        split_quarters(&plane[y * in_w..][..in_w], left, split, quarter);
                    }
                    for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let input = std::array::from_fn(|r| {
                            std::array::from_fn(|s| {
                                let split = (a + 2 * r) * 4 + b + 2 * (s % 2);
                                &split_rows[split * quarter + s / 2..][..tiles_w]
                            })
                        });
                        // SAFETY: this channel's row of tiles in every place of phase
                        // (a, b), written by this channel only.
                        let out = unsafe {
                            places.slices((2 * a + b) * c_in + channel, tile_row * tiles_w, tiles_w)
                        };
                        transform_into::<3, 3, PLACES>(input_transform, input, out);
                    }
                }
            },
        );
        buffer
    }
}

/// Splits a row whose first element is at padded column `offset` by column modulo 4:
/// column `c` goes to place `c / 4` of the split `c % 4` (`split` holds the four, `quarter`
/// places each); columns past the splits' ends are not read by any tile and are dropped.
fn split_quarters(row: &[f32], offset: usize, split: &mut [f32], quarter: usize) {
    let columns = row.len().min((4 * quarter).saturating_sub(offset));
    for (x, &value) in row[..columns].iter().enumerate() {
        let column = x + offset;
        split[(column % 4) * quarter + column / 4] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Aᵀ[(G g) ⊙ (Bᵀ d)]` is the correlation of `d` (3 values) with `g` (2), in 1-D and
    /// hence, the transforms being separable, in 2-D.
    #[test]
    fn the_matrices_compute_a_correlation() {
        let g = [0.3f32, -1.2];
        let d = [1.0f32, -0.5, 2.5];
        let (kernel, tile) = (kernel_transform(g), input_transform(d));
        let product: [f32; 3] = std::array::from_fn(|i| kernel[i] * tile[i]);
        let y = output_transform(product);
        for (i, &value) in y.iter().enumerate() {
            let expected: f32 = (0..2).map(|l| g[l] * d[i + l]).sum();
            assert!(
                (value - expected).abs() < 1e-6,
                "output {i}: {value} against {expected}"
            );
        }
    }

    #[test]
    fn quarters_split_every_column() {
        for (len, offset) in [(0_usize, 0_usize), (1, 1), (7, 1), (8, 0), (9, 2), (13, 3)] {
            let row: Vec<f32> = (0..len).map(|x| x as f32 + 1.0).collect();
            let quarter = (len + offset).div_ceil(4);
            let mut split = vec![0.0; 4 * quarter];
            split_quarters(&row, offset, &mut split, quarter);
            for (x, &value) in row.iter().enumerate() {
                let column = x + offset;
                assert_eq!(split[(column % 4) * quarter + column / 4], value);
            }
        }
    }
}
