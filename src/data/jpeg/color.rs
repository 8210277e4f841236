//! YCbCr → RGB as libjpeg's tables give it (`build_ycc_rgb_table` and `ycc_rgb_convert` in
//! `jdcolor.c`): 16-bit fixed point, the red and blue terms rounded on their own, the green
//! term once from its two parts.

use crate::kernels::simd::{Vectorized, vectorized};

const SCALE_BITS: u32 = 16;
const ONE_HALF: i32 = 1 << (SCALE_BITS - 1);

/// `FIX(x)` of `jdcolor.c`: `x · 2^16` rounded.
const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

const CR_RED: i32 = fix(1.40200);
const CB_BLUE: i32 = fix(1.77200);
const CR_GREEN: i32 = fix(0.71414);
const CB_GREEN: i32 = fix(0.34414);

/// One row of pixels from equal-length Y, Cb and Cr rows into `rgb` (3 bytes a pixel),
/// compiled for the widest vector instructions the CPU has (`kernels::simd`).
///
/// The terms are computed rather than looked up in libjpeg's tables, with the same values:
/// each table entry is the integer `FIX(c) · x` (+ `ONE_HALF`), and the red and blue entries
/// are shifted on their own, as here.
pub(super) struct YccRow<'a> {
    pub luma: &'a [u8],
    pub cb: &'a [u8],
    pub cr: &'a [u8],
    pub rgb: &'a mut [u8],
}

impl Vectorized for YccRow<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let pixels = self.rgb.chunks_exact_mut(3);
        for (((pixel, &y), &cb), &cr) in pixels.zip(self.luma).zip(self.cb).zip(self.cr) {
            let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
            let red = (CR_RED * cr + ONE_HALF) >> SCALE_BITS;
            let blue = (CB_BLUE * cb + ONE_HALF) >> SCALE_BITS;
            let green = (-CB_GREEN * cb + ONE_HALF - CR_GREEN * cr) >> SCALE_BITS;
            pixel[0] = (y + red).clamp(0, 255) as u8;
            pixel[1] = (y + green).clamp(0, 255) as u8;
            pixel[2] = (y + blue).clamp(0, 255) as u8;
        }
    }
}

/// [`YccRow`] on one row.
pub(super) fn ycc_to_rgb(luma: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
    vectorized(YccRow { luma, cb, cr, rgb });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_point_constants_are_libjpeg_s() {
        assert_eq!(
            [CR_RED, CB_BLUE, CR_GREEN, CB_GREEN],
            [91881, 116130, 46802, 22554]
        );
    }

    #[test]
    fn grey_stays_grey_and_saturated_colours_clamp() {
        let mut rgb = [0u8; 6];
        ycc_to_rgb(&[77, 255], &[128, 0], &[128, 255], &mut rgb);
        assert_eq!(&rgb[..3], &[77, 77, 77]);
        // Y 255, Cb −128, Cr 127: red 255 + 178, green 255 + ⌊44.05 − 90.70 + 0.5⌋ = 255 − 47,
        // blue 255 − 227.
        assert_eq!(&rgb[3..], &[255, 208, 28]);
    }
}
