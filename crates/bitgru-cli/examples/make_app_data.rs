//! Writes the app's bundled evaluation subsets into `assets/data/` (see assets/data/README.md):
//!
//! - `mnist-test-500-{images-idx3,labels-idx1}-ubyte.gz`: 500 MNIST test digits (50 per class,
//!   evenly spaced within each class by `bitgru::search::problem::stratified_subset`), as
//!   gzipped IDX files, read by the same core IDX reader as user uploads;
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
    let mut img = Vec::with_capacity(16 + idx.len() * side);
    img.extend_from_slice(&0x0000_0803u32.to_be_bytes());
    for d in [idx.len() as u32, 28, 28] {
        img.extend_from_slice(&d.to_be_bytes());
    }
    let mut lab = Vec::with_capacity(8 + idx.len());
    lab.extend_from_slice(&0x0000_0801u32.to_be_bytes());
    lab.extend_from_slice(&(idx.len() as u32).to_be_bytes());
    for &i in &idx {
        img.extend_from_slice(&images.data[i * side..(i + 1) * side]);
        lab.push(labels[i]);
    }
    write(
        &out.join("mnist-test-500-images-idx3-ubyte.gz"),
        &gzip(&img)?,
    )?;
    write(
        &out.join("mnist-test-500-labels-idx1-ubyte.gz"),
        &gzip(&lab)?,
    )?;
    let manifest = serde_json::json!({
        "source": "MNIST t10k (Y. LeCun, C. Cortes, C. J. C. Burges), CC BY-SA 3.0",
        "selection": "bitgru::search::problem::stratified_subset(test labels, 500)",
        "test_indices": idx,
    });
    write(
        &out.join("mnist-test-500.json"),
        serde_json::to_string(&manifest)?.as_bytes(),
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
    });
    let header = serde_json::to_vec(&header)?;
    let mut bytes = Vec::with_capacity(12 + header.len() + n * steps * coeffs * 2);
    bytes.extend_from_slice(b"BGMFCC1\0");
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&header);
    for s in &k10.sequences {
        for (k, v) in s.iter().enumerate() {
            let q = (v / scales[k % coeffs]).round().clamp(-32767.0, 32767.0) as i16;
            bytes.extend_from_slice(&q.to_le_bytes());
        }
    }
    write(&out.join("kws-validation-mfcc.bin.gz"), &gzip(&bytes)?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().map_or("../shared/data", String::as_str));
    let out = PathBuf::from(args.get(1).map_or("assets/data", String::as_str));
    std::fs::create_dir_all(&out)?;
    mnist_subset(&root, &out)?;
    kws_pack(&root, &out)
}
