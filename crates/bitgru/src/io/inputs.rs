//! The JSON inputs file of the CLI (`eval --inputs`, `calibrate --inputs`, `--calib`): float
//! feature sequences with optional labels.
//!
//! ```json
//! {"sequences": [[0.1, -0.3, ...], ...], "labels": [2, 0, ...], "steps": 49}
//! ```
//!
//! - `sequences` (required, non-empty): per sequence, either one flat row-major array `[T*I]` of
//!   numbers (`T` time steps of `I` features, `I` being the model's input size) or a nested
//!   array `[T][I]` (one array of `I` numbers per time step);
//! - `labels` (optional): one class index per sequence;
//! - `steps` (optional): if present, every sequence must hold exactly `steps * I` values;
//!   otherwise any positive multiple of `I` is accepted.
//!
//! Other fields are ignored.
//!
//! NumPy arrays are read too (recognized by content): a `.npy` file holding the sequences as a
//! little-endian float32/float64 C-order array `[N, T, I]` or `[N, T*I]` (no labels), or a `.npz`
//! archive (`np.savez`) with a `sequences` array of that shape and an optional `labels` array
//! `[N]` of whole non-negative numbers stored as float32/float64 (`y.astype(np.float64)`).
use crate::error::{Error, Result};
use serde::Deserialize;

/// One sequence: flat `[T*I]` or nested `[T][I]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Sequence {
    // f64, so that a value outside the f32 range is reported as such, not as a shape mismatch.
    Flat(Vec<f64>),
    Nested(Vec<Vec<f64>>),
}

#[derive(Debug, Deserialize)]
struct InputsFile {
    sequences: Vec<Sequence>,
    #[serde(default)]
    labels: Option<Vec<usize>>,
    #[serde(default)]
    steps: Option<u64>,
}

fn fmt(detail: String) -> Error {
    Error::format("inputs", detail)
}

/// Sequences (flat `[T*I]` each) and optional labels of an inputs file.
pub type Parsed = (Vec<Vec<f32>>, Option<Vec<usize>>);

/// Parses and validates the JSON text of an inputs file for a model with `input_size` features
/// (the caller bounds the size of the text it reads).
pub fn parse_inputs(bytes: &[u8], input_size: usize) -> Result<Parsed> {
    if input_size == 0 {
        return Err(Error::invalid("input size", "0"));
    }
    if bytes.starts_with(b"\x93NUMPY") {
        let a = super::npz::parse_npy("sequences", bytes)?;
        return Ok((sequences_of(a, input_size)?, None));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let mut arrays = super::npz::parse_npz(bytes)?;
        let seqs = arrays.remove("sequences").ok_or_else(|| {
            fmt(format!(
                "the npz archive has no \"sequences\" array (it has {:?}); write it with \
                 np.savez(f, sequences=X, labels=y)",
                {
                    let mut k: Vec<_> = arrays.keys().cloned().collect();
                    k.sort();
                    k
                }
            ))
        })?;
        let sequences = sequences_of(seqs, input_size)?;
        let labels = match arrays.remove("labels") {
            None => None,
            Some(l) => Some(labels_of(l, sequences.len())?),
        };
        return Ok((sequences, labels));
    }
    let f: InputsFile = serde_json::from_slice(bytes).map_err(|e| {
        fmt(format!(
            "malformed JSON ({e}), expected {{\"sequences\": [[f32, ...], ...], \"labels\": [...], \"steps\": T}}"
        ))
    })?;
    if f.sequences.is_empty() {
        return Err(fmt(
            "\"sequences\" is empty, expected at least one sequence".into(),
        ));
    }
    if f.steps == Some(0) {
        return Err(fmt(
            "\"steps\" is 0, expected a positive number of time steps".into(),
        ));
    }
    // steps × input size, or None when it cannot be the length of any sequence.
    let want = f.steps.map(|t| {
        (
            t,
            t.checked_mul(input_size as u64)
                .and_then(|n| usize::try_from(n).ok()),
        )
    });
    let sequences = f
        .sequences
        .into_iter()
        .enumerate()
        .map(|(k, s)| match s {
            Sequence::Flat(v) => Ok(v.into_iter().map(|x| x as f32).collect()),
            Sequence::Nested(rows) => {
                if let Some((t, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != input_size)
                {
                    return Err(fmt(format!(
                        "sequence {k}, step {t}: {} values, expected the input size {input_size}",
                        row.len()
                    )));
                }
                Ok(rows.concat().into_iter().map(|x| x as f32).collect())
            }
        })
        .collect::<Result<Vec<Vec<f32>>>>()?;
    for (k, s) in sequences.iter().enumerate() {
        match want {
            Some((t, n)) if n != Some(s.len()) => {
                return Err(fmt(format!(
                    "sequence {k} has {} values, expected steps x input size = {t} x {input_size}{}",
                    s.len(),
                    n.map_or(" (too large)".to_string(), |n| format!(" = {n}"))
                )))
            }
            _ if s.is_empty() || s.len() % input_size != 0 => {
                return Err(fmt(format!(
                    "sequence {k} has {} values, expected a positive multiple of the input size {input_size}",
                    s.len()
                )))
            }
            _ => {}
        }
        if let Some(j) = s.iter().position(|v| !v.is_finite()) {
            return Err(fmt(format!(
                "sequence {k}: value {j} is not finite (out of f32 range)"
            )));
        }
    }
    if let Some(labels) = &f.labels {
        if labels.len() != sequences.len() {
            return Err(fmt(format!(
                "{} labels for {} sequences, expected one label per sequence",
                labels.len(),
                sequences.len()
            )));
        }
    }
    Ok((sequences, f.labels))
}

/// The sequences of a NumPy array `[N, T, I]` (I = `input_size`) or `[N, T*I]`.
fn sequences_of(a: super::npz::NpyArray, input_size: usize) -> Result<Vec<Vec<f32>>> {
    let len = match a.shape.as_slice() {
        [n, t, i] if *i == input_size && *n > 0 && *t > 0 => t * i,
        [_, _, _] => {
            return Err(fmt(format!(
                "sequences array has shape {:?}: the last dimension must be the input size \
                 {input_size}, and N and T positive",
                a.shape
            )))
        }
        [n, l] if *n > 0 && *l > 0 && l % input_size == 0 => *l,
        _ => {
            return Err(fmt(format!(
            "sequences array has shape {:?}, expected [N, T, {input_size}] or [N, T*{input_size}] \
                 with N, T positive",
            a.shape
        )))
        }
    };
    Ok(a.data.chunks_exact(len).map(<[f32]>::to_vec).collect())
}

/// Labels stored as a float array `[n]` of whole non-negative numbers.
fn labels_of(a: super::npz::NpyArray, n: usize) -> Result<Vec<usize>> {
    if a.shape != [n] {
        return Err(fmt(format!(
            "labels array has shape {:?}, expected [{n}] (one label per sequence)",
            a.shape
        )));
    }
    a.data
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e9 {
                Ok(v as usize)
            } else {
                Err(fmt(format!(
                    "label {k} is {v}, expected a whole non-negative number"
                )))
            }
        })
        .collect()
}
