//! A strict reader of the safetensors container, shared by the bundle / weights reader
//! ([`super::st`]) and the `.bitgru` reader ([`super::qfile`]).
//!
//! Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON header
//! (`{"__metadata__": {key: string}, "<tensor>": {"dtype": "F32", "shape": [..],
//! "data_offsets": [begin, end]}, …}`), then the data buffer; offsets are relative to the
//! buffer, tensors are contiguous, and the last one ends at the end of the file.
//!
//! Every check names the file kind, the tensor and the problem in words (a truncated file is
//! called truncated), with checked arithmetic throughout; nothing here panics or allocates more
//! than the header.
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};

/// Largest JSON header accepted (a GRU of MCU size has a few KiB of header).
pub const MAX_HEADER_BYTES: usize = 16 << 20;

/// Element types of the safetensors format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StDtype {
    Bool,
    U8,
    I8,
    F8E5M2,
    F8E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

impl StDtype {
    fn parse(s: &str) -> Option<StDtype> {
        Some(match s {
            "BOOL" => StDtype::Bool,
            "U8" => StDtype::U8,
            "I8" => StDtype::I8,
            "F8_E5M2" => StDtype::F8E5M2,
            "F8_E4M3" => StDtype::F8E4M3,
            "I16" => StDtype::I16,
            "U16" => StDtype::U16,
            "F16" => StDtype::F16,
            "BF16" => StDtype::BF16,
            "I32" => StDtype::I32,
            "U32" => StDtype::U32,
            "F32" => StDtype::F32,
            "F64" => StDtype::F64,
            "I64" => StDtype::I64,
            "U64" => StDtype::U64,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            StDtype::Bool | StDtype::U8 | StDtype::I8 | StDtype::F8E5M2 | StDtype::F8E4M3 => 1,
            StDtype::I16 | StDtype::U16 | StDtype::F16 | StDtype::BF16 => 2,
            StDtype::I32 | StDtype::U32 | StDtype::F32 => 4,
            StDtype::F64 | StDtype::I64 | StDtype::U64 => 8,
        }
    }

    /// The name used in the file.
    pub fn name(self) -> &'static str {
        match self {
            StDtype::Bool => "BOOL",
            StDtype::U8 => "U8",
            StDtype::I8 => "I8",
            StDtype::F8E5M2 => "F8_E5M2",
            StDtype::F8E4M3 => "F8_E4M3",
            StDtype::I16 => "I16",
            StDtype::U16 => "U16",
            StDtype::F16 => "F16",
            StDtype::BF16 => "BF16",
            StDtype::I32 => "I32",
            StDtype::U32 => "U32",
            StDtype::F32 => "F32",
            StDtype::F64 => "F64",
            StDtype::I64 => "I64",
            StDtype::U64 => "U64",
        }
    }
}

/// One tensor, borrowed from the file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor<'a> {
    pub dtype: StDtype,
    pub shape: Vec<usize>,
    pub data: &'a [u8],
}

/// Keys of a safetensors header's `__metadata__`, or `None` if the bytes do not start with a
/// readable safetensors header (a lenient sniff: the tensors are not checked; [`parse`] does that).
/// Lets the bundle readers tell a bundle from plain float weights before parsing.
pub fn metadata_keys(bytes: &[u8]) -> Option<Vec<String>> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header = bytes.get(8..8usize.checked_add(n)?)?;
    let v: serde_json::Value = serde_json::from_slice(header).ok()?;
    let md = v.get("__metadata__").and_then(|m| m.as_object());
    Some(md.map(|m| m.keys().cloned().collect()).unwrap_or_default())
}

/// A parsed safetensors file: tensors by name (sorted) and the `__metadata__` strings.
#[derive(Debug, Clone, PartialEq)]
pub struct StFile<'a> {
    pub tensors: BTreeMap<String, RawTensor<'a>>,
    pub metadata: HashMap<String, String>,
}

/// Whether the bytes start like a safetensors file (a plausible header length followed by `{`).
pub fn looks_like_safetensors(bytes: &[u8]) -> bool {
    match bytes.get(..8) {
        Some(len) => {
            let n = u64::from_le_bytes(len.try_into().expect("8 bytes"));
            n >= 2 && n <= MAX_HEADER_BYTES as u64 && bytes.get(8) == Some(&b'{')
        }
        None => false,
    }
}

/// Parses and validates the container. `format` names the kind of file in errors
/// (`safetensors`, `bitgru`).
pub fn parse<'a>(format: &'static str, bytes: &'a [u8]) -> Result<StFile<'a>> {
    let err = |detail: String| Error::format(format, detail);
    let Some(len) = bytes.get(..8) else {
        return Err(err(format!(
            "{} bytes is shorter than the 8-byte header length (truncated or not a safetensors file)",
            bytes.len()
        )));
    };
    let n = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    if n > MAX_HEADER_BYTES as u64 {
        return Err(err(format!(
            "header length {n} exceeds the {MAX_HEADER_BYTES} byte limit (not a safetensors file?)"
        )));
    }
    let n = n as usize;
    let Some(header) = bytes.get(8..8 + n) else {
        return Err(err(format!(
            "truncated: the header announces {n} bytes, but only {} follow",
            bytes.len() - 8
        )));
    };
    if header.first() != Some(&b'{') {
        return Err(err(
            "the header does not start with '{' (not a safetensors file)".into(),
        ));
    }
    let header = std::str::from_utf8(header)
        .map_err(|e| err(format!("the header is not UTF-8 text ({e})")))?;
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(header)
        .map_err(|e| err(format!("the header is not a JSON object: {e}")))?;
    let buffer = &bytes[8 + n..];
    let mut metadata = HashMap::new();
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut tensors = BTreeMap::new();
    for (name, entry) in &v {
        if name == "__metadata__" {
            let obj = entry
                .as_object()
                .ok_or_else(|| err("__metadata__ is not an object of strings".into()))?;
            for (k, val) in obj {
                let s = val
                    .as_str()
                    .ok_or_else(|| err(format!("__metadata__ entry {k:?} is not a string")))?;
                metadata.insert(k.clone(), s.to_string());
            }
            continue;
        }
        let t = |what: &str| err(format!("tensor {name:?}: {what}"));
        let obj = entry
            .as_object()
            .ok_or_else(|| t("its header entry is not an object"))?;
        let dtype_s = obj
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| t("no \"dtype\" string"))?;
        let dtype =
            StDtype::parse(dtype_s).ok_or_else(|| t(&format!("unknown dtype {dtype_s:?}")))?;
        let shape = obj
            .get("shape")
            .and_then(|s| s.as_array())
            .ok_or_else(|| t("no \"shape\" array"))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .and_then(|d| usize::try_from(d).ok())
                    .ok_or_else(|| t(&format!("shape entry {d} is not a non-negative integer")))
            })
            .collect::<Result<Vec<usize>>>()?;
        let offsets = obj
            .get("data_offsets")
            .and_then(|s| s.as_array())
            .filter(|a| a.len() == 2)
            .ok_or_else(|| t("no \"data_offsets\" pair"))?;
        let off = |k: usize| {
            offsets[k]
                .as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| t("data_offsets are not non-negative integers"))
        };
        let (begin, end) = (off(0)?, off(1)?);
        if end < begin {
            return Err(t(&format!(
                "data_offsets [{begin}, {end}] end before they begin"
            )));
        }
        let nbytes = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| t(&format!("shape {shape:?} has too many elements")))?;
        if end - begin != nbytes {
            return Err(t(&format!(
                "shape {shape:?} of {} needs {nbytes} bytes, data_offsets [{begin}, {end}] hold {}",
                dtype.name(),
                end - begin
            )));
        }
        if end > buffer.len() {
            return Err(err(format!(
                "truncated: tensor {name:?} ends at data byte {end}, but the file has only {} data bytes",
                buffer.len()
            )));
        }
        spans.push((begin, end, name.clone()));
        tensors.insert(
            name.clone(),
            RawTensor {
                dtype,
                shape,
                data: &buffer[begin..end],
            },
        );
    }
    // The tensors must tile the buffer: no overlap, no gap, nothing after the last one.
    spans.sort();
    let mut at = 0usize;
    for (begin, end, name) in &spans {
        if *begin != at {
            return Err(err(format!(
                "tensor {name:?} starts at data byte {begin}, expected {at} (overlapping or gapped data)"
            )));
        }
        at = *end;
    }
    if at != buffer.len() {
        return Err(err(format!(
            "{} bytes after the last tensor (the data buffer has {}, the tensors cover {at})",
            buffer.len() - at,
            buffer.len()
        )));
    }
    Ok(StFile { tensors, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_a_valid_file() {
        let b = file(
            r#"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        let f = parse("safetensors", &b).unwrap();
        assert_eq!(f.tensors["a"].shape, vec![2]);
        assert_eq!(f.metadata["k"], "v");
    }

    #[test]
    fn errors_name_the_problem() {
        let msg = |b: &[u8]| parse("safetensors", b).unwrap_err().to_string();
        let h = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let full = file(h, &[0; 8]);
        assert!(msg(&full[..full.len() - 3]).contains("truncated: tensor \"a\""));
        assert!(msg(&full[..20]).contains("truncated: the header announces"));
        assert!(msg(&full[..5]).contains("shorter than the 8-byte"));
        let bad = file(
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        assert!(msg(&bad).contains("tensor \"a\": shape [3] of F32 needs 12 bytes"));
        let huge = file(
            r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        assert!(msg(&huge).contains("too many elements"));
        let gap = file(
            r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#,
            &[0; 3],
        );
        assert!(msg(&gap).contains("starts at data byte 1, expected 0"));
        assert!(msg(&file(h, &[0; 9])).contains("1 bytes after the last tensor"));
        assert!(msg(&file(
            r#"{"a":{"dtype":"Q4","shape":[],"data_offsets":[0,0]}}"#,
            &[]
        ))
        .contains("unknown dtype \"Q4\""));
        assert!(msg(&file("[1]", &[])).contains("does not start with '{'"));
    }
}
