//! Chroma upsampling as libjpeg does it by default (`do_fancy_upsampling`, `jdsample.c`):
//! the "fancy" triangle filters for 2×1, 1×2 and 2×2 factors, with their alternating
//! rounding biases and edge rows repeated, and plain replication for any other integer
//! factor (and for 2×1 / 2×2 planes of at most two samples across).

use crate::kernels::simd::{Vectorized, vectorized};

/// One decoded component: `width × height` samples in rows of `stride` bytes.
pub(super) struct Plane {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub samples: Vec<u8>,
}

impl Plane {
    /// The samples of block row `row` (rows `8 · row` to `8 · row + 7`) from that row's
    /// coefficients (`band`: 64 per block, at least as many blocks as the plane has across),
    /// by the inverse DCT. A row past the plane's blocks (MCU padding) is skipped.
    pub fn idct_block_row(&mut self, row: usize, band: &[i16], quantization: &[u16; 64]) {
        let blocks_across = self.stride / 8;
        if 8 * row >= self.height {
            return;
        }
        let samples = &mut self.samples[8 * row * self.stride..8 * (row + 1) * self.stride];
        super::idct::idct_plane(band, blocks_across, quantization, blocks_across, 1, samples);
    }

    #[inline]
    fn row(&self, y: usize) -> &[u8] {
        &self.samples[y * self.stride..y * self.stride + self.width]
    }
}

/// `plane` enlarged by integer factors (`horizontal`, `vertical`): a plane of
/// `width · horizontal × height · vertical` samples (rows of exactly that width), compiled
/// for the widest vector instructions the CPU has (`kernels::simd`).
pub(super) fn upsample(plane: &Plane, horizontal: usize, vertical: usize) -> Plane {
    vectorized(Upsample {
        plane,
        horizontal,
        vertical,
    })
}

struct Upsample<'a> {
    plane: &'a Plane,
    horizontal: usize,
    vertical: usize,
}

impl Vectorized for Upsample<'_> {
    type Output = Plane;

    #[inline(always)]
    fn run(self) -> Plane {
        let Upsample {
            plane,
            horizontal,
            vertical,
        } = self;
        upsample_plane(plane, horizontal, vertical)
    }
}

#[inline(always)]
fn upsample_plane(plane: &Plane, horizontal: usize, vertical: usize) -> Plane {
    let width = plane.width * horizontal;
    let height = plane.height * vertical;
    let mut samples = vec![0u8; width * height];
    let fancy_across = plane.width > 2;
    match (horizontal, vertical) {
        (1, 1) => {
            for (y, out) in samples.chunks_exact_mut(width).enumerate() {
                out.copy_from_slice(plane.row(y));
            }
        }
        (2, 1) if fancy_across => {
            for (y, out) in samples.chunks_exact_mut(width).enumerate() {
                h2v1_fancy_row(plane.row(y), out);
            }
        }
        (1, 2) => {
            for (y, out) in samples.chunks_exact_mut(width).enumerate() {
                let nearest = plane.row(y / 2);
                // Upper output row: the row above is next nearest; lower: the row below.
                let (further, bias) = if y % 2 == 0 {
                    (plane.row((y / 2).saturating_sub(1)), 1)
                } else {
                    (plane.row((y / 2 + 1).min(plane.height - 1)), 2)
                };
                for ((o, &a), &b) in out.iter_mut().zip(nearest).zip(further) {
                    *o = ((u16::from(a) * 3 + u16::from(b) + bias) >> 2) as u8;
                }
            }
        }
        (2, 2) if fancy_across => {
            // At most 4 · 255 = 1020: the sums and the sums of three fit in 16 bits.
            let mut column_sums = vec![0u16; plane.width];
            for (y, out) in samples.chunks_exact_mut(width).enumerate() {
                let nearest = plane.row(y / 2);
                let further = if y % 2 == 0 {
                    plane.row((y / 2).saturating_sub(1))
                } else {
                    plane.row((y / 2 + 1).min(plane.height - 1))
                };
                for ((sum, &a), &b) in column_sums.iter_mut().zip(nearest).zip(further) {
                    *sum = u16::from(a) * 3 + u16::from(b);
                }
                h2v2_fancy_row(&column_sums, out);
            }
        }
        _ => {
            for (y, out) in samples.chunks_exact_mut(width).enumerate() {
                let input = plane.row(y / vertical);
                for (x, o) in out.iter_mut().enumerate() {
                    *o = input[x / horizontal];
                }
            }
        }
    }
    Plane {
        width,
        height,
        stride: width,
        samples,
    }
}

/// `h2v1_fancy_upsample` on one row of at least three samples.
#[inline(always)]
fn h2v1_fancy_row(input: &[u8], out: &mut [u8]) {
    let n = input.len();
    let value = |i: usize| u16::from(input[i]);
    out[0] = input[0];
    out[1] = ((value(0) * 3 + value(1) + 2) >> 2) as u8;
    let middle = out[2..2 * n - 2].chunks_exact_mut(2);
    for (pair, window) in middle.zip(input.windows(3)) {
        let [before, this, after] = [0, 1, 2].map(|k| u16::from(window[k]));
        pair[0] = ((this * 3 + before + 1) >> 2) as u8;
        pair[1] = ((this * 3 + after + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((value(n - 1) * 3 + value(n - 2) + 1) >> 2) as u8;
    out[2 * n - 1] = input[n - 1];
}

/// The horizontal half of `h2v2_fancy_upsample` on one row of column sums (3 · nearer row
/// + further row, at least three of them).
#[inline(always)]
fn h2v2_fancy_row(sums: &[u16], out: &mut [u8]) {
    let n = sums.len();
    out[0] = ((sums[0] * 4 + 8) >> 4) as u8;
    out[1] = ((sums[0] * 3 + sums[1] + 7) >> 4) as u8;
    let middle = out[2..2 * n - 2].chunks_exact_mut(2);
    for (pair, window) in middle.zip(sums.windows(3)) {
        let nearer = window[1] * 3;
        pair[0] = ((nearer + window[0] + 8) >> 4) as u8;
        pair[1] = ((nearer + window[2] + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((sums[n - 1] * 3 + sums[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((sums[n - 1] * 4 + 7) >> 4) as u8;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: usize, height: usize, samples: Vec<u8>) -> Plane {
        Plane {
            width,
            height,
            stride: width,
            samples,
        }
    }

    #[test]
    fn h2v1_alternates_its_rounding_as_libjpeg() {
        let up = upsample(&plane(3, 1, vec![10, 11, 20]), 2, 1);
        // 10, (30 + 11 + 2) >> 2, (33 + 10 + 1) >> 2, (33 + 20 + 2) >> 2, (60 + 11 + 1) >> 2, 20.
        assert_eq!(up.samples, vec![10, 10, 11, 13, 18, 20]);
    }

    #[test]
    fn h2v2_keeps_the_column_sums_unrounded() {
        let up = upsample(&plane(3, 2, vec![0, 100, 200, 50, 150, 250]), 2, 2);
        assert_eq!((up.width, up.height), (6, 4));
        // Row 0 (row above = itself): sums 0, 400, 800.
        assert_eq!(&up.samples[0..6], &[0, 25, 75, 125, 175, 200]);
        // Row 1 (nearest row 0, row below = row 1): sums 50, 450, 850.
        assert_eq!(&up.samples[6..12], &[13, 37, 88, 137, 188, 212]);
    }

    #[test]
    fn narrow_planes_and_other_factors_replicate() {
        let up = upsample(&plane(2, 1, vec![7, 9]), 2, 2);
        assert_eq!(up.samples, vec![7, 7, 9, 9, 7, 7, 9, 9]);
        let up = upsample(&plane(1, 1, vec![5]), 4, 1);
        assert_eq!(up.samples, vec![5; 4]);
    }
}
