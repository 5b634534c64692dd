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

#[derive(Debug, Deserialize)]
struct MnistHeader {
    n: usize,
    rows: usize,
    cols: usize,
    labels: Vec<u8>,
    #[serde(default)]
    source: String,
}

const MNIST_MAGIC: &[u8; 8] = b"BGMNIST1";
const MNIST_FILE: &str = "MNIST pack";

impl MnistData {
    /// Parses the bundled MNIST pack (`assets/data/mnist-test-500.bin.gz`, format:
    /// `crates/bitgru-cli/examples/make_app_data.rs`).
    pub fn parse_pack(bytes: &[u8]) -> Result<Self, WebError> {
        let raw = gunzip(MNIST_FILE, bytes)?;
        let (h, body): (MnistHeader, &[u8]) = read_pack(MNIST_FILE, MNIST_MAGIC, &raw)?;
        if (h.rows, h.cols) != (28, 28) {
            return Err(data_err(
                MNIST_FILE,
                format!("images of {} × {}, expected 28 × 28", h.rows, h.cols),
            ));
        }
        if h.n == 0 || h.labels.len() != h.n {
            return Err(data_err(
                MNIST_FILE,
                format!("{} labels for {} images", h.labels.len(), h.n),
            ));
        }
        if let Some(k) = h.labels.iter().position(|&l| l > 9) {
            return Err(data_err(
                MNIST_FILE,
                format!("label {k} is {}, expected a digit 0..=9", h.labels[k]),
            ));
        }
        if body.len() != h.n * 784 {
            return Err(data_err(
                MNIST_FILE,
                format!(
                    "{} bytes of pixels, expected {} ({} images × 784)",
                    body.len(),
                    h.n * 784,
                    h.n
                ),
            ));
        }
        Ok(MnistData {
            images: body.to_vec(),
            labels: h.labels,
            source: h.source,
        })
    }

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
    /// The front end the features were computed with; absent in the first packs, which were all
    /// made with [`bitgru::frontend::FrontEnd::default_mfcc`].
    #[serde(default = "bitgru::frontend::FrontEnd::default_mfcc")]
    front_end: bitgru::frontend::FrontEnd,
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
    /// The front end of the features: the bundled features are only given to models with the
    /// same one.
    pub front_end: bitgru::frontend::FrontEnd,
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

/// Splits a bundled pack (`magic`, u32 LE header length, JSON header, body; the layout written
/// by `crates/bitgru-cli/examples/make_app_data.rs`) into its parsed header and its body.
fn read_pack<'a, H: serde::de::DeserializeOwned>(
    file: &str,
    magic: &[u8; 8],
    raw: &'a [u8],
) -> Result<(H, &'a [u8]), WebError> {
    if raw.len() < 12 || &raw[..8] != magic {
        let name = String::from_utf8_lossy(magic);
        return Err(data_err(
            file,
            format!("no {} magic: not a {file}", name.trim_end_matches('\0')),
        ));
    }
    let hlen = u32::from_le_bytes(raw[8..12].try_into().expect("4 bytes")) as usize;
    let header = raw
        .get(12..12usize.saturating_add(hlen))
        .ok_or_else(|| data_err(file, format!("header of {hlen} bytes is truncated")))?;
    let h: H =
        serde_json::from_slice(header).map_err(|e| data_err(file, format!("header: {e}")))?;
    Ok((h, &raw[12 + hlen..]))
}

impl MfccPack {
    pub fn parse(bytes: &[u8]) -> Result<Self, WebError> {
        let raw = gunzip(PACK_FILE, bytes)?;
        let (h, body): (PackHeader, &[u8]) = read_pack(PACK_FILE, PACK_MAGIC, &raw)?;
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
            front_end: h.front_end,
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

/// Reads a bitgru inputs JSON for a model with `input` features and `classes` classes with the
/// core's reader ([`bitgru::io::inputs::parse_inputs`], the CLI's `--inputs`, so its messages are
/// the CLI's); the app also needs a label per sequence and one length for all sequences.
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
    let (sequences, labels) = bitgru::io::inputs::parse_inputs(bytes, input)
        .map_err(|e| data_err(file, e.to_string()))?;
    let labels = labels.ok_or_else(|| {
        data_err(
            file,
            "no \"labels\": evaluation needs one label per sequence",
        )
    })?;
    let len = sequences[0].len();
    if let Some(k) = sequences.iter().position(|s| s.len() != len) {
        return Err(data_err(
            file,
            format!(
                "sequence {k} has {} values, sequence 0 has {len} (the app evaluates sequences of one length)",
                sequences[k].len()
            ),
        ));
    }
    if let Some(k) = labels.iter().position(|&l| l >= classes) {
        // The CLI's wording (`Inputs::check_labels`).
        return Err(data_err(
            file,
            format!(
                "label {k} is {}, but the model has {classes} classes (0..={})",
                labels[k],
                classes.saturating_sub(1)
            ),
        ));
    }
    Ok(EvalSet {
        name: format!("{} ({} sequences)", file, labels.len()),
        sequences,
        labels,
        steps: len / input,
        input,
    })
}

// ---- Uploaded evaluation and calibration data: MNIST IDX pairs, Speech Commands clips ----

/// Largest total size of an uploaded evaluation set (a zip's decompressed entries, or the files
/// of a folder).
pub const MAX_UPLOAD_BYTES: usize = 256 << 20;

/// Most clips in one upload.
pub const MAX_CLIPS: usize = 20_000;

/// Uploaded files: `(name or folder-relative path, bytes)`.
pub type NamedFiles = Vec<(String, Vec<u8>)>;

/// What a set of uploaded data files is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFormat {
    /// A bitgru inputs JSON (one file).
    InputsJson,
    /// MNIST IDX images and labels (two files, gzipped or plain, in any order).
    MnistIdx,
    /// One zip holding Speech Commands clips.
    ClipsZip,
    /// WAV/FLAC clips with their relative paths (a folder).
    ClipsFolder,
}

fn is_idx(bytes: &[u8]) -> bool {
    // IDX: two zero bytes, the type code 0x08 (unsigned byte), the number of dimensions.
    let head = if mnist::is_gzip(bytes) {
        let mut h = [0u8; 4];
        let mut d = flate2::read::GzDecoder::new(bytes);
        if d.read_exact(&mut h).is_err() {
            return false;
        }
        h
    } else {
        match bytes.get(..4) {
            Some(h) => h.try_into().expect("4 bytes"),
            None => return false,
        }
    };
    head[0] == 0 && head[1] == 0 && head[2] == 0x08
}

fn is_audio(bytes: &[u8]) -> bool {
    bytes.starts_with(b"RIFF") || bytes.starts_with(b"fLaC")
}

/// Tells the format of uploaded files from their content (names only in the error).
pub fn sniff_upload(files: &[(String, Vec<u8>)]) -> Result<UploadFormat, WebError> {
    let names = || {
        files
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match files {
        [] => Err(data_err("upload", "no files")),
        [(_, b)] if b.starts_with(b"PK\x03\x04") => Ok(UploadFormat::ClipsZip),
        [(_, b)] if b.trim_ascii_start().starts_with(b"{") => Ok(UploadFormat::InputsJson),
        [(_, a), (_, b)] if is_idx(a) && is_idx(b) => Ok(UploadFormat::MnistIdx),
        fs if fs.iter().any(|(_, b)| is_audio(b)) => Ok(UploadFormat::ClipsFolder),
        _ => Err(data_err(
            &names(),
            "not a bitgru inputs JSON, a pair of MNIST IDX files (images and labels), a zip of \
             clips or a folder of WAV/FLAC clips",
        )),
    }
}

/// The two files of an MNIST IDX upload, images first (told apart by their IDX dimensions).
pub fn mnist_upload(files: &[(String, Vec<u8>)]) -> Result<MnistData, WebError> {
    let [(n0, b0), (n1, b1)] = files else {
        return Err(data_err(
            "MNIST IDX upload",
            format!("{} files, expected two (images and labels)", files.len()),
        ));
    };
    let dims = |name: &str, b: &[u8]| {
        let raw = gunzip(name, b)?;
        mnist::parse_idx(&raw, Some(0))
            .map(|i| i.dims.len())
            .map_err(|e| data_err(name, e.to_string()))
    };
    let (images, labels) = match (dims(n0, b0)?, dims(n1, b1)?) {
        (3, 1) => ((n0, b0), (n1, b1)),
        (1, 3) => ((n1, b1), (n0, b0)),
        (a, b) => {
            return Err(data_err(
                &format!("{n0}, {n1}"),
                format!("IDX files of {a} and {b} dimensions, expected images (3) and labels (1)"),
            ))
        }
    };
    let img = mnist::parse_images(&gunzip(images.0, images.1)?, None)
        .map_err(|e| data_err(images.0, e.to_string()))?;
    let lab = mnist::parse_labels(&gunzip(labels.0, labels.1)?, None)
        .map_err(|e| data_err(labels.0, e.to_string()))?;
    if img.dims.get(1..) != Some(&[28, 28][..]) {
        return Err(data_err(
            images.0,
            format!("images of shape {:?}, expected [n, 28, 28]", img.dims),
        ));
    }
    if lab.len() != img.dims[0] || lab.is_empty() {
        return Err(data_err(
            labels.0,
            format!(
                "{} labels for {} images in {}",
                lab.len(),
                img.dims[0],
                images.0
            ),
        ));
    }
    Ok(MnistData {
        images: img.data,
        labels: lab,
        source: format!("{} ({} digits)", images.0, img.dims[0]),
    })
}

/// The entries of a zip: `(path, bytes)` of every file (directories skipped), at most
/// [`MAX_UPLOAD_BYTES`] decompressed in all.
pub fn unzip(name: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, WebError> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| data_err(name, format!("not a readable zip: {e}")))?;
    let mut out = Vec::new();
    let mut total = 0usize;
    for k in 0..z.len() {
        let mut f = z
            .by_index(k)
            .map_err(|e| data_err(name, format!("entry {k}: {e}")))?;
        if f.is_dir() {
            continue;
        }
        let path = f.name().to_string();
        let mut buf = Vec::new();
        (&mut f)
            .take((MAX_UPLOAD_BYTES - total) as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| data_err(name, format!("entry {path}: {e}")))?;
        total += buf.len();
        if total > MAX_UPLOAD_BYTES {
            return Err(data_err(
                name,
                format!("more than {MAX_UPLOAD_BYTES} bytes decompressed (at entry {path})"),
            ));
        }
        out.push((path, buf));
    }
    Ok(out)
}

/// Speech Commands clips (`…/<word>/<file>.wav|flac`; other files and `_background_noise_`
/// skipped) → the MFCC evaluation set of a keyword task, with the core's decoder (strict
/// 16 kHz mono), length fit and the model's MFCC front end `front` (the default MFCC when the
/// model states none): the features `bitgru eval --task` computes for that model.
pub fn clips_eval_set(
    source: &str,
    files: &[(String, Vec<u8>)],
    task: bitgru::data::speech::KwsTask,
    front: &bitgru::frontend::FrontEnd,
) -> Result<EvalSet, WebError> {
    use bitgru::audio::{decode, fit_length, DecodeOptions};
    use bitgru::data::speech::{parse_clip_path, BACKGROUND_NOISE};
    let mut picked: Vec<(String, &[u8])> = Vec::new();
    for (path, bytes) in files {
        let lower = path.to_ascii_lowercase();
        if !(lower.ends_with(".wav") || lower.ends_with(".flac")) {
            continue;
        }
        // The last two components: `<word>/<file>`.
        let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        let rel = match parts.as_slice() {
            [.., folder, file] => format!("{folder}/{file}"),
            _ => {
                return Err(data_err(
                    source,
                    format!("{path}: expected <word>/<clip> (the Speech Commands layout)"),
                ))
            }
        };
        if rel.starts_with(&format!("{BACKGROUND_NOISE}/")) {
            continue;
        }
        picked.push((rel, bytes));
    }
    if picked.is_empty() {
        return Err(data_err(
            source,
            "no WAV or FLAC clips in <word>/<clip> folders",
        ));
    }
    if picked.len() > MAX_CLIPS {
        return Err(data_err(
            source,
            format!("{} clips, at most {MAX_CLIPS}", picked.len()),
        ));
    }
    picked.sort_by(|a, b| a.0.cmp(&b.0));
    // The task's rule for which features a model's front end may ask of its clips.
    let kws: bitgru::task::Task = task
        .name()
        .parse()
        .map_err(|e: bitgru::Error| data_err(source, e.to_string()))?;
    let (mfcc, clip_samples) = match kws.data_front_end(front)? {
        bitgru::frontend::FrontEnd::Mfcc {
            config,
            clip_samples,
        } => (bitgru::audio::mfcc::Mfcc::new(config)?, clip_samples),
        other => {
            return Err(data_err(
                source,
                format!("{kws} clips need an MFCC front end, the model states {other:?}"),
            ))
        }
    };
    let mut clips = Vec::with_capacity(picked.len());
    let mut labels = Vec::with_capacity(picked.len());
    for (rel, bytes) in &picked {
        let info = parse_clip_path(rel).map_err(|e| data_err(source, e.to_string()))?;
        let mut clip = decode(bytes, &DecodeOptions::default())
            .map_err(|e| data_err(source, format!("clip {rel}: {e}")))?;
        fit_length(&mut clip, clip_samples);
        clips.push(clip);
        labels.push(
            task.label_of_folder(&info.folder)
                .unwrap_or(task.unknown_label()),
        );
    }
    let sequences = bitgru::data::features::mfcc_sequences(&clips, &mfcc)?;
    let input = mfcc.config().n_mfcc;
    let steps = sequences[0].len() / input;
    Ok(EvalSet {
        name: format!("{source} ({} clips, {} labels)", labels.len(), task.name()),
        sequences,
        labels,
        steps,
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

    fn mnist_pack(n: usize, labels: Vec<u8>, pixels: usize) -> Vec<u8> {
        let h =
            serde_json::json!({"n": n, "rows": 28, "cols": 28, "labels": labels, "source": "t"});
        let h = serde_json::to_vec(&h).unwrap();
        let mut b = MNIST_MAGIC.to_vec();
        b.extend_from_slice(&(h.len() as u32).to_le_bytes());
        b.extend_from_slice(&h);
        b.extend((0..pixels).map(|k| (k % 256) as u8));
        b
    }

    #[test]
    fn mnist_pack_decodes_and_rejects_bad_files() {
        let d = MnistData::parse_pack(&mnist_pack(2, vec![3, 7], 2 * 784)).unwrap();
        assert_eq!(
            (d.len(), d.labels.clone(), d.source.as_str()),
            (2, vec![3, 7], "t")
        );
        assert_eq!(d.image(1)[0], (784 % 256) as u8);
        let e = MnistData::parse_pack(&mnist_pack(2, vec![3, 7], 784)).unwrap_err();
        assert!(
            e.to_string().contains("784 bytes of pixels, expected 1568"),
            "{e}"
        );
        let e = MnistData::parse_pack(&mnist_pack(2, vec![3], 2 * 784)).unwrap_err();
        assert!(e.to_string().contains("1 labels for 2 images"), "{e}");
        let e = MnistData::parse_pack(&mnist_pack(1, vec![12], 784)).unwrap_err();
        assert!(e.to_string().contains("label 0 is 12"), "{e}");
        let e = MnistData::parse_pack(&pack(1, |_| {})).unwrap_err();
        assert!(e.to_string().contains("no BGMNIST1 magic"), "{e}");
        // The bundled file.
        let d =
            MnistData::parse_pack(include_bytes!("../assets/data/mnist-test-500.bin.gz")).unwrap();
        assert_eq!(d.len(), 500);
        // Stratified: every digit, in proportion to the test set (45..=57 each).
        assert!((0..10).all(|c| (45..=57).contains(&d.labels.iter().filter(|&&l| l == c).count())));
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
        // A pack without "front_end" was made with the default MFCC; one with it says which.
        assert_eq!(p.front_end, bitgru::frontend::FrontEnd::default_mfcc());
        let mut f = bitgru::frontend::FrontEnd::default_mfcc();
        if let bitgru::frontend::FrontEnd::Mfcc { config, .. } = &mut f {
            config.n_mels = 32;
        }
        let wire = serde_json::to_value(&f).unwrap();
        let q = MfccPack::parse(&pack(2, |h| h["front_end"] = wire.clone())).unwrap();
        assert_eq!(q.front_end, f);
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
        // Nested [T][I] sequences too (the core's reader).
        let nested = br#"{"sequences": [[[0.5, 1], [2, 3]]], "labels": [1]}"#;
        assert_eq!(
            parse_inputs("in.json", nested, 2, 3).unwrap().sequences[0],
            vec![0.5, 1.0, 2.0, 3.0]
        );
        for (bad, what) in [
            (&br#"{"sequences": [[1, 2]]}"#[..], "no \"labels\""),
            (
                br#"{"sequences": [[1, 2, 3]], "labels": [0]}"#,
                "positive multiple of the input size 2",
            ),
            (
                br#"{"sequences": [[1, 2], [1, 2, 3, 4]], "labels": [0, 1]}"#,
                "sequence 1 has 4",
            ),
            (
                br#"{"sequences": [[1, 2]], "labels": [3]}"#,
                "3 classes (0..=2)",
            ),
            (
                br#"{"sequences": [[1, 2]], "labels": [0, 1]}"#,
                "2 labels for 1",
            ),
            (br#"[1, 2]"#, "malformed JSON"),
            (
                br#"{"sequences": [[1e39, 2]], "labels": [0]}"#,
                "out of f32 range",
            ),
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
