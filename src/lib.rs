//! # bitgru in the browser
//!
//! - the page: a Leptos CSR [`App`] (feature `ui`), mounted by `src/main.rs`, built by Trunk;
//! - the compute worker (`src/bin/worker.rs`): loads the model once and evaluates genomes with
//!   the integer kernel, on a wasm-bindgen-rayon pool when the page is cross-origin isolated
//!   (feature `threads`), single-threaded otherwise; the page never computes;
//! - [`protocol`]: the serde messages between them; [`engine`]: the computation;
//! - [`api`]: the `#[wasm_bindgen]` JS API packaged by `wasm-pack build` (feature `api`).
#![forbid(unsafe_code)]

#[cfg(feature = "api")]
pub mod api;
pub mod engine;
pub mod protocol;

pub use engine::{Engine, WebError, WorkerState};
#[cfg(feature = "ui")]
pub use ui::{App, DEFAULT_GENOME, DEFAULT_N};

pub use bitgru::io::ModelBundle;
use wasm_bindgen::{JsCast, JsValue};

/// The demo model embedded in the app: a bitgru bundle file (safetensors: float weights,
/// calibration and metadata). The page sends these bytes to the worker once (`Load`); the JS API
/// uses them when no model is given.
pub const DEMO_MODEL: &[u8] = include_bytes!("../assets/models/demo.safetensors");

/// The embedded demo model, decoded.
pub fn default_bundle() -> Result<ModelBundle, WebError> {
    Ok(bitgru::io::load_bundle(DEMO_MODEL)?)
}

/// `performance.now()` of the current global (window or worker), else `Date.now()`.
/// Only for wasm32 in a browser or Node.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &JsValue::from_str("performance")).ok();
    let now = perf.as_ref().and_then(|p| {
        let f = js_sys::Reflect::get(p, &JsValue::from_str("now")).ok()?;
        let f = f.dyn_into::<js_sys::Function>().ok()?;
        f.call0(p).ok()?.as_f64()
    });
    now.unwrap_or_else(js_sys::Date::now)
}

/// Whether the current global is cross-origin isolated (so that shared memory, hence the
/// threaded worker, can work).
pub fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crossOriginIsolated"))
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

/// Starts the worker's wasm-bindgen-rayon pool with `navigator.hardwareConcurrency` threads
/// and returns its size.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub async fn start_thread_pool(
    scope: &web_sys::DedicatedWorkerGlobalScope,
) -> Result<usize, WebError> {
    let n = (scope.navigator().hardware_concurrency() as usize).max(1);
    wasm_bindgen_futures::JsFuture::from(wasm_bindgen_rayon::init_thread_pool(n))
        .await
        .map_err(|e| WebError::js("starting the thread pool", &e))?;
    Ok(rayon::current_num_threads())
}

/// Single-threaded build: no pool, one thread.
#[cfg(not(all(feature = "threads", target_arch = "wasm32")))]
pub async fn start_thread_pool(
    _scope: &web_sys::DedicatedWorkerGlobalScope,
) -> Result<usize, WebError> {
    Ok(engine::pool_threads())
}

/// `1234567` → `"1,234,567"`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(feature = "ui")]
mod ui {
    //! The page. All computation happens in the worker; this thread only parses the form.
    use crate::engine::check_batch;
    use crate::protocol::{
        EvalReport, EvalRequest, FromWorker, ModelInfo, Stage, ToWorker, MAX_SEQUENCES,
    };
    use crate::{group_digits, WebError};
    use bitgru::genome::GENE_NAMES;
    use bitgru::Genome;
    use leptos::prelude::*;
    use std::str::FromStr;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{ErrorEvent, Event, MessageEvent, Worker, WorkerOptions, WorkerType};

    /// Genome shown when the page opens: 8-bit linear layers, narrower sums, products and
    /// activations.
    pub const DEFAULT_GENOME: &str = "88888866866666666";
    /// Batch size shown when the page opens.
    pub const DEFAULT_N: usize = 256;

    /// Which worker build runs the evaluation.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum WorkerKind {
        /// `mt/worker_loader.js`: module worker with a wasm-bindgen-rayon pool (needs
        /// cross-origin isolation).
        Threaded,
        /// `worker_loader.js`: classic worker built by Trunk, no shared memory.
        Single,
    }

    impl WorkerKind {
        pub fn script(self) -> &'static str {
            match self {
                WorkerKind::Threaded => "./mt/worker_loader.js",
                WorkerKind::Single => "./worker_loader.js",
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Phase {
        Starting,
        Loading,
        Ready,
        Running,
        Failed,
    }

    impl Phase {
        fn key(self) -> &'static str {
            match self {
                Phase::Starting => "starting",
                Phase::Loading => "loading",
                Phase::Ready => "ready",
                Phase::Running => "running",
                Phase::Failed => "failed",
            }
        }
        fn label(self) -> &'static str {
            match self {
                Phase::Starting => "starting the worker…",
                Phase::Loading => "loading the model…",
                Phase::Ready => "ready",
                Phase::Running => "evaluating…",
                Phase::Failed => "stopped",
            }
        }
    }

    /// The worker and its event handlers; dropping it terminates the worker.
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

    /// Page state shared by the handlers (all `Copy`).
    #[derive(Clone, Copy)]
    struct Ctl {
        phase: RwSignal<Phase>,
        /// `(threaded, threads)` once the worker is ready.
        mode: RwSignal<Option<(bool, usize)>>,
        /// The worker's integer kernel variant ("simd128" or "scalar").
        kernel: RwSignal<Option<String>>,
        info: RwSignal<Option<ModelInfo>>,
        report: RwSignal<Option<EvalReport>>,
        error: RwSignal<Option<String>>,
        notice: RwSignal<Option<String>>,
        link: StoredValue<Option<Link>, LocalStorage>,
    }

    impl Ctl {
        fn new() -> Self {
            Ctl {
                phase: RwSignal::new(Phase::Starting),
                mode: RwSignal::new(None),
                kernel: RwSignal::new(None),
                info: RwSignal::new(None),
                report: RwSignal::new(None),
                error: RwSignal::new(None),
                notice: RwSignal::new(None),
                link: StoredValue::new_local(None),
            }
        }

        /// Starts a worker of `kind`, replacing (terminating) any previous one.
        fn start(self, kind: WorkerKind) -> Result<(), WebError> {
            let worker = match kind {
                WorkerKind::Threaded => {
                    let opts = WorkerOptions::new();
                    opts.set_type(WorkerType::Module);
                    Worker::new_with_options(kind.script(), &opts)
                }
                WorkerKind::Single => Worker::new(kind.script()),
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
                self.on_error(kind, message)
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            self.mode.set(None);
            self.phase.set(Phase::Starting);
            self.link.set_value(Some(Link {
                worker,
                _on_message: on_message,
                _on_error: on_error,
            }));
            Ok(())
        }

        fn post(self, msg: &ToWorker) {
            let text = JsValue::from_str(&msg.encode());
            let sent = self.link.with_value(|link| {
                link.as_ref()
                    .map(|l| l.worker.post_message(&text))
                    .unwrap_or_else(|| Err(JsValue::from_str("no worker is running")))
            });
            if let Err(e) = sent {
                self.fail(WebError::js("posting to the worker", &e).to_string());
            }
        }

        fn fail(self, message: String) {
            web_sys::console::warn_1(&JsValue::from_str(&message));
            self.error.set(Some(message));
            self.phase.set(Phase::Failed);
        }

        /// The threaded worker could not start: use the single-threaded one (after the current
        /// event handler has returned, since starting drops the handler's closure).
        fn fall_back(self, reason: String) {
            self.notice.set(Some(format!(
                "The threaded worker did not start ({reason}); using the single-threaded worker."
            )));
            leptos::task::spawn_local(async move {
                if let Err(e) = self.start(WorkerKind::Single) {
                    self.fail(e.to_string());
                }
            });
        }

        fn on_message(self, kind: WorkerKind, data: JsValue) {
            let Some(text) = data.as_string() else {
                return self.fail(format!("unexpected message from the worker: {data:?}"));
            };
            match FromWorker::decode(&text) {
                Err(e) => self.fail(format!("message from the worker: {e}")),
                Ok(FromWorker::Ready {
                    threads,
                    threaded,
                    kernel,
                }) => {
                    self.mode.set(Some((threaded, threads)));
                    self.kernel.set(Some(kernel));
                    self.phase.set(Phase::Loading);
                    self.post(&ToWorker::Load {
                        model: crate::DEMO_MODEL.to_vec(),
                    });
                }
                Ok(FromWorker::Loaded(info)) => {
                    self.info.set(Some(info));
                    self.phase.set(Phase::Ready);
                }
                Ok(FromWorker::Evaluated(report)) => {
                    self.error.set(None);
                    self.report.set(Some(report));
                    self.phase.set(Phase::Ready);
                }
                Ok(FromWorker::Error {
                    during: Stage::Start,
                    message,
                }) if kind == WorkerKind::Threaded => self.fall_back(message),
                Ok(FromWorker::Error { during, message }) => {
                    let during = match during {
                        Stage::Start => "starting",
                        Stage::Message => "reading a message",
                        Stage::Load => "loading the model",
                        Stage::Evaluate => "evaluating",
                    };
                    self.error
                        .set(Some(format!("The worker failed while {during}: {message}")));
                    let loaded = self.info.with_untracked(Option::is_some);
                    self.phase
                        .set(if loaded { Phase::Ready } else { Phase::Failed });
                }
            }
        }

        fn on_error(self, kind: WorkerKind, message: String) {
            if kind == WorkerKind::Threaded && self.mode.get_untracked().is_none() {
                self.fall_back(message);
            } else {
                self.fail(format!("The worker stopped: {message}"));
            }
        }
    }

    /// The whole page.
    #[component]
    pub fn App() -> impl IntoView {
        view! {
            <main class="page">
                <header class="masthead">
                    <h1>"bitgru"</h1>
                    <p class="lede">
                        "A GRU whose 17 operators each run at their own bit width (2–8), with "
                        "integer-only arithmetic. Type a genome — one digit per operator — and "
                        "the worker prepares the integer model, runs it on seeded labelled "
                        "sequences of 49 steps (the demo model's synthetic task) and compares "
                        "its accuracy and predictions with the float model."
                    </p>
                </header>
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <section id="fatal" class="panel alert" role="alert">
                            <h2>"The page could not start"</h2>
                            <ul>
                                {move || {
                                    errors
                                        .get()
                                        .into_iter()
                                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                        .collect_view()
                                }}
                            </ul>
                        </section>
                    }
                }>
                    <Runner />
                </ErrorBoundary>
                <footer class="foot">
                    "Integer kernel in WebAssembly; batches run on a wasm-bindgen-rayon pool "
                    "when the page is cross-origin isolated."
                </footer>
            </main>
        }
    }

    fn parse_genome(text: &str) -> Result<Genome, String> {
        Genome::from_str(text).map_err(|e| e.to_string())
    }

    fn parse_request(genome: &str, seed: &str, n: &str) -> Result<EvalRequest, String> {
        let genome = parse_genome(genome)?;
        let seed = seed
            .trim()
            .parse::<u64>()
            .map_err(|e| format!("seed: {e} (a whole number ≥ 0)"))?;
        let n = n
            .trim()
            .parse::<usize>()
            .map_err(|e| format!("sequences: {e} (1..={MAX_SEQUENCES})"))?;
        check_batch(n).map_err(|e| e.to_string())?;
        Ok(EvalRequest {
            genome: genome.to_string(),
            seed,
            n,
        })
    }

    /// Form, status and result; starts the worker.
    #[component]
    fn Runner() -> impl IntoView {
        let ctl = Ctl::new();
        let kind = if crate::cross_origin_isolated() {
            WorkerKind::Threaded
        } else {
            WorkerKind::Single
        };
        let started = ctl.start(kind);

        let genome = RwSignal::new(DEFAULT_GENOME.to_string());
        let seed = RwSignal::new("1".to_string());
        let count = RwSignal::new(DEFAULT_N.to_string());
        let genome_check = Memo::new(move |_| genome.with(|g| parse_genome(g)));
        let request = Memo::new(move |_| {
            genome.with(|g| seed.with(|s| count.with(|n| parse_request(g, s, n))))
        });
        let can_run = move || request.with(Result::is_ok) && ctl.phase.get() == Phase::Ready;
        let run = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if ctl.phase.get_untracked() != Phase::Ready {
                return;
            }
            if let Ok(req) = request.get_untracked() {
                ctl.phase.set(Phase::Running);
                ctl.post(&ToWorker::Evaluate(req));
            }
        };
        let input_error = move || {
            request.with(|r| match r {
                Err(e) if genome_check.with(Result::is_ok) => Some(e.clone()),
                _ => None,
            })
        };

        started.map(|()| {
            view! {
                <section class="panel controls">
                    <form id="run-form" on:submit=run>
                        <label for="genome">"Genome"</label>
                        <input
                            id="genome"
                            name="genome"
                            type="text"
                            inputmode="numeric"
                            autocomplete="off"
                            spellcheck="false"
                            maxlength="17"
                            aria-describedby="genome-error"
                            class:invalid=move || genome_check.with(Result::is_err)
                            prop:value=move || genome.get()
                            on:input=move |ev| genome.set(event_target_value(&ev))
                        />
                        <p id="genome-error" class="field-error" aria-live="polite">
                            {move || genome_check.with(|g| g.as_ref().err().cloned())}
                        </p>
                        <GeneGrid genome=genome_check />
                        <div class="row">
                            <label>
                                "Seed "
                                <input
                                    id="seed"
                                    type="number"
                                    min="0"
                                    prop:value=move || seed.get()
                                    on:input=move |ev| seed.set(event_target_value(&ev))
                                />
                            </label>
                            <label>
                                "Sequences "
                                <input
                                    id="count"
                                    type="number"
                                    min="1"
                                    max=MAX_SEQUENCES.to_string()
                                    prop:value=move || count.get()
                                    on:input=move |ev| count.set(event_target_value(&ev))
                                />
                            </label>
                            <button id="run" type="submit" disabled=move || !can_run()>
                                {move || {
                                    if ctl.phase.get() == Phase::Running {
                                        "Running…"
                                    } else {
                                        "Run"
                                    }
                                }}
                            </button>
                        </div>
                        <p id="input-error" class="field-error" aria-live="polite">
                            {input_error}
                        </p>
                    </form>
                    <p id="status" class="status" data-phase=move || ctl.phase.get().key()>
                        <span class="dot"></span>
                        "Worker: "
                        <span id="mode" data-threaded=move || {
                            ctl.mode.get().map(|(t, _)| t.to_string()).unwrap_or_default()
                        }>
                            {move || match ctl.mode.get() {
                                Some((true, n)) => format!("threaded, {n} threads"),
                                Some((false, _)) => "single-threaded".to_string(),
                                None => "—".to_string(),
                            }}
                        </span>
                        " · kernel "
                        <span id="kernel">
                            {move || ctl.kernel.get().unwrap_or_else(|| "—".to_string())}
                        </span>
                        " · "
                        {move || ctl.phase.get().label()}
                        {move || {
                            ctl.info
                                .get()
                                .map(|i| {
                                    format!(
                                        " · model: {} ({}→{}→{}, {} parameters)",
                                        i.task,
                                        i.dims.input,
                                        i.dims.hidden,
                                        i.dims.classes,
                                        group_digits(i.n_params as u64),
                                    )
                                })
                        }}
                    </p>
                    {move || ctl.notice.get().map(|n| view! { <p id="notice" class="notice">{n}</p> })}
                    {move || {
                        ctl.error
                            .get()
                            .map(|e| view! { <p id="error" class="alert" role="alert">{e}</p> })
                    }}
                </section>
                <ResultPanel ctl=ctl />
            }
        })
    }

    /// The 17 genes with their bit widths.
    #[component]
    fn GeneGrid(genome: Memo<Result<Genome, String>>) -> impl IntoView {
        view! {
            <ol class="genes" aria-label="bit width of each operator">
                {GENE_NAMES
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let bits = move || {
                            genome.with(|g| g.as_ref().ok().map(|g| g.bits()[i].to_string()))
                        };
                        view! {
                            <li>
                                <span class="bits">{move || bits().unwrap_or_else(|| "·".into())}</span>
                                <span class="name">{*name}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
    }

    fn status_key(ctl: Ctl) -> &'static str {
        match (ctl.phase.get(), ctl.report.with(Option::is_some)) {
            (Phase::Running, _) => "running",
            (Phase::Failed, _) => "error",
            (_, true) => "done",
            _ => "idle",
        }
    }

    #[component]
    fn ResultPanel(ctl: Ctl) -> impl IntoView {
        let field = move |f: fn(&EvalReport) -> String| {
            move || ctl.report.with(|r| r.as_ref().map(f).unwrap_or_default())
        };
        view! {
            <section
                id="result"
                class="panel result"
                aria-live="polite"
                data-status=move || status_key(ctl)
                data-threaded=field(|r| r.threaded.to_string())
                data-threads=field(|r| r.threads.to_string())
                data-count=field(|r| r.predictions.len().to_string())
                data-agreement=field(|r| r.agreement.to_string())
                data-accuracy=field(|r| r.accuracy.map(|a| a.to_string()).unwrap_or_default())
            >
                <h2>"Result"</h2>
                {move || match ctl.report.get() {
                    None => {
                        view! {
                            <p class="placeholder">
                                "Run a genome to see its predictions, agreement and size."
                            </p>
                        }
                            .into_any()
                    }
                    Some(r) => {
                        let names = ctl.info.with(|i| {
                            i.as_ref().map(|i| i.class_names.clone()).unwrap_or_default()
                        });
                        report_view(r, names).into_any()
                    }
                }}
            </section>
        }
    }

    fn report_view(r: EvalReport, class_names: Vec<String>) -> impl IntoView {
        let classes = r.dims.classes;
        let mut int_hist = vec![0usize; classes];
        let mut float_hist = vec![0usize; classes];
        for &p in &r.predictions {
            int_hist[p.min(classes - 1)] += 1;
        }
        for &p in &r.float_predictions {
            float_hist[p.min(classes - 1)] += 1;
        }
        let peak = int_hist
            .iter()
            .chain(&float_hist)
            .copied()
            .max()
            .unwrap_or(1)
            .max(1);
        let pct = |k: usize| format!("{:.1}%", 100.0 * k as f64 / peak as f64);
        let mode = if r.threaded {
            format!("{} of {} threads", r.threads_used, r.threads)
        } else {
            "single-threaded".to_string()
        };
        let shown: Vec<String> = r
            .predictions
            .iter()
            .take(64)
            .map(|p| p.to_string())
            .collect();
        let more = r.predictions.len().saturating_sub(shown.len());
        let json = serde_json::to_string_pretty(&r).unwrap_or_default();
        view! {
            <dl class="stats">
                {r.accuracy.map(|a| view! {
                    <div>
                        <dt>"Accuracy (integer)"</dt>
                        <dd id="accuracy">
                            {format!("{:.1}%", 100.0 * a)}
                            <small>{format!(" float model {:.1}%", 100.0 * r.float_accuracy.unwrap_or(f64::NAN))}</small>
                        </dd>
                    </div>
                })}
                <div>
                    <dt>"Agreement with float"</dt>
                    <dd id="agreement">
                        {format!("{:.1}%", 100.0 * r.agreement)}
                        <small>{format!(" {} of {}", r.agree, r.n)}</small>
                    </dd>
                </div>
                <div>
                    <dt>"Model size"</dt>
                    <dd>
                        {format!("{} B", group_digits(r.size.bytes))}
                        <small>{format!(" {:.3} of all-8", r.size.normalized)}</small>
                    </dd>
                </div>
                <div>
                    <dt>"Bit-ops per step"</dt>
                    <dd>{group_digits(r.size.bitops_per_step)}</dd>
                </div>
                <div>
                    <dt>"Time"</dt>
                    <dd>
                        {format!("{:.1} ms", r.elapsed_ms)}
                        <small>{format!("integer kernel; float {:.1} ms", r.float_ms)}</small>
                    </dd>
                </div>
                <div>
                    <dt>"Ran"</dt>
                    <dd id="ran">{mode}</dd>
                </div>
                <div>
                    <dt>"Batch"</dt>
                    <dd>
                        {format!("{} × {} steps", group_digits(r.n as u64), r.steps)}
                        <small>{format!(" seed {}", r.seed)}</small>
                    </dd>
                </div>
            </dl>
            <h3>"Predicted classes"</h3>
            <div class="hist">
                {(0..classes)
                    .map(|c| {
                        view! {
                            <div class="hist-row">
                                <span class="hist-label">
                                    {class_names
                                        .get(c)
                                        .cloned()
                                        .unwrap_or_else(|| format!("class {c}"))}
                                </span>
                                <span class="bars">
                                    <span class="bar int" style:width=pct(int_hist[c])></span>
                                    <span class="bar float" style:width=pct(float_hist[c])></span>
                                </span>
                                <span class="hist-count">
                                    {format!("{} / {}", int_hist[c], float_hist[c])}
                                </span>
                            </div>
                        }
                    })
                    .collect_view()}
                <p class="legend">
                    <span class="key int"></span>
                    " integer kernel "
                    <span class="key float"></span>
                    " float model"
                </p>
            </div>
            <p class="preds">
                <span class="muted">"First predictions: "</span>
                <code id="predictions">{shown.join(" ")}</code>
                {(more > 0).then(|| format!(" … and {more} more"))}
            </p>
            <details>
                <summary>"Raw result (JSON)"</summary>
                <pre id="result-json">{json}</pre>
            </details>
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn form_parsing() {
            let ok = parse_request(DEFAULT_GENOME, "5", "10").unwrap();
            assert_eq!(ok.genome, DEFAULT_GENOME);
            assert_eq!((ok.seed, ok.n), (5, 10));
            assert!(parse_request("8888", "5", "10")
                .unwrap_err()
                .contains("17 digits"));
            assert!(parse_request(DEFAULT_GENOME, "-1", "10")
                .unwrap_err()
                .starts_with("seed"));
            assert!(parse_request(DEFAULT_GENOME, "1", "0").is_err());
            assert!(parse_request(DEFAULT_GENOME, "1", "x").is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1234567), "1,234,567");
    }

    #[test]
    fn the_embedded_model_loads() {
        let b = default_bundle().unwrap();
        b.calibration.validate(&b.model).unwrap();
        assert_eq!(b.meta.classes.len(), b.model.classes);
    }
}
