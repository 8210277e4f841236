//! 3×3 convolutions of stride 1 on Flex by Winograd's minimal filtering, F(2×2, 3×3)
//! (Lavin & Gray, *Fast Algorithms for Convolutional Neural Networks*, 2016).
//!
//! A 2×2 block of outputs of one input and one output channel is computed from the 4×4
//! tile of the input under it as
//!
//! ```text
//! Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
//! ```
//!
//! with `g` the 3×3 kernel, `d` the tile (tiles overlap by two rows and columns) and the
//! constant matrices `Bᵀ`, `G`, `Aᵀ` written out in [`input_transform`],
//! [`kernel_transform`] and [`output_transform`]. Summed over input channels, each of the
//! 16 places of the transformed tile is one matrix product, `M[place] = U[place] · V[place]`
//! with `U = [c_out, c_in]` (transformed kernels) and `V = [c_in, tiles]` (transformed
//! tiles): 16 multiply-adds per 4 outputs and channel pair where the direct convolution has
//! 36, 2.25× fewer. The transforms only add, subtract and halve, but they write and read
//! `V` and `M`, four times the size of the input and output: on the residual blocks at 64²
//! they take about half as long as the products (`docs/benchmarks.md`).
//!
//! The gradients are the transposed computation: with `dM = A dY Aᵀ` (the output gradient's
//! tiles), the input gradient's tiles are `B (Uᵀ · dM) Bᵀ`, added onto the overlapping
//! places of the input, and the kernels' gradient is `Gᵀ (dM · Vᵀ) G`. Both are again 16
//! matrix products each. Rounding differs from the direct convolution's (the transforms'
//! sums come first) by about as much as two summation orders of the direct one differ:
//! `tests/conv.rs` holds outputs and gradients to within `1e-5` of Burn's convolution, and
//! the default network's PyTorch golden is matched to 8e-6 (6.6e-6 tap by tap).
//!
//! Used on Flex for undilated, ungrouped 3×3 convolutions of stride 1 with at least
//! [`MIN_CHANNELS`] input and output channels: in the networks, the residual blocks.
//! The 16 products of a pass are shared out among the threads, each product on one thread;
//! the transforms run by channels on all threads. Maps whose tile buffers would pass
//! [`GROUP_BYTES`] (residual blocks above 256² inputs) are taken a group of tile rows at a
//! time, so memory does not grow fourfold with the map; the buffers are kept by the
//! calling thread for its next calls ([`SPARE_BUFFERS`] of them, the largest it has used).

use burn::backend::Flex;
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;

use std::ops::Range;

use rayon::prelude::*;

use super::flex_tensor::{f32_slice, filled_by_chunks, from_vec, zeros};
use super::gemm::{Shared, gemm};
use super::kernel_cache;
use super::spare::{recycle, spare};
use super::winograd_blocks::Blocks;
use super::winograd_transform::*;

/// Places of a transformed tile.
const PLACES: usize = 16;

/// The most bytes of one buffer of transformed tiles: larger maps (a generator's residual
/// blocks above 256² inputs) are taken a group of tile rows at a time, so that the buffers
/// stay below this size instead of growing with the map.
const GROUP_BYTES: usize = 32 << 20;

/// Layers with fewer input or output channels than this run tap by tap: their products are
/// too small for the transforms to pay off.
const MIN_CHANNELS: usize = 32;

/// The geometry of one 3×3 convolution of stride 1 computed tile by tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Winograd {
    blocks: Blocks,
    /// The most bytes of one buffer of transformed tiles ([`GROUP_BYTES`]).
    group_bytes: usize,
}

impl Winograd {
    /// The plan for `conv2d(x, weight)` with `options`, or `None` when the layer is not an
    /// undilated, ungrouped `f32` 3×3 convolution of stride 1 with at least
    /// [`MIN_CHANNELS`] input and output channels.
    pub(crate) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        let blocks = Blocks::plan(x, weight, options, [3, 1], [MIN_CHANNELS, 0])?;
        Some(Self {
            blocks,
            group_bytes: GROUP_BYTES,
        })
    }

    /// Rows of tiles of the batch (`tiles_h` per item).
    fn tile_rows(&self) -> usize {
        self.blocks.batch * self.blocks.tiles[0]
    }

    /// The rows of tiles each pass takes at a time: as many as keep one buffer of
    /// transformed tiles within `group_bytes` (all of them at the networks' training
    /// sizes), at least one.
    fn groups(&self) -> impl Iterator<Item = Range<usize>> + use<> {
        let row_bytes = PLACES
            * self.blocks.c_in.max(self.blocks.c_out)
            * self.blocks.tiles[1]
            * size_of::<f32>();
        let per_group = (self.group_bytes / row_bytes.max(1)).max(1);
        let rows = self.tile_rows();
        (0..rows)
            .step_by(per_group)
            .map(move |first| first..(first + per_group).min(rows))
    }

    /// `(item, tile row in the item)` of row `row` of the batch's tiles.
    fn tile_row(&self, row: usize) -> (usize, usize) {
        (row / self.blocks.tiles[0], row % self.blocks.tiles[0])
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`.
    pub(crate) fn forward(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
        let x = f32_slice(&x);
        let len = PLACES * self.blocks.c_out * self.blocks.c_in;
        let kernels = kernel_cache::transformed(&weight, "F(2×2, 3×3)", len, |weight| {
            self.transformed_kernels(weight)
        });
        let [out_h, out_w] = self.blocks.output;
        let tiles_w = self.blocks.tiles[1];
        let plane_len = out_h * out_w;
        let mut output = zeros(self.blocks.batch * self.blocks.c_out * plane_len);
        let target = Shared::new(&mut output);
        for rows in self.groups() {
            let tiles = self.transformed_input(x, rows.clone());
            let tile_count = rows.len() * tiles_w;
            // M[place] = U[place] · V[place], [c_out, tiles]
            let mut products = spare(PLACES * self.blocks.c_out * tile_count);
            place_products(
                [self.blocks.c_out, tile_count, self.blocks.c_in],
                (&mut products, false),
                (&kernels, 1, self.blocks.c_in),
                (&tiles, 1, tile_count),
            );
            recycle([tiles]);
            // Y = Aᵀ M A for each row of tiles, the 2×2 blocks to their places.
            (0..self.blocks.c_out).into_par_iter().for_each_init(
                TileScratch::default,
                |scratch, channel| {
                    for (index, row) in rows.clone().enumerate() {
                        let (item, tile_row) = self.tile_row(row);
                        let layout = [self.blocks.c_out, tile_count];
                        let first = index * tiles_w;
                        let input =
                            place_slices(&products, layout, channel, first..first + tiles_w);
                        let blocks = scratch.transform::<4, 2, 4>(output_transform, input);
                        let start = (item * self.blocks.c_out + channel) * plane_len;
                        // SAFETY: one plane of the output, which only this channel's task writes.
                        let plane =
                            unsafe { std::slice::from_raw_parts_mut(target.at(start), plane_len) };
                        for r in 0..2 {
                            let y = 2 * tile_row + r;
                            if y < out_h {
                                let (even, odd) =
                                    blocks[r * 2 * tiles_w..][..2 * tiles_w].split_at(tiles_w);
                                merge_columns([even, odd], 0, &mut plane[y * out_w..][..out_w]);
                            }
                        }
                    }
                },
            );
            recycle([products]);
        }
        kernels.recycle();
        from_vec(output, [self.blocks.batch, self.blocks.c_out, out_h, out_w])
    }

    /// The gradient of the input, `[batch, c_in, in_h, in_w]`, given the output's.
    pub(crate) fn input_grad(
        &self,
        weight: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
        let (weight, grad) = (f32_slice(&weight), f32_slice(&grad));
        let mut input_grad = InputGrad::new(self, weight);
        for rows in self.groups() {
            let grad_tiles = self.transformed_grad(grad, rows.clone());
            input_grad.add_group(self, &grad_tiles, rows);
            recycle([grad_tiles]);
        }
        input_grad.finish(self)
    }

    /// The gradient of the weight, `[c_out, c_in, 3, 3]`, given the output's.
    pub(crate) fn weight_grad(
        &self,
        x: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let (x, grad) = (f32_slice(&x), f32_slice(&grad));
        let mut weight_grad = WeightGrad::new(self);
        for (group, rows) in self.groups().enumerate() {
            let grad_tiles = self.transformed_grad(grad, rows.clone());
            weight_grad.add_group(self, x, &grad_tiles, (group, rows));
            recycle([grad_tiles]);
        }
        weight_grad.finish(self)
    }

    /// The gradients of the input and of the weight, given the output's: the same values
    /// as [`input_grad`](Self::input_grad) and [`weight_grad`](Self::weight_grad), with
    /// the output gradient's tiles (`dM = A dY Aᵀ`) transformed once for both when the map
    /// is one group of tile rows (at the networks' training sizes). The weight gradient is
    /// finished before the input gradient's buffers are taken, so that no more buffers are
    /// live at once than in either pass alone (more made the allocator hand out fresh pages
    /// to the layers that followed: 2.9× the page faults over `bench_layers`' sequence).
    /// Larger maps, taken a group at a time, run the two passes one after the other.
    pub(crate) fn gradients(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> (FloatTensor<Flex>, FloatTensor<Flex>) {
        let mut groups = self.groups();
        let (Some(rows), None) = (groups.next(), groups.next()) else {
            let weight_grad = self.weight_grad(x, grad.clone());
            return (self.input_grad(weight, grad), weight_grad);
        };
        let (x, weight, grad) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            grad.to_contiguous(),
        );
        let (x, weight, grad) = (f32_slice(&x), f32_slice(&weight), f32_slice(&grad));
        let grad_tiles = self.transformed_grad(grad, rows.clone());
        let mut weight_grad = WeightGrad::new(self);
        weight_grad.add_group(self, x, &grad_tiles, (0, rows.clone()));
        let weight_grad = weight_grad.finish(self);
        let mut input_grad = InputGrad::new(self, weight);
        input_grad.add_group(self, &grad_tiles, rows);
        recycle([grad_tiles]);
        (input_grad.finish(self), weight_grad)
    }

    /// `U[place, c_out, c_in] = (G g Gᵀ)[place]` of every kernel `g = weight[c_out, c_in]`.
    fn transformed_kernels(&self, weight: &[f32]) -> Vec<f32> {
        let c_in = self.blocks.c_in;
        let (buffer, places) = Places::<PLACES>::new(self.blocks.c_out, c_in);
        (0..self.blocks.c_out).into_par_iter().for_each_init(
            || vec![0.0f32; 9 * c_in],
            |taps, channel| {
                // The output channel's kernels tap by tap, [9, c_in], then transformed.
                let kernels = weight[channel * c_in * 9..][..c_in * 9].chunks_exact(9);
                for (c, kernel) in kernels.enumerate() {
                    for (tap, &value) in kernel.iter().enumerate() {
                        taps[tap * c_in + c] = value;
                    }
                }
                let input = std::array::from_fn(|i| {
                    std::array::from_fn(|j| &taps[(i * 3 + j) * c_in..][..c_in])
                });
                // SAFETY: this output channel's row of every place.
                let out = unsafe { places.slices(channel, 0, c_in) };
                transform_into::<3, 4, 16>(kernel_transform, input, out);
            },
        );
        buffer
    }

    /// `V[place, c_in, tile] = (Bᵀ d B)[place]` of every 4×4 tile `d` of the zero-padded
    /// input in the rows of tiles `rows`.
    fn transformed_input(&self, x: &[f32], rows: Range<usize>) -> Vec<f32> {
        let [in_h, in_w] = self.blocks.input;
        let [top, left] = self.blocks.padding;
        let tiles_w = self.blocks.tiles[1];
        // A padded row split into its even and odd columns: tile `tx` reads columns
        // `2tx..2tx + 4`, which are even and odd places `tx` and `tx + 1`.
        let half = tiles_w + 1;
        let (buffer, places) = Places::<PLACES>::new(self.blocks.c_in, rows.len() * tiles_w);
        (0..self.blocks.c_in).into_par_iter().for_each_init(
            || vec![0.0f32; 4 * 2 * half],
            |split_rows, channel| {
                for (index, row) in rows.clone().enumerate() {
                    let (item, tile_row) = self.tile_row(row);
                    let plane =
                        &x[(item * self.blocks.c_in + channel) * in_h * in_w..][..in_h * in_w];
                    // The tile row's four padded rows (zero where they are padding).
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
                    // SAFETY: this row of tiles of this channel, in every place.
                    let out = unsafe { places.slices(channel, index * tiles_w, tiles_w) };
                    transform_into::<4, 4, 16>(input_transform, input, out);
                }
            },
        );
        buffer
    }

    /// `dM[place, c_out, tile] = (A dY Aᵀ)[place]` of every 2×2 block `dY` of the output
    /// gradient (zero past an odd output's edge) in the rows of tiles `rows`.
    fn transformed_grad(&self, grad: &[f32], rows: Range<usize>) -> Vec<f32> {
        let [out_h, out_w] = self.blocks.output;
        let tiles_w = self.blocks.tiles[1];
        let (buffer, places) = Places::<PLACES>::new(self.blocks.c_out, rows.len() * tiles_w);
        (0..self.blocks.c_out).into_par_iter().for_each_init(
            || vec![0.0f32; 2 * 2 * tiles_w],
            |split_rows, channel| {
                for (index, row) in rows.clone().enumerate() {
                    let (item, tile_row) = self.tile_row(row);
                    let plane = &grad[(item * self.blocks.c_out + channel) * out_h * out_w..]
                        [..out_h * out_w];
                    // The block row's two output rows, split into even and odd columns.
                    split_rows.fill(0.0);
                    for (r, split) in split_rows.chunks_exact_mut(2 * tiles_w).enumerate() {
                        let y = 2 * tile_row + r;
                        if y < out_h {
                            let (even, odd) = split.split_at_mut(tiles_w);
                            split_columns(&plane[y * out_w..][..out_w], 0, [even, odd]);
                        }
                    }
                    let input = std::array::from_fn(|r| {
                        std::array::from_fn(|s| &split_rows[(r * 2 + s) * tiles_w..][..tiles_w])
                    });
                    // SAFETY: this row of tiles of this channel, in every place.
                    let out = unsafe { places.slices(channel, index * tiles_w, tiles_w) };
                    transform_into::<2, 4, 16>(output_transform_transposed, input, out);
                }
            },
        );
        buffer
    }
}

/// The input gradient of a [`Winograd`] layer, built group of tile rows by group: each
/// group's tiles `B (Uᵀ · dM) Bᵀ` added onto the padded input's places (rows split into even
/// and odd columns), then the padding dropped.
struct InputGrad {
    /// The transformed kernels `U` (a spare buffer).
    kernels: Vec<f32>,
    /// Each plane's gradient on the padded input, `padded_len` places each.
    padded: Vec<f32>,
    padded_len: usize,
}

impl InputGrad {
    fn new(layer: &Winograd, weight: &[f32]) -> Self {
        let tiles = layer.blocks.tiles;
        // Tile column `tx` covers even and odd places `tx` and `tx + 1`: the tiles of one
        // group add onto rows that the next group's first tiles add onto too.
        let padded_len = (2 * tiles[0] + 2) * 2 * (tiles[1] + 1);
        Self {
            kernels: layer.transformed_kernels(weight),
            padded: zeros(layer.blocks.batch * layer.blocks.c_in * padded_len),
            padded_len,
        }
    }

    /// Adds the input gradient of the tile rows `rows`, given their transformed output
    /// gradient `grad_tiles` (`dM`).
    fn add_group(&mut self, layer: &Winograd, grad_tiles: &[f32], rows: Range<usize>) {
        let blocks = &layer.blocks;
        let tiles_w = blocks.tiles[1];
        let (half, padded_len) = (tiles_w + 1, self.padded_len);
        let tile_count = rows.len() * tiles_w;
        // dV[place] = U[place]ᵀ · dM[place], [c_in, tiles] (U read transposed)
        let mut tile_grads = spare(PLACES * blocks.c_in * tile_count);
        place_products(
            [blocks.c_in, tile_count, blocks.c_out],
            (&mut tile_grads, false),
            (&self.kernels, blocks.c_in, 1),
            (grad_tiles, 1, tile_count),
        );
        let target = Shared::new(&mut self.padded);
        // d = B dV Bᵀ for each row of tiles, added onto their 4×4 places.
        (0..blocks.c_in)
            .into_par_iter()
            .for_each_init(TileScratch::default, |scratch, channel| {
                for (index, row) in rows.clone().enumerate() {
                    let (item, tile_row) = layer.tile_row(row);
                    let layout = [blocks.c_in, tile_count];
                    let first = index * tiles_w;
                    let input = place_slices(&tile_grads, layout, channel, first..first + tiles_w);
                    let tiles = scratch.transform::<4, 4, 16>(input_transform_transposed, input);
                    let start = (item * blocks.c_in + channel) * padded_len;
                    // SAFETY: one plane's padded gradient, which only this channel's task
                    // adds onto.
                    let plane =
                        unsafe { std::slice::from_raw_parts_mut(target.at(start), padded_len) };
                    for r in 0..4 {
                        let row = &mut plane[(2 * tile_row + r) * 2 * half..][..2 * half];
                        for s in 0..4 {
                            let start = (s % 2) * half + s / 2;
                            let values = &tiles[(r * 4 + s) * tiles_w..][..tiles_w];
                            for (target, value) in row[start..][..tiles_w].iter_mut().zip(values) {
                                *target += value;
                            }
                        }
                    }
                }
            });
        recycle([tile_grads]);
    }

    /// The input's places of the padded rows, less the padding: `[batch, c_in, in_h, in_w]`.
    fn finish(self, layer: &Winograd) -> FloatTensor<Flex> {
        let blocks = &layer.blocks;
        let [in_h, in_w] = blocks.input;
        let [top, left] = blocks.padding;
        let (half, padded_len) = (blocks.tiles[1] + 1, self.padded_len);
        recycle([self.kernels]);
        let plane_len = in_h * in_w;
        let input_grad = filled_by_chunks(
            blocks.batch * blocks.c_in * plane_len,
            plane_len,
            |index, plane| {
                let padded = &self.padded[index * padded_len..][..padded_len];
                for (y, row) in plane.chunks_exact_mut(in_w).enumerate() {
                    let (even, odd) = padded[(y + top) * 2 * half..][..2 * half].split_at(half);
                    merge_columns([even, odd], left, row);
                }
            },
        );
        from_vec(input_grad, [blocks.batch, blocks.c_in, in_h, in_w])
    }
}

/// The weight gradient of a [`Winograd`] layer, built group of tile rows by group: the
/// transformed kernels' gradient `dU = Σ_groups dM · Vᵀ`, then `dW = Gᵀ dU G`.
struct WeightGrad {
    /// `dU[place, c_out, c_in]` (a spare buffer).
    kernel_grads: Vec<f32>,
}

impl WeightGrad {
    fn new(layer: &Winograd) -> Self {
        Self {
            kernel_grads: spare(PLACES * layer.blocks.c_out * layer.blocks.c_in),
        }
    }

    /// Adds group `group`'s share, the tile rows `rows`, given the layer's input `x` and the
    /// group's transformed output gradient `grad_tiles` (`dM`); the first group's
    /// products write the sums, the later ones add onto them.
    fn add_group(
        &mut self,
        layer: &Winograd,
        x: &[f32],
        grad_tiles: &[f32],
        (group, rows): (usize, Range<usize>),
    ) {
        let blocks = &layer.blocks;
        let tiles = layer.transformed_input(x, rows.clone());
        let tile_count = rows.len() * blocks.tiles[1];
        // dU[place] += dM[place] · V[place]ᵀ, [c_out, c_in] (V read transposed)
        place_products(
            [blocks.c_out, blocks.c_in, tile_count],
            (&mut self.kernel_grads, group > 0),
            (grad_tiles, 1, tile_count),
            (&tiles, tile_count, 1),
        );
        recycle([tiles]);
    }

    /// `dW = Gᵀ dU G`, `[c_out, c_in, 3, 3]`, for all input channels of an output channel at
    /// once.
    fn finish(self, layer: &Winograd) -> FloatTensor<Flex> {
        let blocks = &layer.blocks;
        let (c_in, pairs) = (blocks.c_in, blocks.c_out * blocks.c_in);
        let weight_grad = filled_by_chunks(pairs * 9, c_in * 9, |channel, kernels| {
            let mut scratch = TileScratch::default();
            let input = place_slices(&self.kernel_grads, [blocks.c_out, c_in], channel, 0..c_in);
            let grads = scratch.transform::<4, 3, 9>(kernel_transform_transposed, input);
            for (tap, values) in grads.chunks_exact(c_in).enumerate() {
                for (kernel, &value) in kernels.chunks_exact_mut(9).zip(values) {
                    kernel[tap] = value;
                }
            }
        });
        recycle([self.kernel_grads]);
        from_vec(weight_grad, [blocks.c_out, blocks.c_in, 3, 3])
    }
}

/// Splits a row whose first element is at column `offset` into its even and odd columns:
/// column `c` goes to place `c / 2` of `split[c % 2]`.
pub(super) fn split_columns(row: &[f32], offset: usize, [even, odd]: [&mut [f32]; 2]) {
    let (mut row, mut column) = (row, offset);
    if column % 2 == 1
        && let Some((&first, rest)) = row.split_first()
    {
        odd[column / 2] = first;
        (row, column) = (rest, column + 1);
    }
    let start = column / 2;
    let pairs = row.chunks_exact(2);
    if let [last] = pairs.remainder() {
        even[start + row.len() / 2] = *last;
    }
    for ((pair, even), odd) in pairs.zip(&mut even[start..]).zip(&mut odd[start..]) {
        (*even, *odd) = (pair[0], pair[1]);
    }
}

/// The inverse of [`split_columns`]: fills `row` (its first element at column `offset`)
/// from the even and odd columns.
pub(super) fn merge_columns([even, odd]: [&[f32]; 2], offset: usize, row: &mut [f32]) {
    let (row, column) = match row.split_first_mut() {
        Some((first, rest)) if offset % 2 == 1 => {
            *first = odd[offset / 2];
            (rest, offset + 1)
        }
        _ => (row, offset),
    };
    let start = column / 2;
    let len = row.len();
    let mut pairs = row.chunks_exact_mut(2);
    for ((pair, &even), &odd) in (&mut pairs).zip(&even[start..]).zip(&odd[start..]) {
        (pair[0], pair[1]) = (even, odd);
    }
    if let [last] = pairs.into_remainder() {
        *last = even[start + len / 2];
    }
}

/// The layout `[N, channels, len]` of transformed tiles (or kernels) of `N` places, written
/// by the threads with [`transform_into`] (here and in `winograd4x4`).
#[derive(Clone, Copy)]
pub(super) struct Places<const N: usize> {
    target: Shared,
    channels: usize,
    len: usize,
}

impl<const N: usize> Places<N> {
    /// A spare buffer for `channels × len` transformed tiles and the writer into it.
    pub(super) fn new(channels: usize, len: usize) -> (Vec<f32>, Self) {
        let mut buffer = spare(N * channels * len);
        let target = Shared::new(&mut buffer);
        (
            buffer,
            Self {
                target,
                channels,
                len,
            },
        )
    }

    /// The places `[·, channel, first..first + n]`, one slice of `n` values per place,
    /// for [`transform_into`] to write.
    ///
    /// # Safety
    /// `first + n` must be at most `len`, the buffer of [`new`](Self::new) must outlive the
    /// slices (`'a`, chosen by the caller), and no other thread may use these places while
    /// the slices live.
    pub(super) unsafe fn slices<'a>(
        self,
        channel: usize,
        first: usize,
        n: usize,
    ) -> [&'a mut [f32]; N] {
        assert!(first + n <= self.len && channel < self.channels);
        std::array::from_fn(|place| {
            let start = (place * self.channels + channel) * self.len + first;
            // SAFETY: inside the buffer (asserted above, the buffer holding `N · channels ·
            // len` values) and used by this caller only (the contract).
            unsafe { std::slice::from_raw_parts_mut(self.target.at(start), n) }
        })
    }
}

/// `dst[place] = (add ? dst[place] : 0) + lhs[place] · rhs[place]` for the 16 places,
/// `[m, n] = [m, k] · [k, n]`, the places shared out among the threads (each product on one
/// thread). Each buffer holds its 16 matrices one after another (`m·n`, `m·k`, `k·n` values
/// each), `dst` row-major, `lhs` and `rhs` given with the column and row strides of one
/// place's matrix.
fn place_products(
    [m, n, k]: [usize; 3],
    (dst, add): (&mut [f32], bool),
    (lhs, lhs_cs, lhs_rs): (&[f32], usize, usize),
    (rhs, rhs_cs, rhs_rs): (&[f32], usize, usize),
) {
    // Every element of a place's matrix, through its strides, lies inside the place's
    // share of the buffer when the strides are those of a (possibly transposed) dense
    // matrix, which the callers pass.
    assert!(
        dst.len() >= PLACES * m * n && lhs.len() >= PLACES * m * k && rhs.len() >= PLACES * k * n,
        "16 places of [{m}, {n}] = [{m}, {k}] · [{k}, {n}]"
    );
    let target = Shared::new(dst);
    (0..PLACES).into_par_iter().for_each(|place| {
        // SAFETY: each operand is one place's dense matrix inside its buffer (asserted
        // above), and each place writes its own `m·n` values of `dst` only.
        unsafe {
            gemm(
                [m, n, k],
                (target.at(place * m * n), 1, n),
                add,
                (lhs[place * m * k..].as_ptr(), lhs_cs, lhs_rs),
                (rhs[place * k * n..].as_ptr(), rhs_cs, rhs_rs),
            );
        }
    });
}

/// The 16 places' values `[·, channel, range]` of a `[PLACES, channels, len]` buffer (the
/// layout [`Places`] writes), as a 4×4 array of slices.
fn place_slices(
    buffer: &[f32],
    [channels, len]: [usize; 2],
    channel: usize,
    range: Range<usize>,
) -> [[&[f32]; 4]; 4] {
    std::array::from_fn(|a| {
        std::array::from_fn(|b| &buffer[((a * 4 + b) * channels + channel) * len..][range.clone()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BT: [[f32; 4]; 4] = [
        [1.0, 0.0, -1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, -1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, -1.0],
    ];
    const G: [[f32; 3]; 4] = [
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0.0, 0.0, 1.0],
    ];
    const AT: [[f32; 4]; 2] = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];

    fn transpose<const R: usize, const C: usize>(matrix: [[f32; C]; R]) -> [[f32; R]; C] {
        std::array::from_fn(|c| std::array::from_fn(|r| matrix[r][c]))
    }

    fn multiply<const R: usize, const K: usize, const C: usize>(
        left: &[[f32; K]; R],
        right: &[[f32; C]; K],
    ) -> [[f32; C]; R] {
        std::array::from_fn(|r| {
            std::array::from_fn(|c| (0..K).map(|k| left[r][k] * right[k][c]).sum())
        })
    }

    /// Maps taken a group of tile rows at a time (groups within an item and across items)
    /// give what one group gives; both gradients at once give what each gives alone.
    #[test]
    fn groups_of_tile_rows_give_the_whole_map() {
        let ([batch, c_in, c_out], [height, width]) = ([2, 32, 40], [11, 9]);
        let values = |len: usize, seed: usize| -> Vec<f32> {
            (0..len)
                .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0) - 1.0)
                .collect()
        };
        let x = from_vec(
            values(batch * c_in * height * width, 1),
            [batch, c_in, height, width],
        );
        let weight = from_vec(values(c_out * c_in * 9, 2), [c_out, c_in, 3, 3]);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let whole = Winograd::plan(&x, &weight, &options).expect("a Winograd layer");
        let grad = from_vec(
            values(batch * c_out * height * width, 3),
            [batch, c_out, height, width],
        );
        let results = |plan: Winograd| {
            let results = [
                plan.forward(x.clone(), weight.clone()),
                plan.input_grad(weight.clone(), grad.clone()),
                plan.weight_grad(x.clone(), grad.clone()),
            ]
            .map(|tensor| f32_slice(&tensor).to_vec());
            // Both gradients at once are each gradient alone, to the bit.
            let (input_grad, weight_grad) = plan.gradients(x.clone(), weight.clone(), grad.clone());
            assert_eq!(f32_slice(&input_grad), &results[1][..], "input gradient");
            assert_eq!(f32_slice(&weight_grad), &results[2][..], "weight gradient");
            results
        };
        let expected = results(whole);
        // One buffer row of tiles is 16 · 40 channels · 5 tiles · 4 bytes.
        for rows_per_group in [1, 4, 7] {
            let grouped = Winograd {
                group_bytes: rows_per_group * 16 * 40 * 5 * 4,
                ..whole
            };
            assert_eq!(
                grouped.groups().count(),
                (batch * 6).div_ceil(rows_per_group)
            );
            for (what, (expected, actual)) in expected.iter().zip(results(grouped)).enumerate() {
                let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let error = expected
                    .iter()
                    .zip(&actual)
                    .fold(0.0f32, |m, (e, a)| m.max((e - a).abs()));
                assert!(
                    error <= 1e-6 * scale,
                    "{rows_per_group} rows, result {what}: {error}"
                );
            }
        }
    }

    #[test]
    fn columns_split_and_merge() {
        for (len, offset) in [
            (0_usize, 0_usize),
            (1, 0),
            (1, 1),
            (6, 0),
            (7, 0),
            (6, 1),
            (7, 1),
            (5, 3),
        ] {
            let row: Vec<f32> = (0..len).map(|x| x as f32 + 1.0).collect();
            let half = (len + offset).div_ceil(2) + 1;
            let (mut even, mut odd) = (vec![0.0; half], vec![0.0; half]);
            split_columns(&row, offset, [&mut even, &mut odd]);
            for (x, &value) in row.iter().enumerate() {
                let column = x + offset;
                let split = if column % 2 == 0 { &even } else { &odd };
                assert_eq!(split[column / 2], value, "{len} {offset} {x}");
            }
            let mut merged = vec![0.0; len];
            merge_columns([&even, &odd], offset, &mut merged);
            assert_eq!(merged, row, "{len} {offset}");
        }
    }

    /// `y[i] = Σ_k d[i + k] g[k]` in one dimension: `Aᵀ [(G g) ⊙ (Bᵀ d)]`.
    #[test]
    fn the_matrices_compute_a_correlation() {
        let (d, g) = ([0.3f32, -1.2, 2.5, 0.7], [1.5f32, -0.25, 0.75]);
        let v = multiply(&BT, &d.map(|x| [x]));
        let u = multiply(&G, &g.map(|x| [x]));
        let m: [[f32; 1]; 4] = std::array::from_fn(|p| [v[p][0] * u[p][0]]);
        let y = multiply(&AT, &m);
        for (i, [value]) in y.iter().enumerate() {
            let expected: f32 = (0..3).map(|k| d[i + k] * g[k]).sum();
            assert!(
                (value - expected).abs() < 1e-6,
                "{i}: {value} vs {expected}"
            );
        }
    }

    /// `T x Tᵀ` through [`TileScratch::transform`] (with a last, partial set of lanes) is
    /// the matrix products, for each transform and its transpose.
    #[test]
    fn transforms_are_their_matrices() {
        fn check<const I: usize, const O: usize, const P: usize>(
            matrix: [[f32; I]; O],
            transform: impl Fn([f32; I]) -> [f32; O] + Copy,
        ) {
            let len = 19;
            let values: Vec<Vec<f32>> = (0..I * I)
                .map(|e| {
                    (0..len)
                        .map(|n| ((e * 7 + n * 3) % 11) as f32 - 5.0)
                        .collect()
                })
                .collect();
            let mut scratch = TileScratch::default();
            let x = std::array::from_fn(|i| std::array::from_fn(|j| &values[i * I + j][..]));
            let result = scratch.transform::<I, O, P>(transform, x).to_vec();
            // The baseline build of the loop (what runs on CPUs without AVX2) gives the same.
            let mut baseline = vec![0.0; P * len];
            let mut rows = baseline.chunks_exact_mut(len);
            transform_matrices::<I, O, P>(
                transform,
                x,
                std::array::from_fn(|_| rows.next().unwrap()),
            );
            assert_eq!(baseline, result);
            for n in 0..len {
                let tile: [[f32; I]; I] =
                    std::array::from_fn(|i| std::array::from_fn(|j| values[i * I + j][n]));
                let expected = multiply(&multiply(&matrix, &tile), &transpose(matrix));
                for a in 0..O {
                    for b in 0..O {
                        let value = result[(a * O + b) * len + n];
                        assert_eq!(value, expected[a][b], "{a} {b} {n}");
                    }
                }
            }
        }
        check::<4, 4, 16>(BT, input_transform);
        check::<4, 4, 16>(transpose(BT), input_transform_transposed);
        check::<3, 4, 16>(G, kernel_transform);
        check::<4, 3, 9>(transpose(G), kernel_transform_transposed);
        check::<4, 2, 4>(AT, output_transform);
        check::<2, 4, 16>(transpose(AT), output_transform_transposed);
    }
}
