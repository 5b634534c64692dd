//! The MFCC front end's real-input FFT, in f64, with no dependency.
//!
//! Why not `realfft`/`rustfft`: their planners carry every algorithm and butterfly (radix-4,
//! mixed radix, Rader, Bluestein, butterflies 2–32, each instantiated twice), about 160 KB of
//! wasm in the app's compute worker, which counts against the first-load budget (issue 8),
//! while the front end needs one transform size per model. This module is a plain
//! decimation-in-time radix-2 transform for power-of-two sizes and a direct DFT for any other
//! size; both are the same scalar f64 code natively and in wasm (the twiddles come from `libm`),
//! so the same input gives the same spectrum bits on every platform, where rustfft picked AVX
//! code natively and scalar code in wasm. (The MFCC pipeline around it still uses the platform's
//! `ln` and `cos`; its f32 rounding at the end is what makes native and wasm agree, see
//! [`super::mfcc`].)
//!
//! Accuracy: relative error of order `log2(n)·ε` (radix-2) or `n·ε` (direct DFT) against the
//! exact transform, far below the f32 rounding the MFCC pipeline applies at its end (module doc
//! of [`super::mfcc`]); tested against an exactly summed DFT below.
use std::f64::consts::PI;

/// A complex number (re, im) in f64.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct C64 {
    pub re: f64,
    pub im: f64,
}

impl C64 {
    #[inline(always)]
    fn new(re: f64, im: f64) -> C64 {
        C64 { re, im }
    }
    #[inline(always)]
    fn add(self, o: C64) -> C64 {
        C64::new(self.re + o.re, self.im + o.im)
    }
    #[inline(always)]
    fn sub(self, o: C64) -> C64 {
        C64::new(self.re - o.re, self.im - o.im)
    }
    #[inline(always)]
    fn mul(self, o: C64) -> C64 {
        C64::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
    #[inline(always)]
    fn conj(self) -> C64 {
        C64::new(self.re, -self.im)
    }
    /// `|z|²`.
    #[inline(always)]
    pub fn norm_sqr(self) -> f64 {
        self.re * self.re + self.im * self.im
    }
}

/// `exp(−2πi·k/n)`.
fn twiddle(k: usize, n: usize) -> C64 {
    let a = -2.0 * PI * k as f64 / n as f64;
    C64::new(libm::cos(a), libm::sin(a))
}

/// A forward real-to-complex FFT of one length `n ≥ 1`: `X[k] = Σ_j x[j]·exp(−2πi·jk/n)` for
/// `k = 0 ..= n/2`.
#[derive(Debug, Clone)]
pub struct RealFft {
    n: usize,
    plan: Plan,
}

#[derive(Debug, Clone)]
enum Plan {
    /// `n = 2m`, `m` a power of two: an `m`-point complex radix-2 FFT of the even/odd samples
    /// packed as `x[2j] + i·x[2j+1]`, then one split pass.
    Packed {
        /// `exp(−2πi·j/m)`, `j < m/2` (the radix-2 twiddles).
        half: Vec<C64>,
        /// `exp(−2πi·k/n)`, `k ≤ m` (the split pass).
        split: Vec<C64>,
        /// Bit-reversal permutation of `0..m`.
        rev: Vec<u32>,
    },
    /// Any other `n`: the direct DFT over `exp(−2πi·j/n)`, `j < n`.
    Direct { roots: Vec<C64> },
}

impl RealFft {
    /// A transform of `n ≥ 1` real samples.
    ///
    /// # Panics
    /// If `n == 0` (the MFCC config validates `n_fft ≥ win_length ≥ 1` first).
    pub fn new(n: usize) -> RealFft {
        assert!(n >= 1, "FFT length must be at least 1");
        let plan = if n.is_multiple_of(2) && (n / 2).is_power_of_two() {
            let m = n / 2;
            let bits = m.trailing_zeros();
            // (m = 1: a shift by 32 is `None`, and the only index is 0.)
            let rev = (0..m as u32)
                .map(|i| i.reverse_bits().checked_shr(32 - bits).unwrap_or(0))
                .collect();
            Plan::Packed {
                half: (0..m / 2).map(|j| twiddle(j, m)).collect(),
                split: (0..=m).map(|k| twiddle(k, n)).collect(),
                rev,
            }
        } else {
            Plan::Direct {
                roots: (0..n).map(|j| twiddle(j, n)).collect(),
            }
        };
        RealFft { n, plan }
    }

    /// Input length, `n`.
    pub fn input_len(&self) -> usize {
        self.n
    }

    /// Output length, `n/2 + 1`.
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    /// Scratch length for [`process`](Self::process).
    pub fn scratch_len(&self) -> usize {
        match self.plan {
            Plan::Packed { .. } => self.n / 2,
            Plan::Direct { .. } => 0,
        }
    }

    /// `out[k] = X[k]` for `k ≤ n/2`, with a caller-owned scratch of
    /// [`scratch_len`](Self::scratch_len) values. `input` is only read.
    ///
    /// # Panics
    /// If a buffer has the wrong length (a programming error).
    pub fn process(&self, input: &[f64], out: &mut [C64], scratch: &mut [C64]) {
        assert_eq!(input.len(), self.n, "FFT input length");
        assert_eq!(out.len(), self.bins(), "FFT output length");
        assert_eq!(scratch.len(), self.scratch_len(), "FFT scratch length");
        match &self.plan {
            Plan::Packed { half, split, rev } => {
                let m = self.n / 2;
                let z = scratch;
                for (j, &r) in rev.iter().enumerate() {
                    let r = r as usize;
                    z[j] = C64::new(input[2 * r], input[2 * r + 1]);
                }
                radix2(z, half);
                // X[k] = (Z[k] + conj Z[m−k])/2 − i·w^k·(Z[k] − conj Z[m−k])/2, Z[m] = Z[0].
                for k in 0..=m {
                    let a = z[k % m];
                    let b = z[(m - k) % m].conj();
                    let even = a.add(b);
                    let odd = a.sub(b);
                    // −i·w·odd
                    let t = split[k].mul(odd);
                    let rot = C64::new(t.im, -t.re);
                    out[k] = C64::new(0.5 * (even.re + rot.re), 0.5 * (even.im + rot.im));
                }
            }
            Plan::Direct { roots } => {
                let n = self.n;
                for (k, o) in out.iter_mut().enumerate() {
                    let mut acc = C64::default();
                    let mut idx = 0usize;
                    for &x in input {
                        let w = roots[idx];
                        acc = C64::new(acc.re + x * w.re, acc.im + x * w.im);
                        idx += k;
                        if idx >= n {
                            idx -= n;
                        }
                    }
                    *o = acc;
                }
            }
        }
    }
}

/// In-place iterative radix-2 FFT of `z` (already in bit-reversed order), `tw[j] = exp(−2πi·j/m)`.
fn radix2(z: &mut [C64], tw: &[C64]) {
    let m = z.len();
    let mut len = 2;
    while len <= m {
        let stride = m / len;
        let half = len / 2;
        for block in z.chunks_exact_mut(len) {
            let (lo, hi) = block.split_at_mut(half);
            for (j, (a, b)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                let t = tw[j * stride].mul(*b);
                let u = *a;
                *a = u.add(t);
                *b = u.sub(t);
            }
        }
        len *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact DFT up to f64 rounding of each term, summed in extended precision by
    /// compensated (Kahan–Babuška) summation with twiddles at full angle accuracy.
    fn reference(x: &[f64]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im, mut cre, mut cim) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
                for (j, &v) in x.iter().enumerate() {
                    let a = -2.0 * PI * ((j * k) % n) as f64 / n as f64;
                    for (s, c, term) in [
                        (&mut re, &mut cre, v * libm::cos(a)),
                        (&mut im, &mut cim, v * libm::sin(a)),
                    ] {
                        let t = *s + term;
                        if s.abs() >= term.abs() {
                            *c += (*s - t) + term;
                        } else {
                            *c += (term - t) + *s;
                        }
                        *s = t;
                    }
                }
                (re + cre, im + cim)
            })
            .collect()
    }

    fn signal(n: usize, seed: u64) -> Vec<f64> {
        // A deterministic mix of tones and a ramp, no RNG dependency.
        (0..n)
            .map(|j| {
                let t = j as f64;
                (0.3 * t + seed as f64).sin() + 0.5 * (1.7 * t).cos() + 1e-3 * t - 0.25
            })
            .collect()
    }

    #[test]
    fn matches_the_exact_dft_on_every_size_kind() {
        for n in [1, 2, 3, 4, 6, 8, 10, 16, 30, 64, 100, 256, 400, 512, 1024] {
            let fft = RealFft::new(n);
            let x = signal(n, n as u64);
            let mut out = vec![C64::default(); fft.bins()];
            let mut scratch = vec![C64::default(); fft.scratch_len()];
            fft.process(&x, &mut out, &mut scratch);
            let scale: f64 = x.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
            for (k, (o, r)) in out.iter().zip(reference(&x)).enumerate() {
                let err = (o.re - r.0).abs().max((o.im - r.1).abs());
                assert!(
                    err <= 1e-13 * scale,
                    "n {n}, bin {k}: {o:?} vs {r:?} (err {err:e})"
                );
            }
        }
    }

    #[test]
    fn the_packed_plan_is_taken_for_powers_of_two() {
        for (n, packed) in [
            (2, true),
            (1024, true),
            (512, true),
            (400, false),
            (3, false),
        ] {
            assert_eq!(
                matches!(RealFft::new(n).plan, Plan::Packed { .. }),
                packed,
                "n {n}"
            );
        }
    }

    #[test]
    fn an_impulse_gives_a_flat_spectrum_and_a_constant_a_single_dc_bin() {
        let fft = RealFft::new(1024);
        let mut out = vec![C64::default(); fft.bins()];
        let mut scratch = vec![C64::default(); fft.scratch_len()];
        let mut x = vec![0.0; 1024];
        x[0] = 1.0;
        fft.process(&x, &mut out, &mut scratch);
        assert!(
            out.iter().all(|c| c.re == 1.0 && c.im == 0.0),
            "{:?}",
            &out[..4]
        );
        let x = vec![2.0; 1024];
        fft.process(&x, &mut out, &mut scratch);
        assert_eq!(out[0], C64::new(2048.0, 0.0));
        assert!(out[1..].iter().all(|c| c.norm_sqr() < 1e-20));
    }
}
