//! Messages between the page and the compute worker.
//!
//! Both directions are serde enums carried as JSON strings through `postMessage` (so that a
//! message can be read in the browser's devtools and tested natively). The exchange:
//!
//! ```text
//! worker → page   Ready { threads, threaded, kernel } once the wasm (and the thread pool) is up
//! page → worker   Load { model }                     once: the model file the worker keeps
//! worker → page   Loaded(ModelInfo)
//! page → worker   Evaluate(EvalRequest)              any number of times
//! worker → page   Evaluated(EvalReport)  or  Error { during, message }
//! ```
use bitgru::{Dims, SizeReport};
use serde::{Deserialize, Serialize};

/// Time steps of every evaluated sequence.
pub const STEPS: usize = 49;

/// Largest batch one request may ask for (keeps the worker's memory bounded: a sequence is
/// `STEPS × input` floats).
pub const MAX_SEQUENCES: usize = 10_000;

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Load (and validate) a model: the bytes of a bitgru bundle file (safetensors with
    /// calibration, e.g. [`crate::DEMO_MODEL`]); answered by [`FromWorker::Loaded`].
    Load { model: Vec<u8> },
    /// Evaluate a genome on `n` seeded random sequences; answered by [`FromWorker::Evaluated`].
    Evaluate(EvalRequest),
}

/// One evaluation: the genome as typed (17 digits; parsed by the worker, whose error is
/// reported back) and the seeded inputs `bitgru::synth::random_sequences(seed, n, STEPS, input)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalRequest {
    pub genome: String,
    pub seed: u64,
    pub n: usize,
}

/// What is known about the loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Task name from the bundle's metadata.
    pub task: String,
    /// Class names, in logit order (`c0`, `c1`, … when the bundle has none).
    pub class_names: Vec<String>,
    pub dims: Dims,
    pub n_params: usize,
    pub calibration_sequences: usize,
}

/// The answer to an [`EvalRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The genome as parsed (canonical 17 digits).
    pub genome: String,
    pub seed: u64,
    pub n: usize,
    pub steps: usize,
    pub dims: Dims,
    /// Integer-kernel class of every sequence.
    pub predictions: Vec<usize>,
    /// Float-model class of every sequence.
    pub float_predictions: Vec<usize>,
    /// How many predictions equal the float model's.
    pub agree: usize,
    /// `agree / n`.
    pub agreement: f64,
    /// Integer-kernel accuracy, when the inputs are labelled (a model fitted to a synthetic
    /// task: `meta.features.kind == "synthetic-task"`).
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Float-model accuracy on the same labelled inputs.
    #[serde(default)]
    pub float_accuracy: Option<f64>,
    pub size: SizeReport,
    /// Prepare + quantize inputs + integer batch, in milliseconds.
    pub elapsed_ms: f64,
    /// Float batch, in milliseconds.
    pub float_ms: f64,
    /// Threads of the pool that ran the batch (1 when single-threaded).
    pub threads: usize,
    /// Distinct threads that evaluated part of the (float) batch: evidence that the pool ran.
    pub threads_used: usize,
    /// Whether the batch ran on a wasm-bindgen-rayon pool.
    pub threaded: bool,
}

/// The step a worker error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Starting the worker (thread pool).
    Start,
    /// Decoding a message.
    Message,
    Load,
    Evaluate,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is listening; `threads` workers in its pool (1 when single-threaded).
    Ready {
        threads: usize,
        threaded: bool,
        /// The integer kernel variant the worker runs (`bitgru::kernel::variant_name()`:
        /// "simd128" or "scalar" in wasm).
        #[serde(default)]
        kernel: String,
    },
    Loaded(ModelInfo),
    Evaluated(EvalReport),
    Error {
        during: Stage,
        message: String,
    },
}

/// Errors of the message layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message is not a string but {0}")]
    NotText(String),
    #[error("malformed message: {0}")]
    Json(String),
}

impl ToWorker {
    /// The JSON text posted to the worker.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("ToWorker serializes to JSON")
    }
    /// Parses a message from the page.
    pub fn decode(text: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(text).map_err(|e| ProtocolError::Json(e.to_string()))
    }
}

impl FromWorker {
    /// The JSON text posted to the page.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("FromWorker serializes to JSON")
    }
    /// Parses a message from the worker.
    pub fn decode(text: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(text).map_err(|e| ProtocolError::Json(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let msgs = [
            ToWorker::Load {
                model: vec![0, 1, 255],
            },
            ToWorker::Evaluate(EvalRequest {
                genome: "88888888888888888".into(),
                seed: u64::MAX,
                n: 3,
            }),
        ];
        for m in msgs {
            assert_eq!(ToWorker::decode(&m.encode()).unwrap(), m);
        }
        let back = FromWorker::Error {
            during: Stage::Evaluate,
            message: "x".into(),
        };
        assert_eq!(FromWorker::decode(&back.encode()).unwrap(), back);
        let ready = FromWorker::Ready {
            threads: 4,
            threaded: true,
            kernel: "simd128".into(),
        };
        assert_eq!(
            ready.encode(),
            r#"{"type":"ready","threads":4,"threaded":true,"kernel":"simd128"}"#
        );
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert!(matches!(
            ToWorker::decode(r#"{"type":"evaluate","genome":"8"}"#),
            Err(ProtocolError::Json(_))
        ));
        assert!(ToWorker::decode("not json").is_err());
        assert!(FromWorker::decode(r#"{"type":"nope"}"#).is_err());
    }
}
