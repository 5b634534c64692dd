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

/// `tests/fixtures/detector_golden.json`: the streaming keyword detector (MFCC front end,
/// resampling from 48 kHz, integer kws10 model, smoothing, decisions) on a deterministic signal,
/// computed natively; tests/web.rs runs the same in wasm and must get the same bits.
#[allow(dead_code)]
pub mod detector_golden {
    use bitgru::detect::{bench_signal, Detector, DetectorConfig};
    use serde::{Deserialize, Serialize};

    pub const KWS10: &[u8] = include_bytes!("../../assets/models/kws10.safetensors");
    /// The input rate of a typical browser microphone (so the resampler is in the path).
    pub const RATE: u32 = 48_000;
    pub const SECONDS: f64 = 3.0;
    pub const SEED: u64 = 5;
    /// A mixed genome from the kws10 search front (results/kws10).
    pub const GENOME: &str = "52524427676656588";

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct DetectorGolden {
        pub description: String,
        pub frames: usize,
        /// FNV-1a 64 over every frame's index, time, probabilities, smoothed probabilities,
        /// level (all as bit patterns) and gate flag, in order (hex).
        pub digest: String,
        /// Argmax of the smoothed probabilities, per frame.
        pub smoothed_argmax: Vec<usize>,
        /// The detections, with a threshold low enough that the signal triggers some.
        pub events: Vec<(String, u64, u32)>,
    }

    fn fnv(h: &mut u64, bytes: &[u8]) {
        for &b in bytes {
            *h ^= u64::from(b);
            *h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Runs the detector on [`bench_signal`]`(SEED, RATE, SECONDS)`.
    pub fn compute() -> DetectorGolden {
        let bundle = bitgru::io::load_bundle(KWS10).expect("the kws10 bundle loads");
        let genome: bitgru::Genome = GENOME.parse().unwrap();
        let config = DetectorConfig {
            threshold: 0.3,
            ..DetectorConfig::default()
        };
        let mut d = Detector::from_bundle(&bundle, Some(&genome), config, RATE).unwrap();
        let out = d.run(&bench_signal(SEED, RATE, SECONDS)).unwrap();
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for f in &out.frames {
            fnv(&mut h, &f.frame.to_le_bytes());
            fnv(&mut h, &f.time_s.to_bits().to_le_bytes());
            for p in f.probs.iter().chain(&f.smoothed) {
                fnv(&mut h, &p.to_bits().to_le_bytes());
            }
            fnv(&mut h, &f.level_dbfs.to_bits().to_le_bytes());
            fnv(&mut h, &[u8::from(f.gated)]);
        }
        DetectorGolden {
            description: format!(
                "bitgru-web: Detector (kws10 at genome {GENOME}, threshold 0.3) on \
                 bench_signal({SEED}, {RATE}, {SECONDS}), computed natively"
            ),
            frames: out.frames.len(),
            digest: format!("{h:016x}"),
            smoothed_argmax: out
                .frames
                .iter()
                .map(|f| bitgru::math::argmax(&f.smoothed))
                .collect(),
            events: out
                .events
                .iter()
                .map(|e| (e.keyword.clone(), e.frame, e.score.to_bits()))
                .collect(),
        }
    }
}
