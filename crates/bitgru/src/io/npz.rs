//! npz import of Keras `GRU(reset_after=True)` weights, reordered to PyTorch layout.
//!
//! Arrays: `kernel` [I, 3H], `recurrent_kernel` [H, 3H], `bias` [2, 3H] (row 0 input bias, row 1
//! recurrent bias), `dense_kernel` [H, C], `dense_bias` [C]. Keras stacks the gates as (z, r, h)
//! in columns; PyTorch stacks (r, z, n) in rows. So PyTorch `w_ih` rows `[0, H)` (r) are Keras
//! kernel columns `[H, 2H)` transposed, rows `[H, 2H)` (z) are columns `[0, H)`, and rows
//! `[2H, 3H)` (n) are columns `[2H, 3H)`; the same for the recurrent kernel and both biases.
use super::st::NAMES;
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
    let (hlen, start) = match major {
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
        .get(start..start + hlen)
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
    let close = shape_s
        .find(')')
        .ok_or_else(|| fmt_err(format!("{name}: malformed shape")))?;
    let shape: Vec<usize> = shape_s[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| fmt_err(format!("{name}: bad dimension {s:?}")))
        })
        .collect::<Result<_>>()?;
    let n: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    if body.len() != n * width {
        return Err(fmt_err(format!(
            "{name}: data has {} bytes, shape {shape:?} needs {} (truncated or corrupt)",
            body.len(),
            n * width
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

/// Reads every array of an .npz archive (stored or deflated).
pub fn parse_npz(bytes: &[u8]) -> Result<HashMap<String, NpyArray>> {
    super::check_size("npz", bytes)?;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::format("npz", e.to_string()))?;
    let mut out = HashMap::new();
    for k in 0..zip.len() {
        let mut f = zip
            .by_index(k)
            .map_err(|e| Error::format("npz", e.to_string()))?;
        let name = f.name().trim_end_matches(".npy").to_string();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| Error::format("npz", format!("{name}: {e}")))?;
        out.insert(name.clone(), parse_npy(&name, &buf)?);
    }
    Ok(out)
}

/// Loads a Keras-layout GRU + dense head from npz and reorders it to PyTorch layout.
pub fn load_keras_npz(bytes: &[u8]) -> Result<FloatGru> {
    let arrays = parse_npz(bytes)?;
    let get = |n: &str| {
        arrays
            .get(n)
            .ok_or_else(|| Error::Missing(format!("array {n:?} in npz file")))
    };
    let kernel = get("kernel")?;
    if kernel.shape.len() != 2 || kernel.shape[1] % 3 != 0 || kernel.shape[1] == 0 {
        return Err(Error::invalid(
            "kernel",
            format!("shape {:?}, expected [input, 3*hidden]", kernel.shape),
        ));
    }
    let (i, h) = (kernel.shape[0], kernel.shape[1] / 3);
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
        return Err(Error::Shape {
            what: "dense_kernel".into(),
            expected: vec![h, 0],
            got: dk.shape.clone(),
        });
    }
    let c = dk.shape[1];
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
    let _ = NAMES;
    Ok(m)
}
