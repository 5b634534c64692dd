//! Hand-written BPTT for the float GRU + head with softmax cross-entropy on the last step.
//!
//! Forward, time-major over a batch (B sequences of equal length T):
//! `GI = X·W_ihᵀ + b_ih` for all steps in one GEMM; per step `GH = H·W_hhᵀ + b_hh`, then the
//! gate equations of [`crate::model`]. Backward, with `δh` flowing from the loss at T:
//!
//! ```text
//! δn = δh ⊙ (1 − z)      δz = δh ⊙ (h_{t−1} − n)      δa_n = δn ⊙ (1 − n²)
//! δr = δa_n ⊙ gh_n       δa_r = δr ⊙ r(1 − r)         δa_z = δz ⊙ z(1 − z)
//! δGI = [δa_r, δa_z, δa_n]     δGH = [δa_r, δa_z, δa_n ⊙ r]
//! δW_hh += δGHᵀ H_{t−1}        δh_{t−1} = δh ⊙ z + δGH · W_hh
//! δW_ih = Σ_t δGI_tᵀ X_t  (one GEMM at the end)
//! ```
use super::gemm::gemm;
use crate::error::{Error, Result};
use crate::model::FloatGru;
use serde::{Deserialize, Serialize};

/// Gradients (or any tensor set) with the layout of [`FloatGru`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grads {
    pub w_ih: Vec<f32>,
    pub w_hh: Vec<f32>,
    pub b_ih: Vec<f32>,
    pub b_hh: Vec<f32>,
    pub w_fc: Vec<f32>,
    pub b_fc: Vec<f32>,
}

impl Grads {
    /// Zeros shaped like `m`.
    pub fn zeros_like(m: &FloatGru) -> Self {
        Grads {
            w_ih: vec![0.0; m.w_ih.len()],
            w_hh: vec![0.0; m.w_hh.len()],
            b_ih: vec![0.0; m.b_ih.len()],
            b_hh: vec![0.0; m.b_hh.len()],
            w_fc: vec![0.0; m.w_fc.len()],
            b_fc: vec![0.0; m.b_fc.len()],
        }
    }

    /// The tensors in a fixed order.
    pub fn tensors(&self) -> [&Vec<f32>; 6] {
        [
            &self.w_ih, &self.w_hh, &self.b_ih, &self.b_hh, &self.w_fc, &self.b_fc,
        ]
    }

    /// Mutable tensors in the same order.
    pub fn tensors_mut(&mut self) -> [&mut Vec<f32>; 6] {
        [
            &mut self.w_ih,
            &mut self.w_hh,
            &mut self.b_ih,
            &mut self.b_hh,
            &mut self.w_fc,
            &mut self.b_fc,
        ]
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Grads) {
        for (a, b) in self.tensors_mut().into_iter().zip(other.tensors()) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// `self *= s`.
    pub fn scale(&mut self, s: f32) {
        for a in self.tensors_mut() {
            a.iter_mut().for_each(|x| *x *= s);
        }
    }

    /// Global L2 norm.
    pub fn norm(&self) -> f32 {
        self.tensors()
            .iter()
            .flat_map(|t| t.iter())
            .map(|x| (*x as f64) * (*x as f64))
            .sum::<f64>()
            .sqrt() as f32
    }

    /// Sets every value to zero.
    pub fn clear(&mut self) {
        for a in self.tensors_mut() {
            a.iter_mut().for_each(|x| *x = 0.0);
        }
    }
}

/// Model tensors in the order of [`Grads::tensors`].
pub fn model_tensors(m: &FloatGru) -> [&Vec<f32>; 6] {
    [&m.w_ih, &m.w_hh, &m.b_ih, &m.b_hh, &m.w_fc, &m.b_fc]
}

/// [`model_tensors`], mutable.
pub fn model_tensors_mut(m: &mut FloatGru) -> [&mut Vec<f32>; 6] {
    [
        &mut m.w_ih,
        &mut m.w_hh,
        &mut m.b_ih,
        &mut m.b_hh,
        &mut m.w_fc,
        &mut m.b_fc,
    ]
}

/// Loss and accuracy counts of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchStats {
    /// Sum over samples of weight · cross-entropy.
    pub loss_sum: f64,
    /// Sum of sample weights.
    pub weight_sum: f64,
    pub correct: usize,
    pub n: usize,
}

impl BatchStats {
    pub fn merge(&mut self, o: &BatchStats) {
        self.loss_sum += o.loss_sum;
        self.weight_sum += o.weight_sum;
        self.correct += o.correct;
        self.n += o.n;
    }
    /// Weighted mean loss.
    pub fn loss(&self) -> f64 {
        if self.weight_sum > 0.0 {
            self.loss_sum / self.weight_sum
        } else {
            0.0
        }
    }
    pub fn accuracy(&self) -> f64 {
        if self.n > 0 {
            self.correct as f64 / self.n as f64
        } else {
            0.0
        }
    }
}

/// Adds the column sums of the rows (`[n, width]` row-major) to `acc` (a bias gradient).
pub(crate) fn add_row_sums(rows: &[f32], acc: &mut [f32]) {
    for row in rows.chunks_exact(acc.len()) {
        for (a, d) in acc.iter_mut().zip(row) {
            *a += d;
        }
    }
}

/// What the training loss is: softmax cross-entropy against the label, optionally weighted per
/// class (balancing) and with label smoothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loss<'a> {
    /// Per-class weight of a sample's loss (`None` = all 1).
    pub class_weights: Option<&'a [f32]>,
    /// Label smoothing ε in `[0, 1)`: the target is `(1 − ε)·onehot_y + ε/C` (0 = plain
    /// cross-entropy).
    pub label_smoothing: f32,
}

impl<'a> Loss<'a> {
    /// Cross-entropy weighted by `class_weights`, no smoothing.
    pub fn weighted(class_weights: Option<&'a [f32]>) -> Self {
        Loss {
            class_weights,
            label_smoothing: 0.0,
        }
    }
}

/// Checks a label-smoothing ε (finite, `0 ≤ ε < 1`).
pub fn check_label_smoothing(eps: f32) -> Result<()> {
    if eps.is_finite() && (0.0..1.0).contains(&eps) {
        Ok(())
    } else {
        Err(Error::invalid(
            "label smoothing",
            format!("{eps}, expected 0 <= ε < 1"),
        ))
    }
}

/// Softmax cross-entropy of a batch of logit rows (`[B, C]`), in place: returns the batch
/// statistics and leaves `δlogits = w_y (softmax − target_y) / norm` in `logits`, where
/// `target_y = (1 − ε)·onehot_y + ε/C` ([`Loss::label_smoothing`]). The loss of a sample is
/// `w_y · (−Σ_c target_c · log softmax_c)`.
pub(crate) fn softmax_cross_entropy(
    logits: &mut [f32],
    classes: usize,
    labels: &[usize],
    loss: Loss<'_>,
    norm: f32,
) -> Result<BatchStats> {
    check_label_smoothing(loss.label_smoothing)?;
    let mut stats = BatchStats {
        n: labels.len(),
        ..Default::default()
    };
    let eps = loss.label_smoothing;
    let off = eps / classes as f32;
    for (row, &y) in logits.chunks_exact_mut(classes).zip(labels) {
        if y >= classes {
            return Err(Error::invalid(
                "label",
                format!("{y} is not below the number of classes {classes}"),
            ));
        }
        let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let mut pred = 0;
        for (c, v) in row.iter().enumerate() {
            if *v > row[pred] {
                pred = c;
            }
        }
        stats.correct += (pred == y) as usize;
        let sum: f32 = row.iter().map(|v| libm::expf(v - max)).sum();
        let w = loss.class_weights.map_or(1.0, |cw| cw[y]);
        let lse = sum.ln() + max;
        let mut ce = lse - row[y];
        if eps > 0.0 {
            // −Σ_c target_c (x_c − lse) = lse − (1 − ε) x_y − ε/C Σ_c x_c.
            let mean: f32 = row.iter().sum::<f32>() / classes as f32;
            ce = lse - (1.0 - eps) * row[y] - eps * mean;
        }
        stats.loss_sum += (w * ce) as f64;
        stats.weight_sum += w as f64;
        for (c, v) in row.iter_mut().enumerate() {
            let p = libm::expf(*v - max) / sum;
            let target = if eps > 0.0 {
                off + if c == y { 1.0 - eps } else { 0.0 }
            } else {
                (c == y) as u8 as f32
            };
            *v = w * (p - target) / norm;
        }
    }
    Ok(stats)
}

/// Reusable buffers for [`batch_grad`].
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    x: Vec<f32>,
    gi: Vec<f32>,
    gh: Vec<f32>,
    r: Vec<f32>,
    z: Vec<f32>,
    n: Vec<f32>,
    ghn: Vec<f32>,
    h: Vec<f32>,
    dgi: Vec<f32>,
    dgh: Vec<f32>,
    dh: Vec<f32>,
    dh_prev: Vec<f32>,
    logits: Vec<f32>,
}

pub(crate) use crate::math::fast_tanh;
use crate::math::sigmoid;

/// Accumulates into `g` the gradient of `Σ_b w_b · CE(logits_b, y_b) / norm` and returns the
/// batch statistics. All sequences must have the same length. `loss` gives the per-class
/// weights `w` (balancing) and label smoothing; `tbptt` limits back-propagation to the last k steps; `norm` is the divisor of the
/// loss (the full mini-batch size when a batch is split into shards).
#[allow(clippy::too_many_arguments)]
pub fn batch_grad(
    m: &FloatGru,
    xs: &[&[f32]],
    labels: &[usize],
    loss: Loss<'_>,
    tbptt: Option<usize>,
    norm: f32,
    g: &mut Grads,
    ws: &mut Workspace,
) -> Result<BatchStats> {
    if xs.len() != labels.len() {
        return Err(Error::length("labels", xs.len(), labels.len()));
    }
    let b = xs.len();
    if b == 0 {
        return Ok(BatchStats::default());
    }
    let (i_sz, h_sz, c_sz) = (m.input_size, m.hidden, m.classes);
    let t_len = m.steps_of(xs[0])?;
    for (k, x) in xs.iter().enumerate() {
        if x.len() != t_len * i_sz {
            return Err(Error::length(
                format!("sequence {k} of the batch"),
                t_len * i_sz,
                x.len(),
            ));
        }
    }
    let h3 = 3 * h_sz;
    // X time-major [T, B, I].
    ws.x.resize(t_len * b * i_sz, 0.0);
    for (bi, x) in xs.iter().enumerate() {
        for t in 0..t_len {
            let dst = (t * b + bi) * i_sz;
            ws.x[dst..dst + i_sz].copy_from_slice(&x[t * i_sz..(t + 1) * i_sz]);
        }
    }
    // GI = X W_ihᵀ + b_ih for all steps.
    ws.gi.resize(t_len * b * h3, 0.0);
    for row in ws.gi.chunks_exact_mut(h3) {
        row.copy_from_slice(&m.b_ih);
    }
    gemm(
        t_len * b,
        i_sz,
        h3,
        1.0,
        &ws.x,
        false,
        &m.w_ih,
        true,
        1.0,
        &mut ws.gi,
    );
    let bh = b * h_sz;
    for v in [&mut ws.r, &mut ws.z, &mut ws.n, &mut ws.ghn] {
        v.resize(t_len * bh, 0.0);
    }
    ws.h.resize((t_len + 1) * bh, 0.0);
    ws.h[..bh].iter_mut().for_each(|v| *v = 0.0);
    ws.gh.resize(b * h3, 0.0);
    for t in 0..t_len {
        for row in ws.gh.chunks_exact_mut(h3) {
            row.copy_from_slice(&m.b_hh);
        }
        let (prev, next) = ws.h.split_at_mut((t + 1) * bh);
        let h_prev = &prev[t * bh..];
        gemm(
            b, h_sz, h3, 1.0, h_prev, false, &m.w_hh, true, 1.0, &mut ws.gh,
        );
        let h_new = &mut next[..bh];
        for bi in 0..b {
            let gi = &ws.gi[(t * b + bi) * h3..(t * b + bi + 1) * h3];
            let gh = &ws.gh[bi * h3..(bi + 1) * h3];
            for j in 0..h_sz {
                let k = t * bh + bi * h_sz + j;
                let r = sigmoid(gi[j] + gh[j]);
                let z = sigmoid(gi[h_sz + j] + gh[h_sz + j]);
                let ghn = gh[2 * h_sz + j];
                let n = fast_tanh(gi[2 * h_sz + j] + r * ghn);
                ws.r[k] = r;
                ws.z[k] = z;
                ws.n[k] = n;
                ws.ghn[k] = ghn;
                h_new[bi * h_sz + j] = (1.0 - z) * n + z * h_prev[bi * h_sz + j];
            }
        }
    }
    // Head and loss.
    let h_last = &ws.h[t_len * bh..];
    ws.logits.resize(b * c_sz, 0.0);
    for row in ws.logits.chunks_exact_mut(c_sz) {
        row.copy_from_slice(&m.b_fc);
    }
    gemm(
        b,
        h_sz,
        c_sz,
        1.0,
        h_last,
        false,
        &m.w_fc,
        true,
        1.0,
        &mut ws.logits,
    );
    let stats = softmax_cross_entropy(&mut ws.logits, c_sz, labels, loss, norm)?;
    let dlogits = &ws.logits;
    gemm(
        c_sz,
        b,
        h_sz,
        1.0,
        dlogits,
        true,
        h_last,
        false,
        1.0,
        &mut g.w_fc,
    );
    add_row_sums(dlogits, &mut g.b_fc);
    ws.dh.resize(bh, 0.0);
    gemm(
        b, c_sz, h_sz, 1.0, dlogits, false, &m.w_fc, false, 0.0, &mut ws.dh,
    );
    // Back through time.
    ws.dgi.resize(t_len * b * h3, 0.0);
    ws.dgi.iter_mut().for_each(|v| *v = 0.0);
    // δGH of every step, so that δW_hh = Σ_t δGH_tᵀ H_{t−1} is one large GEMM after the loop.
    ws.dgh.resize(t_len * b * h3, 0.0);
    ws.dgh.iter_mut().for_each(|v| *v = 0.0);
    ws.dh_prev.resize(bh, 0.0);
    let t_stop = tbptt.map_or(0, |k| t_len.saturating_sub(k));
    for t in (t_stop..t_len).rev() {
        let h_prev = &ws.h[t * bh..(t + 1) * bh];
        for bi in 0..b {
            for j in 0..h_sz {
                let k = t * bh + bi * h_sz + j;
                let (r, z, n, ghn) = (ws.r[k], ws.z[k], ws.n[k], ws.ghn[k]);
                let dh = ws.dh[bi * h_sz + j];
                let dn = dh * (1.0 - z);
                let dz = dh * (h_prev[bi * h_sz + j] - n);
                let dan = dn * (1.0 - n * n);
                let dar = dan * ghn * r * (1.0 - r);
                let daz = dz * z * (1.0 - z);
                let gi = (t * b + bi) * h3;
                ws.dgi[gi + j] = dar;
                ws.dgi[gi + h_sz + j] = daz;
                ws.dgi[gi + 2 * h_sz + j] = dan;
                let gh = (t * b + bi) * h3;
                ws.dgh[gh + j] = dar;
                ws.dgh[gh + h_sz + j] = daz;
                ws.dgh[gh + 2 * h_sz + j] = dan * r;
                ws.dh_prev[bi * h_sz + j] = dh * z;
            }
        }
        gemm(
            b,
            h3,
            h_sz,
            1.0,
            &ws.dgh[t * b * h3..(t + 1) * b * h3],
            false,
            &m.w_hh,
            false,
            1.0,
            &mut ws.dh_prev,
        );
        std::mem::swap(&mut ws.dh, &mut ws.dh_prev);
    }
    gemm(
        h3,
        t_len * b,
        h_sz,
        1.0,
        &ws.dgh,
        true,
        &ws.h[..t_len * bh],
        false,
        1.0,
        &mut g.w_hh,
    );
    add_row_sums(&ws.dgh, &mut g.b_hh);
    gemm(
        h3,
        t_len * b,
        i_sz,
        1.0,
        &ws.dgi,
        true,
        &ws.x,
        false,
        1.0,
        &mut g.w_ih,
    );
    add_row_sums(&ws.dgi, &mut g.b_ih);
    Ok(stats)
}
