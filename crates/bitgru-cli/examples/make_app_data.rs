//! Writes the app's bundled evaluation subsets into `assets/data/` (see assets/data/README.md):
//!
//! - `mnist-test-500.bin.gz`: 500 MNIST test digits (each class in proportion to the test set,
//!   evenly spaced within it, by `bitgru::search::problem::stratified_subset`) in the app's own
//!   pack. Layout
//!   (little-endian, gzipped): `b"BGMNIST1"`, u32 header length, the JSON header
//!   (`n, rows, cols, labels, source, selection, test_indices`), then `n × rows × cols` pixel
//!   bytes (0..=255, row-major, the images in `test_indices` order);
//! - `kws-validation-mfcc.bin.gz`: the MFCC features (49 frames × 10 coefficients, the core's
//!   default front end) of every Speech Commands validation clip, with the kws4 and kws10
//!   labels; `kws4-validation-mfcc8k.bin.gz`: the same clips featurized by the default kws4
//!   model's own front end (its filterbank reaches 8 kHz), kws4 labels only. Layout
//!   (little-endian, gzipped): `b"BGMFCC1\0"`, u32 header length, the JSON header
//!   (`n, steps, coeffs, scales, labels{task…}, classes{task…}, front_end`), then `n × steps × coeffs`
//!   i16 codes; a feature is `code × scales[coefficient]` (per-coefficient int16 quantization,
//!   to keep the file small).
//!
//! Usage: `cargo run --release -p bitgru-cli --example make_app_data -- [DATA_ROOT] [OUT_DIR]`
//! (defaults `../shared/data`, `assets/data`).
use anyhow::{bail, Context, Result};
use bitgru::data::mnist;
use bitgru::frontend::FrontEnd;
use bitgru::search::problem::stratified_subset;
use bitgru::task::{load_eval_split_with, EvalSplit, Task};
use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::{Path, PathBuf};

const MNIST_DIGITS: usize = 500;
/// The pack of the default MFCC front end (kws10, and kws4 models trained with it).
const KWS_PACK: &str = "kws-validation-mfcc.bin.gz";
/// The pack of the default kws4 model's front end (10 MFCCs of 40 mel bands up to 8 kHz).
const KWS4_PACK: &str = "kws4-validation-mfcc8k.bin.gz";

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}

/// A pack: `magic`, u32 LE header length, the JSON header, then the body.
fn pack(magic: &[u8; 8], header: &serde_json::Value, body: &[u8]) -> Result<Vec<u8>> {
    let header = serde_json::to_vec(header)?;
    let mut bytes = Vec::with_capacity(12 + header.len() + body.len());
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(body);
    Ok(bytes)
}

fn mnist_subset(root: &Path, out: &Path) -> Result<()> {
    let dir = bitgru::task::task_dir(Task::RowMnist, root);
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let images = mnist::parse_images(&read("t10k-images-idx3-ubyte.gz")?, None)?;
    let labels = mnist::parse_labels(&read("t10k-labels-idx1-ubyte.gz")?, None)?;
    let labels_usize: Vec<usize> = labels.iter().map(|&l| l as usize).collect();
    let idx = stratified_subset(&labels_usize, MNIST_DIGITS);
    let side = 28 * 28;
    let mut pixels = Vec::with_capacity(idx.len() * side);
    for &i in &idx {
        pixels.extend_from_slice(&images.data[i * side..(i + 1) * side]);
    }
    let header = serde_json::json!({
        "n": idx.len(), "rows": 28, "cols": 28,
        "labels": idx.iter().map(|&i| labels[i]).collect::<Vec<u8>>(),
        "source": "MNIST t10k (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0",
        "selection": "bitgru::search::problem::stratified_subset(test labels, 500)",
        "test_indices": idx,
    });
    write(
        &out.join("mnist-test-500.bin.gz"),
        &gzip(&pack(b"BGMNIST1", &header, &pixels)?)?,
    )
}

/// One KWS pack: the validation clips featurized by `front`, labelled for every task in `tasks`
/// (which must share one clip list), written to `out/file`.
fn kws_pack(root: &Path, out: &Path, tasks: &[Task], front: &FrontEnd, file: &str) -> Result<()> {
    let sets = tasks
        .iter()
        .map(|&t| load_eval_split_with(t, root, EvalSplit::Validation, None, front))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &sets[0];
    if sets.iter().any(|s| s.sequences != first.sequences) {
        bail!("the validation clips of {tasks:?} differ: a pack assumes one clip list");
    }
    let (n, steps, coeffs) = (first.sequences.len(), first.steps, first.input);
    let mut maxabs = vec![0f32; coeffs];
    for s in &first.sequences {
        for (k, v) in s.iter().enumerate() {
            maxabs[k % coeffs] = maxabs[k % coeffs].max(v.abs());
        }
    }
    let scales: Vec<f32> = maxabs
        .iter()
        .map(|m| if *m > 0.0 { m / 32767.0 } else { 1.0 })
        .collect();
    let by_task = |f: &dyn Fn(&bitgru::data::Dataset) -> serde_json::Value| {
        tasks
            .iter()
            .zip(&sets)
            .map(|(t, s)| (t.to_string(), f(s)))
            .collect::<serde_json::Map<_, _>>()
    };
    let header = serde_json::json!({
        "n": n, "steps": steps, "coeffs": coeffs, "scales": scales,
        "labels": by_task(&|s| serde_json::json!(s.labels)),
        "classes": by_task(&|s| serde_json::json!(s.classes)),
        "source": "Speech Commands v0.02 (Pete Warden), validation_list.txt clips present in shared/data, CC BY 4.0",
        "features": format!("{steps} frames x {coeffs} coefficients of the front end below, int16 per coefficient"),
        // The app gives these features only to models with this front end (packs without the
        // field were made with the default MFCC).
        "front_end": front,
    });
    let mut codes = Vec::with_capacity(n * steps * coeffs * 2);
    for s in &first.sequences {
        for (k, v) in s.iter().enumerate() {
            let q = (v / scales[k % coeffs]).round().clamp(-32767.0, 32767.0) as i16;
            codes.extend_from_slice(&q.to_le_bytes());
        }
    }
    write(
        &out.join(file),
        &gzip(&pack(b"BGMFCC1\0", &header, &codes)?)?,
    )
}

/// The front end a default model records (`assets/models/<task>.safetensors`).
fn model_front_end(task: Task) -> Result<FrontEnd> {
    let path = format!("assets/models/{task}.safetensors");
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {path}"))?;
    Ok(bitgru::io::load_bundle(&bytes)
        .with_context(|| format!("{path} is not a model bundle"))?
        .meta
        .features)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().map_or("../shared/data", String::as_str));
    let out = PathBuf::from(args.get(1).map_or("assets/data", String::as_str));
    std::fs::create_dir_all(&out)?;
    mnist_subset(&root, &out)?;
    // The default MFCC pack (kws10's front end; kws4 labels too, for kws4 models trained with
    // it), and a kws4 pack with the default kws4 model's own front end where that differs.
    let default = FrontEnd::default_mfcc();
    if model_front_end(Task::Kws10)? != default {
        bail!("the default kws10 model no longer uses the default MFCC: update this script");
    }
    kws_pack(&root, &out, &[Task::Kws10, Task::Kws4], &default, KWS_PACK)?;
    let kws4 = model_front_end(Task::Kws4)?;
    if kws4 != default {
        kws_pack(&root, &out, &[Task::Kws4], &kws4, KWS4_PACK)?;
    }
    Ok(())
}
