//! Huffman-coded scans into quantized DCT coefficients: sequential scans and the four kinds
//! of progressive scan (DC first / refine, AC first / refine), as libjpeg's `jdhuff.c` and
//! `jdphuff.c` decode them, restart intervals included.

use super::JpegError;
use super::bits::BitReader;
use super::huffman::HuffmanTable;
use super::markers::{Frame, NATURAL_ORDER, Scan};

/// The quantized coefficients of one component, natural order within each block: of the
/// whole frame, or of one MCU row at a time (block row `r` stored at `r mod rows_held`).
pub(super) struct Coefficients {
    /// Blocks across, rounded up to whole MCUs.
    pub blocks_across: usize,
    /// Block rows stored.
    pub rows_held: usize,
    /// `blocks_across · rows_held · 64` values.
    pub values: Vec<i16>,
}

impl Coefficients {
    /// Zeroed coefficients of every block of component `index` of `frame`.
    pub fn new(frame: &Frame, index: usize) -> Self {
        Self::with_rows(
            frame,
            index,
            frame.mcus_down() * frame.components[index].vertical,
        )
    }

    /// Zeroed coefficients of one MCU row of component `index`.
    pub fn one_mcu_row(frame: &Frame, index: usize) -> Self {
        Self::with_rows(frame, index, frame.components[index].vertical)
    }

    fn with_rows(frame: &Frame, index: usize, rows_held: usize) -> Self {
        let blocks_across = frame.mcus_across() * frame.components[index].horizontal;
        Self {
            blocks_across,
            rows_held,
            values: vec![0; blocks_across * rows_held * 64],
        }
    }

    /// The stored coefficients of block row `row`.
    pub fn row_mut(&mut self, row: usize) -> &mut [i16] {
        let start = (row % self.rows_held) * self.blocks_across * 64;
        &mut self.values[start..start + self.blocks_across * 64]
    }

    #[inline]
    fn block_mut(&mut self, column: usize, row: usize) -> &mut [i16; 64] {
        let start = ((row % self.rows_held) * self.blocks_across + column) * 64;
        (&mut self.values[start..start + 64])
            .try_into()
            .expect("64 values")
    }
}

/// The Huffman tables a scan reads, per scan component.
pub(super) struct ScanTables<'t> {
    pub dc: Vec<Option<&'t HuffmanTable>>,
    pub ac: Vec<Option<&'t HuffmanTable>>,
}

/// The state carried from MCU to MCU within a scan.
struct ScanState {
    /// DC predictor of each scan component.
    dc_predictors: [i32; 4],
    /// Blocks left in the current end-of-band run (progressive AC scans).
    end_of_band_run: u32,
}

/// Decodes one scan into `coefficients` (all components of the frame); `reader` is left
/// where the scan's data ends. `row_done(mcu_row, coefficients)` is called after each row of
/// MCUs (a row of blocks in a one-component scan), for a caller that keeps one row at a time.
pub(super) fn decode_scan(
    frame: &Frame,
    scan: &Scan,
    tables: &ScanTables,
    restart_interval: usize,
    coefficients: &mut [Coefficients],
    reader: &mut BitReader,
    mut row_done: impl FnMut(usize, &mut [Coefficients]),
) -> Result<(), JpegError> {
    let need_dc = scan.spectral_start == 0 && scan.approximation_high == 0;
    let need_ac = scan.spectral_end > 0;
    for (i, _) in scan.components.iter().enumerate() {
        if need_dc && tables.dc[i].is_none() {
            return Err(JpegError::corrupt(
                "a scan uses an undefined DC Huffman table",
            ));
        }
        if need_ac && tables.ac[i].is_none() {
            return Err(JpegError::corrupt(
                "a scan uses an undefined AC Huffman table",
            ));
        }
    }
    let mut state = ScanState {
        dc_predictors: [0; 4],
        end_of_band_run: 0,
    };
    // The MCUs of the scan and the blocks of each.
    let single = scan.components.len() == 1;
    let (mcus_across, mcus_down) = if single {
        let component = &frame.components[scan.components[0]];
        (
            frame.component_width(component).div_ceil(8),
            frame.component_height(component).div_ceil(8),
        )
    } else {
        (frame.mcus_across(), frame.mcus_down())
    };
    let total = mcus_across * mcus_down;
    for mcu in 0..total {
        if restart_interval > 0 && mcu > 0 && mcu % restart_interval == 0 {
            reader.restart();
            state = ScanState {
                dc_predictors: [0; 4],
                end_of_band_run: 0,
            };
        }
        let (mcu_x, mcu_y) = (mcu % mcus_across, mcu / mcus_across);
        for (i, &c) in scan.components.iter().enumerate() {
            let component = &frame.components[c];
            let (across, down) = if single {
                (1, 1)
            } else {
                (component.horizontal, component.vertical)
            };
            for by in 0..down {
                for bx in 0..across {
                    let block = coefficients[c].block_mut(mcu_x * across + bx, mcu_y * down + by);
                    decode_block(frame, scan, tables, i, &mut state, block, reader);
                }
            }
        }
        if mcu_x == mcus_across - 1 {
            row_done(mcu_y, coefficients);
        }
    }
    if reader.read_past_end() {
        return Err(JpegError::corrupt(
            "the file ends inside a scan (truncated)",
        ));
    }
    Ok(())
}

#[inline]
fn decode_block(
    frame: &Frame,
    scan: &Scan,
    tables: &ScanTables,
    scan_component: usize,
    state: &mut ScanState,
    block: &mut [i16; 64],
    reader: &mut BitReader,
) {
    let low = scan.approximation_low;
    if !frame.progressive {
        let dc = tables.dc[scan_component].expect("checked");
        let ac = tables.ac[scan_component].expect("checked");
        sequential_block(
            dc,
            ac,
            &mut state.dc_predictors[scan_component],
            block,
            reader,
        );
    } else if scan.spectral_start == 0 {
        if scan.approximation_high == 0 {
            let dc = tables.dc[scan_component].expect("checked");
            let size = u32::from(dc.decode(reader));
            let predictor = &mut state.dc_predictors[scan_component];
            *predictor = predictor.wrapping_add(reader.receive_extend(size));
            block[0] = (*predictor << low) as i16;
        } else if reader.bit() {
            block[0] |= 1 << low;
        }
    } else if scan.approximation_high == 0 {
        let ac = tables.ac[scan_component].expect("checked");
        ac_first(scan, ac, &mut state.end_of_band_run, block, reader);
    } else {
        let ac = tables.ac[scan_component].expect("checked");
        ac_refine(scan, ac, &mut state.end_of_band_run, block, reader);
    }
}

/// One block of a sequential scan (`decode_mcu` in `jdhuff.c`).
#[inline]
fn sequential_block(
    dc: &HuffmanTable,
    ac: &HuffmanTable,
    predictor: &mut i32,
    block: &mut [i16; 64],
    reader: &mut BitReader,
) {
    let size = u32::from(dc.decode(reader));
    *predictor = predictor.wrapping_add(reader.receive_extend(size));
    block[0] = *predictor as i16;
    let mut k = 1;
    while k < 64 {
        let symbol = ac.decode(reader);
        let (run, size) = ((symbol >> 4) as usize, u32::from(symbol & 15));
        if size != 0 {
            k += run;
            block[NATURAL_ORDER[k]] = reader.receive_extend(size) as i16;
        } else if run == 15 {
            k += 15;
        } else {
            break;
        }
        k += 1;
    }
}

/// One block of a progressive AC first scan (`decode_mcu_AC_first`).
fn ac_first(
    scan: &Scan,
    ac: &HuffmanTable,
    end_of_band_run: &mut u32,
    block: &mut [i16; 64],
    reader: &mut BitReader,
) {
    if *end_of_band_run > 0 {
        *end_of_band_run -= 1;
        return;
    }
    let mut k = scan.spectral_start;
    while k <= scan.spectral_end {
        let symbol = ac.decode(reader);
        let (run, size) = ((symbol >> 4) as u32, u32::from(symbol & 15));
        if size != 0 {
            k += run as usize;
            let value = reader.receive_extend(size);
            block[NATURAL_ORDER[k]] = (value << scan.approximation_low) as i16;
        } else if run == 15 {
            k += 15;
        } else {
            *end_of_band_run = 1 << run;
            if run > 0 {
                *end_of_band_run += reader.bits(run);
            }
            *end_of_band_run -= 1;
            break;
        }
        k += 1;
    }
}

/// One block of a progressive AC refinement scan (`decode_mcu_AC_refine`).
fn ac_refine(
    scan: &Scan,
    ac: &HuffmanTable,
    end_of_band_run: &mut u32,
    block: &mut [i16; 64],
    reader: &mut BitReader,
) {
    let plus = 1i16 << scan.approximation_low;
    let minus = (-1i16) << scan.approximation_low;
    let end = scan.spectral_end;
    let mut k = scan.spectral_start;
    let refine = |coefficient: &mut i16, reader: &mut BitReader| {
        if reader.bit() && (*coefficient & plus) == 0 {
            *coefficient = coefficient.wrapping_add(if *coefficient >= 0 { plus } else { minus });
        }
    };
    if *end_of_band_run == 0 {
        while k <= end {
            let symbol = ac.decode(reader);
            let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
            let mut value = 0i16;
            if size != 0 {
                // A size other than 1 is an encoder error; libjpeg reads it as 1.
                value = if reader.bit() { plus } else { minus };
            } else if run != 15 {
                *end_of_band_run = 1 << run;
                if run > 0 {
                    *end_of_band_run += reader.bits(run as u32);
                }
                break;
            }
            // Skip `run` zero coefficients, refining the non-zero ones passed over.
            while k <= end {
                let coefficient = &mut block[NATURAL_ORDER[k]];
                if *coefficient != 0 {
                    refine(coefficient, reader);
                } else {
                    run -= 1;
                    if run < 0 {
                        break;
                    }
                }
                k += 1;
            }
            if value != 0 {
                block[NATURAL_ORDER[k]] = value;
            }
            k += 1;
        }
    }
    if *end_of_band_run > 0 {
        while k <= end {
            let coefficient = &mut block[NATURAL_ORDER[k]];
            if *coefficient != 0 {
                refine(coefficient, reader);
            }
            k += 1;
        }
        *end_of_band_run -= 1;
    }
}
