//! Evaluation data: the bundled subsets in `assets/data/` (see its README) and uploaded files
//! of the same formats, each read by one parser with specific errors.
use crate::WebError;
use bitgru::data::mnist;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;

/// Largest decompressed data file accepted (a guard against gzip bombs).
pub const MAX_DATA_BYTES: usize = 64 << 20;

/// Labelled sequences of one length.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSet {
    /// Where the sequences come from (shown with every accuracy).
    pub name: String,
    pub sequences: Vec<Vec<f32>>,
    pub labels: Vec<usize>,
    pub steps: usize,
    pub input: usize,
}

impl EvalSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

fn data_err(file: &str, detail: impl Into<String>) -> WebError {
    WebError::Data {
        file: file.to_string(),
        detail: detail.into(),
    }
}

/// MNIST images (28 × 28, 0..=255) with labels.
#[derive(Debug, Clone, PartialEq)]
pub struct MnistData {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub source: String,
}

impl MnistData {
    /// Parses an IDX image file and an IDX label file (gzipped or plain) with the core's reader.
    pub fn parse(images: &[u8], labels: &[u8], source: &str) -> Result<Self, WebError> {
        let img = mnist::parse_images(images, None)
            .map_err(|e| data_err("MNIST images (IDX)", e.to_string()))?;
        let lab = mnist::parse_labels(labels, None)
            .map_err(|e| data_err("MNIST labels (IDX)", e.to_string()))?;
        if img.dims.len() != 3 || img.dims[1] != 28 || img.dims[2] != 28 {
            return Err(data_err(
                "MNIST images (IDX)",
                format!("shape {:?}, expected [n, 28, 28]", img.dims),
            ));
        }
        if lab.len() != img.dims[0] {
            return Err(data_err(
                "MNIST labels (IDX)",
                format!("{} labels for {} images", lab.len(), img.dims[0]),
            ));
        }
        if lab.is_empty() {
            return Err(data_err("MNIST images (IDX)", "no images"));
        }
        Ok(MnistData {
            images: img.data,
            labels: lab,
            source: source.to_string(),
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `k` (784 bytes).
    pub fn image(&self, k: usize) -> &[u8] {
        &self.images[k * 784..(k + 1) * 784]
    }

    /// The sequences of a task: `rows` (28 × 28) or pixels (784 × 1), pixel / 255 like
    /// `bitgru::data::mnist::to_dataset`.
    pub fn eval_set(&self, rows: bool) -> EvalSet {
        let sequences = self
            .images
            .chunks_exact(784)
            .map(|img| img.iter().map(|&p| f32::from(p) / 255.0).collect())
            .collect();
        let (steps, input) = if rows { (28, 28) } else { (784, 1) };
        EvalSet {
            name: self.source.clone(),
            sequences,
            labels: self.labels.iter().map(|&l| l as usize).collect(),
            steps,
            input,
        }
    }
}

#[derive(Debug, Deserialize)]
struct PackHeader {
    n: usize,
    steps: usize,
    coeffs: usize,
    scales: Vec<f32>,
    labels: BTreeMap<String, Vec<usize>>,
    classes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    source: String,
}

/// The keyword-spotting MFCC pack (format: `crates/bitgru-cli/examples/make_app_data.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct MfccPack {
    pub steps: usize,
    pub coeffs: usize,
    pub sequences: Vec<Vec<f32>>,
    /// Labels per task (`kws4`, `kws10`).
    pub labels: BTreeMap<String, Vec<usize>>,
    pub classes: BTreeMap<String, Vec<String>>,
    pub source: String,
}

const PACK_MAGIC: &[u8; 8] = b"BGMFCC1\0";
const PACK_FILE: &str = "MFCC pack";

/// Decompresses gzip (or passes plain bytes through), at most [`MAX_DATA_BYTES`].
pub fn gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>, WebError> {
    if !mnist::is_gzip(bytes) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_DATA_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| data_err(file, format!("gzip: {e}")))?;
    if out.len() > MAX_DATA_BYTES {
        return Err(data_err(
            file,
            format!("more than {MAX_DATA_BYTES} bytes decompressed"),
        ));
    }
    Ok(out)
}

impl MfccPack {
    pub fn parse(bytes: &[u8]) -> Result<Self, WebError> {
        let raw = gunzip(PACK_FILE, bytes)?;
        if raw.len() < 12 || &raw[..8] != PACK_MAGIC {
            return Err(data_err(PACK_FILE, "no BGMFCC1 magic: not an MFCC pack"));
        }
        let hlen = u32::from_le_bytes(raw[8..12].try_into().expect("4 bytes")) as usize;
        let header = raw
            .get(12..12 + hlen)
            .ok_or_else(|| data_err(PACK_FILE, format!("header of {hlen} bytes is truncated")))?;
        let h: PackHeader = serde_json::from_slice(header)
            .map_err(|e| data_err(PACK_FILE, format!("header: {e}")))?;
        if h.scales.len() != h.coeffs || h.coeffs == 0 || h.steps == 0 {
            return Err(data_err(
                PACK_FILE,
                format!(
                    "{} scales for {} coefficients, {} steps",
                    h.scales.len(),
                    h.coeffs,
                    h.steps
                ),
            ));
        }
        let len = h.steps * h.coeffs;
        let body = &raw[12 + hlen..];
        if body.len() != h.n * len * 2 {
            return Err(data_err(
                PACK_FILE,
                format!(
                    "{} bytes of features, expected {} ({} clips × {} × {} × 2)",
                    body.len(),
                    h.n * len * 2,
                    h.n,
                    h.steps,
                    h.coeffs
                ),
            ));
        }
        for (task, l) in &h.labels {
            let classes = h.classes.get(task).map_or(0, Vec::len);
            if l.len() != h.n {
                return Err(data_err(
                    PACK_FILE,
                    format!("{} {task} labels for {} clips", l.len(), h.n),
                ));
            }
            if let Some(k) = l.iter().position(|&c| c >= classes) {
                return Err(data_err(
                    PACK_FILE,
                    format!(
                        "{task} label {k} is {}, but {task} has {classes} classes",
                        l[k]
                    ),
                ));
            }
        }
        let sequences = body
            .chunks_exact(len * 2)
            .map(|clip| {
                clip.chunks_exact(2)
                    .enumerate()
                    .map(|(k, b)| {
                        f32::from(i16::from_le_bytes([b[0], b[1]])) * h.scales[k % h.coeffs]
                    })
                    .collect()
            })
            .collect();
        Ok(MfccPack {
            steps: h.steps,
            coeffs: h.coeffs,
            sequences,
            labels: h.labels,
            classes: h.classes,
            source: h.source,
        })
    }

    /// The evaluation set of a task (`kws4`, `kws10`).
    pub fn eval_set(&self, task: &str) -> Option<EvalSet> {
        Some(EvalSet {
            name: format!("{} validation clips ({task} labels)", self.sequences.len()),
            sequences: self.sequences.clone(),
            labels: self.labels.get(task)?.clone(),
            steps: self.steps,
            input: self.coeffs,
        })
    }
}

/// Largest inputs file accepted.
pub const MAX_INPUTS_BYTES: usize = 256 << 20;

#[derive(Deserialize)]
struct InputsFile {
    sequences: Vec<Vec<f32>>,
    #[serde(default)]
    labels: Option<Vec<usize>>,
    #[serde(default)]
    steps: Option<usize>,
}

/// Reads a bitgru inputs JSON for a model with `input` features and `classes` classes: every
/// sequence must hold the same whole number of steps and carry a label.
pub fn parse_inputs(
    file: &str,
    bytes: &[u8],
    input: usize,
    classes: usize,
) -> Result<EvalSet, WebError> {
    if bytes.len() > MAX_INPUTS_BYTES {
        return Err(data_err(
            file,
            format!("larger than {MAX_INPUTS_BYTES} bytes"),
        ));
    }
    let f: InputsFile = serde_json::from_slice(bytes).map_err(|e| {
        data_err(
            file,
            format!("not a bitgru inputs JSON ({{sequences, labels}}): {e}"),
        )
    })?;
    let labels = f.labels.ok_or_else(|| {
        data_err(
            file,
            "no \"labels\": evaluation needs one label per sequence",
        )
    })?;
    if f.sequences.is_empty() {
        return Err(data_err(file, "no sequences"));
    }
    if labels.len() != f.sequences.len() {
        return Err(data_err(
            file,
            format!(
                "{} labels for {} sequences",
                labels.len(),
                f.sequences.len()
            ),
        ));
    }
    let len = f.sequences[0].len();
    if len == 0 || !len.is_multiple_of(input) {
        return Err(data_err(
            file,
            format!("sequence 0 has {len} values, not a positive multiple of the model's {input} features"),
        ));
    }
    if let Some(s) = f.steps {
        if s * input != len {
            return Err(data_err(
                file,
                format!("\"steps\": {s} but sequence 0 has {} steps", len / input),
            ));
        }
    }
    if let Some(k) = f.sequences.iter().position(|s| s.len() != len) {
        return Err(data_err(
            file,
            format!(
                "sequence {k} has {} values, sequence 0 has {len}",
                f.sequences[k].len()
            ),
        ));
    }
    if let Some(k) = f
        .sequences
        .iter()
        .position(|s| s.iter().any(|v| !v.is_finite()))
    {
        return Err(data_err(
            file,
            format!("sequence {k} has a non-finite value"),
        ));
    }
    if let Some(k) = labels.iter().position(|&l| l >= classes) {
        return Err(data_err(
            file,
            format!(
                "label {k} is {}, but the model has {classes} classes",
                labels[k]
            ),
        ));
    }
    Ok(EvalSet {
        name: format!("{} ({} sequences)", file, labels.len()),
        sequences: f.sequences,
        labels,
        steps: len / input,
        input,
    })
}

/// A bitgru inputs JSON (the CLI's `--inputs` format) of an evaluation set.
pub fn inputs_json(set: &EvalSet) -> String {
    #[derive(serde::Serialize)]
    struct Inputs<'a> {
        sequences: &'a [Vec<f32>],
        labels: &'a [usize],
        steps: usize,
        source: &'a str,
    }
    serde_json::to_string(&Inputs {
        sequences: &set.sequences,
        labels: &set.labels,
        steps: set.steps,
        source: &set.name,
    })
    .expect("inputs serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_images(n: usize) -> Vec<u8> {
        let mut b = 0x0803u32.to_be_bytes().to_vec();
        for d in [n as u32, 28, 28] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend((0..n * 784).map(|k| (k % 256) as u8));
        b
    }

    fn idx_labels(l: &[u8]) -> Vec<u8> {
        let mut b = 0x0801u32.to_be_bytes().to_vec();
        b.extend_from_slice(&(l.len() as u32).to_be_bytes());
        b.extend_from_slice(l);
        b
    }

    #[test]
    fn mnist_parses_and_checks_counts() {
        let d = MnistData::parse(&idx_images(2), &idx_labels(&[3, 7]), "t").unwrap();
        let rows = d.eval_set(true);
        assert_eq!((rows.steps, rows.input, rows.len()), (28, 28, 2));
        assert_eq!(rows.sequences[0][1], 1.0 / 255.0);
        assert_eq!(d.eval_set(false).steps, 784);
        let e = MnistData::parse(&idx_images(2), &idx_labels(&[3]), "t").unwrap_err();
        assert!(e.to_string().contains("1 labels for 2 images"), "{e}");
        let e = MnistData::parse(&idx_labels(&[3]), &idx_labels(&[3]), "t").unwrap_err();
        assert!(e.to_string().contains("MNIST images"), "{e}");
    }

    fn pack(n: usize, tamper: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let mut h = serde_json::json!({"n": n, "steps": 2, "coeffs": 3, "scales": [0.5, 1.0, 2.0],
            "labels": {"kws4": vec![1; n]}, "classes": {"kws4": ["a", "b"]}});
        tamper(&mut h);
        let h = serde_json::to_vec(&h).unwrap();
        let mut b = PACK_MAGIC.to_vec();
        b.extend_from_slice(&(h.len() as u32).to_le_bytes());
        b.extend_from_slice(&h);
        for k in 0..n * 6 {
            b.extend_from_slice(&(k as i16 - 3).to_le_bytes());
        }
        b
    }

    #[test]
    fn mfcc_pack_decodes_and_rejects_bad_files() {
        let p = MfccPack::parse(&pack(2, |_| {})).unwrap();
        assert_eq!(p.sequences.len(), 2);
        assert_eq!(p.sequences[0], vec![-1.5, -2.0, -2.0, 0.0, 1.0, 4.0]);
        let s = p.eval_set("kws4").unwrap();
        assert_eq!(s.labels, vec![1, 1]);
        assert!(p.eval_set("kws10").is_none());
        let e = MfccPack::parse(b"not a pack at all").unwrap_err();
        assert!(e.to_string().contains("magic"), "{e}");
        let e = MfccPack::parse(&pack(2, |h| h["n"] = 3.into())).unwrap_err();
        assert!(e.to_string().contains("bytes of features"), "{e}");
        let e = MfccPack::parse(&pack(2, |h| {
            h["labels"]["kws4"] = serde_json::json!([0, 5])
        }))
        .unwrap_err();
        assert!(e.to_string().contains("has 2 classes"), "{e}");
        let mut truncated = pack(2, |_| {});
        truncated.truncate(20);
        assert!(MfccPack::parse(&truncated).is_err());
    }

    #[test]
    fn inputs_files_are_checked() {
        let ok = br#"{"sequences": [[0.5, 1, 2, 3], [1, 1, 1, 1]], "labels": [0, 2], "steps": 2}"#;
        let set = parse_inputs("in.json", ok, 2, 3).unwrap();
        assert_eq!((set.len(), set.steps, set.input), (2, 2, 2));
        for (bad, what) in [
            (&br#"{"sequences": [[1, 2]]}"#[..], "no \"labels\""),
            (br#"{"sequences": [[1, 2, 3]], "labels": [0]}"#, "multiple"),
            (
                br#"{"sequences": [[1, 2], [1, 2, 3, 4]], "labels": [0, 1]}"#,
                "sequence 1 has 4",
            ),
            (br#"{"sequences": [[1, 2]], "labels": [3]}"#, "3 classes"),
            (
                br#"{"sequences": [[1, 2]], "labels": [0, 1]}"#,
                "2 labels for 1",
            ),
            (br#"[1, 2]"#, "not a bitgru inputs JSON"),
        ] {
            let e = parse_inputs("in.json", bad, 2, 3).unwrap_err().to_string();
            assert!(e.starts_with("in.json: ") && e.contains(what), "{e}");
        }
    }

    #[test]
    fn inputs_json_has_the_cli_fields() {
        let set = EvalSet {
            name: "x".into(),
            sequences: vec![vec![0.5, 0.25]],
            labels: vec![1],
            steps: 2,
            input: 1,
        };
        let v: serde_json::Value = serde_json::from_str(&inputs_json(&set)).unwrap();
        assert_eq!(v["sequences"][0][1], 0.25);
        assert_eq!(v["labels"][0], 1);
        assert_eq!(v["steps"], 2);
    }
}
