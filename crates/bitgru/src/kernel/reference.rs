//! The reference integer-only GRU kernel: one sequence, one step at a time, every stage stored
//! (the observer sees all 17 codes). This is the truth every other variant is tested against.
//! No floating point at run time (enforced by
//! `#![deny(clippy::float_arithmetic)]` on this module; CI runs clippy with `-D warnings`).
//!
//! One step, with `q·` the codes of the prepared [`QuantGru`] (b_g = bits of gene g):
//!
//! ```text
//! lin_k  = sat_{b_k}( M_k · (W_k q_in + bias_k) )             k ∈ {ir, iz, in} (q_in = x_t),
//!                                                               k ∈ {hr, hz, hn} (q_in = h_{t-1})
//! add_r  = sat_{b6}( (A_r·lin_ir + B_r·lin_hr) >> s )          (one rounding)
//! r      = LUT_σ[add_r]        add_z, z likewise
//! mul_rh = sat_{b11}( M · r · lin_hn )
//! add_n  = sat_{b8}( (A_n·lin_in + B_n·mul_rh) >> s )
//! n      = LUT_tanh[add_n]
//! sub_z  = sat_{u,b9}( M · ((2^{b15} − 1) − z) )
//! mul_zn = sat_{b12}( M · sub_z · n )      mul_zh = sat_{b13}( M · z · h_{t-1} )
//! h_t    = sat_{b10}( (A_h·mul_zn + B_h·mul_zh) >> s )
//! logits = W_fc h_T + bias_fc  (i32)
//! ```
//! Every `M · x` is [`Multiplier::apply`](crate::fixed::Multiplier::apply): i64 product, one
//! rounding half away from zero.

use crate::error::Result;
use crate::fixed::{qmax_unsigned, sat_signed, sat_unsigned};
use crate::genome::{Gene, N_GENES};
use crate::quant::QuantGru;

/// Scratch buffers for the kernel, owned by the caller and reused across sequences.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    acc: Vec<i32>,
    /// Per-gene codes of the current step.
    codes: Vec<Vec<i32>>,
    h: Vec<i8>,
}

impl Scratch {
    /// Scratch sized for `q`.
    pub fn for_model(q: &QuantGru) -> Self {
        let mut s = Scratch::default();
        s.resize(q.hidden);
        s
    }
    fn resize(&mut self, h: usize) {
        self.acc.resize(h, 0);
        self.codes.resize(N_GENES, Vec::new());
        for c in &mut self.codes {
            c.resize(h, 0);
        }
        self.h.resize(h, 0);
    }
}

/// i32 dot product of i8 rows with i8 input codes. Products of two i8 fit in i16, so the
/// body is written as i16 multiplies summed into 16 i32 lanes, which LLVM turns into
/// multiply-add vector code (`pmaddwd` on x86, `i32x4.dot_i16x8_s` with wasm simd128).
#[inline]
pub(crate) fn dot_i8(w: &[i8], x: &[i8]) -> i32 {
    const L: usize = 16;
    let mut lanes = [0i32; L];
    let (wc, xc) = (w.chunks_exact(L), x.chunks_exact(L));
    let (wr, xr) = (wc.remainder(), xc.remainder());
    for (a, b) in wc.zip(xc) {
        for k in 0..L {
            lanes[k] += (a[k] as i16 * b[k] as i16) as i32;
        }
    }
    let mut acc: i32 = lanes.iter().sum();
    for (a, b) in wr.iter().zip(xr) {
        acc += (*a as i16 * *b as i16) as i32;
    }
    acc
}

#[inline]
fn linear(l: &crate::quant::QLinear, x: &[i8], out: &mut [i32]) {
    let cols = l.cols;
    for (r, o) in out.iter_mut().enumerate() {
        let acc = dot_i8(&l.w[r * cols..(r + 1) * cols], x) as i64 + l.bias[r] as i64;
        *o = sat_signed(l.requant.apply(acc), l.bits);
    }
}

impl QuantGru {
    fn check_codes(&self, x: &[i8]) -> Result<usize> {
        crate::math::steps_of("input codes", x.len(), self.input_size)
    }

    /// Runs one time step: updates `scratch`'s state from the input codes `x_t`.
    #[inline]
    pub fn step(&self, x_t: &[i8], s: &mut Scratch) {
        let g = self.genome;
        let h = self.hidden;
        let [ir, iz, inn, hr, hz, hn, add_r, add_z, add_n, sub_z, add_h, mul_rh, mul_zn, mul_zh, sig_r, sig_z, tanh_n] =
            &mut s.codes[..]
        else {
            unreachable!("scratch holds one buffer per gene")
        };
        linear(&self.lin[0], x_t, ir);
        linear(&self.lin[1], x_t, iz);
        linear(&self.lin[2], x_t, inn);
        linear(&self.lin[3], &s.h, hr);
        linear(&self.lin[4], &s.h, hz);
        linear(&self.lin[5], &s.h, hn);
        let (b_ar, b_az, b_an) = (g.get(Gene::AddR), g.get(Gene::AddZ), g.get(Gene::AddN));
        let (off_r, off_z, off_n) = (1i32 << (b_ar - 1), 1i32 << (b_az - 1), 1i32 << (b_an - 1));
        let b_h = g.get(Gene::AddH);
        let (b_mrh, b_mzn, b_mzh, b_subz) = (
            g.get(Gene::MulRh),
            g.get(Gene::MulZn),
            g.get(Gene::MulZh),
            g.get(Gene::SubZ),
        );
        let z_max = qmax_unsigned(g.get(Gene::SigZ)) as i64;
        for j in 0..h {
            let ar = sat_signed(self.add_r.apply(ir[j] as i64, hr[j] as i64), b_ar);
            let az = sat_signed(self.add_z.apply(iz[j] as i64, hz[j] as i64), b_az);
            let r = self.lut_r[(ar + off_r) as usize] as i32;
            let z = self.lut_z[(az + off_z) as usize] as i32;
            let mrh = sat_signed(self.mul_rh.apply(r as i64 * hn[j] as i64), b_mrh);
            let an = sat_signed(self.add_n.apply(inn[j] as i64, mrh as i64), b_an);
            let n = self.lut_n[(an + off_n) as usize] as i32;
            let sz = sat_unsigned(self.sub_z.apply(z_max - z as i64), b_subz);
            let mzn = sat_signed(self.mul_zn.apply(sz as i64 * n as i64), b_mzn);
            let mzh = sat_signed(self.mul_zh.apply(z as i64 * s.h[j] as i64), b_mzh);
            let hn_new = sat_signed(self.add_h.apply(mzn as i64, mzh as i64), b_h);
            add_r[j] = ar;
            add_z[j] = az;
            sig_r[j] = r;
            sig_z[j] = z;
            mul_rh[j] = mrh;
            add_n[j] = an;
            tanh_n[j] = n;
            sub_z[j] = sz;
            mul_zn[j] = mzn;
            mul_zh[j] = mzh;
            add_h[j] = hn_new;
        }
        for (hj, &c) in s.h.iter_mut().zip(add_h.iter()) {
            *hj = c as i8;
        }
    }

    /// Runs a whole sequence of input codes (`[T, I]`), calling `observe(t, codes_by_gene)`
    /// after every step, and returns the i32 logits.
    pub fn run_observed(
        &self,
        x: &[i8],
        s: &mut Scratch,
        mut observe: impl FnMut(usize, &[Vec<i32>]),
    ) -> Result<Vec<i32>> {
        let steps = self.check_codes(x)?;
        s.resize(self.hidden);
        s.h.iter_mut().for_each(|v| *v = 0);
        let i_sz = self.input_size;
        for t in 0..steps {
            self.step(&x[t * i_sz..(t + 1) * i_sz], s);
            observe(t, &s.codes);
        }
        Ok(self.head_logits(&s.h))
    }

    /// Runs a sequence of input codes and returns the i32 logits.
    pub fn run(&self, x: &[i8], s: &mut Scratch) -> Result<Vec<i32>> {
        self.run_observed(x, s, |_, _| {})
    }

    /// Predicted class of a sequence of input codes.
    pub fn predict(&self, x: &[i8], s: &mut Scratch) -> Result<usize> {
        Ok(crate::math::argmax(&self.run(x, s)?))
    }

    /// Classifier logits for a state of codes.
    pub fn head_logits(&self, h: &[i8]) -> Vec<i32> {
        let hs = self.hidden;
        (0..self.classes)
            .map(|c| dot_i8(&self.head.w[c * hs..(c + 1) * hs], h) + self.head.bias[c])
            .collect()
    }

    /// Current state codes in a scratch (after [`QuantGru::step`] calls).
    pub fn state<'a>(&self, s: &'a Scratch) -> &'a [i8] {
        &s.h
    }

    /// Resets the state in a scratch to zero (start of a new stream).
    pub fn reset(&self, s: &mut Scratch) {
        s.resize(self.hidden);
        s.h.iter_mut().for_each(|v| *v = 0);
    }
}
