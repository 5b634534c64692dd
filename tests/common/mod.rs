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

/// The settings of `tests/fixtures/app_search.json`: a small row-mnist search through the
/// worker's state machine (`Compute`), run natively and in wasm.
#[allow(dead_code)]
pub mod app_search {
    use bitgru_web::compute::Compute;
    use bitgru_web::protocol::{DataKind, Envelope, FromWorker, SearchSettings, ToWorker};

    pub const ROW: &[u8] = include_bytes!("../../assets/models/row-mnist.safetensors");
    pub const MNIST: &[u8] = include_bytes!("../../assets/data/mnist-test-500.bin.gz");

    /// Runs the search and returns the final front as `(genome, objectives)` JSON.
    pub fn run() -> serde_json::Value {
        let mut c = Compute::new();
        let now = || 0.0;
        let send = |c: &mut Compute, msg: ToWorker, bufs: Vec<Vec<u8>>| {
            let out = c.handle(Envelope::with(msg, bufs), &now);
            if let FromWorker::Error { message, .. } = &out.replies[0].msg {
                panic!("{message}");
            }
        };
        send(
            &mut c,
            ToWorker::LoadModel {
                id: 1,
                key: "row-mnist".into(),
                file_name: "row-mnist.safetensors".into(),
                task: None,
            },
            vec![ROW.to_vec()],
        );
        send(
            &mut c,
            ToWorker::LoadData {
                id: 2,
                kind: DataKind::Mnist,
            },
            vec![MNIST.to_vec()],
        );
        let settings = SearchSettings {
            model: "row-mnist".into(),
            subset: 30,
            pop: 6,
            gens: 2,
            seed: 3,
            objectives: vec![
                bitgru::search::Objective::Error,
                bitgru::search::Objective::Size,
            ],
        };
        send(&mut c, ToWorker::StartSearch { id: 3, settings }, vec![]);
        let mut front = serde_json::Value::Null;
        while c.search_running() {
            c.step_search().unwrap();
            for r in c.finish_step(0.0).replies {
                if let FromWorker::Generation { progress, .. } = r.msg {
                    front = serde_json::json!(progress
                        .record
                        .population
                        .iter()
                        .filter(|p| progress.record.front.contains(&p.genome))
                        .map(|p| (p.genome.to_string(), p.objectives.clone()))
                        .collect::<Vec<_>>());
                }
            }
        }
        front
    }
}
