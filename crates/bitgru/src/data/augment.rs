//! Seeded waveform augmentation for keyword spotting: random time shift, background-noise mixing
//! at a random SNR, and silence clips cut from the noise recordings.
//!
//! # Keeping training noise and evaluation data apart
//!
//! [`split_noise`] cuts **each** background recording by time: the first `train_fraction`
//! (default 80 %) is the training part, the rest the held-out part. An [`Augmenter`] is built
//! from the training part only, so no sample that is mixed into training clips or cut into
//! generated training silence ever comes from the held-out part; evaluation-time noise (a
//! noisy-test robustness check, generated evaluation silence) must come from the held-out part.
//! A segment never straddles the cut.
//!
//! Caveat (data README): the distributed `_silence_` clips, including those in
//! `validation_list.txt`, are cuts of the same six recordings at unrecorded positions, so they
//! may overlap the training part. Validation `_silence_` accuracy is therefore slightly
//! optimistic when noise augmentation is on; the keyword classes are unaffected.
//!
//! # Determinism
//!
//! Every random choice draws from the `Rng` the caller passes. [`Augmenter::rng_for`] derives an
//! independent ChaCha8 stream per `(seed, epoch, index)`, so augmenting a data set in parallel
//! gives the same result as doing it sequentially.
use super::speech::NoiseRecording;
use crate::error::{check_finite, Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Default share of each noise recording used for training.
pub const DEFAULT_TRAIN_FRACTION: f64 = 0.8;

/// A set of noise signals (one part of each recording).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoiseBank {
    /// `(name, samples)` per recording part.
    pub parts: Vec<(String, Vec<f32>)>,
}

impl NoiseBank {
    /// Total samples.
    pub fn total_samples(&self) -> usize {
        self.parts.iter().map(|(_, s)| s.len()).sum()
    }

    /// A uniformly random segment of `len` samples: a recording part is picked uniformly among
    /// those at least `len` long, then a uniform offset within it.
    pub fn random_segment(&self, len: usize, rng: &mut impl Rng) -> Result<Vec<f32>> {
        let long: Vec<&Vec<f32>> = self
            .parts
            .iter()
            .map(|(_, s)| s)
            .filter(|s| s.len() >= len)
            .collect();
        if long.is_empty() {
            return Err(Error::invalid(
                "noise bank",
                format!("no recording part holds {len} samples"),
            ));
        }
        let part = long[rng.gen_range(0..long.len())];
        let start = rng.gen_range(0..=part.len() - len);
        Ok(part[start..start + len].to_vec())
    }
}

/// Splits every recording by time into `(training part, held-out part)` at
/// `⌊len · train_fraction⌋` (see the module doc). Recordings must share one sample rate.
pub fn split_noise(
    recordings: &[NoiseRecording],
    train_fraction: f64,
) -> Result<(NoiseBank, NoiseBank)> {
    if !(train_fraction > 0.0 && train_fraction < 1.0) {
        return Err(Error::invalid(
            "noise train fraction",
            format!("{train_fraction}, expected 0 < f < 1"),
        ));
    }
    let mut train = NoiseBank::default();
    let mut held_out = NoiseBank::default();
    for r in recordings {
        check_finite(&format!("noise recording {}", r.name), &r.clip.samples)?;
        if r.clip.sample_rate != recordings[0].clip.sample_rate {
            return Err(Error::invalid(
                format!("noise recording {} sample rate", r.name),
                format!(
                    "{} Hz, the first recording has {} Hz",
                    r.clip.sample_rate, recordings[0].clip.sample_rate
                ),
            ));
        }
        let cut = (r.clip.samples.len() as f64 * train_fraction).floor() as usize;
        train
            .parts
            .push((r.name.clone(), r.clip.samples[..cut].to_vec()));
        held_out
            .parts
            .push((r.name.clone(), r.clip.samples[cut..].to_vec()));
    }
    Ok((train, held_out))
}

/// Shifts by `shift` samples (positive: later, negative: earlier), zero fill, same length.
pub fn time_shift(samples: &[f32], shift: isize) -> Vec<f32> {
    let n = samples.len();
    let mut out = vec![0.0; n];
    let s = shift.unsigned_abs().min(n);
    if shift >= 0 {
        out[s..].copy_from_slice(&samples[..n - s]);
    } else {
        out[..n - s].copy_from_slice(&samples[s..]);
    }
    out
}

/// Mean power `Σ x² / n` (f64).
pub fn power(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / samples.len() as f64
}

/// `signal + g · noise` with `g` chosen so that `10·log10(P_signal / P_scaled_noise) = snr_db`
/// (powers over the whole clip), clamped to `[-1, 1]`. A silent signal (power 0) or silent noise
/// is returned unchanged: an SNR is undefined there.
pub fn mix_at_snr(signal: &[f32], noise: &[f32], snr_db: f64) -> Result<Vec<f32>> {
    if noise.len() != signal.len() {
        return Err(Error::length("noise segment", signal.len(), noise.len()));
    }
    let (ps, pn) = (power(signal), power(noise));
    if ps <= 0.0 || pn <= 0.0 {
        return Ok(signal.to_vec());
    }
    let gain = (ps / (pn * 10f64.powf(snr_db / 10.0))).sqrt();
    Ok(signal
        .iter()
        .zip(noise)
        .map(|(&s, &n)| (f64::from(s) + gain * f64::from(n)).clamp(-1.0, 1.0) as f32)
        .collect())
}

/// Augmentation parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Sample rate of clips and noise (Hz).
    pub sample_rate: u32,
    /// Largest time shift either way (ms); the shift is uniform over whole samples.
    pub max_shift_ms: f64,
    /// Probability that a clip gets background noise.
    pub noise_prob: f64,
    /// SNR range (dB), uniform.
    pub snr_db: (f64, f64),
    /// Gain range of generated silence clips (noise segment × gain), uniform.
    pub silence_gain: (f64, f64),
}

impl Default for AugmentConfig {
    /// ±100 ms shift, noise on 80 % of clips at 5–20 dB SNR, silence gain 0–1.
    fn default() -> Self {
        AugmentConfig {
            sample_rate: 16_000,
            max_shift_ms: 100.0,
            noise_prob: 0.8,
            snr_db: (5.0, 20.0),
            silence_gain: (0.0, 1.0),
        }
    }
}

impl AugmentConfig {
    /// Checks ranges and probabilities.
    pub fn validate(&self) -> Result<()> {
        let bad = |detail: String| Err(Error::invalid("AugmentConfig", detail));
        if self.sample_rate == 0 {
            return bad("sample_rate is 0".into());
        }
        if !(self.max_shift_ms >= 0.0 && self.max_shift_ms.is_finite()) {
            return bad(format!("max_shift_ms {} must be >= 0", self.max_shift_ms));
        }
        if !(0.0..=1.0).contains(&self.noise_prob) {
            return bad(format!("noise_prob {} must be in [0, 1]", self.noise_prob));
        }
        let (lo, hi) = self.snr_db;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return bad(format!("snr_db range ({lo}, {hi})"));
        }
        let (lo, hi) = self.silence_gain;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return bad(format!("silence_gain range ({lo}, {hi})"));
        }
        Ok(())
    }

    /// The largest shift in samples.
    pub fn max_shift_samples(&self) -> usize {
        (self.max_shift_ms * f64::from(self.sample_rate) / 1000.0).round() as usize
    }
}

fn uniform(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.gen_range(lo..hi)
    } else {
        lo
    }
}

/// Augments clips with the **training** noise (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Augmenter {
    config: AugmentConfig,
    noise: NoiseBank,
}

/// SplitMix64 finalizer (seed mixing).
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Augmenter {
    /// An augmenter over `training_noise` (the first part of [`split_noise`]); an empty bank
    /// disables noise mixing and silence generation errors.
    pub fn new(config: AugmentConfig, training_noise: NoiseBank) -> Result<Self> {
        config.validate()?;
        Ok(Augmenter {
            config,
            noise: training_noise,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AugmentConfig {
        &self.config
    }

    /// The independent, reproducible random stream of example `index` in `epoch`.
    pub fn rng_for(seed: u64, epoch: u64, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(seed ^ mix64(epoch)));
        rng.set_stream(index);
        rng
    }

    /// Random time shift (uniform in ±`max_shift`, zero fill), then, with probability
    /// `noise_prob`, a random training-noise segment at a uniform SNR in `snr_db`.
    pub fn augment(&self, clip: &[f32], rng: &mut impl Rng) -> Result<Vec<f32>> {
        let max = self.config.max_shift_samples() as isize;
        let shift = if max > 0 {
            rng.gen_range(-max..=max)
        } else {
            0
        };
        let shifted = time_shift(clip, shift);
        if self.noise.parts.is_empty() || !rng.gen_bool(self.config.noise_prob) {
            return Ok(shifted);
        }
        let noise = self.noise.random_segment(clip.len(), rng)?;
        let snr = uniform(rng, self.config.snr_db);
        mix_at_snr(&shifted, &noise, snr)
    }

    /// A generated `_silence_` clip: a random training-noise segment of `len` samples times a
    /// uniform gain in `silence_gain`, clamped to `[-1, 1]`.
    pub fn silence(&self, len: usize, rng: &mut impl Rng) -> Result<Vec<f32>> {
        let segment = self.noise.random_segment(len, rng)?;
        let gain = uniform(rng, self.config.silence_gain);
        Ok(segment
            .iter()
            .map(|&x| (f64::from(x) * gain).clamp(-1.0, 1.0) as f32)
            .collect())
    }
}

/// SpecAugment-style masking of a feature sequence `[steps, channels]`: `time_masks` blocks of
/// consecutive time steps and `freq_masks` blocks of consecutive channels are set to 0 (the
/// channel mean when the features are normalized, as in training). Each block's width is uniform
/// in `0..=max_*_width` and its start uniform over the positions where it fits. All zero = off
/// (then no random numbers are drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecAugment {
    pub time_masks: usize,
    pub max_time_width: usize,
    pub freq_masks: usize,
    pub max_freq_width: usize,
}

impl SpecAugment {
    /// True when no mask is applied.
    pub fn is_off(&self) -> bool {
        (self.time_masks == 0 || self.max_time_width == 0)
            && (self.freq_masks == 0 || self.max_freq_width == 0)
    }

    /// Checks that the widths fit a `[steps, channels]` sequence.
    pub fn validate(&self, steps: usize, channels: usize) -> Result<()> {
        if self.max_time_width > steps {
            return Err(Error::invalid(
                "SpecAugment max_time_width",
                format!("{}, the sequence has {steps} steps", self.max_time_width),
            ));
        }
        if self.max_freq_width > channels {
            return Err(Error::invalid(
                "SpecAugment max_freq_width",
                format!(
                    "{}, the sequence has {channels} channels",
                    self.max_freq_width
                ),
            ));
        }
        Ok(())
    }

    /// Masks `x` (`steps × channels`, row-major) in place.
    pub fn apply(
        &self,
        x: &mut [f32],
        steps: usize,
        channels: usize,
        rng: &mut impl Rng,
    ) -> Result<()> {
        if self.is_off() {
            return Ok(());
        }
        self.validate(steps, channels)?;
        if x.len() != steps * channels {
            return Err(Error::length(
                "SpecAugment sequence",
                steps * channels,
                x.len(),
            ));
        }
        if self.max_time_width > 0 {
            for _ in 0..self.time_masks {
                let (t0, w) = random_block(rng, self.max_time_width, steps);
                x[t0 * channels..(t0 + w) * channels].fill(0.0);
            }
        }
        if self.max_freq_width > 0 {
            for _ in 0..self.freq_masks {
                let (c0, w) = random_block(rng, self.max_freq_width, channels);
                for row in x.chunks_exact_mut(channels) {
                    row[c0..c0 + w].fill(0.0);
                }
            }
        }
        Ok(())
    }
}

/// `TIME_MASKS,MAX_TIME_WIDTH,FREQ_MASKS,MAX_FREQ_WIDTH`, e.g. `2,5,1,2`.
impl std::str::FromStr for SpecAugment {
    type Err = Error;
    fn from_str(s: &str) -> Result<SpecAugment> {
        let v: Vec<usize> = s
            .split(',')
            .map(|p| p.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::invalid("SpecAugment", format!("{s:?}: {e}")))?;
        match v[..] {
            [time_masks, max_time_width, freq_masks, max_freq_width] => Ok(SpecAugment {
                time_masks,
                max_time_width,
                freq_masks,
                max_freq_width,
            }),
            _ => Err(Error::invalid(
                "SpecAugment",
                format!(
                    "{s:?}: expected four comma-separated counts \
                     TIME_MASKS,MAX_TIME_WIDTH,FREQ_MASKS,MAX_FREQ_WIDTH (e.g. 2,5,1,2)"
                ),
            )),
        }
    }
}

impl std::fmt::Display for SpecAugment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.time_masks, self.max_time_width, self.freq_masks, self.max_freq_width
        )
    }
}

/// `(start, width)` of a block: width uniform in `0..=max`, start uniform where it fits in `dim`.
fn random_block(rng: &mut impl Rng, max: usize, dim: usize) -> (usize, usize) {
    let w = rng.gen_range(0..=max);
    (rng.gen_range(0..=dim - w), w)
}

/// Everything that shapes the keyword-spotting training stream (recorded in checkpoints and
/// model metadata): waveform augmentation, feature masking, and how many `_silence_` and
/// `_unknown_` examples an epoch holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KwsAugment {
    /// Time shift, background noise and generated-silence gain.
    pub waveform: AugmentConfig,
    /// Feature masking (off by default).
    pub spec: SpecAugment,
    /// Probability that a `_silence_` example is generated from training noise instead of
    /// using its clip.
    pub generated_silence: f64,
    /// Extra generated `_silence_` examples in every epoch, as a fraction of the training clips
    /// (0 = none).
    pub extra_silence: f64,
    /// kws4 only: `_unknown_` is capped at this multiple of the mean keyword count.
    pub unknown_cap: f64,
    /// Extra `_unknown_` examples in every epoch, as a fraction of the training clips (0 =
    /// none): 1 s windows across the boundary of two spoken clips laid end to end, holding the
    /// end of one word and the start of the next, as a streaming detector's window sees them
    /// between words ([`boundary_window`]).
    pub boundary_unknown: f64,
}

impl Default for KwsAugment {
    /// The augmentation of the first default models: [`AugmentConfig::default`], no masking,
    /// half of the `_silence_` examples generated, no extra silence, `_unknown_` capped at the
    /// mean keyword count.
    fn default() -> Self {
        KwsAugment {
            waveform: AugmentConfig::default(),
            spec: SpecAugment::default(),
            generated_silence: 0.5,
            extra_silence: 0.0,
            unknown_cap: 1.0,
            boundary_unknown: 0.0,
        }
    }
}

impl KwsAugment {
    /// Checks every range.
    pub fn validate(&self) -> Result<()> {
        self.waveform.validate()?;
        let bad = |detail: String| Err(Error::invalid("KwsAugment", detail));
        if !(0.0..=1.0).contains(&self.generated_silence) {
            return bad(format!(
                "generated_silence {} must be in [0, 1]",
                self.generated_silence
            ));
        }
        if !(self.extra_silence.is_finite() && (0.0..=10.0).contains(&self.extra_silence)) {
            return bad(format!(
                "extra_silence {} must be in [0, 10]",
                self.extra_silence
            ));
        }
        if !(self.unknown_cap.is_finite() && self.unknown_cap > 0.0) {
            return bad(format!("unknown_cap {} must be > 0", self.unknown_cap));
        }
        if !(self.boundary_unknown.is_finite() && (0.0..=10.0).contains(&self.boundary_unknown)) {
            return bad(format!(
                "boundary_unknown {} must be in [0, 10]",
                self.boundary_unknown
            ));
        }
        Ok(())
    }

    /// Extra boundary-window `_unknown_` examples for `clips` training clips.
    pub fn boundary_unknown_examples(&self, clips: usize) -> usize {
        (self.boundary_unknown * clips as f64).round() as usize
    }

    /// Extra generated `_silence_` examples for `clips` training clips.
    pub fn extra_silence_examples(&self, clips: usize) -> usize {
        (self.extra_silence * clips as f64).round() as usize
    }
}

/// Largest share of either word's energy a boundary window may hold (else it is drawn again).
pub const BOUNDARY_MAX_SHARE: f64 = 0.6;
/// Draws of the cut before a boundary window is taken as it is.
pub const BOUNDARY_DRAWS: usize = 8;

/// A window of `a.len()` samples across the boundary of clips `a` and `b` laid end to end: the
/// end of `a` from a cut uniform within ±10 % of the length around its middle, then the start
/// of `b`. The cut is drawn again (up to [`BOUNDARY_DRAWS`] times) while the window holds more
/// than [`BOUNDARY_MAX_SHARE`] of either clip's energy, so that neither word is (mostly) whole:
/// such windows are `_unknown_`, not the word. Returns the window and whether the last draw met
/// the bound.
pub fn boundary_window(a: &[f32], b: &[f32], rng: &mut impl Rng) -> Result<(Vec<f32>, bool)> {
    let n = a.len();
    if n == 0 || b.len() != n {
        return Err(Error::length("boundary window clip", n.max(1), b.len()));
    }
    let energy = |x: &[f32]| x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>();
    let (ea, eb) = (energy(a), energy(b));
    let spread = n / 10;
    let mut cut = n / 2;
    let mut ok = false;
    for _ in 0..BOUNDARY_DRAWS {
        cut = n / 2 - spread + rng.gen_range(0..=2 * spread);
        let share_a = if ea > 0.0 {
            energy(&a[cut..]) / ea
        } else {
            0.0
        };
        let share_b = if eb > 0.0 {
            energy(&b[..cut]) / eb
        } else {
            0.0
        };
        ok = share_a <= BOUNDARY_MAX_SHARE && share_b <= BOUNDARY_MAX_SHARE;
        if ok {
            break;
        }
    }
    let mut w = Vec::with_capacity(n);
    w.extend_from_slice(&a[cut..]);
    w.extend_from_slice(&b[..cut]);
    Ok((w, ok))
}
