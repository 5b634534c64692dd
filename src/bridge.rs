//! The page's link to the compute worker: starts it (threaded when the page is cross-origin
//! isolated, single-threaded otherwise or when the threaded one fails), numbers requests,
//! routes answers to their callbacks and broadcasts worker events to a handler.
use crate::protocol::{wire, Envelope, FromWorker, Id, Stage, ToWorker};
use crate::WebError;
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, Event, MessageEvent, Worker, WorkerOptions, WorkerType};

/// Which worker build runs the computations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerKind {
    /// `mt/worker_loader.js`: module worker with a wasm-bindgen-rayon pool and the simd128
    /// kernel (needs cross-origin isolation and WebAssembly SIMD).
    Threaded,
    /// `simd/worker_loader.js`: classic worker, no shared memory, simd128 kernel.
    Single,
    /// `worker_loader.js`: classic worker built by Trunk with no target features, the scalar
    /// kernel: for browsers without WebAssembly SIMD (or `?kernel=scalar` in the address).
    Scalar,
}

impl WorkerKind {
    pub fn script(self) -> &'static str {
        match self {
            WorkerKind::Threaded => "./mt/worker_loader.js",
            WorkerKind::Single => "./simd/worker_loader.js",
            WorkerKind::Scalar => "./worker_loader.js",
        }
    }

    /// The worker for a page: `isolated` (shared memory available), `simd` (the browser
    /// validates simd128 code), `force_scalar` (`?kernel=scalar`). Returns the kind and, when
    /// it is not the threaded one, why.
    pub fn choose(isolated: bool, simd: bool, force_scalar: bool) -> (WorkerKind, Option<String>) {
        if force_scalar {
            (
                WorkerKind::Scalar,
                Some(
                    "?kernel=scalar in the address: the scalar kernel, without WebAssembly SIMD"
                        .into(),
                ),
            )
        } else if !simd {
            (
                WorkerKind::Scalar,
                Some(
                    "this browser lacks WebAssembly SIMD (simd128), so the scalar kernel runs"
                        .into(),
                ),
            )
        } else if isolated {
            (WorkerKind::Threaded, None)
        } else {
            (
                WorkerKind::Single,
                Some("the page is not cross-origin isolated (the host sends no COOP/COEP headers), so shared memory is unavailable".into()),
            )
        }
    }
}

/// How the worker runs, for the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerMode {
    pub threaded: bool,
    pub threads: usize,
    pub kernel: String,
    /// Why it is single-threaded.
    pub reason: Option<String>,
}

type Callback = Box<dyn FnOnce(Envelope<FromWorker>)>;

/// A message text with its binary payloads.
type Queued = (String, Vec<Vec<u8>>);

struct Link {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Handler of events that are not a callback's answer (Ready, search progress, errors).
pub type EventHandler = std::rc::Rc<dyn Fn(Envelope<FromWorker>)>;

/// The worker link (a `Copy` handle).
#[derive(Clone, Copy)]
pub struct Bridge {
    link: StoredValue<Option<Link>, LocalStorage>,
    pending: StoredValue<HashMap<Id, Callback>, LocalStorage>,
    /// Pending requests that do not count as busy ([`Bridge::stream`]).
    quiet: StoredValue<HashSet<Id>>,
    next_id: StoredValue<Id>,
    handler: StoredValue<Option<EventHandler>, LocalStorage>,
    /// Why the single-threaded worker is used (set before it starts).
    fallback_reason: StoredValue<Option<String>>,
    /// Messages posted before the worker said Ready (it would drop them), sent on Ready.
    queued: StoredValue<Vec<Queued>, LocalStorage>,
    pub mode: RwSignal<Option<WorkerMode>>,
    /// Requests sent and not answered yet.
    pub busy: RwSignal<usize>,
}

impl Bridge {
    pub fn new() -> Self {
        Bridge {
            link: StoredValue::new_local(None),
            pending: StoredValue::new_local(HashMap::new()),
            quiet: StoredValue::new(HashSet::new()),
            next_id: StoredValue::new(1),
            handler: StoredValue::new_local(None),
            fallback_reason: StoredValue::new(None),
            queued: StoredValue::new_local(Vec::new()),
            mode: RwSignal::new(None),
            busy: RwSignal::new(0),
        }
    }

    /// Sets the handler of broadcast events.
    pub fn on_event(self, h: EventHandler) {
        self.handler.set_value(Some(h));
    }

    /// Starts the right worker for this page ([`WorkerKind::choose`]).
    pub fn start(self) -> Result<(), WebError> {
        let (kind, reason) = WorkerKind::choose(
            crate::cross_origin_isolated(),
            crate::wasm_simd_supported(),
            crate::query_param("kernel").as_deref() == Some("scalar"),
        );
        self.fallback_reason.set_value(reason);
        self.start_kind(kind)
    }

    fn start_kind(self, kind: WorkerKind) -> Result<(), WebError> {
        let worker = match kind {
            WorkerKind::Threaded => {
                let opts = WorkerOptions::new();
                opts.set_type(WorkerType::Module);
                Worker::new_with_options(kind.script(), &opts)
            }
            WorkerKind::Single | WorkerKind::Scalar => Worker::new(kind.script()),
        }
        .map_err(|e| WebError::js("starting the worker", &e))?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            self.on_message(kind, ev.data())
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            ev.prevent_default();
            let message = ev
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| format!("could not load {}", kind.script()));
            if kind == WorkerKind::Threaded && self.mode.get_untracked().is_none() {
                self.fall_back(message);
            } else {
                self.broadcast(Envelope::bare(FromWorker::Error {
                    id: None,
                    during: Stage::Start,
                    message: format!("the worker stopped: {message}"),
                }));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.mode.set(None);
        self.link.set_value(Some(Link {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        }));
        Ok(())
    }

    /// The threaded worker could not start: use the single-threaded one (after the current
    /// event handler has returned, since starting drops the handler's closure).
    fn fall_back(self, reason: String) {
        self.fallback_reason.set_value(Some(format!(
            "the threaded worker did not start ({reason})"
        )));
        leptos::task::spawn_local(async move {
            if let Err(e) = self.start_kind(WorkerKind::Single) {
                self.broadcast(Envelope::bare(FromWorker::Error {
                    id: None,
                    during: Stage::Start,
                    message: e.to_string(),
                }));
            }
        });
    }

    fn broadcast(self, env: Envelope<FromWorker>) {
        if let Some(h) = self.handler.get_value() {
            h(env);
        }
    }

    fn on_message(self, kind: WorkerKind, data: JsValue) {
        let env = match wire::from_js(&data) {
            Ok(e) => e,
            Err(e) => {
                return self.broadcast(Envelope::bare(FromWorker::Error {
                    id: None,
                    during: Stage::Message,
                    message: e.to_string(),
                }))
            }
        };
        let msg = match FromWorker::decode(&env.msg) {
            Ok(m) => m,
            Err(e) => {
                return self.broadcast(Envelope::bare(FromWorker::Error {
                    id: None,
                    during: Stage::Message,
                    message: format!("message from the worker: {e}"),
                }))
            }
        };
        let env = Envelope::with(msg, env.bufs);
        match &env.msg {
            FromWorker::Ready {
                threads,
                threaded,
                kernel,
            } => {
                self.mode.set(Some(WorkerMode {
                    threaded: *threaded,
                    threads: *threads,
                    kernel: kernel.clone(),
                    reason: if *threaded {
                        None
                    } else {
                        self.fallback_reason.get_value()
                    },
                }));
                let mut queued = Vec::new();
                self.queued.update_value(|q| std::mem::swap(q, &mut queued));
                for (text, bufs) in queued {
                    if let Err(e) = self.send(&text, &bufs) {
                        self.broadcast(Envelope::bare(FromWorker::Error {
                            id: None,
                            during: Stage::Message,
                            message: e.to_string(),
                        }));
                    }
                }
                self.broadcast(env);
            }
            FromWorker::Error {
                id: None,
                during: Stage::Start,
                message,
            } if kind == WorkerKind::Threaded => self.fall_back(message.clone()),
            _ => {
                let id = answer_id(&env.msg);
                let cb = id.and_then(|id| {
                    let mut cb = None;
                    self.pending.update_value(|p| cb = p.remove(&id));
                    cb
                });
                match (cb, id) {
                    (Some(cb), Some(id)) => {
                        self.settle(id);
                        cb(env)
                    }
                    _ => self.broadcast(env),
                }
            }
        }
    }

    /// A fresh request id.
    pub fn next_id(self) -> Id {
        let mut id = 0;
        self.next_id.update_value(|n| {
            id = *n;
            *n += 1;
        });
        id
    }

    /// Posts a message (queued until the worker is ready); its buffers are transferred.
    pub fn post(self, msg: &ToWorker, bufs: &[Vec<u8>]) -> Result<(), WebError> {
        if self.mode.get_untracked().is_none() {
            let item = (msg.encode(), bufs.to_vec());
            self.queued.update_value(|q| q.push(item));
            return Ok(());
        }
        self.send(&msg.encode(), bufs)
    }

    fn send(self, text: &str, bufs: &[Vec<u8>]) -> Result<(), WebError> {
        let (value, transfer) = wire::to_js(text, bufs);
        self.link.with_value(|link| match link {
            Some(l) => l
                .worker
                .post_message_with_transfer(&value, &transfer)
                .map_err(|e| WebError::js("posting to the worker", &e)),
            None => Err(WebError::Js {
                context: "posting to the worker",
                message: "no worker is running".into(),
            }),
        })
    }

    /// Posts a request whose answer (or error) goes to `cb`.
    pub fn request(
        self,
        msg: ToWorker,
        bufs: Vec<Vec<u8>>,
        cb: impl FnOnce(Envelope<FromWorker>) + 'static,
    ) {
        self.busy.update(|b| *b += 1);
        self.send_request(msg, bufs, Box::new(cb));
    }

    /// [`Bridge::request`] for a continuous stream (audio chunks): the status bar's activity
    /// does not count it.
    pub fn stream(
        self,
        msg: ToWorker,
        bufs: Vec<Vec<u8>>,
        cb: impl FnOnce(Envelope<FromWorker>) + 'static,
    ) {
        let id = msg.id();
        self.quiet.update_value(|q| {
            q.insert(id);
        });
        self.send_request(msg, bufs, Box::new(cb));
    }

    /// Forgets a request id; whether it counted as busy.
    fn settle(self, id: Id) -> bool {
        let mut quiet = false;
        self.quiet.update_value(|q| quiet = q.remove(&id));
        if !quiet {
            self.busy.update(|b| *b = b.saturating_sub(1));
        }
        !quiet
    }

    fn send_request(self, msg: ToWorker, bufs: Vec<Vec<u8>>, cb: Callback) {
        let id = msg.id();
        self.pending.update_value(|p| {
            p.insert(id, cb);
        });
        if let Err(e) = self.post(&msg, &bufs) {
            let mut cb = None;
            self.pending.update_value(|p| cb = p.remove(&id));
            self.settle(id);
            if let Some(cb) = cb {
                cb(Envelope::bare(FromWorker::Error {
                    id: Some(id),
                    during: Stage::Message,
                    message: e.to_string(),
                }));
            }
        }
    }
}

impl Default for Bridge {
    fn default() -> Self {
        Bridge::new()
    }
}

/// The request a one-shot answer belongs to (search events are broadcast instead).
fn answer_id(m: &FromWorker) -> Option<Id> {
    match m {
        FromWorker::ModelLoaded { id, .. }
        | FromWorker::DataLoaded { id, .. }
        | FromWorker::Evaluated { id, .. }
        | FromWorker::Classified { id, .. }
        | FromWorker::CheckpointFound { id, .. }
        | FromWorker::File { id, .. }
        | FromWorker::Samples { id, .. }
        | FromWorker::EvaluationCancelled { id, .. }
        | FromWorker::ListenStarted { id, .. }
        | FromWorker::ListenHops { id, .. }
        | FromWorker::Done { id } => Some(*id),
        FromWorker::Error { id, .. } => *id,
        FromWorker::Ready { .. }
        | FromWorker::SearchStarted { .. }
        | FromWorker::Generation { .. }
        | FromWorker::GenerationProgress { .. }
        | FromWorker::SearchPaused { .. }
        | FromWorker::SearchEnded { .. }
        | FromWorker::EvalProgress { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::WorkerKind::{self, *};

    #[test]
    fn worker_choice_and_reason() {
        let kind = |i, s, f| WorkerKind::choose(i, s, f);
        assert_eq!(kind(true, true, false), (Threaded, None));
        let (k, why) = kind(false, true, false);
        assert_eq!(k, Single);
        assert!(why.unwrap().contains("not cross-origin isolated"));
        for isolated in [true, false] {
            let (k, why) = kind(isolated, false, false);
            assert_eq!(k, Scalar);
            assert!(why.unwrap().contains("lacks WebAssembly SIMD"));
            let (k, why) = kind(isolated, true, true);
            assert_eq!(k, Scalar);
            assert!(why.unwrap().contains("?kernel=scalar"));
        }
        assert_eq!(Scalar.script(), "./worker_loader.js");
        assert_eq!(Single.script(), "./simd/worker_loader.js");
    }
}
