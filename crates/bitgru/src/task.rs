//! The four tasks of the paper as training/evaluation inputs: loading, input normalization
//! (trained on normalized features, folded into the input weights afterwards, so a model takes
//! raw features), class balancing and, for keyword spotting, on-the-fly augmentation.
use crate::audio::mfcc::{Mfcc, MfccConfig};
use crate::data::augment::{boundary_window, Augmenter, KwsAugment, NoiseBank, SpecAugment};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::model::FloatGru;
use crate::train::BatchSource;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A task of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    #[serde(rename = "row-mnist")]
    RowMnist,
    #[serde(rename = "pixel-mnist")]
    PixelMnist,
    #[serde(rename = "kws4")]
    Kws4,
    #[serde(rename = "kws10")]
    Kws10,
}

impl Task {
    pub const ALL: [Task; 4] = [Task::RowMnist, Task::PixelMnist, Task::Kws4, Task::Kws10];

    pub fn name(self) -> &'static str {
        match self {
            Task::RowMnist => "row-mnist",
            Task::PixelMnist => "pixel-mnist",
            Task::Kws4 => "kws4",
            Task::Kws10 => "kws10",
        }
    }

    /// `(steps, input)`.
    pub fn shape(self) -> (usize, usize) {
        match self {
            Task::RowMnist => (28, 28),
            Task::PixelMnist => (784, 1),
            Task::Kws4 | Task::Kws10 => (49, 10),
        }
    }

    /// Default hidden size, chosen to stay MCU-sized (≤ 64 KB at all-8) and near the paper.
    pub fn default_hidden(self) -> usize {
        match self {
            Task::RowMnist => 128,
            Task::PixelMnist | Task::Kws4 | Task::Kws10 => 64,
        }
    }

    pub fn is_kws(self) -> bool {
        matches!(self, Task::Kws4 | Task::Kws10)
    }

    /// The front end recorded with the task's models (how raw input becomes features).
    pub fn front_end(self) -> crate::frontend::FrontEnd {
        use crate::frontend::FrontEnd;
        match self {
            Task::RowMnist => FrontEnd::MnistRows,
            Task::PixelMnist => FrontEnd::MnistPixels,
            Task::Kws4 | Task::Kws10 => FrontEnd::default_mfcc(),
        }
    }

    /// The task's front end with the MFCC settings of `o` instead of the defaults (10
    /// coefficients of 40 mel bands over 20–4000 Hz; a `None` keeps its default). Keyword
    /// spotting only: any setting for an MNIST task is an error, and so is any configuration
    /// [`MfccConfig::validate`] refuses (0 coefficients or bands, more coefficients than bands,
    /// an upper edge outside (fmin, sample_rate / 2], filters that cover no FFT bin).
    pub fn front_end_with(self, o: &MfccOptions) -> Result<crate::frontend::FrontEnd> {
        use crate::frontend::FrontEnd;
        if *o == MfccOptions::default() {
            return Ok(self.front_end());
        }
        if !self.is_kws() {
            return Err(Error::invalid(
                "MFCC settings",
                format!(
                    "n_mfcc, n_mels and fmax apply to the keyword-spotting tasks (kws4, kws10), \
                     not {self}"
                ),
            ));
        }
        let d = MfccConfig::default();
        let config = MfccConfig {
            n_mfcc: o.n_mfcc.unwrap_or(d.n_mfcc),
            n_mels: o.n_mels.unwrap_or(d.n_mels),
            fmax: o.fmax.unwrap_or(d.fmax),
            ..d
        };
        let front = FrontEnd::Mfcc {
            config,
            clip_samples: crate::audio::CLIP_SAMPLES,
        };
        front.validate()?;
        Ok(front)
    }

    /// The front end that featurizes this task's data for a model that records `recorded`:
    /// a keyword-spotting model's own MFCC configuration (any number of bands and
    /// coefficients, at the data's 16 kHz over 1 s clips), otherwise the task's front end. A
    /// model without a recorded front end ([`FrontEnd::Raw`](crate::frontend::FrontEnd::Raw))
    /// gets the task's default. A front end the task's data cannot give is an error naming
    /// both.
    pub fn data_front_end(
        self,
        recorded: &crate::frontend::FrontEnd,
    ) -> Result<crate::frontend::FrontEnd> {
        use crate::frontend::FrontEnd;
        let want = self.front_end();
        let fits = match (recorded, &want) {
            (FrontEnd::Raw, _) => return Ok(want),
            (
                FrontEnd::Mfcc {
                    config,
                    clip_samples,
                },
                FrontEnd::Mfcc {
                    config: d,
                    clip_samples: dc,
                },
            ) => config.sample_rate == d.sample_rate && clip_samples == dc,
            (r, w) => r == w,
        };
        if !fits {
            let show = |f: &FrontEnd| serde_json::to_string(f).unwrap_or_default();
            return Err(Error::invalid(
                "model feature front end",
                format!(
                    "the model was trained on features {}, {self}'s data are {}{}",
                    show(recorded),
                    show(&want),
                    if self.is_kws() {
                        " (any MFCC bands and coefficients, but this sample rate and clip length)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        recorded.validate()?;
        Ok(recorded.clone())
    }
}

impl std::str::FromStr for Task {
    type Err = Error;
    fn from_str(s: &str) -> Result<Task> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "task",
                    format!("{s:?}, expected one of row-mnist, pixel-mnist, kws4, kws10"),
                )
            })
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// MFCC settings of a keyword-spotting model that differ from [`MfccConfig::default`]
/// (`None` keeps the default), see [`Task::front_end_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MfccOptions {
    /// Cepstral coefficients per frame (`c0` included): the model's input size.
    pub n_mfcc: Option<usize>,
    /// Mel bands.
    pub n_mels: Option<usize>,
    /// Upper edge of the mel filterbank (Hz).
    pub fmax: Option<f64>,
}

/// Per-channel affine input normalization `(x − mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// From training statistics (std floored at 1e-3 of the largest std, so constant channels
    /// such as MNIST's border columns stay finite).
    pub fn from_dataset(ds: &Dataset) -> Normalization {
        let (mean, std) = ds.input_stats();
        let floor = std.iter().cloned().fold(0f32, f32::max).max(1e-6) * 1e-3;
        Normalization {
            mean,
            std: std.into_iter().map(|s| s.max(floor)).collect(),
        }
    }

    /// Normalizes a flat `[T, I]` sequence in place.
    pub fn apply(&self, x: &mut [f32]) {
        let i = self.mean.len();
        for (k, v) in x.iter_mut().enumerate() {
            *v = (*v - self.mean[k % i]) / self.std[k % i];
        }
    }

    /// A copy of a data set with normalized features.
    pub fn apply_dataset(&self, ds: &Dataset) -> Dataset {
        let mut out = ds.clone();
        for s in &mut out.sequences {
            self.apply(s);
        }
        out
    }

    /// Folds the normalization into a model trained on normalized features, so that the result
    /// takes raw features: `W' = W·diag(1/std)`, `b' = b − W'·mean`.
    pub fn fold_into(&self, m: &mut FloatGru) -> Result<()> {
        let i = m.input_size;
        if self.mean.len() != i || self.std.len() != i {
            return Err(Error::length("normalization channels", i, self.mean.len()));
        }
        for r in 0..3 * m.hidden {
            let mut shift = 0f64;
            for c in 0..i {
                let w = m.w_ih[r * i + c] / self.std[c];
                m.w_ih[r * i + c] = w;
                shift += w as f64 * self.mean[c] as f64;
            }
            m.b_ih[r] -= shift as f32;
        }
        Ok(())
    }
}

/// KWS training clips with on-the-fly augmentation (time shift, training-noise mixing, silence
/// generated from training noise), MFCC, normalization and optional feature masking per sample.
/// Indexes past the clips are extra generated `_silence_` examples, then boundary-window
/// `_unknown_` examples ([`KwsAugment::boundary_unknown`]).
pub struct KwsTrainSource {
    clips: Vec<Vec<f32>>,
    labels: Vec<usize>,
    silence_label: usize,
    unknown_label: usize,
    /// Clips that are not `_silence_` (the boundary windows' words).
    spoken: Vec<usize>,
    boundary_unknown: usize,
    augmenter: Augmenter,
    mfcc: Mfcc,
    norm: Option<Normalization>,
    generated_silence: f64,
    spec: SpecAugment,
    extra_silence: usize,
}

impl KwsTrainSource {
    /// A source over `clips` (all of one length) with the augmentation `aug` drawing from the
    /// **training** noise bank; `norm` = None gives raw features (QAT of a folded model).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        clips: Vec<Vec<f32>>,
        labels: Vec<usize>,
        silence_label: usize,
        unknown_label: usize,
        aug: &KwsAugment,
        training_noise: NoiseBank,
        mfcc: Mfcc,
        norm: Option<Normalization>,
    ) -> Result<Self> {
        aug.validate()?;
        if clips.len() != labels.len() {
            return Err(Error::length(
                "KWS training labels",
                clips.len(),
                labels.len(),
            ));
        }
        let len = clips.first().map_or(0, |c| c.len());
        if let Some(k) = clips.iter().position(|c| c.len() != len) {
            return Err(Error::length(
                format!("KWS training clip {k}"),
                len,
                clips[k].len(),
            ));
        }
        aug.spec.validate(mfcc.frames(len), mfcc.n_mfcc())?;
        let extra_silence = aug.extra_silence_examples(clips.len());
        let spoken: Vec<usize> = (0..labels.len())
            .filter(|&k| labels[k] != silence_label)
            .collect();
        let boundary_unknown = aug.boundary_unknown_examples(clips.len());
        if boundary_unknown > 0 && spoken.is_empty() {
            return Err(Error::invalid(
                "boundary_unknown",
                "needs spoken clips (every training clip is _silence_)",
            ));
        }
        Ok(KwsTrainSource {
            augmenter: Augmenter::new(aug.waveform.clone(), training_noise)?,
            clips,
            labels,
            silence_label,
            unknown_label,
            spoken,
            boundary_unknown,
            mfcc,
            norm,
            generated_silence: aug.generated_silence,
            spec: aug.spec,
            extra_silence,
        })
    }

    /// Generated `_silence_` examples after the clips.
    pub fn extra_silence(&self) -> usize {
        self.extra_silence
    }

    /// Boundary-window `_unknown_` examples after the extra silence.
    pub fn boundary_unknown(&self) -> usize {
        self.boundary_unknown
    }
}

/// What an index of a [`KwsTrainSource`] is.
enum KwsExample {
    /// Training clip `k`.
    Clip(usize),
    /// An extra generated `_silence_` example.
    Silence,
    /// A boundary-window `_unknown_` example.
    Boundary,
}

impl KwsTrainSource {
    fn example(&self, idx: usize) -> KwsExample {
        let n = self.clips.len();
        if idx < n {
            KwsExample::Clip(idx)
        } else if idx < n + self.extra_silence {
            KwsExample::Silence
        } else {
            KwsExample::Boundary
        }
    }
}

impl BatchSource for KwsTrainSource {
    fn len(&self) -> usize {
        self.clips.len() + self.extra_silence + self.boundary_unknown
    }
    fn label(&self, idx: usize) -> usize {
        match self.example(idx) {
            KwsExample::Clip(k) => self.labels[k],
            KwsExample::Silence => self.silence_label,
            KwsExample::Boundary => self.unknown_label,
        }
    }
    fn get(&self, idx: usize, rng: &mut ChaCha8Rng) -> Result<Cow<'_, [f32]>> {
        let audio = match self.example(idx) {
            KwsExample::Boundary => {
                let pick = |rng: &mut ChaCha8Rng| self.spoken[rng.gen_range(0..self.spoken.len())];
                let (a, b) = (pick(rng), pick(rng));
                let (w, _) = boundary_window(&self.clips[a], &self.clips[b], rng)?;
                self.augmenter.augment(&w, rng)?
            }
            KwsExample::Silence => self.augmenter.silence(self.clips[0].len(), rng)?,
            KwsExample::Clip(k)
                if self.labels[k] == self.silence_label && rng.gen_bool(self.generated_silence) =>
            {
                self.augmenter.silence(self.clips[k].len(), rng)?
            }
            KwsExample::Clip(k) => self.augmenter.augment(&self.clips[k], rng)?,
        };
        let mut x = self.mfcc.compute(&audio);
        if let Some(n) = &self.norm {
            n.apply(&mut x);
        }
        let channels = self.mfcc.n_mfcc();
        let steps = x.len() / channels;
        self.spec.apply(&mut x, steps, channels, rng)?;
        Ok(Cow::Owned(x))
    }
}

/// The default MFCC front end (DESIGN §6).
pub fn default_mfcc() -> Result<Mfcc> {
    Mfcc::new(MfccConfig::default())
}

/// The default augmentation.
pub fn default_augment() -> KwsAugment {
    KwsAugment::default()
}

/// Deterministically keeps at most `max_per_class` examples of each class listed in `classes`
/// (evenly spaced, order preserved); used to balance kws4's `_unknown_` against the keywords.
pub fn cap_classes(labels: &[usize], classes: &[usize], max_per_class: usize) -> Vec<usize> {
    let mut keep = Vec::with_capacity(labels.len());
    for c in 0..=labels.iter().copied().max().unwrap_or(0) {
        let idx: Vec<usize> = labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l == c)
            .map(|(i, _)| i)
            .collect();
        if classes.contains(&c) && idx.len() > max_per_class {
            keep.extend((0..max_per_class).map(|j| idx[j * idx.len() / max_per_class]));
        } else {
            keep.extend(idx);
        }
    }
    keep.sort_unstable();
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_normalization_preserves_outputs() {
        let m = crate::synth::random_model(3, 4, 6, 3);
        let norm = Normalization {
            mean: vec![1.0, -2.0, 30.0, 0.5],
            std: vec![2.0, 0.5, 10.0, 1.0],
        };
        let raw: Vec<f32> = (0..40)
            .map(|k| (k as f32 * 0.7).sin() * 5.0 + 3.0)
            .collect();
        let mut normed = raw.clone();
        norm.apply(&mut normed);
        let want = m.forward(&normed).unwrap();
        let mut folded = m.clone();
        norm.fold_into(&mut folded).unwrap();
        let got = folded.forward(&raw).unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn cap_classes_balances() {
        let labels = vec![0, 1, 1, 1, 1, 2, 1, 1, 0];
        let keep = cap_classes(&labels, &[1], 2);
        let ones = keep.iter().filter(|&&i| labels[i] == 1).count();
        assert_eq!(ones, 2);
        assert_eq!(keep.len(), 2 + 2 + 1);
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn front_end_with_checks_and_records_the_mfcc() {
        use crate::frontend::FrontEnd;
        assert_eq!(
            Task::Kws4.front_end_with(&MfccOptions::default()).unwrap(),
            FrontEnd::default_mfcc()
        );
        let opt = |n_mfcc, n_mels| MfccOptions {
            n_mfcc,
            n_mels,
            fmax: None,
        };
        let f = Task::Kws10.front_end_with(&opt(Some(20), None)).unwrap();
        assert_eq!((f.input(), f.steps()), (Some(20), Some(49)));
        assert_eq!(f.mfcc().unwrap().n_mels, 40);
        let f = Task::Kws4.front_end_with(&opt(Some(13), Some(32))).unwrap();
        assert_eq!(f.mfcc().unwrap().n_mels, 32);
        let err = |n, m| {
            Task::Kws4
                .front_end_with(&opt(n, m))
                .unwrap_err()
                .to_string()
        };
        assert!(err(Some(0), None).contains("at least 1 cepstral"));
        assert!(err(Some(41), None).contains("more than the 40 mel bands"));
        assert!(err(None, Some(0)).contains("at least 1 mel band"));
        assert!(err(Some(20), Some(16)).contains("more than the 16 mel bands"));
        assert!(err(None, Some(400)).contains("covers no FFT bin"));
        let fmax = |f| {
            Task::Kws4.front_end_with(&MfccOptions {
                fmax: Some(f),
                ..MfccOptions::default()
            })
        };
        assert_eq!(fmax(8000.0).unwrap().mfcc().unwrap().fmax, 8000.0);
        for bad in [8001.0, 20.0, 0.0, f64::NAN] {
            let e = fmax(bad).unwrap_err().to_string();
            assert!(e.contains("fmax") && e.contains("8000 Hz"), "{e}");
        }
        let e = Task::RowMnist
            .front_end_with(&opt(Some(13), None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("kws4, kws10") && e.contains("row-mnist"), "{e}");
        assert_eq!(
            Task::RowMnist.front_end_with(&opt(None, None)).unwrap(),
            FrontEnd::MnistRows
        );
    }

    #[test]
    fn data_front_end_follows_the_model() {
        use crate::frontend::FrontEnd;
        let m20 = Task::Kws4
            .front_end_with(&MfccOptions {
                n_mfcc: Some(20),
                ..MfccOptions::default()
            })
            .unwrap();
        assert_eq!(Task::Kws4.data_front_end(&m20).unwrap(), m20);
        assert_eq!(
            Task::Kws10.data_front_end(&FrontEnd::Raw).unwrap(),
            FrontEnd::default_mfcc()
        );
        assert_eq!(
            Task::RowMnist.data_front_end(&FrontEnd::MnistRows).unwrap(),
            FrontEnd::MnistRows
        );
        // Another task's features, or audio at another rate, are named.
        let e = Task::Kws4
            .data_front_end(&FrontEnd::MnistRows)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mnist-rows") && e.contains("kws4"), "{e}");
        assert!(Task::RowMnist.data_front_end(&m20).is_err());
        let mut config = MfccConfig {
            sample_rate: 8000,
            ..MfccConfig::default()
        };
        config.win_length = 320;
        config.hop_length = 160;
        config.n_fft = 512;
        let slow = FrontEnd::Mfcc {
            config,
            clip_samples: 8000,
        };
        let e = Task::Kws4.data_front_end(&slow).unwrap_err().to_string();
        assert!(e.contains("sample rate"), "{e}");
    }

    #[test]
    fn task_names_round_trip() {
        for t in Task::ALL {
            assert_eq!(t.name().parse::<Task>().unwrap(), t);
        }
        assert!("mnist"
            .parse::<Task>()
            .unwrap_err()
            .to_string()
            .contains("row-mnist"));
    }
}

/// Which split to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSplit {
    /// MNIST: the last 5,000 training images; Speech Commands: `validation_list.txt`.
    Validation,
    /// MNIST: the 10,000 test images; Speech Commands: `testing_list.txt` (when present).
    Test,
}

impl std::str::FromStr for EvalSplit {
    type Err = Error;
    fn from_str(s: &str) -> Result<EvalSplit> {
        match s {
            "validation" => Ok(EvalSplit::Validation),
            "test" => Ok(EvalSplit::Test),
            _ => Err(Error::invalid(
                "split",
                format!("{s:?}, expected validation or test"),
            )),
        }
    }
}

impl EvalSplit {
    pub fn name(self) -> &'static str {
        match self {
            EvalSplit::Validation => "validation",
            EvalSplit::Test => "test",
        }
    }
}

/// Training inputs of a task.
pub enum TrainingSet {
    /// Pre-computed feature sequences (MNIST).
    Features(Dataset),
    /// Raw clips (Speech Commands), featurized with augmentation per step.
    Clips {
        clips: Vec<Vec<f32>>,
        labels: Vec<usize>,
        classes: Vec<String>,
        /// Un-augmented features of the same clips (for normalization statistics and
        /// calibration).
        features: Dataset,
        /// The MFCC extractor that made `features` (the augmented stream uses the same).
        mfcc: Box<Mfcc>,
    },
}

impl TrainingSet {
    /// Un-augmented features.
    pub fn features(&self) -> &Dataset {
        match self {
            TrainingSet::Features(d) => d,
            TrainingSet::Clips { features, .. } => features,
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use crate::data::mnist::{self, MnistSplit, MnistTask, VALIDATION_HOLDOUT};
    use crate::data::speech::{self, KwsTask, SpeechSplit};
    use std::path::Path;

    fn mnist_task(t: Task) -> MnistTask {
        if t == Task::RowMnist {
            MnistTask::Row
        } else {
            MnistTask::Pixel
        }
    }

    fn kws_task(t: Task) -> KwsTask {
        if t == Task::Kws4 {
            KwsTask::Kws4
        } else {
            KwsTask::Kws10
        }
    }

    /// Where a task's files live below a data root: MNIST in `<root>/mnist` (or the root
    /// itself), Speech Commands in `<root>/speech_commands` (or the root itself).
    pub fn task_dir(task: Task, root: &Path) -> std::path::PathBuf {
        let sub = if task.is_kws() {
            "speech_commands"
        } else {
            "mnist"
        };
        if root.join(sub).is_dir() {
            root.join(sub)
        } else {
            root.to_path_buf()
        }
    }

    /// Class names of a task's data, in label order.
    pub fn class_names(task: Task) -> Vec<String> {
        if task.is_kws() {
            kws_task(task).classes()
        } else {
            mnist::classes()
        }
    }

    /// Checks a model's metadata against a task's data: the task it was trained for (when it
    /// names one of the four tasks), its class names and its feature front end (when recorded)
    /// must be the task's. A mismatch is an error naming both sides, never a silent evaluation
    /// of a model on another task's data.
    pub fn check_meta(task: Task, meta: &crate::io::ModelMeta) -> Result<()> {
        if let Ok(trained) = meta.task.parse::<Task>() {
            if trained != task {
                return Err(Error::invalid(
                    "model task",
                    format!(
                        "the model was trained for {trained} (classes {}), the data is {task} \
                         (classes {}); use --task {trained} or a {task} model",
                        meta.classes.join(","),
                        class_names(task).join(",")
                    ),
                ));
            }
        }
        let names = class_names(task);
        if !meta.classes.is_empty() && meta.classes != names {
            return Err(Error::invalid(
                "model classes",
                format!(
                    "the model's classes are {} ({}), {task}'s are {} ({})",
                    meta.classes.join(","),
                    meta.classes.len(),
                    names.join(","),
                    names.len()
                ),
            ));
        }
        task.data_front_end(&meta.features)?;
        Ok(())
    }

    /// Raw features of an evaluation split (`limit`: evenly spaced subset, for quick runs),
    /// with the task's default front end.
    pub fn load_eval_split(
        task: Task,
        root: &Path,
        split: EvalSplit,
        limit: Option<usize>,
    ) -> Result<Dataset> {
        load_eval_split_with(task, root, split, limit, &task.front_end())
    }

    /// [`load_eval_split`] featurized by `front` (a model's recorded front end, see
    /// [`Task::data_front_end`]: keyword spotting takes any MFCC configuration).
    pub fn load_eval_split_with(
        task: Task,
        root: &Path,
        split: EvalSplit,
        limit: Option<usize>,
        front: &crate::frontend::FrontEnd,
    ) -> Result<Dataset> {
        let front = task.data_front_end(front)?;
        let dir = task_dir(task, root);
        if let Some(config) = front.mfcc() {
            let sp = match split {
                EvalSplit::Validation => SpeechSplit::Validation,
                EvalSplit::Test => SpeechSplit::Test,
            };
            let set = speech::load_split(&dir, kws_task(task), sp, limit)?;
            crate::data::features::speech_dataset(&set, &Mfcc::new(config.clone())?)
        } else {
            let ds = match split {
                EvalSplit::Test => {
                    mnist::load_split(&dir, MnistSplit::Test, mnist_task(task), None)?
                }
                EvalSplit::Validation => {
                    let train = mnist::load_split(&dir, MnistSplit::Train, mnist_task(task), None)?;
                    train.split_last(VALIDATION_HOLDOUT)?.1
                }
            };
            match limit {
                Some(l) if l < ds.len() => {
                    let idx: Vec<usize> = (0..l).map(|j| j * ds.len() / l).collect();
                    ds.subset(&idx)
                }
                _ => Ok(ds),
            }
        }
    }

    /// Training set (MNIST: the first 55,000 images; KWS: `train_list.txt`, with kws4's
    /// `_unknown_` capped at the mean keyword count) and the validation split. `limit` and
    /// `val_limit` take evenly spaced subsets of each (quick runs); neither affects the other.
    pub fn load_training(
        task: Task,
        root: &Path,
        limit: Option<usize>,
        val_limit: Option<usize>,
    ) -> Result<(TrainingSet, Dataset)> {
        load_training_with(task, root, limit, val_limit, 1.0, &task.front_end())
    }

    /// [`load_training`] with kws4's `_unknown_` capped at `unknown_cap` × the mean keyword
    /// count (ignored by the other tasks; see [`KwsAugment::unknown_cap`]) and the features
    /// made by `front` (keyword spotting: any MFCC configuration, see
    /// [`Task::data_front_end`]; the training clips carry it to [`KwsTrainSource`]).
    pub fn load_training_with(
        task: Task,
        root: &Path,
        limit: Option<usize>,
        val_limit: Option<usize>,
        unknown_cap: f64,
        front: &crate::frontend::FrontEnd,
    ) -> Result<(TrainingSet, Dataset)> {
        if !(unknown_cap.is_finite() && unknown_cap > 0.0) {
            return Err(Error::invalid(
                "unknown cap",
                format!("{unknown_cap}, expected > 0"),
            ));
        }
        let front = task.data_front_end(front)?;
        let dir = task_dir(task, root);
        if let Some(config) = front.mfcc() {
            let kt = kws_task(task);
            let set = speech::load_split(&dir, kt, SpeechSplit::Train, limit)?;
            let val = speech::load_split(&dir, kt, SpeechSplit::Validation, val_limit)?;
            let mfcc = Mfcc::new(config.clone())?;
            let mut keep: Vec<usize> = (0..set.len()).collect();
            if task == Task::Kws4 {
                let counts = set.class_counts();
                let kw = kt.keywords().len();
                let mean_kw = counts[..kw].iter().sum::<usize>() / kw.max(1);
                let cap = (mean_kw as f64 * unknown_cap).round() as usize;
                keep = cap_classes(&set.labels, &[kt.unknown_label()], cap.max(1));
            }
            let clips: Vec<Vec<f32>> = keep.iter().map(|&i| set.clips[i].samples.clone()).collect();
            let labels: Vec<usize> = keep.iter().map(|&i| set.labels[i]).collect();
            let sub_clips: Vec<crate::audio::Clip> =
                keep.iter().map(|&i| set.clips[i].clone()).collect();
            let features = crate::data::features::mfcc_dataset(
                &sub_clips,
                &labels,
                set.classes.clone(),
                &mfcc,
            )?;
            let val = crate::data::features::speech_dataset(&val, &mfcc)?;
            Ok((
                TrainingSet::Clips {
                    clips,
                    labels,
                    classes: set.classes.clone(),
                    features,
                    mfcc: Box::new(mfcc),
                },
                val,
            ))
        } else {
            let train = mnist::load_split(&dir, MnistSplit::Train, mnist_task(task), None)?;
            let (train, val) = train.split_last(VALIDATION_HOLDOUT)?;
            let train = match limit {
                Some(l) if l < train.len() => {
                    train.subset(&(0..l).map(|j| j * train.len() / l).collect::<Vec<_>>())?
                }
                _ => train,
            };
            let val = match val_limit {
                Some(n) if n < val.len() => {
                    let n = n.max(1);
                    val.subset(&(0..n).map(|j| j * val.len() / n).collect::<Vec<_>>())?
                }
                _ => val,
            };
            Ok((TrainingSet::Features(train), val))
        }
    }

    /// The noise recordings split into (training, held-out) banks.
    pub fn load_noise(
        root: &Path,
    ) -> Result<(
        crate::data::augment::NoiseBank,
        crate::data::augment::NoiseBank,
    )> {
        let dir = task_dir(Task::Kws10, root);
        let rec = speech::load_background_noise(&dir, &crate::audio::DecodeOptions::default())?;
        crate::data::augment::split_noise(&rec, crate::data::augment::DEFAULT_TRAIN_FRACTION)
    }
}
