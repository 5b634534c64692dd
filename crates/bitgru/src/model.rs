//! The float reference GRU with a linear classifier head, PyTorch `nn.GRU` semantics.
//!
//! For one layer with input x_t ∈ R^I, state h ∈ R^H, gate order (r, z, n) in the stacked
//! weights `w_ih` [3H, I] and `w_hh` [3H, H]:
//!
//! ```text
//! r_t = σ( W_ir x_t + b_ir  +  W_hr h_{t-1} + b_hr )
//! z_t = σ( W_iz x_t + b_iz  +  W_hz h_{t-1} + b_hz )
//! n_t = tanh( W_in x_t + b_in  +  r_t ⊙ (W_hn h_{t-1} + b_hn) )
//! h_t = (1 − z_t) ⊙ n_t  +  z_t ⊙ h_{t-1}          h_0 = 0
//! logits = W_fc h_T + b_fc
//! ```
use crate::error::{check_finite, Error, Result};
use crate::genome::N_GENES;
use serde::{Deserialize, Serialize};

/// Float GRU + classifier. Row-major tensors in PyTorch layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatGru {
    pub input_size: usize,
    pub hidden: usize,
    pub classes: usize,
    /// [3H, I], gate blocks r, z, n.
    pub w_ih: Vec<f32>,
    /// [3H, H], gate blocks r, z, n.
    pub w_hh: Vec<f32>,
    /// [3H]
    pub b_ih: Vec<f32>,
    /// [3H]
    pub b_hh: Vec<f32>,
    /// [C, H]
    pub w_fc: Vec<f32>,
    /// [C]
    pub b_fc: Vec<f32>,
}

pub(crate) use crate::math::sigmoid;

/// y[r] = b[r] + Σ_c W[r, c] x[c] for rows `rows` of a row-major matrix with `cols` columns.
#[inline]
pub(crate) fn matvec_f32(w: &[f32], cols: usize, x: &[f32], b: &[f32], y: &mut [f32]) {
    for (r, (yr, br)) in y.iter_mut().zip(b).enumerate() {
        let row = &w[r * cols..(r + 1) * cols];
        let mut acc = 0.0f32;
        for (a, v) in row.iter().zip(x) {
            acc += a * v;
        }
        *yr = acc + br;
    }
}

/// Scratch buffers for the float forward pass (owned by the caller, reused across calls).
#[derive(Debug, Clone, Default)]
pub struct FloatScratch {
    gi: Vec<f32>,
    gh: Vec<f32>,
    h: Vec<f32>,
    stage: Vec<Vec<f32>>,
}

impl FloatGru {
    /// Checks every shape and that all values are finite.
    pub fn validate(&self) -> Result<()> {
        let (i, h, c) = (self.input_size, self.hidden, self.classes);
        if i == 0 || h == 0 || c == 0 {
            return Err(Error::invalid(
                "model dimensions",
                format!("input {i}, hidden {h}, classes {c} must all be positive"),
            ));
        }
        let checks: [(&str, &[f32], Vec<usize>); 6] = [
            ("gru.weight_ih_l0", &self.w_ih, vec![3 * h, i]),
            ("gru.weight_hh_l0", &self.w_hh, vec![3 * h, h]),
            ("gru.bias_ih_l0", &self.b_ih, vec![3 * h]),
            ("gru.bias_hh_l0", &self.b_hh, vec![3 * h]),
            ("fc.weight", &self.w_fc, vec![c, h]),
            ("fc.bias", &self.b_fc, vec![c]),
        ];
        for (name, data, shape) in checks {
            let n: usize = shape.iter().product();
            if data.len() != n {
                return Err(Error::Length {
                    what: format!("{name} {shape:?}"),
                    expected: n,
                    got: data.len(),
                });
            }
            check_finite(name, data)?;
        }
        Ok(())
    }

    /// Number of time steps in a flat input sequence `[T, I]`.
    pub fn steps_of(&self, x: &[f32]) -> Result<usize> {
        crate::math::steps_of("input sequence", x.len(), self.input_size)
    }

    /// Runs the sequence `x` (`[T, I]` row-major) and returns the logits.
    pub fn forward(&self, x: &[f32]) -> Result<Vec<f32>> {
        let mut s = FloatScratch::default();
        self.forward_observed(x, &mut s, |_, _| {})
    }

    /// Predicted class of a sequence.
    pub fn predict(&self, x: &[f32]) -> Result<usize> {
        Ok(argmax_f32(&self.forward(x)?))
    }

    /// Final hidden state after every step (for tests against PyTorch): `[T][H]`.
    pub fn hidden_states(&self, x: &[f32]) -> Result<Vec<Vec<f32>>> {
        let mut s = FloatScratch::default();
        let mut out = Vec::new();
        self.forward_observed(x, &mut s, |g, v| {
            if g == crate::genome::Gene::AddH as usize {
                out.push(v.to_vec())
            }
        })?;
        Ok(out)
    }

    /// Forward pass that reports, after every step, the float value of every operator output
    /// (indexed by gene: linear outputs incl. bias, sums, products, activations, h_t).
    pub fn forward_observed(
        &self,
        x: &[f32],
        s: &mut FloatScratch,
        mut observe: impl FnMut(usize, &[f32]),
    ) -> Result<Vec<f32>> {
        let t_steps = self.steps_of(x)?;
        check_finite("input sequence", x)?;
        let i_sz = self.input_size;
        self.reset_scratch(s);
        for t in 0..t_steps {
            self.step_scratch(&x[t * i_sz..(t + 1) * i_sz], s);
            for (g, v) in s.stage.iter().enumerate() {
                observe(g, v);
            }
        }
        Ok(self.head_logits(&s.h))
    }

    /// One step from the state held in `s` (as left by [`FloatGru::reset_scratch`] or earlier
    /// steps): updates the state and every stage value. `x_t` must hold `input_size` values.
    fn step_scratch(&self, xt: &[f32], s: &mut FloatScratch) {
        let h_sz = self.hidden;
        let i_sz = self.input_size;
        matvec_f32(&self.w_ih, i_sz, xt, &self.b_ih, &mut s.gi);
        matvec_f32(&self.w_hh, h_sz, &s.h, &self.b_hh, &mut s.gh);
        for j in 0..h_sz {
            let (ir, iz, inn) = (s.gi[j], s.gi[h_sz + j], s.gi[2 * h_sz + j]);
            let (hr, hz, hn) = (s.gh[j], s.gh[h_sz + j], s.gh[2 * h_sz + j]);
            let add_r = ir + hr;
            let add_z = iz + hz;
            let r = sigmoid(add_r);
            let z = sigmoid(add_z);
            let mul_rh = r * hn;
            let add_n = inn + mul_rh;
            let n = crate::math::tanh(add_n);
            let sub_z = 1.0 - z;
            let mul_zn = sub_z * n;
            let mul_zh = z * s.h[j];
            let h_new = mul_zn + mul_zh;
            let vals = [
                ir, iz, inn, hr, hz, hn, add_r, add_z, add_n, sub_z, h_new, mul_rh, mul_zn, mul_zh,
                r, z, n,
            ];
            for (g, v) in vals.iter().enumerate() {
                s.stage[g][j] = *v;
            }
        }
        s.h.copy_from_slice(&s.stage[crate::genome::Gene::AddH as usize]);
    }

    /// Sizes `s` for this model and sets its state to zero (start of a stream).
    pub fn reset_scratch(&self, s: &mut FloatScratch) {
        let h_sz = self.hidden;
        s.gi.resize(3 * h_sz, 0.0);
        s.gh.resize(3 * h_sz, 0.0);
        s.h.clear();
        s.h.resize(h_sz, 0.0);
        s.stage.resize(N_GENES, Vec::new());
        for v in s.stage.iter_mut() {
            v.resize(h_sz, 0.0);
        }
    }

    /// One streaming step (live keyword spotting): `s` must come from
    /// [`FloatGru::reset_scratch`]; the result equals [`FloatGru::forward`] step for step.
    pub fn step_stream(&self, x_t: &[f32], s: &mut FloatScratch) -> Result<()> {
        if x_t.len() != self.input_size || s.h.len() != self.hidden {
            return Err(Error::length(
                "input of one step (and a scratch from reset_scratch)",
                self.input_size,
                x_t.len(),
            ));
        }
        check_finite("input step", x_t)?;
        self.step_scratch(x_t, s);
        Ok(())
    }

    /// The state of a streaming scratch (`[H]`).
    pub fn state<'a>(&self, s: &'a FloatScratch) -> &'a [f32] {
        &s.h
    }

    /// The state of a streaming scratch (`[H]`), mutable (the detector decays it).
    pub fn state_mut<'a>(&self, s: &'a mut FloatScratch) -> &'a mut [f32] {
        &mut s.h
    }

    /// Classifier logits of a state `[H]`.
    pub fn head_logits(&self, h: &[f32]) -> Vec<f32> {
        let mut logits = vec![0.0; self.classes];
        matvec_f32(&self.w_fc, self.hidden, h, &self.b_fc, &mut logits);
        logits
    }

    /// Number of float parameters.
    pub fn n_params(&self) -> usize {
        self.w_ih.len()
            + self.w_hh.len()
            + self.b_ih.len()
            + self.b_hh.len()
            + self.w_fc.len()
            + self.b_fc.len()
    }

    /// Rows `[gate*H, (gate+1)*H)` of `w_ih` (gate 0 = r, 1 = z, 2 = n).
    pub fn w_i(&self, gate: usize) -> &[f32] {
        let n = self.hidden * self.input_size;
        &self.w_ih[gate * n..(gate + 1) * n]
    }
    /// Rows of `w_hh` for one gate.
    pub fn w_h(&self, gate: usize) -> &[f32] {
        let n = self.hidden * self.hidden;
        &self.w_hh[gate * n..(gate + 1) * n]
    }
    /// Input bias of one gate.
    pub fn b_i(&self, gate: usize) -> &[f32] {
        &self.b_ih[gate * self.hidden..(gate + 1) * self.hidden]
    }
    /// Recurrent bias of one gate.
    pub fn b_h(&self, gate: usize) -> &[f32] {
        &self.b_hh[gate * self.hidden..(gate + 1) * self.hidden]
    }
}

/// Index of the largest value (first on ties): [`crate::math::argmax`], kept under this name.
pub fn argmax_f32(v: &[f32]) -> usize {
    crate::math::argmax(v)
}

/// Index of the largest value (first on ties): [`crate::math::argmax`], kept under this name.
pub fn argmax_i32(v: &[i32]) -> usize {
    crate::math::argmax(v)
}
