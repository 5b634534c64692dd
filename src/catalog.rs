//! The default models shipped in `assets/models/` (fetched lazily by the page) with the
//! accuracies measured in docs/RESULTS.md, embedded at build time by build.rs.

/// One row of the results table (percentages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResultRow {
    pub task: &'static str,
    pub split: &'static str,
    pub n: usize,
    pub float: Option<f64>,
    pub ptq8: Option<f64>,
    pub ptq4: Option<f64>,
    pub qat8: Option<f64>,
    pub qat4: Option<f64>,
    pub bytes8: u64,
    pub bytes4: u64,
}

include!(concat!(env!("OUT_DIR"), "/catalog_gen.rs"));

/// Which bundled data set a task evaluates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundledData {
    Mnist,
    KwsMfcc,
    /// The demo model's synthetic task has no data file.
    None,
}

/// A default model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Slot key and file stem.
    pub key: &'static str,
    pub title: &'static str,
    pub task: &'static str,
    pub blurb: &'static str,
    pub steps: usize,
    pub input: usize,
    pub hidden: usize,
    pub classes: &'static [&'static str],
    pub data: BundledData,
}

const DIGITS: &[&str] = &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

pub const ENTRIES: &[Entry] = &[
    Entry {
        key: "row-mnist",
        title: "Row-wise MNIST",
        task: "row-mnist",
        blurb: "Handwritten digits read one 28-pixel row per step. Used by the Digits page.",
        steps: 28,
        input: 28,
        hidden: 128,
        classes: DIGITS,
        data: BundledData::Mnist,
    },
    Entry {
        key: "pixel-mnist",
        title: "Pixel-wise MNIST",
        task: "pixel-mnist",
        blurb: "The same digits, one pixel per step: 784 steps of recurrence.",
        steps: 784,
        input: 1,
        hidden: 64,
        classes: DIGITS,
        data: BundledData::Mnist,
    },
    Entry {
        key: "kws4",
        title: "Keyword spotting, 4 words",
        task: "kws4",
        blurb: "Speech Commands: yes, no, up, down, silence and unknown, from 10 MFCCs per 20 ms (mel filterbank up to 8 kHz).",
        steps: 49,
        input: 10,
        hidden: 128,
        classes: &["yes", "no", "up", "down", "_silence_", "_unknown_"],
        data: BundledData::KwsMfcc,
    },
    Entry {
        key: "kws10",
        title: "Keyword spotting, 10 words",
        task: "kws10",
        blurb: "Speech Commands: ten keywords plus silence and unknown.",
        steps: 49,
        input: 10,
        hidden: 64,
        classes: &[
            "yes",
            "no",
            "up",
            "down",
            "left",
            "right",
            "on",
            "off",
            "stop",
            "go",
            "_silence_",
            "_unknown_",
        ],
        data: BundledData::KwsMfcc,
    },
    Entry {
        key: "demo",
        title: "Synthetic demo",
        task: "synthetic-demo",
        blurb: "A small model fitted to a seeded synthetic task (no data set; for the JS API).",
        steps: 49,
        input: 10,
        hidden: 32,
        classes: &["c0", "c1", "c2", "c3", "c4", "c5"],
        data: BundledData::None,
    },
];

/// The model loaded at start (the Digits page's model).
pub const DEFAULT_MODEL: &str = "row-mnist";

pub fn entry(key: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.key == key)
}

/// The measured accuracies of a task.
pub fn results(task: &str) -> Option<&'static ResultRow> {
    RESULTS.iter().find(|r| r.task == task)
}

/// Size of a model file, in bytes.
pub fn file_bytes(key: &str) -> Option<u64> {
    FILE_BYTES.iter().find(|(k, _)| *k == key).map(|(_, b)| *b)
}

/// The committed search's mixed genome for a task (results/<task>/result.json's
/// smallest front genome within 1 point of all-8 accuracy): `(genome, accuracy, size reduction)`.
pub fn best_within_1pp(task: &str) -> Option<(bitgru::Genome, f64, f64)> {
    BEST_WITHIN_1PP
        .iter()
        .find(|(t, ..)| *t == task)
        .and_then(|(_, g, a, r)| Some((g.parse().ok()?, *a, *r)))
}

/// URL of a model file, relative to the page.
pub fn model_url(key: &str) -> String {
    format!("./assets/models/{key}.safetensors")
}

/// URLs of a bundled data set's files.
pub fn data_urls(d: BundledData) -> &'static [&'static str] {
    match d {
        BundledData::Mnist => &["./assets/data/mnist-test-500.bin.gz"],
        // One pack per front end: the default MFCC (kws10, and kws4 models trained with it) and
        // the default kws4 model's (filterbank up to 8 kHz); the worker matches a model's front end.
        BundledData::KwsMfcc => &[
            "./assets/data/kws-validation-mfcc.bin.gz",
            "./assets/data/kws4-validation-mfcc8k.bin.gz",
        ],
        BundledData::None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_files_are_embedded() {
        for e in ENTRIES {
            assert!(file_bytes(e.key).unwrap() > 1000, "{}", e.key);
            if e.data != BundledData::None {
                let r = results(e.task).unwrap_or_else(|| panic!("{} not in RESULTS.md", e.task));
                assert!(r.float.unwrap() > 80.0 && r.ptq8.is_some() && r.bytes8 > 0);
            }
        }
    }

    #[test]
    fn the_committed_mixed_genomes_are_embedded() {
        for task in ENTRIES
            .iter()
            .filter(|e| e.data != BundledData::None)
            .map(|e| e.task)
        {
            let (g, acc, red) = best_within_1pp(task).expect(task);
            assert!(!g.is_uniform(), "{task}: {g}");
            assert!(acc > 0.5 && red > 0.0 && red < 1.0, "{task}: {acc} {red}");
            let text = std::fs::read_to_string(format!("results/{task}/result.json")).unwrap();
            let r: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(r["best_within_1pp"]["genome"], g.to_string());
        }
    }

    #[test]
    fn entries_match_the_model_files() {
        for e in ENTRIES {
            let bytes = std::fs::read(format!("assets/models/{}.safetensors", e.key)).unwrap();
            let b = bitgru::io::load_bundle(&bytes).unwrap();
            assert_eq!(b.meta.classes, e.classes, "{}", e.key);
            assert_eq!(b.meta.task, e.task);
            let d = b.model.dims();
            assert_eq!(
                (d.input, d.hidden, d.classes),
                (e.input, e.hidden, e.classes.len())
            );
        }
    }
}
