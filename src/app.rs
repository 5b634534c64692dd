//! The shell: router (hash URLs `#/models`, `#/search`, …), shared state (loaded models, the
//! current model, the chosen genome, the search), status bar and theme. Every computation is a
//! message to the worker ([`crate::bridge`]); this module only fetches files and keeps state.
use crate::bridge::Bridge;
use crate::catalog::{self, BundledData};
use crate::pages;
use crate::protocol::{
    CheckpointInfo, DataKind, Envelope, FromWorker, ModelInfo, Progress, SearchEnd, SearchView,
    Stage, ToWorker,
};
use crate::WebError;
use bitgru::Genome;
use leptos::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen::JsCast;

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Models,
    Search,
    Listen,
    Digits,
    Export,
    About,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::Models,
        Route::Search,
        Route::Listen,
        Route::Digits,
        Route::Export,
        Route::About,
    ];

    /// Whether the page runs its own model rather than the current one (Listen, Digits).
    pub fn own_model(self) -> bool {
        matches!(self, Route::Listen | Route::Digits)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Route::Models => "models",
            Route::Search => "search",
            Route::Listen => "listen",
            Route::Digits => "digits",
            Route::Export => "export",
            Route::About => "about",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Route::Models => "Models",
            Route::Search => "Search",
            Route::Listen => "Listen",
            Route::Digits => "Digits",
            Route::Export => "Export",
            Route::About => "About",
        }
    }

    /// `#/search` → Search; anything unknown → Models.
    pub fn from_hash(hash: &str) -> Route {
        let slug = hash.trim_start_matches('#').trim_start_matches('/');
        Route::ALL
            .into_iter()
            .find(|r| r.slug() == slug)
            .unwrap_or(Route::Models)
    }
}

/// Where a model slot is.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotState {
    Fetching,
    Loading,
    Ready,
    Failed(String),
}

/// The state of the search view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchStatus {
    Idle,
    Starting,
    Running,
    Paused,
    Finished,
    Cancelled,
    Opened,
}

impl SearchStatus {
    pub fn key(self) -> &'static str {
        match self {
            SearchStatus::Idle => "idle",
            SearchStatus::Starting => "starting",
            SearchStatus::Running => "running",
            SearchStatus::Paused => "paused",
            SearchStatus::Finished => "finished",
            SearchStatus::Cancelled => "cancelled",
            SearchStatus::Opened => "opened",
        }
    }
}

/// A message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: u32,
    pub error: bool,
    pub text: String,
}

/// Shared state of every page (all `Copy`).
#[derive(Clone, Copy)]
pub struct AppState {
    pub route: RwSignal<Route>,
    pub bridge: Bridge,
    pub models: RwSignal<BTreeMap<String, ModelInfo>>,
    pub slots: RwSignal<BTreeMap<String, SlotState>>,
    pub data: RwSignal<BTreeSet<&'static str>>,
    /// Key of the current model.
    pub current: RwSignal<String>,
    /// The model the Listen or Digits page runs instead of the current one (Listen: its own
    /// keyword model; Digits: row-MNIST), set by that page and named in the status bar while
    /// the page is open (see [`Route::own_model`]).
    pub page_model: RwSignal<Option<String>>,
    /// The chosen genome (Digits, Export, point details).
    pub genome: RwSignal<Genome>,
    pub search: RwSignal<Option<SearchView>>,
    pub search_status: RwSignal<SearchStatus>,
    pub progress: RwSignal<Option<Progress>>,
    pub checkpoint: RwSignal<Option<CheckpointInfo>>,
    /// `(request, done, total)` of the running chunked evaluation.
    pub eval_progress: RwSignal<Option<(crate::protocol::Id, usize, usize)>>,
    /// Inside the running generation: (generation, new evaluations done, of).
    pub gen_progress: RwSignal<Option<(usize, usize, usize)>>,
    pub notices: RwSignal<Vec<Notice>>,
    next_notice: StoredValue<u32>,
    /// `auto`, `light` or `dark`.
    pub theme: RwSignal<String>,
}

fn genome8() -> Genome {
    Genome::uniform(8).expect("8 is a valid width")
}

impl AppState {
    pub fn new() -> Self {
        AppState {
            route: RwSignal::new(current_route()),
            bridge: Bridge::new(),
            models: RwSignal::new(BTreeMap::new()),
            slots: RwSignal::new(BTreeMap::new()),
            data: RwSignal::new(BTreeSet::new()),
            current: RwSignal::new(catalog::DEFAULT_MODEL.to_string()),
            page_model: RwSignal::new(None),
            genome: RwSignal::new(genome8()),
            search: RwSignal::new(None),
            search_status: RwSignal::new(SearchStatus::Idle),
            progress: RwSignal::new(None),
            checkpoint: RwSignal::new(None),
            eval_progress: RwSignal::new(None),
            gen_progress: RwSignal::new(None),
            notices: RwSignal::new(Vec::new()),
            next_notice: StoredValue::new(1),
            theme: RwSignal::new(stored_theme()),
        }
    }

    pub fn notify(self, error: bool, text: impl Into<String>) {
        let text = text.into();
        if error {
            web_sys::console::warn_1(&text.clone().into());
        }
        let mut id = 0;
        self.next_notice.update_value(|n| {
            id = *n;
            *n += 1;
        });
        self.notices.update(|v| {
            v.push(Notice { id, error, text });
            if v.len() > 4 {
                v.remove(0);
            }
        });
        // Confirmations go away by themselves; errors stay until dismissed.
        if !error {
            set_timeout(move || self.dismiss(id), std::time::Duration::from_secs(6));
        }
    }

    pub fn dismiss(self, id: u32) {
        self.notices.update(|v| v.retain(|n| n.id != id));
    }

    pub fn slot(self, key: &str) -> Option<SlotState> {
        self.slots.with(|s| s.get(key).cloned())
    }

    fn set_slot(self, key: &str, s: SlotState) {
        self.slots.update(|m| {
            m.insert(key.to_string(), s);
        });
    }

    /// Loads a default model (fetch + worker) and its bundled data, unless already there.
    /// `then` runs once the model and its data are in the worker.
    pub fn ensure_model(self, key: &str, then: impl FnOnce() + 'static) {
        if matches!(self.slot(key), Some(SlotState::Ready)) && self.has_data_for(key) {
            return then();
        }
        let Some(entry) = catalog::entry(key) else {
            return self.notify(true, format!("{key} is not a default model"));
        };
        if matches!(
            self.slot(key),
            Some(SlotState::Fetching | SlotState::Loading)
        ) {
            return;
        }
        let key = key.to_string();
        self.set_slot(&key, SlotState::Fetching);
        leptos::task::spawn_local(async move {
            let bytes = match fetch_bytes(&catalog::model_url(&key)).await {
                Ok(b) => b,
                Err(e) => {
                    self.set_slot(&key, SlotState::Failed(e.to_string()));
                    return self.notify(true, format!("Could not fetch {key}: {e}"));
                }
            };
            self.set_slot(&key, SlotState::Loading);
            let k2 = key.clone();
            let msg = ToWorker::LoadModel {
                id: self.bridge.next_id(),
                key: key.clone(),
                file_name: format!("{key}.safetensors"),
                task: None,
            };
            self.bridge
                .request(msg, vec![bytes], move |env| match env.msg {
                    FromWorker::ModelLoaded { info, .. } => {
                        self.models.update(|m| {
                            m.insert(k2.clone(), info);
                        });
                        self.set_slot(&k2, SlotState::Ready);
                        self.ensure_data(entry.data, then);
                    }
                    FromWorker::Error { message, .. } => {
                        self.set_slot(&k2, SlotState::Failed(message.clone()));
                        self.notify(true, format!("Loading {k2}: {message}"));
                    }
                    other => self.notify(true, format!("unexpected answer {other:?}")),
                });
        });
    }

    /// Whether the bundled data a default model needs is in the worker.
    pub fn has_data_for(self, key: &str) -> bool {
        match catalog::entry(key).map(|e| e.data) {
            Some(BundledData::Mnist) => self.data.with(|d| d.contains("mnist")),
            Some(BundledData::KwsMfcc) => self.data.with(|d| d.contains("kws")),
            _ => true,
        }
    }

    /// Fetches a bundled data set into the worker (once).
    pub fn ensure_data(self, d: BundledData, then: impl FnOnce() + 'static) {
        let (name, kind) = match d {
            BundledData::Mnist => ("mnist", DataKind::Mnist),
            BundledData::KwsMfcc => ("kws", DataKind::KwsMfcc),
            BundledData::None => return then(),
        };
        if self.data.with(|s| s.contains(name)) {
            return then();
        }
        leptos::task::spawn_local(async move {
            let mut bufs = Vec::new();
            for url in catalog::data_urls(d) {
                match fetch_bytes(url).await {
                    Ok(b) => bufs.push(b),
                    Err(e) => return self.notify(true, format!("Could not fetch {url}: {e}")),
                }
            }
            let msg = ToWorker::LoadData {
                id: self.bridge.next_id(),
                kind,
            };
            self.bridge.request(msg, bufs, move |env| match env.msg {
                FromWorker::DataLoaded { models, .. } => {
                    self.data.update(|s| {
                        s.insert(name);
                    });
                    self.models.update(|m| m.extend(models));
                    then();
                }
                FromWorker::Error { message, .. } => {
                    self.notify(true, format!("Loading the {name} data: {message}"))
                }
                other => self.notify(true, format!("unexpected answer {other:?}")),
            });
        });
    }

    /// Worker events that are not answers to a callback.
    fn on_event(self, env: Envelope<FromWorker>) {
        match env.msg {
            FromWorker::Ready { .. } => {
                let key = self.current.get_untracked();
                self.ensure_model(&key, || {});
                let msg = ToWorker::FindCheckpoint {
                    id: self.bridge.next_id(),
                };
                self.bridge.request(msg, vec![], move |env| match env.msg {
                    FromWorker::CheckpointFound { found, .. } => self.checkpoint.set(found),
                    FromWorker::Error { message, .. } => {
                        self.notify(true, format!("Reading the search checkpoint: {message}"))
                    }
                    _ => {}
                });
            }
            FromWorker::SearchStarted { view, .. } => {
                self.search_status.set(if view.opened {
                    SearchStatus::Opened
                } else if view.generations.len() >= view.config.gens {
                    SearchStatus::Finished
                } else {
                    SearchStatus::Running
                });
                self.progress.set(None);
                self.checkpoint.set(None);
                self.search.set(Some(view));
            }
            FromWorker::Generation { progress, .. } => {
                self.search.update(|s| {
                    if let Some(s) = s {
                        s.generations.push(progress.record.clone());
                        s.best_within_1pp = progress.best_within_1pp.clone();
                    }
                });
                self.progress.set(Some(progress));
                self.gen_progress.set(None);
            }
            FromWorker::GenerationProgress {
                generation,
                done,
                total,
                ..
            } => self.gen_progress.set(Some((generation, done, total))),
            FromWorker::EvalProgress { id, done, total } => {
                self.eval_progress.set(Some((id, done, total)))
            }
            FromWorker::SearchPaused { .. } => self.search_status.set(SearchStatus::Paused),
            FromWorker::SearchEnded { end, .. } => self.search_status.set(match end {
                SearchEnd::Finished => SearchStatus::Finished,
                SearchEnd::Cancelled => SearchStatus::Cancelled,
            }),
            FromWorker::Error {
                during, message, ..
            } => {
                if during == Stage::Search
                    && matches!(
                        self.search_status.get_untracked(),
                        SearchStatus::Starting | SearchStatus::Running
                    )
                {
                    self.search_status
                        .set(if self.search.with_untracked(Option::is_some) {
                            SearchStatus::Cancelled
                        } else {
                            SearchStatus::Idle
                        });
                }
                self.notify(true, format!("Worker ({during:?}): {message}"));
            }
            _ => {}
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}

/// The app state of the current component tree.
pub fn state() -> AppState {
    expect_context::<AppState>()
}

fn current_route() -> Route {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| Route::from_hash(&h))
        .unwrap_or(Route::Models)
}

fn stored_theme() -> String {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("bitgru-theme").ok().flatten())
        .filter(|t| t == "light" || t == "dark")
        .unwrap_or_else(|| "auto".into())
}

fn apply_theme(theme: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("data-theme", theme);
    }
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item("bitgru-theme", theme);
    }
}

/// Fetches a same-origin file.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, WebError> {
    let window = web_sys::window().ok_or(WebError::Js {
        context: "fetch",
        message: "no window".into(),
    })?;
    let resp = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| WebError::js("fetch", &e))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|e| WebError::js("fetch", &e))?;
    if !resp.ok() {
        return Err(WebError::Js {
            context: "fetch",
            message: format!("{url}: HTTP {} {}", resp.status(), resp.status_text()),
        });
    }
    let buf = wasm_bindgen_futures::JsFuture::from(
        resp.array_buffer().map_err(|e| WebError::js("fetch", &e))?,
    )
    .await
    .map_err(|e| WebError::js("fetch", &e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Offers bytes as a download.
pub fn download(file_name: &str, mime: &str, bytes: &[u8]) -> Result<(), WebError> {
    let arr = js_sys::Array::new();
    arr.push(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&arr, &opts)
        .map_err(|e| WebError::js("download", &e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|e| WebError::js("download", &e))?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(WebError::Js {
            context: "download",
            message: "no document".into(),
        })?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|e| WebError::js("download", &e))?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Copies text to the clipboard.
pub fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let st = AppState::new();
    provide_context(st);
    apply_theme(&st.theme.get_untracked());
    let handler: crate::bridge::EventHandler = std::rc::Rc::new(move |env| st.on_event(env));
    st.bridge.on_event(handler);
    if let Err(e) = st.bridge.start() {
        st.notify(true, format!("The worker did not start: {e}"));
    }
    // Follow the URL.
    let on_hash = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        st.route.set(current_route());
    });
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_hash.as_ref().unchecked_ref()));
    }
    on_hash.forget();
    Effect::new(move |_| {
        let r = st.route.get();
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&format!("{} · bitgru", r.title()));
        }
    });

    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <a class="brand" href="#/models">
                <span class="logo" aria-hidden="true">"▚"</span>
                "bitgru"
            </a>
            <nav aria-label="pages">
                <ul>
                    {Route::ALL
                        .into_iter()
                        .map(|r| {
                            view! {
                                <li>
                                    <a
                                        href=format!("#/{}", r.slug())
                                        id=format!("nav-{}", r.slug())
                                        aria-current=move || (st.route.get() == r).then_some("page")
                                    >
                                        {r.title()}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <ThemeSwitch />
        </header>
        <Notices />
        <main id="main" class="page" tabindex="-1" data-route=move || st.route.get().slug()>
            {move || match st.route.get() {
                Route::Models => view! { <pages::models::ModelsPage /> }.into_any(),
                Route::Search => view! { <pages::search::SearchPage /> }.into_any(),
                Route::Listen => view! { <pages::listen::ListenPage /> }.into_any(),
                Route::Digits => view! { <pages::digits::DigitsPage /> }.into_any(),
                Route::Export => view! { <pages::export::ExportPage /> }.into_any(),
                Route::About => view! { <pages::about::AboutPage /> }.into_any(),
            }}
        </main>
        <StatusBar />
    }
}

#[component]
fn ThemeSwitch() -> impl IntoView {
    let st = state();
    view! {
        <label class="theme">
            <span class="sr-only">"Theme"</span>
            <select
                id="theme"
                aria-label="colour theme"
                on:change=move |ev| {
                    let t = event_target_value(&ev);
                    apply_theme(&t);
                    st.theme.set(t);
                }
                prop:value=move || st.theme.get()
            >
                <option value="auto">"Theme: system"</option>
                <option value="light">"Theme: light"</option>
                <option value="dark">"Theme: dark"</option>
            </select>
        </label>
    }
}

#[component]
fn Notices() -> impl IntoView {
    let st = state();
    view! {
        <div class="notices" aria-live="polite">
            <For each=move || st.notices.get() key=|n| n.id let:n>
                <p class="notice" class:error=n.error role=if n.error { "alert" } else { "status" }>
                    <span>{n.text.clone()}</span>
                    <button
                        class="ghost"
                        aria-label="dismiss"
                        on:click=move |_| st.dismiss(n.id)
                    >
                        "×"
                    </button>
                </p>
            </For>
        </div>
    }
}

#[component]
fn StatusBar() -> impl IntoView {
    let st = state();
    let mode = move || match st.bridge.mode.get() {
        None => "starting the worker…".to_string(),
        Some(m) if m.threaded => {
            format!("threaded pool, {} threads · kernel {}", m.threads, m.kernel)
        }
        Some(m) => format!(
            "single-threaded ({}) · kernel {}",
            m.reason.unwrap_or_else(|| "no thread pool".into()),
            m.kernel
        ),
    };
    let model = move || {
        let key = st.current.get();
        match st.slot(&key) {
            Some(SlotState::Ready) => st
                .models
                .with(|m| m.get(&key).map(|i| format!("{key} ({})", i.task)))
                .unwrap_or(key),
            Some(SlotState::Fetching) => format!("{key}: downloading…"),
            Some(SlotState::Loading) => format!("{key}: loading…"),
            Some(SlotState::Failed(e)) => format!("{key}: failed ({e})"),
            None => key,
        }
    };
    let activity = move || {
        let p = st.progress.get();
        match (st.search_status.get(), p) {
            (SearchStatus::Running, Some(p)) => {
                format!("search {}/{} generations", p.done, p.total)
            }
            (SearchStatus::Running | SearchStatus::Starting, None) => "search starting…".into(),
            (SearchStatus::Paused, _) => "search paused".into(),
            _ if st.bridge.busy.get() > 0 => "working…".into(),
            _ => "idle".into(),
        }
    };
    view! {
        <footer class="statusbar" role="status">
            <span
                id="worker-mode"
                data-threaded=move || st.bridge.mode.get().map(|m| m.threaded.to_string()).unwrap_or_default()
                data-ready=move || st.bridge.mode.get().is_some().to_string()
            >
                <span class="dot" aria-hidden="true"></span>
                "Worker: "
                {mode}
            </span>
            <span id="current-model" data-ready=move || {
                let key = st.current.get();
                (st.slot(&key) == Some(SlotState::Ready) && st.has_data_for(&key)).to_string()
            }>"Model: " {model}</span>
            {move || st.page_model.get().filter(|k| st.route.get().own_model() && *k != st.current.get()).map(|k| view! {
                <span id="page-model">{format!("This page runs {k}")}</span>
            })}
            <span id="genome-status">"Genome: " <code>{move || st.genome.get().to_string()}</code></span>
            <span id="activity" data-busy=move || (st.bridge.busy.get() > 0).to_string()>{activity}</span>
        </footer>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_from_the_hash() {
        assert_eq!(Route::from_hash("#/search"), Route::Search);
        assert_eq!(Route::from_hash("#digits"), Route::Digits);
        assert_eq!(Route::from_hash(""), Route::Models);
        assert_eq!(Route::from_hash("#/nope"), Route::Models);
        for r in Route::ALL {
            assert_eq!(Route::from_hash(&format!("#/{}", r.slug())), r);
        }
        let own: Vec<Route> = Route::ALL.into_iter().filter(|r| r.own_model()).collect();
        assert_eq!(own, [Route::Listen, Route::Digits]);
    }
}
