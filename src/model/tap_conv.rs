//! Stride-1 convolutions on Flex as one matrix product per kernel tap.
//!
//! Burn 0.22's Flex convolution copies the input into im2col tiles and re-lays out the
//! input and weight on every call; about half of a training step's time went to that
//! layout work rather than to the matrix products (`docs/benchmarks.md`). For a stride-1
//! convolution none of it is needed. Lay the (padded) input out flat, `[c_in, h_p·w_p]`,
//! and compute the output on a grid as wide as the padded input: output position
//! `p = y·w_p + x` of kernel tap `(i, j)` reads input position `p + i·w_p + j`. Each tap is
//! then one matrix product, `out[:, p] += W[:, :, i, j] · x[:, p + i·w_p + j]`, reading the
//! input where it lies. The `k_w − 1` columns at the right end of each grid row are not
//! output positions and are dropped when the result is copied out.
//!
//! The backward passes are the same products transposed: the input gradient adds
//! `W[:, :, i, j]ᵀ · grad` into the padded input's grid at offset `i·w_p + j`, and the weight
//! gradient of tap `(i, j)` is `grad · x[:, p + i·w_p + j]ᵀ` over all positions (the grid's
//! extra columns of `grad` are zero, so they add nothing).
//!
//! Measured beside PyTorch 2.15 on two cores (256 channels, 3×3, 64²), each pass runs at the
//! machine's matrix-multiply rate, as PyTorch's oneDNN does (`docs/benchmarks.md`).

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::{ConvOptions, FloatTensorOps, PadMode};
use burn::backend::tensor::FloatTensor;
use burn::tensor::{DType, TensorData};

/// Below this many channels a matrix side is thin: a product with a thin output side runs
/// transposed (the long side of positions becomes the rows, which the micro-kernel tiles
/// well), and a product with a thin inner side folds the kernel taps into it (columns of
/// `taps · channels` rows built from the grid, one product) rather than run `taps` products
/// that each stream the whole output for a handful of multiply-adds. The generators' RGB
/// head and tail are such layers.
const THIN: usize = 16;

/// The most bytes of folded columns built at a time.
const COLUMNS_BYTES: usize = 32 << 20;

/// Products at least this large (multiply-adds) run on all threads.
const PARALLEL_WORK: usize = 192 * 192 * 192;

/// The geometry of one stride-1 convolution that runs tap by tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TapConv {
    batch: usize,
    c_in: usize,
    c_out: usize,
    k_h: usize,
    k_w: usize,
    /// Zero padding `(begin, end)` of height and width.
    padding: [(usize, usize); 2],
    /// The unpadded input's height and width.
    in_h: usize,
    in_w: usize,
    /// The padded input's height and width (the grid's row length is `pad_w`).
    pad_h: usize,
    pad_w: usize,
    out_h: usize,
    out_w: usize,
}

impl TapConv {
    /// The plan for `conv2d(x, weight)` with `options`, or `None` when the layer is not
    /// a stride-1, undilated, ungrouped `f32` convolution (those run on Burn's).
    pub(crate) fn plan(
        x: &FloatTensor<Flex>,
        weight: &FloatTensor<Flex>,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        if options.stride != [1, 1]
            || options.dilation != [1, 1]
            || options.groups != 1
            || x.dtype() != DType::F32
            || weight.dtype() != DType::F32
        {
            return None;
        }
        let [batch, c_in, in_h, in_w] = x.shape().dims();
        let [c_out, weight_c_in, k_h, k_w] = weight.shape().dims();
        let [(top, bottom), (left, right)] = options.padding;
        let (pad_h, pad_w) = (in_h + top + bottom, in_w + left + right);
        if weight_c_in != c_in || batch == 0 || k_h == 0 || k_w == 0 || pad_h < k_h || pad_w < k_w {
            return None;
        }
        Some(Self {
            batch,
            c_in,
            c_out,
            k_h,
            k_w,
            padding: options.padding,
            in_h,
            in_w,
            pad_h,
            pad_w,
            out_h: pad_h - k_h + 1,
            out_w: pad_w - k_w + 1,
        })
    }

    fn taps(&self) -> usize {
        self.k_h * self.k_w
    }

    /// The grid offset of tap `t` (row-major over the kernel).
    fn tap_offset(&self, tap: usize) -> usize {
        (tap / self.k_w) * self.pad_w + tap % self.k_w
    }

    /// Grid positions a product covers: up to the last real output position.
    fn grid_positions(&self) -> usize {
        (self.out_h - 1) * self.pad_w + self.out_w
    }

    /// Elements of one batch item's output grid (`out_h` rows of `pad_w`).
    fn grid_len(&self) -> usize {
        self.out_h * self.pad_w
    }

    fn padded_len(&self) -> usize {
        self.pad_h * self.pad_w
    }

    /// The zero-padded input, contiguous `[batch, c_in, pad_h, pad_w]`.
    fn padded_input(&self, x: FloatTensor<Flex>) -> FloatTensor<Flex> {
        let x = if self.padding == [(0, 0), (0, 0)] {
            x
        } else {
            let [(top, bottom), (left, right)] = self.padding;
            Flex::float_pad(
                x,
                &[(0, 0), (0, 0), (top, bottom), (left, right)],
                PadMode::Constant(0.0),
            )
        };
        x.to_contiguous()
    }

    /// The forward convolution, `[batch, c_out, out_h, out_w]`.
    pub(crate) fn forward(
        &self,
        x: FloatTensor<Flex>,
        weight: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let x = self.padded_input(x);
        let weight = weight.to_contiguous();
        let (x, weight) = (f32_slice(&x), f32_slice(&weight));
        let out_plane = self.out_h * self.out_w;
        let mut output = vec![0.0f32; self.batch * self.c_out * out_plane];
        let mut grid = vec![0.0f32; self.c_out * self.grid_len()];
        for (item, output) in output.chunks_exact_mut(self.c_out * out_plane).enumerate() {
            let x = &x[item * self.c_in * self.padded_len()..][..self.c_in * self.padded_len()];
            if self.c_in < THIN {
                // grid[c_out, p] = W[c_out, (c_in, tap)] · columns[(c_in, tap), p]
                folded(
                    weight,
                    [self.c_out, self.c_in, self.taps()],
                    (x, self.padded_len()),
                    |tap| self.tap_offset(tap) as isize,
                    (&mut grid, self.grid_len(), self.grid_positions()),
                );
            } else {
                for tap in 0..self.taps() {
                    // grid[c_out, p] (+)= W[:, :, tap] · x[c_in, p + offset]
                    // SAFETY: every index stays inside its slice: lhs rows `c_out` of
                    // stride c_in·taps from `tap`; rhs rows `c_in` of stride padded_len
                    // from the tap's offset, `grid_positions` long, ending at most at the
                    // last element of the padded plane; dst rows `c_out` of stride
                    // grid_len.
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
                            (x.as_ptr().add(self.tap_offset(tap)), 1, self.padded_len()),
                        );
                    }
                }
            }
            crop(
                &grid,
                [self.grid_len(), self.pad_w],
                [self.out_h, self.out_w],
                output,
            );
        }
        from_vec(output, [self.batch, self.c_out, self.out_h, self.out_w])
    }

    /// The gradient of the input, `[batch, c_in, in_h, in_w]`, given the output's.
    pub(crate) fn input_grad(
        &self,
        weight: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let weight = weight.to_contiguous();
        let grad = grad.to_contiguous();
        let (weight, grad) = (f32_slice(&weight), f32_slice(&grad));
        let in_plane = self.in_h * self.in_w;
        let mut input_grad = vec![0.0f32; self.batch * self.c_in * in_plane];
        let mut grad_grid = vec![0.0f32; self.c_out * self.grid_len()];
        let mut padded_grad = vec![0.0f32; self.c_in * self.padded_len()];
        // W'[c_in, (c_out, tap)] = W[c_out, c_in, tap], for the folded product.
        let reordered = if self.c_out < THIN {
            (0..self.c_in * self.c_out * self.taps())
                .map(|index| {
                    let (c_in, rest) = (
                        index / (self.c_out * self.taps()),
                        index % (self.c_out * self.taps()),
                    );
                    let (c_out, tap) = (rest / self.taps(), rest % self.taps());
                    weight[(c_out * self.c_in + c_in) * self.taps() + tap]
                })
                .collect()
        } else {
            Vec::new()
        };
        let [(top, _), (left, _)] = self.padding;
        for (item, input_grad) in input_grad
            .chunks_exact_mut(self.c_in * in_plane)
            .enumerate()
        {
            self.to_grid(
                &grad[item * self.c_out * self.out_h * self.out_w..],
                &mut grad_grid,
            );
            if self.c_out < THIN {
                // padded_grad[c_in, q] = W'[c_in, (c_out, tap)] · columns[(c_out, tap), q],
                // columns[(c_out, tap), q] = grad_grid[c_out, q − offset]
                folded(
                    &reordered,
                    [self.c_in, self.c_out, self.taps()],
                    (&grad_grid, self.grid_len()),
                    |tap| -(self.tap_offset(tap) as isize),
                    (&mut padded_grad, self.padded_len(), self.padded_len()),
                );
            } else {
                padded_grad.fill(0.0);
                for tap in 0..self.taps() {
                    // padded_grad[c_in, p + offset] += W[:, :, tap]ᵀ · grad_grid[c_out, p]
                    // SAFETY: as in `forward`, with the roles of input and output swapped:
                    // dst rows `c_in` of stride padded_len from the tap's offset,
                    // `grid_positions` long; lhs is the weight read transposed.
                    unsafe {
                        gemm(
                            [self.c_in, self.grid_positions(), self.c_out],
                            (
                                padded_grad.as_mut_ptr().add(self.tap_offset(tap)),
                                1,
                                self.padded_len(),
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
            // The gradient of the padding itself is dropped.
            let interior = &padded_grad[top * self.pad_w + left..];
            crop(
                interior,
                [self.padded_len(), self.pad_w],
                [self.in_h, self.in_w],
                input_grad,
            );
        }
        from_vec(input_grad, [self.batch, self.c_in, self.in_h, self.in_w])
    }

    /// The gradient of the weight, `[c_out, c_in, k_h, k_w]`, given the output's.
    pub(crate) fn weight_grad(
        &self,
        x: FloatTensor<Flex>,
        grad: FloatTensor<Flex>,
    ) -> FloatTensor<Flex> {
        let x = self.padded_input(x);
        let grad = grad.to_contiguous();
        let (x, grad) = (f32_slice(&x), f32_slice(&grad));
        let mut weight_grad = vec![0.0f32; self.c_out * self.c_in * self.taps()];
        let mut grad_grid = vec![0.0f32; self.c_out * self.grid_len()];
        for item in 0..self.batch {
            self.to_grid(
                &grad[item * self.c_out * self.out_h * self.out_w..],
                &mut grad_grid,
            );
            let x = &x[item * self.c_in * self.padded_len()..][..self.c_in * self.padded_len()];
            for tap in 0..self.taps() {
                // dW[c_out, c_in, tap] (+)= grad_grid[c_out, p] · x[c_in, p + offset]ᵀ
                // SAFETY: dst is the weight gradient read with strides (taps, c_in·taps)
                // from `tap`; lhs is the grid (rows of grid_len, `grid_positions` long);
                // rhs reads the input transposed, as in `forward`.
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
                        (x.as_ptr().add(self.tap_offset(tap)), self.padded_len(), 1),
                    );
                }
            }
        }
        from_vec(weight_grad, [self.c_out, self.c_in, self.k_h, self.k_w])
    }

    /// Copies one item's `[c_out, out_h, out_w]` gradient onto the grid, whose extra
    /// columns stay zero.
    fn to_grid(&self, grad: &[f32], grid: &mut [f32]) {
        let rows = grad[..self.c_out * self.out_h * self.out_w].chunks_exact(self.out_w);
        for (source, target) in rows.zip(grid.chunks_exact_mut(self.pad_w)) {
            target[..self.out_w].copy_from_slice(source);
        }
    }
}

/// Copies planes of `rows × width` out of planes laid out with rows of `row_stride` and
/// planes of `plane_stride` (`source` starts at the first plane's first kept element),
/// filling `target` plane by plane.
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

/// `dst[m, p] = Σ_{c, t} weight[m, c·taps + t] · source[c, p + shift(t)]` for `p` in
/// `0..positions`, with `source` reads outside a channel's `source_len` elements taken as
/// zero: the taps folded into the inner dimension of one product per group of channels,
/// through columns of at most [`COLUMNS_BYTES`]. `dst` rows are `dst_stride` apart.
fn folded(
    weight: &[f32],
    [m, channels, taps]: [usize; 3],
    (source, source_len): (&[f32], usize),
    shift: impl Fn(usize) -> isize,
    (dst, dst_stride, positions): (&mut [f32], usize, usize),
) {
    let per_group = (COLUMNS_BYTES / (taps * positions * core::mem::size_of::<f32>()).max(1))
        .clamp(1, channels);
    let mut columns = vec![0.0f32; per_group * taps * positions];
    for first in (0..channels).step_by(per_group) {
        let group = per_group.min(channels - first);
        let rows = columns[..group * taps * positions].chunks_exact_mut(positions);
        for (row, column) in rows.enumerate() {
            let (channel, tap) = (first + row / taps, row % taps);
            let source = &source[channel * source_len..][..source_len];
            // column[p] = source[p + shift], zero where that is outside the source.
            let shift = shift(tap);
            let start = (-shift).clamp(0, positions as isize) as usize;
            let end =
                (source_len as isize - shift).clamp(start as isize, positions as isize) as usize;
            column[..start].fill(0.0);
            column[start..end].copy_from_slice(
                &source[(start as isize + shift) as usize..(end as isize + shift) as usize],
            );
            column[end..].fill(0.0);
        }
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

/// The `f32` elements of a contiguous tensor.
fn f32_slice(tensor: &FloatTensor<Flex>) -> &[f32] {
    tensor
        .as_slice::<f32>()
        .expect("a contiguous f32 tensor (checked by the plan)")
}

/// A Flex tensor owning `values` (no copy).
fn from_vec(values: Vec<f32>, shape: [usize; 4]) -> FloatTensor<Flex> {
    <FloatTensor<Flex>>::from_data(TensorData::new(values, shape))
}
