//! The bit reader of entropy-coded segments: byte stuffing (`FF 00`), fill bytes before
//! markers, and zero bits once a marker or the end of the data is reached, as libjpeg's
//! `jpeg_fill_bit_buffer` gives them.

/// Reads the bits of one scan's entropy-coded data, most significant first.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte to read; at a marker, the `FF` that starts it.
    position: usize,
    /// Bits not yet consumed, left-aligned.
    buffer: u64,
    /// How many bits of `buffer` are valid.
    count: u32,
    /// The reader stopped at a marker; zeros follow.
    marker_reached: bool,
    /// Zero bits put into `buffer` because the data ended (not at a marker).
    zeros_after_end: u32,
}

impl<'a> BitReader<'a> {
    /// A reader of `data` from byte `position`.
    pub(super) fn new(data: &'a [u8], position: usize) -> Self {
        Self {
            data,
            position,
            buffer: 0,
            count: 0,
            marker_reached: false,
            zeros_after_end: 0,
        }
    }

    /// The byte the reader stopped at (a marker's `FF` once one was reached).
    pub(super) fn position(&self) -> usize {
        self.position
    }

    /// Whether bits past the end of the data were consumed: the file is truncated.
    pub(super) fn read_past_end(&self) -> bool {
        self.zeros_after_end > self.count
    }

    /// Fills the buffer to at least 57 bits.
    #[inline]
    fn refill(&mut self) {
        // Eight bytes at once when none of them is `FF` (nearly always).
        if !self.marker_reached
            && let Some(bytes) = self.data.get(self.position..self.position + 8)
        {
            let word = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let take = (63 - self.count) / 8;
                let bits = take * 8;
                self.buffer |= (word >> (64 - bits)) << (64 - bits - self.count);
                self.position += take as usize;
                self.count += bits;
                return;
            }
        }
        while self.count <= 56 {
            let byte = self.next_byte();
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline]
    fn next_byte(&mut self) -> u8 {
        if self.marker_reached {
            return 0;
        }
        let Some(&byte) = self.data.get(self.position) else {
            self.zeros_after_end += 8;
            return 0;
        };
        if byte != 0xFF {
            self.position += 1;
            return byte;
        }
        // `FF` fill bytes may repeat; `FF 00` is a stuffed `FF`, anything else a marker.
        let mut next = self.position + 1;
        while self.data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match self.data.get(next) {
            Some(0) => {
                self.position = next + 1;
                0xFF
            }
            Some(_) => {
                self.position = next - 1;
                self.marker_reached = true;
                0
            }
            None => {
                self.position = next;
                self.zeros_after_end += 8;
                0
            }
        }
    }

    /// The next 16 bits without consuming them.
    #[inline]
    pub(super) fn peek16(&mut self) -> u32 {
        if self.count < 16 {
            self.refill();
        }
        (self.buffer >> 48) as u32
    }

    /// Consumes `n` bits (`n` ≤ the bits just peeked).
    #[inline]
    pub(super) fn consume(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    /// The next `n` bits (0 ≤ `n` ≤ 16) as an unsigned number.
    #[inline]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.refill();
        }
        let value = (self.buffer >> (64 - n)) as u32;
        self.consume(n);
        value
    }

    /// One bit.
    #[inline]
    pub(super) fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// The next `n` bits as a signed coefficient (the JPEG "receive and extend").
    #[inline]
    pub(super) fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let value = self.bits(n) as i32;
        if value < (1 << (n - 1)) {
            value - (1 << n) + 1
        } else {
            value
        }
    }

    /// At a restart interval's end: drops the remaining bits, finds the next marker and
    /// consumes it if it is a restart marker (as libjpeg does for a well-formed file; any
    /// other marker stays for the caller, and the bits read before it are zeros).
    pub(super) fn restart(&mut self) {
        self.buffer = 0;
        self.count = 0;
        self.zeros_after_end = 0;
        let Some(marker_at) = next_marker(self.data, self.position) else {
            self.position = self.data.len();
            self.marker_reached = false;
            return;
        };
        let code = self.data[marker_at + 1];
        if (0xD0..=0xD7).contains(&code) {
            self.position = marker_at + 2;
            self.marker_reached = false;
        } else {
            self.position = marker_at;
            self.marker_reached = true;
        }
    }
}

/// The position of the next marker's `FF` at or after `from` (fill bytes skipped), or
/// `None` at the end of the data. Bytes that are not a marker are skipped, as libjpeg's
/// `next_marker` skips them.
pub(super) fn next_marker(data: &[u8], from: usize) -> Option<usize> {
    let mut position = from;
    while position + 1 < data.len() {
        if data[position] == 0xFF {
            let mut next = position + 1;
            while next < data.len() && data[next] == 0xFF {
                next += 1;
            }
            if next >= data.len() {
                return None;
            }
            if data[next] != 0 {
                return Some(next - 1);
            }
            position = next + 1;
        } else {
            position += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffed_bytes_read_as_ff_and_a_marker_gives_zeros() {
        let data = [0b1010_0000, 0xFF, 0x00, 0x12, 0xFF, 0xFF, 0xD9];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(reader.bits(3), 0b101);
        assert_eq!(reader.bits(5), 0);
        assert_eq!(reader.bits(8), 0xFF);
        assert_eq!(reader.bits(8), 0x12);
        assert_eq!(reader.bits(16), 0);
        assert_eq!(reader.position(), 5, "the FF right before the marker code");
        assert!(!reader.read_past_end());
    }

    #[test]
    fn receive_extend_gives_negative_values_for_a_leading_zero() {
        let data = [0b0110_1000, 0xFF, 0xD9];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(reader.receive_extend(3), -4); // 011: 3 − 8 + 1
        assert_eq!(reader.receive_extend(2), -2); // 01: 1 − 4 + 1
        assert_eq!(reader.receive_extend(1), -1); // 0: 0 − 2 + 1
    }

    #[test]
    fn reading_past_the_end_is_noticed() {
        let data = [0xAB];
        let mut reader = BitReader::new(&data, 0);
        assert_eq!(reader.bits(8), 0xAB);
        assert!(!reader.read_past_end());
        assert_eq!(reader.bits(4), 0);
        assert!(reader.read_past_end());
    }

    #[test]
    fn next_marker_skips_stuffed_bytes_and_fill() {
        let data = [0x00, 0xFF, 0x00, 0x01, 0xFF, 0xFF, 0xD0, 0x00];
        assert_eq!(next_marker(&data, 0), Some(5));
        assert_eq!(next_marker(&data, 7), None);
    }
}
