//! npz import of Keras `GRU(reset_after=True)` weights, reordered to PyTorch layout.
//!
//! Arrays: `kernel` [I, 3H], `recurrent_kernel` [H, 3H], `bias` [2, 3H] (row 0 input bias, row 1
//! recurrent bias), `dense_kernel` [H, C], `dense_bias` [C]. Keras stacks the gates as (z, r, h)
//! in columns; PyTorch stacks (r, z, n) in rows. So PyTorch `w_ih` rows `[0, H)` (r) are Keras
//! kernel columns `[H, 2H)` transposed, rows `[H, 2H)` (z) are columns `[0, H)`, and rows
//! `[2H, 3H)` (n) are columns `[2H, 3H)`; the same for the recurrent kernel and both biases.
use crate::error::{Error, Result};
use crate::model::FloatGru;
use std::collections::HashMap;
use std::io::{Cursor, Read};

/// A parsed .npy array (little-endian float, C order), as f32.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

fn fmt_err(detail: impl Into<String>) -> Error {
    Error::format("npy", detail)
}

fn header_value<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let pat = format!("'{key}':");
    let at = header
        .find(&pat)
        .ok_or_else(|| fmt_err(format!("header has no {key:?}")))?;
    Ok(header[at + pat.len()..].trim_start())
}

/// Parses one .npy file.
pub fn parse_npy(name: &str, bytes: &[u8]) -> Result<NpyArray> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(fmt_err(format!("{name}: missing the \\x93NUMPY magic")));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(fmt_err(format!("{name}: truncated header")));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(fmt_err(format!("{name}: unsupported npy version {v}"))),
    };
    let header = bytes
        .get(start..start.saturating_add(hlen))
        .ok_or_else(|| fmt_err(format!("{name}: truncated header ({hlen} bytes announced)")))?;
    let header =
        std::str::from_utf8(header).map_err(|_| fmt_err(format!("{name}: header is not text")))?;
    let descr = header_value(header, "descr")?;
    let (width, is_f64) = if descr.starts_with("'<f4'") || descr.starts_with("'=f4'") {
        (4, false)
    } else if descr.starts_with("'<f8'") || descr.starts_with("'=f8'") {
        (8, true)
    } else {
        return Err(Error::Dtype {
            what: name.into(),
            expected: "little-endian float32 or float64".into(),
            got: descr.split(',').next().unwrap_or("").to_string(),
        });
    };
    if header_value(header, "fortran_order")?.starts_with("True") {
        return Err(fmt_err(format!("{name}: Fortran order is not supported")));
    }
    let shape_s = header_value(header, "shape")?;
    let inner = shape_s
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| {
            fmt_err(format!(
                "{name}: malformed shape {:?}, expected a tuple like (3, 4)",
                crate::error::clip(shape_s, 40)
            ))
        })?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                fmt_err(format!(
                    "{name}: bad dimension {:?}",
                    crate::error::clip(s, 40)
                ))
            })
        })
        .collect::<Result<_>>()?;
    let nbytes = shape
        .iter()
        .try_fold(width, |acc: usize, &d| acc.checked_mul(d))
        .ok_or_else(|| fmt_err(format!("{name}: shape {shape:?} has too many elements")))?;
    let body = &bytes[start + hlen..];
    if body.len() != nbytes {
        return Err(fmt_err(format!(
            "{name}: data has {} bytes, shape {shape:?} needs {nbytes} ({})",
            body.len(),
            if body.len() < nbytes {
                "truncated"
            } else {
                "trailing bytes: corrupt"
            }
        )));
    }
    let data: Vec<f32> = if is_f64 {
        body.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8")) as f32)
            .collect()
    } else {
        body.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    crate::error::check_finite(name, &data)?;
    Ok(NpyArray { shape, data })
}

/// Most arrays an npz archive may hold (a Keras GRU + head has five).
pub const MAX_ARRAYS: usize = 64;

/// Reads every array of an .npz archive (stored or deflated). The uncompressed bytes of all
/// entries together are limited to [`super::MAX_FILE_BYTES`]: each entry's declared size is
/// checked before reading, and the bytes actually inflated are capped (a zip bomb stops at the
/// limit).
pub fn parse_npz(bytes: &[u8]) -> Result<HashMap<String, NpyArray>> {
    super::check_size("npz", bytes)?;
    if let Some(e) = super::sniff::foreign_format(bytes) {
        return Err(e);
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::format(
            "npz",
            format!("not a readable zip archive ({e}); truncated or not an npz file"),
        )
    })?;
    if zip.len() > MAX_ARRAYS {
        return Err(Error::format(
            "npz",
            format!("{} entries, at most {MAX_ARRAYS} are read", zip.len()),
        ));
    }
    let mut budget = super::MAX_FILE_BYTES as u64;
    let mut out = HashMap::new();
    for k in 0..zip.len() {
        let f = zip
            .by_index(k)
            .map_err(|e| Error::format("npz", format!("entry {k}: {e}")))?;
        let name = crate::error::clip(f.name().trim_end_matches(".npy"), 80);
        if f.size() > budget {
            return Err(Error::format(
                "npz",
                format!(
                    "{name}: declares {} uncompressed bytes, over the {} byte limit of the whole \
                     archive",
                    f.size(),
                    super::MAX_FILE_BYTES
                ),
            ));
        }
        let mut buf = Vec::new();
        f.take(budget + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::format("npz", format!("{name}: {e} (truncated or corrupt)")))?;
        if buf.len() as u64 > budget {
            return Err(Error::format(
                "npz",
                format!(
                    "{name}: inflates past the {} byte limit of the whole archive",
                    super::MAX_FILE_BYTES
                ),
            ));
        }
        budget -= buf.len() as u64;
        let arr = parse_npy(&name, &buf)?;
        if out.insert(name.clone(), arr).is_some() {
            return Err(Error::format(
                "npz",
                format!("array {name:?} appears twice"),
            ));
        }
    }
    Ok(out)
}

/// The array names of a Keras GRU + Dense head, as [`load_keras_npz`] reads them.
pub const KERAS_NAMES: [&str; 5] = [
    "kernel",
    "recurrent_kernel",
    "bias",
    "dense_kernel",
    "dense_bias",
];

/// Loads a Keras-layout GRU + dense head from npz and reorders it to PyTorch layout.
pub fn load_keras_npz(bytes: &[u8]) -> Result<FloatGru> {
    let arrays = parse_npz(bytes)?;
    let mut found: Vec<&str> = arrays.keys().map(String::as_str).collect();
    found.sort_unstable();
    let unknown: Vec<&str> = found
        .iter()
        .copied()
        .filter(|n| !KERAS_NAMES.contains(n))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "npz file",
            format!(
                "arrays not understood: {unknown:?}; bitgru reads exactly {KERAS_NAMES:?} (one \
                 Keras GRU(reset_after=True) and one Dense head; stacked or bidirectional GRUs \
                 are not supported)"
            ),
        ));
    }
    let get = |n: &str| {
        arrays.get(n).ok_or_else(|| {
            Error::Missing(format!(
                "array {n:?} in npz file (found {found:?}; expected {KERAS_NAMES:?})"
            ))
        })
    };
    let kernel = get("kernel")?;
    if kernel.shape.len() != 2 || kernel.shape[1] % 3 != 0 || kernel.shape[1] == 0 {
        return Err(Error::invalid(
            "kernel",
            format!("shape {:?}, expected [input, 3*hidden]", kernel.shape),
        ));
    }
    let (i, h) = (kernel.shape[0], kernel.shape[1] / 3);
    super::check_dims(i, h, 1)?;
    let rk = get("recurrent_kernel")?;
    if rk.shape != [h, 3 * h] {
        return Err(Error::Shape {
            what: "recurrent_kernel".into(),
            expected: vec![h, 3 * h],
            got: rk.shape.clone(),
        });
    }
    let bias = get("bias")?;
    if bias.shape != [2, 3 * h] {
        let hint = if bias.shape == [3 * h] {
            " (a [3H] bias means reset_after=False, a different cell)"
        } else {
            ""
        };
        return Err(Error::invalid(
            "bias",
            format!("shape {:?}, expected [2, {}]{hint}", bias.shape, 3 * h),
        ));
    }
    let dk = get("dense_kernel")?;
    if dk.shape.len() != 2 || dk.shape[0] != h || dk.shape[1] == 0 {
        return Err(Error::invalid(
            "dense_kernel",
            format!(
                "shape {:?}, expected [{h}, classes] with classes > 0 (rows = the GRU's hidden size)",
                dk.shape
            ),
        ));
    }
    let c = dk.shape[1];
    super::check_dims(i, h, c)?;
    let db = get("dense_bias")?;
    if db.shape != [c] {
        return Err(Error::Shape {
            what: "dense_bias".into(),
            expected: vec![c],
            got: db.shape.clone(),
        });
    }
    // PyTorch gate p (r=0, z=1, n=2) lives in Keras column block KERAS_BLOCK[p] (z=0, r=1, h=2).
    const KERAS_BLOCK: [usize; 3] = [1, 0, 2];
    // [rows_in, 3H] column-major gates → [3H, rows_in] PyTorch rows.
    let reorder = |a: &NpyArray, rows_in: usize| -> Vec<f32> {
        let mut out = vec![0f32; 3 * h * rows_in];
        for p in 0..3 {
            for j in 0..h {
                for k in 0..rows_in {
                    out[(p * h + j) * rows_in + k] = a.data[k * 3 * h + KERAS_BLOCK[p] * h + j];
                }
            }
        }
        out
    };
    let reorder_bias = |row: usize| -> Vec<f32> {
        let mut out = vec![0f32; 3 * h];
        for p in 0..3 {
            for j in 0..h {
                out[p * h + j] = bias.data[row * 3 * h + KERAS_BLOCK[p] * h + j];
            }
        }
        out
    };
    let mut w_fc = vec![0f32; c * h];
    for r in 0..c {
        for k in 0..h {
            w_fc[r * h + k] = dk.data[k * c + r];
        }
    }
    let m = FloatGru {
        input_size: i,
        hidden: h,
        classes: c,
        w_ih: reorder(kernel, i),
        w_hh: reorder(rk, h),
        b_ih: reorder_bias(0),
        b_hh: reorder_bias(1),
        w_fc,
        b_fc: db.data.clone(),
    };
    m.validate()?;
    Ok(m)
}
