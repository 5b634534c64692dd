//! MNIST from IDX files (plain or gzip-compressed, detected by the gzip magic `1f 8b`).
//!
//! IDX layout: magic `00 00 <type> <ndims>` (type `0x08` = unsigned byte; images `0x00000803`,
//! labels `0x00000801`), `ndims` big-endian u32 dimensions, then the data in row-major order.
//! Every check names what it expected: a wrong magic is a `Format` error, a truncated or
//! over-long file a `Length` error with the expected and actual byte counts.
//!
//! Tasks (DESIGN §6): `row-mnist` is 28 steps of 28 pixels (one image row per step), `pixel-mnist`
//! 784 steps of 1 pixel in raster order; pixels are scaled by 1/255 to `[0, 1]`. Both are the same
//! flat 784 values per image, only `steps × input` differ.
//!
//! There is no official validation split: [`super::Dataset::split_last`] holds out the last `n`
//! training images (5,000 by convention, [`VALIDATION_HOLDOUT`]).
use super::Dataset;
use crate::error::{Error, Result};
use std::io::Read;

/// IDX magic of an unsigned-byte 3-d array (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// IDX magic of an unsigned-byte 1-d array (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Largest IDX payload accepted (128 MiB; the MNIST training images are 47 MB).
pub const MAX_IDX_BYTES: usize = 128 << 20;
/// Image side length.
pub const SIDE: usize = 28;
/// The usual validation holdout: the last 5,000 training images.
pub const VALIDATION_HOLDOUT: usize = 5_000;

/// A parsed unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq)]
pub struct Idx {
    /// Dimensions; `dims[0]` is the number of items read (≤ the count in the file header when a
    /// limit was given).
    pub dims: Vec<usize>,
    /// Item count in the file header.
    pub header_items: usize,
    /// Row-major bytes of the items read.
    pub data: Vec<u8>,
}

impl Idx {
    /// The IDX magic number, `0x00000800 | ndims`.
    pub fn magic(&self) -> u32 {
        0x0800 | self.dims.len() as u32
    }
}

/// Reads up to `n` bytes (fewer at end of stream).
fn read_up_to(r: &mut impl Read, n: usize, source: &'static str) -> Result<Vec<u8>> {
    // Grown as bytes arrive: a 16-byte header announcing 47 MB allocates nothing up front.
    let mut v = Vec::with_capacity(n.min(1 << 20));
    r.take(n as u64)
        .read_to_end(&mut v)
        .map_err(|e| Error::format(source, e.to_string()))?;
    Ok(v)
}

fn read_idx(r: &mut impl Read, source: &'static str, limit: Option<usize>) -> Result<Idx> {
    let head = read_up_to(r, 4, source)?;
    if head.len() < 4 {
        return Err(Error::length("IDX header bytes", 4, head.len()));
    }
    if head[0] != 0 || head[1] != 0 {
        return Err(Error::format(
            "IDX",
            format!("bad magic {head:02x?}, expected [00, 00, type, ndims]"),
        ));
    }
    if head[2] != 0x08 {
        return Err(Error::format(
            "IDX",
            format!(
                "data type 0x{:02x}, only 0x08 (unsigned byte) is supported",
                head[2]
            ),
        ));
    }
    let ndims = head[3] as usize;
    if ndims == 0 {
        return Err(Error::format("IDX", "0 dimensions"));
    }
    let dim_bytes = read_up_to(r, 4 * ndims, source)?;
    let header_len = 4 + 4 * ndims;
    if dim_bytes.len() < 4 * ndims {
        return Err(Error::length(
            format!("IDX header bytes ({ndims} dimensions)"),
            header_len,
            4 + dim_bytes.len(),
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let item: usize = dims[1..]
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| Error::format("IDX", format!("dimensions {dims:?} are too large")))?;
    let full = dims[0]
        .checked_mul(item)
        .filter(|&n| n <= MAX_IDX_BYTES)
        .ok_or_else(|| {
            Error::format(
                "IDX",
                format!("dimensions {dims:?} exceed the {MAX_IDX_BYTES} byte limit"),
            )
        })?;
    let items = limit.map_or(dims[0], |l| l.min(dims[0]));
    let need = items * item;
    let data = read_up_to(r, need, source)?;
    if data.len() < need {
        return Err(Error::length(
            format!("IDX file bytes (truncated; dimensions {dims:?})"),
            header_len + full,
            header_len + data.len(),
        ));
    }
    if items == dims[0] {
        let rest = read_up_to(r, MAX_IDX_BYTES, source)?;
        if !rest.is_empty() {
            return Err(Error::length(
                format!("IDX file bytes (trailing data; dimensions {dims:?})"),
                header_len + full,
                header_len + full + rest.len(),
            ));
        }
    }
    let mut out_dims = dims.clone();
    out_dims[0] = items;
    Ok(Idx {
        dims: out_dims,
        header_items: dims[0],
        data,
    })
}

/// True if `bytes` start with the gzip magic `1f 8b`.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Parses an IDX file, gzip-compressed or plain. With `limit`, only the first `limit` items are
/// decompressed and read (the header count is still reported in `header_items`).
pub fn parse_idx(bytes: &[u8], limit: Option<usize>) -> Result<Idx> {
    if is_gzip(bytes) {
        read_idx(&mut flate2::read::GzDecoder::new(bytes), "gzip", limit)
    } else {
        read_idx(&mut &bytes[..], "IDX", limit)
    }
}

fn expect_magic(idx: &Idx, magic: u32, what: &str) -> Result<()> {
    if idx.magic() != magic {
        return Err(Error::format(
            "IDX",
            format!(
                "magic 0x{:08x} ({} dimensions), expected 0x{magic:08x} for {what}",
                idx.magic(),
                idx.dims.len()
            ),
        ));
    }
    Ok(())
}

/// Parses an image file (magic `0x00000803`, `[n, rows, cols]`).
pub fn parse_images(bytes: &[u8], limit: Option<usize>) -> Result<Idx> {
    let idx = parse_idx(bytes, limit)?;
    expect_magic(&idx, IMAGES_MAGIC, "images")?;
    Ok(idx)
}

/// Parses a label file (magic `0x00000801`); every label must be a digit 0–9.
pub fn parse_labels(bytes: &[u8], limit: Option<usize>) -> Result<Vec<u8>> {
    let idx = parse_idx(bytes, limit)?;
    expect_magic(&idx, LABELS_MAGIC, "labels")?;
    if let Some(i) = idx.data.iter().position(|&l| l > 9) {
        return Err(Error::invalid(
            format!("MNIST label {i}"),
            format!("{}, expected 0..=9", idx.data[i]),
        ));
    }
    Ok(idx.data)
}

/// The two sequential MNIST tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MnistTask {
    /// `row-mnist`: 28 steps × 28 pixels.
    Row,
    /// `pixel-mnist`: 784 steps × 1 pixel.
    Pixel,
}

impl MnistTask {
    /// The task name (`row-mnist` / `pixel-mnist`).
    pub fn name(self) -> &'static str {
        match self {
            MnistTask::Row => "row-mnist",
            MnistTask::Pixel => "pixel-mnist",
        }
    }

    /// `[steps, input]`.
    pub fn shape(self) -> (usize, usize) {
        match self {
            MnistTask::Row => (SIDE, SIDE),
            MnistTask::Pixel => (SIDE * SIDE, 1),
        }
    }
}

impl std::str::FromStr for MnistTask {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "row-mnist" => Ok(MnistTask::Row),
            "pixel-mnist" => Ok(MnistTask::Pixel),
            _ => Err(Error::invalid(
                "MNIST task",
                format!("{s:?}, expected \"row-mnist\" or \"pixel-mnist\""),
            )),
        }
    }
}

/// Class names "0"…"9".
pub fn classes() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// Images + labels → a task's [`Dataset`] (pixels / 255).
pub fn to_dataset(images: &Idx, labels: &[u8], task: MnistTask) -> Result<Dataset> {
    if images.dims.len() != 3 || images.dims[1] != SIDE || images.dims[2] != SIDE {
        return Err(Error::Shape {
            what: "MNIST images".into(),
            expected: vec![images.dims.first().copied().unwrap_or(0), SIDE, SIDE],
            got: images.dims.clone(),
        });
    }
    if labels.len() != images.dims[0] {
        return Err(Error::length(
            "MNIST labels (one per image)",
            images.dims[0],
            labels.len(),
        ));
    }
    let (steps, input) = task.shape();
    let sequences = images
        .data
        .chunks_exact(SIDE * SIDE)
        .map(|img| img.iter().map(|&p| f32::from(p) / 255.0).collect())
        .collect();
    Ok(Dataset {
        sequences,
        labels: labels.iter().map(|&l| usize::from(l)).collect(),
        steps,
        input,
        classes: classes(),
    })
}

/// The two MNIST files sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MnistSplit {
    /// 60,000 training images (`train-*`).
    Train,
    /// 10,000 test images (`t10k-*`).
    Test,
}

impl MnistSplit {
    /// File stems `(images, labels)` without the optional `.gz`.
    pub fn file_stems(self) -> (&'static str, &'static str) {
        match self {
            MnistSplit::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            MnistSplit::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn read_stem(dir: &std::path::Path, stem: &str) -> Result<(std::path::PathBuf, Vec<u8>)> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let path = dir.join(&name);
        if path.is_file() {
            return Ok((path.clone(), super::read_file(&path)?));
        }
    }
    Err(Error::Missing(format!(
        "{stem}.gz or {stem} in {}",
        dir.display()
    )))
}

/// Loads one split from a directory holding the IDX files (`.gz` preferred over plain). With
/// `limit`, only the first `limit` images are read.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_split(
    dir: &std::path::Path,
    split: MnistSplit,
    task: MnistTask,
    limit: Option<usize>,
) -> Result<Dataset> {
    let (img_stem, lbl_stem) = split.file_stems();
    // Errors name the file they are about (images or labels).
    let named = |path: &std::path::Path, what: &str| {
        let what = format!("MNIST {what} file {}", path.display());
        move |e: Error| Error::invalid(what, e.to_string())
    };
    let (img_path, img_bytes) = read_stem(dir, img_stem)?;
    let images = parse_images(&img_bytes, limit).map_err(named(&img_path, "images"))?;
    let (lbl_path, lbl_bytes) = read_stem(dir, lbl_stem)?;
    let labels = parse_labels(&lbl_bytes, limit).map_err(named(&lbl_path, "labels"))?;
    if images.header_items != labels.len() && limit.is_none() {
        return Err(named(&lbl_path, "labels")(Error::length(
            "labels (one per image)",
            images.header_items,
            labels.len(),
        )));
    }
    to_dataset(&images, &labels, task).map_err(named(&lbl_path, "labels"))
}

/// Loads `(train, test)`.
#[cfg(not(target_arch = "wasm32"))]
pub fn load(dir: &std::path::Path, task: MnistTask) -> Result<(Dataset, Dataset)> {
    Ok((
        load_split(dir, MnistSplit::Train, task, None)?,
        load_split(dir, MnistSplit::Test, task, None)?,
    ))
}
