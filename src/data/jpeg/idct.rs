//! The accurate integer inverse DCT of libjpeg (`jpeg_idct_islow` in `jidctint.c`, the
//! default `JDCT_ISLOW` that PIL decodes with): 13-bit constants, two passes with
//! `PASS1_BITS = 2`, and its range limit, so that every sample equals libjpeg's.

const CONST_BITS: i32 = 13;
const PASS1_BITS: i32 = 2;

const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// `x / 2^n` rounded, as libjpeg's `DESCALE`.
#[inline(always)]
fn descale(x: i32, n: i32) -> i32 {
    x.wrapping_add(1 << (n - 1)) >> n
}

/// libjpeg's post-IDCT range limit: the value taken modulo 1024 as a signed 10-bit number,
/// offset by 128 and clamped to a sample.
#[inline(always)]
fn range_limit(x: i32) -> u8 {
    let wrapped = ((x & 1023) ^ 512) - 512;
    (wrapped + 128).clamp(0, 255) as u8
}

/// The even and odd halves of one 8-point pass (the butterfly of `jpeg_idct_islow`),
/// returning the eight outputs before descaling.
#[inline(always)]
fn butterfly(v: [i32; 8]) -> [i32; 8] {
    // Even part.
    let z1 = (v[2].wrapping_add(v[6])).wrapping_mul(FIX_0_541196100);
    let tmp2 = z1.wrapping_add(v[6].wrapping_mul(-FIX_1_847759065));
    let tmp3 = z1.wrapping_add(v[2].wrapping_mul(FIX_0_765366865));
    let tmp0 = (v[0].wrapping_add(v[4])) << CONST_BITS;
    let tmp1 = (v[0].wrapping_sub(v[4])) << CONST_BITS;
    let tmp10 = tmp0.wrapping_add(tmp3);
    let tmp13 = tmp0.wrapping_sub(tmp3);
    let tmp11 = tmp1.wrapping_add(tmp2);
    let tmp12 = tmp1.wrapping_sub(tmp2);
    // Odd part.
    let (t0, t1, t2, t3) = (v[7], v[5], v[3], v[1]);
    let z1 = t0.wrapping_add(t3);
    let z2 = t1.wrapping_add(t2);
    let z3 = t0.wrapping_add(t2);
    let z4 = t1.wrapping_add(t3);
    let z5 = (z3.wrapping_add(z4)).wrapping_mul(FIX_1_175875602);
    let t0 = t0.wrapping_mul(FIX_0_298631336);
    let t1 = t1.wrapping_mul(FIX_2_053119869);
    let t2 = t2.wrapping_mul(FIX_3_072711026);
    let t3 = t3.wrapping_mul(FIX_1_501321110);
    let z1 = z1.wrapping_mul(-FIX_0_899976223);
    let z2 = z2.wrapping_mul(-FIX_2_562915447);
    let z3 = z3.wrapping_mul(-FIX_1_961570560).wrapping_add(z5);
    let z4 = z4.wrapping_mul(-FIX_0_390180644).wrapping_add(z5);
    let t0 = t0.wrapping_add(z1).wrapping_add(z3);
    let t1 = t1.wrapping_add(z2).wrapping_add(z4);
    let t2 = t2.wrapping_add(z2).wrapping_add(z3);
    let t3 = t3.wrapping_add(z1).wrapping_add(z4);
    [
        tmp10.wrapping_add(t3),
        tmp11.wrapping_add(t2),
        tmp12.wrapping_add(t1),
        tmp13.wrapping_add(t0),
        tmp13.wrapping_sub(t0),
        tmp12.wrapping_sub(t1),
        tmp11.wrapping_sub(t2),
        tmp10.wrapping_sub(t3),
    ]
}

/// Dequantizes `coefficients` (natural order) with `quantization` and writes the 8×8
/// samples to `output` rows of `stride` bytes.
pub(super) fn idct_block(
    coefficients: &[i16; 64],
    quantization: &[u16; 64],
    output: &mut [u8],
    stride: usize,
) {
    // A block with only a DC term is flat: the two passes reduce to one rounding.
    if coefficients[1..].iter().all(|&c| c == 0) {
        let dc = i32::from(coefficients[0]).wrapping_mul(i32::from(quantization[0]));
        let value = range_limit(descale(dc << PASS1_BITS, PASS1_BITS + 3));
        for row in 0..8 {
            output[row * stride..row * stride + 8].fill(value);
        }
        return;
    }
    let mut workspace = [0i32; 64];
    // Pass 1: columns, dequantized.
    for column in 0..8 {
        let input = |row: usize| {
            i32::from(coefficients[row * 8 + column])
                .wrapping_mul(i32::from(quantization[row * 8 + column]))
        };
        if (1..8).all(|row| coefficients[row * 8 + column] == 0) {
            let dc = input(0) << PASS1_BITS;
            for row in 0..8 {
                workspace[row * 8 + column] = dc;
            }
            continue;
        }
        let out = butterfly(std::array::from_fn(input));
        for (row, value) in out.into_iter().enumerate() {
            workspace[row * 8 + column] = descale(value, CONST_BITS - PASS1_BITS);
        }
    }
    // Pass 2: rows, to samples.
    for row in 0..8 {
        let line: [i32; 8] = workspace[row * 8..row * 8 + 8].try_into().expect("8");
        let target = &mut output[row * stride..row * stride + 8];
        if line[1..].iter().all(|&v| v == 0) {
            target.fill(range_limit(descale(line[0], PASS1_BITS + 3)));
            continue;
        }
        let out = butterfly(line);
        for (sample, value) in target.iter_mut().zip(out) {
            *sample = range_limit(descale(value, CONST_BITS + PASS1_BITS + 3));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floating-point inverse DCT that the integer one approximates.
    fn reference(coefficients: &[i32; 64]) -> [f64; 64] {
        let c = |u: usize| if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
        std::array::from_fn(|i| {
            let (y, x) = (i / 8, i % 8);
            let mut sum = 0.0;
            for v in 0..8 {
                for u in 0..8 {
                    sum += c(u)
                        * c(v)
                        * f64::from(coefficients[v * 8 + u])
                        * (((2 * x + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos()
                        * (((2 * y + 1) * v) as f64 * std::f64::consts::PI / 16.0).cos();
                }
            }
            sum / 4.0 + 128.0
        })
    }

    #[test]
    fn a_dc_block_is_flat_and_centred() {
        let mut coefficients = [0i16; 64];
        coefficients[0] = -3;
        let quantization = [16u16; 64];
        let mut output = [0u8; 64];
        idct_block(&coefficients, &quantization, &mut output, 8);
        // −48 / 8 + 128 = 122.
        assert!(output.iter().all(|&v| v == 122));
    }

    #[test]
    fn the_integer_idct_is_within_one_of_the_exact_transform() {
        let mut state = 12345u32;
        let mut next = || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as i32 % 61 - 30
        };
        for _ in 0..200 {
            let mut coefficients = [0i16; 64];
            for (i, c) in coefficients.iter_mut().enumerate() {
                if i < 20 || next() > 20 {
                    *c = next() as i16;
                }
            }
            let quantization = [4u16; 64];
            let mut output = [0u8; 64];
            idct_block(&coefficients, &quantization, &mut output, 8);
            let dequantized = std::array::from_fn(|i| i32::from(coefficients[i]) * 4);
            for (sample, exact) in output.iter().zip(reference(&dequantized)) {
                let expected = exact.clamp(0.0, 255.0);
                assert!(
                    (f64::from(*sample) - expected).abs() <= 1.0,
                    "{sample} against {expected}"
                );
            }
        }
    }

    #[test]
    fn the_range_limit_wraps_as_libjpeg_table() {
        assert_eq!(range_limit(0), 128);
        assert_eq!(range_limit(127), 255);
        assert_eq!(range_limit(300), 255);
        assert_eq!(range_limit(-128), 0);
        assert_eq!(range_limit(-400), 0);
        // Values past ±512 wrap around (the table is indexed by x & 1023).
        assert_eq!(range_limit(1024), 128);
        assert_eq!(range_limit(600), 0);
    }
}
