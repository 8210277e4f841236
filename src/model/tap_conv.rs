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
//! The backward passes are the same products transposed: the input gradient adds
//! `W[:, :, i, j]ᵀ · grad` into the (phased) input's grid at the tap's offset, and the weight
//! gradient of a tap is `grad · x[:, p + offset]ᵀ` over all positions (the grid's extra
//! columns of `grad` are zero, so they add nothing). A transposed convolution is the input
//! gradient of the convolution with its weight, so it runs on the same plan
//! ([`TapConv::transposed`]), its gradients being that convolution's forward pass and
//! weight gradient.
//!
//! Measured beside PyTorch 2.15 on two cores (256 channels, 3×3, 64²), each pass runs at the
//! machine's matrix-multiply rate, as PyTorch's oneDNN does (`docs/benchmarks.md`).

use std::borrow::Cow;

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::{ConvOptions, ConvTransposeOptions};
use burn::backend::tensor::FloatTensor;
use burn::tensor::DType;

use super::flex_tensor::{f32_slice, from_vec};

/// Below this many channels a matrix side is thin: a product with a thin output side runs
/// transposed (the long side of positions becomes the rows, which the micro-kernel tiles
/// well), and a product with a thin inner side folds the kernel taps into it (columns of
/// `taps · channels` rows built from the grid, one product) rather than run `taps` products
/// that each stream the whole output for a handful of multiply-adds. A thin input's
/// gradient is one product for all taps, `[c_in · taps, positions]`, whose rows are then
/// added onto their taps' places. The generators' RGB head and tail are such layers.
const THIN: usize = 16;

/// Inputs with fewer channels than this fold the taps into the forward product and the
/// weight gradient's, unless the output is thin: a per-tap product whose inner dimension is
/// this short spends much of its time loading and storing the output tile (measured on the
/// PatchGAN discriminator and the generators' downsampling layers), while folding copies the
/// input once per tap into columns.
const FOLD_BELOW: usize = 256;

/// The most bytes of folded columns built at a time.
const COLUMNS_BYTES: usize = 32 << 20;

/// Products at least this large (multiply-adds) run on all threads.
const PARALLEL_WORK: usize = 192 * 192 * 192;

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

    /// Whether the forward product and the weight gradient's fold the taps into the inner
    /// dimension (see [`THIN`] and [`FOLD_BELOW`]).
    fn folds_input(&self) -> bool {
        self.c_in < THIN || (self.c_in < FOLD_BELOW && self.c_out >= THIN)
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

    /// What tap `tap` reads of channel `channel` of a phased input, from its start to the
    /// last grid position (or the end of the input).
    fn tap_row<'a>(&self, phased: &'a [f32], channel: usize, tap: usize) -> &'a [f32] {
        let start = self.tap_start(tap) + channel * self.plane_len();
        &phased[start..(start + self.grid_positions()).min(phased.len())]
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
    /// `[phases, c_in, phase_h · phase_w]`.
    fn phased<'a>(&self, input: &'a [f32]) -> Cow<'a, [f32]> {
        if self.input_is_phased() {
            return Cow::Borrowed(input);
        }
        let mut phased = vec![0.0f32; self.phased_len()];
        self.for_each_element(|phased_index, input_index| {
            phased[phased_index] = input[input_index];
        });
        Cow::Owned(phased)
    }

    /// Copies a phased gradient back onto one item's input gradient `[c_in, in_h, in_w]`
    /// (the gradient of the padding is dropped).
    fn unphase(&self, phased: &[f32], input_grad: &mut [f32]) {
        self.for_each_element(|phased_index, input_index| {
            input_grad[input_index] = phased[phased_index];
        });
    }

    /// Calls `visit(index in the phased layout, index in the input)` for every element of
    /// one item's input.
    fn for_each_element(&self, mut visit: impl FnMut(usize, usize)) {
        let [stride_h, stride_w] = self.stride;
        let [(top, _), (left, _)] = self.padding;
        let [in_h, in_w] = self.input;
        let (plane, phase_row) = (self.plane_len(), self.phase[1]);
        // Where each input column lands: its column phase's planes, and its place there.
        let columns = (0..in_w)
            .map(|x| {
                let padded_x = x + left;
                (padded_x % stride_w) * self.c_in * plane + padded_x / stride_w
            })
            .collect::<Vec<_>>();
        for channel in 0..self.c_in {
            for y in 0..in_h {
                let padded_y = y + top;
                let row_start = (padded_y % stride_h) * stride_w * self.c_in * plane
                    + channel * plane
                    + (padded_y / stride_h) * phase_row;
                let input_row = (channel * in_h + y) * in_w;
                for (x, column) in columns.iter().enumerate() {
                    visit(row_start + column, input_row + x);
                }
            }
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
        let mut output = vec![0.0f32; self.batch * self.output_len()];
        let mut grid = vec![0.0f32; self.c_out * self.grid_len()];
        for (item, output) in output.chunks_exact_mut(self.output_len()).enumerate() {
            let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
            if self.folds_input() {
                // grid[c_out, p] = W[c_out, (c_in, tap)] · columns[(c_in, tap), p]
                folded(
                    weight,
                    [self.c_out, self.c_in, self.taps()],
                    |channel, tap| self.tap_row(&phased, channel, tap),
                    |_| 0,
                    (&mut grid, self.grid_len(), self.grid_positions()),
                );
            } else {
                for tap in 0..self.taps() {
                    // grid[c_out, p] (+)= W[:, :, tap] · x[c_in, p + offset]
                    // SAFETY: every index stays inside its slice: lhs rows `c_out` of
                    // stride c_in·taps from `tap`; rhs rows `c_in` of stride plane_len from
                    // the tap's start, `grid_positions` long, ending at most at the last
                    // element of the phase plane; dst rows `c_out` of stride grid_len.
                    unsafe {
                        gemm(
                            [self.c_out, self.grid_positions(), self.c_in],
                            (grid.as_mut_ptr(), 1, self.grid_len()),
                            tap > 0,
                            (
                                weight.as_ptr().add(tap),
                                self.taps(),
                                self.c_in * self.taps(),
                            ),
                            (
                                phased.as_ptr().add(self.tap_start(tap)),
                                1,
                                self.plane_len(),
                            ),
                        );
                    }
                }
            }
            crop(&grid, [self.grid_len(), self.phase[1]], self.output, output);
        }
        from_vec(
            output,
            [self.batch, self.c_out, self.output[0], self.output[1]],
        )
    }

    /// The gradient of the input, `[batch, c_in, in_h, in_w]`, given the output's.
    pub(crate) fn input_grad(
        &self,
        weight: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let (weight, grad) = (weight.to_contiguous(), grad.to_contiguous());
        let (weight, grad) = (f32_slice(&weight), f32_slice(&grad));
        let mut input_grad = vec![0.0f32; self.batch * self.input_len()];
        let mut grad_grid = vec![0.0f32; self.c_out * self.grid_len()];
        let mut phased_grad = if self.input_is_phased() {
            Vec::new()
        } else {
            vec![0.0f32; self.phased_len()]
        };
        // W'[c_in, (c_out, tap)] = W[c_out, c_in, tap], for the folded product.
        let reordered = if self.c_out < THIN {
            let taps = self.taps();
            (0..self.c_in * self.c_out * taps)
                .map(|index| {
                    let (c_in, rest) = (index / (self.c_out * taps), index % (self.c_out * taps));
                    let (c_out, tap) = (rest / taps, rest % taps);
                    weight[(c_out * self.c_in + c_in) * taps + tap]
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut per_tap = Vec::new();
        for (item, input_grad) in input_grad.chunks_exact_mut(self.input_len()).enumerate() {
            self.spread_onto_grid(&grad[item * self.output_len()..], &mut grad_grid);
            let target: &mut [f32] = if self.input_is_phased() {
                input_grad
            } else {
                &mut phased_grad
            };
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
            } else if self.c_in < THIN {
                // Thin input: every tap's contribution in one product,
                // per_tap[(c_in, tap), p] = Σ_c_out W[c_out, c_in, tap] · grad_grid[c_out, p],
                // then each row added onto its tap's place (col2im on the grid).
                let positions = self.grid_positions();
                let rows = self.c_in * self.taps();
                per_tap.resize(rows * positions, 0.0);
                // SAFETY: dst is `per_tap` (rows of `positions`); lhs reads the weight as
                // [(c_in, tap), c_out] (unit row stride, column stride c_in·taps); rhs the
                // grid.
                unsafe {
                    gemm(
                        [rows, positions, self.c_out],
                        (per_tap.as_mut_ptr(), 1, positions),
                        false,
                        (weight.as_ptr(), rows, 1),
                        (grad_grid.as_ptr(), 1, self.grid_len()),
                    );
                }
                target.fill(0.0);
                for (row, values) in per_tap.chunks_exact(positions).enumerate() {
                    let (channel, tap) = (row / self.taps(), row % self.taps());
                    let start = self.tap_start(tap) + channel * self.plane_len();
                    for (target, value) in target[start..start + positions].iter_mut().zip(values) {
                        *target += value;
                    }
                }
            } else {
                target.fill(0.0);
                for tap in 0..self.taps() {
                    // target[c_in, p + offset] += W[:, :, tap]ᵀ · grad_grid[c_out, p]
                    // SAFETY: as in `forward`, with the roles of input and output swapped:
                    // dst rows `c_in` of stride plane_len from the tap's start,
                    // `grid_positions` long; lhs is the weight read transposed.
                    unsafe {
                        gemm(
                            [self.c_in, self.grid_positions(), self.c_out],
                            (
                                target.as_mut_ptr().add(self.tap_start(tap)),
                                1,
                                self.plane_len(),
                            ),
                            true,
                            (
                                weight.as_ptr().add(tap),
                                self.c_in * self.taps(),
                                self.taps(),
                            ),
                            (grad_grid.as_ptr(), 1, self.grid_len()),
                        );
                    }
                }
            }
            if !self.input_is_phased() {
                self.unphase(&phased_grad, input_grad);
            }
        }
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
        let mut weight_grad = vec![0.0f32; self.c_out * self.c_in * self.taps()];
        let mut grad_grid = vec![0.0f32; self.c_out * self.grid_len()];
        for item in 0..self.batch {
            self.spread_onto_grid(&grad[item * self.output_len()..], &mut grad_grid);
            let phased = self.phased(&x[item * self.input_len()..][..self.input_len()]);
            if self.folds_input() {
                // dW[c_out, (c_in, tap)] (+)= grad_grid[c_out, p] · columns[(c_in, tap), p]ᵀ
                let positions = self.grid_positions();
                for_each_column_group(
                    [self.c_in, self.taps(), positions],
                    |channel, tap| self.tap_row(&phased, channel, tap),
                    |_| 0,
                    |first, group, columns| {
                        // SAFETY: dst is the weight gradient's columns of this group (rows
                        // of c_in·taps); lhs the grid; rhs the columns read transposed.
                        unsafe {
                            gemm(
                                [self.c_out, group * self.taps(), positions],
                                (
                                    weight_grad.as_mut_ptr().add(first * self.taps()),
                                    1,
                                    self.c_in * self.taps(),
                                ),
                                item > 0,
                                (grad_grid.as_ptr(), 1, self.grid_len()),
                                (columns.as_ptr(), positions, 1),
                            );
                        }
                    },
                );
                continue;
            }
            for tap in 0..self.taps() {
                // dW[c_out, c_in, tap] (+)= grad_grid[c_out, p] · x[c_in, p + offset]ᵀ
                // SAFETY: dst is the weight gradient read with strides (taps, c_in·taps)
                // from `tap`; lhs is the grid (rows of grid_len, `grid_positions` long);
                // rhs reads the phased input transposed, as in `forward`.
                unsafe {
                    gemm(
                        [self.c_out, self.c_in, self.grid_positions()],
                        (
                            weight_grad.as_mut_ptr().add(tap),
                            self.taps(),
                            self.c_in * self.taps(),
                        ),
                        item > 0,
                        (grad_grid.as_ptr(), 1, self.grid_len()),
                        (
                            phased.as_ptr().add(self.tap_start(tap)),
                            self.plane_len(),
                            1,
                        ),
                    );
                }
            }
        }
        from_vec(
            weight_grad,
            [self.c_out, self.c_in, self.kernel[0], self.kernel[1]],
        )
    }

    /// Copies one item's `[c_out, out_h, out_w]` gradient onto the grid, whose extra
    /// columns stay zero.
    fn spread_onto_grid(&self, grad: &[f32], grid: &mut [f32]) {
        let [_, out_w] = self.output;
        let rows = grad[..self.output_len()].chunks_exact(out_w);
        for (source, target) in rows.zip(grid.chunks_exact_mut(self.phase[1])) {
            target[..out_w].copy_from_slice(source);
        }
    }
}

fn is_f32(tensors: [&FloatTensor<Flex>; 2]) -> bool {
    tensors.iter().all(|tensor| tensor.dtype() == DType::F32)
}

/// Copies planes of `rows × width` out of planes laid out with rows of `row_stride` and
/// planes of `plane_stride`, filling `target` plane by plane.
fn crop(
    source: &[f32],
    [plane_stride, row_stride]: [usize; 2],
    [rows, width]: [usize; 2],
    target: &mut [f32],
) {
    for (plane, target) in target.chunks_exact_mut(rows * width).enumerate() {
        let source = &source[plane * plane_stride..];
        for (row, target) in target.chunks_exact_mut(width).enumerate() {
            target.copy_from_slice(&source[row * row_stride..][..width]);
        }
    }
}

/// `dst[m, p] = Σ_{c, t} weight[m, c·taps + t] · columns[(c, t), p]` for `p` in
/// `0..positions` (see [`for_each_column_group`]): the taps folded into the inner dimension
/// of one product per group of channels. `dst` rows are `dst_stride` apart.
fn folded<'a>(
    weight: &[f32],
    [m, channels, taps]: [usize; 3],
    row: impl Fn(usize, usize) -> &'a [f32],
    shift: impl Fn(usize) -> usize,
    (dst, dst_stride, positions): (&mut [f32], usize, usize),
) {
    for_each_column_group(
        [channels, taps, positions],
        row,
        shift,
        |first, group, columns| {
            // SAFETY: lhs rows `m` of stride channels·taps, `group·taps` long from the group's
            // first column; rhs is `columns` (group·taps rows of `positions`); dst rows `m` of
            // `dst_stride ≥ positions`.
            unsafe {
                gemm(
                    [m, positions, group * taps],
                    (dst.as_mut_ptr(), 1, dst_stride),
                    first > 0,
                    (weight.as_ptr().add(first * taps), 1, channels * taps),
                    (columns.as_ptr(), 1, positions),
                );
            }
        },
    );
}

/// Builds the columns `columns[(c, t), p] = row(c, t)[p − shift(t)]` for `p` in
/// `0..positions` (reads outside `row(c, t)` taken as zero) for groups of channels of at
/// most [`COLUMNS_BYTES`], calling `product(first channel, channels in the group, columns)`
/// for each.
fn for_each_column_group<'a>(
    [channels, taps, positions]: [usize; 3],
    row: impl Fn(usize, usize) -> &'a [f32],
    shift: impl Fn(usize) -> usize,
    mut product: impl FnMut(usize, usize, &[f32]),
) {
    let per_group = (COLUMNS_BYTES / (taps * positions * core::mem::size_of::<f32>()).max(1))
        .clamp(1, channels);
    let mut columns = vec![0.0f32; per_group * taps * positions];
    for first in (0..channels).step_by(per_group) {
        let group = per_group.min(channels - first);
        let columns = &mut columns[..group * taps * positions];
        for (index, column) in columns.chunks_exact_mut(positions).enumerate() {
            let (channel, tap) = (first + index / taps, index % taps);
            let (source, shift) = (row(channel, tap), shift(tap).min(positions));
            let end = (shift + source.len()).min(positions);
            column[..shift].fill(0.0);
            column[shift..end].copy_from_slice(&source[..end - shift]);
            column[end..].fill(0.0);
        }
        product(first, group, columns);
    }
}

/// `dst = (read_dst ? dst : 0) + lhs · rhs` for `[m, n, k]`, each matrix given as
/// `(pointer, column stride, row stride)`.
///
/// # Safety
/// Every `(row, column)` of each matrix, through its strides, must lie inside one
/// allocation, and `dst` must not overlap `lhs` or `rhs`.
unsafe fn gemm(
    [m, n, k]: [usize; 3],
    (dst, dst_cs, dst_rs): (*mut f32, usize, usize),
    read_dst: bool,
    (lhs, lhs_cs, lhs_rs): (*const f32, usize, usize),
    (rhs, rhs_cs, rhs_rs): (*const f32, usize, usize),
) {
    if m < THIN && n > m {
        // dstᵀ = rhsᵀ · lhsᵀ: the same product with the long side as rows.
        // SAFETY: the same elements, read through swapped strides.
        return unsafe {
            gemm(
                [n, m, k],
                (dst, dst_rs, dst_cs),
                read_dst,
                (rhs, rhs_rs, rhs_cs),
                (lhs, lhs_rs, lhs_cs),
            )
        };
    }
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_WORK {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded to the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs as isize,
            dst_rs as isize,
            read_dst,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}
