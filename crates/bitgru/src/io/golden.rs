//! Golden fixtures: a fixed prepared model, input codes, and the integer kernel's per-stage codes
//! and logits, frozen to JSON. Native tests and wasm tests check the same file, which proves
//! that the kernel is bit-exact across targets.
use crate::calibrate::Calibration;
use crate::fixed::{DualMultiplier, Multiplier};
use crate::genome::Genome;
use crate::kernel::Scratch;
use crate::quant::QuantGru;
use crate::synth::{random_model, random_sequences};
use serde::{Deserialize, Serialize};

/// How a golden case was made (all seeds recorded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenSpec {
    pub model_seed: u64,
    pub input: usize,
    pub hidden: usize,
    pub classes: usize,
    pub calib_seed: u64,
    pub calib_n: usize,
    pub input_seed: u64,
    pub n_sequences: usize,
    pub steps: usize,
    pub genome: Genome,
    /// A constructed tie case ([`make_ties`]): every multiplier is exactly ½, biases are
    /// small and the input codes lie in `[-3, 3]`, so that every requantizer rounds exact
    /// ties (`x·m` half-way between two codes) inside its range. Real calibrated models hit
    /// essentially none (their mantissas are ~2^30 and arbitrary).
    #[serde(default)]
    pub ties: bool,
}

/// One golden case: the prepared model and the expected kernel outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenCase {
    pub spec: GoldenSpec,
    pub model: QuantGru,
    /// Input codes `[seq][T·I]`.
    pub inputs: Vec<Vec<i8>>,
    /// Logits `[seq][C]`.
    pub logits: Vec<Vec<i32>>,
    /// Codes `[seq][t][gene][unit]`.
    pub stage_codes: Vec<Vec<Vec<Vec<i32>>>>,
}

/// A fixture file: several cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenFile {
    pub description: String,
    pub cases: Vec<GoldenCase>,
}

/// Prepares the model of a spec (float calibration at prepare time).
pub fn prepare_spec(spec: &GoldenSpec) -> crate::Result<QuantGru> {
    let m = random_model(spec.model_seed, spec.input, spec.hidden, spec.classes);
    let cal_seqs = random_sequences(spec.calib_seed, spec.calib_n, spec.steps, spec.input);
    let refs: Vec<&[f32]> = cal_seqs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs)?;
    let q = QuantGru::prepare(&m, &cal, &spec.genome)?;
    Ok(if spec.ties { make_ties(q) } else { q })
}

/// Multiplier ½ = `2^30 · 2^-31`: `x·½` is a tie for every odd `x`.
const HALF: Multiplier = Multiplier {
    mult: 1 << 30,
    shift: 31,
};

/// The tie construction of [`GoldenSpec::ties`]: every multiplier becomes ½ (the additions
/// `(a + b)/2`), every bias `bias mod 4` (kept inside the accumulator's reach of small inputs).
pub fn make_ties(mut q: QuantGru) -> QuantGru {
    for l in &mut q.lin {
        l.requant = HALF;
        for b in &mut l.bias {
            *b %= 4;
        }
    }
    let dual = DualMultiplier {
        mult_a: 1 << 30,
        mult_b: 1 << 30,
        shift: 31,
    };
    (q.add_r, q.add_z, q.add_n, q.add_h) = (dual, dual, dual, dual);
    (q.sub_z, q.mul_rh, q.mul_zn, q.mul_zh) = (HALF, HALF, HALF, HALF);
    q
}

/// Names of the 14 requantizers of [`tie_counts`], in its order.
pub const REQUANTIZERS: [&str; 14] = [
    "lin_ir", "lin_iz", "lin_in", "lin_hr", "lin_hz", "lin_hn", "add_r", "add_z", "add_n", "add_h",
    "sub_z", "mul_rh", "mul_zn", "mul_zh",
];

/// For every requantizer, how many of its roundings on `inputs` were exact ties whose rounded
/// value lies inside the output range (so that the tie rule decided a code): the pre-rounding
/// products are recomputed from the kernel's observed per-stage codes.
pub fn tie_counts(q: &QuantGru, inputs: &[Vec<i8>]) -> crate::Result<[u64; 14]> {
    use crate::fixed::{qmax_signed, qmax_unsigned, round_shift};
    use crate::genome::Gene;
    let g = q.genome;
    let signed = |gene: Gene| {
        let m = qmax_signed(g.get(gene)) as i64;
        (-m - 1, m)
    };
    let mut counts = [0u64; 14];
    let mut count = |k: usize, pre: i64, shift: u32, (lo, hi): (i64, i64)| {
        let tie = shift > 0 && pre.unsigned_abs() & ((1u64 << shift) - 1) == 1u64 << (shift - 1);
        let r = round_shift(pre, shift);
        if tie && (lo..=hi).contains(&r) {
            counts[k] += 1;
        }
    };
    let mut s = Scratch::for_model(q);
    let (h, i) = (q.hidden, q.input_size);
    let z_max = qmax_unsigned(g.get(Gene::SigZ)) as i64;
    for x in inputs {
        let mut prev = vec![0i64; h];
        let mut steps: Vec<Vec<Vec<i32>>> = Vec::new();
        q.run_observed(x, &mut s, |_, c| steps.push(c.to_vec()))?;
        for (t, c) in steps.iter().enumerate() {
            let xt = &x[t * i..(t + 1) * i];
            let v = |gene: Gene, j: usize| c[gene as usize][j] as i64;
            for j in 0..h {
                for (k, l) in q.lin.iter().enumerate() {
                    let row = &l.w[j * l.cols..(j + 1) * l.cols];
                    let acc: i64 = if k < 3 {
                        row.iter().zip(xt).map(|(&w, &a)| w as i64 * a as i64).sum()
                    } else {
                        row.iter().zip(&prev).map(|(&w, &a)| w as i64 * a).sum()
                    };
                    let pre = (acc + l.bias[j] as i64) * l.requant.mult as i64;
                    count(k, pre, l.requant.shift, signed(Gene::ALL[k]));
                }
                let dual = |d: DualMultiplier, a: i64, b: i64| a * d.mult_a + b * d.mult_b;
                let adds = [
                    (q.add_r, v(Gene::LinIr, j), v(Gene::LinHr, j), Gene::AddR),
                    (q.add_z, v(Gene::LinIz, j), v(Gene::LinHz, j), Gene::AddZ),
                    (q.add_n, v(Gene::LinIn, j), v(Gene::MulRh, j), Gene::AddN),
                    (q.add_h, v(Gene::MulZn, j), v(Gene::MulZh, j), Gene::AddH),
                ];
                for (k, (d, a, b, gene)) in adds.into_iter().enumerate() {
                    count(6 + k, dual(d, a, b), d.shift, signed(gene));
                }
                let sub_range = (0, qmax_unsigned(g.get(Gene::SubZ)) as i64);
                let muls = [
                    (q.sub_z, z_max - v(Gene::SigZ, j), sub_range),
                    (
                        q.mul_rh,
                        v(Gene::SigR, j) * v(Gene::LinHn, j),
                        signed(Gene::MulRh),
                    ),
                    (
                        q.mul_zn,
                        v(Gene::SubZ, j) * v(Gene::TanhN, j),
                        signed(Gene::MulZn),
                    ),
                    (q.mul_zh, v(Gene::SigZ, j) * prev[j], signed(Gene::MulZh)),
                ];
                for (k, (m, x, range)) in muls.into_iter().enumerate() {
                    count(10 + k, x * m.mult as i64, m.shift, range);
                }
            }
            prev = (0..h).map(|j| v(Gene::AddH, j)).collect();
        }
    }
    Ok(counts)
}

/// Runs the kernel on every input of a prepared model: (logits, stage codes).
#[allow(clippy::type_complexity)]
pub fn run_kernel(
    q: &QuantGru,
    inputs: &[Vec<i8>],
) -> crate::Result<(Vec<Vec<i32>>, Vec<Vec<Vec<Vec<i32>>>>)> {
    let mut s = Scratch::for_model(q);
    let mut logits = Vec::new();
    let mut stages = Vec::new();
    for x in inputs {
        let mut per_t = Vec::new();
        logits.push(q.run_observed(x, &mut s, |_, c| per_t.push(c.to_vec()))?);
        stages.push(per_t);
    }
    Ok((logits, stages))
}

impl GoldenCase {
    /// Generates a case from a spec.
    pub fn generate(spec: GoldenSpec) -> crate::Result<GoldenCase> {
        let model = prepare_spec(&spec)?;
        let inputs = if spec.ties {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(spec.input_seed);
            (0..spec.n_sequences)
                .map(|_| {
                    (0..spec.steps * spec.input)
                        .map(|_| rng.gen_range(-3i8..=3))
                        .collect()
                })
                .collect()
        } else {
            random_sequences(spec.input_seed, spec.n_sequences, spec.steps, spec.input)
                .iter()
                .map(|x| model.quantize_input(x))
                .collect::<crate::Result<Vec<_>>>()?
        };
        let (logits, stage_codes) = run_kernel(&model, &inputs)?;
        Ok(GoldenCase {
            spec,
            model,
            inputs,
            logits,
            stage_codes,
        })
    }

    /// Re-runs the kernel on the stored model and inputs; describes the first difference.
    pub fn check_kernel(&self) -> Result<(), String> {
        let (logits, stages) = run_kernel(&self.model, &self.inputs).map_err(|e| e.to_string())?;
        for (k, (a, b)) in stages.iter().zip(&self.stage_codes).enumerate() {
            for (t, (sa, sb)) in a.iter().zip(b).enumerate() {
                for (g, (ga, gb)) in sa.iter().zip(sb).enumerate() {
                    if ga != gb {
                        return Err(format!(
                            "sequence {k}, step {t}, gene {} ({}): got {ga:?}, expected {gb:?}",
                            g,
                            crate::genome::GENE_NAMES[g]
                        ));
                    }
                }
            }
        }
        if stages.len() != self.stage_codes.len() {
            return Err("different number of sequences".into());
        }
        if logits != self.logits {
            return Err(format!("logits {logits:?}, expected {:?}", self.logits));
        }
        Ok(())
    }

    /// Re-prepares the model from the spec and compares it with the stored one.
    pub fn check_prepare(&self) -> Result<(), String> {
        let q = prepare_spec(&self.spec).map_err(|e| e.to_string())?;
        if q != self.model {
            return Err("prepared model differs from the stored one".into());
        }
        Ok(())
    }
}

/// The specs of the committed fixture `crates/bitgru/tests/fixtures/golden_kernel.json`.
pub fn default_specs() -> Vec<GoldenSpec> {
    let mk = |genome: &str, model_seed: u64| GoldenSpec {
        model_seed,
        input: 10,
        hidden: 12,
        classes: 6,
        calib_seed: model_seed + 1,
        calib_n: 32,
        input_seed: model_seed + 2,
        n_sequences: 2,
        steps: 16,
        genome: genome.parse().expect("valid genome"),
        ties: false,
    };
    let ties = GoldenSpec {
        n_sequences: 4,
        steps: 24,
        ties: true,
        ..mk("66777867686767766", 14)
    };
    vec![
        mk("88888888888888888", 11),
        mk("64576888548886757", 12),
        mk("22222222222222222", 13),
        ties,
    ]
}

/// A golden vector of the C package's test main: real-valued features, their 8-bit codes and
/// the integer kernel's logits.
#[derive(Debug, Clone, PartialEq)]
pub struct CGoldenVector {
    /// Features `[T·I]`.
    pub features: Vec<f32>,
    /// `q.quantize_input(features)`.
    pub codes: Vec<i8>,
    /// `q.run(codes)`.
    pub logits: Vec<i32>,
}

/// `n` seeded golden vectors of `steps` steps for the C package: features uniform in
/// `±140 · input_scale[c]` per channel (so the codes cover the whole 8-bit range, saturation
/// included), quantized and run by the Rust kernel.
pub fn c_golden_vectors(
    q: &QuantGru,
    n: usize,
    steps: usize,
    seed: u64,
) -> crate::Result<Vec<CGoldenVector>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut s = Scratch::for_model(q);
    (0..n)
        .map(|_| {
            let features: Vec<f32> = (0..steps * q.input_size)
                .map(|k| rng.gen_range(-140.0f32..140.0) * q.input_scales[k % q.input_size])
                .collect();
            let codes = q.quantize_input(&features)?;
            let logits = q.run(&codes, &mut s)?;
            Ok(CGoldenVector {
                features,
                codes,
                logits,
            })
        })
        .collect()
}
