//! Messages between the page and the compute worker.
//!
//! Every message is an [`Envelope`]: a serde enum carried as a JSON string (readable in the
//! browser's devtools, testable natively) plus zero or more binary payloads (model files, data
//! files, drawings, exported files) carried as `ArrayBuffer`s in the `postMessage` transfer
//! list, never as JSON arrays of numbers. On the wire an envelope is the JS object
//! `{ msg: "<json>", bufs: [ArrayBuffer, …] }`.
//!
//! Requests carry an [`Id`] chosen by the page; every answer, progress event and error names
//! the request it belongs to. Values are typed ([`Genome`], [`Objective`], …): the worker never
//! parses a genome string the page already parsed.
//!
//! [`ToWorker`] and [`FromWorker`] use serde's default, externally tagged form
//! (`{"evaluate": {"id": 3, …}}`): an internally tagged enum (`{"type": "evaluate", …}`) makes
//! serde buffer every message into a generic `Content` tree before it picks the variant, and
//! that code cost 14 KB (worker) + 20 KB (page) of gzipped wasm on the first load (issue 8).
//!
//! ```text
//! worker → page   Ready { threads, threaded, kernel }              once, after start-up
//! page → worker   LoadModel { id, key, file_name } + [model file]  → ModelLoaded | Error
//! page → worker   LoadData { id, kind } + [files]                  → DataLoaded  | Error
//! page → worker   Evaluate { id, model, genome }                   → Evaluated   | Error
//! page → worker   Classify { id, model, genomes, input } (+ drawing) → Classified | Error
//! page → worker   StartSearch { id, settings }                     → SearchStarted, Generation…,
//!                                                                    SearchEnded | Error
//! page → worker   Pause / Resume / Cancel { id }                   → SearchPaused / Generation… / SearchEnded
//! page → worker   FindCheckpoint { id }                            → CheckpointFound
//! page → worker   ResumeCheckpoint / DiscardCheckpoint { id }
//! page → worker   OpenResult { id, file_name } + [result.json]     → SearchStarted (a finished view)
//! page → worker   SaveResult { id }                                → File + [result.json]
//! page → worker   Export { id, model, genome, format }             → File + [bytes]
//! page → worker   InputsJson { id, model }                         → File + [inputs.json]
//! page → worker   UploadModel { id, key, file_name, meta } + [file] → ModelLoaded | Error
//! page → worker   LoadEvalData { id, model, files } + [files…]     → ModelLoaded | Error
//! (Evaluate runs in chunks: EvalProgress { id, done, total } after each, then Evaluated)
//! page → worker   CancelEvaluation { id, target }                  → EvaluationCancelled + Done
//! page → worker   ListenStart { id, settings }                     → ListenStarted | Error
//! page → worker   ListenChunk { id, sample_rate } + [f32 LE samples] → ListenHops | Error
//! page → worker   ListenFile { id, file_name } + [WAV/FLAC bytes]  → ListenHops | Error
//! page → worker   ListenSave { id }                                → File + [last 3 s, WAV]
//! page → worker   ListenStop { id }                                → Done
//! ```
use bitgru::search::run::{BestWithin, GenerationRecord, Point, SearchConfig};
use bitgru::search::Objective;
use bitgru::{Dims, Genome, SizeReport};
use serde::{Deserialize, Serialize};

/// Request id, chosen by the page (unique per page load).
pub type Id = u32;

/// Time steps of every evaluated sequence of the demo JS API (`evalGenome`).
pub const STEPS: usize = 49;

/// Largest batch one demo JS API request may ask for.
pub const MAX_SEQUENCES: usize = 10_000;

/// Largest drawing accepted by [`ClassifyInput::Drawing`] (pixels per side).
pub const MAX_DRAWING_SIDE: u32 = 1024;

/// A message with its binary payloads.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<M> {
    pub msg: M,
    pub bufs: Vec<Vec<u8>>,
}

impl<M> Envelope<M> {
    /// A message without binary payloads.
    pub fn bare(msg: M) -> Self {
        Envelope {
            msg,
            bufs: Vec::new(),
        }
    }
    pub fn with(msg: M, bufs: Vec<Vec<u8>>) -> Self {
        Envelope { msg, bufs }
    }
}

/// The bundled data sets (and uploaded ones of the same kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// The MNIST pack (`assets/data/mnist-test-500.bin.gz`, one payload): row- and pixel-MNIST.
    Mnist,
    /// Keyword-spotting MFCC packs, one payload each, at most one per front end
    /// (`assets/data/kws-validation-mfcc.bin.gz`: kws4 and kws10 with the default MFCC;
    /// `assets/data/kws4-validation-mfcc8k.bin.gz`: kws4 with the default kws4 model's).
    /// `n` of the answer is the largest pack's clip count.
    KwsMfcc,
}

/// What to classify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClassifyInput {
    /// A drawing: one payload of `width × height` RGBA pixels (a canvas's `ImageData`), whose
    /// alpha is the ink. The worker preprocesses it like MNIST ([`crate::digits`]).
    Drawing { width: u32, height: u32 },
    /// Sequence `index` of the model's evaluation set.
    Sample { index: usize },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The quantized model (`.bitgru`, read by `bitgru eval`).
    Bitgru,
    /// A zip of C99 source (`.c`, `.h`, usage example, README).
    CZip,
}

/// Settings of a search started in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSettings {
    /// Key of a loaded model.
    pub model: String,
    /// Fitness subset size (stratified, like `bitgru search --subset`).
    pub subset: usize,
    pub pop: usize,
    pub gens: usize,
    pub seed: u64,
    pub objectives: Vec<Objective>,
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToWorker {
    /// One payload: a model file (bundle safetensors, float safetensors, Keras npz or `.bitgru`).
    /// `key` names the slot; a failure leaves the slot's previous model in place.
    LoadModel {
        id: Id,
        key: String,
        file_name: String,
        /// Task for float weights whose file records none (`row-mnist`, …; from the upload
        /// form), so that they get that task's calibration and evaluation data.
        #[serde(default)]
        task: Option<String>,
    },
    /// The files of a data set (see [`DataKind`]).
    LoadData {
        id: Id,
        kind: DataKind,
    },
    /// One payload: a bitgru inputs JSON (`{sequences, labels, steps}`, the CLI's `--inputs`
    /// format) as the evaluation (and, for float weights, calibration) data of `model`;
    /// answered by `ModelLoaded`. On error the model keeps its data.
    LoadInputs {
        id: Id,
        model: String,
        file_name: String,
    },
    /// Scores a genome on the model's evaluation set.
    Evaluate {
        id: Id,
        model: String,
        genome: Genome,
    },
    /// Class scores of one input for several genomes.
    Classify {
        id: Id,
        model: String,
        genomes: Vec<Genome>,
        input: ClassifyInput,
    },
    StartSearch {
        id: Id,
        settings: SearchSettings,
    },
    Pause {
        id: Id,
    },
    Resume {
        id: Id,
    },
    Cancel {
        id: Id,
    },
    /// Is there a checkpoint of an unfinished search in IndexedDB?
    FindCheckpoint {
        id: Id,
    },
    /// Continue the checkpointed search (its model must be loaded).
    ResumeCheckpoint {
        id: Id,
    },
    DiscardCheckpoint {
        id: Id,
    },
    /// One payload: a `result.json` written by `bitgru search` (or by this app).
    OpenResult {
        id: Id,
        file_name: String,
    },
    /// The current search's result in the `result.json` format.
    SaveResult {
        id: Id,
    },
    Export {
        id: Id,
        model: String,
        genome: Genome,
        format: ExportFormat,
    },
    /// The model's evaluation set as a bitgru inputs JSON (for `bitgru eval/search --inputs`).
    InputsJson {
        id: Id,
        model: String,
    },
    /// MNIST images of the evaluation set (for the digit gallery); answered by `Samples`.
    Samples {
        id: Id,
        model: String,
        indices: Vec<usize>,
    },

    // ---- Uploads with metadata, uploaded evaluation data (see the section below) ----
    /// Like `LoadModel`, with the upload form's (or a JSON sidecar's) [`UploadMeta`].
    UploadModel {
        id: Id,
        key: String,
        file_name: String,
        meta: UploadMeta,
    },
    /// One payload per name in `files`: the evaluation (and, for float weights, calibration) data
    /// of `model`, told apart by content: a bitgru inputs JSON, MNIST IDX images + labels, a zip
    /// of Speech Commands clips, or the clips of a folder (`files` are their relative paths).
    /// Answered by `ModelLoaded`; on error the model keeps its data.
    LoadEvalData {
        id: Id,
        model: String,
        files: Vec<String>,
    },
    /// Stops the chunked evaluation of request `target` (answered by `EvaluationCancelled` to
    /// `target`, then `Done`; just `Done` when it already finished).
    CancelEvaluation {
        id: Id,
        target: Id,
    },

    // ---- Listen (live keyword spotting; see the Listen section below) ----
    /// (Re)starts the listening session: detectors for `settings.variants` on `settings.model`.
    /// The last seconds of audio are kept across restarts (for ListenSave).
    ListenStart {
        id: Id,
        settings: ListenSettings,
    },
    /// One payload: mono f32 little-endian samples at `sample_rate` (any chunk size).
    ListenChunk {
        id: Id,
        sample_rate: u32,
    },
    /// One payload: a WAV or FLAC file, run through a fresh session as if it were heard.
    ListenFile {
        id: Id,
        file_name: String,
    },
    /// The last [`LISTEN_SAVE_SECONDS`] of 16 kHz audio as a WAV file.
    ListenSave {
        id: Id,
    },
    ListenStop {
        id: Id,
    },
}

impl ToWorker {
    pub fn id(&self) -> Id {
        match self {
            ToWorker::LoadModel { id, .. }
            | ToWorker::LoadData { id, .. }
            | ToWorker::LoadInputs { id, .. }
            | ToWorker::Evaluate { id, .. }
            | ToWorker::Classify { id, .. }
            | ToWorker::StartSearch { id, .. }
            | ToWorker::Pause { id }
            | ToWorker::Resume { id }
            | ToWorker::Cancel { id }
            | ToWorker::FindCheckpoint { id }
            | ToWorker::ResumeCheckpoint { id }
            | ToWorker::DiscardCheckpoint { id }
            | ToWorker::OpenResult { id, .. }
            | ToWorker::SaveResult { id }
            | ToWorker::Export { id, .. }
            | ToWorker::InputsJson { id, .. }
            | ToWorker::Samples { id, .. }
            | ToWorker::UploadModel { id, .. }
            | ToWorker::LoadEvalData { id, .. }
            | ToWorker::CancelEvaluation { id, .. }
            | ToWorker::ListenStart { id, .. }
            | ToWorker::ListenChunk { id, .. }
            | ToWorker::ListenFile { id, .. }
            | ToWorker::ListenSave { id }
            | ToWorker::ListenStop { id } => *id,
        }
    }
}

// ---- Uploads with metadata (issue 8: the metadata form and JSON sidecar) ----

/// Largest JSON sidecar read.
pub const MAX_SIDECAR_BYTES: usize = 1 << 20;

/// Metadata of uploaded float weights, from the upload form or a JSON sidecar
/// (`{"task": "custom", "classes": ["a", "b"], "input": 13, "steps": 49}`). Empty fields leave
/// what the file says; given ones must agree with the weights.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadMeta {
    /// `row-mnist`, `pixel-mnist`, `kws4`, `kws10` or `custom` (empty: from the file).
    #[serde(default)]
    pub task: String,
    /// Class names in logit order (empty: from the file or the task).
    #[serde(default)]
    pub classes: Vec<String>,
    /// Input features per step (checked against the weights).
    #[serde(default)]
    pub input: Option<usize>,
    /// Time steps per sequence.
    #[serde(default)]
    pub steps: Option<usize>,
}

impl UploadMeta {
    /// Reads a JSON sidecar.
    pub fn from_sidecar(file: &str, bytes: &[u8]) -> Result<Self, crate::WebError> {
        let up = |detail: String| crate::WebError::Upload {
            file: file.to_string(),
            detail,
        };
        if bytes.len() > MAX_SIDECAR_BYTES {
            return Err(up(format!(
                "{} bytes, a metadata sidecar is at most {MAX_SIDECAR_BYTES}",
                bytes.len()
            )));
        }
        serde_json::from_slice(bytes).map_err(|e| {
            up(format!(
                "not a metadata sidecar {{\"task\", \"classes\", \"input\", \"steps\"}}: {e}"
            ))
        })
    }

    /// Class names from a comma-separated list (the form's text field).
    pub fn parse_classes(text: &str) -> Vec<String> {
        if text.trim().is_empty() {
            return Vec::new();
        }
        text.split(',').map(|c| c.trim().to_string()).collect()
    }
}

/// What is known about a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Task name from the bundle's metadata (`custom` when it has none).
    pub task: String,
    /// Class names, in logit order (`c0`, `c1`, … when the file has none).
    pub class_names: Vec<String>,
    pub dims: Dims,
    pub n_params: usize,
    pub calibration_sequences: usize,
    /// What the file was: `bundle`, `quantized (.bitgru)`, …
    pub kind: String,
    pub file_name: String,
    pub file_bytes: usize,
    /// A `.bitgru` file is fixed to one genome.
    #[serde(default)]
    pub fixed_genome: Option<Genome>,
    /// Time steps of the model's input sequences, when the metadata records them.
    #[serde(default)]
    pub steps: Option<usize>,
    /// Sequences in the evaluation set the worker holds for this model (0: none yet).
    #[serde(default)]
    pub eval_sequences: usize,
    /// Name of that evaluation set.
    #[serde(default)]
    pub eval_source: String,
}

/// Bits one operator (or the fixed head) takes in the size metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpSize {
    pub name: String,
    /// The gene, `None` for fixed-width parts (the 8-bit head, biases).
    pub gene: Option<usize>,
    pub bits: u64,
}

/// A genome scored on the model's evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenomeReport {
    pub model: String,
    pub genome: Genome,
    pub n: usize,
    pub accuracy: f64,
    pub float_accuracy: f64,
    pub agreement: f64,
    pub size: SizeReport,
    pub breakdown: Vec<OpSize>,
    /// `confusion[label][prediction]`.
    pub confusion: Vec<Vec<usize>>,
    pub predictions: Vec<usize>,
    pub class_names: Vec<String>,
    pub eval_source: String,
    pub elapsed_ms: f64,
}

/// Class scores of one genome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenomeScores {
    pub genome: Genome,
    /// Softmax of the integer logits (as probabilities).
    pub probs: Vec<f64>,
    pub class: usize,
}

/// The answer to [`ToWorker::Classify`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifyResult {
    pub scores: Vec<GenomeScores>,
    /// The 28 × 28 image the model saw (0..=255), for a drawing.
    #[serde(default)]
    pub image: Vec<u8>,
    /// The label of an evaluation-set sample.
    #[serde(default)]
    pub label: Option<usize>,
    pub elapsed_ms: f64,
}

/// Per-generation progress of a running search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub record: GenerationRecord,
    /// Generations done / configured.
    pub done: usize,
    pub total: usize,
    /// Distinct genomes evaluated so far (homogeneous baselines included).
    pub evaluated: usize,
    pub evals_per_s: f64,
    /// Estimated seconds to the end (from the mean generation time).
    pub eta_s: f64,
    /// Smallest front genome within 1 point of the all-8 accuracy (fitness subset).
    pub best_within_1pp: Option<BestWithin>,
}

/// A search as the page shows it (a started, resumed or opened one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchView {
    pub config: SearchConfig,
    pub homogeneous: Vec<Point>,
    pub generations: Vec<GenerationRecord>,
    /// Float accuracy on the fitness subset.
    pub float_accuracy: f64,
    /// Opened from a file (read-only), not running here.
    pub opened: bool,
    /// Key of the loaded model it belongs to (empty for an opened file of another model).
    pub model_key: String,
    /// Smallest front genome within 1 point of the all-8 accuracy (fitness subset).
    pub best_within_1pp: Option<BestWithin>,
    /// Hypervolume of the homogeneous genomes' front (same reference point).
    pub hv_homogeneous: f64,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEnd {
    Finished,
    Cancelled,
}

/// A checkpoint found in IndexedDB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointInfo {
    pub task: String,
    pub model: String,
    pub model_digest: String,
    pub done: usize,
    pub total: usize,
    pub pop: usize,
    pub seed: u64,
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
    Data,
    Evaluate,
    Classify,
    Search,
    Checkpoint,
    Result,
    Export,
    Listen,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is listening; `threads` threads in its pool (1 when single-threaded);
    /// `kernel` names the integer kernel variant.
    Ready {
        threads: usize,
        threaded: bool,
        kernel: String,
    },
    ModelLoaded {
        id: Id,
        key: String,
        info: ModelInfo,
    },
    /// A data set is loaded; `models` are the loaded models that now have an evaluation set.
    DataLoaded {
        id: Id,
        kind: DataKind,
        n: usize,
        models: Vec<(String, ModelInfo)>,
    },
    Evaluated {
        id: Id,
        report: GenomeReport,
    },
    Classified {
        id: Id,
        result: ClassifyResult,
    },
    /// A search started, resumed from a checkpoint, or opened from a file.
    SearchStarted {
        id: Id,
        view: SearchView,
    },
    Generation {
        id: Id,
        progress: Progress,
    },
    /// Progress inside a generation: `done` of its `total` new evaluations (sent every
    /// [`crate::compute::SEARCH_CHUNK`] evaluations; a generation fully answered from the cache
    /// sends none).
    GenerationProgress {
        id: Id,
        generation: usize,
        done: usize,
        total: usize,
    },
    SearchPaused {
        id: Id,
    },
    SearchEnded {
        id: Id,
        end: SearchEnd,
    },
    CheckpointFound {
        id: Id,
        found: Option<CheckpointInfo>,
    },
    /// A file for the page to download; one payload.
    File {
        id: Id,
        file_name: String,
        mime: String,
    },
    /// Images (one payload: `indices.len() × 784` bytes) with their labels.
    Samples {
        id: Id,
        indices: Vec<usize>,
        labels: Vec<usize>,
    },
    // ---- Listen ----
    ListenStarted {
        id: Id,
        info: ListenInfo,
    },
    /// What the detectors made of a chunk (or of a whole file).
    ListenHops {
        id: Id,
        report: ListenReport,
    },
    /// Done (for requests without another answer, e.g. DiscardCheckpoint).
    Done {
        id: Id,
    },
    Error {
        /// The request that failed (`None` for start-up and undecodable messages).
        id: Option<Id>,
        during: Stage,
        message: String,
    },

    // ---- Chunked evaluations ----
    /// `done` of `total` sequences of evaluation request `id` are scored (after every chunk).
    EvalProgress {
        id: Id,
        done: usize,
        total: usize,
    },
    /// Evaluation request `id` stopped before its end (cancelled, or superseded by a newer one).
    EvaluationCancelled {
        id: Id,
        reason: String,
    },
}

/// One evaluation of the demo JS API (`evalGenome`): a genome on `n` seeded sequences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalRequest {
    pub genome: String,
    pub seed: u64,
    pub n: usize,
}

/// The answer to an [`EvalRequest`] (demo JS API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub genome: String,
    pub seed: u64,
    pub n: usize,
    pub steps: usize,
    pub dims: Dims,
    pub predictions: Vec<usize>,
    pub float_predictions: Vec<usize>,
    pub agree: usize,
    pub agreement: f64,
    #[serde(default)]
    pub accuracy: Option<f64>,
    #[serde(default)]
    pub float_accuracy: Option<f64>,
    pub size: SizeReport,
    pub elapsed_ms: f64,
    pub float_ms: f64,
    pub threads: usize,
    /// Distinct pool threads that ran a chunk of the integer batch (1 when single-threaded).
    pub threads_used: usize,
    pub threaded: bool,
}

/// Model information of the demo JS API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoInfo {
    pub task: String,
    pub class_names: Vec<String>,
    pub dims: Dims,
    pub n_params: usize,
    pub calibration_sequences: usize,
}

// ------------------------------------------------------------------------------------------
// Listen: live keyword spotting (the Listen page). The page captures audio (AudioWorklet or a
// file), the worker runs one streaming detector per variant and answers per chunk.
// ------------------------------------------------------------------------------------------

/// Seconds of audio kept for [`ToWorker::ListenSave`].
pub const LISTEN_SAVE_SECONDS: usize = 3;

/// Largest audio file accepted by [`ToWorker::ListenFile`] (bytes).
pub const MAX_LISTEN_FILE_BYTES: usize = 64 << 20;

/// What runs a variant of the keyword model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListenVariant {
    /// The integer kernel at a genome.
    Integer { genome: Genome },
    /// The float reference model (for comparison).
    Float,
}

impl std::fmt::Display for ListenVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenVariant::Integer { genome } if genome.is_uniform() => {
                write!(f, "{} bits", genome.get(bitgru::Gene::LinIr))
            }
            ListenVariant::Integer { genome } => write!(f, "genome {genome}"),
            ListenVariant::Float => f.write_str("float"),
        }
    }
}

/// Decision settings of the detectors (the page's controls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenSettings {
    /// Key of a loaded keyword model (`kws4`, `kws10`).
    pub model: String,
    /// Run side by side, in this order.
    pub variants: Vec<ListenVariant>,
    /// Smoothed keyword probability needed for a detection (0–1); `None`: the model's own
    /// default (its bundle's `detect_threshold`, chosen on its DET curve).
    pub threshold: Option<f64>,
    /// Suppression after a detection (ms) during which no other detection is reported.
    pub refractory_ms: u32,
    /// Energy gate: hops quieter than this (dBFS of the hop's RMS) never detect.
    pub gate_dbfs: f64,
    /// "Fewer false alarms on speech": the decision also needs the keyword to beat the weighted
    /// `_unknown_` probability ([`bitgru::detect::Levers::FEWER_SPEECH_ALARMS`]). Off by default.
    #[serde(default)]
    pub fewer_speech_alarms: bool,
}

/// The answer to [`ToWorker::ListenStart`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenInfo {
    pub class_names: Vec<String>,
    /// Labels of the variants, in order.
    pub labels: Vec<String>,
    /// Milliseconds per hop (one MFCC frame, one GRU step).
    pub hop_ms: f64,
    /// Coefficients per hop in [`ListenHop::features`].
    pub n_features: usize,
    /// The threshold the session runs with (the settings' or the model's default).
    pub threshold: f64,
    /// Milliseconds of audio the detector's smoothed probabilities average over.
    pub smooth_ms: f64,
}

/// One hop (20 ms) of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenHop {
    /// End of the hop's window, in ms since the session started.
    pub t_ms: f64,
    /// The MFCCs of the hop (for the spectrogram).
    pub features: Vec<f32>,
    /// Per variant, the smoothed class probabilities.
    pub probs: Vec<Vec<f32>>,
    /// Level of the hop (dBFS of the RMS).
    pub level_dbfs: f32,
}

/// A keyword detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenDetection {
    pub t_ms: f64,
    /// Index into [`ListenSettings::variants`].
    pub variant: usize,
    pub class: usize,
    pub score: f32,
}

/// What the detectors made of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenReport {
    pub hops: Vec<ListenHop>,
    pub detections: Vec<ListenDetection>,
    /// Mean compute time of one hop (features, every variant's GRU and decision), µs.
    pub us_per_hop: f64,
    /// Mean compute time per hop of each variant's GRU and decision, µs.
    pub us_per_hop_variant: Vec<f64>,
    /// Seconds of audio heard in this session.
    pub heard_s: f64,
}

/// Errors of the message layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message is not an envelope {{msg, bufs}} but {0}")]
    NotEnvelope(String),
    #[error("malformed message: {0}")]
    Json(String),
    #[error("{what} needs {expected} binary payload(s), got {got}")]
    Payloads {
        what: &'static str,
        expected: usize,
        got: usize,
    },
}

impl ToWorker {
    /// The JSON text of the message.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("ToWorker serializes to JSON")
    }
    /// Parses a message from the page.
    pub fn decode(text: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(text).map_err(|e| ProtocolError::Json(e.to_string()))
    }
}

impl FromWorker {
    /// The JSON text of the message.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("FromWorker serializes to JSON")
    }
    /// Parses a message from the worker.
    pub fn decode(text: &str) -> Result<Self, ProtocolError> {
        serde_json::from_str(text).map_err(|e| ProtocolError::Json(e.to_string()))
    }
}

/// Checks the number of payloads of a message.
pub fn expect_bufs(
    what: &'static str,
    bufs: &[Vec<u8>],
    expected: usize,
) -> Result<(), ProtocolError> {
    if bufs.len() != expected {
        return Err(ProtocolError::Payloads {
            what,
            expected,
            got: bufs.len(),
        });
    }
    Ok(())
}

/// Envelopes as JS objects `{msg, bufs}` with the buffers in a transfer list (callable in a
/// browser only).
pub mod wire {
    use super::{Envelope, ProtocolError};
    use wasm_bindgen::{JsCast, JsValue};

    /// `(message, transfer list)` for `postMessage`.
    pub fn to_js(text: &str, bufs: &[Vec<u8>]) -> (JsValue, js_sys::Array) {
        let obj = js_sys::Object::new();
        let arr = js_sys::Array::new();
        let transfer = js_sys::Array::new();
        for b in bufs {
            let u = js_sys::Uint8Array::from(b.as_slice());
            let buf = u.buffer();
            arr.push(&buf);
            transfer.push(&buf);
        }
        // Setting properties of a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&obj, &"msg".into(), &JsValue::from_str(text));
        let _ = js_sys::Reflect::set(&obj, &"bufs".into(), &arr);
        (obj.into(), transfer)
    }

    /// Reads `{msg, bufs}`.
    pub fn from_js(value: &JsValue) -> Result<Envelope<String>, ProtocolError> {
        let bad = || ProtocolError::NotEnvelope(format!("{value:?}"));
        let msg = js_sys::Reflect::get(value, &"msg".into())
            .ok()
            .and_then(|m| m.as_string())
            .ok_or_else(bad)?;
        let bufs = js_sys::Reflect::get(value, &"bufs".into()).map_err(|_| bad())?;
        let mut out = Vec::new();
        if !bufs.is_undefined() {
            let arr: js_sys::Array = bufs.dyn_into().map_err(|_| bad())?;
            for b in arr.iter() {
                let buf: js_sys::ArrayBuffer = b.dyn_into().map_err(|_| bad())?;
                out.push(js_sys::Uint8Array::new(&buf).to_vec());
            }
        }
        Ok(Envelope { msg, bufs: out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let g: Genome = "64576888548886757".parse().unwrap();
        let msgs = [
            ToWorker::LoadModel {
                id: 1,
                key: "row-mnist".into(),
                file_name: "row-mnist.safetensors".into(),
                task: None,
            },
            ToWorker::Evaluate {
                id: 2,
                model: "m".into(),
                genome: g,
            },
            ToWorker::StartSearch {
                id: 3,
                settings: SearchSettings {
                    model: "m".into(),
                    subset: 100,
                    pop: 8,
                    gens: 3,
                    seed: u64::MAX,
                    objectives: vec![Objective::Error, Objective::Size],
                },
            },
            ToWorker::Classify {
                id: 4,
                model: "m".into(),
                genomes: vec![g],
                input: ClassifyInput::Drawing {
                    width: 280,
                    height: 280,
                },
            },
            ToWorker::Cancel { id: 5 },
        ];
        for (k, m) in msgs.into_iter().enumerate() {
            assert_eq!(ToWorker::decode(&m.encode()).unwrap(), m);
            assert_eq!(m.id(), k as Id + 1);
        }
        // Genomes travel as their 17-digit form, typed on both sides.
        let text = ToWorker::Evaluate {
            id: 9,
            model: "m".into(),
            genome: g,
        }
        .encode();
        assert!(text.contains("\"64576888548886757\""), "{text}");
        let back = FromWorker::Error {
            id: Some(3),
            during: Stage::Search,
            message: "x".into(),
        };
        assert_eq!(FromWorker::decode(&back.encode()).unwrap(), back);
        let ready = FromWorker::Ready {
            threads: 4,
            threaded: true,
            kernel: "scalar".into(),
        };
        assert_eq!(
            ready.encode(),
            r#"{"ready":{"threads":4,"threaded":true,"kernel":"scalar"}}"#
        );
    }

    #[test]
    fn sidecars_are_read_or_refused_specifically() {
        let m = UploadMeta::from_sidecar(
            "m.json",
            br#"{"task": "custom", "classes": ["a", "b"], "input": 3, "steps": 7}"#,
        )
        .unwrap();
        assert_eq!(m.classes, vec!["a", "b"]);
        assert_eq!((m.input, m.steps), (Some(3), Some(7)));
        let e = UploadMeta::from_sidecar("m.json", br#"{"task": "custom", "clases": []}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.json: ") && e.contains("clases"), "{e}");
        let e = UploadMeta::from_sidecar("m.json", br#"{"input": -1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("input") || e.contains("-1"), "{e}");
        assert_eq!(
            UploadMeta::parse_classes(" yes, no ,up"),
            vec!["yes", "no", "up"]
        );
        assert!(UploadMeta::parse_classes("  ").is_empty());
        let msg = ToWorker::UploadModel {
            id: 3,
            key: "upload:m".into(),
            file_name: "m.safetensors".into(),
            meta: m,
        };
        assert_eq!(ToWorker::decode(&msg.encode()).unwrap(), msg);
        assert_eq!(msg.id(), 3);
    }

    #[test]
    fn malformed_messages_are_errors() {
        // A bad genome is rejected when the message is decoded, with the genome's error.
        let e = ToWorker::decode(r#"{"evaluate":{"id":1,"model":"m","genome":"8"}}"#).unwrap_err();
        assert!(
            matches!(e, ProtocolError::Json(ref m) if m.contains("17")),
            "{e}"
        );
        assert!(ToWorker::decode("not json").is_err());
        assert!(FromWorker::decode(r#"{"nope":{}}"#).is_err());
        assert!(FromWorker::decode(r#"{"ready":{"threads":4}}"#).is_err());
        assert!(expect_bufs("LoadModel", &[], 1).is_err());
        assert!(expect_bufs("LoadModel", &[vec![1]], 1).is_ok());
    }
}
