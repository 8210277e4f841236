//! NumPy `.npy` arrays and `.npz` archives, as far as FID statistics need them: pytorch-fid
//! saves a set's statistics with `np.savez(path, mu=mu, sigma=sigma)` (float64, C order),
//! and reads any `.npz` with those two arrays. [`read_gaussian`] and [`write_gaussian`] do
//! the same here, so precomputed reference statistics work both ways.
//!
//! Arrays of `<f8` or `<f4` (little-endian float64 or float32), in C or Fortran order, of any
//! shape are read (as `f64`); arrays are written as `<f8` in C order, in format 1.0 with the
//! header padded to 64 bytes, in an uncompressed archive, as `np.savez` writes them.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::fid::Gaussian;
use crate::error::CycleGanError;

/// An array read from a `.npy`: its shape and its values in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f64>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the bytes of a `.npy` file; `name` names it in errors.
pub fn parse_npy(bytes: &[u8], name: &str) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(format!("{name} is not a .npy array"));
    }
    let (major, header_start) = (bytes[6], 8);
    let (header_len, header_start) = match major {
        1 => (
            u16::from_le_bytes([bytes[8], bytes[9]]) as usize,
            header_start + 2,
        ),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            header_start + 4,
        ),
        _ => return Err(format!("{name}: unsupported .npy version {major}")),
    };
    let header = bytes
        .get(header_start..header_start + header_len)
        .ok_or_else(|| format!("{name}: truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| format!("{name}: header not text"))?;
    let field = |key: &str| -> Result<&str, String> {
        let start = header
            .find(&format!("'{key}':"))
            .ok_or_else(|| format!("{name}: header without '{key}'"))?
            + key.len()
            + 3;
        Ok(header[start..].trim_start())
    };
    let descr = field("descr")?;
    let width = if descr.starts_with("'<f8'") {
        8
    } else if descr.starts_with("'<f4'") {
        4
    } else {
        let end = descr.find(',').unwrap_or(descr.len());
        return Err(format!(
            "{name}: element type {} is not float64 or float32",
            &descr[..end]
        ));
    };
    let fortran = field("fortran_order")?.starts_with("True");
    let shape_text = field("shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format!("{name}: unreadable shape"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("{name}: shape ({shape_text})"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("{name}: shape {shape:?} too large"))?;
    let data = &bytes[header_start + header_len..];
    if count.checked_mul(width) != Some(data.len()) {
        return Err(format!(
            "{name}: {} bytes of data for shape {shape:?}",
            data.len()
        ));
    }
    let mut values: Vec<f64> = if width == 8 {
        data.chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect()
    } else {
        data.chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
            .collect()
    };
    if fortran && shape.len() > 1 {
        values = fortran_to_c(&values, &shape);
    }
    Ok(NpyArray { shape, values })
}

/// Reorders column-major (Fortran) values into row-major order.
fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let count = values.len();
    let mut out = vec![0.0; count];
    let mut index = vec![0usize; shape.len()];
    for value in out.iter_mut() {
        // `index` walks C order; its Fortran offset is Σ index[k] · Π_{j<k} shape[j].
        let (mut offset, mut stride) = (0, 1);
        for (k, &i) in index.iter().enumerate() {
            offset += i * stride;
            stride *= shape[k];
        }
        *value = values[offset];
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// The bytes of a `.npy` file holding `values` (row-major) as `<f8` with `shape`.
pub fn npy_bytes(values: &[f64], shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [single] => format!("({single},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + values.len() * 8);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for value in values {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

/// Every array of a `.npz` archive, by name (without `.npy`).
pub fn read_npz(
    path: impl AsRef<Path>,
) -> Result<std::collections::BTreeMap<String, NpyArray>, CycleGanError> {
    let path = path.as_ref();
    let bad = |message: String| CycleGanError::Data {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| CycleGanError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("not a .npz archive ({e})")))?;
    let mut arrays = std::collections::BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| bad(format!("entry {index}: {e}")))?
            .to_string();
        let Some(name) = name.strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| CycleGanError::io(path, e))?;
        arrays.insert(name.clone(), parse_npy(&data, &name).map_err(bad)?);
    }
    Ok(arrays)
}

/// Reads the arrays `mu` and `sigma` of a pytorch-fid statistics file.
pub fn read_gaussian(path: impl AsRef<Path>) -> Result<Gaussian, CycleGanError> {
    let path = path.as_ref();
    let bad = |message: String| CycleGanError::Data {
        path: path.to_path_buf(),
        message,
    };
    let mut arrays = read_npz(path)?;
    let mut array = |name: &str| {
        arrays.remove(name).ok_or_else(|| {
            bad(format!(
                "no array `{name}`: FID statistics hold `mu` and `sigma`, as pytorch-fid writes them"
            ))
        })
    };
    let (mu, sigma) = (array("mu")?, array("sigma")?);
    let d = mu.values.len();
    if mu.shape.len() != 1 || sigma.shape != [d, d] {
        return Err(bad(format!(
            "`mu` of shape {:?} and `sigma` of shape {:?}: expected (d,) and (d, d)",
            mu.shape, sigma.shape
        )));
    }
    Ok(Gaussian {
        mu: mu.values,
        sigma: sigma.values,
    })
}

/// Writes `gaussian` as `np.savez(path, mu=mu, sigma=sigma)` does (atomically).
pub fn write_gaussian(path: impl AsRef<Path>, gaussian: &Gaussian) -> Result<(), CycleGanError> {
    gaussian.check()?;
    let d = gaussian.dims();
    write_npz(
        path,
        &[
            ("mu", &gaussian.mu, &[d]),
            ("sigma", &gaussian.sigma, &[d, d]),
        ],
    )
}

/// Writes `(name, row-major values, shape)` arrays as an uncompressed `.npz`, as `np.savez`
/// does (atomically).
pub fn write_npz(
    path: impl AsRef<Path>,
    arrays: &[(&str, &[f64], &[usize])],
) -> Result<(), CycleGanError> {
    let path = path.as_ref();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let zip_error = |e: zip::result::ZipError| CycleGanError::io(path, std::io::Error::other(e));
    for (name, values, shape) in arrays {
        zip.start_file(format!("{name}.npy"), options)
            .map_err(zip_error)?;
        zip.write_all(&npy_bytes(values, shape))
            .map_err(|e| CycleGanError::io(path, e))?;
    }
    let bytes = zip.finish().map_err(zip_error)?.into_inner();
    crate::io::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_fortran_order() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let array = parse_npy(&npy_bytes(&values, &[2, 3]), "x").unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.values, values);
        // The same matrix stored column by column.
        assert_eq!(
            fortran_to_c(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], &[2, 3]),
            values
        );
        // The header is padded to a multiple of 64 bytes; 6 values of 8 bytes follow.
        assert_eq!(npy_bytes(&values, &[6]).len() % 64, 48);
        assert!(parse_npy(b"not numpy", "x").is_err());
    }
}
