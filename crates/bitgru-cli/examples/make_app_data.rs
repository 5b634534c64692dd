//! Writes the app's bundled evaluation subsets into `assets/data/` (see assets/data/README.md):
//!
//! - `mnist-test-500.bin.gz`: 500 MNIST test digits (each class in proportion to the test set,
//!   evenly spaced within it, by `bitgru::search::problem::stratified_subset`) in the app's own
//!   pack. Layout
//!   (little-endian, gzipped): `b"BGMNIST1"`, u32 header length, the JSON header
//!   (`n, rows, cols, labels, source, selection, test_indices`), then `n × rows × cols` pixel
//!   bytes (0..=255, row-major, the images in `test_indices` order);
//! - `kws-validation-mfcc.bin.gz`: the MFCC features (49 frames × 10 coefficients, the core's
//!   front end) of every Speech Commands validation clip, with the kws4 and kws10 labels. Layout
//!   (little-endian, gzipped): `b"BGMFCC1\0"`, u32 header length, the JSON header
//!   (`n, steps, coeffs, scales, labels{kws4,kws10}, classes{…}`), then `n × steps × coeffs`
//!   i16 codes; a feature is `code × scales[coefficient]` (per-coefficient int16 quantization,
//!   to keep the file small).
//!
//! Usage: `cargo run --release -p bitgru-cli --example make_app_data -- [DATA_ROOT] [OUT_DIR]`
//! (defaults `../shared/data`, `assets/data`).
use anyhow::{bail, Context, Result};
use bitgru::data::mnist;
use bitgru::search::problem::stratified_subset;
use bitgru::task::{load_eval_split, EvalSplit, Task};
use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::{Path, PathBuf};

const MNIST_DIGITS: usize = 500;

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

fn kws_pack(root: &Path, out: &Path) -> Result<()> {
    let k10 = load_eval_split(Task::Kws10, root, EvalSplit::Validation, None)?;
    let k4 = load_eval_split(Task::Kws4, root, EvalSplit::Validation, None)?;
    if k10.sequences != k4.sequences {
        bail!("kws4 and kws10 validation clips differ: the pack assumes one clip list");
    }
    let (n, steps, coeffs) = (k10.sequences.len(), k10.steps, k10.input);
    let mut maxabs = vec![0f32; coeffs];
    for s in &k10.sequences {
        for (k, v) in s.iter().enumerate() {
            maxabs[k % coeffs] = maxabs[k % coeffs].max(v.abs());
        }
    }
    let scales: Vec<f32> = maxabs
        .iter()
        .map(|m| if *m > 0.0 { m / 32767.0 } else { 1.0 })
        .collect();
    let header = serde_json::json!({
        "n": n, "steps": steps, "coeffs": coeffs, "scales": scales,
        "labels": { "kws4": k4.labels, "kws10": k10.labels },
        "classes": { "kws4": k4.classes, "kws10": k10.classes },
        "source": "Speech Commands v0.02 (Pete Warden), validation_list.txt clips present in shared/data, CC BY 4.0",
        "features": "bitgru::task::default_mfcc() (49 frames x 10 MFCC), int16 per coefficient",
        // The app gives these features only to models with this front end (packs without the
        // field were made with it too).
        "front_end": Task::Kws10.front_end(),
    });
    let mut codes = Vec::with_capacity(n * steps * coeffs * 2);
    for s in &k10.sequences {
        for (k, v) in s.iter().enumerate() {
            let q = (v / scales[k % coeffs]).round().clamp(-32767.0, 32767.0) as i16;
            codes.extend_from_slice(&q.to_le_bytes());
        }
    }
    write(
        &out.join("kws-validation-mfcc.bin.gz"),
        &gzip(&pack(b"BGMFCC1\0", &header, &codes)?)?,
    )
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().map_or("../shared/data", String::as_str));
    let out = PathBuf::from(args.get(1).map_or("assets/data", String::as_str));
    std::fs::create_dir_all(&out)?;
    mnist_subset(&root, &out)?;
    kws_pack(&root, &out)
}
