//! Input sequences: the JSON inputs file, or seeded random sequences.
//!
//! # Inputs file format
//!
//! A JSON object:
//!
//! ```json
//! {"sequences": [[0.1, -0.3, ...], ...], "labels": [2, 0, ...], "steps": 49}
//! ```
//!
//! - `sequences` (required, non-empty): per sequence, either one flat row-major array `[T*I]` of
//!   numbers (`T` time steps of `I` features, `I` being the model's input size) or a nested
//!   array `[T][I]` (one array of `I` numbers per time step);
//! - `labels` (optional): one class index per sequence (`< classes`); enables accuracy;
//! - `steps` (optional): if present, every sequence must hold exactly `steps * I` values;
//!   otherwise any positive multiple of `I` is accepted.
//!
//! Other fields are ignored. The file may be at most [`MAX_INPUTS_BYTES`]. Instead of a file,
//! `--random N --steps T --seed S` draws `N` sequences of `T` steps of N(0, 1) features with
//! [`bitgru::synth::random_sequences`], at most [`MAX_RANDOM_VALUES`] values in all.
use crate::cli::{InputArgs, TaskInputArgs};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Largest inputs file read.
pub const MAX_INPUTS_BYTES: usize = 256 << 20;

/// Most values (sequences × steps × features) `--random` draws: 2^25 f32, 128 MiB.
pub const MAX_RANDOM_VALUES: u64 = 1 << 25;

/// Validated input sequences.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub sequences: Vec<Vec<f32>>,
    pub labels: Option<Vec<usize>>,
    /// Seed, when the sequences are random.
    pub seed: Option<u64>,
    /// Human-readable origin (file path or random parameters).
    pub source: String,
}

impl Inputs {
    /// Borrowed views, as `Calibration::compute` takes them.
    pub fn views(&self) -> Vec<&[f32]> {
        self.sequences.iter().map(Vec::as_slice).collect()
    }

    /// Checks that every label is a class of a model with `classes` outputs.
    pub fn check_labels(&self, classes: usize) -> Result<()> {
        if let Some(labels) = &self.labels {
            if let Some((k, l)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
                bail!(
                    "{}: label {k} is {l}, but the model has {classes} classes (0..={})",
                    self.source,
                    classes - 1
                );
            }
        }
        Ok(())
    }
}

/// Loads the inputs selected on the command line, for a model with `input_size` features.
pub fn load(args: &InputArgs, input_size: usize) -> Result<Inputs> {
    load_with_task(args, None, &bitgru::frontend::FrontEnd::Raw, input_size)
}

/// Like [`load`], or the task's data when `--task` is given, featurized for a model that
/// records the front end `front` (KWS: the model's own MFCC; `Raw`: the task's default).
pub fn load_with_task(
    args: &InputArgs,
    task_args: Option<&crate::cli::TaskInputArgs>,
    front: &bitgru::frontend::FrontEnd,
    input_size: usize,
) -> Result<Inputs> {
    if let Some(TaskInputArgs {
        task: Some(task),
        data: Some(data),
        split,
        limit,
    }) = task_args
    {
        let (task, split, limit) = (*task, *split, *limit);
        let ds = bitgru::task::load_eval_split_with(task, data, split, limit, front).with_context(
            || {
                format!(
                    "loading {} {} data from {}",
                    task,
                    split.name(),
                    data.display()
                )
            },
        )?;
        if ds.sequences.is_empty() {
            bail!(
                "the {task} {} split of {} is empty: nothing to evaluate",
                split.name(),
                data.display()
            );
        }
        if ds.input != input_size {
            bail!(
                "task {task} has {} features per step, the model takes {input_size}",
                ds.input
            );
        }
        return Ok(Inputs {
            sequences: ds.sequences,
            labels: Some(ds.labels),
            seed: None,
            source: format!("{task} {} split of {}", split.name(), data.display()),
        });
    }
    match (&args.inputs, args.random) {
        (Some(path), _) => read_file(path, input_size),
        (None, Some(n)) => {
            let values = n
                .checked_mul(args.steps)
                .and_then(|v| v.checked_mul(input_size as u64))
                .filter(|&v| v <= MAX_RANDOM_VALUES);
            if values.is_none() {
                bail!(
                    "--random {n} x --steps {} x input size {input_size} is over the limit of \
                     {MAX_RANDOM_VALUES} random values; draw fewer or shorter sequences",
                    args.steps
                );
            }
            Ok(random(
                n as usize,
                args.steps as usize,
                args.seed,
                input_size,
            ))
        }
        (None, None) => bail!("no inputs: give --inputs FILE or --random N"),
    }
}

/// Seeded random sequences `[steps, input]`.
pub fn random(n: usize, steps: usize, seed: u64, input_size: usize) -> Inputs {
    Inputs {
        sequences: bitgru::synth::random_sequences(seed, n, steps, input_size),
        labels: None,
        seed: Some(seed),
        source: format!("random: {n} sequences x {steps} steps, seed {seed}"),
    }
}

/// Reads and validates an inputs file.
pub fn read_file(path: &Path, input_size: usize) -> Result<Inputs> {
    let bytes = crate::util::read_limited(path, "inputs file", MAX_INPUTS_BYTES)?;
    parse(&bytes, input_size)
        .with_context(|| format!("inputs file {}", path.display()))
        .map(|(sequences, labels)| Inputs {
            sequences,
            labels,
            seed: None,
            source: path.display().to_string(),
        })
}

/// Parses and validates the JSON text of an inputs file ([`bitgru::io::inputs::parse_inputs`]).
fn parse(bytes: &[u8], input_size: usize) -> Result<bitgru::io::inputs::Parsed> {
    Ok(bitgru::io::inputs::parse_inputs(bytes, input_size)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, i: usize) -> String {
        format!("{:#}", parse(text.as_bytes(), i).unwrap_err())
    }

    #[test]
    fn accepts_valid_files() {
        let (s, l) = parse(br#"{"sequences": [[1,2,3,4],[5,6]], "labels": [0,1]}"#, 2).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(l, Some(vec![0, 1]));
        let (s, l) = parse(br#"{"sequences": [[1,2]], "steps": 1, "extra": 3}"#, 2).unwrap();
        assert_eq!(s[0], vec![1.0, 2.0]);
        assert_eq!(l, None);
    }

    #[test]
    fn rejects_bad_files() {
        assert!(err(r#"{"sequences": [[1,2],[1,2,3]]}"#, 2).contains("sequence 1 has 3 values"));
        assert!(err(r#"{"sequences": [[1,2],[]]}"#, 2).contains("sequence 1 has 0 values"));
        assert!(err(r#"{"sequences": [[1,2,3,4]], "steps": 1}"#, 2).contains("1 x 2 = 2"));
        assert!(err(r#"{"sequences": []}"#, 2).contains("empty"));
        assert!(err(r#"{"sequences": [[1,2]], "labels": [0, 1]}"#, 2).contains("2 labels for 1"));
        let e = err(r#"{"sequences": [[1e39, 2]]}"#, 2);
        assert!(e.contains("out of f32 range"), "{e}");
        assert!(err(r#"{"sequences": [[1,2]"#, 2).contains("malformed JSON"));
        assert!(err(r#"{"seqs": [[1,2]]}"#, 2).contains("sequences"));
        // 2^63 + 49 steps must not wrap to 49.
        let e = err(
            r#"{"sequences": [[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98]], "steps": 9223372036854775857}"#,
            2,
        );
        assert!(e.contains("too large"), "{e}");
        assert!(err(r#"{"sequences": [[[1,2],[3]]]}"#, 2).contains("sequence 0, step 1: 1 values"));
    }

    #[test]
    fn accepts_nested_sequences() {
        let (s, _) = parse(
            br#"{"sequences": [[[1,2],[3,4]], [5,6]], "steps": null}"#,
            2,
        )
        .unwrap();
        assert_eq!(s, vec![vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0]]);
        let (s, _) = parse(br#"{"sequences": [[[1,2],[3,4]]], "steps": 2}"#, 2).unwrap();
        assert_eq!(s[0].len(), 4);
    }

    #[test]
    fn random_is_bounded() {
        let args = |n: u64, steps: u64| InputArgs {
            inputs: None,
            random: Some(n),
            steps,
            seed: 0,
        };
        for (n, t) in [(u64::MAX, 49), (1_000_000_000, 49), (1, 1_000_000_000_000)] {
            let e = format!("{:#}", load(&args(n, t), 40).unwrap_err());
            assert!(e.contains("over the limit"), "{n} x {t}: {e}");
        }
        assert_eq!(load(&args(3, 5), 2).unwrap().sequences.len(), 3);
    }

    #[test]
    fn label_range() {
        let i = Inputs {
            sequences: vec![vec![0.0]],
            labels: Some(vec![3]),
            seed: None,
            source: "x.json".into(),
        };
        assert!(i.check_labels(4).is_ok());
        let e = i.check_labels(3).unwrap_err().to_string();
        assert!(e.contains("x.json") && e.contains("label 0 is 3"), "{e}");
    }
}
