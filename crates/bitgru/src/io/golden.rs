//! Golden fixtures: a fixed prepared model, input codes, and the integer kernel's per-stage codes
//! and logits, frozen to JSON. Native tests and wasm tests check the same file, which proves
//! that the kernel is bit-exact across targets.
use crate::calibrate::Calibration;
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
    QuantGru::prepare(&m, &cal, &spec.genome)
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
        let inputs = random_sequences(spec.input_seed, spec.n_sequences, spec.steps, spec.input)
            .iter()
            .map(|x| model.quantize_input(x))
            .collect::<crate::Result<Vec<_>>>()?;
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
    };
    vec![
        mk("88888888888888888", 11),
        mk("64576888548886757", 12),
        mk("22222222222222222", 13),
    ]
}
