//! Band-limited resampling by direct windowed-sinc interpolation.
//!
//! Output sample `n` sits at input time `t = n · from / to` (in input samples) and is
//!
//! ```text
//! y[n] = Σ_k x[k] · fc · sinc(fc · (t − k)) · w((t − k) / H),   sinc(u) = sin(πu) / (πu)
//! ```
//!
//! - cutoff `fc = ROLLOFF · min(1, to / from)` in units of the input Nyquist frequency, so the
//!   low-pass sits below the *lower* of the two Nyquist frequencies (anti-aliasing when
//!   downsampling, anti-imaging when upsampling); `ROLLOFF = 0.9`, i.e. 7.2 kHz for a 16 kHz
//!   output;
//! - `H = ZERO_CROSSINGS / fc` input samples (32 zero crossings of the sinc each side);
//! - window `w(u) = 0.42 + 0.5 cos(πu) + 0.08 cos(2πu)` (Blackman, ≈ −74 dB side lobes), zero for
//!   `|u| ≥ 1`;
//! - samples outside the input are zero (no reflection), output length `ceil(len · to / from)`.
//!
//! Computed in f64 without tables: `len_out × 2H` multiply-adds and sines, a few tens of
//! milliseconds for a second of 44.1 kHz audio. Not bit-exact with any other resampler; it is a
//! convenience for user audio (uploads, the microphone), never used on the Speech Commands clips,
//! which are already 16 kHz.
use std::f64::consts::PI;

/// Zero crossings of the sinc on each side of the kernel centre.
pub const ZERO_CROSSINGS: usize = 32;
/// Cutoff as a fraction of the lower Nyquist frequency.
pub const ROLLOFF: f64 = 0.9;

fn sinc(u: f64) -> f64 {
    if u.abs() < 1e-12 {
        1.0
    } else {
        (PI * u).sin() / (PI * u)
    }
}

fn blackman(u: f64) -> f64 {
    if u.abs() >= 1.0 {
        0.0
    } else {
        0.42 + 0.5 * (PI * u).cos() + 0.08 * (2.0 * PI * u).cos()
    }
}

/// Resamples `x` from `from` Hz to `to` Hz (see the module doc). Returns a copy when the rates
/// are equal; an empty input or a zero rate gives an empty output.
pub fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return x.to_vec();
    }
    if x.is_empty() || from == 0 || to == 0 {
        return Vec::new();
    }
    let out_len = (x.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    let fc = ROLLOFF * (f64::from(to) / f64::from(from)).min(1.0);
    let half = ZERO_CROSSINGS as f64 / fc;
    let last = x.len() as isize - 1;
    (0..out_len)
        .map(|n| {
            let t = n as f64 * step;
            let lo = ((t - half).ceil() as isize).max(0);
            let hi = ((t + half).floor() as isize).min(last);
            let mut acc = 0.0f64;
            for k in lo..=hi {
                let d = t - k as f64;
                acc += f64::from(x[k as usize]) * fc * sinc(fc * d) * blackman(d / half);
            }
            acc as f32
        })
        .collect()
}
