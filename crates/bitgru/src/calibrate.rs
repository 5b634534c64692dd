//! Post-training calibration: per-operator clipping ranges for every bit width.
//!
//! The float model runs once over a calibration set; for each signed operator output (the six
//! linear layers, the three gate sums, the new state and the three products) a histogram of
//! |value| is recorded, and for every bit width 2..=8 the clipping range with the minimum
//! quantization MSE is chosen (min/max scaling wastes most codes at 2–4 bits). Weights get the
//! same treatment. A genome only selects bit widths, so preparing it reads these tables: no data
//! pass, which is what makes the genetic search cheap.
//!
//! Input features get one 8-bit scale per channel (MFCC coefficients differ in range by orders
//! of magnitude); the scales are folded into the input weights at prepare time.
use crate::error::{Error, Result};
use crate::genome::{Gene, N_GENES};
use crate::model::{FloatGru, FloatScratch};
use serde::{Deserialize, Serialize};

/// Bit widths covered by the tables: index `b - MIN_BITS`.
pub const MIN_BITS: u8 = 2;
/// Largest bit width.
pub const MAX_BITS: u8 = 8;
const N_BITS: usize = (MAX_BITS - MIN_BITS + 1) as usize;
const N_BINS: usize = 2048;
const N_CANDIDATES: usize = 256;
/// Smallest clipping range ever used (keeps scales positive for dead operators).
pub const MIN_RANGE: f32 = 1e-6;
/// Bits of the input features and of the classifier weights (outside the genome).
pub const INPUT_BITS: u8 = 8;
/// Bits of the classifier weights.
pub const HEAD_BITS: u8 = 8;

/// Genes whose output range is measured (the others have fixed ranges: σ, tanh, 1 − z).
pub const CALIBRATED: [Gene; 13] = [
    Gene::LinIr,
    Gene::LinIz,
    Gene::LinIn,
    Gene::LinHr,
    Gene::LinHz,
    Gene::LinHn,
    Gene::AddR,
    Gene::AddZ,
    Gene::AddN,
    Gene::AddH,
    Gene::MulRh,
    Gene::MulZn,
    Gene::MulZh,
];

/// Per-operator clipping ranges for each bit width, plus per-channel input scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// 8-bit scale of each input channel (real = code · scale).
    pub input_scales: Vec<f32>,
    /// `act_ranges[gene][b - 2]`: clipping range of the gene's output at b bits (0 for genes
    /// with fixed ranges).
    pub act_ranges: Vec<[f32; N_BITS]>,
    /// `weight_ranges[linear][b - 2]` for the six linear layers (input weights after folding
    /// the input scales).
    pub weight_ranges: Vec<[f32; N_BITS]>,
    /// Clipping range of the 8-bit classifier weights.
    pub head_range: f32,
    /// How many sequences were used.
    pub n_sequences: usize,
    /// Method name, for provenance.
    pub method: String,
}

/// Histogram of |x| over [0, max].
struct AbsHistogram {
    max: f32,
    counts: Vec<u64>,
}

impl AbsHistogram {
    fn new(max: f32) -> Self {
        AbsHistogram {
            max: max.max(MIN_RANGE),
            counts: vec![0; N_BINS],
        }
    }
    fn add(&mut self, xs: &[f32]) {
        let k = N_BINS as f32 / self.max;
        for &x in xs {
            let b = ((x.abs() * k) as usize).min(N_BINS - 1);
            self.counts[b] += 1;
        }
    }
    /// Clipping range minimizing the MSE of a symmetric signed b-bit quantizer.
    fn best_clip(&self, bits: u8) -> f32 {
        best_clip(&self.counts, self.max as f64, bits, |v| v)
    }
}

/// Clipping range minimizing `Σ (f(v) − f(Q(v)))²` over the histogram of |v|. For a gate sum
/// feeding a σ or tanh table, `f` is that activation: the error that matters is the table's
/// output error, and range beyond saturation is wasted resolution. (Both σ and tanh satisfy
/// |f(v) − f(q)| = |f(−v) − f(−q)|, so a histogram of |v| suffices.)
fn best_clip(counts: &[u64], max: f64, bits: u8, f: impl Fn(f64) -> f64) -> f32 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return MIN_RANGE;
    }
    let qmax = ((1u32 << (bits - 1)) - 1) as f64;
    let width = max / counts.len() as f64;
    let mut best = (f64::INFINITY, max);
    for k in 1..=N_CANDIDATES {
        let clip = max * k as f64 / N_CANDIDATES as f64;
        let s = clip / qmax;
        let mut err = 0.0;
        for (i, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let v = (i as f64 + 0.5) * width;
            let q = (v / s).round().min(qmax) * s;
            let e = f(v) - f(q);
            err += c as f64 * e * e;
        }
        if err < best.0 {
            best = (err, clip);
        }
    }
    (best.1 as f32).max(MIN_RANGE)
}

fn clip_table(values: &[f32]) -> [f32; N_BITS] {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut h = AbsHistogram::new(max);
    h.add(values);
    let mut t = [0f32; N_BITS];
    for (k, slot) in t.iter_mut().enumerate() {
        *slot = h.best_clip(MIN_BITS + k as u8);
    }
    t
}

/// The input-folded weights of input linear `gate`: W'[r, c] = W[r, c] · s_x[c].
pub(crate) fn folded_input_weights(
    model: &FloatGru,
    gate: usize,
    input_scales: &[f32],
) -> Vec<f32> {
    let cols = model.input_size;
    model
        .w_i(gate)
        .iter()
        .enumerate()
        .map(|(k, w)| w * input_scales[k % cols])
        .collect()
}

impl Calibration {
    /// Calibrates `model` on `sequences` (each `[T, I]` row-major, any T).
    pub fn compute(model: &FloatGru, sequences: &[&[f32]]) -> Result<Calibration> {
        model.validate()?;
        if sequences.is_empty() {
            return Err(Error::invalid("calibration set", "no sequences"));
        }
        let i_sz = model.input_size;
        // Inputs: per-channel histograms.
        let mut in_max = vec![0f32; i_sz];
        for seq in sequences {
            model.steps_of(seq)?;
            crate::error::check_finite("calibration sequence", seq)?;
            for (k, x) in seq.iter().enumerate() {
                let c = k % i_sz;
                in_max[c] = in_max[c].max(x.abs());
            }
        }
        let mut in_hist: Vec<AbsHistogram> = in_max.iter().map(|&m| AbsHistogram::new(m)).collect();
        let mut col = vec![0f32; 0];
        for (c, h) in in_hist.iter_mut().enumerate() {
            col.clear();
            for seq in sequences {
                col.extend(seq.iter().skip(c).step_by(i_sz));
            }
            h.add(&col);
        }
        let input_scales: Vec<f32> = in_hist
            .iter()
            .map(|h| h.best_clip(INPUT_BITS) / ((1u32 << (INPUT_BITS - 1)) - 1) as f32)
            .collect();

        // Activations: pass 1 for the maxima, pass 2 for the histograms.
        let mut scratch = FloatScratch::default();
        let mut act_max = [0f32; N_GENES];
        for seq in sequences {
            model.forward_observed(seq, &mut scratch, |g, v| {
                act_max[g] = v.iter().fold(act_max[g], |m, x| m.max(x.abs()));
            })?;
        }
        let mut hists: Vec<AbsHistogram> = act_max.iter().map(|&m| AbsHistogram::new(m)).collect();
        for seq in sequences {
            model.forward_observed(seq, &mut scratch, |g, v| hists[g].add(v))?;
        }
        let mut act_ranges = vec![[0f32; N_BITS]; N_GENES];
        for g in CALIBRATED {
            let h = &hists[g as usize];
            for (k, slot) in act_ranges[g as usize].iter_mut().enumerate() {
                let bits = MIN_BITS + k as u8;
                *slot = match g {
                    Gene::AddR | Gene::AddZ => {
                        best_clip(&h.counts, h.max as f64, bits, crate::math::sigmoid_f64)
                    }
                    Gene::AddN => best_clip(&h.counts, h.max as f64, bits, crate::math::tanh_f64),
                    _ => h.best_clip(bits),
                };
            }
        }

        let mut weight_ranges = Vec::with_capacity(6);
        for gate in 0..3 {
            weight_ranges.push(clip_table(&folded_input_weights(
                model,
                gate,
                &input_scales,
            )));
        }
        for gate in 0..3 {
            weight_ranges.push(clip_table(model.w_h(gate)));
        }
        let head_range = clip_table(&model.w_fc)[(HEAD_BITS - MIN_BITS) as usize];
        Ok(Calibration {
            input_scales,
            act_ranges,
            weight_ranges,
            head_range,
            n_sequences: sequences.len(),
            method: "histogram-mse-v1".into(),
        })
    }

    /// Quantizes float features `[T, I]` to the kernel's 8-bit input codes. Every genome
    /// prepared from this calibration quantizes inputs identically, so a data set is quantized
    /// once, without preparing a model.
    pub fn quantize_input(&self, x: &[f32]) -> Result<Vec<i8>> {
        crate::quant::quantize_input_codes(&self.input_scales, x)
    }

    /// Checks the tables against a model's shape.
    pub fn validate(&self, model: &FloatGru) -> Result<()> {
        if self.input_scales.len() != model.input_size {
            return Err(Error::length(
                "calibration input scales",
                model.input_size,
                self.input_scales.len(),
            ));
        }
        if self.act_ranges.len() != N_GENES {
            return Err(Error::length(
                "calibration act_ranges",
                N_GENES,
                self.act_ranges.len(),
            ));
        }
        if self.weight_ranges.len() != 6 {
            return Err(Error::length(
                "calibration weight_ranges",
                6,
                self.weight_ranges.len(),
            ));
        }
        let all = self
            .input_scales
            .iter()
            .chain(self.weight_ranges.iter().flatten())
            .chain(std::iter::once(&self.head_range));
        for v in all {
            if !(v.is_finite() && *v > 0.0) {
                return Err(Error::invalid(
                    "calibration",
                    format!("non-positive or non-finite scale {v}"),
                ));
            }
        }
        for g in CALIBRATED {
            for v in &self.act_ranges[g as usize] {
                if !(v.is_finite() && *v > 0.0) {
                    return Err(Error::invalid(
                        "calibration",
                        format!("range of {} is {v}, expected finite and positive", g.name()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Clipping range of a calibrated gene at `bits`.
    pub fn act_range(&self, g: Gene, bits: u8) -> f32 {
        self.act_ranges[g as usize][(bits - MIN_BITS) as usize]
    }

    /// Clipping range of linear layer `k` (0..6 = ir, iz, in, hr, hz, hn) at `bits`.
    pub fn weight_range(&self, k: usize, bits: u8) -> f32 {
        self.weight_ranges[k][(bits - MIN_BITS) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_clip_shrinks_with_fewer_bits() {
        // Laplacian-like data: many small values, a few large ones.
        let mut v = Vec::new();
        for i in 0..10_000 {
            let u = (i as f32 + 0.5) / 10_000.0;
            v.push(-(1.0 - u).ln());
        }
        let t = clip_table(&v);
        let max = v.iter().cloned().fold(0f32, f32::max);
        assert!(
            t[0] < t[6],
            "2-bit clip {} should be below 8-bit clip {}",
            t[0],
            t[6]
        );
        assert!(t[0] < 0.5 * max);
        assert!(t[6] <= max * 1.0001);
    }

    #[test]
    fn uniform_data_clips_near_max_at_8_bits() {
        let v: Vec<f32> = (0..5000).map(|i| i as f32 / 5000.0).collect();
        let t = clip_table(&v);
        assert!(t[6] > 0.95, "{}", t[6]);
    }
}
