//! Convolutions on Flex as one matrix product per kernel tap.
//!
//! Burn 0.22's Flex convolution copies the input into im2col tiles and re-lays out the
//! input and weight on every call, and its transposed convolution goes through a
//! `[c_out·k², positions]` column buffer; about half of a training step's time went to that
//! layout work rather than to the matrix products (`docs/benchmarks.md`). None of it is
//! needed.
//!
//! **Stride 1.** Lay the zero-padded input out flat, `[c_in, h_p·w_p]`, and compute the
//! output on a grid as wide as the padded input: output position `p = y·w_p + x` of kernel
//! tap `(i, j)` reads input position `p + i·w_p + j`. Each tap is then one matrix product,
//! `out[:, p] += W[:, :, i, j] · x[:, p + i·w_p + j]`, reading the input where it lies. The
//! `k_w − 1` columns at the right end of each grid row are not output positions and are
//! dropped when the result is copied out.
//!
//! **Stride s.** Split the padded input into its `s_h·s_w` phases (rows `a, a + s_h, …`,
//! columns `b, b + s_w, …`). Tap `(i, j)` reads only phase `(i mod s_h, j mod s_w)`, at offset
//! `(⌊i/s_h⌋, ⌊j/s_w⌋)`, as a stride-1 tap does: the same products on grids as wide as a
//! phase.
//!
//! **Thin outputs** (a handful of output channels, as the generators' RGB tail and the
//! PatchGAN's last layer) turn this around: a product per tap would have a handful of rows
//! and pack the whole input once per tap, so all taps' products of a run of input rows are
//! one product, whose rows are then added onto the output at their taps' offsets
//! ([`TapConv::forward_thin_output`]).
//!
//! The backward passes are the same products transposed: the input gradient adds
//! `W[:, :, i, j]ᵀ · grad` into the (phased) input's grid at the tap's offset, and the weight
//! gradient of a tap is `grad · x[:, p + offset]ᵀ` over all positions (the grid's extra
//! columns of `grad` are zero, so they add nothing). A transposed convolution is the input
//! gradient of the convolution with its weight, so it runs on the same plan
//! ([`TapConv::transposed`]), its gradients being that convolution's forward pass and
//! weight gradient.
//!
//! **Threads.** Every product runs single-threaded, and the work of a layer pass is shared
//! out among the threads once: by tiles of positions (folded products, sized to stay in a
//! core's L2 cache with their columns), by tiles of output rows (the forward pass of the
//! products per tap), or by blocks of channels (the input and weight gradients per tap).
//! Running each product on all threads instead made the threads meet once per product and
//! pack every operand in full; a training step at 128² took 1.4× as long
//! (`docs/benchmarks.md`). The folded input gradient's tiles add onto overlapping places,
//! so they run in two rounds (even tiles, then odd) of tiles longer than that overlap.

use std::borrow::Cow;

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;
use burn::tensor::DType;

use super::flex_tensor::{f32_slice, fill_by_chunks, from_vec, written, zero, zeros};
use super::gemm::{BLOCK, Shared, THIN, TILE_BYTES, Tiles, for_each_block, gemm, threads_for};
use super::spare::{recycle, spare};

/// Inputs with fewer channels than this fold the taps into the forward product and the
/// input gradient's, unless the output is thin: a per-tap product whose inner dimension is
/// this short spends much of its time loading and storing the output tile (measured on the
/// PatchGAN discriminator and the generators' downsampling layers), while folding copies the
/// input once per tap into columns.
const FOLD_BELOW: usize = 256;

/// The same threshold for the weight gradient, lower: a tap's weight gradient,
/// `grad · x[:, p + offset]ᵀ`, has the positions as its inner dimension, however few the
/// input channels, so the per-tap products stay efficient down to fewer channels, and
/// folding's column copies cost more than they save. Measured on an AVX2 machine
/// (`docs/benchmarks.md`, tenth session): at 128 input channels (the discriminator's `d3`,
/// the generator's `down2` and `up1`) per-tap gradients took 3–49 % less time for a forward
/// and backward pass together, even with the forward pass per tap too (slower alone, so it
/// stays folded); at 64 (`d2`, `down1`, `up2`) no difference beyond the machine's noise.
const FOLD_BELOW_WEIGHT_GRAD: usize = 128;

/// Copies of at least this many elements (the phased input) are shared out among the
/// threads.
const PARALLEL_COPY: usize = 1 << 16;

/// The geometry of one convolution that runs tap by tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TapConv {
    batch: usize,
    c_in: usize,
    c_out: usize,
    /// Kernel height and width.
    kernel: [usize; 2],
    stride: [usize; 2],
    /// Zero padding `(begin, end)` of height and width.
    padding: [(usize, usize); 2],
    /// The unpadded input's height and width.
    input: [usize; 2],
    /// The height and width of one phase of the padded input (the grid's row length is
    /// the width).
    phase: [usize; 2],
    output: [usize; 2],
}

impl TapConv {
    /// The plan for `conv2d(x, weight)` with `options`, or `None` when the layer is not an
    /// undilated, ungrouped `f32` convolution (those run on Burn's).
    pub(crate) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        let [batch, c_in, in_h, in_w] = x.shape().dims();
        let [c_out, weight_c_in, k_h, k_w] = weight.shape().dims();
        if weight_c_in != c_in
            || options.dilation != [1, 1]
            || options.groups != 1
            || !is_f32([x, weight])
        {
            return None;
        }
        Self::new(
            [batch, c_in, c_out],
            [k_h, k_w],
            options.stride,
            options.padding,
            [in_h, in_w],
        )
    }

    /// The plan of the convolution whose input gradient is `conv_transpose2d(x, weight)`
    /// with `options`: its input is the transposed convolution's output, its output the
    /// transposed convolution's input, and the weights are shared as they lie. `None` when
    /// the layer is not an undilated, ungrouped `f32` transposed convolution.
    pub(crate) fn transposed(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvTransposeOptions<2>,
    ) -> Option<Self> {
        let [batch, c_in, in_h, in_w] = x.shape().dims();
        let [weight_c_in, c_out, k_h, k_w] = weight.shape().dims();
        if weight_c_in != c_in
            || in_h == 0
            || in_w == 0
            || options.dilation != [1, 1]
            || options.groups != 1
            || !is_f32([x, weight])
        {
            return None;
        }
        let [stride_h, stride_w] = options.stride;
        let [pad_h, pad_w] = options.padding;
        let [out_pad_h, out_pad_w] = options.padding_out;
        let out_h = ((in_h - 1) * stride_h + k_h + out_pad_h).checked_sub(2 * pad_h)?;
        let out_w = ((in_w - 1) * stride_w + k_w + out_pad_w).checked_sub(2 * pad_w)?;
        let plan = Self::new(
            [batch, c_out, c_in],
            [k_h, k_w],
            options.stride,
            [(pad_h, pad_h), (pad_w, pad_w)],
            [out_h, out_w],
        )?;
        (plan.output == [in_h, in_w]).then_some(plan)
    }

    fn new(
        [batch, c_in, c_out]: [usize; 3],
        [k_h, k_w]: [usize; 2],
        [stride_h, stride_w]: [usize; 2],
        padding: [(usize, usize); 2],
        [in_h, in_w]: [usize; 2],
    ) -> Option<Self> {
        let [(top, bottom), (left, right)] = padding;
        let (padded_h, padded_w) = (in_h + top + bottom, in_w + left + right);
        // The folded input gradient (thin outputs) is written for one phase only.
        let strided = stride_h > 1 || stride_w > 1;
        if batch == 0
            || c_in == 0
            || c_out == 0
            || k_h == 0
            || k_w == 0
            || padded_h < k_h
            || padded_w < k_w
            || (strided && c_out < THIN)
        {
            return None;
        }
        Some(Self {
            batch,
            c_in,
            c_out,
            kernel: [k_h, k_w],
            stride: [stride_h, stride_w],
            padding,
            input: [in_h, in_w],
            phase: [padded_h.div_ceil(stride_h), padded_w.div_ceil(stride_w)],
            output: [
                (padded_h - k_h) / stride_h + 1,
                (padded_w - k_w) / stride_w + 1,
            ],
        })
    }

    /// Whether a pass folds the taps into the inner dimension, for the pass's threshold
    /// `below` ([`FOLD_BELOW`] or [`FOLD_BELOW_WEIGHT_GRAD`]; see also [`THIN`]).
    fn folds_input(&self, below: usize) -> bool {
        self.c_in < THIN || (self.c_in < below && self.c_out >= THIN)
    }

    fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    fn phases(&self) -> usize {
        self.stride[0] * self.stride[1]
    }

    /// Elements of one phase plane of one channel.
    fn plane_len(&self) -> usize {
        self.phase[0] * self.phase[1]
    }

    /// Elements of one batch item's phased input (`phases × c_in` planes).
    fn phased_len(&self) -> usize {
        self.phases() * self.c_in * self.plane_len()
    }

    /// Where tap `t` (row-major over the kernel) reads: the first element of its phase's
    /// plane of channel 0 plus its offset on the grid.
    fn tap_start(&self, tap: usize) -> usize {
        let (i, j) = (tap / self.kernel[1], tap % self.kernel[1]);
        let [stride_h, stride_w] = self.stride;
        let phase = (i % stride_h) * stride_w + j % stride_w;
        phase * self.c_in * self.plane_len() + (i / stride_h) * self.phase[1] + j / stride_w
    }

    /// What tap `tap` reads of channel `channel` of a phased input (the layout of
    /// [`Self::phased`], whose buffer may be longer), from its start to the last grid
    /// position (or the end of the layout).
    fn tap_row<'a>(&self, phased: &'a [f32], channel: usize, tap: usize) -> &'a [f32] {
        let start = self.tap_start(tap) + channel * self.plane_len();
        &phased[start..(start + self.grid_positions()).min(self.phased_len())]
    }

    /// Grid positions a product covers: up to the last real output position.
    fn grid_positions(&self) -> usize {
        (self.output[0] - 1) * self.phase[1] + self.output[1]
    }

    /// Elements of one output channel's grid (`out_h` rows of the phase width).
    fn grid_len(&self) -> usize {
        self.output[0] * self.phase[1]
    }

    fn input_len(&self) -> usize {
        self.c_in * self.input[0] * self.input[1]
    }

    fn output_len(&self) -> usize {
        self.c_out * self.output[0] * self.output[1]
    }

    /// Whether one item's input, as it lies, is already its phased layout (stride 1, no
    /// padding: the residual blocks, which pad by reflection beforehand).
    fn input_is_phased(&self) -> bool {
        self.stride == [1, 1] && self.padding == [(0, 0), (0, 0)]
    }

    /// One item's input `[c_in, in_h, in_w]` as zero-padded phases
    /// `[phases, c_in, phase_h · phase_w]` (in a spare buffer of this thread's: give it back
    /// with [`recycle_phased`]).
    fn phased<'a>(&self, input: &'a [f32]) -> Cow<'a, [f32]> {
        if self.input_is_phased() {
            return Cow::Borrowed(input);
        }
        // (At least as long: the places after the layout are not read, see `tap_row`.)
        let mut phased = spare(self.phased_len());
        let [stride_h, stride_w] = self.stride;
        let [(top, _), (left, _)] = self.padding;
        let [in_h, in_w] = self.input;
        let phase_w = self.phase[1];
        // Every place of one phase plane of one channel written once, in order: padding
        // rows and columns zero, the rest the input's.
        let plane = |index: usize, plane: &mut [f32]| {
            let (phase, channel) = (index / self.c_in, index % self.c_in);
            let (row_phase, column_phase) = (phase / stride_w, phase % stride_w);
            // The first place of a row that holds an input column, that column, and how
            // many places do.
            let first = left.saturating_sub(column_phase).div_ceil(stride_w);
            let column = (first * stride_w + column_phase).saturating_sub(left);
            let count = if first < phase_w && column < in_w {
                (in_w - column).div_ceil(stride_w).min(phase_w - first)
            } else {
                0
            };
            for (place_row, row) in plane.chunks_exact_mut(phase_w).enumerate() {
                let y = (place_row * stride_h + row_phase).checked_sub(top);
                let Some(y) = y.filter(|&y| y < in_h) else {
                    row.fill(0.0);
                    continue;
                };
                let source = &input[(channel * in_h + y) * in_w + column..];
                row[..first].fill(0.0);
                let values = &mut row[first..first + count];
                if stride_w == 1 {
                    values.copy_from_slice(&source[..count]);
                } else {
                    for (value, &x) in values.iter_mut().zip(source.iter().step_by(stride_w)) {
                        *value = x;
                    }
                }
                row[first + count..].fill(0.0);
            }
        };
        // By planes, on all threads when large.
        fill_by_chunks(&mut phased[..self.phased_len()], self.plane_len(), plane);
        Cow::Owned(phased)
    }

    /// Copies a phased gradient back onto one item's input gradient `[c_in, in_h, in_w]`
    /// (the gradient of the padding is dropped).
    fn unphase(&self, phased: &[f32], input_grad: &mut [f32]) {
        let (target, stride) = (Shared::new(input_grad), self.stride[1]);
        let len = self.input_len();
        self.for_each_run(|phased_start, input_start, count| {
            let run = &phased[phased_start..][..count];
            // SAFETY: the input places of one run (every `stride`-th from `input_start`),
            // which only this run writes.
            let target = unsafe {
                std::slice::from_raw_parts_mut(target.at(input_start), len - input_start)
            };
            for (target, &value) in target.iter_mut().step_by(stride).zip(run) {
                *target = value;
            }
        });
    }

    /// Calls `visit(start in the phased layout, start in the input, count)` for every run
    /// of one item's input that lands on consecutive places of the phased layout: the
    /// input elements `start, start + stride_w, …` of one row that fall in one column phase.
    /// The channels are shared out among the threads when the input is large.
    fn for_each_run(&self, visit: impl Fn(usize, usize, usize) + Sync) {
        let [stride_h, stride_w] = self.stride;
        let [(top, _), (left, _)] = self.padding;
        let [in_h, in_w] = self.input;
        let (plane, phase_row) = (self.plane_len(), self.phase[1]);
        // Per column phase: the offset of its first place in a row of the phased layout,
        // the first input column that falls in it, and how many do.
        let runs = (0..stride_w.min(in_w))
            .map(|first| {
                let padded = first + left;
                let offset = (padded % stride_w) * self.c_in * plane + padded / stride_w;
                (offset, first, (in_w - first).div_ceil(stride_w))
            })
            .collect::<Vec<_>>();
        let channel = |channel: usize| {
            for y in 0..in_h {
                let padded_y = y + top;
                let row_start = (padded_y % stride_h) * stride_w * self.c_in * plane
                    + channel * plane
                    + (padded_y / stride_h) * phase_row;
                let input_row = (channel * in_h + y) * in_w;
                for &(offset, first, count) in &runs {
                    visit(row_start + offset, input_row + first, count);
                }
            }
        };
        if self.input_len() >= PARALLEL_COPY {
            use rayon::prelude::*;
            (0..self.c_in).into_par_iter().for_each(channel);
        } else {
            (0..self.c_in).for_each(channel);
        }
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`.
    pub(crate) fn forward(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
        let (x, weight) = (f32_slice(&x), f32_slice(&weight));
        let [out_h, out_w] = self.output;
        let (row, taps) = (self.phase[1], self.taps());
        if self.folds_input(FOLD_BELOW) {
            // output[c_out, q] = W[c_out, (c_in, tap)] · columns[(c_in, tap), q], by tiles
            // of output positions (see `forward_folded`), written where they lie.
            let write = |output: Shared| {
                for item in 0..self.batch {
                    let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
                    // SAFETY: this item's output, `[c_out, out_h, out_w]`, inside the
                    // buffer; the items are written one after the other.
                    unsafe {
                        let output = output.offset(item * self.output_len());
                        self.forward_folded(&phased, weight, output)
                    };
                    recycle_phased(phased);
                }
            };
            // SAFETY: each item's products write all of its output (see `forward_folded`).
            let output = unsafe { written(self.batch * self.output_len(), write) };
            return from_vec(output, [self.batch, self.c_out, out_h, out_w]);
        }
        let mut output = zeros(self.batch * self.output_len());
        if self.c_out < THIN && !self.folds_input(FOLD_BELOW) {
            // A thin output over many input channels: all taps of an input row in one
            // product (see `forward_thin_output`).
            let weight = tap_major(weight, [self.c_out, self.c_in, taps]);
            for (item, output) in output.chunks_exact_mut(self.output_len()).enumerate() {
                let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
                self.forward_thin_output(&phased, &weight, output);
                recycle_phased(phased);
            }
            return from_vec(output, [self.batch, self.c_out, out_h, out_w]);
        }
        // A product per tap, by tiles of output rows, each thread taking tiles in turn: a
        // tile's grid rows (`[c_out, rows · phase_w]`) stay in the thread's cache from the
        // products to their copy into the output.
        let tiles = Tiles::new(out_h, (self.c_in + self.c_out) * size_of::<f32>() * row, 1);
        let work = self.c_out * self.c_in * taps * self.grid_positions();
        let weight = tap_major(weight, [self.c_out, self.c_in, taps]);
        if tiles.count <= rayon::current_num_threads() {
            // Few positions (small maps): a tile per thread would have every thread pack
            // all the weights for a few positions; each thread takes a block of output
            // channels over all positions instead, and packs only its share.
            let (len, plane) = (self.grid_positions(), self.plane_len());
            // The first tap's product writes every grid position.
            let mut grid = spare(self.c_out * len);
            for (item, output) in output.chunks_exact_mut(self.output_len()).enumerate() {
                let phased_input = self.phased(&x[item * self.input_len()..][..self.input_len()]);
                let (output, grid) = (Shared::new(output), Shared::new(&mut grid));
                let (phased, weight) = (Shared::of(&phased_input), Shared::of(&weight));
                for_each_block(self.c_out, work, |first_channel, channels| {
                    for tap in 0..taps {
                        // SAFETY: as in the tiles below, for the block's rows of the grid
                        // and of the tap-major weight, over all grid positions.
                        unsafe {
                            gemm(
                                [channels, len, self.c_in],
                                (grid.at(first_channel * len), 1, len),
                                tap > 0,
                                (
                                    weight.at((first_channel * taps + tap) * self.c_in),
                                    1,
                                    taps * self.c_in,
                                ),
                                (phased.at(self.tap_start(tap)), 1, plane),
                            );
                        }
                    }
                    for channel in first_channel..first_channel + channels {
                        // SAFETY: the block's own channels of the grid and of the output.
                        let (grid, target) = unsafe {
                            (
                                std::slice::from_raw_parts(grid.at(channel * len), len),
                                std::slice::from_raw_parts_mut(
                                    output.at(channel * out_h * out_w),
                                    out_h * out_w,
                                ),
                            )
                        };
                        self.crop_rows(grid, target);
                    }
                });
                recycle_phased(phased_input);
            }
            recycle([grid]);
            return from_vec(output, [self.batch, self.c_out, out_h, out_w]);
        }
        for (item, output) in output.chunks_exact_mut(self.output_len()).enumerate() {
            let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
            let output = Shared::new(output);
            tiles.for_each(work, |grid: &mut Vec<f32>, first_row, rows| {
                // The tile's grid positions, up to the last real output of its rows.
                let (first, len) = (first_row * row, (rows - 1) * row + out_w);
                grid.resize(self.c_out * len, 0.0);
                for tap in 0..taps {
                    // grid[c_out, p] (+)= W[:, :, tap] · x[c_in, p + offset]
                    // SAFETY: lhs rows `c_out` of stride taps·c_in from the tap's `c_in`
                    // weights (tap-major layout); rhs rows `c_in` of stride plane_len from
                    // the tap's start plus the tile's first position, `len` long, ending at
                    // most at the last element of the phase plane; dst the tile's grid.
                    unsafe {
                        gemm(
                            [self.c_out, len, self.c_in],
                            (grid.as_mut_ptr(), 1, len),
                            tap > 0,
                            (weight.as_ptr().add(tap * self.c_in), 1, taps * self.c_in),
                            (
                                phased.as_ptr().add(self.tap_start(tap) + first),
                                1,
                                self.plane_len(),
                            ),
                        );
                    }
                }
                // SAFETY: this tile's rows of this item's output, which no other tile writes.
                unsafe { self.copy_rows_out(grid, len, [first_row, rows], output) };
            });
            recycle_phased(phased);
        }
        from_vec(output, [self.batch, self.c_out, out_h, out_w])
    }

    /// One item's forward pass with the taps folded into the inner dimension of one product
    /// per tile of output positions `q = y·out_w + x`:
    /// `output[c_out, q] = W[c_out, (c_in, tap)] · columns[(c_in, tap), q]`, where
    /// `columns[(c, t), q]` is what tap `t` reads of channel `c` at grid position
    /// `y·phase_w + x` (copied in, row of the output by row). The products write every
    /// output position once, where it lies: no grid to crop (its extra columns are not
    /// copied), and the output need not be zeroed first.
    ///
    /// # Safety
    /// `output` must point at one item's output `[c_out, out_h, out_w]` (which may hold
    /// anything, uninitialised memory included), which no other thread uses meanwhile.
    unsafe fn forward_folded(&self, phased: &[f32], weight: &[f32], output: Shared) {
        let [out_h, out_w] = self.output;
        let (channels, taps, row) = (self.c_in, self.taps(), self.phase[1]);
        let (rows, positions) = (channels * taps, out_h * out_w);
        let tiles = Tiles::of_positions(positions, rows * size_of::<f32>());
        tiles.for_each(
            self.c_out * rows * positions,
            |columns: &mut Vec<f32>, first, len| {
                columns.resize(rows * len, 0.0);
                for (index, column) in columns.chunks_exact_mut(len).enumerate() {
                    let source = self.tap_row(phased, index / taps, index % taps);
                    // The tile's positions, a run of each output row it touches.
                    let mut q = first;
                    while q < first + len {
                        let (y, x) = (q / out_w, q % out_w);
                        let count = (out_w - x).min(first + len - q);
                        column[q - first..][..count]
                            .copy_from_slice(&source[y * row + x..][..count]);
                        q += count;
                    }
                }
                // SAFETY: lhs rows `c_out` of `rows` weights; rhs is `columns` (rows of
                // `len`); dst is this tile's positions of the item's `c_out` output planes,
                // which no other tile writes (the caller's contract for the item).
                unsafe {
                    gemm(
                        [self.c_out, len, rows],
                        (output.at(first), 1, positions),
                        false,
                        (weight.as_ptr(), 1, rows),
                        (columns.as_ptr(), 1, len),
                    );
                }
            },
        );
    }

    /// One item's forward pass for a thin output (fewer than [`THIN`] output channels over
    /// [`THIN`] input channels or more; stride 1, see `new`), into its zeroed `output`
    /// `[c_out, out_h, out_w]`, from its `phased` input and the `tap_major` weight.
    ///
    /// A product per tap would have only `c_out` rows: the matrix product would pack the
    /// whole input once per tap (49 times for the generators' 7×7 RGB tail) for a few
    /// multiply-adds per element packed. Instead every tap's products of a run of input
    /// rows are one product of `c_out · taps` rows,
    /// `Z[(c_out, tap), q] = W[c_out, :, tap] · x[:, q]`, the input packed once, and each row
    /// of `Z` is then added onto the output rows at its tap's offset:
    /// `out[c_out, y, x] = Σ_(i, j) Z[(c_out, (i, j)), (y + i) · phase_w + x + j]`, the taps in
    /// the order of the products per tap. Each thread takes a band of output rows and goes
    /// through the input rows under it (`k_h − 1` more than the band) by chunks that keep
    /// `Z` in its cache.
    fn forward_thin_output(&self, phased: &[f32], weight: &[f32], output: &mut [f32]) {
        use rayon::prelude::*;
        let [out_h, out_w] = self.output;
        let [k_h, k_w] = self.kernel;
        let (row, plane, taps) = (self.phase[1], self.plane_len(), self.taps());
        let rows = self.c_out * taps;
        // Input rows per product: `Z` and the input rows within a core's cache.
        let chunk = (TILE_BYTES / ((rows + self.c_in) * row * size_of::<f32>())).max(1);
        let threads = threads_for(self.c_out * self.c_in * taps * self.grid_positions());
        let band = out_h.div_ceil(threads.min(out_h));
        let output = Shared::new(output);
        (0..out_h.div_ceil(band)).into_par_iter().for_each_init(
            Vec::new,
            |z: &mut Vec<f32>, index| {
                let (first, end) = (index * band, ((index + 1) * band).min(out_h));
                // Input rows `first..end + k_h − 1` feed output rows `first..end`.
                for start in (first..end + k_h - 1).step_by(chunk) {
                    let count = chunk.min(end + k_h - 1 - start);
                    let len = count * row;
                    z.resize(rows * len, 0.0);
                    // SAFETY: dst is `z` (rows of `len`); lhs the tap-major weight, rows
                    // (c_out, tap) of `c_in`; rhs `len` positions of every channel's plane
                    // from input row `start`, which end at most at the plane's end
                    // (`start + count ≤ out_h + k_h − 1`, the padded height).
                    unsafe {
                        gemm(
                            [rows, len, self.c_in],
                            (z.as_mut_ptr(), 1, len),
                            false,
                            (weight.as_ptr(), 1, self.c_in),
                            (phased.as_ptr().add(start * row), 1, plane),
                        );
                    }
                    for channel in 0..self.c_out {
                        for i in 0..k_h {
                            // Input row `a` adds onto output row `a − i` of this band.
                            for a in start.max(first + i)..(start + count).min(end + i) {
                                let y = a - i;
                                // SAFETY: one row of this band's output rows, which no other
                                // band writes.
                                let target = unsafe {
                                    std::slice::from_raw_parts_mut(
                                        output.at((channel * out_h + y) * out_w),
                                        out_w,
                                    )
                                };
                                for j in 0..k_w {
                                    let tap_row = (channel * taps + i * k_w + j) * len;
                                    let source = &z[tap_row + (a - start) * row + j..][..out_w];
                                    for (target, value) in target.iter_mut().zip(source) {
                                        *target += value;
                                    }
                                }
                            }
                        }
                    }
                }
            },
        );
    }

    /// Copies output rows `first_row..first_row + rows` of every channel from the grid
    /// (channel `c`'s first of these rows at `grid[c · grid_stride]`, rows `phase_w` apart)
    /// to their places in one item's output, dropping the grid's extra columns.
    ///
    /// # Safety
    /// `output` must point at one item's output `[c_out, out_h, out_w]`, and no other thread
    /// may write these rows meanwhile.
    unsafe fn copy_rows_out(
        &self,
        grid: &[f32],
        grid_stride: usize,
        [first_row, rows]: [usize; 2],
        output: Shared,
    ) {
        let [out_h, out_w] = self.output;
        for channel in 0..self.c_out {
            let start = (channel * out_h + first_row) * out_w;
            // SAFETY: the rows of one channel of the output (the caller's contract).
            let target = unsafe { std::slice::from_raw_parts_mut(output.at(start), rows * out_w) };
            self.crop_rows(&grid[channel * grid_stride..], target);
        }
    }

    /// Copies as many output rows as `output` holds from one channel's grid rows (`phase_w`
    /// apart, from the first), dropping the grid's extra columns.
    fn crop_rows(&self, grid: &[f32], output: &mut [f32]) {
        let out_w = self.output[1];
        for (y, output) in output.chunks_exact_mut(out_w).enumerate() {
            output.copy_from_slice(&grid[y * self.phase[1]..][..out_w]);
        }
    }

    /// The gradient of the input, `[batch, c_in, in_h, in_w]`, given the output's.
    pub(crate) fn input_grad(
        &self,
        weight: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
        let (weight, grad) = (f32_slice(&weight), f32_slice(&grad));
        let mut input_grad = zeros(self.batch * self.input_len());
        let mut grad_grid = spare(self.c_out * self.grid_len());
        let mut phased_grad = if self.input_is_phased() {
            Vec::new()
        } else {
            spare(self.phased_len())
        };
        // W'[c_in, (c_out, tap)] = W[c_out, c_in, tap] for the folded product of thin
        // outputs; the tap-major weight for the products per tap (see below).
        let reordered = if self.c_out < THIN {
            let taps = self.taps();
            (0..self.c_in * self.c_out * taps)
                .map(|index| {
                    let (c_in, rest) = (index / (self.c_out * taps), index % (self.c_out * taps));
                    let (c_out, tap) = (rest / taps, rest % taps);
                    weight[(c_out * self.c_in + c_in) * taps + tap]
                })
                .collect()
        } else if !self.folds_input(FOLD_BELOW) {
            tap_major(weight, [self.c_out, self.c_in, self.taps()])
        } else {
            Vec::new()
        };
        for (item, input_grad) in input_grad.chunks_exact_mut(self.input_len()).enumerate() {
            self.spread_onto_grid(&grad[item * self.output_len()..], &mut grad_grid);
            let target: &mut [f32] = if self.input_is_phased() {
                input_grad
            } else {
                &mut phased_grad[..self.phased_len()]
            };
            // The products below add onto `target`: zeros when fresh (this item's input
            // gradient), else (a spare buffer) zeroed here.
            if !self.input_is_phased() {
                zero(target);
            }
            if self.c_out < THIN {
                // One phase (stride 1, see `new`):
                // target[c_in, q] = W'[c_in, (c_out, tap)] · columns[(c_out, tap), q],
                // columns[(c_out, tap), q] = grad_grid[c_out, q − offset]
                folded(
                    &reordered,
                    [self.c_in, self.c_out, self.taps()],
                    |channel, _| &grad_grid[channel * self.grid_len()..][..self.grid_len()],
                    |tap| self.tap_start(tap),
                    (target, self.plane_len(), self.plane_len()),
                );
            } else if self.folds_input(FOLD_BELOW) {
                // Taps folded, as in the forward pass: every tap's contribution to a tile
                // of positions in one product,
                // per_tap[(c_in, tap), p] = Σ_c_out W[c_out, c_in, tap] · grad_grid[c_out, p],
                // then each row added onto its tap's place (col2im on the grid). Each thread
                // takes a block of input channels, whose places no other block touches, and
                // goes through the positions by tiles that keep its rows in its cache. (By
                // tiles of positions shared out instead, neighbouring tiles add onto the
                // same places, and ran in two rounds: on small maps, one tile a round, one
                // thread at a time.)
                let (positions, taps) = (self.grid_positions(), self.taps());
                let work = self.c_in * taps * positions * self.c_out;
                let (target, weight) = (Shared::new(target), Shared::of(weight));
                let grid = Shared::of(&grad_grid);
                for_each_block(self.c_in, work, |first_channel, channels| {
                    let rows = channels * taps;
                    let tile = (TILE_BYTES / (rows * size_of::<f32>()))
                        .max(BLOCK)
                        .min(positions.max(1));
                    let mut per_tap = Vec::new();
                    for first in (0..positions).step_by(tile) {
                        let len = tile.min(positions - first);
                        per_tap.resize(rows * len, 0.0);
                        // SAFETY: dst is `per_tap` (rows of `len`); lhs reads the weight as
                        // [(c_in, tap), c_out] (unit row stride, column stride c_in·taps)
                        // from the block's first channel; rhs the tile's columns of the grid.
                        unsafe {
                            gemm(
                                [rows, len, self.c_out],
                                (per_tap.as_mut_ptr(), 1, len),
                                false,
                                (weight.at(first_channel * taps), self.c_in * taps, 1),
                                (grid.at(first), 1, self.grid_len()),
                            );
                        }
                        for (row, values) in per_tap.chunks_exact(len).enumerate() {
                            let (channel, tap) = (first_channel + row / taps, row % taps);
                            let start = self.tap_start(tap) + channel * self.plane_len() + first;
                            // SAFETY: inside the phased input, in the planes of this block's
                            // channels, which no other block adds onto.
                            let target =
                                unsafe { std::slice::from_raw_parts_mut(target.at(start), len) };
                            for (target, value) in target.iter_mut().zip(values) {
                                *target += value;
                            }
                        }
                    }
                });
            } else {
                // target[c_in, p + offset] += W[:, :, tap]ᵀ · grad_grid[c_out, p], tap by
                // tap, each thread on its own block of input channels, every tap on it (the
                // taps' positions overlap, the channels do not).
                let (positions, plane) = (self.grid_positions(), self.plane_len());
                let (target_ptr, weight_ptr) = (Shared::new(target), Shared::of(&reordered));
                let grid_ptr = Shared::of(&grad_grid);
                let work = self.c_in * positions * self.c_out * self.taps();
                for_each_block(self.c_in, work, |first, channels| {
                    for tap in 0..self.taps() {
                        // SAFETY: as in `forward`, with the roles of input and output
                        // swapped: dst rows `channels` of stride plane_len from the tap's
                        // start, `grid_positions` long; lhs is the tap-major weight read
                        // transposed from the block's first channel.
                        unsafe {
                            gemm(
                                [channels, positions, self.c_out],
                                (target_ptr.at(first * plane + self.tap_start(tap)), 1, plane),
                                true,
                                (
                                    weight_ptr.at(tap * self.c_in + first),
                                    self.taps() * self.c_in,
                                    1,
                                ),
                                (grid_ptr.at(0), 1, self.grid_len()),
                            );
                        }
                    }
                });
            }
            if !self.input_is_phased() {
                self.unphase(&phased_grad, input_grad);
            }
        }
        recycle([grad_grid, phased_grad]);
        from_vec(
            input_grad,
            [self.batch, self.c_in, self.input[0], self.input[1]],
        )
    }

    /// The gradient of the weight, `[c_out, c_in, k_h, k_w]`, given the output's.
    pub(crate) fn weight_grad(
        &self,
        x: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let (x, grad) = (f32_slice(&x), f32_slice(&grad));
        let mut weight_grad = zeros(self.c_out * self.c_in * self.taps());
        let mut grad_grid = spare(self.c_out * self.grid_len());
        for item in 0..self.batch {
            self.spread_onto_grid(&grad[item * self.output_len()..], &mut grad_grid);
            let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
            if self.folds_input(FOLD_BELOW_WEIGHT_GRAD) {
                // dW[c_out, (c_in, tap)] += Σ_tiles grad_grid[c_out, p] · columns[(c_in, tap), p]ᵀ
                let (positions, rows) = (self.grid_positions(), self.c_in * self.taps());
                let tiles = Tiles::of_positions(positions, rows * size_of::<f32>());
                let work = self.c_out * rows * positions;
                let sum = tiles.sum(self.c_out * rows, work, |columns, sum, first, len| {
                    fill_columns(
                        columns,
                        [self.c_in, self.taps()],
                        (first, len),
                        &|channel, tap| self.tap_row(&phased, channel, tap),
                        &|_| 0,
                    );
                    // SAFETY: dst is this thread's sum (rows `c_out` of `rows`); lhs the
                    // tile's columns of the grid; rhs the tile's columns read transposed.
                    unsafe {
                        gemm(
                            [self.c_out, rows, len],
                            (sum.as_mut_ptr(), 1, rows),
                            true,
                            (grad_grid.as_ptr().add(first), 1, self.grid_len()),
                            (columns.as_ptr(), len, 1),
                        );
                    }
                });
                weight_grad
                    .iter_mut()
                    .zip(&sum)
                    .for_each(|(total, part)| *total += part);
                recycle_phased(phased);
                continue;
            }
            // dW[c_out, c_in, tap] (+)= grad_grid[c_out, p] · x[c_in, p + offset]ᵀ, tap by
            // tap, each thread on its own block of output channels (or of input channels,
            // the longer side), every tap on it.
            // The taps' gradients are laid out tap-major, `[c_out, taps, c_in]`, so that each
            // product writes rows of unit stride (see `tap_major`); reordered at the end.
            let positions = self.grid_positions();
            let (dst_ptr, grid_ptr) = (Shared::new(&mut weight_grad), Shared::of(&grad_grid));
            let phased_ptr = Shared::of(&phased);
            let work = self.c_out * self.c_in * positions * self.taps();
            let by_rows = self.c_out >= self.c_in;
            let length = if by_rows { self.c_out } else { self.c_in };
            for_each_block(length, work, |start, len| {
                let ([rows, columns], row, column) = if by_rows {
                    ([len, self.c_in], start, 0)
                } else {
                    ([self.c_out, len], 0, start)
                };
                for tap in 0..self.taps() {
                    // SAFETY: dst is the tap-major weight gradient, rows of taps·c_in
                    // from the block's first element of `tap`; lhs is the grid (rows of
                    // grid_len, `grid_positions` long); rhs reads the phased input
                    // transposed, as in `forward`. The blocks are disjoint.
                    unsafe {
                        gemm(
                            [rows, columns, positions],
                            (
                                dst_ptr.at((row * self.taps() + tap) * self.c_in + column),
                                1,
                                self.taps() * self.c_in,
                            ),
                            item > 0,
                            (grid_ptr.at(row * self.grid_len()), 1, self.grid_len()),
                            (
                                phased_ptr.at(self.tap_start(tap) + column * self.plane_len()),
                                self.plane_len(),
                                1,
                            ),
                        );
                    }
                }
            });
            recycle_phased(phased);
        }
        recycle([grad_grid]);
        if !self.folds_input(FOLD_BELOW_WEIGHT_GRAD) {
            weight_grad = from_tap_major(&weight_grad, [self.c_out, self.c_in, self.taps()]);
        }
        from_vec(
            weight_grad,
            [self.c_out, self.c_in, self.kernel[0], self.kernel[1]],
        )
    }

    /// Copies one item's `[c_out, out_h, out_w]` gradient onto the grid (the first
    /// `c_out · grid_len` places of `grid`, a buffer of any content), its extra columns zero
    /// (the channels shared among the threads when large).
    fn spread_onto_grid(&self, grad: &[f32], grid: &mut [f32]) {
        let [out_h, out_w] = self.output;
        let grid = &mut grid[..self.c_out * self.grid_len()];
        fill_by_chunks(grid, self.grid_len(), |channel, grid| {
            let rows = grad[channel * out_h * out_w..][..out_h * out_w].chunks_exact(out_w);
            for (source, target) in rows.zip(grid.chunks_exact_mut(self.phase[1])) {
                target[..out_w].copy_from_slice(source);
                target[out_w..].fill(0.0);
            }
        });
    }
}

/// Gives a phased input made by [`TapConv::phased`] back to this thread's spare buffers.
fn recycle_phased(phased: Cow<'_, [f32]>) {
    if let Cow::Owned(buffer) = phased {
        recycle([buffer]);
    }
}

fn is_f32(tensors: [&FloatTensor<Flex>; 2]) -> bool {
    tensors.iter().all(|tensor| tensor.dtype() == DType::F32)
}

/// `dst[m, p] = Σ_{c, t} weight[m, c·taps + t] · columns[(c, t), p]` for `p` in
/// `0..positions` (see [`fill_columns`]): the taps folded into the inner dimension of one
/// product per tile of positions, the tiles shared out among the threads. `dst` rows are
/// `dst_stride` apart.
fn folded<'a>(
    weight: &[f32],
    [m, channels, taps]: [usize; 3],
    row: impl Fn(usize, usize) -> &'a [f32] + Sync,
    shift: impl Fn(usize) -> usize + Sync,
    (dst, dst_stride, positions): (&mut [f32], usize, usize),
) {
    let rows = channels * taps;
    let tiles = Tiles::of_positions(positions, rows * core::mem::size_of::<f32>());
    let dst = Shared::new(dst);
    tiles.for_each(
        m * rows * positions,
        |columns: &mut Vec<f32>, first, len| {
            fill_columns(columns, [channels, taps], (first, len), &row, &shift);
            // SAFETY: lhs rows `m` of `rows` weights; rhs is `columns` (rows of `len`); dst is
            // this tile's columns of rows `m` of `dst_stride ≥ positions`, which no other
            // tile writes.
            unsafe {
                gemm(
                    [m, len, rows],
                    (dst.at(first), 1, dst_stride),
                    false,
                    (weight.as_ptr(), 1, rows),
                    (columns.as_ptr(), 1, len),
                );
            }
        },
    );
}

/// Fills `columns[(c, t), i] = row(c, t)[first + i − shift(t)]` for `i` in `0..len` (reads
/// outside `row(c, t)` taken as zero), `channels · taps` rows of `len`.
fn fill_columns<'a>(
    columns: &mut Vec<f32>,
    [channels, taps]: [usize; 2],
    (first, len): (usize, usize),
    row: &impl Fn(usize, usize) -> &'a [f32],
    shift: &impl Fn(usize) -> usize,
) {
    columns.resize(channels * taps * len, 0.0);
    for (index, column) in columns.chunks_exact_mut(len).enumerate() {
        let (channel, tap) = (index / taps, index % taps);
        let source = row(channel, tap);
        // Positions `first + i` with `i` in `lead..end` read `source[first + i − shift]`.
        let shift = shift(tap);
        let lead = shift.saturating_sub(first).min(len);
        let start = (first + lead).saturating_sub(shift).min(source.len());
        let end = (lead + source.len() - start).min(len);
        column[..lead].fill(0.0);
        column[lead..end].copy_from_slice(&source[start..start + end - lead]);
        column[end..].fill(0.0);
    }
}

/// The weight `[c_out, c_in, taps]` laid out tap-major, `[c_out, taps, c_in]`, so that each
/// tap's `[c_out, c_in]` matrix has unit stride along `c_in`: the matrix product packs its
/// operands by reading along that side, which in the weight's own layout are `taps` apart
/// (a cache line per element; the 4×4 discriminator layers, 16 taps, spent about a tenth
/// of their time there). By output channels, on all threads when large.
fn tap_major(weight: &[f32], [c_out, c_in, taps]: [usize; 3]) -> Vec<f32> {
    reorder(weight, [c_out, c_in, taps])
}

/// The inverse of [`tap_major`]: `[c_out, taps, c_in]` back to `[c_out, c_in, taps]`.
fn from_tap_major(weight: &[f32], [c_out, c_in, taps]: [usize; 3]) -> Vec<f32> {
    reorder(weight, [c_out, taps, c_in])
}

/// Each output channel's `[rows, columns]` block of `weight` transposed to `[columns, rows]`,
/// the target written in order (the source block, a few KiB, stays in the L1 cache while
/// its columns are read).
fn reorder(weight: &[f32], [c_out, rows, columns]: [usize; 3]) -> Vec<f32> {
    let block = rows * columns;
    let mut reordered = vec![0.0f32; c_out * block];
    let channel = |(source, target): (&[f32], &mut [f32])| {
        for (column, target) in target.chunks_exact_mut(rows).enumerate() {
            for (target, &value) in target
                .iter_mut()
                .zip(source[column..].iter().step_by(columns))
            {
                *target = value;
            }
        }
    };
    if weight.len() >= PARALLEL_COPY {
        use rayon::prelude::*;
        weight
            .par_chunks_exact(block)
            .zip(reordered.par_chunks_exact_mut(block))
            .for_each(channel);
    } else {
        weight
            .chunks_exact(block)
            .zip(reordered.chunks_exact_mut(block))
            .for_each(channel);
    }
    reordered
}
