//! The fake-quant float simulation: the float GRU with quantize→dequantize at the same 17
//! points as the integer kernel, with the same scales, rounding (half away from zero),
//! saturation and LUT functions, but real-valued rescaling instead of integer multipliers.
//!
//! Each stage computes a real value from the dequantized inputs and quantizes it:
//! `q = clamp(round(v / s_out))`. It agrees with [`crate::kernel`] code for code except where
//! `v / s_out` lies within the multiplier approximation error (≈ 2^-31 relative) of a rounding
//! tie; the property tests measure that rate. Computed in f64 so that the float error stays far
//! below the multiplier error. QAT trains through the same function of the scales.
use crate::error::Result;
use crate::fixed::{qmax_signed, qmax_unsigned};
use crate::genome::{Gene, N_GENES};
use crate::quant::QuantGru;

fn q_signed(v: f64, s: f64, bits: u8) -> i32 {
    let q = qmax_signed(bits) as f64;
    (v / s).round().clamp(-q - 1.0, q) as i32
}

fn q_unsigned(v: f64, s: f64, bits: u8) -> i32 {
    (v / s).round().clamp(0.0, qmax_unsigned(bits) as f64) as i32
}

/// Fake-quant evaluation of a prepared model.
pub struct FakeQuant<'a> {
    q: &'a QuantGru,
    /// Dequantized weights of the six linear layers.
    w: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
}

impl<'a> FakeQuant<'a> {
    /// Builds the simulation from the prepared model's scales and codes.
    pub fn new(q: &'a QuantGru) -> Self {
        let w = q
            .lin
            .iter()
            .map(|l| l.w.iter().map(|&c| c as f64 * l.w_scale).collect())
            .collect();
        let b = q
            .lin
            .iter()
            .map(|l| {
                l.bias
                    .iter()
                    .map(|&c| c as f64 * l.w_scale * l.in_scale)
                    .collect()
            })
            .collect();
        FakeQuant { q, w, b }
    }

    /// Runs input codes `[T, I]`; calls `observe(t, codes_by_gene)` after every step and returns
    /// real-valued logits.
    pub fn run_observed(
        &self,
        x: &[i8],
        mut observe: impl FnMut(usize, &[Vec<i32>]),
    ) -> Result<Vec<f64>> {
        let q = self.q;
        let (i_sz, h_sz) = (q.input_size, q.hidden);
        crate::math::steps_of("input codes", x.len(), i_sz)?;
        let sc = |g: Gene| q.scales[g as usize];
        let bits = |g: Gene| q.genome.get(g);
        let s_h = sc(Gene::AddH);
        let mut h = vec![0i32; h_sz];
        let mut codes = vec![vec![0i32; h_sz]; N_GENES];
        let lin_out = |k: usize, input: &[f64], out: &mut [i32]| {
            let l = &q.lin[k];
            for (r, o) in out.iter_mut().enumerate() {
                let row = &self.w[k][r * l.cols..(r + 1) * l.cols];
                let v: f64 = row.iter().zip(input).map(|(a, b)| a * b).sum::<f64>() + self.b[k][r];
                *o = q_signed(v, l.out_scale, l.bits);
            }
        };
        for t in 0..x.len() / i_sz {
            let xt: Vec<f64> = x[t * i_sz..(t + 1) * i_sz]
                .iter()
                .map(|&c| c as f64)
                .collect();
            let hf: Vec<f64> = h.iter().map(|&c| c as f64 * s_h).collect();
            for k in 0..3 {
                lin_out(k, &xt, &mut codes[k]);
                lin_out(k + 3, &hf, &mut codes[k + 3]);
            }
            for j in 0..h_sz {
                let c = |g: Gene, codes: &Vec<Vec<i32>>| codes[g as usize][j] as f64 * sc(g);
                let ar = q_signed(
                    c(Gene::LinIr, &codes) + c(Gene::LinHr, &codes),
                    sc(Gene::AddR),
                    bits(Gene::AddR),
                );
                let az = q_signed(
                    c(Gene::LinIz, &codes) + c(Gene::LinHz, &codes),
                    sc(Gene::AddZ),
                    bits(Gene::AddZ),
                );
                let r = q_unsigned(
                    sigmoid(ar as f64 * sc(Gene::AddR)),
                    sc(Gene::SigR),
                    bits(Gene::SigR),
                );
                let z = q_unsigned(
                    sigmoid(az as f64 * sc(Gene::AddZ)),
                    sc(Gene::SigZ),
                    bits(Gene::SigZ),
                );
                let r_real = r as f64 * sc(Gene::SigR);
                let z_real = z as f64 * sc(Gene::SigZ);
                let mrh = q_signed(
                    r_real * c(Gene::LinHn, &codes),
                    sc(Gene::MulRh),
                    bits(Gene::MulRh),
                );
                let an = q_signed(
                    c(Gene::LinIn, &codes) + mrh as f64 * sc(Gene::MulRh),
                    sc(Gene::AddN),
                    bits(Gene::AddN),
                );
                let n = q_signed(
                    crate::math::tanh_f64(an as f64 * sc(Gene::AddN)),
                    sc(Gene::TanhN),
                    bits(Gene::TanhN),
                );
                let sz = q_unsigned(1.0 - z_real, sc(Gene::SubZ), bits(Gene::SubZ));
                let mzn = q_signed(
                    sz as f64 * sc(Gene::SubZ) * (n as f64 * sc(Gene::TanhN)),
                    sc(Gene::MulZn),
                    bits(Gene::MulZn),
                );
                let mzh = q_signed(
                    z_real * (h[j] as f64 * s_h),
                    sc(Gene::MulZh),
                    bits(Gene::MulZh),
                );
                let hn = q_signed(
                    mzn as f64 * sc(Gene::MulZn) + mzh as f64 * sc(Gene::MulZh),
                    s_h,
                    bits(Gene::AddH),
                );
                for (g, v) in [
                    (Gene::AddR, ar),
                    (Gene::AddZ, az),
                    (Gene::SigR, r),
                    (Gene::SigZ, z),
                    (Gene::MulRh, mrh),
                    (Gene::AddN, an),
                    (Gene::TanhN, n),
                    (Gene::SubZ, sz),
                    (Gene::MulZn, mzn),
                    (Gene::MulZh, mzh),
                    (Gene::AddH, hn),
                ] {
                    codes[g as usize][j] = v;
                }
            }
            h.copy_from_slice(&codes[Gene::AddH as usize]);
            observe(t, &codes);
        }
        let hs = h_sz;
        Ok((0..q.classes)
            .map(|c| {
                let acc: f64 = (0..hs)
                    .map(|j| q.head.w[c * hs + j] as f64 * q.head.w_scale * (h[j] as f64 * s_h))
                    .sum();
                acc + q.head.bias[c] as f64 * q.head.w_scale * s_h
            })
            .collect())
    }

    /// Real-valued logits.
    pub fn run(&self, x: &[i8]) -> Result<Vec<f64>> {
        self.run_observed(x, |_, _| {})
    }

    /// Predicted class (first maximum).
    pub fn predict(&self, x: &[i8]) -> Result<usize> {
        let l = self.run(x)?;
        let mut best = 0;
        for (i, v) in l.iter().enumerate() {
            if *v > l[best] {
                best = i;
            }
        }
        Ok(best)
    }
}

use crate::math::sigmoid_f64 as sigmoid;
