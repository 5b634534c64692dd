//! The streaming keyword detector: audio samples in (any chunk size, any sample rate), per-frame
//! class probabilities and detection events out. No DOM, no I/O: the CLI (`bitgru detect`) and
//! the web app's Listen page drive the same code, and it gives the same bits natively and in
//! wasm (integer kernel; MFCC in f64 rounded once; libm for σ, tanh, exp and the resampler).
//!
//! # Pipeline (per 20 ms hop with the default MFCC front end)
//!
//! 1. **Resample** ([`crate::audio::StreamResampler`]) when the input rate is not the front end's
//!    (44.1 / 48 kHz microphones).
//! 2. **MFCC** ([`crate::audio::MfccStream`]): one frame per hop, bit-identical to the batch
//!    features the model was trained on; the frame's mean power feeds the energy gate.
//! 3. **Energy gate**: a frame is *active* when its power is at least
//!    [`DetectorConfig::gate_dbfs`] (dB re full scale, `10·log10(mean x²)`). When no frame of the
//!    current window is active the model is not run, the frame's probabilities are the
//!    *gated* distribution (all mass on `_silence_` when the model has that class, else all zero)
//!    and a stateful model is reset.
//! 4. **Model** ([`DetectorModel`], integer at any genome or float), in one of two [`Mode`]s:
//!    [`Mode::Window`] re-runs the GRU from a zero state over the last window (the 49 frames of
//!    a 1 s clip, the length the model was trained on) every `every` frames; [`Mode::Stateful`]
//!    takes one step per frame and multiplies the state by `decay` first. docs/DETECTOR.md
//!    compares both by measurement: the default is the window re-run.
//! 5. **Smoothing**: the mean of the last [`DetectorConfig::smooth_frames`] probability vectors.
//! 6. **Decision** ([`Decider`]): keyword `k` fires when its smoothed probability reaches its
//!    threshold ([`DetectorConfig::threshold_for`]), it is the most probable class, it is
//!    *armed* (its probability fell below the threshold since it last fired) and no keyword fired
//!    within the last [`DetectorConfig::refractory_s`]. Optional levers (all off by default):
//!    the `_unknown_` probability scaled by [`Levers::unknown_weight`] before the
//!    decision, a [`Levers::margin`] over `_unknown_` or over every other class
//!    ([`Levers::margin_against`]) and [`Levers::hold_frames`] consecutive
//!    qualifying frames before a keyword fires.
//!
//! Times: frame `t` covers samples `[t·hop, t·hop + win)` of the front end's rate; its outputs
//! (and any event it raises) carry `time_s = (t·hop + win) / rate`, the stream time at which the
//! frame is complete.
mod model;
pub mod streams;

pub use model::{softmax_in_place, DetectorModel, FloatScorer, IntegerScorer};

use crate::audio::{Mfcc, MfccConfig, MfccStream, StreamResampler};
use crate::error::{Error, Result};
use crate::frontend::FrontEnd;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// How the GRU meets the stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mode {
    /// Re-run the GRU from a zero state over the last `window` frames (default: the front end's
    /// steps, 49 = 1 s) every `every` frames; the probabilities of the last run are held in
    /// between. Matches training (1 s clips from a zero state).
    Window {
        /// Frames between runs (≥ 1).
        every: usize,
    },
    /// One GRU step per frame on a state that is first multiplied by `decay` (1 = plain
    /// streaming, never reset; the integer state is scaled by `round(decay · 256) / 256`).
    Stateful {
        /// State decay per frame in `(0, 1]`.
        decay: f32,
    },
}

/// What [`Levers::margin`] is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginAgainst {
    /// The (weighted, [`Levers::unknown_weight`]) `_unknown_` probability.
    #[default]
    Unknown,
    /// The highest probability of any other class (`_silence_` and `_unknown_` included, the
    /// latter weighted).
    Rest,
}

impl MarginAgainst {
    /// The name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MarginAgainst::Unknown => "unknown",
            MarginAgainst::Rest => "rest",
        }
    }
}

impl std::fmt::Display for MarginAgainst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for MarginAgainst {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "unknown" => Ok(MarginAgainst::Unknown),
            "rest" => Ok(MarginAgainst::Rest),
            _ => Err(Error::DetectorSetting {
                field: "margin_against",
                expected: "unknown or rest".into(),
                got: crate::error::clip(s, 40),
            }),
        }
    }
}

/// The decision-stage levers of a [`DetectorConfig`] beyond the threshold (what
/// `bitgru detect --eval --sweep-*` varies; recorded in every
/// [`streams::OperatingPoint`]). The defaults are the plain decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Levers {
    /// Keyword-vs-reference margin in `[0, 1]`: a keyword fires only if its smoothed
    /// probability also exceeds the reference ([`Levers::margin_against`]) by at least
    /// this much (`p − reference ≥ margin`). Default 0 (off: the most probable class always
    /// passes).
    pub margin: f32,
    /// The reference of `margin`: the `_unknown_` probability (default; the model must have an
    /// `_unknown_` class when `margin > 0`) or the highest other class.
    pub margin_against: MarginAgainst,
    /// Consecutive decision frames (one per hop) in which a keyword must reach its threshold and
    /// the margin before it fires, in `1..=MAX_HOLD_FRAMES`. Default 1 (fires on the first such
    /// frame). The count runs whether or not the keyword is the most probable class; it must be
    /// that class on the firing frame.
    pub hold_frames: usize,
    /// Factor (finite, ≥ 0) on the smoothed `_unknown_` probability before the decision: the
    /// weighted value competes for the most probable class and is the margin's reference (the
    /// reported probabilities and a keyword's score stay unweighted). Default 1 (off); > 1
    /// makes `_unknown_` win more windows. Needs an `_unknown_` class when not 1.
    pub unknown_weight: f32,
}

impl Default for Levers {
    fn default() -> Self {
        Levers {
            margin: 0.0,
            margin_against: MarginAgainst::Unknown,
            hold_frames: 1,
            unknown_weight: 1.0,
        }
    }
}

/// Longest [`Levers::hold_frames`] (10 s of 20 ms hops).
pub const MAX_HOLD_FRAMES: usize = 500;

/// Decision parameters (serde; every field has the documented default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    /// How the GRU meets the stream. Default [`Mode::Window`] with `every = 2` (40 ms).
    pub mode: Mode,
    /// Frames of one window in [`Mode::Window`]; 0 = the front end's steps (49 for 1 s clips).
    pub window: usize,
    /// Probability vectors averaged (moving mean). Default 20 (400 ms; docs/DETECTOR.md).
    pub smooth_frames: usize,
    /// Probability threshold of every keyword without its own entry in `thresholds`.
    /// Default [`DEFAULT_THRESHOLD`] (chosen on the DET curve, docs/DETECTOR.md).
    pub threshold: f32,
    /// Per-keyword thresholds (class name → threshold), overriding `threshold`.
    pub thresholds: BTreeMap<String, f32>,
    /// Suppression after a detection (s): no keyword fires within this time. Default 1.0.
    pub refractory_s: f32,
    /// Energy gate (dBFS of a frame's mean power; `-inf` disables it). Default −60.
    pub gate_dbfs: f32,
    /// Silence appended by [`Detector::finish`] so that a keyword at the very end of a file is
    /// seen in a window (s). Default 0.5.
    pub flush_s: f32,
    /// The decision-stage levers (all off by default; in JSON their fields sit beside the
    /// others: `margin`, `margin_against`, `hold_frames`, `unknown_weight`).
    #[serde(flatten)]
    pub levers: Levers,
}

/// The keyword threshold of a model without its own ([`crate::io::ModelMeta::detect_threshold`];
/// the default models carry theirs, chosen on their DET curves, docs/DETECTOR.md). 0.8 since the
/// kws10 model trained with label smoothing 0.1 (session 5), whose posteriors top out near 0.91;
/// it was 0.9 for the model before.
pub const DEFAULT_THRESHOLD: f32 = 0.8;

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            mode: Mode::Window { every: 2 },
            window: 0,
            smooth_frames: 20,
            threshold: DEFAULT_THRESHOLD,
            thresholds: BTreeMap::new(),
            refractory_s: 1.0,
            gate_dbfs: -60.0,
            flush_s: 0.5,
            levers: Levers::default(),
        }
    }
}

impl DetectorConfig {
    /// The defaults for a model: [`DetectorConfig::default`] with the model's own threshold
    /// ([`crate::io::ModelMeta::detect_threshold`]) when it has one.
    pub fn for_model(meta: &crate::io::ModelMeta) -> DetectorConfig {
        DetectorConfig {
            threshold: meta.detect_threshold.unwrap_or(DEFAULT_THRESHOLD),
            ..DetectorConfig::default()
        }
    }

    /// This configuration with `levers` (threshold and everything else kept).
    pub fn with_levers(&self, levers: Levers) -> DetectorConfig {
        DetectorConfig {
            levers,
            ..self.clone()
        }
    }

    /// The threshold of class `name`.
    pub fn threshold_for(&self, name: &str) -> f32 {
        self.thresholds.get(name).copied().unwrap_or(self.threshold)
    }

    /// Checks ranges; `classes` are the model's class names (threshold keys must be keywords).
    pub fn validate(&self, classes: &[String]) -> Result<()> {
        let bad = |d: String| Err(Error::invalid("DetectorConfig", d));
        match self.mode {
            Mode::Window { every: 0 } => return bad("mode.every must be ≥ 1".into()),
            Mode::Stateful { decay } if !(decay > 0.0 && decay <= 1.0) => {
                return bad(format!("mode.decay {decay} must be in (0, 1]"))
            }
            _ => {}
        }
        if self.smooth_frames == 0 {
            return bad("smooth_frames must be ≥ 1".into());
        }
        let prob = |v: f32| (0.0..=1.0).contains(&v);
        if !prob(self.threshold) {
            return bad(format!("threshold {} must be in [0, 1]", self.threshold));
        }
        for (k, &v) in &self.thresholds {
            if !prob(v) {
                return bad(format!("threshold of {k:?} ({v}) must be in [0, 1]"));
            }
            if !classes.iter().any(|c| c == k) || !is_keyword(k) {
                return bad(format!(
                    "threshold for {k:?}, which is not a keyword of the model ({})",
                    classes
                        .iter()
                        .filter(|c| is_keyword(c))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if !(self.refractory_s >= 0.0 && self.refractory_s.is_finite()) {
            return bad(format!("refractory_s {} must be ≥ 0", self.refractory_s));
        }
        if self.gate_dbfs.is_nan() || self.gate_dbfs == f32::INFINITY {
            return bad(format!(
                "gate_dbfs {} must be a level or -inf",
                self.gate_dbfs
            ));
        }
        if !(self.flush_s >= 0.0 && self.flush_s <= 10.0) {
            return bad(format!("flush_s {} must be in [0, 10]", self.flush_s));
        }
        self.levers.validate(classes)
    }
}

impl Levers {
    /// The "fewer false alarms on speech" setting (the Listen page's switch): a keyword fires
    /// only if its smoothed probability beats five times the `_unknown_` probability by 0.75.
    /// Measured with `bitgru detect --eval --sweep-margin 0,0.75 --sweep-unknown-weight 1,5`
    /// (seed 1, all-8 integer; docs/DETECTOR.md "Decision-stage levers"), each default model at
    /// its own threshold: kws4 (0.84) 69.9 % detected at 32.2 false alarms per hour of unknown
    /// speech against 82.4 % at 76.7 without it; kws10 (0.7) 46.5 % at 38.4 against 69.4 % at
    /// 177.8. Both lie above the plain threshold curves at the same false-alarm rates (kws4 at
    /// 0.9: 62.8 % at 28.4; kws10 at 0.86: 42.2 % at 48.1). Needs an `_unknown_` class.
    pub const FEWER_SPEECH_ALARMS: Levers = Levers {
        margin: 0.75,
        margin_against: MarginAgainst::Unknown,
        hold_frames: 1,
        unknown_weight: 5.0,
    };

    /// Checks ranges ([`Error::DetectorSetting`]); `classes` are the model's class names (a
    /// margin against `_unknown_` and an unknown weight other than 1 need that class).
    pub fn validate(&self, classes: &[String]) -> Result<()> {
        let out_of_range = |field: &'static str, expected: &str, got: String| {
            Err(Error::DetectorSetting {
                field,
                expected: expected.into(),
                got,
            })
        };
        if !(0.0..=1.0).contains(&self.margin) {
            return out_of_range(
                "margin",
                "a probability difference in [0, 1]",
                self.margin.to_string(),
            );
        }
        if !(1..=MAX_HOLD_FRAMES).contains(&self.hold_frames) {
            return out_of_range(
                "hold_frames",
                &format!("1 to {MAX_HOLD_FRAMES} frames"),
                self.hold_frames.to_string(),
            );
        }
        if !(self.unknown_weight.is_finite() && self.unknown_weight >= 0.0) {
            return out_of_range(
                "unknown_weight",
                "a finite factor ≥ 0",
                self.unknown_weight.to_string(),
            );
        }
        let has_unknown = classes.iter().any(|c| c == crate::data::speech::UNKNOWN);
        if !has_unknown {
            if self.margin > 0.0 && self.margin_against == MarginAgainst::Unknown {
                return out_of_range(
                    "margin_against",
                    "rest (the model has no _unknown_ class)",
                    self.margin_against.to_string(),
                );
            }
            if self.unknown_weight != 1.0 {
                return out_of_range(
                    "unknown_weight",
                    "1 (the model has no _unknown_ class)",
                    self.unknown_weight.to_string(),
                );
            }
        }
        Ok(())
    }
}

/// Whether a class name is a keyword (`_silence_`, `_unknown_` and any other `_name_` are not).
pub fn is_keyword(name: &str) -> bool {
    !(name.starts_with('_') && name.ends_with('_') && name.len() >= 2)
}

/// A detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The keyword (class name).
    pub keyword: String,
    /// Its class index.
    pub class: usize,
    /// Stream time of the deciding frame (s, see the module doc).
    pub time_s: f64,
    /// The smoothed probability that crossed the threshold.
    pub score: f32,
    /// Index of the deciding frame.
    pub frame: u64,
}

/// The outputs of one frame (for display).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameOutput {
    /// Frame index since the start (or the last reset).
    pub frame: u64,
    /// Stream time at which the frame is complete (s).
    pub time_s: f64,
    /// Class probabilities of this frame (the model's, or the gated distribution).
    pub probs: Vec<f32>,
    /// Smoothed probabilities (what the decision uses).
    pub smoothed: Vec<f32>,
    /// Frame power (dBFS).
    pub level_dbfs: f32,
    /// Whether the energy gate skipped the model.
    pub gated: bool,
}

/// What [`Detector::push`] produced (appended to, never cleared by the detector).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectorOutput {
    pub frames: Vec<FrameOutput>,
    pub events: Vec<Detection>,
}

/// The decision stage alone (threshold, argmax, arming, refractory, and the levers: unknown
/// weight, margin, hold): the evaluation replays it over stored smoothed probabilities for every
/// threshold of a DET curve. Only f32 products, differences and comparisons, so the same bits
/// natively and in wasm.
#[derive(Debug, Clone)]
pub struct Decider {
    classes: Vec<String>,
    thresholds: Vec<Option<f32>>,
    refractory_s: f64,
    armed: Vec<bool>,
    last_fire: Option<f64>,
    levers: Levers,
    /// Index of `_unknown_`.
    unknown: Option<usize>,
    /// Consecutive qualifying frames per class (keywords only).
    run: Vec<usize>,
    /// The smoothed probabilities with `_unknown_` weighted.
    weighted: Vec<f32>,
}

impl Decider {
    /// A decider for `classes` with `config`'s thresholds (non-keywords never fire).
    pub fn new(classes: &[String], config: &DetectorConfig) -> Decider {
        Decider {
            classes: classes.to_vec(),
            thresholds: classes
                .iter()
                .map(|c| is_keyword(c).then(|| config.threshold_for(c)))
                .collect(),
            refractory_s: f64::from(config.refractory_s),
            armed: vec![true; classes.len()],
            last_fire: None,
            levers: config.levers,
            unknown: classes
                .iter()
                .position(|c| c == crate::data::speech::UNKNOWN),
            run: vec![0; classes.len()],
            weighted: vec![0.0; classes.len()],
        }
    }

    /// Decides on one frame's smoothed probabilities.
    pub fn step(&mut self, frame: u64, time_s: f64, smoothed: &[f32]) -> Option<Detection> {
        for (k, t) in self.thresholds.iter().enumerate() {
            if let Some(t) = t {
                if smoothed[k] < *t {
                    self.armed[k] = true;
                }
            }
        }
        // `_unknown_` weighted (×1 leaves every value as it is).
        self.weighted.copy_from_slice(smoothed);
        if let Some(u) = self.unknown {
            self.weighted[u] *= self.levers.unknown_weight;
        }
        let p = &self.weighted;
        let best = crate::math::argmax(p);
        // The largest value of every class but `best` (the margin's reference for `best` when
        // it is measured against the rest; for any other class the reference is `p[best]`).
        let second = p
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != best)
            .map(|(_, &v)| v)
            .fold(f32::NEG_INFINITY, f32::max);
        for (k, t) in self.thresholds.iter().enumerate() {
            let Some(t) = *t else { continue };
            let reference = match (self.levers.margin_against, self.unknown) {
                (MarginAgainst::Unknown, Some(u)) => p[u],
                (MarginAgainst::Unknown, None) => 0.0,
                (MarginAgainst::Rest, _) if k == best => second,
                (MarginAgainst::Rest, _) => p[best],
            };
            let qualifies = p[k] >= t && p[k] - reference >= self.levers.margin;
            self.run[k] = if qualifies { self.run[k] + 1 } else { 0 };
        }
        self.thresholds[best]?;
        if self.run[best] < self.levers.hold_frames || !self.armed[best] {
            return None;
        }
        if let Some(last) = self.last_fire {
            if time_s - last < self.refractory_s {
                return None;
            }
        }
        self.armed[best] = false;
        self.last_fire = Some(time_s);
        Some(Detection {
            keyword: self.classes[best].clone(),
            class: best,
            time_s,
            score: smoothed[best],
            frame,
        })
    }

    /// Forgets the history (arming, refractory, hold counts).
    pub fn reset(&mut self) {
        self.armed.iter_mut().for_each(|a| *a = true);
        self.run.iter_mut().for_each(|r| *r = 0);
        self.last_fire = None;
    }
}

/// The streaming detector (see the module doc).
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    classes: Vec<String>,
    model: DetectorModel,
    mfcc: MfccStream,
    resampler: Option<StreamResampler>,
    input_rate: u32,
    window: usize,
    /// The last `window` feature frames.
    frames: VecDeque<Vec<f32>>,
    /// Activity of the last `window` frames.
    active: VecDeque<bool>,
    /// The last `smooth_frames` probability vectors.
    history: VecDeque<Vec<f32>>,
    probs: Vec<f32>,
    feat: Vec<f32>,
    gated_probs: Vec<f32>,
    decider: Decider,
    frame: u64,
    /// Frames since the last window run.
    since_run: usize,
    resampled: Vec<f32>,
    gate_power: f64,
}

impl Detector {
    /// A detector for `model` with the MFCC `front` end (from the bundle), class names in logit
    /// order, `config`, for input audio at `input_rate` Hz.
    pub fn new(
        model: DetectorModel,
        front: &FrontEnd,
        classes: &[String],
        config: DetectorConfig,
        input_rate: u32,
    ) -> Result<Detector> {
        let FrontEnd::Mfcc {
            config: mfcc_config,
            ..
        } = front
        else {
            return Err(Error::invalid(
                "detector front end",
                format!(
                    "{}: the detector needs an audio (mfcc) front end",
                    front.kind().unwrap_or("raw")
                ),
            ));
        };
        front.check_model(model.input_size())?;
        if classes.len() != model.classes() {
            return Err(Error::length("class names", model.classes(), classes.len()));
        }
        if !classes.iter().any(|c| is_keyword(c)) {
            return Err(Error::invalid(
                "detector classes",
                format!("no keyword among {}", classes.join(", ")),
            ));
        }
        config.validate(classes)?;
        if input_rate == 0 {
            return Err(Error::invalid("input sample rate", "0 Hz"));
        }
        let window = if config.window == 0 {
            front.steps().unwrap_or(1)
        } else {
            config.window
        };
        let rate = mfcc_config.sample_rate;
        let resampler = if input_rate == rate {
            None
        } else {
            Some(StreamResampler::new(input_rate, rate)?)
        };
        let mut gated_probs = vec![0.0; classes.len()];
        if let Some(s) = classes
            .iter()
            .position(|c| c == crate::data::speech::SILENCE)
        {
            gated_probs[s] = 1.0;
        }
        let gate_power = if config.gate_dbfs == f32::NEG_INFINITY {
            -1.0
        } else {
            10f64.powf(f64::from(config.gate_dbfs) / 10.0)
        };
        let mut model = model;
        model.reset();
        Ok(Detector {
            decider: Decider::new(classes, &config),
            mfcc: MfccStream::new(Mfcc::new(mfcc_config.clone())?),
            probs: gated_probs.clone(),
            feat: vec![0.0; mfcc_config.n_mfcc],
            gated_probs,
            classes: classes.to_vec(),
            model,
            resampler,
            input_rate,
            window,
            frames: VecDeque::with_capacity(window + 1),
            active: VecDeque::with_capacity(window + 1),
            history: VecDeque::with_capacity(config.smooth_frames + 1),
            frame: 0,
            since_run: 0,
            resampled: Vec::new(),
            gate_power,
            config,
        })
    }

    /// The detector for a bundle: its MFCC front end and class names, the integer model at
    /// `genome` (float for `None`).
    pub fn from_bundle(
        bundle: &crate::io::ModelBundle,
        genome: Option<&crate::genome::Genome>,
        config: DetectorConfig,
        input_rate: u32,
    ) -> Result<Detector> {
        let classes = if bundle.meta.classes.len() == bundle.model.classes {
            bundle.meta.classes.clone()
        } else {
            return Err(Error::length(
                "bundle class names",
                bundle.model.classes,
                bundle.meta.classes.len(),
            ));
        };
        Detector::new(
            DetectorModel::from_bundle(bundle, genome)?,
            &bundle.meta.features,
            &classes,
            config,
            input_rate,
        )
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Class names.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The model.
    pub fn model(&self) -> &DetectorModel {
        &self.model
    }

    /// Frames of one model window.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The MFCC parameters.
    pub fn mfcc_config(&self) -> &MfccConfig {
        self.mfcc.mfcc().config()
    }

    /// Input sample rate.
    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    /// Frames processed since the start or the last reset.
    pub fn frames_done(&self) -> u64 {
        self.frame
    }

    /// Pushes samples (any chunk size, at the input rate; non-finite samples are an error and
    /// change nothing) and appends every completed frame and event to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut DetectorOutput) -> Result<()> {
        crate::error::check_finite("audio samples", samples)?;
        match &mut self.resampler {
            Some(r) => {
                let mut buf = std::mem::take(&mut self.resampled);
                buf.clear();
                r.push(samples, &mut buf);
                self.mfcc.push(&buf);
                self.resampled = buf;
            }
            None => self.mfcc.push(samples),
        }
        self.drain(out)
    }

    /// Ends a stream: flushes the resampler, appends [`DetectorConfig::flush_s`] of silence and
    /// processes it. The detector then takes a new stream ([`Detector::reset`] is not needed).
    pub fn finish(&mut self, out: &mut DetectorOutput) -> Result<()> {
        if let Some(r) = &mut self.resampler {
            let mut buf = Vec::new();
            r.finish(&mut buf);
            self.mfcc.push(&buf);
        }
        let rate = self.mfcc.mfcc().config().sample_rate;
        let n = (f64::from(self.config.flush_s) * f64::from(rate)).round() as usize;
        self.mfcc.push(&vec![0.0; n]);
        self.drain(out)?;
        self.reset();
        Ok(())
    }

    /// Starts a new stream (state, buffers, smoothing, refractory and frame count cleared).
    pub fn reset(&mut self) {
        self.mfcc.reset();
        if let Some(r) = &mut self.resampler {
            r.reset();
        }
        self.model.reset();
        self.frames.clear();
        self.active.clear();
        self.history.clear();
        self.decider.reset();
        self.probs.copy_from_slice(&self.gated_probs);
        self.frame = 0;
        self.since_run = 0;
    }

    fn drain(&mut self, out: &mut DetectorOutput) -> Result<()> {
        let mut feat = std::mem::take(&mut self.feat);
        while let Some(power) = self.mfcc.pop_with_power(&mut feat)? {
            self.on_frame(&feat, power, out)?;
        }
        self.feat = feat;
        Ok(())
    }

    fn on_frame(&mut self, feat: &[f32], power: f64, out: &mut DetectorOutput) -> Result<()> {
        let cfg = self.mfcc.mfcc().config();
        let time_s = (self.frame as f64 * cfg.hop_length as f64 + cfg.win_length as f64)
            / f64::from(cfg.sample_rate);
        let active = power >= self.gate_power;
        let level_dbfs = (10.0 * power.max(1e-20).log10()) as f32;
        push_bounded(&mut self.active, active, self.window);
        let any_active = self.active.iter().any(|&a| a);
        let mut gated = false;
        match self.config.mode {
            Mode::Window { every } => {
                let mut x = if self.frames.len() == self.window {
                    self.frames.pop_front().expect("full window")
                } else {
                    Vec::new()
                };
                x.clear();
                x.extend_from_slice(feat);
                self.frames.push_back(x);
                self.since_run += 1;
                if !any_active {
                    gated = true;
                    self.probs.copy_from_slice(&self.gated_probs);
                } else if self.frames.len() == self.window && self.since_run >= every {
                    self.since_run = 0;
                    self.model.reset();
                    for f in &self.frames {
                        self.model.step(f)?;
                    }
                    self.model.probabilities(&mut self.probs);
                }
            }
            Mode::Stateful { decay } => {
                if !any_active {
                    gated = true;
                    self.model.reset();
                    self.probs.copy_from_slice(&self.gated_probs);
                } else {
                    self.model
                        .decay((f64::from(decay) * 256.0).round().clamp(0.0, 256.0) as u16);
                    self.model.step(feat)?;
                    self.model.probabilities(&mut self.probs);
                }
            }
        }
        let mut h = if self.history.len() == self.config.smooth_frames {
            self.history.pop_front().expect("full history")
        } else {
            Vec::new()
        };
        h.clear();
        h.extend_from_slice(&self.probs);
        self.history.push_back(h);
        let n = self.history.len() as f32;
        let mut smoothed = vec![0.0f32; self.classes.len()];
        for p in &self.history {
            for (s, &v) in smoothed.iter_mut().zip(p) {
                *s += v;
            }
        }
        smoothed.iter_mut().for_each(|s| *s /= n);
        if let Some(d) = self.decider.step(self.frame, time_s, &smoothed) {
            out.events.push(d);
        }
        out.frames.push(FrameOutput {
            frame: self.frame,
            time_s,
            probs: self.probs.clone(),
            smoothed,
            level_dbfs,
            gated,
        });
        self.frame += 1;
        Ok(())
    }

    /// Runs a whole signal (at the input rate) through a fresh stream and [`Detector::finish`]:
    /// the detections and frames of a file.
    pub fn run(&mut self, samples: &[f32]) -> Result<DetectorOutput> {
        self.reset();
        let mut out = DetectorOutput::default();
        self.push(samples, &mut out)?;
        self.finish(&mut out)?;
        Ok(out)
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

/// A deterministic test / benchmark signal at `rate` Hz: `seconds` of low-level noise with a
/// 300 ms chirp every second (seeded; the same on every platform). The wasm side times
/// [`Detector::push`] on it hop by hop, like `bitgru bench` does natively.
pub fn bench_signal(seed: u64, rate: u32, seconds: f64) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = (seconds * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let ph = t.fract();
            let chirp = if ph < 0.3 {
                0.3 * libm::sin(2.0 * std::f64::consts::PI * (300.0 + 2000.0 * ph) * ph)
            } else {
                0.0
            };
            (chirp + 0.01 * (rng.gen::<f64>() - 0.5)) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["yes", "no", "_silence_", "_unknown_"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// The (frame, keyword) detections of `config` on `frames` (one every 20 ms).
    fn fire(config: DetectorConfig, frames: &[[f32; 4]]) -> Vec<(u64, String)> {
        config.validate(&classes()).unwrap();
        let mut d = Decider::new(&classes(), &config);
        frames
            .iter()
            .enumerate()
            .filter_map(|(t, p)| d.step(t as u64, t as f64 * 0.02, p))
            .map(|e| (e.frame, e.keyword))
            .collect()
    }

    fn at(threshold: f32, levers: Levers) -> DetectorConfig {
        DetectorConfig {
            threshold,
            ..DetectorConfig::default()
        }
        .with_levers(levers)
    }

    fn yes_at(frame: u64) -> Vec<(u64, String)> {
        vec![(frame, "yes".to_string())]
    }

    #[test]
    fn fewer_speech_alarms_needs_the_keyword_to_beat_five_times_unknown_by_three_quarters() {
        let strict = Levers::FEWER_SPEECH_ALARMS;
        assert!(strict.validate(&classes()).is_ok());
        // 0.9 − 5 × 0.02 = 0.8 ≥ 0.75: fires; 0.9 − 5 × 0.04 = 0.7: the plain decision fires,
        // this one does not.
        assert_eq!(fire(at(0.84, strict), &[[0.9, 0.0, 0.08, 0.02]]), yes_at(0));
        let speechy = [[0.9, 0.0, 0.06, 0.04]];
        assert_eq!(fire(at(0.84, Levers::default()), &speechy), yes_at(0));
        assert!(fire(at(0.84, strict), &speechy).is_empty());
        let no_unknown = ["yes".to_string(), "_silence_".to_string()];
        assert!(strict.validate(&no_unknown).is_err());
    }

    #[test]
    fn the_margin_needs_the_keyword_that_far_above_unknown() {
        let p = [[0.5, 0.1, 0.0, 0.4]];
        let margin = |margin| Levers {
            margin,
            ..Levers::default()
        };
        assert_eq!(fire(at(0.45, Levers::default()), &p), yes_at(0));
        assert_eq!(fire(at(0.45, margin(0.05)), &p), yes_at(0));
        assert!(fire(at(0.45, margin(0.2)), &p).is_empty());
    }

    #[test]
    fn a_margin_against_the_rest_also_counts_other_keywords_and_silence() {
        let p = [[0.5, 0.45, 0.0, 0.05]];
        let against = |margin_against| Levers {
            margin: 0.2,
            margin_against,
            ..Levers::default()
        };
        assert_eq!(
            fire(at(0.45, against(MarginAgainst::Unknown)), &p),
            yes_at(0)
        );
        assert!(fire(at(0.45, against(MarginAgainst::Rest)), &p).is_empty());
        let silence = [[0.5, 0.0, 0.45, 0.05]];
        assert!(fire(at(0.45, against(MarginAgainst::Rest)), &silence).is_empty());
        let clear = [[0.8, 0.1, 0.05, 0.05]];
        assert_eq!(
            fire(at(0.45, against(MarginAgainst::Rest)), &clear),
            yes_at(0)
        );
    }

    #[test]
    fn hold_frames_delay_a_detection_and_drop_short_peaks() {
        let (hi, lo) = ([0.9, 0.05, 0.0, 0.05], [0.1, 0.0, 0.9, 0.0]);
        let hold = |hold_frames| Levers {
            hold_frames,
            ..Levers::default()
        };
        let peak2 = [lo, hi, hi, lo, lo];
        assert_eq!(fire(at(0.5, hold(1)), &peak2), yes_at(1));
        assert_eq!(fire(at(0.5, hold(2)), &peak2), yes_at(2));
        assert!(fire(at(0.5, hold(3)), &peak2).is_empty());
        // The count restarts after a frame below the threshold.
        let broken = [hi, hi, lo, hi, hi, hi];
        assert_eq!(fire(at(0.5, hold(3)), &broken), yes_at(5));
        // ... and after a reset.
        let cfg = at(0.5, hold(2));
        let mut d = Decider::new(&classes(), &cfg);
        assert!(d.step(0, 0.0, &hi).is_none());
        d.reset();
        assert!(d.step(1, 0.02, &hi).is_none());
        assert!(d.step(2, 0.04, &hi).is_some());
    }

    #[test]
    fn the_unknown_weight_lets_unknown_win_and_raises_the_margin_reference() {
        let p = [[0.5, 0.0, 0.2, 0.3]];
        let weight = |unknown_weight, margin| Levers {
            unknown_weight,
            margin,
            ..Levers::default()
        };
        assert_eq!(fire(at(0.45, weight(1.0, 0.0)), &p), yes_at(0));
        // 2 × 0.3 = 0.6 > 0.5: `_unknown_` is the most probable class.
        assert!(fire(at(0.45, weight(2.0, 0.0)), &p).is_empty());
        // 0.5 − 0.3 ≥ 0.1, but 0.5 − 1.5 × 0.3 < 0.1.
        assert_eq!(fire(at(0.45, weight(1.0, 0.1)), &p), yes_at(0));
        assert!(fire(at(0.45, weight(1.5, 0.1)), &p).is_empty());
        // 0 silences `_unknown_` entirely; the reported score stays unweighted.
        let u = [[0.35, 0.0, 0.0, 0.65]];
        let mut d = Decider::new(&classes(), &at(0.3, weight(0.0, 0.0)));
        assert_eq!(d.step(0, 0.0, &u[0]).map(|e| e.score), Some(0.35));
        assert!(fire(at(0.3, weight(1.0, 0.0)), &u).is_empty());
    }

    #[test]
    fn bad_levers_are_refused_with_the_setting_named() {
        let field_of = |levers: Levers, classes: &[String]| match DetectorConfig::default()
            .with_levers(levers)
            .validate(classes)
        {
            Err(Error::DetectorSetting { field, .. }) => field,
            other => panic!("{levers:?}: {other:?}"),
        };
        let l = Levers::default;
        let all = classes();
        for margin in [f32::NAN, -0.1, 1.5, f32::INFINITY] {
            assert_eq!(field_of(Levers { margin, ..l() }, &all), "margin");
        }
        for hold_frames in [0, MAX_HOLD_FRAMES + 1] {
            assert_eq!(field_of(Levers { hold_frames, ..l() }, &all), "hold_frames");
        }
        for unknown_weight in [f32::NAN, -1.0, f32::INFINITY] {
            let levers = Levers {
                unknown_weight,
                ..l()
            };
            assert_eq!(field_of(levers, &all), "unknown_weight");
        }
        // Without an `_unknown_` class: no margin against it, no weight on it; the rest is fine.
        let no_unknown = &all[..3];
        let margin = Levers { margin: 0.2, ..l() };
        assert_eq!(field_of(margin, no_unknown), "margin_against");
        let weighted = Levers {
            unknown_weight: 2.0,
            ..l()
        };
        assert_eq!(field_of(weighted, no_unknown), "unknown_weight");
        let rest = Levers {
            margin_against: MarginAgainst::Rest,
            ..margin
        };
        DetectorConfig::default()
            .with_levers(rest)
            .validate(no_unknown)
            .unwrap();
        let e = DetectorConfig::default()
            .with_levers(Levers {
                hold_frames: 0,
                ..l()
            })
            .validate(&all)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("hold_frames = 0") && e.contains("expected 1 to"),
            "{e}"
        );
        assert!("both".parse::<MarginAgainst>().is_err());
        assert_eq!("rest".parse::<MarginAgainst>(), Ok(MarginAgainst::Rest));
    }

    #[test]
    fn configs_without_levers_keep_the_plain_decision() {
        let old: DetectorConfig = serde_json::from_str(r#"{"threshold": 0.9}"#).unwrap();
        assert_eq!(old.levers, Levers::default());
        let new: DetectorConfig = serde_json::from_str(
            r#"{"margin": 0.3, "margin_against": "rest", "hold_frames": 2, "unknown_weight": 2}"#,
        )
        .unwrap();
        assert_eq!(
            new.levers,
            Levers {
                margin: 0.3,
                margin_against: MarginAgainst::Rest,
                hold_frames: 2,
                unknown_weight: 2.0,
            }
        );
        assert_eq!(new.threshold, DEFAULT_THRESHOLD);
    }
}
