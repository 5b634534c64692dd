//! Measuring the detector like a detector: long labelled streams built from clips (seeded), the
//! matching of detections to the keywords placed in them, and the metrics (detection rate, false
//! alarms per hour, the DET curve over thresholds). Pure computation: loading the clips and
//! noise is the caller's job (`bitgru detect --eval`); docs/DETECTOR.md states the protocol.
//!
//! # Streams ([`StreamConfig`] defaults in brackets)
//!
//! - **keywords in noise**: a bed of background noise (random segments of the noise bank laid
//!   end to end, at its recorded level), keyword clips added at random offsets: consecutive clips
//!   are separated by a gap uniform in `gap_s` [0.5–2.0 s]; each clip is scaled so that its SNR
//!   over its span against the bed under it is uniform in `snr_db` [5–20 dB, the training
//!   augmentation's range], then samples are clamped to [−1, 1].
//! - **keywords in unknown speech**: a bed of noise at `bed_gain` [0.1], on which runs of 1–3
//!   `_unknown_` words (each followed by a gap uniform in `word_gap_s` [0.1–0.5 s]) alternate
//!   with one keyword clip, all clips at their recorded level.
//! - **noise only**: `noise_streams` [10] beds of `noise_s` [60 s] each.
//! - **unknown only**: `unknown_passes` [10] passes over all `_unknown_` clips, each pass in a
//!   new random order, with word gaps, on the `bed_gain` bed.
//!
//! Streams are cut into pieces of at most `stream_s` [60 s] so memory stays small; every piece
//! is a fresh detector stream. One ChaCha8 RNG seeded with `seed` drives all choices in a fixed
//! order, so a seed gives the same streams on every machine.
use super::{Decider, Detection, DetectorConfig, Levers};
use crate::data::augment::{power, NoiseBank};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Stream construction parameters (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamConfig {
    pub seed: u64,
    pub sample_rate: u32,
    /// Gap between consecutive keyword clips in noise (s, uniform).
    pub gap_s: (f64, f64),
    /// SNR of keyword clips against the noise bed (dB, uniform).
    pub snr_db: (f64, f64),
    /// Gain of the noise bed under unknown speech.
    pub bed_gain: f64,
    /// Gap after every word of an unknown run (s, uniform).
    pub word_gap_s: (f64, f64),
    /// Length of one keyword-free noise stream (s).
    pub noise_s: f64,
    /// Longest stream piece (s).
    pub stream_s: f64,
    /// Passes over the unknown words in the unknown-only streams (each pass in a new random
    /// order with new gaps and bed).
    pub unknown_passes: usize,
    /// Keyword-free noise streams of `noise_s` seconds.
    pub noise_streams: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            seed: 1,
            sample_rate: 16_000,
            gap_s: (0.5, 2.0),
            snr_db: (5.0, 20.0),
            bed_gain: 0.1,
            word_gap_s: (0.1, 0.5),
            noise_s: 60.0,
            stream_s: 60.0,
            unknown_passes: 10,
            noise_streams: 10,
        }
    }
}

/// Which kind of stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    KeywordsInNoise,
    KeywordsInUnknown,
    NoiseOnly,
    UnknownOnly,
}

/// A keyword clip placed in a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// First sample.
    pub start: usize,
    /// Samples.
    pub len: usize,
    /// Class index of the keyword.
    pub class: usize,
}

/// A labelled stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledStream {
    pub kind: StreamKind,
    pub samples: Vec<f32>,
    pub placements: Vec<Placement>,
}

/// A clip with its class.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledClip {
    pub samples: Vec<f32>,
    pub class: usize,
}

fn uniform(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.gen_range(lo..hi)
    } else {
        lo
    }
}

/// `len` samples of noise bed: random segments of random parts laid end to end.
fn bed(noise: &NoiseBank, len: usize, gain: f64, rng: &mut ChaCha8Rng) -> Result<Vec<f32>> {
    let parts: Vec<&Vec<f32>> = noise
        .parts
        .iter()
        .map(|(_, s)| s)
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(Error::invalid("noise bank", "no noise samples"));
    }
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let p = parts[rng.gen_range(0..parts.len())];
        let start = rng.gen_range(0..p.len());
        let take = (p.len() - start).min(len - out.len());
        out.extend(
            p[start..start + take]
                .iter()
                .map(|&x| (f64::from(x) * gain) as f32),
        );
    }
    Ok(out)
}

fn secs(rate: u32, s: f64) -> usize {
    (s * f64::from(rate)).round() as usize
}

/// A clip placed in the current piece.
struct Item {
    at: usize,
    clip: Vec<f32>,
    /// `Some(class)` for keywords.
    class: Option<usize>,
    /// `Some(SNR dB)` for clips scaled against the bed.
    snr: Option<f64>,
}

/// Pieces of at most `stream_s`, in order, each keeping whole clips.
struct Builder {
    rate: u32,
    max: usize,
    kind: StreamKind,
    done: Vec<LabeledStream>,
    items: Vec<Item>,
    cursor: usize,
}

impl Builder {
    fn new(cfg: &StreamConfig, kind: StreamKind) -> Builder {
        Builder {
            rate: cfg.sample_rate,
            max: secs(cfg.sample_rate, cfg.stream_s).max(1),
            kind,
            done: Vec::new(),
            items: Vec::new(),
            cursor: 0,
        }
    }

    /// Appends a clip after `gap` samples; `snr` is `Some(dB)` for an SNR-scaled keyword.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        gap: usize,
        clip: &[f32],
        class: Option<usize>,
        snr: Option<f64>,
        cfg: &StreamConfig,
        noise: &NoiseBank,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        if !self.items.is_empty() && self.cursor + gap + clip.len() > self.max {
            self.flush(cfg, noise, rng)?;
        }
        let at = self.cursor + gap;
        self.items.push(Item {
            at,
            clip: clip.to_vec(),
            class,
            snr,
        });
        self.cursor = at + clip.len();
        Ok(())
    }

    fn flush(&mut self, cfg: &StreamConfig, noise: &NoiseBank, rng: &mut ChaCha8Rng) -> Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        let tail = secs(self.rate, cfg.gap_s.0);
        let len = self.cursor + tail;
        let gain = match self.kind {
            StreamKind::KeywordsInNoise | StreamKind::NoiseOnly => 1.0,
            _ => cfg.bed_gain,
        };
        let mut samples = bed(noise, len, gain, rng)?;
        let mut placements = Vec::new();
        for Item {
            at,
            clip,
            class,
            snr,
        } in self.items.drain(..)
        {
            let mut g = 1.0;
            if let Some(snr_db) = snr {
                let (ps, pn) = (power(&clip), power(&samples[at..at + clip.len()]));
                if ps > 0.0 && pn > 0.0 {
                    g = (pn * 10f64.powf(snr_db / 10.0) / ps).sqrt();
                }
            }
            for (s, &c) in samples[at..at + clip.len()].iter_mut().zip(&clip) {
                *s = (f64::from(*s) + g * f64::from(c)).clamp(-1.0, 1.0) as f32;
            }
            if let Some(class) = class {
                placements.push(Placement {
                    start: at,
                    len: clip.len(),
                    class,
                });
            }
        }
        self.done.push(LabeledStream {
            kind: self.kind,
            samples,
            placements,
        });
        self.cursor = 0;
        Ok(())
    }

    fn finish(
        mut self,
        cfg: &StreamConfig,
        noise: &NoiseBank,
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<LabeledStream>> {
        self.flush(cfg, noise, rng)?;
        Ok(self.done)
    }
}

/// Every keyword clip at a random offset in a noise bed (module doc).
pub fn keywords_in_noise(
    keywords: &[LabeledClip],
    noise: &NoiseBank,
    cfg: &StreamConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<LabeledStream>> {
    let mut b = Builder::new(cfg, StreamKind::KeywordsInNoise);
    for c in keywords {
        let gap = secs(cfg.sample_rate, uniform(rng, cfg.gap_s));
        let snr = uniform(rng, cfg.snr_db);
        b.add(gap, &c.samples, Some(c.class), Some(snr), cfg, noise, rng)?;
    }
    b.finish(cfg, noise, rng)
}

/// Every keyword clip after a run of 1–3 unknown words (module doc). Unknown words are used in
/// order, cycling when there are fewer than needed.
pub fn keywords_in_unknown(
    keywords: &[LabeledClip],
    unknown: &[LabeledClip],
    noise: &NoiseBank,
    cfg: &StreamConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<LabeledStream>> {
    if unknown.is_empty() {
        return Err(Error::invalid(
            "unknown words",
            "none to build streams from",
        ));
    }
    let mut b = Builder::new(cfg, StreamKind::KeywordsInUnknown);
    let mut u = 0usize;
    for c in keywords {
        for _ in 0..rng.gen_range(1..=3) {
            let gap = secs(cfg.sample_rate, uniform(rng, cfg.word_gap_s));
            b.add(
                gap,
                &unknown[u % unknown.len()].samples,
                None,
                None,
                cfg,
                noise,
                rng,
            )?;
            u += 1;
        }
        let gap = secs(cfg.sample_rate, uniform(rng, cfg.word_gap_s));
        b.add(gap, &c.samples, Some(c.class), None, cfg, noise, rng)?;
    }
    b.finish(cfg, noise, rng)
}

/// `count` keyword-free noise streams of `noise_s` seconds.
pub fn noise_only(
    noise: &NoiseBank,
    count: usize,
    cfg: &StreamConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<LabeledStream>> {
    (0..count)
        .map(|_| {
            Ok(LabeledStream {
                kind: StreamKind::NoiseOnly,
                samples: bed(noise, secs(cfg.sample_rate, cfg.noise_s), 1.0, rng)?,
                placements: Vec::new(),
            })
        })
        .collect()
}

/// `cfg.unknown_passes` passes over the unknown words (each in a new random order), with word
/// gaps, on the quiet bed.
pub fn unknown_only(
    unknown: &[LabeledClip],
    noise: &NoiseBank,
    cfg: &StreamConfig,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<LabeledStream>> {
    use rand::seq::SliceRandom;
    let mut b = Builder::new(cfg, StreamKind::UnknownOnly);
    let mut order: Vec<usize> = (0..unknown.len()).collect();
    for _ in 0..cfg.unknown_passes {
        order.shuffle(rng);
        for &i in &order {
            let gap = secs(cfg.sample_rate, uniform(rng, cfg.word_gap_s));
            b.add(gap, &unknown[i].samples, None, None, cfg, noise, rng)?;
        }
    }
    b.finish(cfg, noise, rng)
}

/// All four kinds of streams from one seed, in a fixed order: keywords in noise, keywords in
/// unknown speech, `cfg.noise_streams` noise-only streams, unknown only.
pub fn build_all(
    keywords: &[LabeledClip],
    unknown: &[LabeledClip],
    noise: &NoiseBank,
    cfg: &StreamConfig,
) -> Result<Vec<LabeledStream>> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut out = keywords_in_noise(keywords, noise, cfg, &mut rng)?;
    out.extend(keywords_in_unknown(
        keywords, unknown, noise, cfg, &mut rng,
    )?);
    out.extend(noise_only(noise, cfg.noise_streams, cfg, &mut rng)?);
    out.extend(unknown_only(unknown, noise, cfg, &mut rng)?);
    Ok(out)
}

/// The smoothed probabilities of a stream (`[frames × classes]`) and their frame times: what
/// the decision stage needs to replay any threshold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scored {
    pub classes: usize,
    pub smoothed: Vec<f32>,
    pub times: Vec<f64>,
}

impl Scored {
    /// From a detector's frame outputs.
    pub fn from_frames(classes: usize, frames: &[super::FrameOutput]) -> Scored {
        let mut s = Scored {
            classes,
            smoothed: Vec::with_capacity(frames.len() * classes),
            times: Vec::with_capacity(frames.len()),
        };
        for f in frames {
            s.smoothed.extend_from_slice(&f.smoothed);
            s.times.push(f.time_s);
        }
        s
    }

    /// The detections the decision stage makes with `config` (thresholds, refractory).
    pub fn decide(&self, class_names: &[String], config: &DetectorConfig) -> Vec<Detection> {
        let mut d = Decider::new(class_names, config);
        self.times
            .iter()
            .enumerate()
            .filter_map(|(t, &time)| {
                d.step(
                    t as u64,
                    time,
                    &self.smoothed[t * self.classes..(t + 1) * self.classes],
                )
            })
            .collect()
    }
}

/// How detections in one stream compare with its placements.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Matched {
    /// Per placement: whether a detection of its keyword fell in its span.
    pub hit: Vec<bool>,
    /// Detections in no span of their keyword.
    pub false_alarms: usize,
}

/// Matches detections to placements: a detection of keyword `k` at time `t` hits the first
/// not-yet-hit placement of `k` with `start ≤ t ≤ end + tolerance_s`; every other detection is
/// a false alarm.
pub fn match_detections(
    events: &[Detection],
    placements: &[Placement],
    rate: u32,
    tolerance_s: f64,
) -> Matched {
    let mut hit = vec![false; placements.len()];
    let mut false_alarms = 0;
    let r = f64::from(rate);
    for e in events {
        let found = placements.iter().enumerate().position(|(i, p)| {
            !hit[i]
                && p.class == e.class
                && e.time_s >= p.start as f64 / r
                && e.time_s <= (p.start + p.len) as f64 / r + tolerance_s
        });
        match found {
            Some(i) => hit[i] = true,
            None => false_alarms += 1,
        }
    }
    Matched { hit, false_alarms }
}

/// Detection and false-alarm figures at one threshold (and one setting of the decision-stage
/// levers, flattened into the JSON form: `margin`, `margin_against`, `hold_frames`,
/// `unknown_weight`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub threshold: f32,
    #[serde(flatten)]
    pub levers: Levers,
    /// Hits / keyword placements, over both keyword stream kinds.
    pub detection_rate: f64,
    /// Per keyword (class order of `keywords`).
    pub per_keyword: Vec<f64>,
    /// Detection rate in noise streams and in unknown-speech streams.
    pub detection_rate_noise: f64,
    pub detection_rate_unknown: f64,
    /// False alarms per hour on the keyword-free noise streams.
    pub fa_per_hour_noise: f64,
    /// False alarms per hour on the keyword-free unknown-speech stream.
    pub fa_per_hour_unknown: f64,
    /// False alarms (wrong keyword or outside any span) per hour of keyword streams.
    pub fa_per_hour_keyword_streams: f64,
}

/// False alarms per hour that cost as much as one point (1 %) of missed keywords in
/// [`suggest_threshold`].
pub const FA_PER_HOUR_PER_POINT: f64 = 10.0;

/// The operating point a model's default threshold is chosen at: the point of `curve` that
/// maximizes `detection rate − (FA/h noise + FA/h unknown speech) / (100 · FA_PER_HOUR_PER_POINT)`
/// (ten false alarms per hour of keyword-free audio cost one point of detection; ties go to the
/// higher threshold). `None` for an empty curve.
pub fn suggest_threshold(curve: &[OperatingPoint]) -> Option<&OperatingPoint> {
    let value = |p: &OperatingPoint| {
        p.detection_rate
            - (p.fa_per_hour_noise + p.fa_per_hour_unknown) / (100.0 * FA_PER_HOUR_PER_POINT)
    };
    curve.iter().fold(None, |best, p| match best {
        Some(b) if value(b) > value(p) || (value(b) == value(p) && b.threshold > p.threshold) => {
            Some(b)
        }
        _ => Some(p),
    })
}

/// The point of `curve` that detects most with at most `max_fa_unknown` false alarms per hour
/// of unknown speech (ties go to fewer such false alarms, then to the higher threshold).
/// `None` when no point is that quiet.
pub fn best_within(curve: &[OperatingPoint], max_fa_unknown: f64) -> Option<&OperatingPoint> {
    let key = |p: &OperatingPoint| (p.detection_rate, -p.fa_per_hour_unknown, p.threshold);
    curve
        .iter()
        .filter(|p| p.fa_per_hour_unknown <= max_fa_unknown)
        .fold(None, |best: Option<&OperatingPoint>, p| match best {
            Some(b) if key(b).partial_cmp(&key(p)) != Some(std::cmp::Ordering::Less) => Some(b),
            _ => Some(p),
        })
}

/// The DET curve of `config` over `thresholds` (every other setting kept): one
/// [`operating_point`] per threshold, replayed on the stored scores.
#[allow(clippy::too_many_arguments)]
pub fn curve(
    streams: &[LabeledStream],
    scored: &[Scored],
    class_names: &[String],
    keywords: &[usize],
    config: &DetectorConfig,
    thresholds: &[f32],
    rate: u32,
    tolerance_s: f64,
) -> Vec<OperatingPoint> {
    thresholds
        .iter()
        .map(|&threshold| {
            let c = DetectorConfig {
                threshold,
                ..config.clone()
            };
            operating_point(
                streams,
                scored,
                class_names,
                keywords,
                &c,
                rate,
                tolerance_s,
            )
        })
        .collect()
}

/// Evaluates stored scores at `config` (one point of the DET curve). `streams` and `scored`
/// are parallel; `keywords` lists the keyword class indices in report order.
pub fn operating_point(
    streams: &[LabeledStream],
    scored: &[Scored],
    class_names: &[String],
    keywords: &[usize],
    config: &DetectorConfig,
    rate: u32,
    tolerance_s: f64,
) -> OperatingPoint {
    let mut hits = vec![0usize; class_names.len()];
    let mut total = vec![0usize; class_names.len()];
    let (mut hn, mut tn, mut hu, mut tu) = (0usize, 0usize, 0usize, 0usize);
    let mut fa = [0usize; 3];
    let mut dur = [0f64; 3];
    for (s, sc) in streams.iter().zip(scored) {
        let events = sc.decide(class_names, config);
        let m = match_detections(&events, &s.placements, rate, tolerance_s);
        let seconds = s.samples.len() as f64 / f64::from(rate);
        for (p, &h) in s.placements.iter().zip(&m.hit) {
            total[p.class] += 1;
            hits[p.class] += usize::from(h);
            match s.kind {
                StreamKind::KeywordsInNoise => {
                    tn += 1;
                    hn += usize::from(h);
                }
                _ => {
                    tu += 1;
                    hu += usize::from(h);
                }
            }
        }
        let k = match s.kind {
            StreamKind::NoiseOnly => 0,
            StreamKind::UnknownOnly => 1,
            _ => 2,
        };
        fa[k] += m.false_alarms;
        dur[k] += seconds;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_hour = |n: usize, s: f64| if s <= 0.0 { 0.0 } else { n as f64 * 3600.0 / s };
    OperatingPoint {
        threshold: config.threshold,
        levers: config.levers,
        detection_rate: ratio(hn + hu, tn + tu),
        per_keyword: keywords.iter().map(|&k| ratio(hits[k], total[k])).collect(),
        detection_rate_noise: ratio(hn, tn),
        detection_rate_unknown: ratio(hu, tu),
        fa_per_hour_noise: per_hour(fa[0], dur[0]),
        fa_per_hour_unknown: per_hour(fa[1], dur[1]),
        fa_per_hour_keyword_streams: per_hour(fa[2], dur[2]),
    }
}

/// Duration (s) of the streams of one kind.
pub fn duration_s(streams: &[LabeledStream], kind: StreamKind, rate: u32) -> f64 {
    streams
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.samples.len() as f64 / f64::from(rate))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(v: f32, n: usize, class: usize) -> LabeledClip {
        LabeledClip {
            samples: vec![v; n],
            class,
        }
    }

    /// An operating point with the given threshold, detection rate and FA/h (noise, unknown).
    fn p(threshold: f32, detection_rate: f64, noise: f64, unknown: f64) -> OperatingPoint {
        OperatingPoint {
            threshold,
            levers: Levers::default(),
            detection_rate,
            per_keyword: vec![],
            detection_rate_noise: detection_rate,
            detection_rate_unknown: detection_rate,
            fa_per_hour_noise: noise,
            fa_per_hour_unknown: unknown,
            fa_per_hour_keyword_streams: 0.0,
        }
    }

    #[test]
    fn best_within_a_false_alarm_budget() {
        let curve = [
            p(0.8, 0.90, 0.0, 40.0),
            p(0.85, 0.80, 4.8, 25.0),
            p(0.9, 0.70, 0.0, 9.6),
            p(0.95, 0.70, 0.0, 4.8),
            p(0.99, 0.70, 0.0, 4.8),
            p(0.995, 0.40, 0.0, 0.0),
        ];
        // Equal detection: fewer false alarms, then the higher threshold.
        assert_eq!(best_within(&curve, 10.0).unwrap().threshold, 0.99);
        assert_eq!(best_within(&curve, 30.0).unwrap().threshold, 0.85);
        assert_eq!(best_within(&curve, 40.0).unwrap().threshold, 0.8);
        assert_eq!(best_within(&curve, 0.0).unwrap().threshold, 0.995);
        assert!(best_within(&curve[..2], 10.0).is_none());
        assert!(best_within(&[], 10.0).is_none());
    }

    #[test]
    fn the_suggested_threshold_trades_ten_false_alarms_per_hour_for_a_point() {
        assert!(suggest_threshold(&[]).is_none());
        // 0.80 − 0.30 = 0.50; 0.70 − 0.05 − 0.10 = 0.55 (noise counts too); 0.50 − 0 = 0.50.
        let curve = [
            p(0.5, 0.80, 0.0, 300.0),
            p(0.7, 0.70, 5.0, 10.0),
            p(0.9, 0.50, 0.0, 0.0),
        ];
        assert_eq!(suggest_threshold(&curve).unwrap().threshold, 0.7);
        // A tie goes to the higher threshold (fewer surprises for the same value).
        let tie = [p(0.5, 0.75, 0.0, 250.0), p(0.9, 0.5, 0.0, 0.0)];
        assert_eq!(suggest_threshold(&tie).unwrap().threshold, 0.9);
    }

    #[test]
    fn streams_are_seeded_and_place_every_clip() {
        let noise = NoiseBank {
            parts: vec![(
                "n".into(),
                (0..5000).map(|k| ((k % 7) as f32 - 3.0) * 0.01).collect(),
            )],
        };
        let cfg = StreamConfig {
            sample_rate: 1000,
            stream_s: 5.0,
            noise_s: 3.0,
            noise_streams: 2,
            unknown_passes: 2,
            ..StreamConfig::default()
        };
        let kw: Vec<LabeledClip> = (0..7).map(|k| clip(0.2, 1000, k % 2)).collect();
        let unk: Vec<LabeledClip> = (0..3).map(|_| clip(0.1, 800, 5)).collect();
        let a = build_all(&kw, &unk, &noise, &cfg).unwrap();
        let b = build_all(&kw, &unk, &noise, &cfg).unwrap();
        assert_eq!(a, b);
        let placed: usize = a
            .iter()
            .filter(|s| s.kind == StreamKind::KeywordsInNoise)
            .map(|s| s.placements.len())
            .sum();
        assert_eq!(placed, 7);
        for s in &a {
            assert!(s.samples.len() <= 5000 + 500 + 1000, "{}", s.samples.len());
            for p in &s.placements {
                assert!(p.start + p.len <= s.samples.len());
            }
        }
        assert_eq!(
            a.iter().filter(|s| s.kind == StreamKind::NoiseOnly).count(),
            2
        );
        let other = build_all(&kw, &unk, &noise, &StreamConfig { seed: 2, ..cfg }).unwrap();
        assert_ne!(a, other);
    }

    #[test]
    fn matching_counts_hits_and_false_alarms() {
        let p = vec![
            Placement {
                start: 1000,
                len: 1000,
                class: 0,
            },
            Placement {
                start: 5000,
                len: 1000,
                class: 1,
            },
        ];
        let ev = |class, t| Detection {
            keyword: String::new(),
            class,
            time_s: t,
            score: 1.0,
            frame: 0,
        };
        // Hit, duplicate (false alarm), wrong keyword (false alarm), late but in tolerance (hit).
        let m = match_detections(
            &[ev(0, 1.9), ev(0, 1.95), ev(0, 5.5), ev(1, 6.2)],
            &p,
            1000,
            0.25,
        );
        assert_eq!(m.hit, vec![true, true]);
        assert_eq!(m.false_alarms, 2);
        let m = match_detections(&[ev(1, 6.3)], &p, 1000, 0.25);
        assert_eq!(m.hit, vec![false, false]);
        assert_eq!(m.false_alarms, 1);
    }
}
