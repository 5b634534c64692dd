//! MFCC features: one per-frame routine behind a batch and a streaming form.
//!
//! # The pipeline (every choice, [`MfccConfig::default`] values in brackets)
//!
//! 1. **Framing** [16 kHz, window 640 samples = 40 ms, hop 320 = 20 ms]: frame `t` covers samples
//!    `[t·hop, t·hop + win)`. No centering and no padding: only complete frames are computed,
//!    `frames = 1 + (len − win) / hop` (integer division; 0 when `len < win`), so a 1 s clip gives
//!    **49 frames**. Trailing samples that do not fill a frame are ignored.
//! 2. **Window**: periodic Hann, `w[n] = 0.5 − 0.5·cos(2πn / win)` (scipy `get_window('hann',
//!    win, fftbins=True)`, librosa's `'hann'`).
//! 3. **FFT** [n_fft = 1024, the next power of two ≥ 640]: the `win` windowed samples are
//!    zero-padded to `n_fft`; real-to-complex FFT ([`super::fft::RealFft`]), `n_fft/2 + 1` = 513 bins.
//! 4. **Power spectrum**: `|X_k|²`, no `1/n_fft` scaling, no pre-emphasis, no dithering.
//! 5. **Mel filterbank** [40 bands, 20–4000 Hz, as Hello Edge / TensorFlow's `mfcc` op]: HTK mel
//!    scale `m = 2595·log10(1 + f/700)`; `n_mels + 2` edge frequencies equally spaced in mel from
//!    `fmin` to `fmax`; filter `i` is the triangle rising from edge `i` to 1 at edge `i+1` and
//!    falling to edge `i+2`, evaluated at the bin frequencies `k·sr/n_fft`; peak weight 1, no
//!    area normalization. Identical to `librosa.filters.mel(htk=True, norm=None)`.
//! 6. **Log**: natural log with a floor, `ln(max(E, 1e-10))`. A band of digital silence gives
//!    `ln(1e-10) ≈ −23.0`; 16-bit quantization noise alone sits near −16.
//! 7. **DCT**: DCT-II, orthonormal (`scipy.fft.dct(type=2, norm='ortho')`), the first 10
//!    coefficients kept, `c0` included, no liftering.
//!
//! Arithmetic: samples come in as f32, everything from the window to the DCT runs in **f64**, and
//! the coefficients are rounded to f32 once at the end. The f32 output is then (up to rare
//! last-bit ties) the correctly rounded value of the exact pipeline, and the FFT is the same
//! scalar f64 code on every platform ([`super::fft`]; `rustfft` used to pick AVX code natively and
//! scalar code in wasm): native and wasm builds agree,
//! and so does the float64 Python reference (`scripts/make_mfcc_fixture.py`, librosa), to about
//! 1e-5 absolute (the f32 rounding of coefficients up to ~100 in magnitude).
//!
//! # Batch and streaming
//!
//! [`Mfcc::compute`] frames a whole buffer; [`MfccStream`] takes chunks of any size and emits
//! frames as soon as they are complete. Both call the same [`Mfcc::frame`] on the same samples,
//! so the concatenated stream output is bit-identical to the batch output.
//!
//! The plan, window, filterbank and DCT matrix are built once by [`Mfcc::new`]; [`Mfcc`] is
//! immutable (share it across threads), the per-call buffers live in an [`MfccScratch`].
use super::fft::{RealFft, C64};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// MFCC parameters. The defaults are DESIGN.md §6 (see the module doc for every choice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfccConfig {
    /// Sample rate of the input (Hz).
    pub sample_rate: u32,
    /// Window length in samples (40 ms at 16 kHz).
    pub win_length: usize,
    /// Hop between frames in samples (20 ms at 16 kHz).
    pub hop_length: usize,
    /// FFT size (≥ `win_length`; the window is zero-padded to it).
    pub n_fft: usize,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Number of cepstral coefficients kept (≤ `n_mels`, `c0` included).
    pub n_mfcc: usize,
    /// Lower edge of the filterbank (Hz).
    pub fmin: f64,
    /// Upper edge of the filterbank (Hz, ≤ `sample_rate / 2`).
    pub fmax: f64,
    /// Floor applied to mel energies before the natural log.
    pub log_floor: f64,
}

impl Default for MfccConfig {
    fn default() -> Self {
        MfccConfig {
            sample_rate: 16_000,
            win_length: 640,
            hop_length: 320,
            n_fft: 1024,
            n_mels: 40,
            n_mfcc: 10,
            fmin: 20.0,
            fmax: 4000.0,
            log_floor: 1e-10,
        }
    }
}

/// HTK mel scale: `2595 · log10(1 + f / 700)`.
pub fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

/// Inverse of [`hz_to_mel`].
pub fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

impl MfccConfig {
    /// Checks the parameters (including that no mel filter is empty).
    pub fn validate(&self) -> Result<()> {
        let bad = |detail: String| Err(Error::invalid("MfccConfig", detail));
        if self.sample_rate == 0 {
            return bad("sample_rate is 0".into());
        }
        if self.win_length == 0 || self.hop_length == 0 {
            return bad(format!(
                "win_length {} and hop_length {} must be positive",
                self.win_length, self.hop_length
            ));
        }
        if self.n_fft < self.win_length {
            return bad(format!(
                "n_fft {} is smaller than win_length {}",
                self.n_fft, self.win_length
            ));
        }
        if self.n_mels == 0 {
            return bad("n_mels 0: need at least 1 mel band".into());
        }
        if self.n_mfcc == 0 {
            return bad("n_mfcc 0: need at least 1 cepstral coefficient".into());
        }
        if self.n_mfcc > self.n_mels {
            return bad(format!(
                "n_mfcc {} is more than the {} mel bands: the DCT of {} bands has at most {} \
                 coefficients",
                self.n_mfcc, self.n_mels, self.n_mels, self.n_mels
            ));
        }
        let nyquist = f64::from(self.sample_rate) / 2.0;
        if !(self.fmin >= 0.0 && self.fmin < nyquist) {
            return bad(format!(
                "fmin {} Hz must be in [0, {nyquist}) Hz",
                self.fmin
            ));
        }
        if !(self.fmax > self.fmin && self.fmax <= nyquist) {
            return bad(format!(
                "fmax {} Hz: the filterbank's upper edge must be above its lower edge ({} Hz) \
                 and at most half the sample rate ({nyquist} Hz)",
                self.fmax, self.fmin
            ));
        }
        if !(self.log_floor > 0.0 && self.log_floor.is_finite()) {
            return bad(format!("log_floor {} must be positive", self.log_floor));
        }
        let bins = self.n_fft / 2 + 1;
        let fb = self.mel_filterbank();
        if let Some(i) =
            (0..self.n_mels).find(|&i| fb[i * bins..(i + 1) * bins].iter().all(|&w| w <= 0.0))
        {
            return bad(format!(
                "mel filter {i} covers no FFT bin (n_fft {} too small for {} bands in {}..{} Hz)",
                self.n_fft, self.n_mels, self.fmin, self.fmax
            ));
        }
        Ok(())
    }

    /// Number of complete frames in `n_samples` samples (no centering, no padding).
    pub fn frames(&self, n_samples: usize) -> usize {
        if n_samples < self.win_length || self.hop_length == 0 {
            0
        } else {
            1 + (n_samples - self.win_length) / self.hop_length
        }
    }

    /// Number of FFT bins, `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// The dense mel filterbank, `[n_mels × bins]` row-major (step 5 of the module doc).
    pub fn mel_filterbank(&self) -> Vec<f64> {
        let bins = self.bins();
        let (lo, hi) = (hz_to_mel(self.fmin), hz_to_mel(self.fmax));
        let n_edges = self.n_mels + 2;
        let edges: Vec<f64> = (0..n_edges)
            .map(|i| {
                if i + 1 == n_edges {
                    mel_to_hz(hi)
                } else {
                    mel_to_hz(lo + (hi - lo) * i as f64 / (n_edges - 1) as f64)
                }
            })
            .collect();
        let bin_hz = f64::from(self.sample_rate) / self.n_fft as f64;
        let mut fb = vec![0.0; self.n_mels * bins];
        for i in 0..self.n_mels {
            let (left, centre, right) = (edges[i], edges[i + 1], edges[i + 2]);
            for k in 0..bins {
                let f = k as f64 * bin_hz;
                let rise = (f - left) / (centre - left);
                let fall = (right - f) / (right - centre);
                fb[i * bins + k] = rise.min(fall).max(0.0);
            }
        }
        fb
    }

    /// The orthonormal DCT-II matrix, `[n_mfcc × n_mels]` row-major (step 7 of the module doc).
    pub fn dct_matrix(&self) -> Vec<f64> {
        let n = self.n_mels as f64;
        let mut d = Vec::with_capacity(self.n_mfcc * self.n_mels);
        for k in 0..self.n_mfcc {
            let s = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            for m in 0..self.n_mels {
                d.push(s * (PI * k as f64 * (2 * m + 1) as f64 / (2.0 * n)).cos());
            }
        }
        d
    }
}

/// One mel filter, stored sparsely: the weights of bins `start..start + weights.len()`.
#[derive(Debug, Clone)]
struct MelFilter {
    start: usize,
    weights: Vec<f64>,
}

/// Per-call buffers of [`Mfcc`] (FFT input, spectrum, FFT scratch, log-mel energies).
pub struct MfccScratch {
    frame: Vec<f64>,
    spectrum: Vec<C64>,
    fft: Vec<C64>,
    logmel: Vec<f64>,
}

impl std::fmt::Debug for MfccScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfccScratch")
            .field("n_fft", &self.frame.len())
            .finish()
    }
}

/// The MFCC extractor: FFT plan, window, filterbank and DCT precomputed (see the module doc).
#[derive(Clone)]
pub struct Mfcc {
    config: MfccConfig,
    fft: RealFft,
    window: Vec<f64>,
    filters: Vec<MelFilter>,
    dct: Vec<f64>,
}

impl std::fmt::Debug for Mfcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfcc")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for Mfcc {
    /// [`MfccConfig::default`] (DESIGN §6).
    fn default() -> Self {
        Mfcc::new(MfccConfig::default()).expect("the default MFCC config is valid")
    }
}

impl Mfcc {
    /// Validates `config` and precomputes the FFT plan, window, filterbank and DCT matrix.
    pub fn new(config: MfccConfig) -> Result<Self> {
        config.validate()?;
        let fft = RealFft::new(config.n_fft);
        let win = config.win_length;
        let window = (0..win)
            .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / win as f64).cos())
            .collect();
        let bins = config.bins();
        let dense = config.mel_filterbank();
        let filters = dense
            .chunks_exact(bins)
            .map(|row| {
                let start = row.iter().position(|&w| w > 0.0).unwrap_or(0);
                let end = row.iter().rposition(|&w| w > 0.0).map_or(start, |e| e + 1);
                MelFilter {
                    start,
                    weights: row[start..end].to_vec(),
                }
            })
            .collect();
        let dct = config.dct_matrix();
        Ok(Mfcc {
            config,
            fft,
            window,
            filters,
            dct,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MfccConfig {
        &self.config
    }

    /// Coefficients per frame.
    pub fn n_mfcc(&self) -> usize {
        self.config.n_mfcc
    }

    /// Number of frames [`compute`](Self::compute) returns for `n_samples` samples.
    pub fn frames(&self, n_samples: usize) -> usize {
        self.config.frames(n_samples)
    }

    /// Fresh per-call buffers.
    pub fn scratch(&self) -> MfccScratch {
        MfccScratch {
            frame: vec![0.0; self.fft.input_len()],
            spectrum: vec![C64::default(); self.fft.bins()],
            fft: vec![C64::default(); self.fft.scratch_len()],
            logmel: vec![0.0; self.config.n_mels],
        }
    }

    /// MFCCs of every complete frame of `samples`: `[frames × n_mfcc]` row-major.
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let mut scratch = self.scratch();
        let mut out = Vec::new();
        self.compute_into(samples, &mut scratch, &mut out);
        out
    }

    /// [`compute`](Self::compute) with caller-owned buffers; `out` is cleared and refilled.
    pub fn compute_into(&self, samples: &[f32], scratch: &mut MfccScratch, out: &mut Vec<f32>) {
        let (win, hop, c) = (
            self.config.win_length,
            self.config.hop_length,
            self.n_mfcc(),
        );
        let frames = self.frames(samples.len());
        out.clear();
        out.resize(frames * c, 0.0);
        for (t, row) in out.chunks_exact_mut(c).enumerate() {
            self.frame(&samples[t * hop..t * hop + win], scratch, row);
        }
    }

    /// The per-frame routine shared by the batch and streaming forms: `frame` holds exactly
    /// `win_length` samples, `out` receives `n_mfcc` coefficients.
    ///
    /// # Panics
    /// If `frame.len() != win_length`, `out.len() != n_mfcc` or `scratch` comes from an `Mfcc`
    /// with another configuration (programming errors, not data errors).
    pub fn frame(&self, frame: &[f32], scratch: &mut MfccScratch, out: &mut [f32]) {
        assert_eq!(frame.len(), self.config.win_length, "MFCC frame length");
        assert_eq!(out.len(), self.config.n_mfcc, "MFCC output length");
        // The window's samples, zero-padded to n_fft: the padding was zeroed by `scratch()` and
        // stays zero (the FFT only reads its input), so only the first `win_length` are written.
        for ((dst, &x), &w) in scratch.frame.iter_mut().zip(frame).zip(&self.window) {
            *dst = f64::from(x) * w;
        }
        self.fft
            .process(&scratch.frame, &mut scratch.spectrum, &mut scratch.fft);
        let floor = self.config.log_floor;
        for (filter, logmel) in self.filters.iter().zip(scratch.logmel.iter_mut()) {
            let bins = &scratch.spectrum[filter.start..filter.start + filter.weights.len()];
            let energy: f64 = filter
                .weights
                .iter()
                .zip(bins)
                .map(|(&w, x)| w * x.norm_sqr())
                .sum();
            // NaN propagates (a plain `max` would silently turn it into the floor).
            *logmel = if energy >= floor || energy.is_nan() {
                energy.ln()
            } else {
                floor.ln()
            };
        }
        let m = self.config.n_mels;
        for (k, o) in out.iter_mut().enumerate() {
            let row = &self.dct[k * m..(k + 1) * m];
            *o = row
                .iter()
                .zip(&scratch.logmel)
                .map(|(&d, &l)| d * l)
                .sum::<f64>() as f32;
        }
    }

    /// A streaming extractor with this configuration.
    pub fn stream(&self) -> MfccStream {
        MfccStream::new(self.clone())
    }
}

/// Streaming MFCC: push chunks of any size, pop frames as soon as they are complete. The
/// concatenation of everything popped equals [`Mfcc::compute`] on the concatenated input, bit for
/// bit (same per-frame routine, same samples).
#[derive(Debug)]
pub struct MfccStream {
    mfcc: Mfcc,
    scratch: MfccScratch,
    /// Pending samples; the next frame starts at `pos`.
    buf: Vec<f32>,
    pos: usize,
    emitted: u64,
}

impl MfccStream {
    /// A stream with the given extractor.
    pub fn new(mfcc: Mfcc) -> Self {
        let scratch = mfcc.scratch();
        MfccStream {
            mfcc,
            scratch,
            buf: Vec::new(),
            pos: 0,
            emitted: 0,
        }
    }

    /// The extractor.
    pub fn mfcc(&self) -> &Mfcc {
        &self.mfcc
    }

    /// Appends samples.
    pub fn push(&mut self, samples: &[f32]) {
        if self.pos > 0 {
            // Drop consumed samples (with hop > win, `pos` may point past the buffer: the
            // remainder is skipped from the new samples).
            let consumed = self.pos.min(self.buf.len());
            self.buf.drain(..consumed);
            self.pos -= consumed;
        }
        self.buf.extend_from_slice(samples);
    }

    /// Complete frames ready to pop.
    pub fn available(&self) -> usize {
        let pending = self.buf.len().saturating_sub(self.pos);
        self.mfcc.config.frames(pending)
    }

    /// Pops the next complete frame into `out` (`n_mfcc` values). `Ok(false)` when no frame is
    /// complete yet.
    pub fn pop_into(&mut self, out: &mut [f32]) -> Result<bool> {
        Ok(self.pop_with_power(out)?.is_some())
    }

    /// [`pop_into`](Self::pop_into) that also returns the frame's mean power `Σ x² / win` (f64,
    /// over the raw samples of the window; the streaming detector's energy gate). `Ok(None)` when
    /// no frame is complete yet.
    pub fn pop_with_power(&mut self, out: &mut [f32]) -> Result<Option<f64>> {
        if out.len() != self.mfcc.n_mfcc() {
            return Err(Error::length(
                "MFCC output frame",
                self.mfcc.n_mfcc(),
                out.len(),
            ));
        }
        let (win, hop) = (self.mfcc.config.win_length, self.mfcc.config.hop_length);
        if self.buf.len() < self.pos + win {
            return Ok(None);
        }
        let frame = &self.buf[self.pos..self.pos + win];
        let power = frame
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            / win as f64;
        self.mfcc.frame(frame, &mut self.scratch, out);
        self.pos += hop;
        self.emitted += 1;
        Ok(Some(power))
    }

    /// Pops the next complete frame, if any.
    pub fn pop(&mut self) -> Option<Vec<f32>> {
        let mut out = vec![0.0; self.mfcc.n_mfcc()];
        match self.pop_into(&mut out) {
            Ok(true) => Some(out),
            _ => None,
        }
    }

    /// Pops every complete frame, concatenated (`[frames × n_mfcc]`).
    pub fn pop_all(&mut self) -> Vec<f32> {
        let c = self.mfcc.n_mfcc();
        let n = self.available();
        let mut out = vec![0.0; n * c];
        for row in out.chunks_exact_mut(c) {
            let popped = self.pop_into(row);
            debug_assert!(matches!(popped, Ok(true)));
        }
        out
    }

    /// Frames popped since creation or the last [`reset`](Self::reset).
    pub fn frames_emitted(&self) -> u64 {
        self.emitted
    }

    /// Samples held back for the next frames.
    pub fn pending_samples(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Drops all pending samples and restarts the frame count (a new utterance).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.emitted = 0;
    }
}
