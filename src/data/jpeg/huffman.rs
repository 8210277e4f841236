//! Huffman tables (DHT) and symbol decoding, as libjpeg's `jpeg_make_d_derived_tbl` and
//! `jpeg_huff_decode` build and read them.

use super::JpegError;
use super::bits::BitReader;

/// Codes of up to this many bits are found with one table lookup.
const LOOKUP_BITS: u32 = 9;

/// One decoding table.
#[derive(Clone)]
pub(super) struct HuffmanTable {
    /// For each `LOOKUP_BITS`-bit prefix: `(code length << 8) | symbol`, or 0 when the code
    /// is longer.
    lookup: Box<[u16; 1 << LOOKUP_BITS]>,
    /// The largest code of each length (1..=16), −1 where there is none.
    max_code: [i32; 17],
    /// Index into `symbols` of a code of each length, less the code.
    value_offset: [i32; 17],
    symbols: Vec<u8>,
}

impl HuffmanTable {
    /// A table from the DHT counts of codes of each length 1..=16 and the symbols.
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<Self, JpegError> {
        let total: usize = counts.iter().map(|&n| n as usize).sum();
        if total > 256 || total != symbols.len() {
            return Err(JpegError::corrupt("a Huffman table with a bad code count"));
        }
        // Canonical codes, shortest first.
        let mut codes = Vec::with_capacity(total);
        let mut code: u32 = 0;
        for (length_index, &count) in counts.iter().enumerate() {
            let length = length_index as u32 + 1;
            for _ in 0..count {
                codes.push((code, length));
                code += 1;
            }
            if code >= (1 << length) {
                return Err(JpegError::corrupt("a Huffman table with too many codes"));
            }
            code <<= 1;
        }
        let mut max_code = [-1i32; 17];
        let mut value_offset = [0i32; 17];
        let mut index = 0usize;
        for (length_index, &count) in counts.iter().enumerate() {
            let length = length_index + 1;
            if count > 0 {
                value_offset[length] = index as i32 - codes[index].0 as i32;
                index += count as usize;
                max_code[length] = codes[index - 1].0 as i32;
            }
        }
        let mut lookup = Box::new([0u16; 1 << LOOKUP_BITS]);
        for (&(code, length), &symbol) in codes.iter().zip(symbols) {
            if length <= LOOKUP_BITS {
                let shift = LOOKUP_BITS - length;
                let first = (code << shift) as usize;
                for entry in &mut lookup[first..first + (1 << shift)] {
                    *entry = ((length as u16) << 8) | u16::from(symbol);
                }
            }
        }
        Ok(Self {
            lookup,
            max_code,
            value_offset,
            symbols: symbols.to_vec(),
        })
    }

    /// The next symbol. A code that is in no table reads as symbol 0 after 16 bits, as
    /// libjpeg reads it (with a warning) so that a damaged file still decodes.
    #[inline]
    pub(super) fn decode(&self, reader: &mut BitReader) -> u8 {
        let peek = reader.peek16();
        let entry = self.lookup[(peek >> (16 - LOOKUP_BITS)) as usize];
        if entry != 0 {
            reader.consume(u32::from(entry >> 8));
            return entry as u8;
        }
        for length in LOOKUP_BITS as usize + 1..=16 {
            let code = (peek >> (16 - length)) as i32;
            if code <= self.max_code[length] {
                reader.consume(length as u32);
                let index = code + self.value_offset[length];
                return self.symbols.get(index as usize).copied().unwrap_or(0);
            }
        }
        reader.consume(16);
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_luminance_dc_table_decodes_its_codes() {
        // ITU T.81 Table K.3: lengths 2 (1 code), 3 (5 codes), 4..9 (1 each).
        let counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        let symbols: Vec<u8> = (0..12).collect();
        let table = HuffmanTable::new(&counts, &symbols).unwrap();
        // 00 → 0, 010 → 1, 110 → 5, 1110 → 6, 111111110 → 11.
        let data = [0b0001_0110, 0b1110_1111, 0b1111_0000, 0xFF, 0xD9];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(table.decode(&mut reader), 0);
        assert_eq!(table.decode(&mut reader), 1);
        assert_eq!(table.decode(&mut reader), 5);
        assert_eq!(table.decode(&mut reader), 6);
        assert_eq!(table.decode(&mut reader), 11);
    }

    #[test]
    fn long_codes_are_found_past_the_lookup() {
        // One code of each length 1..=12: 0, 10, 110, …, 111111111110.
        let mut counts = [0u8; 16];
        counts[..12].fill(1);
        let symbols: Vec<u8> = (100..112).collect();
        let table = HuffmanTable::new(&counts, &symbols).unwrap();
        // 1111 1111 (stuffed: FF 00) 1110 0000.
        let data = [0xFF, 0x00, 0b1110_0000, 0xFF, 0xD9];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(table.decode(&mut reader), 111);
        assert_eq!(table.decode(&mut reader), 100);
    }

    #[test]
    fn an_overfull_table_is_refused() {
        let counts = [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(HuffmanTable::new(&counts, &[1, 2, 3]).is_err());
    }
}
