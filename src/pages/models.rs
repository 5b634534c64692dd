//! Models: the default models with their measured accuracies, upload of your own, and the
//! current model's evaluation at the chosen genome.
use super::request_report;
use crate::app::{state, SlotState};
use crate::catalog::{self, Entry};
use crate::components::genome::GenomeEditor;
use crate::components::report::GenomeReportView;
use crate::components::upload::DropZone;
use crate::protocol::{FromWorker, GenomeReport, ToWorker};
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
                        <td>{move || match best() {
                            Some(b) => format!("{:.2}% at {:.0}% of the size (fitness subset)", 100.0 * b.accuracy, 100.0 * b.size_normalized),
                            None => "run a search".into(),
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
    let task = RwSignal::new(String::new());
    let report = RwSignal::new(None::<Result<GenomeReport, String>>);
    let evaluating = RwSignal::new(false);
    let on_file = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        upload_error.set(None);
        uploading.set(true);
        let key = format!("upload:{name}");
        let t = task.get_untracked();
        let msg = ToWorker::LoadModel {
            id: st.bridge.next_id(),
            key: key.clone(),
            file_name: name.clone(),
            task: (!t.is_empty()).then_some(t),
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
    let data_error = RwSignal::new(None::<String>);
    let on_inputs = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        data_error.set(None);
        let key = st.current.get_untracked();
        let msg = ToWorker::LoadInputs {
            id: st.bridge.next_id(),
            model: key.clone(),
            file_name: name.clone(),
        };
        st.bridge
            .request(msg, vec![bytes], move |env| match env.msg {
                FromWorker::ModelLoaded { info, .. } => {
                    st.models.update(|m| {
                        m.insert(key.clone(), info);
                    });
                    report.set(None);
                    st.notify(
                        false,
                        format!("{name} is now the evaluation data of {key}."),
                    );
                }
                FromWorker::Error { message, .. } => data_error.set(Some(message)),
                other => data_error.set(Some(format!("unexpected answer {other:?}"))),
            });
    });
    let current_info = move || {
        let k = st.current.get();
        st.models.with(|m| m.get(&k).cloned())
    };
    let evaluate = move |_| {
        report.set(None);
        request_report(
            st,
            st.current.get_untracked(),
            st.genome.get_untracked(),
            report,
            evaluating,
        );
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
            <div class="row">
                <label>"Task of weights without metadata "
                    <select id="upload-task" on:change=move |ev| task.set(event_target_value(&ev))>
                        <option value="">"from the file"</option>
                        {catalog::ENTRIES.iter().filter(|e| e.data != catalog::BundledData::None).map(|e| view! { <option value=e.task>{e.task}</option> }).collect_view()}
                    </select>
                </label>
            </div>
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
            <DropZone id="upload-inputs" accept=".json,application/json" label="Choose an inputs JSON"
                hint="{sequences, labels, steps}, the format of bitgru --inputs; calibrates float weights"
                on_file=on_inputs on_error=Callback::new(move |e: String| data_error.set(Some(e))) />
            {move || data_error.get().map(|e| view! { <p id="inputs-error" class="alert" role="alert">{e}</p> })}
            <GenomeEditor />
            <button id="evaluate" disabled=move || evaluating.get() || current_info().is_none_or(|i| i.eval_sequences == 0)
                on:click=evaluate>
                {move || if evaluating.get() { "Evaluating…" } else { "Evaluate at this genome" }}
            </button>
            {move || report.get().map(|r| match r {
                Ok(r) => view! { <GenomeReportView report=r /> }.into_any(),
                Err(e) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
