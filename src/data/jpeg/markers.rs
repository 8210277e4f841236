//! The header segments a decoder reads: frame (SOF), scan (SOS), quantization (DQT),
//! Huffman (DHT) and restart (DRI) segments, and the JFIF / Adobe markers that say how the
//! components are coded.

use super::JpegError;
use super::huffman::HuffmanTable;

/// Natural (row-major) position of each zigzag index, with 16 extra entries of 63 so that
/// a corrupt run length cannot index past the block (libjpeg's `jpeg_natural_order`).
pub(super) const NATURAL_ORDER: [usize; 80] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63,
];

/// One component of the frame.
#[derive(Debug, Clone)]
pub(super) struct Component {
    /// The identifier scans refer to it by.
    pub id: u8,
    /// Horizontal sampling factor (1..=4).
    pub horizontal: usize,
    /// Vertical sampling factor (1..=4).
    pub vertical: usize,
    /// Which quantization table (0..=3).
    pub quant_table: usize,
}

/// The frame header (SOF0, SOF1 or SOF2).
#[derive(Debug, Clone)]
pub(super) struct Frame {
    /// Progressive (SOF2) rather than sequential.
    pub progressive: bool,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    pub components: Vec<Component>,
    pub max_horizontal: usize,
    pub max_vertical: usize,
}

impl Frame {
    /// MCUs across an interleaved scan.
    pub fn mcus_across(&self) -> usize {
        self.width.div_ceil(8 * self.max_horizontal)
    }

    /// MCU rows of an interleaved scan.
    pub fn mcus_down(&self) -> usize {
        self.height.div_ceil(8 * self.max_vertical)
    }

    /// A component's sample width (libjpeg's `downsampled_width`).
    pub fn component_width(&self, component: &Component) -> usize {
        (self.width * component.horizontal).div_ceil(self.max_horizontal)
    }

    /// The bytes a decode allocates: 16-bit coefficients for every block of every MCU, each
    /// component's samples, each upsampled plane and the 8-bit output.
    pub fn decode_bytes(&self) -> usize {
        let full =
            self.mcus_across() * self.max_horizontal * self.mcus_down() * self.max_vertical * 64;
        let per_component: usize = self
            .components
            .iter()
            .map(|c| {
                let blocks = self.mcus_across() * c.horizontal * self.mcus_down() * c.vertical;
                blocks * 64 * 3 + full
            })
            .sum();
        per_component + self.width * self.height * 3
    }

    /// A component's sample height (libjpeg's `downsampled_height`).
    pub fn component_height(&self, component: &Component) -> usize {
        (self.height * component.vertical).div_ceil(self.max_vertical)
    }
}

/// One scan header (SOS).
#[derive(Debug, Clone)]
pub(super) struct Scan {
    /// Indices into the frame's components, in scan order.
    pub components: Vec<usize>,
    /// DC and AC table of each scan component.
    pub dc_tables: Vec<usize>,
    pub ac_tables: Vec<usize>,
    /// Spectral selection start and end (zigzag indices).
    pub spectral_start: usize,
    pub spectral_end: usize,
    /// Successive approximation: the bit position of the previous scan (0 in a first scan)
    /// and of this one.
    pub approximation_high: u32,
    pub approximation_low: u32,
}

/// Reads a segment's bytes, failing on a short segment.
pub(super) struct Segment<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Segment<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    pub fn u8(&mut self) -> Result<u8, JpegError> {
        let byte = *self
            .bytes
            .get(self.position)
            .ok_or_else(|| JpegError::corrupt("a marker segment is shorter than its contents"))?;
        self.position += 1;
        Ok(byte)
    }

    pub fn u16(&mut self) -> Result<u16, JpegError> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], JpegError> {
        if self.remaining() < n {
            return Err(JpegError::corrupt(
                "a marker segment is shorter than its contents",
            ));
        }
        let slice = &self.bytes[self.position..self.position + n];
        self.position += n;
        Ok(slice)
    }
}

/// Reads a frame header. `marker` is the SOF code.
pub(super) fn read_frame(segment: &mut Segment, marker: u8) -> Result<Frame, JpegError> {
    let precision = segment.u8()?;
    if precision != 8 {
        return Err(JpegError::Unsupported(format!("{precision}-bit samples")));
    }
    let height = segment.u16()? as usize;
    let width = segment.u16()? as usize;
    if height == 0 {
        return Err(JpegError::Unsupported(
            "a height given later by a DNL marker".into(),
        ));
    }
    if width == 0 {
        return Err(JpegError::corrupt("a frame of width 0"));
    }
    let count = segment.u8()? as usize;
    if count == 0 {
        return Err(JpegError::corrupt("a frame with no components"));
    }
    let mut components = Vec::with_capacity(count);
    for _ in 0..count {
        let id = segment.u8()?;
        let factors = segment.u8()?;
        let (horizontal, vertical) = ((factors >> 4) as usize, (factors & 15) as usize);
        if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) {
            return Err(JpegError::corrupt("a sampling factor outside 1..=4"));
        }
        let quant_table = segment.u8()? as usize;
        if quant_table > 3 {
            return Err(JpegError::corrupt("a quantization table number above 3"));
        }
        components.push(Component {
            id,
            horizontal,
            vertical,
            quant_table,
        });
    }
    let max_horizontal = components.iter().map(|c| c.horizontal).max().unwrap_or(1);
    let max_vertical = components.iter().map(|c| c.vertical).max().unwrap_or(1);
    Ok(Frame {
        progressive: marker == 0xC2,
        width,
        height,
        components,
        max_horizontal,
        max_vertical,
    })
}

/// Reads a scan header against its frame.
pub(super) fn read_scan(segment: &mut Segment, frame: &Frame) -> Result<Scan, JpegError> {
    let count = segment.u8()? as usize;
    if count == 0 || count > 4 {
        return Err(JpegError::corrupt("a scan of 0 or more than 4 components"));
    }
    let mut scan = Scan {
        components: Vec::with_capacity(count),
        dc_tables: Vec::with_capacity(count),
        ac_tables: Vec::with_capacity(count),
        spectral_start: 0,
        spectral_end: 63,
        approximation_high: 0,
        approximation_low: 0,
    };
    for _ in 0..count {
        let id = segment.u8()?;
        let tables = segment.u8()?;
        let index = frame
            .components
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| JpegError::corrupt("a scan names a component the frame has not"))?;
        if scan.components.contains(&index) {
            return Err(JpegError::corrupt("a scan names a component twice"));
        }
        scan.components.push(index);
        scan.dc_tables.push((tables >> 4) as usize & 3);
        scan.ac_tables.push((tables & 15) as usize & 3);
    }
    scan.spectral_start = segment.u8()? as usize;
    scan.spectral_end = segment.u8()? as usize;
    let approximation = segment.u8()?;
    scan.approximation_high = u32::from(approximation >> 4);
    scan.approximation_low = u32::from(approximation & 15);
    if frame.progressive {
        let valid = scan.spectral_start <= scan.spectral_end
            && scan.spectral_end <= 63
            && (scan.spectral_start > 0 || scan.spectral_end == 0)
            && (scan.spectral_start == 0 || count == 1)
            && scan.approximation_high <= 13
            && scan.approximation_low <= 13;
        if !valid {
            return Err(JpegError::corrupt(
                "a progressive scan with invalid parameters",
            ));
        }
    } else {
        // libjpeg ignores these fields in a sequential scan.
        scan.spectral_start = 0;
        scan.spectral_end = 63;
        scan.approximation_high = 0;
        scan.approximation_low = 0;
    }
    let blocks_per_mcu: usize = scan
        .components
        .iter()
        .map(|&c| frame.components[c].horizontal * frame.components[c].vertical)
        .sum();
    if count > 1 && blocks_per_mcu > 10 {
        return Err(JpegError::corrupt("an MCU of more than 10 blocks"));
    }
    Ok(scan)
}

/// Reads a DQT segment into `tables` (natural order).
pub(super) fn read_quantization(
    segment: &mut Segment,
    tables: &mut [Option<[u16; 64]>; 4],
) -> Result<(), JpegError> {
    while segment.remaining() > 0 {
        let header = segment.u8()?;
        let (precision, index) = (header >> 4, (header & 15) as usize);
        if index > 3 || precision > 1 {
            return Err(JpegError::corrupt("a bad quantization table header"));
        }
        let mut table = [0u16; 64];
        for &position in &NATURAL_ORDER[..64] {
            table[position] = if precision == 0 {
                u16::from(segment.u8()?)
            } else {
                segment.u16()?
            };
        }
        tables[index] = Some(table);
    }
    Ok(())
}

/// Reads a DHT segment into the DC (class 0) and AC (class 1) tables.
pub(super) fn read_huffman(
    segment: &mut Segment,
    dc: &mut [Option<HuffmanTable>; 4],
    ac: &mut [Option<HuffmanTable>; 4],
) -> Result<(), JpegError> {
    while segment.remaining() > 0 {
        let header = segment.u8()?;
        let (class, index) = (header >> 4, (header & 15) as usize);
        if class > 1 || index > 3 {
            return Err(JpegError::corrupt("a bad Huffman table header"));
        }
        let counts: [u8; 16] = segment.take(16)?.try_into().expect("16 bytes");
        let total: usize = counts.iter().map(|&n| n as usize).sum();
        let symbols = segment.take(total)?;
        let table = HuffmanTable::new(&counts, symbols)?;
        if class == 0 {
            dc[index] = Some(table);
        } else {
            ac[index] = Some(table);
        }
    }
    Ok(())
}
