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

/// The arithmetic of the transform on one value (`i32`) or on eight at once (AVX2): the
/// butterfly is written once, over this.
trait Lane: Copy {
    fn splat(value: i32) -> Self;
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
    fn mul(self, constant: i32) -> Self;
    /// `self << CONST_BITS`.
    fn shift_const_bits(self) -> Self;
    /// `(self + 2^(BITS − 1)) >> BITS`, libjpeg's `DESCALE`.
    fn descale<const BITS: i32>(self) -> Self;
}

impl Lane for i32 {
    #[inline(always)]
    fn splat(value: i32) -> Self {
        value
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        self.wrapping_sub(other)
    }
    #[inline(always)]
    fn mul(self, constant: i32) -> Self {
        self.wrapping_mul(constant)
    }
    #[inline(always)]
    fn shift_const_bits(self) -> Self {
        self << CONST_BITS
    }
    #[inline(always)]
    fn descale<const BITS: i32>(self) -> Self {
        self.wrapping_add(1 << (BITS - 1)) >> BITS
    }
}

/// libjpeg's post-IDCT range limit: the value taken modulo 1024 as a signed 10-bit number,
/// offset by 128 and clamped to a sample.
#[inline(always)]
fn range_limit(x: i32) -> u8 {
    let wrapped = ((x & 1023) ^ 512) - 512;
    (wrapped + 128).clamp(0, 255) as u8
}

/// One 8-point pass of `jpeg_idct_islow`: `v[k]` is input `k`; returns the eight outputs
/// before descaling.
#[inline(always)]
fn butterfly<L: Lane>(v: [L; 8]) -> [L; 8] {
    // Even part.
    let z1 = v[2].add(v[6]).mul(FIX_0_541196100);
    let tmp2 = z1.add(v[6].mul(-FIX_1_847759065));
    let tmp3 = z1.add(v[2].mul(FIX_0_765366865));
    let tmp0 = v[0].add(v[4]).shift_const_bits();
    let tmp1 = v[0].sub(v[4]).shift_const_bits();
    let tmp10 = tmp0.add(tmp3);
    let tmp13 = tmp0.sub(tmp3);
    let tmp11 = tmp1.add(tmp2);
    let tmp12 = tmp1.sub(tmp2);
    // Odd part.
    let (t0, t1, t2, t3) = (v[7], v[5], v[3], v[1]);
    let z1 = t0.add(t3);
    let z2 = t1.add(t2);
    let z3 = t0.add(t2);
    let z4 = t1.add(t3);
    let z5 = z3.add(z4).mul(FIX_1_175875602);
    let t0 = t0.mul(FIX_0_298631336);
    let t1 = t1.mul(FIX_2_053119869);
    let t2 = t2.mul(FIX_3_072711026);
    let t3 = t3.mul(FIX_1_501321110);
    let z1 = z1.mul(-FIX_0_899976223);
    let z2 = z2.mul(-FIX_2_562915447);
    let z3 = z3.mul(-FIX_1_961570560).add(z5);
    let z4 = z4.mul(-FIX_0_390180644).add(z5);
    let t0 = t0.add(z1).add(z3);
    let t1 = t1.add(z2).add(z4);
    let t2 = t2.add(z2).add(z3);
    let t3 = t3.add(z1).add(z4);
    [
        tmp10.add(t3),
        tmp11.add(t2),
        tmp12.add(t1),
        tmp13.add(t0),
        tmp13.sub(t0),
        tmp12.sub(t1),
        tmp11.sub(t2),
        tmp10.sub(t3),
    ]
}

/// The block's one sample value when it has nothing but a DC term (libjpeg's shortcut,
/// which the full computation equals), or `None`.
#[inline(always)]
fn flat_block(coefficients: &[i16; 64], quantization: &[u16; 64]) -> Option<u8> {
    if coefficients[1..].iter().any(|&c| c != 0) {
        return None;
    }
    let dc = i32::from(coefficients[0]).wrapping_mul(i32::from(quantization[0]));
    Some(range_limit(
        (dc << PASS1_BITS).descale::<{ PASS1_BITS + 3 }>(),
    ))
}

/// Dequantizes `coefficients` (natural order) with `quantization` and returns the 8×8
/// samples, row by row, one value at a time.
///
/// libjpeg skips the arithmetic for columns and rows whose AC terms are zero; the full
/// computation gives the same values there (`(x << 13 + 2^10) >> 11 = x << 2`, and likewise
/// in pass 2), so only the block with nothing but a DC term keeps that shortcut
/// ([`flat_block`], taken by [`idct_plane`] before it calls this).
pub(super) fn idct_block(coefficients: &[i16; 64], quantization: &[u16; 64]) -> [[u8; 8]; 8] {
    // Pass 1: down each column, dequantized.
    let mut workspace = [[0i32; 8]; 8];
    for column in 0..8 {
        let input = std::array::from_fn(|row| {
            i32::from(coefficients[row * 8 + column])
                .wrapping_mul(i32::from(quantization[row * 8 + column]))
        });
        for (row, value) in butterfly(input).into_iter().enumerate() {
            workspace[row][column] = value.descale::<{ CONST_BITS - PASS1_BITS }>();
        }
    }
    // Pass 2: along each row.
    workspace.map(|row| {
        butterfly(row).map(|value| range_limit(value.descale::<{ CONST_BITS + PASS1_BITS + 3 }>()))
    })
}

/// The inverse DCT of every block of one component into its plane: `coefficients` holds
/// blocks of 64 in rows of `coefficient_stride` blocks; `samples` gets `8 · blocks_down` rows
/// of `8 · blocks_across` samples. Eight values at a time where the CPU has AVX2.
pub(super) fn idct_plane(
    coefficients: &[i16],
    coefficient_stride: usize,
    quantization: &[u16; 64],
    blocks_across: usize,
    blocks_down: usize,
    samples: &mut [u8],
) {
    let plane = PlaneLayout {
        coefficient_stride,
        blocks_across,
        blocks_down,
    };
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        unsafe { avx2::idct_plane(coefficients, quantization, plane, samples) };
        return;
    }
    plane.transform(coefficients, quantization, samples, idct_block);
}

/// Where the blocks of a plane are: see [`idct_plane`].
#[derive(Clone, Copy)]
struct PlaneLayout {
    coefficient_stride: usize,
    blocks_across: usize,
    blocks_down: usize,
}

impl PlaneLayout {
    /// `block` on every block that is not flat ([`flat_block`]), the samples written into
    /// their places.
    #[inline(always)]
    fn transform(
        self,
        coefficients: &[i16],
        quantization: &[u16; 64],
        samples: &mut [u8],
        mut block: impl FnMut(&[i16; 64], &[u16; 64]) -> [[u8; 8]; 8],
    ) {
        let stride = self.blocks_across * 8;
        for block_row in 0..self.blocks_down {
            let band = &mut samples[block_row * 8 * stride..(block_row + 1) * 8 * stride];
            for block_column in 0..self.blocks_across {
                let start = (block_row * self.coefficient_stride + block_column) * 64;
                let coefficients = coefficients[start..start + 64].try_into().expect("64");
                let rows = match flat_block(coefficients, quantization) {
                    Some(value) => [[value; 8]; 8],
                    None => block(coefficients, quantization),
                };
                for (row, values) in rows.iter().enumerate() {
                    let at = row * stride + block_column * 8;
                    band[at..at + 8].copy_from_slice(values);
                }
            }
        }
    }
}

/// The same transform with AVX2: a block's eight rows are eight vectors (lanes = columns)
/// for pass 1, transposed for pass 2, transposed back to store. The arithmetic is
/// [`butterfly`]'s, in 32-bit lanes, so every sample equals [`idct_block`]'s.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{CONST_BITS, Lane, PASS1_BITS, PlaneLayout, butterfly};

    #[derive(Clone, Copy)]
    struct Vector(__m256i);

    impl Lane for Vector {
        #[inline(always)]
        fn splat(value: i32) -> Self {
            // SAFETY (all methods): only called from `idct_plane`, on a CPU with AVX2.
            Vector(unsafe { _mm256_set1_epi32(value) })
        }
        #[inline(always)]
        fn add(self, other: Self) -> Self {
            Vector(unsafe { _mm256_add_epi32(self.0, other.0) })
        }
        #[inline(always)]
        fn sub(self, other: Self) -> Self {
            Vector(unsafe { _mm256_sub_epi32(self.0, other.0) })
        }
        #[inline(always)]
        fn mul(self, constant: i32) -> Self {
            Vector(unsafe { _mm256_mullo_epi32(self.0, _mm256_set1_epi32(constant)) })
        }
        #[inline(always)]
        fn shift_const_bits(self) -> Self {
            Vector(unsafe { _mm256_slli_epi32::<CONST_BITS>(self.0) })
        }
        #[inline(always)]
        fn descale<const BITS: i32>(self) -> Self {
            let rounded = self.add(Self::splat(1 << (BITS - 1)));
            Vector(unsafe { _mm256_srai_epi32::<BITS>(rounded.0) })
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn transpose(m: [Vector; 8]) -> [Vector; 8] {
        let m = m.map(|v| v.0);
        let t0 = _mm256_unpacklo_epi32(m[0], m[1]);
        let t1 = _mm256_unpackhi_epi32(m[0], m[1]);
        let t2 = _mm256_unpacklo_epi32(m[2], m[3]);
        let t3 = _mm256_unpackhi_epi32(m[2], m[3]);
        let t4 = _mm256_unpacklo_epi32(m[4], m[5]);
        let t5 = _mm256_unpackhi_epi32(m[4], m[5]);
        let t6 = _mm256_unpacklo_epi32(m[6], m[7]);
        let t7 = _mm256_unpackhi_epi32(m[6], m[7]);
        let u0 = _mm256_unpacklo_epi64(t0, t2);
        let u1 = _mm256_unpackhi_epi64(t0, t2);
        let u2 = _mm256_unpacklo_epi64(t1, t3);
        let u3 = _mm256_unpackhi_epi64(t1, t3);
        let u4 = _mm256_unpacklo_epi64(t4, t6);
        let u5 = _mm256_unpackhi_epi64(t4, t6);
        let u6 = _mm256_unpacklo_epi64(t5, t7);
        let u7 = _mm256_unpackhi_epi64(t5, t7);
        [
            _mm256_permute2x128_si256::<0x20>(u0, u4),
            _mm256_permute2x128_si256::<0x20>(u1, u5),
            _mm256_permute2x128_si256::<0x20>(u2, u6),
            _mm256_permute2x128_si256::<0x20>(u3, u7),
            _mm256_permute2x128_si256::<0x31>(u0, u4),
            _mm256_permute2x128_si256::<0x31>(u1, u5),
            _mm256_permute2x128_si256::<0x31>(u2, u6),
            _mm256_permute2x128_si256::<0x31>(u3, u7),
        ]
        .map(Vector)
    }

    /// Eight samples: the range limit of `super::range_limit`, then packed to bytes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn to_samples(v: Vector) -> [u8; 8] {
        let wrapped = _mm256_sub_epi32(
            _mm256_xor_si256(
                _mm256_and_si256(v.0, _mm256_set1_epi32(1023)),
                _mm256_set1_epi32(512),
            ),
            _mm256_set1_epi32(512 - 128),
        );
        let clamped = _mm256_min_epi32(
            _mm256_max_epi32(wrapped, _mm256_setzero_si256()),
            _mm256_set1_epi32(255),
        );
        let words = _mm256_packus_epi32(clamped, clamped);
        let bytes = _mm256_packus_epi16(words, words);
        let low = _mm256_extract_epi32::<0>(bytes) as u32;
        let high = _mm256_extract_epi32::<4>(bytes) as u32;
        (u64::from(low) | u64::from(high) << 32).to_le_bytes()
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn block(coefficients: &[i16; 64], quantization: &[u16; 64]) -> [[u8; 8]; 8] {
        let rows: [Vector; 8] = std::array::from_fn(|row| {
            // SAFETY: 8 values from `row * 8` are inside the 64.
            let (c, q) = unsafe {
                (
                    _mm_loadu_si128(coefficients[row * 8..].as_ptr() as *const __m128i),
                    _mm_loadu_si128(quantization[row * 8..].as_ptr() as *const __m128i),
                )
            };
            Vector(_mm256_mullo_epi32(
                _mm256_cvtepi16_epi32(c),
                _mm256_cvtepu16_epi32(q),
            ))
        });
        let workspace = butterfly(rows).map(|row| row.descale::<{ CONST_BITS - PASS1_BITS }>());
        let columns = butterfly(transpose(workspace))
            .map(|column| column.descale::<{ CONST_BITS + PASS1_BITS + 3 }>());
        transpose(columns).map(|row| to_samples(row))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn idct_plane(
        coefficients: &[i16],
        quantization: &[u16; 64],
        plane: PlaneLayout,
        samples: &mut [u8],
    ) {
        plane.transform(coefficients, quantization, samples, |c, q| block(c, q));
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_avx2_transform_equals_the_scalar_one() {
            if !std::arch::is_x86_feature_detected!("avx2") {
                return;
            }
            let mut state = 7u32;
            let mut next = || {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                state >> 8
            };
            for _ in 0..2000 {
                let mut coefficients = [0i16; 64];
                let count = next() % 64;
                for _ in 0..=count {
                    coefficients[(next() % 64) as usize] = (next() % 2048) as i16 - 1024;
                }
                let quantization = std::array::from_fn(|_| (next() % 64 + 1) as u16);
                let scalar = super::super::idct_block(&coefficients, &quantization);
                let vector = unsafe { block(&coefficients, &quantization) };
                assert_eq!(vector, scalar);
            }
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
    fn a_dc_block_is_flat_and_centred_with_or_without_the_shortcut() {
        // Within ±512 after the transform, where libjpeg's range limit is a clamp.
        for dc in -255..=255 {
            let mut coefficients = [0i16; 64];
            coefficients[0] = dc;
            let quantization = [16u16; 64];
            let expected = (f64::from(dc) * 16.0 / 8.0 + 128.0)
                .round()
                .clamp(0.0, 255.0) as u8;
            assert_eq!(
                flat_block(&coefficients, &quantization),
                Some(expected),
                "{dc}"
            );
            // The full two passes give the same value.
            assert_eq!(
                idct_block(&coefficients, &quantization),
                [[expected; 8]; 8],
                "{dc}"
            );
        }
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
            let output = idct_block(&coefficients, &quantization);
            let dequantized = std::array::from_fn(|i| i32::from(coefficients[i]) * 4);
            for (sample, exact) in output.as_flattened().iter().zip(reference(&dequantized)) {
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
