//! Shared by the native and wasm tests: the demo-model evaluation fixture.
use bitgru::SizeReport;
use serde::{Deserialize, Serialize};

/// `tests/fixtures/demo_eval.json`: evaluations of the embedded demo model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoEval {
    pub description: String,
    pub cases: Vec<DemoCase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoCase {
    pub genome: String,
    pub seed: u64,
    pub n: usize,
    pub predictions: Vec<usize>,
    pub float_predictions: Vec<usize>,
    pub size: SizeReport,
}

/// The cases of the fixture: (genome, seed, n).
#[allow(dead_code)]
pub const CASES: [(&str, u64, usize); 3] = [
    ("88888888888888888", 1, 64),
    ("88888866866666666", 42, 64),
    ("64576888548886757", 7, 64),
];

/// Evaluates the embedded demo model on [`CASES`] (natively: the values the fixture holds).
#[allow(dead_code)]
pub fn compute_demo_eval() -> DemoEval {
    use bitgru_web::protocol::EvalRequest;
    use bitgru_web::{Engine, DEMO_MODEL};

    let engine = Engine::from_bytes(DEMO_MODEL).unwrap();
    let cases = CASES
        .iter()
        .map(|&(genome, seed, n)| {
            let req = EvalRequest {
                genome: genome.into(),
                seed,
                n,
            };
            let r = engine.evaluate(&req, || 0.0).unwrap();
            DemoCase {
                genome: r.genome,
                seed,
                n,
                predictions: r.predictions,
                float_predictions: r.float_predictions,
                size: r.size,
            }
        })
        .collect();
    DemoEval {
        description: "bitgru-web: evaluations of assets/models/demo.safetensors computed natively \
                      (integer and float predictions on random_sequences(seed, n, 49, input))"
            .into(),
        cases,
    }
}
