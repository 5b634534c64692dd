//! The demo computation behind the JS API (`evalGenome`): a loaded model, and the evaluation of
//! a genome on a batch of seeded random sequences (integer kernel and float reference); and the
//! web layer's error type.
use crate::protocol::{DemoInfo as ModelInfo, EvalReport, EvalRequest, MAX_SEQUENCES, STEPS};
use crate::ModelBundle;
use bitgru::{FloatGru, Genome, QuantGru};
use std::str::FromStr;

/// Errors of the web layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebError {
    /// An error of the bitgru core (genome, model, calibration, …).
    #[error(transparent)]
    Core(#[from] bitgru::Error),
    /// A message between page and worker could not be read.
    #[error(transparent)]
    Protocol(#[from] crate::protocol::ProtocolError),
    /// A request is out of range.
    #[error("invalid {what}: {detail}")]
    Request { what: &'static str, detail: String },
    /// A data file (bundled or uploaded) is malformed.
    #[error("{file}: {detail}")]
    Data { file: String, detail: String },
    /// An uploaded file could not be read; nothing was changed.
    #[error("{file}: {detail}")]
    Upload { file: String, detail: String },
    /// A browser API failed.
    #[error("{context}: {message}")]
    Js {
        context: &'static str,
        message: String,
    },
}

impl WebError {
    /// Wraps a JS exception value.
    pub fn js(context: &'static str, value: &wasm_bindgen::JsValue) -> Self {
        let message = value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        WebError::Js { context, message }
    }
}

use wasm_bindgen::JsCast;

/// A loaded, validated model.
#[derive(Debug, Clone)]
pub struct Engine {
    bundle: ModelBundle,
    info: ModelInfo,
}

/// Checks the batch size of a request.
pub fn check_batch(n: usize) -> Result<(), WebError> {
    if n == 0 || n > MAX_SEQUENCES {
        return Err(WebError::Request {
            what: "number of sequences",
            detail: format!("{n} is not in 1..={MAX_SEQUENCES}"),
        });
    }
    Ok(())
}

/// Threads available to batch evaluation: the rayon pool's size with `threads`, else 1.
pub fn pool_threads() -> usize {
    #[cfg(feature = "threads")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// Float-model classes of every sequence, and how many distinct threads computed them.
fn float_predictions(model: &FloatGru, seqs: &[Vec<f32>]) -> bitgru::Result<(Vec<usize>, usize)> {
    #[cfg(feature = "threads")]
    {
        use rayon::prelude::*;
        let tagged = seqs
            .par_iter()
            .map(|x| Ok((model.predict(x)?, rayon::current_thread_index())))
            .collect::<bitgru::Result<Vec<_>>>()?;
        let used: std::collections::BTreeSet<_> = tagged.iter().map(|(_, t)| *t).collect();
        Ok((tagged.into_iter().map(|(p, _)| p).collect(), used.len()))
    }
    #[cfg(not(feature = "threads"))]
    {
        let preds = seqs
            .iter()
            .map(|x| model.predict(x))
            .collect::<bitgru::Result<_>>()?;
        Ok((preds, 1))
    }
}

impl Engine {
    /// Validates the model and its calibration.
    pub fn new(bundle: ModelBundle) -> Result<Self, WebError> {
        bundle.model.validate()?;
        bundle.calibration.validate(&bundle.model)?;
        let classes = bundle.model.classes;
        let class_names = if bundle.meta.classes.len() == classes {
            bundle.meta.classes.clone()
        } else {
            (0..classes).map(|c| format!("c{c}")).collect()
        };
        let task = if bundle.meta.task.is_empty() {
            "unnamed".to_string()
        } else {
            bundle.meta.task.clone()
        };
        let info = ModelInfo {
            task,
            class_names,
            dims: bundle.model.dims(),
            n_params: bundle.model.n_params(),
            calibration_sequences: bundle.calibration.n_sequences,
        };
        Ok(Engine { bundle, info })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Decodes and validates a bundle file (safetensors with calibration).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WebError> {
        Engine::new(bitgru::io::load_bundle(bytes)?)
    }

    pub fn bundle(&self) -> &ModelBundle {
        &self.bundle
    }

    /// The inputs of a request: labelled samples of the model's synthetic task when the bundle
    /// records one (`FrontEnd::Synthetic`), else seeded N(0, 1) sequences.
    pub fn inputs(&self, seed: u64, n: usize) -> (Vec<Vec<f32>>, Option<Vec<usize>>) {
        let dims = self.bundle.model.dims();
        if let bitgru::frontend::FrontEnd::Synthetic {
            seed: task_seed,
            input,
            classes,
            steps,
            ..
        } = self.bundle.meta.features
        {
            if input == dims.input && classes == dims.classes {
                let task = bitgru::synth::task_of_model(task_seed, input, classes, steps);
                let (xs, ys) = task.sample(seed, n);
                return (xs, Some(ys));
            }
        }
        (
            bitgru::synth::random_sequences(seed, n, STEPS, dims.input),
            None,
        )
    }

    /// Evaluates `req`: prepares the integer model for the genome, quantizes the seeded inputs,
    /// runs the batch through the integer kernel (rayon with `threads`) and through the float
    /// model, and compares. `now_ms` is the clock used for the timings.
    pub fn evaluate(
        &self,
        req: &EvalRequest,
        now_ms: impl Fn() -> f64,
    ) -> Result<EvalReport, WebError> {
        let genome = Genome::from_str(&req.genome)?;
        check_batch(req.n)?;
        let model = &self.bundle.model;
        let dims = model.dims();
        let (seqs, labels) = self.inputs(req.seed, req.n);

        let t0 = now_ms();
        let q = QuantGru::prepare(model, &self.bundle.calibration, &genome)?;
        let codes = seqs
            .iter()
            .map(|x| q.quantize_input(x))
            .collect::<bitgru::Result<Vec<_>>>()?;
        let predictions = bitgru::eval::predict_batch(&q, &codes)?;
        let t1 = now_ms();
        let (float_predictions, threads_used) = float_predictions(model, &seqs)?;
        let t2 = now_ms();

        let agree = predictions
            .iter()
            .zip(&float_predictions)
            .filter(|(a, b)| a == b)
            .count();
        let threads = pool_threads();
        let acc = |p: &[usize]| {
            labels.as_ref().map(|l| {
                p.iter().zip(l).filter(|(a, b)| a == b).count() as f64 / req.n.max(1) as f64
            })
        };
        let (accuracy, float_accuracy) = (acc(&predictions), acc(&float_predictions));
        Ok(EvalReport {
            accuracy,
            float_accuracy,
            genome: genome.to_string(),
            seed: req.seed,
            n: req.n,
            steps: STEPS,
            dims,
            agree,
            agreement: agree as f64 / req.n as f64,
            predictions,
            float_predictions,
            size: bitgru::size::report(&genome, dims),
            elapsed_ms: t1 - t0,
            float_ms: t2 - t1,
            threads,
            threads_used,
            threaded: cfg!(feature = "threads"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(crate::default_bundle().unwrap()).unwrap()
    }

    #[test]
    fn evaluates_a_batch() {
        let e = engine();
        let req = EvalRequest {
            genome: "88888888888888888".into(),
            seed: 3,
            n: 20,
        };
        let r = e.evaluate(&req, || 0.0).unwrap();
        assert_eq!(r.predictions.len(), 20);
        assert_eq!(r.float_predictions.len(), 20);
        assert!(r.predictions.iter().all(|&c| c < e.info().dims.classes));
        // All-8 PTQ of a well-conditioned model tracks the float model closely.
        assert!(r.agreement >= 0.8, "agreement {}", r.agreement);
        assert_eq!(r.size.normalized, 1.0);
        assert_eq!(r.threads, pool_threads());
        assert!(r.threads_used >= 1 && r.threads_used <= r.threads);
        // Same request, same answer; another seed, other inputs.
        assert_eq!(e.evaluate(&req, || 0.0).unwrap().predictions, r.predictions);
        let other = EvalRequest { seed: 4, ..req };
        assert_ne!(
            e.evaluate(&other, || 0.0).unwrap().float_predictions,
            r.float_predictions
        );
    }

    #[test]
    fn integer_predictions_match_the_core() {
        let e = engine();
        let b = e.bundle();
        let g: Genome = "86868686868686868".parse().unwrap();
        let q = QuantGru::prepare(&b.model, &b.calibration, &g).unwrap();
        let (seqs, labels) = e.inputs(9, 5);
        assert!(
            labels.is_some(),
            "the demo model records its synthetic task"
        );
        let mut s = bitgru::Scratch::for_model(&q);
        let want: Vec<usize> = seqs
            .iter()
            .map(|x| q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap())
            .collect();
        let req = EvalRequest {
            genome: g.to_string(),
            seed: 9,
            n: 5,
        };
        let r = e.evaluate(&req, || 0.0).unwrap();
        assert_eq!(r.predictions, want);
        let acc = want
            .iter()
            .zip(labels.unwrap())
            .filter(|(a, b)| **a == *b)
            .count() as f64
            / 5.0;
        assert_eq!(r.accuracy, Some(acc));
        assert!(r.float_accuracy.is_some());
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let e = engine();
        let bad_genome = EvalRequest {
            genome: "8888".into(),
            seed: 0,
            n: 1,
        };
        assert!(matches!(
            e.evaluate(&bad_genome, || 0.0),
            Err(WebError::Core(bitgru::Error::Genome(_)))
        ));
        for n in [0, MAX_SEQUENCES + 1] {
            let req = EvalRequest {
                genome: "88888888888888888".into(),
                seed: 0,
                n,
            };
            assert!(matches!(
                e.evaluate(&req, || 0.0),
                Err(WebError::Request { .. })
            ));
        }
    }

    #[test]
    fn invalid_models_are_rejected() {
        let mut b = crate::default_bundle().unwrap();
        b.model.b_fc.pop();
        assert!(matches!(
            Engine::new(b),
            Err(WebError::Core(bitgru::Error::Length { .. }))
        ));
    }
}
