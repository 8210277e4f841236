//! YCbCr → RGB with libjpeg's tables (`build_ycc_rgb_table` in `jdcolor.c`): 16-bit fixed
//! point, the red and blue terms rounded in the table, the green term rounded once.

const SCALE_BITS: u32 = 16;
const ONE_HALF: i32 = 1 << (SCALE_BITS - 1);

/// `FIX(x)` of `jdcolor.c`: `x · 2^16` rounded.
const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

/// The four per-sample tables of libjpeg's YCbCr → RGB conversion.
pub(super) struct YccTables {
    cr_red: [i32; 256],
    cb_blue: [i32; 256],
    cr_green: [i32; 256],
    cb_green: [i32; 256],
}

impl YccTables {
    pub fn new() -> Self {
        let mut tables = Self {
            cr_red: [0; 256],
            cb_blue: [0; 256],
            cr_green: [0; 256],
            cb_green: [0; 256],
        };
        for i in 0..256 {
            let x = i as i32 - 128;
            tables.cr_red[i] = (fix(1.40200) * x + ONE_HALF) >> SCALE_BITS;
            tables.cb_blue[i] = (fix(1.77200) * x + ONE_HALF) >> SCALE_BITS;
            tables.cr_green[i] = -fix(0.71414) * x;
            tables.cb_green[i] = -fix(0.34414) * x + ONE_HALF;
        }
        tables
    }

    /// One row of pixels from equal-length Y, Cb and Cr rows into `rgb` (3 bytes a pixel).
    pub fn convert_row(&self, y: &[u8], cb: &[u8], cr: &[u8], rgb: &mut [u8]) {
        for (((pixel, &y), &cb), &cr) in rgb.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
            let (y, cb, cr) = (i32::from(y), cb as usize, cr as usize);
            let green = (self.cb_green[cb] + self.cr_green[cr]) >> SCALE_BITS;
            pixel[0] = (y + self.cr_red[cr]).clamp(0, 255) as u8;
            pixel[1] = (y + green).clamp(0, 255) as u8;
            pixel[2] = (y + self.cb_blue[cb]).clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_point_constants_are_libjpeg_s() {
        assert_eq!(
            [fix(1.40200), fix(1.77200), fix(0.71414), fix(0.34414)],
            [91881, 116130, 46802, 22554]
        );
    }

    #[test]
    fn grey_stays_grey_and_saturated_colours_clamp() {
        let tables = YccTables::new();
        let mut rgb = [0u8; 6];
        tables.convert_row(&[77, 255], &[128, 0], &[128, 255], &mut rgb);
        assert_eq!(&rgb[..3], &[77, 77, 77]);
        // Y 255, Cb −128, Cr 127: red 255 + 178, green 255 + ⌊44.05 − 90.70 + 0.5⌋ = 255 − 47,
        // blue 255 − 227.
        assert_eq!(&rgb[3..], &[255, 208, 28]);
    }
}
