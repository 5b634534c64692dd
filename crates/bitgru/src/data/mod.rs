//! Data sets of the four tasks (DESIGN §6) as flat sequences.
//!
//! - [`mnist`]: IDX reader (plain or gzip), `row-mnist` (28 × 28) and `pixel-mnist` (784 × 1);
//! - [`speech`]: Speech Commands class maps (`kws4`, `kws10`), split lists and the directory
//!   loader (native only), background-noise recordings;
//! - [`augment`]: seeded time shift, noise mixing at a random SNR, silence clips, and the
//!   train / held-out split of the noise recordings;
//! - [`features`]: a whole split of clips → MFCC [`Dataset`] (rayon with the `parallel` feature).
//!
//! Parsing works on byte slices and builds for wasm32; functions that read directories are
//! `#[cfg(not(target_arch = "wasm32"))]`.
use crate::error::{check_finite, Error, Result};

pub mod augment;
pub mod features;
pub mod mnist;
pub mod speech;

/// A labelled set of sequences, each stored flat as `[steps × input]` (time-major).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// One flat `[steps × input]` sequence per example.
    pub sequences: Vec<Vec<f32>>,
    /// Class index per example, `< classes.len()`.
    pub labels: Vec<usize>,
    /// Time steps per sequence.
    pub steps: usize,
    /// Features per step.
    pub input: usize,
    /// Class names, indexed by label.
    pub classes: Vec<String>,
}

impl Dataset {
    /// Checks shapes, labels and finiteness: every sequence has `steps × input` finite values,
    /// there is one label per sequence and every label names a class.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 || self.input == 0 {
            return Err(Error::Shape {
                what: "dataset [steps, input]".into(),
                expected: vec![1, 1],
                got: vec![self.steps, self.input],
            });
        }
        if self.classes.is_empty() {
            return Err(Error::Missing("dataset class names".into()));
        }
        if self.labels.len() != self.sequences.len() {
            return Err(Error::length(
                "dataset labels (one per sequence)",
                self.sequences.len(),
                self.labels.len(),
            ));
        }
        let len = self.steps * self.input;
        for (i, (seq, &label)) in self.sequences.iter().zip(&self.labels).enumerate() {
            if seq.len() != len {
                return Err(Error::length(
                    format!("dataset sequence {i}"),
                    len,
                    seq.len(),
                ));
            }
            check_finite(&format!("dataset sequence {i}"), seq)?;
            if label >= self.classes.len() {
                return Err(Error::invalid(
                    format!("dataset label {i}"),
                    format!("{label}, expected < {} classes", self.classes.len()),
                ));
            }
        }
        Ok(())
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    /// True without examples.
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// Examples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }

    /// The examples at `indices`, in that order (an index may repeat).
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::invalid(
                "dataset subset index",
                format!("{bad}, expected < {}", self.len()),
            ));
        }
        Ok(Dataset {
            sequences: indices.iter().map(|&i| self.sequences[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            steps: self.steps,
            input: self.input,
            classes: self.classes.clone(),
        })
    }

    /// Deterministic holdout: the last `n` examples become the second set, the rest stay in
    /// the first (e.g. MNIST's usual validation split, the last 5,000 training images).
    pub fn split_last(mut self, n: usize) -> Result<(Dataset, Dataset)> {
        if n > self.len() {
            return Err(Error::invalid(
                "holdout size",
                format!("{n}, the data set has only {} examples", self.len()),
            ));
        }
        let at = self.len() - n;
        let holdout = Dataset {
            sequences: self.sequences.split_off(at),
            labels: self.labels.split_off(at),
            steps: self.steps,
            input: self.input,
            classes: self.classes.clone(),
        };
        Ok((self, holdout))
    }

    /// Per-feature mean and standard deviation over all steps of all sequences (population
    /// std, f64 accumulation), for input normalization (DESIGN §3).
    pub fn input_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let i = self.input.max(1);
        let mut sum = vec![0.0f64; i];
        let mut sq = vec![0.0f64; i];
        let mut n = 0usize;
        for seq in &self.sequences {
            for step in seq.chunks_exact(i) {
                for (j, &x) in step.iter().enumerate() {
                    sum[j] += f64::from(x);
                    sq[j] += f64::from(x) * f64::from(x);
                }
                n += 1;
            }
        }
        let n = n.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| ((s / n - m * m).max(0.0)).sqrt() as f32)
            .collect();
        (mean.into_iter().map(|m| m as f32).collect(), std)
    }
}

/// Maps an I/O error on `path` to the core error type (`Missing` for a missing file).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn io_error(path: &std::path::Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::Missing(format!("file {}", path.display()))
    } else {
        Error::invalid(format!("file {}", path.display()), e.to_string())
    }
}

/// Reads a whole file of at most [`crate::io::MAX_FILE_BYTES`] (a path that leads to
/// `/dev/zero` or a huge file is an error, not an unbounded read).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let limit = crate::io::MAX_FILE_BYTES;
    let f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut v = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut v)
        .map_err(|e| io_error(path, e))?;
    if v.len() > limit {
        return Err(Error::invalid(
            format!("file {}", path.display()),
            format!("larger than the {limit} byte limit"),
        ));
    }
    Ok(v)
}
