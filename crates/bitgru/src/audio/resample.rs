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
//! Computed in f64 without tables: `len_out × 2H` multiply-adds and sines (libm's, so native and
//! wasm builds give the same bits), a few tens of milliseconds for a second of 44.1 kHz audio.
//! Not bit-exact with any other resampler; it is a convenience for user audio (uploads, the
//! microphone), never used on the Speech Commands clips, which are already 16 kHz.
//!
//! [`StreamResampler`] is the same computation on chunks of any size: output sample `n` is
//! emitted once the input reaches `t + H`, and [`StreamResampler::finish`] emits the rest with the
//! zeros beyond the input, so the concatenated output equals [`resample`] on the whole input, bit
//! for bit.
use std::f64::consts::PI;

/// Zero crossings of the sinc on each side of the kernel centre.
pub const ZERO_CROSSINGS: usize = 32;
/// Cutoff as a fraction of the lower Nyquist frequency.
pub const ROLLOFF: f64 = 0.9;

fn sinc(u: f64) -> f64 {
    if u.abs() < 1e-12 {
        1.0
    } else {
        libm::sin(PI * u) / (PI * u)
    }
}

fn blackman(u: f64) -> f64 {
    if u.abs() >= 1.0 {
        0.0
    } else {
        0.42 + 0.5 * libm::cos(PI * u) + 0.08 * libm::cos(2.0 * PI * u)
    }
}

/// The kernel parameters `(step, fc, half)` of a rate pair.
fn params(from: u32, to: u32) -> (f64, f64, f64) {
    let step = f64::from(from) / f64::from(to);
    let fc = ROLLOFF * (f64::from(to) / f64::from(from)).min(1.0);
    (step, fc, ZERO_CROSSINGS as f64 / fc)
}

/// Output sample `n`: `x` holds input samples `first..first + x.len()`, `last` is the index of
/// the last input sample that exists (or will exist), every sample the kernel needs in
/// `[t − half, min(t + half, last)]` is in `x`.
fn sample_at(
    x: &[f32],
    first: usize,
    last: isize,
    n: usize,
    (step, fc, half): (f64, f64, f64),
) -> f32 {
    let t = n as f64 * step;
    let lo = ((t - half).ceil() as isize).max(0);
    let hi = ((t + half).floor() as isize).min(last);
    let mut acc = 0.0f64;
    for k in lo..=hi {
        let d = t - k as f64;
        acc += f64::from(x[k as usize - first]) * fc * sinc(fc * d) * blackman(d / half);
    }
    acc as f32
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
    let p = params(from, to);
    let last = x.len() as isize - 1;
    (0..out_len).map(|n| sample_at(x, 0, last, n, p)).collect()
}

/// [`resample`] on a stream (see the module doc): push chunks, get the output so far.
#[derive(Debug, Clone)]
pub struct StreamResampler {
    from: u32,
    to: u32,
    p: (f64, f64, f64),
    /// Input samples `first..first + buf.len()`.
    buf: Vec<f32>,
    first: usize,
    /// Input samples seen.
    seen: usize,
    /// Next output index.
    next: usize,
}

impl StreamResampler {
    /// A resampler from `from` Hz to `to` Hz (both must be positive).
    pub fn new(from: u32, to: u32) -> crate::error::Result<StreamResampler> {
        if from == 0 || to == 0 {
            return Err(crate::error::Error::invalid(
                "resampler rates",
                format!("{from} Hz → {to} Hz (both must be positive)"),
            ));
        }
        Ok(StreamResampler {
            from,
            to,
            p: params(from, to),
            buf: Vec::new(),
            first: 0,
            seen: 0,
            next: 0,
        })
    }

    /// `(from, to)` in Hz.
    pub fn rates(&self) -> (u32, u32) {
        (self.from, self.to)
    }

    /// Appends input and appends to `out` every output sample that no later input can change.
    pub fn push(&mut self, x: &[f32], out: &mut Vec<f32>) {
        if self.from == self.to {
            out.extend_from_slice(x);
            self.seen += x.len();
            return;
        }
        self.buf.extend_from_slice(x);
        self.seen += x.len();
        let (step, _, half) = self.p;
        // Sample n needs inputs up to floor(t + half): emit while that index exists.
        loop {
            let t = self.next as f64 * step;
            let need = (t + half).floor() as isize;
            if need >= self.seen as isize {
                break;
            }
            out.push(sample_at(&self.buf, self.first, need, self.next, self.p));
            self.next += 1;
        }
        self.trim();
    }

    /// Ends the stream: appends the remaining output (input beyond the end taken as zeros), so
    /// that everything emitted equals [`resample`] of the whole input. The resampler is then
    /// reset for a new stream.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.from != self.to && self.seen > 0 {
            let total =
                (self.seen as u64 * u64::from(self.to)).div_ceil(u64::from(self.from)) as usize;
            let last = self.seen as isize - 1;
            while self.next < total {
                out.push(sample_at(&self.buf, self.first, last, self.next, self.p));
                self.next += 1;
            }
        }
        self.reset();
    }

    /// Drops all input (a new stream).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.first = 0;
        self.seen = 0;
        self.next = 0;
    }

    /// Drops input no future output sample needs.
    fn trim(&mut self) {
        let (step, _, half) = self.p;
        let t = self.next as f64 * step;
        let lo = ((t - half).ceil() as isize).max(0) as usize;
        if lo > self.first + 4096 {
            let drop = (lo - self.first).min(self.buf.len());
            self.buf.drain(..drop);
            self.first += drop;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_equals_batch() {
        let x: Vec<f32> = (0..20_000)
            .map(|n| (n as f32 * 0.031).sin() * 0.5 + ((n * 7919 % 101) as f32 / 101.0 - 0.5) * 0.1)
            .collect();
        for (from, to) in [
            (48_000, 16_000),
            (44_100, 16_000),
            (8_000, 16_000),
            (16_000, 16_000),
        ] {
            let want = resample(&x, from, to);
            for chunk in [1usize, 128, 1000, 7777] {
                let mut r = StreamResampler::new(from, to).unwrap();
                let mut got = Vec::new();
                for c in x.chunks(chunk) {
                    r.push(c, &mut got);
                }
                r.finish(&mut got);
                assert_eq!(got.len(), want.len(), "{from}->{to} chunk {chunk}");
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{from}->{to} chunk {chunk}: streaming differs from batch"
                );
            }
        }
        assert!(StreamResampler::new(0, 16_000).is_err());
    }
}
