//! The worker's state machine: loaded models and data, the running search, evaluations,
//! classification and exports. Pure Rust (tested natively); `src/bin/worker.rs` feeds it
//! messages, runs the search loop one generation at a time and performs the [`Effect`]s
//! (IndexedDB) it asks for.
use crate::data::{self, EvalSet, MfccPack, MnistData};
use crate::protocol::{
    expect_bufs, CheckpointInfo, ClassifyInput, ClassifyResult, DataKind, Envelope, ExportFormat,
    FromWorker, GenomeReport, GenomeScores, Id, ListenSettings, ModelInfo, OpSize, Progress,
    SearchEnd, SearchSettings, SearchView, Stage, ToWorker, UploadMeta, MAX_DRAWING_SIDE,
};
use crate::WebError;
use bitgru::frontend::FrontEnd;
use bitgru::io::ModelBundle;
use bitgru::search::problem::{confusion_matrix, stratified_subset};
use bitgru::search::run::{model_digest, FitnessInfo, SearchResult, StepProgress};
use bitgru::search::{Objective, QuantProblem, Search, SearchConfig};
use bitgru::{Calibration, Dims, FloatGru, Gene, Genome, QuantGru};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Calibration sequences taken from the evaluation data for uploaded float weights.
pub const CALIBRATION_SEQUENCES: usize = 200;

/// What a model file holds.
#[derive(Debug, Clone)]
pub enum ModelKind {
    /// Float weights with calibration: any genome can be prepared.
    Float(ModelBundle),
    /// Float weights waiting for calibration data (from the task's evaluation data).
    Uncalibrated {
        model: FloatGru,
        meta: bitgru::io::ModelMeta,
    },
    /// A model prepared for one genome (`.bitgru`), with the meta of its provenance.
    Quant(Box<QuantGru>, Box<bitgru::io::ModelMeta>),
}

impl ModelKind {
    /// The model's metadata (default fields where the file has none).
    pub fn meta(&self) -> &bitgru::io::ModelMeta {
        match self {
            ModelKind::Float(b) => &b.meta,
            ModelKind::Uncalibrated { meta, .. } => meta,
            ModelKind::Quant(_, meta) => meta,
        }
    }
}

/// A loaded model and its evaluation data.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub kind: ModelKind,
    pub info: ModelInfo,
    pub eval: Option<EvalSet>,
    /// Float predictions on the evaluation set, from the first evaluation.
    float_predictions: Option<Vec<usize>>,
}

/// Reads any supported model file. Nothing is kept on error.
pub fn read_model(file_name: &str, bytes: &[u8]) -> Result<(ModelKind, ModelInfo), WebError> {
    let up = |detail: String| WebError::Upload {
        file: file_name.to_string(),
        detail,
    };
    if bytes.is_empty() {
        return Err(up("the file is empty".into()));
    }
    let lower = file_name.to_ascii_lowercase();
    let keys = bitgru::io::stfile::metadata_keys(bytes);
    let has = |k: &str| keys.as_ref().is_some_and(|ks| ks.iter().any(|x| x == k));
    let (kind, task, classes, steps) = if bytes.starts_with(b"PK\x03\x04")
        || lower.ends_with(".npz")
    {
        let model = bitgru::io::npz::load_keras_npz(bytes).map_err(|e| {
            up(format!(
                "read as Keras npz (kernel, recurrent_kernel, bias, dense_kernel, dense_bias): {e}"
            ))
        })?;
        let meta = bitgru::io::ModelMeta::default();
        (
            ModelKind::Uncalibrated { model, meta },
            String::new(),
            Vec::new(),
            None,
        )
    } else if has("bitgru.quant") || (lower.ends_with(".bitgru") && keys.is_none()) {
        let (q, prov) = bitgru::io::qfile::load_quant(bytes).map_err(|e| up(e.to_string()))?;
        let meta = bitgru::io::ModelMeta::from_provenance(&prov).unwrap_or_default();
        let steps = feature_steps(&meta);
        let (task, classes) = (meta.task.clone(), meta.classes.clone());
        (
            ModelKind::Quant(Box::new(q), Box::new(meta)),
            task,
            classes,
            steps,
        )
    } else if lower.ends_with(".bitgru") {
        return Err(up(
            "not a quantized bitgru model (no bitgru.quant metadata); export one with `bitgru export --format bitgru`".into(),
        ));
    } else if has("bitgru.bundle") || has("bitgru.calibration") {
        let b = bitgru::io::load_bundle(bytes).map_err(|e| up(e.to_string()))?;
        b.model.validate().map_err(|e| up(e.to_string()))?;
        b.calibration
            .validate(&b.model)
            .map_err(|e| up(e.to_string()))?;
        let steps = feature_steps(&b.meta);
        let (task, classes) = (b.meta.task.clone(), b.meta.classes.clone());
        (ModelKind::Float(b), task, classes, steps)
    } else if keys.is_some() {
        let (model, meta) = bitgru::io::load_float_safetensors(bytes).map_err(|e| {
            up(format!(
                "read as float safetensors (PyTorch nn.GRU + Linear names): {e}"
            ))
        })?;
        model.validate().map_err(|e| up(e.to_string()))?;
        let meta = meta.unwrap_or_default();
        let steps = feature_steps(&meta);
        let (task, classes) = (meta.task.clone(), meta.classes.clone());
        (
            ModelKind::Uncalibrated { model, meta },
            task,
            classes,
            steps,
        )
    } else {
        return Err(up(
            "not a safetensors file, not a Keras npz and not a .bitgru model".into(),
        ));
    };
    let (dims, n_params, calib_n, fixed) = match &kind {
        ModelKind::Float(b) => (
            b.model.dims(),
            b.model.n_params(),
            b.calibration.n_sequences,
            None,
        ),
        ModelKind::Uncalibrated { model, .. } => (model.dims(), model.n_params(), 0, None),
        ModelKind::Quant(q, _) => (q.dims(), 0, 0, Some(q.genome)),
    };
    let class_names = if classes.len() == dims.classes {
        classes
    } else {
        (0..dims.classes).map(|c| format!("c{c}")).collect()
    };
    let kind_name = match &kind {
        ModelKind::Float(_) => "bundle (float weights + calibration)",
        ModelKind::Uncalibrated { .. } if lower.ends_with(".npz") || bytes.starts_with(b"PK") => {
            "float weights (Keras npz)"
        }
        ModelKind::Uncalibrated { .. } => "float weights (safetensors)",
        ModelKind::Quant(..) => "quantized (.bitgru)",
    };
    let info = ModelInfo {
        task: if task.is_empty() {
            "custom".into()
        } else {
            task
        },
        class_names,
        dims,
        n_params,
        calibration_sequences: calib_n,
        kind: kind_name.into(),
        file_name: file_name.to_string(),
        file_bytes: bytes.len(),
        fixed_genome: fixed,
        steps,
        eval_sequences: 0,
        eval_source: String::new(),
    };
    Ok((kind, info))
}

fn feature_steps(meta: &bitgru::io::ModelMeta) -> Option<usize> {
    meta.features.steps()
}

/// Applies the upload form's (or a sidecar's) metadata to a model just read; every given field
/// must agree with the weights and with what the file says.
fn apply_meta(file_name: &str, info: &mut ModelInfo, meta: &UploadMeta) -> Result<(), WebError> {
    let up = |detail: String| WebError::Upload {
        file: file_name.to_string(),
        detail,
    };
    let d = info.dims;
    if let Some(i) = meta.input.filter(|&i| i != d.input) {
        return Err(up(format!(
            "the metadata says {i} input features, the weights take {}",
            d.input
        )));
    }
    if meta.steps == Some(0) {
        return Err(up("the metadata says 0 steps per sequence".into()));
    }
    let t = meta.task.trim();
    if !t.is_empty() {
        if info.task != "custom" && info.task != t {
            return Err(up(format!(
                "the file says task {}, the metadata says {t}",
                info.task
            )));
        }
        if t != "custom" {
            t.parse::<bitgru::task::Task>()?;
        }
        info.task = t.to_string();
        if let Some(e) = crate::catalog::entry(t) {
            if info
                .class_names
                .iter()
                .enumerate()
                .all(|(k, c)| *c == format!("c{k}"))
                && e.classes.len() == d.classes
            {
                info.class_names = e.classes.iter().map(|c| c.to_string()).collect();
            }
            info.steps = info.steps.or(Some(e.steps));
        }
    }
    if !meta.classes.is_empty() {
        if meta.classes.len() != d.classes {
            return Err(up(format!(
                "{} class names for a model with {} outputs",
                meta.classes.len(),
                d.classes
            )));
        }
        if let Some(k) = meta.classes.iter().position(|c| c.trim().is_empty()) {
            return Err(up(format!("class name {k} is empty")));
        }
        for (k, c) in meta.classes.iter().enumerate() {
            if meta.classes[..k].contains(c) {
                return Err(up(format!("class name {c:?} appears twice")));
            }
        }
        info.class_names = meta.classes.clone();
    }
    if meta.steps.is_some() {
        info.steps = meta.steps;
    }
    Ok(())
}

/// Bits per operator in the size metric (`bitgru::size::size_bits`), the fixed head last.
pub fn size_breakdown(g: &Genome, d: Dims) -> Vec<OpSize> {
    let (i, h, c) = (d.input as u64, d.hidden as u64, d.classes as u64);
    let b = |x: Gene| g.get(x) as u64;
    let mut out: Vec<OpSize> = Gene::ALL
        .iter()
        .map(|&gene| {
            let k = gene.index();
            let bits = match gene {
                Gene::LinIr | Gene::LinIz | Gene::LinIn => h * i * b(gene) + h * 32,
                Gene::LinHr | Gene::LinHz | Gene::LinHn => h * h * b(gene) + h * 32,
                Gene::SigR => (1u64 << b(Gene::AddR)) * b(Gene::SigR),
                Gene::SigZ => (1u64 << b(Gene::AddZ)) * b(Gene::SigZ),
                Gene::TanhN => (1u64 << b(Gene::AddN)) * b(Gene::TanhN),
                Gene::AddH => h * b(Gene::AddH),
                _ => 0,
            };
            OpSize {
                name: gene.name().to_string(),
                gene: Some(k),
                bits,
            }
        })
        .collect();
    out.push(OpSize {
        name: "head (8-bit weights, 32-bit biases)".into(),
        gene: None,
        bits: c * h * 8 + c * 32,
    });
    out
}

/// A side effect for the worker's shell to perform (IndexedDB, the search loop).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run [`Compute::step_search`] until the search stops running.
    RunSearch,
    /// Run [`Compute::step_evaluation`] (one chunk per macrotask) until it is done.
    RunEvaluation,
    /// Store the checkpoint (JSON of [`StoredCheckpoint`]).
    SaveCheckpoint(String),
    /// Read the checkpoint and pass it to [`Compute::checkpoint_read`].
    ReadCheckpoint {
        id: Id,
        resume: bool,
    },
    DeleteCheckpoint,
}

/// New evaluations per worker macrotask inside a search generation
/// ([`Compute::step_search_part`]).
pub const SEARCH_CHUNK: usize = 8;

/// What [`Compute::step_search_part`] did.
#[derive(Debug)]
pub enum SearchStep {
    /// No search is running.
    Idle,
    /// Part of a generation: its progress event to post.
    Partial(Outcome),
    /// A generation is complete.
    Complete,
}

/// Replies and effects of one message.
#[derive(Debug, Default)]
pub struct Outcome {
    pub replies: Vec<Envelope<FromWorker>>,
    pub effects: Vec<Effect>,
}

impl Outcome {
    fn reply(msg: FromWorker) -> Self {
        Outcome {
            replies: vec![Envelope::bare(msg)],
            effects: Vec::new(),
        }
    }
    fn error(id: Option<Id>, during: Stage, e: impl std::fmt::Display) -> Self {
        Outcome::reply(FromWorker::Error {
            id,
            during,
            message: e.to_string(),
        })
    }
}

/// What IndexedDB keeps of a running search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredCheckpoint {
    pub settings: SearchSettings,
    pub float_accuracy: f64,
    pub split_size: usize,
    /// `Search::to_json`.
    pub search: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunState {
    Running,
    Paused,
    Finished,
}

struct Running {
    id: Id,
    settings: SearchSettings,
    search: Search,
    problem: QuantProblem,
    split_size: usize,
    state: RunState,
    /// Seconds of every generation run in this session.
    seconds: Vec<f64>,
    new_evals: usize,
}

impl Running {
    /// A search that has just started or resumed in this session.
    fn new(
        id: Id,
        settings: SearchSettings,
        search: Search,
        problem: QuantProblem,
        split_size: usize,
    ) -> Self {
        Running {
            id,
            settings,
            search,
            problem,
            split_size,
            state: RunState::Running,
            seconds: Vec::new(),
            new_evals: 0,
        }
    }
}

/// The worker's state.
#[derive(Default)]
pub struct Compute {
    models: BTreeMap<String, Loaded>,
    mnist: Option<MnistData>,
    /// The keyword-spotting packs, at most one per front end.
    mfcc: Vec<MfccPack>,
    run: Option<Running>,
    /// The last opened or finished result (for SaveResult of an opened file).
    opened: Option<SearchResult>,
    eval_job: Option<EvalJob>,
    /// The Listen page's session.
    listen: Option<crate::listen::Session>,
}

// ---- Chunked evaluations: a progress event per chunk, cancel between chunks ----

/// Sequences per chunk of an evaluation: the worker posts `EvalProgress` and answers other
/// messages (CancelEvaluation) between chunks.
pub const EVAL_CHUNK: usize = 128;

/// A running evaluation (its own copy of the set, so that an upload meanwhile cannot mix data).
struct EvalJob {
    id: Id,
    key: String,
    genome: Genome,
    q: QuantGru,
    set: EvalSet,
    predictions: Vec<usize>,
    /// The float model, when its predictions on this set are not known yet.
    float: Option<FloatGru>,
    float_predictions: Option<Vec<usize>>,
    t0: f64,
}

/// Probabilities of logits (shifted by their maximum).
pub(crate) fn softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

impl Compute {
    pub fn new() -> Self {
        Compute::default()
    }

    pub fn model(&self, key: &str) -> Option<&Loaded> {
        self.models.get(key)
    }

    /// Whether [`Compute::step_search`] has work.
    pub fn search_running(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.state == RunState::Running)
    }

    /// Answers one message.
    pub fn handle(&mut self, env: Envelope<ToWorker>, now_ms: &dyn Fn() -> f64) -> Outcome {
        let Envelope { msg, bufs } = env;
        let id = msg.id();
        let t0 = now_ms();
        match msg {
            ToWorker::LoadModel {
                key,
                file_name,
                task,
                ..
            } => {
                let meta = UploadMeta {
                    task: task.unwrap_or_default(),
                    ..UploadMeta::default()
                };
                match self.load_model(&key, &file_name, &meta, &bufs) {
                    Ok(info) => Outcome::reply(FromWorker::ModelLoaded { id, key, info }),
                    Err(e) => Outcome::error(Some(id), Stage::Load, e),
                }
            }
            ToWorker::UploadModel {
                key,
                file_name,
                meta,
                ..
            } => match self.load_model(&key, &file_name, &meta, &bufs) {
                Ok(info) => Outcome::reply(FromWorker::ModelLoaded { id, key, info }),
                Err(e) => Outcome::error(Some(id), Stage::Load, e),
            },
            ToWorker::LoadEvalData { model, files, .. } => {
                match self.load_eval_data(&model, files, bufs) {
                    Ok(info) => Outcome::reply(FromWorker::ModelLoaded {
                        id,
                        key: model,
                        info,
                    }),
                    Err(e) => Outcome::error(Some(id), Stage::Data, e),
                }
            }
            ToWorker::LoadData { kind, .. } => match self.load_data(kind, &bufs) {
                Ok(n) => {
                    let models = self
                        .models
                        .iter()
                        .map(|(k, m)| (k.clone(), m.info.clone()))
                        .collect();
                    Outcome::reply(FromWorker::DataLoaded {
                        id,
                        kind,
                        n,
                        models,
                    })
                }
                Err(e) => Outcome::error(Some(id), Stage::Data, e),
            },
            ToWorker::LoadInputs {
                model, file_name, ..
            } => match self.load_inputs(&model, &file_name, &bufs) {
                Ok(info) => Outcome::reply(FromWorker::ModelLoaded {
                    id,
                    key: model,
                    info,
                }),
                Err(e) => Outcome::error(Some(id), Stage::Data, e),
            },
            ToWorker::Evaluate { model, genome, .. } => {
                match self.start_evaluation(id, &model, &genome, t0) {
                    Ok(superseded) => Outcome {
                        replies: superseded
                            .map(|old| {
                                Envelope::bare(FromWorker::EvaluationCancelled {
                                    id: old,
                                    reason: format!("superseded by request {id}"),
                                })
                            })
                            .into_iter()
                            .collect(),
                        effects: vec![Effect::RunEvaluation],
                    },
                    Err(e) => Outcome::error(Some(id), Stage::Evaluate, e),
                }
            }
            ToWorker::CancelEvaluation { target, .. } => {
                match self.eval_job.take_if(|j| j.id == target) {
                    Some(_) => Outcome {
                        replies: vec![
                            Envelope::bare(FromWorker::EvaluationCancelled {
                                id: target,
                                reason: "cancelled".into(),
                            }),
                            Envelope::bare(FromWorker::Done { id }),
                        ],
                        effects: vec![],
                    },
                    None => Outcome::reply(FromWorker::Done { id }),
                }
            }
            ToWorker::Classify {
                model,
                genomes,
                input,
                ..
            } => match self.classify(&model, &genomes, &input, &bufs) {
                Ok(mut result) => {
                    result.elapsed_ms = now_ms() - t0;
                    Outcome::reply(FromWorker::Classified { id, result })
                }
                Err(e) => Outcome::error(Some(id), Stage::Classify, e),
            },
            ToWorker::StartSearch { settings, .. } => match self.start_search(id, settings) {
                Ok(out) => out,
                Err(e) => Outcome::error(Some(id), Stage::Search, e),
            },
            ToWorker::Pause { .. } => match &mut self.run {
                Some(r) if r.state == RunState::Running => {
                    r.state = RunState::Paused;
                    Outcome::reply(FromWorker::SearchPaused { id: r.id })
                }
                _ => Outcome::error(Some(id), Stage::Search, "no search is running"),
            },
            ToWorker::Resume { .. } => match &mut self.run {
                Some(r) if r.state == RunState::Paused => {
                    r.state = RunState::Running;
                    Outcome {
                        replies: vec![],
                        effects: vec![Effect::RunSearch],
                    }
                }
                _ => Outcome::error(Some(id), Stage::Search, "no search is paused"),
            },
            ToWorker::Cancel { .. } => match self.run.take() {
                Some(r) if r.state != RunState::Finished => Outcome {
                    replies: vec![Envelope::bare(FromWorker::SearchEnded {
                        id: r.id,
                        end: SearchEnd::Cancelled,
                    })],
                    effects: vec![Effect::DeleteCheckpoint],
                },
                other => {
                    self.run = other;
                    Outcome::error(Some(id), Stage::Search, "no search is running")
                }
            },
            ToWorker::FindCheckpoint { .. } => Outcome {
                replies: vec![],
                effects: vec![Effect::ReadCheckpoint { id, resume: false }],
            },
            ToWorker::ResumeCheckpoint { .. } => Outcome {
                replies: vec![],
                effects: vec![Effect::ReadCheckpoint { id, resume: true }],
            },
            ToWorker::DiscardCheckpoint { .. } => Outcome {
                replies: vec![Envelope::bare(FromWorker::Done { id })],
                effects: vec![Effect::DeleteCheckpoint],
            },
            ToWorker::OpenResult { file_name, .. } => match self.open_result(&file_name, &bufs) {
                Ok(view) => Outcome::reply(FromWorker::SearchStarted { id, view }),
                Err(e) => Outcome::error(Some(id), Stage::Result, e),
            },
            ToWorker::SaveResult { .. } => match self.result_json() {
                Ok((name, text)) => Outcome {
                    replies: vec![Envelope::with(
                        FromWorker::File {
                            id,
                            file_name: name,
                            mime: "application/json".into(),
                        },
                        vec![text.into_bytes()],
                    )],
                    effects: vec![],
                },
                Err(e) => Outcome::error(Some(id), Stage::Result, e),
            },
            ToWorker::Export {
                model,
                genome,
                format,
                ..
            } => match self.export(&model, &genome, format) {
                Ok((file_name, mime, bytes)) => Outcome {
                    replies: vec![Envelope::with(
                        FromWorker::File {
                            id,
                            file_name,
                            mime,
                        },
                        vec![bytes],
                    )],
                    effects: vec![],
                },
                Err(e) => Outcome::error(Some(id), Stage::Export, e),
            },
            ToWorker::Samples { model, indices, .. } => match self.samples(&model, &indices) {
                Ok((labels, bytes)) => Outcome {
                    replies: vec![Envelope::with(
                        FromWorker::Samples {
                            id,
                            indices,
                            labels,
                        },
                        vec![bytes],
                    )],
                    effects: vec![],
                },
                Err(e) => Outcome::error(Some(id), Stage::Data, e),
            },
            ToWorker::InputsJson { model, .. } => match self.eval_set(&model) {
                Ok(set) => Outcome {
                    replies: vec![Envelope::with(
                        FromWorker::File {
                            id,
                            file_name: format!("{model}-inputs.json"),
                            mime: "application/json".into(),
                        },
                        vec![data::inputs_json(set).into_bytes()],
                    )],
                    effects: vec![],
                },
                Err(e) => Outcome::error(Some(id), Stage::Export, e),
            },
            ToWorker::ListenStart { .. }
            | ToWorker::ListenChunk { .. }
            | ToWorker::ListenFile { .. }
            | ToWorker::ListenSave { .. }
            | ToWorker::ListenStop { .. } => match self.listen_message(msg, &bufs, now_ms) {
                Ok(out) => out,
                Err(e) => Outcome::error(Some(id), Stage::Listen, e),
            },
        }
    }

    fn load_model(
        &mut self,
        key: &str,
        file_name: &str,
        meta: &UploadMeta,
        bufs: &[Vec<u8>],
    ) -> Result<ModelInfo, WebError> {
        expect_bufs("LoadModel", bufs, 1)?;
        if key.is_empty() {
            return Err(WebError::Request {
                what: "model key",
                detail: "empty".into(),
            });
        }
        let (mut kind, mut info) = read_model(file_name, &bufs[0])?;
        apply_meta(file_name, &mut info, meta)?;
        // Exports carry the form's task and classes.
        if let ModelKind::Uncalibrated { meta: m, .. }
        | ModelKind::Float(ModelBundle { meta: m, .. }) = &mut kind
        {
            if info.task != "custom" || !m.task.is_empty() {
                m.task = info.task.clone();
            }
            m.classes = info.class_names.clone();
        }
        let mut loaded = Loaded {
            kind,
            info,
            eval: None,
            float_predictions: None,
        };
        self.attach_data(&mut loaded)?;
        let info = loaded.info.clone();
        self.models.insert(key.to_string(), loaded);
        Ok(info)
    }

    /// The evaluation set for a model from the loaded data, by its task and shape, and for
    /// keyword spotting its MFCC front end: a model whose file states another front end than the
    /// bundled features' (e.g. trained with `--n-mfcc` or `--fmax`) gets none, rather than
    /// features it was not trained on (its accuracy would be meaningless).
    fn data_for(&self, m: &Loaded) -> Option<EvalSet> {
        let info = &m.info;
        let d = info.dims;
        match info.task.as_str() {
            "row-mnist" | "pixel-mnist" => {
                let rows = info.task == "row-mnist";
                let want = if rows { 28 } else { 1 };
                (d.input == want && d.classes == 10)
                    .then(|| self.mnist.as_ref().map(|m| m.eval_set(rows)))
                    .flatten()
            }
            "kws4" | "kws10" => {
                // The pack of the model's own front end (a model without one, e.g. raw
                // weights, takes the default MFCC's).
                let features = &m.kind.meta().features;
                let want = if *features == FrontEnd::Raw {
                    FrontEnd::default_mfcc()
                } else {
                    features.clone()
                };
                let p = self
                    .mfcc
                    .iter()
                    .find(|p| p.front_end == want && p.labels.contains_key(&info.task))?;
                let set = p.eval_set(&info.task)?;
                let classes = p.classes.get(&info.task).map_or(0, Vec::len);
                (d.input == p.coeffs && d.classes == classes).then_some(set)
            }
            _ => None,
        }
    }

    /// Gives a model its evaluation set (and calibration, for uncalibrated float weights).
    /// On error the model is unchanged.
    fn attach_data(&self, m: &mut Loaded) -> Result<(), WebError> {
        if m.eval.is_some() {
            return Ok(());
        }
        let Some(set) = self.data_for(m) else {
            return Ok(());
        };
        Self::use_eval_set(m, set)
    }

    /// Makes `set` the model's evaluation data, first calibrating uncalibrated float weights on
    /// (a stratified subset of) it. On error the model is unchanged.
    fn use_eval_set(m: &mut Loaded, set: EvalSet) -> Result<(), WebError> {
        if let ModelKind::Uncalibrated { model, meta } = &m.kind {
            let n = set.len().min(CALIBRATION_SEQUENCES);
            let idx = stratified_subset(&set.labels, n);
            let views: Vec<&[f32]> = idx.iter().map(|&i| set.sequences[i].as_slice()).collect();
            let calibration = Calibration::compute(model, &views)?;
            m.info.calibration_sequences = calibration.n_sequences;
            m.kind = ModelKind::Float(ModelBundle {
                meta: meta.clone(),
                model: model.clone(),
                calibration,
            });
        }
        m.info.eval_sequences = set.len();
        m.info.eval_source = set.name.clone();
        m.eval = Some(set);
        m.float_predictions = None;
        Ok(())
    }

    /// Replaces a loaded model's evaluation (and, for float weights, calibration) data with an
    /// uploaded set. On error the model keeps its data.
    fn replace_eval(&mut self, key: &str, set: EvalSet) -> Result<ModelInfo, WebError> {
        let mut updated = self.loaded(key)?.clone();
        updated.info.steps = Some(set.steps);
        Self::use_eval_set(&mut updated, set)?;
        let info = updated.info.clone();
        self.models.insert(key.to_string(), updated);
        Ok(info)
    }

    fn load_inputs(
        &mut self,
        key: &str,
        file_name: &str,
        bufs: &[Vec<u8>],
    ) -> Result<ModelInfo, WebError> {
        expect_bufs("LoadInputs", bufs, 1)?;
        let d = self.loaded(key)?.info.dims;
        let set = data::parse_inputs(file_name, &bufs[0], d.input, d.classes)?;
        self.replace_eval(key, set)
    }

    /// An uploaded evaluation set (see [`ToWorker::LoadEvalData`]).
    fn load_eval_data(
        &mut self,
        key: &str,
        names: Vec<String>,
        bufs: Vec<Vec<u8>>,
    ) -> Result<ModelInfo, WebError> {
        expect_bufs("LoadEvalData", &bufs, names.len())?;
        let m = self.loaded(key)?;
        let (d, task) = (m.info.dims, m.info.task.clone());
        let features = m.kind.meta().features.clone();
        let files: Vec<(String, Vec<u8>)> = names.into_iter().zip(bufs).collect();
        let first = files.first().map(|f| f.0.clone()).unwrap_or_default();
        let kws = || {
            task.parse::<bitgru::data::speech::KwsTask>()
                .map_err(|_| WebError::Data {
                    file: first.clone(),
                    detail: format!(
                        "clips are labelled by their folder's keyword, which needs a kws4 or kws10 model; {key} has task {task}"
                    ),
                })
        };
        let set = match data::sniff_upload(&files)? {
            data::UploadFormat::InputsJson => {
                data::parse_inputs(&files[0].0, &files[0].1, d.input, d.classes)?
            }
            data::UploadFormat::MnistIdx => {
                let mnist = data::mnist_upload(&files)?;
                let rows = match (d.input, d.classes) {
                    (28, 10) => true,
                    (1, 10) => false,
                    (i, c) => {
                        return Err(WebError::Data {
                            file: mnist.source,
                            detail: format!(
                                "MNIST digits need a model with 28 (row-MNIST) or 1 (pixel-MNIST) features per step and 10 classes; {key} has {i} and {c}"
                            ),
                        })
                    }
                };
                mnist.eval_set(rows)
            }
            data::UploadFormat::ClipsZip => {
                let entries = data::unzip(&files[0].0, &files[0].1)?;
                data::clips_eval_set(&files[0].0, &entries, kws()?, &features)?
            }
            data::UploadFormat::ClipsFolder => {
                let folder = first.split('/').next().unwrap_or("folder").to_string();
                data::clips_eval_set(&folder, &files, kws()?, &features)?
            }
        };
        if set.input != d.input {
            return Err(WebError::Data {
                file: set.name,
                detail: format!(
                    "{} features per step, the model takes {}",
                    set.input, d.input
                ),
            });
        }
        if let Some(k) = set.labels.iter().position(|&l| l >= d.classes) {
            return Err(WebError::Data {
                file: set.name.clone(),
                detail: format!(
                    "label {k} is {}, but the model has {} classes",
                    set.labels[k], d.classes
                ),
            });
        }
        self.replace_eval(key, set)
    }

    fn load_data(&mut self, kind: DataKind, bufs: &[Vec<u8>]) -> Result<usize, WebError> {
        let n = match kind {
            DataKind::Mnist => {
                expect_bufs("LoadData mnist", bufs, 1)?;
                let d = MnistData::parse_pack(&bufs[0])?;
                let n = d.len();
                self.mnist = Some(MnistData {
                    source: format!("{n} MNIST test digits"),
                    ..d
                });
                n
            }
            DataKind::KwsMfcc => {
                if bufs.is_empty() {
                    expect_bufs("LoadData kws_mfcc", bufs, 1)?;
                }
                // All packs parse before any replaces a loaded one (one per front end).
                let packs = bufs
                    .iter()
                    .map(|b| MfccPack::parse(b))
                    .collect::<Result<Vec<_>, _>>()?;
                let n = packs.iter().map(|p| p.sequences.len()).max().unwrap_or(0);
                for p in packs {
                    self.mfcc.retain(|q| q.front_end != p.front_end);
                    self.mfcc.push(p);
                }
                n
            }
        };
        let keys: Vec<String> = self.models.keys().cloned().collect();
        for k in keys {
            let mut m = self.models.remove(&k).expect("key exists");
            let r = self.attach_data(&mut m);
            self.models.insert(k, m);
            r?;
        }
        Ok(n)
    }

    fn loaded(&self, key: &str) -> Result<&Loaded, WebError> {
        self.models.get(key).ok_or_else(|| WebError::Request {
            what: "model",
            detail: format!("{key:?} is not loaded"),
        })
    }

    fn eval_set(&self, key: &str) -> Result<&EvalSet, WebError> {
        self.loaded(key)?
            .eval
            .as_ref()
            .ok_or_else(|| WebError::Request {
                what: "evaluation data",
                detail: format!("model {key:?} has no evaluation data loaded"),
            })
    }

    /// The prepared model of a genome (a `.bitgru` file only has its own genome).
    fn prepared(m: &Loaded, genome: &Genome) -> Result<QuantGru, WebError> {
        match &m.kind {
            ModelKind::Float(b) => Ok(QuantGru::prepare(&b.model, &b.calibration, genome)?),
            ModelKind::Uncalibrated { .. } => Err(WebError::Request {
                what: "model",
                detail: "float weights without calibration: load its task's evaluation data first"
                    .into(),
            }),
            ModelKind::Quant(q, _) if q.genome == *genome => Ok((**q).clone()),
            ModelKind::Quant(q, _) => Err(WebError::Request {
                what: "genome",
                detail: format!(
                    "{genome}: this .bitgru model is quantized for {} only",
                    q.genome
                ),
            }),
        }
    }

    /// Scores a genome on the whole evaluation set at once (the chunked job run to its end).
    pub fn evaluate(
        &mut self,
        key: &str,
        genome: &Genome,
        now_ms: &dyn Fn() -> f64,
    ) -> Result<GenomeReport, WebError> {
        self.start_evaluation(0, key, genome, now_ms())?;
        loop {
            if let Some(done) = self.evaluation_chunk(now_ms) {
                return done.map_err(|(_, e)| e);
            }
        }
    }

    /// Starts a chunked evaluation (see [`EVAL_CHUNK`]); a running one is superseded.
    fn start_evaluation(
        &mut self,
        id: Id,
        key: &str,
        genome: &Genome,
        t0: f64,
    ) -> Result<Option<Id>, WebError> {
        let set = self.eval_set(key)?.clone();
        let m = self.loaded(key)?;
        let q = Self::prepared(m, genome)?;
        let float = match (&m.kind, &m.float_predictions) {
            (ModelKind::Float(b), None) => Some(b.model.clone()),
            _ => None,
        };
        let superseded = self.eval_job.take().map(|j| j.id);
        self.eval_job = Some(EvalJob {
            id,
            key: key.to_string(),
            genome: *genome,
            predictions: Vec::with_capacity(set.len()),
            float_predictions: float.as_ref().map(|_| Vec::with_capacity(set.len())),
            float,
            q,
            set,
            t0,
        });
        Ok(superseded)
    }

    /// Whether [`Compute::step_evaluation`] has work.
    pub fn evaluation_running(&self) -> bool {
        self.eval_job.is_some()
    }

    /// One chunk of the running evaluation: `None` while more chunks follow, else its report
    /// (or the request id and error).
    fn evaluation_chunk(
        &mut self,
        now_ms: &dyn Fn() -> f64,
    ) -> Option<Result<GenomeReport, (Id, WebError)>> {
        let job = self.eval_job.as_mut()?;
        let id = job.id;
        let from = job.predictions.len();
        let to = (from + EVAL_CHUNK).min(job.set.len());
        let chunk = &job.set.sequences[from..to];
        let step = (|| -> Result<(), WebError> {
            job.predictions.extend(
                bitgru::eval::IntegerEvaluator::new(&job.q.input_scales, chunk, None)?
                    .predictions(&job.q)?,
            );
            if let (Some(model), Some(fp)) = (&job.float, &mut job.float_predictions) {
                for x in chunk {
                    fp.push(model.predict(x)?);
                }
            }
            Ok(())
        })();
        if let Err(e) = step {
            self.eval_job = None;
            return Some(Err((id, e)));
        }
        if to < job.set.len() {
            return None;
        }
        let job = self.eval_job.take().expect("running");
        Some(self.finish_evaluation(job, now_ms()).map_err(|e| (id, e)))
    }

    fn finish_evaluation(&mut self, job: EvalJob, now: f64) -> Result<GenomeReport, WebError> {
        let m = self
            .models
            .get_mut(&job.key)
            .ok_or_else(|| WebError::Request {
                what: "model",
                detail: format!("{:?} was unloaded during the evaluation", job.key),
            })?;
        if let Some(fp) = job.float_predictions {
            m.float_predictions = Some(fp);
        }
        let set = &job.set;
        let frac = |a: &[usize], b: &[usize]| {
            a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / set.len().max(1) as f64
        };
        let predictions = job.predictions;
        let (float_accuracy, agreement) = match (&m.kind, &m.float_predictions) {
            (ModelKind::Float(_), Some(fp)) if fp.len() == set.len() => {
                (frac(fp, &set.labels), frac(&predictions, fp))
            }
            _ => (f64::NAN, f64::NAN),
        };
        let dims = m.info.dims;
        let genome = job.genome;
        Ok(GenomeReport {
            model: job.key.clone(),
            genome,
            n: set.len(),
            accuracy: frac(&predictions, &set.labels),
            float_accuracy,
            agreement,
            size: bitgru::size::report(&genome, dims),
            breakdown: size_breakdown(&genome, dims),
            confusion: confusion_matrix(&predictions, &set.labels, dims.classes),
            predictions,
            class_names: m.info.class_names.clone(),
            eval_source: set.name.clone(),
            elapsed_ms: now - job.t0,
        })
    }

    /// Runs one chunk of the running evaluation: a progress event, or the final answer.
    pub fn step_evaluation(&mut self, now_ms: &dyn Fn() -> f64) -> Outcome {
        let Some((id, total)) = self.eval_job.as_ref().map(|j| (j.id, j.set.len())) else {
            return Outcome::default();
        };
        match self.evaluation_chunk(now_ms) {
            None => {
                let done = self
                    .eval_job
                    .as_ref()
                    .map_or(total, |j| j.predictions.len());
                Outcome::reply(FromWorker::EvalProgress { id, done, total })
            }
            Some(Ok(report)) => Outcome::reply(FromWorker::Evaluated { id, report }),
            Some(Err((id, e))) => Outcome::error(Some(id), Stage::Evaluate, e),
        }
    }

    fn classify(
        &self,
        key: &str,
        genomes: &[Genome],
        input: &ClassifyInput,
        bufs: &[Vec<u8>],
    ) -> Result<ClassifyResult, WebError> {
        let m = self.loaded(key)?;
        let dims = m.info.dims;
        let (x, image, label) = match input {
            ClassifyInput::Drawing { width, height } => {
                expect_bufs("Classify drawing", bufs, 1)?;
                if *width > MAX_DRAWING_SIDE || *height > MAX_DRAWING_SIDE {
                    return Err(WebError::Request {
                        what: "drawing",
                        detail: format!(
                            "{width} × {height} is larger than {MAX_DRAWING_SIDE} × {MAX_DRAWING_SIDE}"
                        ),
                    });
                }
                let (w, h) = (*width as usize, *height as usize);
                if bufs[0].len() != w * h * 4 {
                    return Err(WebError::Request {
                        what: "drawing",
                        detail: format!(
                            "{} bytes for {w} × {h} RGBA pixels (expected {})",
                            bufs[0].len(),
                            w * h * 4
                        ),
                    });
                }
                let ink: Vec<u8> = bufs[0].chunks_exact(4).map(|p| p[3]).collect();
                let img = crate::digits::preprocess(&ink, w, h)?;
                if !(dims.input == 28 || dims.input == 1) || dims.classes != 10 {
                    return Err(WebError::Request {
                        what: "model",
                        detail: format!(
                            "{key} takes {} features per step for {} classes, not MNIST digits",
                            dims.input, dims.classes
                        ),
                    });
                }
                let x: Vec<f32> = img.iter().map(|&p| f32::from(p) / 255.0).collect();
                (x, img, None)
            }
            ClassifyInput::Sample { index } => {
                let set = self.eval_set(key)?;
                let x = set
                    .sequences
                    .get(*index)
                    .ok_or_else(|| WebError::Request {
                        what: "sample",
                        detail: format!("{index} (the evaluation set has {})", set.len()),
                    })?
                    .clone();
                let image = match (&self.mnist, m.info.task.as_str()) {
                    (Some(d), "row-mnist" | "pixel-mnist") if *index < d.len() => {
                        d.image(*index).to_vec()
                    }
                    _ => Vec::new(),
                };
                (x, image, Some(set.labels[*index]))
            }
        };
        let mut scores = Vec::with_capacity(genomes.len());
        for g in genomes {
            let q = Self::prepared(m, g)?;
            let codes = q.quantize_input(&x)?;
            let logits = bitgru::eval::logits_batch(&q, &[codes])?;
            let scale = q.logit_scale();
            let real: Vec<f64> = logits[0].iter().map(|&l| l as f64 * scale).collect();
            let probs = softmax(&real);
            let class = bitgru::model::argmax_i32(&logits[0]);
            scores.push(GenomeScores {
                genome: *g,
                probs,
                class,
            });
        }
        Ok(ClassifyResult {
            scores,
            image,
            label,
            elapsed_ms: 0.0,
        })
    }

    /// The fitness problem and config of a search (the CLI's choices: stratified subset,
    /// reference point 1.1, homogeneous seeding).
    fn build_search(
        &self,
        settings: &SearchSettings,
    ) -> Result<(QuantProblem, SearchConfig, usize), WebError> {
        let m = self.loaded(&settings.model)?;
        let set = self.eval_set(&settings.model)?;
        let ModelKind::Float(b) = &m.kind else {
            return Err(WebError::Request {
                what: "model",
                detail: format!(
                    "{}: a search needs float weights with calibration, not a {}",
                    settings.model, m.info.kind
                ),
            });
        };
        Objective::check_list(&settings.objectives)?;
        if settings.subset == 0 || settings.subset > set.len() {
            return Err(WebError::Request {
                what: "fitness subset",
                detail: format!(
                    "{} (the evaluation set has {} sequences; expected 1..={})",
                    settings.subset,
                    set.len(),
                    set.len()
                ),
            });
        }
        let idx = stratified_subset(&set.labels, settings.subset);
        let seqs: Vec<Vec<f32>> = idx.iter().map(|&i| set.sequences[i].clone()).collect();
        let labels: Vec<usize> = idx.iter().map(|&i| set.labels[i]).collect();
        let mut config = SearchConfig::new(
            &m.info.task,
            &m.info.file_name,
            &model_digest(&b.model, &b.calibration),
            settings.pop,
            settings.gens,
            settings.seed,
        )
        .with_objectives(settings.objectives.clone());
        config.split = set.name.clone();
        config.subset = settings.subset;
        config.validate()?;
        let problem = QuantProblem::new(
            b.model.clone(),
            b.calibration.clone(),
            &seqs,
            labels,
            settings.objectives.clone(),
        )?;
        Ok((problem, config, set.len()))
    }

    fn view_of(r: &Running) -> SearchView {
        SearchView {
            config: r.search.config.clone(),
            homogeneous: r.search.homogeneous().to_vec(),
            generations: r.search.generations().to_vec(),
            float_accuracy: r.problem.float_accuracy(),
            opened: false,
            model_key: r.settings.model.clone(),
            best_within_1pp: r.search.result().best_within_1pp,
            hv_homogeneous: r.search.hypervolumes().1,
        }
    }

    fn start_search(&mut self, id: Id, settings: SearchSettings) -> Result<Outcome, WebError> {
        if self.search_running() {
            return Err(WebError::Request {
                what: "search",
                detail: "a search is already running; cancel it first".into(),
            });
        }
        let (problem, config, split_size) = self.build_search(&settings)?;
        let search = Search::new(config, &problem)?;
        let run = Running::new(id, settings, search, problem, split_size);
        let view = Self::view_of(&run);
        let ckpt = Self::checkpoint_of(&run)?;
        self.run = Some(run);
        Ok(Outcome {
            replies: vec![Envelope::bare(FromWorker::SearchStarted { id, view })],
            effects: vec![Effect::SaveCheckpoint(ckpt), Effect::RunSearch],
        })
    }

    fn checkpoint_of(r: &Running) -> Result<String, WebError> {
        let c = StoredCheckpoint {
            settings: r.settings.clone(),
            float_accuracy: r.problem.float_accuracy(),
            split_size: r.split_size,
            search: r.search.to_json()?,
        };
        serde_json::to_string(&c).map_err(|e| WebError::Request {
            what: "checkpoint",
            detail: e.to_string(),
        })
    }

    /// Runs one whole generation of the running search (native callers and tests; the worker
    /// uses [`Compute::step_search_part`]). `Ok(false)`: no search is running.
    pub fn step_search(&mut self) -> Result<bool, (Id, WebError)> {
        loop {
            match self.step_search_part()? {
                SearchStep::Idle => return Ok(false),
                SearchStep::Complete => return Ok(true),
                SearchStep::Partial(_) => {}
            }
        }
    }

    /// Advances the running search by at most [`SEARCH_CHUNK`] new evaluations, so that the
    /// worker reports progress inside a long generation and handles pause and cancel between
    /// chunks; the search is the same as with whole generations (`Search::step_partial`). After
    /// [`SearchStep::Complete`], record the generation's wall time with [`Compute::finish_step`].
    pub fn step_search_part(&mut self) -> Result<SearchStep, (Id, WebError)> {
        let Some(r) = self.run.as_mut().filter(|r| r.state == RunState::Running) else {
            return Ok(SearchStep::Idle);
        };
        let generation = r.search.generations().len();
        match r
            .search
            .step_partial(&r.problem, SEARCH_CHUNK)
            .map_err(|e| (r.id, e.into()))?
        {
            StepProgress::Partial { done, total } => Ok(SearchStep::Partial(Outcome::reply(
                FromWorker::GenerationProgress {
                    id: r.id,
                    generation,
                    done,
                    total,
                },
            ))),
            StepProgress::Complete => {
                r.new_evals = r
                    .search
                    .generations()
                    .last()
                    .map_or(0, |g| g.new_evaluations);
                Ok(SearchStep::Complete)
            }
        }
    }

    /// Records the wall time of the generation just run and returns its progress event and
    /// the checkpoint (plus the end event when the search is done).
    pub fn finish_step(&mut self, seconds: f64) -> Outcome {
        let Some(r) = self.run.as_mut() else {
            return Outcome::default();
        };
        r.search.set_seconds(seconds);
        r.seconds.push(seconds);
        let total = r.search.config.gens;
        let done = r.search.generations().len();
        let mean = r.seconds.iter().sum::<f64>() / r.seconds.len() as f64;
        let progress = Progress {
            record: r.search.generations().last().expect("stepped").clone(),
            done,
            total,
            evaluated: r.search.n_evaluated(),
            evals_per_s: r.new_evals as f64 / seconds.max(1e-9),
            eta_s: mean * (total - done) as f64,
            best_within_1pp: r.search.result().best_within_1pp,
        };
        let id = r.id;
        let mut out = Outcome {
            replies: vec![Envelope::bare(FromWorker::Generation { id, progress })],
            effects: vec![],
        };
        if r.search.is_done() {
            r.state = RunState::Finished;
            out.replies.push(Envelope::bare(FromWorker::SearchEnded {
                id,
                end: SearchEnd::Finished,
            }));
            out.effects.push(Effect::DeleteCheckpoint);
        } else {
            match Self::checkpoint_of(r) {
                Ok(c) => out.effects.push(Effect::SaveCheckpoint(c)),
                Err(e) => out.replies.push(Envelope::bare(FromWorker::Error {
                    id: Some(id),
                    during: Stage::Checkpoint,
                    message: e.to_string(),
                })),
            }
        }
        out
    }

    /// The checkpoint read from IndexedDB (`None`: there is none).
    pub fn checkpoint_read(&mut self, id: Id, resume: bool, stored: Option<String>) -> Outcome {
        let parsed = stored.map(|s| {
            serde_json::from_str::<StoredCheckpoint>(&s)
                .map_err(|e| WebError::Request {
                    what: "checkpoint",
                    detail: format!("unreadable ({e}); discard it"),
                })
                .and_then(|c| Ok((Search::from_json(&c.search)?, c)))
        });
        if !resume {
            return match parsed {
                None => Outcome::reply(FromWorker::CheckpointFound { id, found: None }),
                Some(Err(e)) => Outcome::error(Some(id), Stage::Checkpoint, e),
                Some(Ok((s, c))) => Outcome::reply(FromWorker::CheckpointFound {
                    id,
                    found: Some(CheckpointInfo {
                        task: s.config.task.clone(),
                        model: c.settings.model.clone(),
                        model_digest: s.config.model_digest.clone(),
                        done: s.generations().len(),
                        total: s.config.gens,
                        pop: s.config.pop,
                        seed: s.config.seed,
                    }),
                }),
            };
        }
        let resumed = match parsed {
            None => Err(WebError::Request {
                what: "checkpoint",
                detail: "there is no checkpoint to resume".into(),
            }),
            Some(r) => r.and_then(|(s, c)| self.resume_from(id, s, c)),
        };
        match resumed {
            Ok(out) => out,
            Err(e) => Outcome::error(Some(id), Stage::Checkpoint, e),
        }
    }

    fn resume_from(
        &mut self,
        id: Id,
        search: Search,
        c: StoredCheckpoint,
    ) -> Result<Outcome, WebError> {
        if self.search_running() {
            return Err(WebError::Request {
                what: "search",
                detail: "a search is already running".into(),
            });
        }
        let (problem, config, split_size) = self.build_search(&c.settings)?;
        if let Some((field, was, now)) = search.config.difference(&config) {
            return Err(WebError::Request {
                what: "checkpoint",
                detail: format!(
                    "it was made with {field} = {was}, the loaded model and data give {now}"
                ),
            });
        }
        let run = Running::new(id, c.settings, search, problem, split_size);
        let view = Self::view_of(&run);
        let done = run.search.is_done();
        self.run = Some(run);
        Ok(Outcome {
            replies: vec![Envelope::bare(FromWorker::SearchStarted { id, view })],
            effects: if done {
                vec![]
            } else {
                vec![Effect::RunSearch]
            },
        })
    }

    fn open_result(&mut self, file_name: &str, bufs: &[Vec<u8>]) -> Result<SearchView, WebError> {
        expect_bufs("OpenResult", bufs, 1)?;
        let text = std::str::from_utf8(&bufs[0]).map_err(|e| WebError::Upload {
            file: file_name.to_string(),
            detail: format!("not UTF-8 text: {e}"),
        })?;
        let r = SearchResult::from_json(text).map_err(|e| WebError::Upload {
            file: file_name.to_string(),
            detail: e.to_string(),
        })?;
        let model_key = self
            .models
            .iter()
            .find(|(_, m)| match &m.kind {
                ModelKind::Float(b) => {
                    model_digest(&b.model, &b.calibration) == r.config.model_digest
                }
                _ => false,
            })
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        let view = SearchView {
            config: r.config.clone(),
            homogeneous: r.homogeneous.clone(),
            generations: r.generations.clone(),
            float_accuracy: r.fitness.float_accuracy,
            opened: true,
            model_key,
            best_within_1pp: r.best_within_1pp.clone(),
            hv_homogeneous: r.hypervolume.homogeneous,
        };
        self.opened = Some(r);
        Ok(view)
    }

    /// The current search (running, paused or finished here) or the opened one, as result.json.
    fn result_json(&self) -> Result<(String, String), WebError> {
        let result = match &self.run {
            Some(r) => {
                let mut res = r.search.result();
                res.fitness = FitnessInfo {
                    split_size: r.split_size,
                    subset: r.problem.len(),
                    float_accuracy: r.problem.float_accuracy(),
                };
                res
            }
            None => self.opened.clone().ok_or_else(|| WebError::Request {
                what: "result",
                detail: "no search has run or been opened".into(),
            })?,
        };
        let text = serde_json::to_string_pretty(&result).map_err(|e| WebError::Request {
            what: "result",
            detail: e.to_string(),
        })?;
        Ok((format!("{}-result.json", result.config.task), text))
    }

    fn samples(&self, key: &str, indices: &[usize]) -> Result<(Vec<usize>, Vec<u8>), WebError> {
        let m = self.loaded(key)?;
        let d = match (&self.mnist, m.info.task.as_str()) {
            (Some(d), "row-mnist" | "pixel-mnist") => d,
            _ => {
                return Err(WebError::Request {
                    what: "samples",
                    detail: format!("model {key:?} has no MNIST images loaded"),
                })
            }
        };
        let mut labels = Vec::with_capacity(indices.len());
        let mut bytes = Vec::with_capacity(indices.len() * 784);
        for &i in indices {
            if i >= d.len() {
                return Err(WebError::Request {
                    what: "sample",
                    detail: format!("{i} (there are {} images)", d.len()),
                });
            }
            labels.push(d.labels[i] as usize);
            bytes.extend_from_slice(d.image(i));
        }
        Ok((labels, bytes))
    }

    fn export(
        &self,
        key: &str,
        genome: &Genome,
        format: ExportFormat,
    ) -> Result<(String, String, Vec<u8>), WebError> {
        let m = self.loaded(key)?;
        let q = Self::prepared(m, genome)?;
        let stem = format!("{}-{genome}", m.info.task);
        match format {
            ExportFormat::Bitgru => {
                let meta = m.kind.meta().provenance();
                let provenance = serde_json::json!({
                    "exported_by": "bitgru web app",
                    "model_file": m.info.file_name,
                    "model_meta": meta,
                    "genome": genome,
                    "size": bitgru::size::report(genome, m.info.dims),
                });
                let bytes = bitgru::io::qfile::save_quant(&q, provenance)?;
                Ok((
                    format!("{stem}.bitgru"),
                    "application/octet-stream".into(),
                    bytes,
                ))
            }
            ExportFormat::CZip => {
                let bytes = crate::export::c_zip(&q, &m.info)?;
                Ok((format!("{stem}-c.zip"), "application/zip".into(), bytes))
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Listen: the live keyword-spotting session (src/listen.rs).
// ------------------------------------------------------------------------------------------
impl Compute {
    fn listen_message(
        &mut self,
        msg: ToWorker,
        bufs: &[Vec<u8>],
        now_ms: &dyn Fn() -> f64,
    ) -> Result<Outcome, WebError> {
        use crate::listen::{decode_file, samples_of, RATE};
        let no_session = || WebError::Request {
            what: "listen session",
            detail: "none is running; start listening first".into(),
        };
        let hops = |id: Id, report| Outcome::reply(FromWorker::ListenHops { id, report });
        match msg {
            ToWorker::ListenStart { id, settings } => {
                let session = self.listen_session(settings, RATE)?;
                let info = session.info().clone();
                self.listen = Some(session);
                Ok(Outcome::reply(FromWorker::ListenStarted { id, info }))
            }
            ToWorker::ListenChunk { id, sample_rate } => {
                expect_bufs("ListenChunk", bufs, 1)?;
                let samples = samples_of(&bufs[0])?;
                let s = self.listen.as_ref().ok_or_else(no_session)?;
                if s.input_rate() != sample_rate {
                    // The browser records at another rate: detectors that resample it.
                    let settings = s.settings().clone();
                    let fresh = self.listen_session(settings, sample_rate)?;
                    self.listen = Some(fresh);
                }
                let s = self.listen.as_mut().ok_or_else(no_session)?;
                Ok(hops(id, s.push(&samples, now_ms)?))
            }
            ToWorker::ListenFile { id, file_name } => {
                expect_bufs("ListenFile", bufs, 1)?;
                let settings = self
                    .listen
                    .as_ref()
                    .ok_or_else(no_session)?
                    .settings()
                    .clone();
                let samples = decode_file(&file_name, &bufs[0])?;
                let mut fresh = self.listen_session(settings, RATE)?;
                let mut report = fresh.push(&samples, now_ms)?;
                let tail = fresh.finish(now_ms)?;
                let n = (report.hops.len(), tail.hops.len());
                let mean =
                    |a: f64, b: f64| (a * n.0 as f64 + b * n.1 as f64) / (n.0 + n.1).max(1) as f64;
                report.us_per_hop = mean(report.us_per_hop, tail.us_per_hop);
                for (a, b) in report
                    .us_per_hop_variant
                    .iter_mut()
                    .zip(&tail.us_per_hop_variant)
                {
                    *a = mean(*a, *b);
                }
                report.hops.extend(tail.hops);
                report.detections.extend(tail.detections);
                self.listen = Some(fresh);
                Ok(hops(id, report))
            }
            ToWorker::ListenSave { id } => {
                let s = self.listen.as_ref().ok_or_else(no_session)?;
                Ok(Outcome {
                    replies: vec![Envelope::with(
                        FromWorker::File {
                            id,
                            file_name: "bitgru-last-3s.wav".into(),
                            mime: "audio/wav".into(),
                        },
                        vec![s.last_audio_wav()],
                    )],
                    effects: vec![],
                })
            }
            ToWorker::ListenStop { id } => {
                self.listen = None;
                Ok(Outcome::reply(FromWorker::Done { id }))
            }
            other => Err(WebError::Request {
                what: "listen message",
                detail: format!("{other:?} is not one"),
            }),
        }
    }

    /// A new session on a loaded keyword model; keeps the audio of the current one.
    fn listen_session(
        &mut self,
        settings: ListenSettings,
        input_rate: u32,
    ) -> Result<crate::listen::Session, WebError> {
        let m = self.loaded(&settings.model)?;
        let ModelKind::Float(b) = &m.kind else {
            return Err(WebError::Request {
                what: "model",
                detail: format!(
                    "{}: listening needs float weights with calibration, not a {}",
                    settings.model, m.info.kind
                ),
            });
        };
        let mut s = crate::listen::Session::new(b, settings, input_rate)?;
        if let Some(old) = self.listen.take() {
            s.keep_audio_of(old);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: &[u8] = include_bytes!("../assets/models/row-mnist.safetensors");
    const MNIST: &[u8] = include_bytes!("../assets/data/mnist-test-500.bin.gz");

    fn handle(c: &mut Compute, msg: ToWorker, bufs: Vec<Vec<u8>>) -> Outcome {
        c.handle(Envelope::with(msg, bufs), &|| 0.0)
    }

    /// Loads a default model file into slot `key`.
    fn load_default(c: &mut Compute, key: &str, bytes: &[u8]) {
        let out = handle(
            c,
            ToWorker::LoadModel {
                id: 1,
                key: key.into(),
                file_name: format!("{key}.safetensors"),
                task: None,
            },
            vec![bytes.to_vec()],
        );
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
    }

    fn loaded_row() -> Compute {
        let mut c = Compute::new();
        load_default(&mut c, "row-mnist", ROW);
        let out = handle(
            &mut c,
            ToWorker::LoadData {
                id: 2,
                kind: DataKind::Mnist,
            },
            vec![MNIST.to_vec()],
        );
        match &out.replies[0].msg {
            FromWorker::DataLoaded { n, models, .. } => {
                assert_eq!(*n, 500);
                assert_eq!(models[0].1.eval_sequences, 500);
            }
            other => panic!("{other:?}"),
        }
        c
    }

    #[test]
    fn evaluations_run_in_chunks_with_progress_and_can_be_cancelled() {
        let mut c = loaded_row();
        let g: Genome = "64576888548886757".parse().unwrap();
        let eval = |c: &mut Compute, id| {
            handle(
                c,
                ToWorker::Evaluate {
                    id,
                    model: "row-mnist".into(),
                    genome: g,
                },
                vec![],
            )
        };
        let out = eval(&mut c, 50);
        assert!(out.replies.is_empty());
        assert_eq!(out.effects, vec![Effect::RunEvaluation]);
        let mut events = Vec::new();
        while c.evaluation_running() {
            events.extend(
                c.step_evaluation(&|| 0.0)
                    .replies
                    .into_iter()
                    .map(|e| e.msg),
            );
        }
        // 500 sequences: 128, 256, 384, then the report.
        let (progress, last) = events.split_at(events.len() - 1);
        let done: Vec<usize> = progress
            .iter()
            .map(|m| match m {
                FromWorker::EvalProgress {
                    id: 50,
                    done,
                    total: 500,
                } => *done,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(done, vec![128, 256, 384]);
        let FromWorker::Evaluated { id: 50, report } = &last[0] else {
            panic!("{:?}", last[0])
        };
        // The same numbers as the whole-set fitness problem of the search.
        let m = c.model("row-mnist").unwrap();
        let ModelKind::Float(b) = &m.kind else {
            panic!()
        };
        let set = m.eval.as_ref().unwrap();
        let p = QuantProblem::new(
            b.model.clone(),
            b.calibration.clone(),
            &set.sequences,
            set.labels.clone(),
            vec![Objective::Error, Objective::Size],
        )
        .unwrap();
        let pred = p.predictions(&g).unwrap();
        assert_eq!(report.predictions, pred);
        assert_eq!(report.float_accuracy, p.float_accuracy());
        assert_eq!(report.agreement, p.evaluation_of(&g, &pred).agreement);
        // Cancel after one chunk; a second request supersedes a running one.
        eval(&mut c, 51);
        c.step_evaluation(&|| 0.0);
        let out = eval(&mut c, 52);
        assert!(matches!(
            &out.replies[0].msg,
            FromWorker::EvaluationCancelled { id: 51, reason } if reason.contains("52")
        ));
        let out = handle(
            &mut c,
            ToWorker::CancelEvaluation { id: 53, target: 52 },
            vec![],
        );
        let msgs: Vec<_> = out.replies.into_iter().map(|e| e.msg).collect();
        assert!(matches!(
            msgs[0],
            FromWorker::EvaluationCancelled { id: 52, .. }
        ));
        assert!(matches!(msgs[1], FromWorker::Done { id: 53 }));
        assert!(!c.evaluation_running());
        assert!(c.step_evaluation(&|| 0.0).replies.is_empty());
    }

    /// The bundled KWS features go only to models with their front end, one pack per front end:
    /// the default kws4 model (filterbank up to 8 kHz) gets its own pack, a kws4 model with the
    /// default MFCC (same 49 × 10 shape) gets the default pack, one with yet another MFCC gets
    /// none rather than features it was not trained on; a second pack of a loaded front end
    /// replaces the first.
    #[test]
    fn bundled_kws_features_need_the_models_front_end() {
        let kws4 = include_bytes!("../assets/models/kws4.safetensors");
        let with_fmax = |fmax: f64| {
            let mut b = bitgru::io::load_bundle(kws4).unwrap();
            match &mut b.meta.features {
                FrontEnd::Mfcc { config, .. } => config.fmax = fmax,
                f => panic!("kws4's front end is {f:?}"),
            }
            bitgru::io::save_bundle(&b).unwrap()
        };
        let default_fmax = bitgru::audio::mfcc::MfccConfig::default().fmax;
        let mut c = Compute::new();
        for (id, key, bytes) in [
            (1, "kws4", kws4.to_vec()),
            (2, "kws4-default-mfcc", with_fmax(default_fmax)),
            (3, "kws4-6k", with_fmax(6000.0)),
        ] {
            let out = handle(
                &mut c,
                ToWorker::LoadModel {
                    id,
                    key: key.into(),
                    file_name: format!("{key}.safetensors"),
                    task: None,
                },
                vec![bytes],
            );
            assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        }
        let default_pack = include_bytes!("../assets/data/kws-validation-mfcc.bin.gz").to_vec();
        let kws4_pack = include_bytes!("../assets/data/kws4-validation-mfcc8k.bin.gz").to_vec();
        let eval = |c: &Compute, k: &str| c.model(k).unwrap().eval.clone();
        let load = |c: &mut Compute, id, packs: Vec<Vec<u8>>| {
            let out = handle(
                c,
                ToWorker::LoadData {
                    id,
                    kind: DataKind::KwsMfcc,
                },
                packs,
            );
            match &out.replies[0].msg {
                FromWorker::DataLoaded { n, .. } => assert_eq!(*n, 483),
                other => panic!("{other:?}"),
            }
        };
        // The default pack alone: only the default-MFCC model has data.
        load(&mut c, 4, vec![default_pack.clone()]);
        assert!(eval(&c, "kws4").is_none());
        assert!(eval(&c, "kws4-6k").is_none());
        let default_set = eval(&c, "kws4-default-mfcc").expect("default MFCC features");
        assert_eq!(default_set.sequences.len(), 483);
        // Both packs (as the page fetches them): the default kws4 model gets its own features.
        load(&mut c, 5, vec![default_pack, kws4_pack.clone()]);
        assert_eq!(c.mfcc.len(), 2, "one pack per front end");
        let own = eval(&c, "kws4").expect("the kws4 model's own pack");
        let want = MfccPack::parse(&kws4_pack).unwrap();
        assert_eq!(own.sequences, want.sequences);
        assert_ne!(own.sequences, default_set.sequences);
        assert_eq!(own.labels, default_set.labels, "the same clips");
        assert_eq!(eval(&c, "kws4-default-mfcc").unwrap(), default_set);
        assert!(eval(&c, "kws4-6k").is_none());
        // A bad pack leaves the loaded ones untouched.
        let out = handle(
            &mut c,
            ToWorker::LoadData {
                id: 6,
                kind: DataKind::KwsMfcc,
            },
            vec![kws4_pack, b"not a pack".to_vec()],
        );
        assert!(matches!(out.replies[0].msg, FromWorker::Error { .. }));
        assert_eq!(c.mfcc.len(), 2);
    }

    #[test]
    fn listen_messages_run_a_session() {
        let mut c = Compute::new();
        let kws4 = include_bytes!("../assets/models/kws4.safetensors").to_vec();
        let out = handle(
            &mut c,
            ToWorker::LoadModel {
                id: 1,
                key: "kws4".into(),
                file_name: "kws4.safetensors".into(),
                task: None,
            },
            vec![kws4],
        );
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        let chunk = |c: &mut Compute, id, rate, n: usize| {
            let bytes: Vec<u8> = (0..n)
                .flat_map(|i| (0.2 * (i as f32 * 0.05).sin()).to_le_bytes())
                .collect();
            handle(
                c,
                ToWorker::ListenChunk {
                    id,
                    sample_rate: rate,
                },
                vec![bytes],
            )
        };
        // No session yet: a specific error.
        match &chunk(&mut c, 2, 16_000, 320).replies[0].msg {
            FromWorker::Error {
                id: Some(2),
                during: Stage::Listen,
                message,
            } => assert!(message.contains("start listening"), "{message}"),
            other => panic!("{other:?}"),
        }
        let settings = ListenSettings {
            model: "kws4".into(),
            variants: vec![
                crate::protocol::ListenVariant::Integer {
                    genome: Genome::uniform(8).unwrap(),
                },
                crate::protocol::ListenVariant::Float,
            ],
            threshold: None,
            refractory_ms: 1000,
            gate_dbfs: -50.0,
            fewer_speech_alarms: false,
        };
        let out = handle(&mut c, ToWorker::ListenStart { id: 3, settings }, vec![]);
        match &out.replies[0].msg {
            FromWorker::ListenStarted { info, .. } => {
                assert_eq!(info.labels, ["8 bits", "float"]);
                assert_eq!(info.class_names.len(), 6);
                assert_eq!((info.hop_ms, info.n_features), (20.0, 10));
                // The default smoothing: 20 frames of 20 ms.
                assert_eq!(info.smooth_ms, 400.0);
                // No threshold chosen: the model's own, from its bundle.
                let meta =
                    bitgru::io::load_bundle(include_bytes!("../assets/models/kws4.safetensors"))
                        .unwrap()
                        .meta;
                assert_eq!(
                    info.threshold,
                    f64::from(bitgru::detect::DetectorConfig::for_model(&meta).threshold)
                );
            }
            other => panic!("{other:?}"),
        }
        match &chunk(&mut c, 4, 16_000, 16_000).replies[0].msg {
            FromWorker::ListenHops { report, .. } => {
                assert_eq!(report.hops.len(), 49);
                assert_eq!(report.hops[0].probs.len(), 2);
                assert_eq!(report.hops[0].features.len(), 10);
            }
            other => panic!("{other:?}"),
        }
        // A 48 kHz chunk: the session follows the rate.
        match &chunk(&mut c, 5, 48_000, 48_000).replies[0].msg {
            FromWorker::ListenHops { report, .. } => {
                assert!(
                    (47..=49).contains(&report.hops.len()),
                    "{}",
                    report.hops.len()
                )
            }
            other => panic!("{other:?}"),
        }
        let out = handle(&mut c, ToWorker::ListenSave { id: 6 }, vec![]);
        match &out.replies[0].msg {
            FromWorker::File { mime, .. } => assert_eq!(mime, "audio/wav"),
            other => panic!("{other:?}"),
        }
        assert!(out.replies[0].bufs[0].starts_with(b"RIFF"));
        let out = handle(
            &mut c,
            ToWorker::ListenFile {
                id: 7,
                file_name: "noise.flac".into(),
            },
            vec![b"fLaC garbage".to_vec()],
        );
        assert!(matches!(&out.replies[0].msg,
            FromWorker::Error { message, .. } if message.starts_with("noise.flac: ")));
        let out = handle(&mut c, ToWorker::ListenStop { id: 8 }, vec![]);
        assert!(matches!(out.replies[0].msg, FromWorker::Done { id: 8 }));
        assert!(matches!(
            chunk(&mut c, 9, 16_000, 320).replies[0].msg,
            FromWorker::Error { .. }
        ));
    }

    #[test]
    fn breakdown_sums_to_the_size_metric() {
        let d = Dims {
            input: 28,
            hidden: 128,
            classes: 10,
        };
        for g in [
            "88888888888888888",
            "64576888548886757",
            "22222222222222222",
        ] {
            let g: Genome = g.parse().unwrap();
            let sum: u64 = size_breakdown(&g, d).iter().map(|o| o.bits).sum();
            assert_eq!(sum, bitgru::size::size_bits(&g, d), "{g}");
        }
    }

    #[test]
    fn a_bad_upload_leaves_the_model_untouched() {
        let mut c = loaded_row();
        for (name, bytes) in [
            (
                "broken.safetensors",
                b"\x10\0\0\0\0\0\0\0{not json".to_vec(),
            ),
            ("empty.npz", Vec::new()),
            ("x.bitgru", ROW.to_vec()),
            ("weights.npz", b"PK\x03\x04garbage".to_vec()),
        ] {
            let out = handle(
                &mut c,
                ToWorker::LoadModel {
                    id: 7,
                    key: "row-mnist".into(),
                    file_name: name.into(),
                    task: None,
                },
                vec![bytes],
            );
            match &out.replies[0].msg {
                FromWorker::Error {
                    id: Some(7),
                    during: Stage::Load,
                    message,
                } => assert!(message.contains(name), "{message}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        // Still the row-mnist bundle with its data.
        let m = c.model("row-mnist").unwrap();
        assert_eq!(m.info.file_name, "row-mnist.safetensors");
        let g = Genome::uniform(8).unwrap();
        let r = c.evaluate("row-mnist", &g, &|| 0.0).unwrap();
        assert!(r.accuracy > 0.95, "{}", r.accuracy);
    }

    /// A 16 kHz mono 16-bit PCM WAV of a tone.
    fn wav(freq: f32, samples: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..samples)
            .flat_map(|k| {
                let v = (8000.0 * (k as f32 * freq * std::f32::consts::TAU / 16000.0).sin()) as i16;
                v.to_le_bytes()
            })
            .collect();
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes()); // PCM
        b.extend_from_slice(&1u16.to_le_bytes()); // mono
        b.extend_from_slice(&16000u32.to_le_bytes());
        b.extend_from_slice(&32000u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&data);
        b
    }

    fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn eval_data(c: &mut Compute, key: &str, files: Vec<(&str, Vec<u8>)>) -> Outcome {
        let (names, bufs): (Vec<String>, Vec<Vec<u8>>) =
            files.into_iter().map(|(n, b)| (n.to_string(), b)).unzip();
        handle(
            c,
            ToWorker::LoadEvalData {
                id: 30,
                model: key.into(),
                files: names,
            },
            bufs,
        )
    }

    fn error_of(out: &Outcome) -> String {
        match &out.replies[0].msg {
            FromWorker::Error { message, .. } => message.clone(),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn uploaded_mnist_idx_and_clips_become_the_evaluation_data_or_nothing() {
        let mut c = loaded_row();
        let d = MnistData::parse_pack(MNIST).unwrap();
        // The first 30 digits as IDX files, labels first (told apart by content), one gzipped.
        let mut img = 0x0803u32.to_be_bytes().to_vec();
        for v in [30u32, 28, 28] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        img.extend_from_slice(&d.images[..30 * 784]);
        let mut lab = 0x0801u32.to_be_bytes().to_vec();
        lab.extend_from_slice(&30u32.to_be_bytes());
        lab.extend_from_slice(&d.labels[..30]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &img).unwrap();
        let img_gz = gz.finish().unwrap();
        // Bad: 29 labels for 30 images; the model keeps its 500 digits.
        let mut short = lab.clone();
        short[7] = 29;
        short.pop();
        let e = error_of(&eval_data(
            &mut c,
            "row-mnist",
            vec![("l.idx1", short), ("i.idx3.gz", img_gz.clone())],
        ));
        assert!(e.contains("29 labels for 30 images"), "{e}");
        assert_eq!(c.model("row-mnist").unwrap().info.eval_sequences, 500);
        // Not any known format.
        let e = error_of(&eval_data(
            &mut c,
            "row-mnist",
            vec![("x.bin", vec![1, 2, 3])],
        ));
        assert!(e.starts_with("x.bin: not a bitgru inputs JSON"), "{e}");
        // Good.
        let out = eval_data(
            &mut c,
            "row-mnist",
            vec![("l.idx1", lab), ("i.idx3.gz", img_gz)],
        );
        assert!(
            matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }),
            "{:?}",
            out.replies[0].msg
        );
        let r = c
            .evaluate("row-mnist", &Genome::uniform(8).unwrap(), &|| 0.0)
            .unwrap();
        assert_eq!((r.n, r.eval_source.as_str()), (30, "i.idx3.gz (30 digits)"));

        // Clips need a keyword model.
        let clips = zip_of(&[
            ("sc/yes/a_nohash_0.wav", wav(440.0, 16000)),
            ("sc/left/b_nohash_0.wav", wav(880.0, 12000)),
            ("sc/_background_noise_/n.wav", wav(100.0, 100)),
            ("sc/README.md", b"hello".to_vec()),
        ]);
        let e = error_of(&eval_data(
            &mut c,
            "row-mnist",
            vec![("clips.zip", clips.clone())],
        ));
        assert!(e.contains("kws4 or kws10"), "{e}");
    }

    #[test]
    fn clips_in_speech_commands_layout_are_mfcc_evaluation_data() {
        const KWS4: &[u8] = include_bytes!("../assets/models/kws4.safetensors");
        let mut c = Compute::new();
        load_default(&mut c, "kws4", KWS4);
        let good = vec![
            ("sc/yes/a_nohash_0.wav", wav(440.0, 16000)),
            ("sc/left/b_nohash_0.wav", wav(880.0, 12000)),
            ("sc/_background_noise_/n.wav", wav(100.0, 100)),
            ("sc/README.md", b"hello".to_vec()),
        ];
        // A broken clip names itself; nothing changes.
        let mut bad = good.clone();
        bad.push(("sc/no/c_nohash_0.wav", b"RIFF\x10\0\0\0WAVEjunk".to_vec()));
        let e = error_of(&eval_data(
            &mut c,
            "kws4",
            vec![("clips.zip", zip_of(&bad))],
        ));
        assert!(e.starts_with("clips.zip: clip no/c_nohash_0.wav: "), "{e}");
        assert_eq!(c.model("kws4").unwrap().info.eval_sequences, 0);
        // A zip, and the same clips as a folder: the same features.
        let out = eval_data(&mut c, "kws4", vec![("clips.zip", zip_of(&good))]);
        let FromWorker::ModelLoaded { info, .. } = &out.replies[0].msg else {
            panic!("{:?}", out.replies[0].msg)
        };
        assert_eq!(info.eval_sequences, 2);
        let zipped = c.eval_set("kws4").unwrap().clone();
        // left is not a kws4 keyword: _unknown_ (5); yes is 0. Sorted by path: left, yes.
        assert_eq!(zipped.labels, vec![5, 0]);
        assert_eq!((zipped.steps, zipped.input), (49, 10));
        let out = eval_data(&mut c, "kws4", good.clone());
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        assert_eq!(c.eval_set("kws4").unwrap().sequences, zipped.sequences);
        let r = c
            .evaluate("kws4", &Genome::uniform(8).unwrap(), &|| 0.0)
            .unwrap();
        assert_eq!(r.n, 2);
        // A model trained with another MFCC (the default one, filterbank up to 4 kHz; the
        // default kws4 model's reaches 8 kHz) gets the clips' features in its own front end.
        let mut other = bitgru::io::load_bundle(KWS4).unwrap();
        let FrontEnd::Mfcc { config, .. } = &mut other.meta.features else {
            panic!("kws4 has an MFCC front end")
        };
        assert_ne!(config.fmax, 4000.0);
        config.fmax = 4000.0;
        let want = bitgru::data::features::mfcc_sequences(
            &[
                bitgru::audio::decode(&wav(880.0, 12000), &Default::default())
                    .map(|mut x| {
                        bitgru::audio::fit_length(&mut x, 16000);
                        x
                    })
                    .unwrap(),
            ],
            &bitgru::audio::mfcc::Mfcc::new(config.clone()).unwrap(),
        )
        .unwrap();
        load_default(&mut c, "kws4-4k", &bitgru::io::save_bundle(&other).unwrap());
        let out = eval_data(&mut c, "kws4-4k", vec![("clips.zip", zip_of(&good))]);
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        let own = c.eval_set("kws4-4k").unwrap();
        assert_eq!(own.sequences[0], want[0]);
        assert_ne!(own.sequences[0], zipped.sequences[0]);
    }

    #[test]
    fn the_metadata_form_names_classes_and_is_checked_against_the_weights() {
        const DEMO: &[u8] = include_bytes!("../assets/models/demo.safetensors");
        let (_, info) = read_model("demo.safetensors", DEMO).unwrap();
        let n = info.dims.classes;
        let mut c = loaded_row();
        let upload = |c: &mut Compute, meta: UploadMeta| {
            handle(
                c,
                ToWorker::UploadModel {
                    id: 40,
                    key: "upload:demo".into(),
                    file_name: "demo.safetensors".into(),
                    meta,
                },
                vec![DEMO.to_vec()],
            )
        };
        let names: Vec<String> = (0..n).map(|k| format!("k{k}")).collect();
        for (meta, want) in [
            (
                UploadMeta {
                    input: Some(info.dims.input + 1),
                    ..UploadMeta::default()
                },
                format!("the metadata says {} input features", info.dims.input + 1),
            ),
            (
                UploadMeta {
                    classes: names[1..].to_vec(),
                    ..UploadMeta::default()
                },
                format!("{} class names for a model with {n} outputs", n - 1),
            ),
            (
                UploadMeta {
                    task: "kws4".into(),
                    ..UploadMeta::default()
                },
                format!("the file says task {}, the metadata says kws4", info.task),
            ),
        ] {
            let e = error_of(&upload(&mut c, meta));
            assert!(
                e.starts_with("demo.safetensors: ") && e.contains(&want),
                "{e}"
            );
            assert!(c.model("upload:demo").is_none());
        }
        let out = upload(
            &mut c,
            UploadMeta {
                classes: names.clone(),
                input: Some(info.dims.input),
                steps: Some(12),
                ..UploadMeta::default()
            },
        );
        let FromWorker::ModelLoaded { info: got, .. } = &out.replies[0].msg else {
            panic!("{:?}", out.replies[0].msg)
        };
        assert_eq!((&got.class_names, got.steps), (&names, Some(12)));
        // The exported model carries the names.
        let (_, _, bytes) = c
            .export(
                "upload:demo",
                &Genome::uniform(8).unwrap(),
                ExportFormat::Bitgru,
            )
            .unwrap();
        let (_, prov) = bitgru::io::qfile::load_quant(&bytes).unwrap();
        assert_eq!(prov["model_meta"]["classes"], serde_json::json!(names));
    }

    /// A `.bitgru` exported from the app and loaded back keeps the model's meta when it is
    /// exported again: its front end (the Listen page and the evaluation data follow it), its
    /// detector threshold and its provenance. (Re-exports of quantized models used to write
    /// `model_meta: null`.)
    #[test]
    fn a_reexported_bitgru_keeps_the_models_meta() {
        const KWS4: &[u8] = include_bytes!("../assets/models/kws4.safetensors");
        let want = bitgru::io::load_bundle(KWS4).unwrap().meta;
        assert!(want.detect_threshold.is_some() && want.features != FrontEnd::Raw);
        let mut c = Compute::new();
        load_default(&mut c, "kws4", KWS4);
        let g: Genome = "24423337887886244".parse().unwrap();
        let (name, _, first) = c.export("kws4", &g, ExportFormat::Bitgru).unwrap();
        let out = handle(
            &mut c,
            ToWorker::LoadModel {
                id: 2,
                key: "exported".into(),
                file_name: name,
                task: None,
            },
            vec![first.clone()],
        );
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        let loaded = c.model("exported").unwrap().kind.meta().clone();
        assert_eq!(loaded.features, want.features);
        assert_eq!(loaded.detect_threshold, want.detect_threshold);
        let (_, _, again) = c.export("exported", &g, ExportFormat::Bitgru).unwrap();
        let (q1, p1) = bitgru::io::qfile::load_quant(&first).unwrap();
        let (q2, p2) = bitgru::io::qfile::load_quant(&again).unwrap();
        assert_eq!(q1, q2);
        assert!(p2["model_meta"].is_object(), "{p2}");
        let back = bitgru::io::ModelMeta::from_provenance(&p2).unwrap();
        assert_eq!(back.features, want.features);
        assert_eq!(back.detect_threshold, want.detect_threshold);
        assert_eq!(back.command, want.command);
        assert_eq!(p2["model_meta"], p1["model_meta"]);
    }

    #[test]
    fn inputs_json_replaces_the_evaluation_data_or_nothing() {
        let mut c = loaded_row();
        let set = c.eval_set("row-mnist").unwrap().clone();
        let small = EvalSet {
            sequences: set.sequences[..20].to_vec(),
            labels: set.labels[..20].to_vec(),
            ..set
        };
        let load = |c: &mut Compute, bytes: Vec<u8>| {
            handle(
                c,
                ToWorker::LoadInputs {
                    id: 5,
                    model: "row-mnist".into(),
                    file_name: "mine.json".into(),
                },
                vec![bytes],
            )
        };
        let out = load(
            &mut c,
            br#"{"sequences": [[1, 2, 3]], "labels": [0]}"#.to_vec(),
        );
        assert!(
            matches!(&out.replies[0].msg, FromWorker::Error { message, .. } if message.contains("mine.json"))
        );
        assert_eq!(c.model("row-mnist").unwrap().info.eval_sequences, 500);
        let out = load(&mut c, data::inputs_json(&small).into_bytes());
        assert!(matches!(out.replies[0].msg, FromWorker::ModelLoaded { .. }));
        let r = c
            .evaluate("row-mnist", &Genome::uniform(8).unwrap(), &|| 0.0)
            .unwrap();
        assert_eq!(r.n, 20);
    }

    #[test]
    fn evaluation_classification_and_exports() {
        let mut c = loaded_row();
        let g8 = Genome::uniform(8).unwrap();
        let r = c.evaluate("row-mnist", &g8, &|| 0.0).unwrap();
        assert_eq!(r.n, 500);
        assert_eq!(r.confusion.iter().flatten().sum::<usize>(), 500);
        let diag: usize = (0..10).map(|k| r.confusion[k][k]).sum();
        assert_eq!(diag as f64 / 500.0, r.accuracy);
        // A test digit classified through Classify agrees with the batch prediction.
        let out = c
            .classify("row-mnist", &[g8], &ClassifyInput::Sample { index: 3 }, &[])
            .unwrap();
        assert_eq!(out.scores[0].class, r.predictions[3]);
        assert_eq!(out.image.len(), 784);
        assert!((out.scores[0].probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // The same digit as a "drawing" (already MNIST-like) keeps its class.
        let img = out.image.clone();
        let drawn = c
            .classify(
                "row-mnist",
                &[g8],
                &ClassifyInput::Drawing {
                    width: 28,
                    height: 28,
                },
                &[img.iter().flat_map(|&a| [0, 0, 0, a]).collect()],
            )
            .unwrap();
        assert_eq!(drawn.scores[0].class, out.label.unwrap());
        // Exports: .bitgru reloads with the same predictions; the C zip holds the sources.
        let (name, _, bytes) = c.export("row-mnist", &g8, ExportFormat::Bitgru).unwrap();
        assert!(name.ends_with(".bitgru"));
        let (q, _) = bitgru::io::qfile::load_quant(&bytes).unwrap();
        let set = c.eval_set("row-mnist").unwrap();
        let codes: Vec<Vec<i8>> = set
            .sequences
            .iter()
            .map(|x| q.quantize_input(x).unwrap())
            .collect();
        assert_eq!(
            bitgru::eval::predict_batch(&q, &codes).unwrap(),
            r.predictions
        );
        let (_, mime, zip) = c.export("row-mnist", &g8, ExportFormat::CZip).unwrap();
        assert_eq!(mime, "application/zip");
        assert!(zip.starts_with(b"PK\x03\x04"));
    }

    /// The worker's chunked stepping reports progress inside a generation, pauses mid-way, and
    /// gives the front of whole generations.
    #[test]
    fn search_progress_inside_a_generation() {
        let settings = SearchSettings {
            model: "row-mnist".into(),
            subset: 30,
            pop: 20,
            gens: 2,
            seed: 9,
            objectives: vec![Objective::Error, Objective::Size],
        };
        let start = |c: &mut Compute| {
            let settings = settings.clone();
            handle(c, ToWorker::StartSearch { id: 30, settings }, vec![]);
        };
        let mut whole = loaded_row();
        start(&mut whole);
        while whole.step_search().unwrap() {
            whole.finish_step(0.1);
        }
        let mut c = loaded_row();
        start(&mut c);
        let mut events = Vec::new();
        let mut paused = false;
        loop {
            match c.step_search_part().unwrap() {
                SearchStep::Partial(out) => match &out.replies[0].msg {
                    FromWorker::GenerationProgress {
                        generation,
                        done,
                        total,
                        ..
                    } => {
                        events.push((*generation, *done, *total));
                        if !paused {
                            // Pause mid-generation: nothing runs until Resume, then it goes on.
                            paused = true;
                            handle(&mut c, ToWorker::Pause { id: 31 }, vec![]);
                            assert!(matches!(c.step_search_part(), Ok(SearchStep::Idle)));
                            handle(&mut c, ToWorker::Resume { id: 32 }, vec![]);
                        }
                    }
                    other => panic!("{other:?}"),
                },
                SearchStep::Complete => {
                    c.finish_step(0.1);
                }
                SearchStep::Idle => break,
            }
        }
        assert!(
            !events.is_empty(),
            "a population of 20 takes more than one chunk"
        );
        assert!(events
            .iter()
            .all(|&(_, d, t)| d < t && d % SEARCH_CHUNK == 0));
        let fronts = |c: &Compute| {
            SearchResult::from_json(&c.result_json().unwrap().1)
                .unwrap()
                .front
        };
        assert_eq!(fronts(&c), fronts(&whole));
    }

    #[test]
    fn search_runs_pauses_and_resumes_from_its_checkpoint() {
        let mut c = loaded_row();
        let settings = SearchSettings {
            model: "row-mnist".into(),
            subset: 40,
            pop: 4,
            gens: 3,
            seed: 5,
            objectives: vec![Objective::Error, Objective::Size],
        };
        let out = handle(
            &mut c,
            ToWorker::StartSearch {
                id: 10,
                settings: settings.clone(),
            },
            vec![],
        );
        assert!(matches!(
            out.replies[0].msg,
            FromWorker::SearchStarted { .. }
        ));
        assert!(out.effects.contains(&Effect::RunSearch));
        assert!(c.step_search().unwrap());
        let out = c.finish_step(0.5);
        let ckpt = out
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::SaveCheckpoint(s) => Some(s.clone()),
                _ => None,
            })
            .expect("a checkpoint per generation");
        // Pause stops the loop.
        handle(&mut c, ToWorker::Pause { id: 11 }, vec![]);
        assert!(!c.search_running());
        assert!(!c.step_search().unwrap());
        // Uninterrupted: finish here.
        handle(&mut c, ToWorker::Resume { id: 12 }, vec![]);
        while c.search_running() {
            c.step_search().unwrap();
            c.finish_step(0.1);
        }
        let full = c.result_json().unwrap().1;
        // Resumed elsewhere from the generation-1 checkpoint: the same result.
        let mut d = loaded_row();
        let out = d.checkpoint_read(20, false, Some(ckpt.clone()));
        match &out.replies[0].msg {
            FromWorker::CheckpointFound { found: Some(i), .. } => {
                assert_eq!((i.done, i.total), (1, 3))
            }
            other => panic!("{other:?}"),
        }
        let out = d.checkpoint_read(21, true, Some(ckpt));
        assert!(matches!(
            out.replies[0].msg,
            FromWorker::SearchStarted { .. }
        ));
        while d.search_running() {
            d.step_search().unwrap();
            d.finish_step(0.1);
        }
        let resumed = d.result_json().unwrap().1;
        let fronts = |t: &str| SearchResult::from_json(t).unwrap().front;
        assert_eq!(fronts(&full), fronts(&resumed));
        // The result opens again as a view.
        let out = handle(
            &mut d,
            ToWorker::OpenResult {
                id: 22,
                file_name: "result.json".into(),
            },
            vec![full.into_bytes()],
        );
        match &out.replies[0].msg {
            FromWorker::SearchStarted { view, .. } => {
                assert!(view.opened);
                assert_eq!(view.model_key, "row-mnist");
                assert_eq!(view.generations.len(), 3);
            }
            other => panic!("{other:?}"),
        }
        let out = handle(
            &mut d,
            ToWorker::OpenResult {
                id: 23,
                file_name: "bad.json".into(),
            },
            vec![b"{\"version\": 1}".to_vec()],
        );
        assert!(matches!(
            out.replies[0].msg,
            FromWorker::Error {
                during: Stage::Result,
                ..
            }
        ));
        // Bad settings are specific errors.
        let bad = SearchSettings {
            subset: 501,
            ..settings
        };
        let e = c.build_search(&bad).err().unwrap();
        assert!(e.to_string().contains("501"), "{e}");
    }
}
