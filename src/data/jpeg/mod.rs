//! A JPEG decoder whose pixels equal PIL's.
//!
//! The official pipeline reads images with PIL, which decodes JPEGs with libjpeg-turbo's
//! defaults: the accurate integer inverse DCT (`JDCT_ISLOW`), "fancy" triangle-filter chroma
//! upsampling and libjpeg's fixed-point YCbCr → RGB tables. The `image` crate's decoder
//! (zune-jpeg) takes other roundings in all three places, so its pixels differ from PIL's by
//! up to 5 grey levels on chroma-subsampled files, and an FID on JPEG folders differs from
//! pytorch-fid's. This module decodes the way libjpeg does, step for step, in pure Rust:
//!
//! - baseline and extended sequential (SOF0, SOF1) and progressive (SOF2) Huffman-coded
//!   8-bit files, restart intervals included;
//! - greyscale, YCbCr (JFIF) and RGB (Adobe transform 0, or components named `R`, `G`, `B`),
//!   with any integer sampling factors (4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, …);
//! - `idct`: `jpeg_idct_islow`; `upsample`: `jdsample.c`'s fancy upsamplers; `color`:
//!   `jdcolor.c`'s tables.
//!
//! A sequential file is turned into samples one MCU row at a time, as libjpeg does; a
//! progressive one keeps the whole frame's coefficients until its last scan. The inverse
//! DCT runs eight lanes at a time with AVX2, and the upsampling and colour loops are
//! compiled for AVX2 / AVX-512 where the CPU has them (`kernels::simd`): none of it changes
//! a sample.
//!
//! What it leaves to other decoders is refused with [`JpegError::Unsupported`]: arithmetic
//! coding, lossless and hierarchical files, 12-bit samples, CMYK / YCCK (4 components), and
//! progressive files whose scans leave low-frequency coefficients unrefined (libjpeg smooths
//! those blocks). [`crate::data::folder::load_rgb`] decodes such files with the `image`
//! crate instead.
//!
//! ```
//! use cyclegan_burn::data::jpeg::decode_jpeg;
//!
//! // A 1×1 greyscale JPEG: every quantizer 1, one 1-bit Huffman code (symbol 0) in the DC
//! // and AC tables, and a scan of two zero bits (DC difference 0, end of block).
//! let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00];
//! bytes.extend([1u8; 64]);
//! bytes.extend([0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00]);
//! for class in [0x00, 0x10] {
//!     bytes.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
//!     bytes.extend([0u8; 16]);
//! }
//! bytes.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x00, 0xFF, 0xD9]);
//! let image = decode_jpeg(&bytes)?;
//! assert_eq!((image.width, image.height, image.channels), (1, 1, 1));
//! assert_eq!(image.pixels, vec![128]);
//! # Ok::<(), cyclegan_burn::data::jpeg::JpegError>(())
//! ```

mod bits;
mod color;
mod entropy;
mod huffman;
mod idct;
mod markers;
mod upsample;

use bits::{BitReader, next_marker};
use entropy::{Coefficients, ScanTables, decode_scan};
use huffman::HuffmanTable;
use markers::{Frame, Segment, read_frame, read_huffman, read_quantization, read_scan};
use upsample::{Plane, upsample};

/// The largest width or height decoded (larger files are refused before any allocation).
pub const MAX_SIDE: usize = 10_000;

/// The most memory a decode may take (coefficients, sample planes and the output), in
/// bytes: larger files are refused before any allocation.
pub const MAX_BYTES: usize = 1 << 30;

/// Why a JPEG was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegError {
    /// A valid JPEG of a kind this decoder leaves to others (named in the message).
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    /// Not a JPEG, or a damaged one.
    #[error("corrupt JPEG: {0}")]
    Corrupt(String),
}

impl JpegError {
    fn corrupt(message: &str) -> Self {
        JpegError::Corrupt(message.to_string())
    }
}

/// Decoded samples: `channels` bytes a pixel (1: greyscale, 3: RGB), rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (greyscale) or 3 (RGB).
    pub channels: u8,
    /// `width · height · channels` samples.
    pub pixels: Vec<u8>,
}

/// A plane for component `c`'s samples before upsampling: whole blocks, rows of
/// `8 · ⌈width / 8⌉` samples.
fn empty_plane(frame: &Frame, c: usize) -> Plane {
    let component = &frame.components[c];
    let (width, height) = (
        frame.component_width(component),
        frame.component_height(component),
    );
    let stride = width.div_ceil(8) * 8;
    Plane {
        width,
        height,
        stride,
        samples: vec![0; stride * height.div_ceil(8) * 8],
    }
}

/// How three components are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColorSpace {
    Grey,
    YCbCr,
    Rgb,
}

/// Decodes a JPEG file's bytes to the pixels PIL (libjpeg-turbo, default settings) gives.
pub fn decode_jpeg(bytes: &[u8]) -> Result<JpegImage, JpegError> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(JpegError::corrupt("no start-of-image marker"));
    }
    let mut decoder = Decoder::default();
    let mut position = 2;
    while let Some(at) = next_marker(bytes, position) {
        let code = bytes[at + 1];
        position = at + 2;
        match code {
            0xD9 => break,
            // Restart markers outside a scan and TEM carry nothing.
            0xD0..=0xD7 | 0x01 => continue,
            0xD8 => return Err(JpegError::corrupt("a second start-of-image marker")),
            _ => {}
        }
        if position + 2 > bytes.len() {
            return Err(JpegError::corrupt("the file ends inside a marker"));
        }
        let length = usize::from(u16::from_be_bytes([bytes[position], bytes[position + 1]]));
        if length < 2 || position + length > bytes.len() {
            return Err(JpegError::corrupt(
                "a marker segment runs past the end of the file",
            ));
        }
        let mut segment = Segment::new(&bytes[position + 2..position + length]);
        position += length;
        if code == 0xDA {
            position = decoder.scan(&mut segment, bytes, position)?;
        } else {
            decoder.segment(code, &mut segment)?;
        }
    }
    decoder.finish()
}

/// What the markers read so far have set up.
#[derive(Default)]
struct Decoder {
    quantization: [Option<[u16; 64]>; 4],
    dc_tables: [Option<HuffmanTable>; 4],
    ac_tables: [Option<HuffmanTable>; 4],
    restart_interval: usize,
    frame: Option<Frame>,
    jfif: bool,
    adobe_transform: Option<u8>,
    /// Per component: its coefficients, the quantization table latched at its first scan,
    /// and (progressive) the successive-approximation bit of each coefficient, −1 until a
    /// scan has sent it.
    coefficients: Vec<Coefficients>,
    latched: Vec<Option<[u16; 64]>>,
    coefficient_bits: Vec<[i32; 64]>,
    scans: usize,
    /// A sequential frame whose first scan holds every component is turned into samples one
    /// MCU row at a time, into these planes (not upsampled); otherwise they are made from
    /// the whole frame's coefficients at the end.
    planes: Vec<Plane>,
}

impl Decoder {
    /// A marker segment other than a scan.
    fn segment(&mut self, code: u8, segment: &mut Segment) -> Result<(), JpegError> {
        match code {
            0xC0..=0xC2 => {
                if self.frame.is_some() {
                    return Err(JpegError::corrupt("two frame headers"));
                }
                let frame = read_frame(segment, code)?;
                if frame.width > MAX_SIDE || frame.height > MAX_SIDE {
                    return Err(JpegError::Unsupported(format!(
                        "{}×{} pixels, more than {MAX_SIDE} on a side",
                        frame.width, frame.height
                    )));
                }
                let bytes = frame.decode_bytes();
                if bytes > MAX_BYTES {
                    return Err(JpegError::Unsupported(format!(
                        "{}×{} pixels in {} components would take {} MiB, more than {} MiB",
                        frame.width,
                        frame.height,
                        frame.components.len(),
                        bytes >> 20,
                        MAX_BYTES >> 20
                    )));
                }
                self.frame = Some(frame);
            }
            0xC3 => return Err(JpegError::Unsupported("lossless coding".into())),
            0xC5..=0xC7 => return Err(JpegError::Unsupported("hierarchical coding".into())),
            // 0xCC (DAC) included.
            0xC9..=0xCF => {
                return Err(JpegError::Unsupported("arithmetic coding".into()));
            }
            0xC4 => read_huffman(segment, &mut self.dc_tables, &mut self.ac_tables)?,
            0xDB => read_quantization(segment, &mut self.quantization)?,
            0xDD => self.restart_interval = usize::from(segment.u16()?),
            0xDC => return Err(JpegError::Unsupported("a DNL marker".into())),
            0xE0 if segment.remaining() >= 5 && segment.take(5)? == b"JFIF\0" => {
                self.jfif = true;
            }
            0xEE if segment.remaining() >= 12 && segment.take(5)? == b"Adobe" => {
                self.adobe_transform = Some(segment.take(7)?[6]);
            }
            _ => {}
        }
        Ok(())
    }

    /// A scan: its header in `segment`, its data from `position`. Returns where the data
    /// ends.
    fn scan(
        &mut self,
        segment: &mut Segment,
        bytes: &[u8],
        position: usize,
    ) -> Result<usize, JpegError> {
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| JpegError::corrupt("a scan before the frame header"))?;
        let scan = read_scan(segment, frame)?;
        let count = frame.components.len();
        if !self.planes.is_empty() {
            return Err(JpegError::corrupt(
                "another scan after a sequential scan of every component",
            ));
        }
        // A sequential scan of every component is the whole image: its samples are made one
        // MCU row at a time. Other scans add to the whole frame's coefficients.
        let streamed = !frame.progressive && self.scans == 0 && scan.components.len() == count;
        if streamed {
            self.coefficients = (0..count)
                .map(|c| Coefficients::one_mcu_row(frame, c))
                .collect();
            self.planes = (0..count).map(|c| empty_plane(frame, c)).collect();
        } else if self.coefficients.is_empty() {
            self.coefficients = (0..count).map(|c| Coefficients::new(frame, c)).collect();
        }
        if self.latched.is_empty() {
            self.latched = vec![None; count];
            self.coefficient_bits = vec![[-1; 64]; count];
        }
        for &c in &scan.components {
            if self.latched[c].is_none() {
                let table = self.quantization[frame.components[c].quant_table];
                self.latched[c] = Some(table.ok_or_else(|| {
                    JpegError::corrupt("a scan uses an undefined quantization table")
                })?);
            }
            for k in scan.spectral_start..=scan.spectral_end {
                self.coefficient_bits[c][k] = scan.approximation_low as i32;
            }
        }
        let tables = ScanTables {
            dc: scan
                .dc_tables
                .iter()
                .map(|&t| self.dc_tables[t].as_ref())
                .collect(),
            ac: scan
                .ac_tables
                .iter()
                .map(|&t| self.ac_tables[t].as_ref())
                .collect(),
        };
        let mut reader = BitReader::new(bytes, position);
        let (planes, latched) = (&mut self.planes, &self.latched);
        let single = scan.components.len() == 1;
        decode_scan(
            frame,
            &scan,
            &tables,
            self.restart_interval,
            &mut self.coefficients,
            &mut reader,
            |mcu_row, coefficients| {
                if !streamed {
                    return;
                }
                for (c, plane) in planes.iter_mut().enumerate() {
                    let rows = if single {
                        1
                    } else {
                        frame.components[c].vertical
                    };
                    let quantization = latched[c].as_ref().expect("latched above");
                    for row in mcu_row * rows..(mcu_row + 1) * rows {
                        let band = coefficients[c].row_mut(row);
                        plane.idct_block_row(row, band, quantization);
                        band.fill(0);
                    }
                }
            },
        )?;
        self.scans += 1;
        Ok(reader.position())
    }

    /// Samples from the coefficients of all scans read.
    fn finish(mut self) -> Result<JpegImage, JpegError> {
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| JpegError::corrupt("no frame header"))?;
        if self.scans == 0 {
            return Err(JpegError::corrupt("no image data (no scan)"));
        }
        let color_space = self.color_space(frame)?;
        if frame.progressive && self.would_smooth() {
            return Err(JpegError::Unsupported(
                "a progressive file whose scans leave low-frequency coefficients unrefined".into(),
            ));
        }
        let mut streamed = std::mem::take(&mut self.planes).into_iter();
        let planes: Vec<Plane> = (0..frame.components.len())
            .map(|c| self.component_plane(frame, c, streamed.next()))
            .collect::<Result<_, _>>()?;
        let (width, height) = (frame.width, frame.height);
        let channels = if color_space == ColorSpace::Grey {
            1
        } else {
            3
        };
        let mut pixels = vec![0u8; width * height * channels];
        fn row(plane: &Plane, y: usize, width: usize) -> &[u8] {
            &plane.samples[y * plane.stride..][..width]
        }
        match color_space {
            ColorSpace::Grey => {
                for (y, out) in pixels.chunks_exact_mut(width).enumerate() {
                    out.copy_from_slice(row(&planes[0], y, width));
                }
            }
            ColorSpace::YCbCr => {
                for (y, out) in pixels.chunks_exact_mut(width * 3).enumerate() {
                    let (luma, cb, cr) = (
                        row(&planes[0], y, width),
                        row(&planes[1], y, width),
                        row(&planes[2], y, width),
                    );
                    color::ycc_to_rgb(luma, cb, cr, out);
                }
            }
            ColorSpace::Rgb => {
                for (y, out) in pixels.chunks_exact_mut(width * 3).enumerate() {
                    let (r, g, b) = (
                        row(&planes[0], y, width),
                        row(&planes[1], y, width),
                        row(&planes[2], y, width),
                    );
                    for (x, pixel) in out.chunks_exact_mut(3).enumerate() {
                        pixel.copy_from_slice(&[r[x], g[x], b[x]]);
                    }
                }
            }
        }
        Ok(JpegImage {
            width: width as u32,
            height: height as u32,
            channels: channels as u8,
            pixels,
        })
    }

    /// libjpeg's guess (`default_decompress_parms`) of how the components are coded.
    fn color_space(&self, frame: &Frame) -> Result<ColorSpace, JpegError> {
        match frame.components.len() {
            1 => Ok(ColorSpace::Grey),
            3 => {
                let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
                Ok(if self.jfif {
                    ColorSpace::YCbCr
                } else if let Some(transform) = self.adobe_transform {
                    if transform == 0 {
                        ColorSpace::Rgb
                    } else {
                        ColorSpace::YCbCr
                    }
                } else if ids == b"RGB" {
                    ColorSpace::Rgb
                } else {
                    ColorSpace::YCbCr
                })
            }
            4 => Err(JpegError::Unsupported("CMYK / YCCK (4 components)".into())),
            n => Err(JpegError::Unsupported(format!("{n} components"))),
        }
    }

    /// Whether libjpeg would smooth blocks (`smoothing_ok` in `jdcoefct.c`): some of the
    /// first ten coefficients never refined to their last bit, in a file whose components
    /// all have a DC term and non-zero quantizers there.
    fn would_smooth(&self) -> bool {
        const FIRST_TEN: [usize; 10] = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24];
        let mut useful = false;
        for (latched, bits) in self.latched.iter().zip(&self.coefficient_bits) {
            let Some(table) = latched else {
                return false;
            };
            if FIRST_TEN.iter().any(|&p| table[p] == 0) || bits[0] < 0 {
                return false;
            }
            useful |= bits[1..10].iter().any(|&b| b != 0);
        }
        useful
    }

    /// Component `c`'s samples, upsampled to the frame's full sampling: from `streamed`, the
    /// plane made during the scan, or else from the coefficients.
    fn component_plane(
        &self,
        frame: &Frame,
        c: usize,
        streamed: Option<Plane>,
    ) -> Result<Plane, JpegError> {
        let component = &frame.components[c];
        if !frame.max_horizontal.is_multiple_of(component.horizontal)
            || !frame.max_vertical.is_multiple_of(component.vertical)
        {
            return Err(JpegError::Unsupported(
                "sampling factors that are not integer multiples".into(),
            ));
        }
        let plane = match streamed {
            Some(plane) => plane,
            None => {
                let quantization = self.latched[c]
                    .or(self.quantization[component.quant_table])
                    .unwrap_or([0; 64]);
                let mut plane = empty_plane(frame, c);
                for row in 0..plane.height.div_ceil(8) {
                    let band = &self.coefficients[c].values
                        [row * self.coefficients[c].blocks_across * 64..];
                    plane.idct_block_row(row, band, &quantization);
                }
                plane
            }
        };
        let (horizontal, vertical) = (
            frame.max_horizontal / component.horizontal,
            frame.max_vertical / component.vertical,
        );
        Ok(if (horizontal, vertical) == (1, 1) {
            plane
        } else {
            upsample(&plane, horizontal, vertical)
        })
    }
}
