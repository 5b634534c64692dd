//! Prepare: float model + calibration + genome → integer model (scales, multipliers, shifts,
//! i32 biases, LUTs). Floats are used here, once per genome; the kernel in [`crate::kernel`]
//! uses integers only.
//!
//! Scheme (per tensor, symmetric): `q = clamp(round(x / s), −2^(b−1), 2^(b−1) − 1)`.
//! σ outputs and 1 − z are unsigned `[0, 2^b − 1]` with `s = 1/(2^b − 1)`; tanh outputs are
//! signed with `s = 1/(2^(b−1) − 1)`. A linear layer's bias is quantized to i32 at `s_w · s_in`
//! (clamped to ±2^30 so that accumulator + bias never overflows i32).
use crate::calibrate::{folded_input_weights, Calibration, HEAD_BITS, INPUT_BITS};
use crate::error::{Error, Result};
use crate::fixed::prepare::{quantize_dual, quantize_multiplier};
use crate::fixed::{qmax_signed, qmax_unsigned, DualMultiplier, Multiplier};
use crate::genome::{Gene, Genome, N_GENES};
use crate::model::FloatGru;
use serde::{Deserialize, Serialize};

/// Largest |bias| code; keeps `acc + bias` inside i32 for any supported layer.
pub const BIAS_LIMIT: i64 = 1 << 30;

/// An integer linear layer `y = requant(W q_in + bias)` at the gene's bits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QLinear {
    pub rows: usize,
    pub cols: usize,
    /// Row-major weight codes, within the gene's signed range.
    pub w: Vec<i8>,
    /// i32 bias at scale `w_scale · in_scale`.
    pub bias: Vec<i32>,
    /// Rescale from the accumulator (scale `w_scale · in_scale`) to the output scale.
    pub requant: Multiplier,
    /// Bits of weights and output.
    pub bits: u8,
    pub w_scale: f64,
    pub in_scale: f64,
    pub out_scale: f64,
}

/// The classifier head: 8-bit weights, i32 logits at scale `w_scale · s_h`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QHead {
    pub w: Vec<i8>,
    pub bias: Vec<i32>,
    pub w_scale: f64,
}

/// A GRU prepared for one genome: everything the integer kernel needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantGru {
    pub genome: Genome,
    pub input_size: usize,
    pub hidden: usize,
    pub classes: usize,
    /// Per-channel scales of the 8-bit input codes (folded into the input weights).
    pub input_scales: Vec<f32>,
    /// The six linear layers in gene order: ir, iz, in, hr, hz, hn.
    pub lin: Vec<QLinear>,
    pub add_r: DualMultiplier,
    pub add_z: DualMultiplier,
    pub add_n: DualMultiplier,
    pub add_h: DualMultiplier,
    /// Rescale of `(2^b_z − 1) − q_z` to gene 9's bits.
    pub sub_z: Multiplier,
    pub mul_rh: Multiplier,
    pub mul_zn: Multiplier,
    pub mul_zh: Multiplier,
    /// σ table for r, indexed by `add_r code + 2^(b_add_r − 1)`; unsigned codes.
    pub lut_r: Vec<u8>,
    /// σ table for z.
    pub lut_z: Vec<u8>,
    /// tanh table for n; signed codes in `[−(2^(b−1) − 1), 2^(b−1) − 1]`.
    pub lut_n: Vec<i8>,
    pub head: QHead,
    /// Output scale of every gene (real = code · scale).
    pub scales: [f64; N_GENES],
}

fn quantize_tensor(x: &[f32], scale: f64, bits: u8) -> Vec<i8> {
    let q = qmax_signed(bits) as f64;
    x.iter()
        .map(|&v| (v as f64 / scale).round().clamp(-q - 1.0, q) as i8)
        .collect()
}

fn quantize_bias(b: &[f32], scale: f64) -> Vec<i32> {
    b.iter()
        .map(|&v| ((v as f64 / scale).round() as i64).clamp(-BIAS_LIMIT, BIAS_LIMIT) as i32)
        .collect()
}

/// Signed scale for a clipping range at `bits`.
pub fn signed_scale(range: f32, bits: u8) -> f64 {
    range as f64 / qmax_signed(bits) as f64
}

/// Unsigned scale of a σ / 1 − z output at `bits`: `1 / (2^b − 1)`.
pub fn unsigned_unit_scale(bits: u8) -> f64 {
    1.0 / qmax_unsigned(bits) as f64
}

/// σ LUT entry: `round(σ(q · s_in) · (2^b_out − 1))`.
pub fn sigmoid_code(q: i32, s_in: f64, bits_out: u8) -> u8 {
    let v = crate::math::sigmoid_f64(q as f64 * s_in);
    (v * qmax_unsigned(bits_out) as f64).round() as u8
}

/// tanh LUT entry: `round(tanh(q · s_in) · (2^(b_out−1) − 1))`.
pub fn tanh_code(q: i32, s_in: f64, bits_out: u8) -> i8 {
    (crate::math::tanh_f64(q as f64 * s_in) * qmax_signed(bits_out) as f64).round() as i8
}

/// Builds a σ LUT over all signed input codes of `bits_in`.
fn sigmoid_lut(s_in: f64, bits_in: u8, bits_out: u8) -> Vec<u8> {
    let lo = -(1i32 << (bits_in - 1));
    (0..(1i32 << bits_in))
        .map(|k| sigmoid_code(lo + k, s_in, bits_out))
        .collect()
}

fn tanh_lut(s_in: f64, bits_in: u8, bits_out: u8) -> Vec<i8> {
    let lo = -(1i32 << (bits_in - 1));
    (0..(1i32 << bits_in))
        .map(|k| tanh_code(lo + k, s_in, bits_out))
        .collect()
}

impl QuantGru {
    /// Prepares the integer model for `genome`.
    pub fn prepare(model: &FloatGru, calib: &Calibration, genome: &Genome) -> Result<QuantGru> {
        model.validate()?;
        calib.validate(model)?;
        let g = |x: Gene| genome.get(x);
        let (i_sz, h_sz) = (model.input_size, model.hidden);

        // Output scales of every gene.
        let mut scales = [0f64; N_GENES];
        for gene in crate::calibrate::CALIBRATED {
            scales[gene as usize] = signed_scale(calib.act_range(gene, g(gene)), g(gene));
        }
        scales[Gene::SigR as usize] = unsigned_unit_scale(g(Gene::SigR));
        scales[Gene::SigZ as usize] = unsigned_unit_scale(g(Gene::SigZ));
        scales[Gene::SubZ as usize] = unsigned_unit_scale(g(Gene::SubZ));
        scales[Gene::TanhN as usize] = 1.0 / qmax_signed(g(Gene::TanhN)) as f64;
        let s = |x: Gene| scales[x as usize];
        let s_h = s(Gene::AddH);

        let mut lin = Vec::with_capacity(6);
        for k in 0..6 {
            let gene = Gene::ALL[k];
            let bits = g(gene);
            let gate = k % 3;
            let (weights, bias, cols, in_scale) = if k < 3 {
                (
                    folded_input_weights(model, gate, &calib.input_scales),
                    model.b_i(gate),
                    i_sz,
                    1.0,
                )
            } else {
                (model.w_h(gate).to_vec(), model.b_h(gate), h_sz, s_h)
            };
            let w_scale = signed_scale(calib.weight_range(k, bits), bits);
            let out_scale = s(gene);
            lin.push(QLinear {
                rows: h_sz,
                cols,
                w: quantize_tensor(&weights, w_scale, bits),
                bias: quantize_bias(bias, w_scale * in_scale),
                requant: quantize_multiplier(w_scale * in_scale / out_scale),
                bits,
                w_scale,
                in_scale,
                out_scale,
            });
        }
        let dual = |a: Gene, b: Gene, out: Gene| quantize_dual(s(a) / s(out), s(b) / s(out));
        let add_r = dual(Gene::LinIr, Gene::LinHr, Gene::AddR);
        let add_z = dual(Gene::LinIz, Gene::LinHz, Gene::AddZ);
        let add_n = dual(Gene::LinIn, Gene::MulRh, Gene::AddN);
        let add_h = dual(Gene::MulZn, Gene::MulZh, Gene::AddH);
        let sub_z = quantize_multiplier(s(Gene::SigZ) / s(Gene::SubZ));
        let mul_rh = quantize_multiplier(s(Gene::SigR) * s(Gene::LinHn) / s(Gene::MulRh));
        let mul_zn = quantize_multiplier(s(Gene::SubZ) * s(Gene::TanhN) / s(Gene::MulZn));
        let mul_zh = quantize_multiplier(s(Gene::SigZ) * s_h / s(Gene::MulZh));
        let lut_r = sigmoid_lut(s(Gene::AddR), g(Gene::AddR), g(Gene::SigR));
        let lut_z = sigmoid_lut(s(Gene::AddZ), g(Gene::AddZ), g(Gene::SigZ));
        let lut_n = tanh_lut(s(Gene::AddN), g(Gene::AddN), g(Gene::TanhN));

        let head_scale = signed_scale(calib.head_range, HEAD_BITS);
        let head = QHead {
            w: quantize_tensor(&model.w_fc, head_scale, HEAD_BITS),
            bias: quantize_bias(&model.b_fc, head_scale * s_h),
            w_scale: head_scale,
        };
        Ok(QuantGru {
            genome: *genome,
            input_size: i_sz,
            hidden: h_sz,
            classes: model.classes,
            input_scales: calib.input_scales.clone(),
            lin,
            add_r,
            add_z,
            add_n,
            add_h,
            sub_z,
            mul_rh,
            mul_zn,
            mul_zh,
            lut_r,
            lut_z,
            lut_n,
            head,
            scales,
        })
    }

    /// Quantizes float features `[T, I]` to the kernel's 8-bit input codes (front-end step,
    /// outside the integer kernel).
    /// The real value of one unit of an integer logit (`head w_scale · s_h`): multiply the
    /// kernel's i32 logits by it to compare them with the float model's.
    pub fn logit_scale(&self) -> f64 {
        self.head.w_scale * self.scales[Gene::AddH.index()]
    }

    pub fn quantize_input(&self, x: &[f32]) -> Result<Vec<i8>> {
        quantize_input_codes(&self.input_scales, x)
    }

    /// Checks internal consistency (shapes, code ranges, table sizes); used after import.
    pub fn validate(&self) -> Result<()> {
        let (i, h, c) = (self.input_size, self.hidden, self.classes);
        let bad = |what: &str, detail: String| Err(Error::invalid(what.to_string(), detail));
        if i == 0 || h == 0 || c == 0 {
            return bad("dimensions", format!("input {i}, hidden {h}, classes {c}"));
        }
        if self.input_scales.len() != i {
            return Err(Error::length("input_scales", i, self.input_scales.len()));
        }
        if self.lin.len() != 6 {
            return Err(Error::length("linear layers", 6, self.lin.len()));
        }
        for (k, l) in self.lin.iter().enumerate() {
            let cols = if k < 3 { i } else { h };
            let name = Gene::ALL[k].name();
            if l.rows != h || l.cols != cols {
                return Err(Error::Shape {
                    what: name.into(),
                    expected: vec![h, cols],
                    got: vec![l.rows, l.cols],
                });
            }
            if l.w.len() != h * cols {
                return Err(Error::length(
                    format!("{name} weights"),
                    h * cols,
                    l.w.len(),
                ));
            }
            if l.bias.len() != h {
                return Err(Error::length(format!("{name} bias"), h, l.bias.len()));
            }
            if l.bits != self.genome.get(Gene::ALL[k]) {
                return bad(
                    name,
                    format!(
                        "bits {} differ from the genome's {}",
                        l.bits,
                        self.genome.get(Gene::ALL[k])
                    ),
                );
            }
            let q = qmax_signed(l.bits);
            if let Some(p) =
                l.w.iter()
                    .position(|&w| (w as i32) < -q - 1 || w as i32 > q)
            {
                return bad(
                    name,
                    format!("weight code {} at {p} outside {}-bit range", l.w[p], l.bits),
                );
            }
            if let Some(p) = l.bias.iter().position(|&b| (b as i64).abs() > BIAS_LIMIT) {
                return bad(name, format!("bias code at {p} exceeds ±2^30"));
            }
        }
        let luts = [
            (self.lut_r.len(), Gene::AddR),
            (self.lut_z.len(), Gene::AddZ),
            (self.lut_n.len(), Gene::AddN),
        ];
        for (len, gene) in luts {
            let want = 1usize << self.genome.get(gene);
            if len != want {
                return Err(Error::length(
                    format!("LUT indexed by {}", gene.name()),
                    want,
                    len,
                ));
            }
        }
        let qr = qmax_unsigned(self.genome.get(Gene::SigR));
        let qz = qmax_unsigned(self.genome.get(Gene::SigZ));
        let qn = qmax_signed(self.genome.get(Gene::TanhN));
        if self.lut_r.iter().any(|&v| v as i32 > qr)
            || self.lut_z.iter().any(|&v| v as i32 > qz)
            || self.lut_n.iter().any(|&v| (v as i32).abs() > qn)
        {
            return bad("LUT", "an entry is outside its output range".into());
        }
        if self.head.w.len() != c * h {
            return Err(Error::length("head weights", c * h, self.head.w.len()));
        }
        if self.head.bias.len() != c {
            return Err(Error::length("head bias", c, self.head.bias.len()));
        }
        for m in [self.sub_z, self.mul_rh, self.mul_zn, self.mul_zh]
            .iter()
            .chain(self.lin.iter().map(|l| &l.requant))
        {
            if m.mult < 0 || m.shift > 62 {
                return bad("multiplier", format!("{m:?} out of range"));
            }
        }
        for d in [self.add_r, self.add_z, self.add_n, self.add_h] {
            if d.shift > 62
                || d.mult_a < 0
                || d.mult_b < 0
                || d.mult_a >= 1 << 40
                || d.mult_b >= 1 << 40
            {
                return bad("dual multiplier", format!("{d:?} out of range"));
            }
        }
        Ok(())
    }
}

/// Quantizes float features `[T, I]` to 8-bit input codes with per-channel `scales` (`I` of
/// them): the one input quantizer, shared by [`QuantGru::quantize_input`] and
/// [`crate::Calibration::quantize_input`] (input codes depend on the calibration only, never on
/// the genome).
pub fn quantize_input_codes(scales: &[f32], x: &[f32]) -> Result<Vec<i8>> {
    let input = scales.len();
    crate::math::steps_of("input sequence", x.len(), input)?;
    crate::error::check_finite("input sequence", x)?;
    let q = qmax_signed(INPUT_BITS) as f32;
    Ok(x.iter()
        .enumerate()
        .map(|(k, &v)| (v / scales[k % input]).round().clamp(-q - 1.0, q) as i8)
        .collect())
}
