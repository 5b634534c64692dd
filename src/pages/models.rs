//! Models: the default models with their measured accuracies, upload of your own, and the
//! current model's evaluation at the chosen genome.
use super::{request_report, EvalProgressBar};
use crate::app::{state, SlotState};
use crate::catalog::{self, Entry};
use crate::components::genome::GenomeEditor;
use crate::components::report::GenomeReportView;
use crate::components::upload::DropZone;
use crate::protocol::{FromWorker, GenomeReport, ToWorker, UploadMeta};
use leptos::prelude::*;

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.2}%"))
}

#[component]
fn ModelCard(entry: &'static Entry) -> impl IntoView {
    let st = state();
    let r = catalog::results(entry.task);
    let key = entry.key;
    let is_current = move || st.current.get() == key;
    let slot = move || st.slots.with(|s| s.get(key).cloned());
    let best = move || {
        st.search.with(|s| {
            s.as_ref()
                .filter(|v| v.model_key == key)
                .and_then(|v| v.best_within_1pp.clone())
        })
    };
    // The committed search's pick (fixed at build time), shown until an in-app search has one.
    let committed = catalog::best_within_1pp(entry.task).map(|(_, acc, red)| {
        format!(
            "{:.2}% at {:.0}% of the size (results/{}, its fitness set)",
            100.0 * acc,
            100.0 * (1.0 - red),
            entry.task
        )
    });
    view! {
        <article class="card model-card" class:current=is_current id=format!("model-{key}") data-state=move || match slot() {
            Some(SlotState::Ready) => "ready", Some(SlotState::Fetching | SlotState::Loading) => "loading",
            Some(SlotState::Failed(_)) => "failed", None => "idle" }>
            <header>
                <h3>{entry.title}</h3>
                <code class="task">{entry.task}</code>
            </header>
            <p>{entry.blurb}</p>
            <p class="shape">{format!("{} steps × {} features → GRU {} → {} classes", entry.steps, entry.input, entry.hidden, entry.classes.len())}</p>
            <p class="chips" aria-label="classes">{entry.classes.iter().map(|c| view! { <span class="chip">{*c}</span> }).collect_view()}</p>
            {r.map(|r| view! {
                <table class="acc">
                    <caption>{format!("Accuracy on the {} split ({} sequences), docs/RESULTS.md", r.split, crate::group_digits(r.n as u64))}</caption>
                    <thead><tr><th scope="col">"float"</th><th scope="col">"8-bit"</th><th scope="col">"4-bit"</th><th scope="col">"best mixed"</th></tr></thead>
                    <tbody><tr>
                        <td>{pct(r.float)}</td>
                        <td>{pct(r.ptq8)}<small>{format!(" {} B", crate::group_digits(r.bytes8))}</small></td>
                        <td>{pct(r.ptq4)}<small>{format!(" {} B", crate::group_digits(r.bytes4))}</small></td>
                        <td class="best-mixed">{move || match best() {
                            Some(b) => format!("{:.2}% at {:.0}% of the size (this search, fitness subset)", 100.0 * b.accuracy, 100.0 * b.size_normalized),
                            None => committed.clone().unwrap_or_else(|| "run a search".into()),
                        }}</td>
                    </tr></tbody>
                </table>
            })}
            <footer>
                <span class="muted">{format!("file {} KB", catalog::file_bytes(key).unwrap_or(0).div_ceil(1024))}</span>
                {move || match slot() {
                    Some(SlotState::Fetching) => view! { <span class="badge loading">"downloading…"</span> }.into_any(),
                    Some(SlotState::Loading) => view! { <span class="badge loading">"loading…"</span> }.into_any(),
                    Some(SlotState::Failed(e)) => view! { <span class="badge error" title=e>"failed"</span> }.into_any(),
                    Some(SlotState::Ready) => view! { <span class="badge ok">"loaded"</span> }.into_any(),
                    None => view! { <span class="badge">"not loaded"</span> }.into_any(),
                }}
                <button id=format!("use-{key}") disabled=is_current
                    on:click=move |_| { st.current.set(key.to_string()); st.ensure_model(key, || {}); }>
                    {move || if is_current() { "Current model" } else { "Use this model" }}
                </button>
            </footer>
        </article>
    }
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let st = state();
    let upload_error = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    // The metadata form (filled by hand or from a JSON sidecar).
    let task = RwSignal::new(String::new());
    let classes = RwSignal::new(String::new());
    let input = RwSignal::new(String::new());
    let steps = RwSignal::new(String::new());
    let report = RwSignal::new(None::<Result<GenomeReport, String>>);
    let evaluating = RwSignal::new(false);
    let number = |text: String, what: &str| -> Result<Option<usize>, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<usize>()
            .map(Some)
            .map_err(|_| format!("{what}: {t:?} is not a whole number"))
    };
    let on_file = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        upload_error.set(None);
        let meta = (|| -> Result<UploadMeta, String> {
            Ok(UploadMeta {
                task: task.get_untracked(),
                classes: UploadMeta::parse_classes(&classes.get_untracked()),
                input: number(input.get_untracked(), "input features")?,
                steps: number(steps.get_untracked(), "steps")?,
            })
        })();
        let meta = match meta {
            Ok(m) => m,
            Err(e) => return upload_error.set(Some(format!("{name}: {e}; nothing was loaded"))),
        };
        uploading.set(true);
        let key = format!("upload:{name}");
        let msg = ToWorker::UploadModel {
            id: st.bridge.next_id(),
            key: key.clone(),
            file_name: name.clone(),
            meta,
        };
        st.bridge.request(msg, vec![bytes], move |env| {
            uploading.set(false);
            match env.msg {
                FromWorker::ModelLoaded { info, .. } => {
                    let data = catalog::entry(&info.task).map(|e| e.data);
                    st.models.update(|m| {
                        m.insert(key.clone(), info);
                    });
                    st.slots.update(|s| {
                        s.insert(key.clone(), SlotState::Ready);
                    });
                    st.current.set(key.clone());
                    report.set(None);
                    st.notify(false, format!("Loaded {name}."));
                    if let Some(d) = data {
                        st.ensure_data(d, || {});
                    }
                }
                FromWorker::Error { message, .. } => upload_error.set(Some(message)),
                other => upload_error.set(Some(format!("unexpected answer {other:?}"))),
            }
        });
    });
    let on_sidecar = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        upload_error.set(None);
        match UploadMeta::from_sidecar(&name, &bytes) {
            Ok(m) => {
                task.set(m.task);
                classes.set(m.classes.join(", "));
                input.set(m.input.map(|i| i.to_string()).unwrap_or_default());
                steps.set(m.steps.map(|s| s.to_string()).unwrap_or_default());
                st.notify(
                    false,
                    format!("Metadata from {name}: now choose the weights."),
                );
            }
            Err(e) => upload_error.set(Some(e.to_string())),
        }
    });
    let data_error = RwSignal::new(None::<String>);
    let reading_data = RwSignal::new(false);
    let on_data = Callback::new(move |files: Vec<(String, Vec<u8>)>| {
        data_error.set(None);
        reading_data.set(true);
        let key = st.current.get_untracked();
        let what = match files.as_slice() {
            [(n, _)] => n.clone(),
            fs => format!("{} files", fs.len()),
        };
        let (names, bufs): (Vec<String>, Vec<Vec<u8>>) = files.into_iter().unzip();
        let msg = ToWorker::LoadEvalData {
            id: st.bridge.next_id(),
            model: key.clone(),
            files: names,
        };
        st.bridge.request(msg, bufs, move |env| {
            reading_data.set(false);
            match env.msg {
                FromWorker::ModelLoaded { info, .. } => {
                    st.models.update(|m| {
                        m.insert(key.clone(), info);
                    });
                    report.set(None);
                    st.notify(
                        false,
                        format!("{what} is now the evaluation data of {key}."),
                    );
                }
                FromWorker::Error { message, .. } => data_error.set(Some(message)),
                other => data_error.set(Some(format!("unexpected answer {other:?}"))),
            }
        });
    });
    let current_info = move || {
        let k = st.current.get();
        st.models.with(|m| m.get(&k).cloned())
    };
    let eval_request = RwSignal::new(None::<crate::protocol::Id>);
    let evaluate = move |_| {
        report.set(None);
        eval_request.set(Some(request_report(
            st,
            st.current.get_untracked(),
            st.genome.get_untracked(),
            report,
            evaluating,
        )));
    };
    view! {
        <h1>"Models"</h1>
        <p class="lede">"Four GRUs trained on the paper's tasks. Each of the cell's 17 operators can run at its own bit width (2–8) with integer-only arithmetic; pick a model, then search for the genome that keeps its accuracy at the smallest size."</p>
        <section class="cards" aria-label="default models">
            {catalog::ENTRIES.iter().map(|e| view! { <ModelCard entry=e /> }).collect_view()}
        </section>
        <section class="panel" aria-labelledby="upload-h">
            <h2 id="upload-h">"Upload a model"</h2>
            <p>"Float weights as PyTorch safetensors (" <code>"nn.GRU"</code> " + " <code>"nn.Linear"</code> " names) or Keras npz, a bitgru bundle, or a quantized " <code>".bitgru"</code> " file. Float weights are calibrated on their task's bundled data. Nothing leaves your browser."</p>
            <fieldset class="meta-form">
                <legend>"Metadata of float weights (empty: from the file)"</legend>
                <div class="row">
                    <label>"Task "
                        <select id="upload-task" prop:value=move || task.get() on:change=move |ev| task.set(event_target_value(&ev))>
                            <option value="">"from the file"</option>
                            {catalog::ENTRIES.iter().filter(|e| e.data != catalog::BundledData::None).map(|e| view! { <option value=e.task>{e.task}</option> }).collect_view()}
                            <option value="custom">"custom"</option>
                        </select>
                    </label>
                    <label>"Classes "
                        <input id="upload-classes" type="text" placeholder="yes, no, up, …" prop:value=move || classes.get()
                            on:input=move |ev| classes.set(event_target_value(&ev)) />
                    </label>
                    <label>"Input features "
                        <input id="upload-input" type="number" min="1" prop:value=move || input.get()
                            on:input=move |ev| input.set(event_target_value(&ev)) />
                    </label>
                    <label>"Steps "
                        <input id="upload-steps" type="number" min="1" prop:value=move || steps.get()
                            on:input=move |ev| steps.set(event_target_value(&ev)) />
                    </label>
                </div>
                <DropZone id="upload-sidecar" accept=".json,application/json" label="Metadata from a JSON sidecar"
                    hint="{\"task\", \"classes\", \"input\", \"steps\"}: fills the fields above" on_file=on_sidecar
                    max_bytes=crate::protocol::MAX_SIDECAR_BYTES
                    on_error=Callback::new(move |e: String| upload_error.set(Some(e))) />
            </fieldset>
            <DropZone id="upload-model" accept=".safetensors,.npz,.bitgru" label="Choose a model file"
                hint="…or drop it here (safetensors, npz, .bitgru)" on_file=on_file
                on_error=Callback::new(move |e: String| upload_error.set(Some(e))) />
            {move || uploading.get().then(|| view! { <p class="loading">"Reading the model…"</p> })}
            {move || upload_error.get().map(|e| view! { <p id="upload-error" class="alert" role="alert">{e}</p> })}
        </section>
        <section class="panel" aria-labelledby="current-h">
            <h2 id="current-h">"Current model"</h2>
            {move || match current_info() {
                None => view! { <p class="loading">"Loading the model…"</p> }.into_any(),
                Some(i) => view! {
                    <dl class="stats" id="current-info" data-file=i.file_name.clone()>
                        <div><dt>"File"</dt><dd>{i.file_name.clone()}<small>{format!(" {} KB, {}", i.file_bytes.div_ceil(1024), i.kind)}</small></dd></div>
                        <div><dt>"Task"</dt><dd>{i.task.clone()}</dd></div>
                        <div><dt>"Shape"</dt><dd>{format!("{} → {} → {}", i.dims.input, i.dims.hidden, i.dims.classes)}<small>{format!(" {} parameters", crate::group_digits(i.n_params as u64))}</small></dd></div>
                        <div><dt>"Calibration"</dt><dd>{format!("{} sequences", i.calibration_sequences)}</dd></div>
                        <div><dt>"Evaluation data"</dt><dd>{if i.eval_sequences > 0 { i.eval_source.clone() } else { "none loaded".into() }}</dd></div>
                        {i.fixed_genome.map(|g| view! { <div><dt>"Fixed genome"</dt><dd><code>{g.to_string()}</code></dd></div> })}
                    </dl>
                }.into_any(),
            }}
            <h3>"Evaluation and calibration data"</h3>
            <p class="muted">"A bitgru inputs JSON (" <code>"{sequences, labels, steps}"</code> ", the CLI's " <code>"--inputs"</code> "), MNIST IDX images + labels (two files, gzipped or not), or Speech Commands clips (" <code>"<word>/<clip>.wav|flac"</code> ") as a zip or a folder. It replaces the current model's evaluation data and calibrates float weights."</p>
            <DropZone id="upload-data" accept="" label="Choose data files" multiple=true
                hint="…or drop them here (JSON, IDX, zip)" on_files=on_data
                on_error=Callback::new(move |e: String| data_error.set(Some(e))) />
            <DropZone id="upload-data-folder" accept="" label="Choose a folder of clips" directory=true
                hint="<word>/<clip>.wav|flac, as in Speech Commands" on_files=on_data
                on_error=Callback::new(move |e: String| data_error.set(Some(e))) />
            {move || reading_data.get().then(|| view! { <p class="loading" id="data-loading">"Reading the data…"</p> })}
            {move || data_error.get().map(|e| view! { <p id="data-error" class="alert" role="alert">{e}</p> })}
            <GenomeEditor />
            <button id="evaluate" disabled=move || evaluating.get() || current_info().is_none_or(|i| i.eval_sequences == 0)
                on:click=evaluate>
                {move || if evaluating.get() { "Evaluating…" } else { "Evaluate at this genome" }}
            </button>
            <EvalProgressBar busy=evaluating request=eval_request />
            {move || report.get().map(|r| match r {
                Ok(r) => view! { <GenomeReportView report=r /> }.into_any(),
                Err(e) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
