//! Quantization-aware training: the float GRU trained through the same 17 quantization points
//! as the integer kernel, with a straight-through estimator (STE).
//!
//! The forward pass uses exactly the scales that [`crate::quant::QuantGru::prepare`] derives
//! from a [`Calibration`] and a genome: quantized (folded) weights, 8-bit input codes, each
//! operator output quantized to its gene's bits, σ/tanh evaluated on quantized inputs and
//! quantized again. The backward pass treats every quantizer as the identity inside its
//! clipping range and as zero outside it (clipped STE); σ and tanh use their derivatives at the
//! dequantized input. Scales are re-calibrated once per epoch on the current weights (see
//! [`QatTrainer`]); the calibration of the last epoch is the one exported with the model, so the
//! prepared integer model is the one that was trained.
use super::gemm::gemm;
use super::grad::{add_row_sums, BatchStats, Grads};
use crate::calibrate::{Calibration, HEAD_BITS};
use crate::error::{Error, Result};
use crate::fixed::{qmax_signed, qmax_unsigned};
use crate::genome::{Gene, Genome};
use crate::model::FloatGru;
use crate::quant::{signed_scale, unsigned_unit_scale};

/// A signed fake quantizer `s · clamp(round(v / s), lo, hi)`.
#[derive(Debug, Clone, Copy)]
struct Fq {
    s: f32,
    lo: f32,
    hi: f32,
}

impl Fq {
    fn signed(s: f64, bits: u8) -> Fq {
        let q = qmax_signed(bits) as f32;
        Fq {
            s: s as f32,
            lo: -q - 1.0,
            hi: q,
        }
    }
    fn unsigned(bits: u8) -> Fq {
        Fq {
            s: unsigned_unit_scale(bits) as f32,
            lo: 0.0,
            hi: qmax_unsigned(bits) as f32,
        }
    }
    #[inline]
    fn q(self, v: f32) -> f32 {
        (v / self.s).round().clamp(self.lo, self.hi) * self.s
    }
    /// STE mask: 1 inside the clipping range.
    #[inline]
    fn pass(self, v: f32) -> f32 {
        let c = v / self.s;
        if c >= self.lo - 0.5 && c <= self.hi + 0.5 {
            1.0
        } else {
            0.0
        }
    }
}

/// Quantizers of one genome on one calibration.
#[derive(Debug, Clone)]
pub struct QatSpec {
    pub genome: Genome,
    input_scales: Vec<f32>,
    w: [Fq; 6],
    head: Fq,
    act: [Fq; 17],
}

impl QatSpec {
    /// The quantizers that `QuantGru::prepare(model, calib, genome)` would use.
    pub fn new(calib: &Calibration, genome: &Genome) -> QatSpec {
        let b = |g: Gene| genome.get(g);
        let mut act = [Fq {
            s: 1.0,
            lo: 0.0,
            hi: 0.0,
        }; 17];
        for g in crate::calibrate::CALIBRATED {
            act[g as usize] = Fq::signed(signed_scale(calib.act_range(g, b(g)), b(g)), b(g));
        }
        act[Gene::SigR as usize] = Fq::unsigned(b(Gene::SigR));
        act[Gene::SigZ as usize] = Fq::unsigned(b(Gene::SigZ));
        act[Gene::SubZ as usize] = Fq::unsigned(b(Gene::SubZ));
        act[Gene::TanhN as usize] =
            Fq::signed(1.0 / qmax_signed(b(Gene::TanhN)) as f64, b(Gene::TanhN));
        let w = std::array::from_fn(|k| {
            let bits = b(Gene::ALL[k]);
            Fq::signed(signed_scale(calib.weight_range(k, bits), bits), bits)
        });
        QatSpec {
            genome: *genome,
            input_scales: calib.input_scales.clone(),
            w,
            head: Fq::signed(signed_scale(calib.head_range, HEAD_BITS), HEAD_BITS),
            act,
        }
    }
    fn a(&self, g: Gene) -> Fq {
        self.act[g as usize]
    }
}

/// Buffers for [`qat_batch_grad`].
#[derive(Debug, Default, Clone)]
pub struct QatWorkspace {
    x: Vec<f32>,
    wi: Vec<f32>,
    wh: Vec<f32>,
    wfc: Vec<f32>,
    bi: Vec<f32>,
    bh: Vec<f32>,
    bfc: Vec<f32>,
    gi: Vec<f32>,
    gh_all: Vec<f32>,
    /// Pre-quantization values per step: add_r, add_z, add_n, mul_rh, mul_zn, mul_zh, h.
    pre: Vec<Vec<f32>>,
    h: Vec<f32>,
    dgi: Vec<f32>,
    dgh: Vec<f32>,
    dh: Vec<f32>,
    dh_prev: Vec<f32>,
    logits: Vec<f32>,
}

const P_AR: usize = 0;
const P_AZ: usize = 1;
const P_AN: usize = 2;
const P_MRH: usize = 3;
const P_MZN: usize = 4;
const P_MZH: usize = 5;
const P_H: usize = 6;

use crate::math::sigmoid;

/// Quantizes `w` block-wise (three gate blocks of `block` values), returns dequantized values.
fn fq_blocks(w: &[f32], block: usize, q: &[Fq], scale_col: Option<(&[f32], usize)>) -> Vec<f32> {
    w.iter()
        .enumerate()
        .map(|(k, &v)| {
            let v = match scale_col {
                Some((s, cols)) => v * s[k % cols],
                None => v,
            };
            q[k / block].q(v)
        })
        .collect()
}

/// Gradient of the fake-quant model's loss (see the module doc), accumulated into `g` for the
/// **float** parameters. Returns batch statistics of the fake-quant model.
#[allow(clippy::too_many_arguments)]
pub fn qat_batch_grad(
    m: &FloatGru,
    spec: &QatSpec,
    xs: &[&[f32]],
    labels: &[usize],
    loss: super::grad::Loss<'_>,
    norm: f32,
    g: &mut Grads,
    ws: &mut QatWorkspace,
) -> Result<BatchStats> {
    let b = xs.len();
    if b != labels.len() {
        return Err(Error::length("labels", b, labels.len()));
    }
    if b == 0 {
        return Ok(BatchStats::default());
    }
    let (i_sz, h_sz, c_sz) = (m.input_size, m.hidden, m.classes);
    if spec.input_scales.len() != i_sz {
        return Err(Error::length(
            "QAT input scales",
            i_sz,
            spec.input_scales.len(),
        ));
    }
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
    let bh = b * h_sz;
    let s_h = spec.a(Gene::AddH).s;
    // Quantized parameters (input weights folded with the per-channel input scales).
    let wq_i = [spec.w[0], spec.w[1], spec.w[2]];
    let wq_h = [spec.w[3], spec.w[4], spec.w[5]];
    ws.wi = fq_blocks(
        &m.w_ih,
        h_sz * i_sz,
        &wq_i,
        Some((&spec.input_scales, i_sz)),
    );
    ws.wh = fq_blocks(&m.w_hh, h_sz * h_sz, &wq_h, None);
    ws.wfc = m.w_fc.iter().map(|&v| spec.head.q(v)).collect();
    // Biases at s_w·s_in (32-bit: rounding only).
    ws.bi = m
        .b_ih
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let s = wq_i[k / h_sz].s;
            (v / s).round() * s
        })
        .collect();
    ws.bh = m
        .b_hh
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let s = wq_h[k / h_sz].s * s_h;
            (v / s).round() * s
        })
        .collect();
    ws.bfc = m
        .b_fc
        .iter()
        .map(|&v| {
            let s = spec.head.s * s_h;
            (v / s).round() * s
        })
        .collect();
    // Input codes (as f32), time-major.
    let q8 = qmax_signed(8) as f32;
    ws.x.resize(t_len * b * i_sz, 0.0);
    for (bi, x) in xs.iter().enumerate() {
        for t in 0..t_len {
            for c in 0..i_sz {
                let v = x[t * i_sz + c];
                ws.x[(t * b + bi) * i_sz + c] =
                    (v / spec.input_scales[c]).round().clamp(-q8 - 1.0, q8);
            }
        }
    }
    // GI (pre-quantization) for all steps.
    ws.gi.resize(t_len * b * h3, 0.0);
    for row in ws.gi.chunks_exact_mut(h3) {
        row.copy_from_slice(&ws.bi);
    }
    gemm(
        t_len * b,
        i_sz,
        h3,
        1.0,
        &ws.x,
        false,
        &ws.wi,
        true,
        1.0,
        &mut ws.gi,
    );
    ws.gh_all.resize(t_len * b * h3, 0.0);
    ws.pre.resize(7, Vec::new());
    for p in ws.pre.iter_mut() {
        p.resize(t_len * bh, 0.0);
    }
    ws.h.resize((t_len + 1) * bh, 0.0);
    ws.h[..bh].iter_mut().for_each(|v| *v = 0.0);
    let lin = |k: usize| spec.act[k];
    let (fq_ar, fq_az, fq_an) = (spec.a(Gene::AddR), spec.a(Gene::AddZ), spec.a(Gene::AddN));
    let (fq_r, fq_z, fq_n, fq_sz) = (
        spec.a(Gene::SigR),
        spec.a(Gene::SigZ),
        spec.a(Gene::TanhN),
        spec.a(Gene::SubZ),
    );
    let (fq_mrh, fq_mzn, fq_mzh, fq_h) = (
        spec.a(Gene::MulRh),
        spec.a(Gene::MulZn),
        spec.a(Gene::MulZh),
        spec.a(Gene::AddH),
    );
    for t in 0..t_len {
        let gh = &mut ws.gh_all[t * b * h3..(t + 1) * b * h3];
        for row in gh.chunks_exact_mut(h3) {
            row.copy_from_slice(&ws.bh);
        }
        let (prev, next) = ws.h.split_at_mut((t + 1) * bh);
        let h_prev = &prev[t * bh..];
        gemm(b, h_sz, h3, 1.0, h_prev, false, &ws.wh, true, 1.0, gh);
        for bi in 0..b {
            let gi = &ws.gi[(t * b + bi) * h3..(t * b + bi + 1) * h3];
            let ghr = &gh[bi * h3..(bi + 1) * h3];
            for j in 0..h_sz {
                let k = t * bh + bi * h_sz + j;
                let (ir, iz, inn) = (
                    lin(0).q(gi[j]),
                    lin(1).q(gi[h_sz + j]),
                    lin(2).q(gi[2 * h_sz + j]),
                );
                let (hr, hz, hn) = (
                    lin(3).q(ghr[j]),
                    lin(4).q(ghr[h_sz + j]),
                    lin(5).q(ghr[2 * h_sz + j]),
                );
                let ar = ir + hr;
                let az = iz + hz;
                let r = fq_r.q(sigmoid(fq_ar.q(ar)));
                let z = fq_z.q(sigmoid(fq_az.q(az)));
                let mrh = r * hn;
                let an = inn + fq_mrh.q(mrh);
                let n = fq_n.q(fq_an.q(an).tanh());
                let sz = fq_sz.q(1.0 - z);
                let mzn = sz * n;
                let mzh = z * h_prev[bi * h_sz + j];
                let hv = fq_mzn.q(mzn) + fq_mzh.q(mzh);
                ws.pre[P_AR][k] = ar;
                ws.pre[P_AZ][k] = az;
                ws.pre[P_AN][k] = an;
                ws.pre[P_MRH][k] = mrh;
                ws.pre[P_MZN][k] = mzn;
                ws.pre[P_MZH][k] = mzh;
                ws.pre[P_H][k] = hv;
                next[bi * h_sz + j] = fq_h.q(hv);
            }
        }
    }
    // Head and loss.
    let h_last = &ws.h[t_len * bh..];
    ws.logits.resize(b * c_sz, 0.0);
    for row in ws.logits.chunks_exact_mut(c_sz) {
        row.copy_from_slice(&ws.bfc);
    }
    gemm(
        b,
        h_sz,
        c_sz,
        1.0,
        h_last,
        false,
        &ws.wfc,
        true,
        1.0,
        &mut ws.logits,
    );
    let stats = super::grad::softmax_cross_entropy(&mut ws.logits, c_sz, labels, loss, norm)?;
    // Head gradients (STE through the weight quantizer).
    let mut dwfc = vec![0f32; c_sz * h_sz];
    gemm(
        c_sz, b, h_sz, 1.0, &ws.logits, true, h_last, false, 0.0, &mut dwfc,
    );
    for (k, d) in dwfc.iter().enumerate() {
        g.w_fc[k] += d * spec.head.pass(m.w_fc[k]);
    }
    add_row_sums(&ws.logits, &mut g.b_fc);
    ws.dh.resize(bh, 0.0);
    gemm(
        b, c_sz, h_sz, 1.0, &ws.logits, false, &ws.wfc, false, 0.0, &mut ws.dh,
    );
    ws.dgi.resize(t_len * b * h3, 0.0);
    ws.dgh.resize(b * h3, 0.0);
    ws.dh_prev.resize(bh, 0.0);
    let mut dwh = vec![0f32; h3 * h_sz];
    for t in (0..t_len).rev() {
        let h_prev = &ws.h[t * bh..(t + 1) * bh];
        let gh = &ws.gh_all[t * b * h3..(t + 1) * b * h3];
        for bi in 0..b {
            let gi = &ws.gi[(t * b + bi) * h3..(t * b + bi + 1) * h3];
            let ghr = &gh[bi * h3..(bi + 1) * h3];
            for j in 0..h_sz {
                let k = t * bh + bi * h_sz + j;
                let hp = h_prev[bi * h_sz + j];
                // Recompute the forward values of this unit.
                let hn = lin(5).q(ghr[2 * h_sz + j]);
                let (ar, az, an) = (ws.pre[P_AR][k], ws.pre[P_AZ][k], ws.pre[P_AN][k]);
                let (ar_q, az_q, an_q) = (fq_ar.q(ar), fq_az.q(az), fq_an.q(an));
                let (sr, sz_) = (sigmoid(ar_q), sigmoid(az_q));
                let r = fq_r.q(sr);
                let z = fq_z.q(sz_);
                let tn = an_q.tanh();
                let n = fq_n.q(tn);
                let subz = fq_sz.q(1.0 - z);
                // Backward.
                let dh = ws.dh[bi * h_sz + j] * fq_h.pass(ws.pre[P_H][k]);
                let dmzn = dh * fq_mzn.pass(ws.pre[P_MZN][k]);
                let dmzh = dh * fq_mzh.pass(ws.pre[P_MZH][k]);
                let dsubz = dmzn * n;
                let dn = dmzn * subz;
                let mut dz = dmzh * hp - dsubz;
                let dhp = dmzh * z;
                let dan = dn * (1.0 - tn * tn) * fq_an.pass(an);
                let dmrh = dan * fq_mrh.pass(ws.pre[P_MRH][k]);
                let dr = dmrh * hn;
                let dhn = dmrh * r;
                let dar = dr * sr * (1.0 - sr) * fq_ar.pass(ar);
                dz *= sz_ * (1.0 - sz_);
                let daz = dz * fq_az.pass(az);
                let gi_k = (t * b + bi) * h3;
                ws.dgi[gi_k + j] = dar * lin(0).pass(gi[j]);
                ws.dgi[gi_k + h_sz + j] = daz * lin(1).pass(gi[h_sz + j]);
                ws.dgi[gi_k + 2 * h_sz + j] = dan * lin(2).pass(gi[2 * h_sz + j]);
                let gh_k = bi * h3;
                ws.dgh[gh_k + j] = dar * lin(3).pass(ghr[j]);
                ws.dgh[gh_k + h_sz + j] = daz * lin(4).pass(ghr[h_sz + j]);
                ws.dgh[gh_k + 2 * h_sz + j] = dhn * lin(5).pass(ghr[2 * h_sz + j]);
                ws.dh_prev[bi * h_sz + j] = dhp;
            }
        }
        gemm(
            h3, b, h_sz, 1.0, &ws.dgh, true, h_prev, false, 1.0, &mut dwh,
        );
        add_row_sums(&ws.dgh, &mut g.b_hh);
        gemm(
            b,
            h3,
            h_sz,
            1.0,
            &ws.dgh,
            false,
            &ws.wh,
            false,
            1.0,
            &mut ws.dh_prev,
        );
        std::mem::swap(&mut ws.dh, &mut ws.dh_prev);
    }
    for (k, d) in dwh.iter().enumerate() {
        g.w_hh[k] += d * wq_h[k / (h_sz * h_sz)].pass(m.w_hh[k]);
    }
    let mut dwi = vec![0f32; h3 * i_sz];
    gemm(
        h3,
        t_len * b,
        i_sz,
        1.0,
        &ws.dgi,
        true,
        &ws.x,
        false,
        0.0,
        &mut dwi,
    );
    for (k, d) in dwi.iter().enumerate() {
        let s = spec.input_scales[k % i_sz];
        // W' = W·s_x: dL/dW = dL/dW' · s_x (STE through the quantizer of W').
        g.w_ih[k] += d * s * wq_i[k / (h_sz * i_sz)].pass(m.w_ih[k] * s);
    }
    add_row_sums(&ws.dgi, &mut g.b_ih);
    Ok(stats)
}
