//! Export: the current model at the chosen genome as a `.bitgru` file, as C source (zip) and
//! as its genome string, with the size report.
use super::{request_file, request_report};
use crate::app::{copy_text, state};
use crate::components::genome::GenomeEditor;
use crate::components::report::GenomeReportView;
use crate::protocol::{ExportFormat, GenomeReport, ToWorker};
use leptos::prelude::*;

#[component]
pub fn ExportPage() -> impl IntoView {
    let st = state();
    let busy = RwSignal::new(false);
    let report = RwSignal::new(None::<Result<GenomeReport, String>>);
    let evaluating = RwSignal::new(false);
    let info = move || {
        let k = st.current.get();
        st.models.with(|m| m.get(&k).cloned())
    };
    // The size report follows the model and genome.
    Effect::new(move |_| {
        let (k, g) = (st.current.get(), st.genome.get());
        if info().is_some_and(|i| i.eval_sequences > 0) {
            request_report(st, k, g, report, evaluating);
        }
    });
    let export = move |format: ExportFormat| {
        request_file(
            st,
            ToWorker::Export {
                id: st.bridge.next_id(),
                model: st.current.get_untracked(),
                genome: st.genome.get_untracked(),
                format,
            },
            busy,
        )
    };
    let cli = move || {
        info().map(|i| {
            format!(
                "bitgru eval --model {}-{}.bitgru --inputs {}-inputs.json --json",
                i.task,
                st.genome.get(),
                st.current.get()
            )
        })
    };
    view! {
        <h1>"Export"</h1>
        <p class="lede">"Take the chosen genome to a microcontroller: the quantized model as a " <code>".bitgru"</code> " file (read by " <code>"bitgru eval"</code> "), or C99 source with no floating point and no malloc."</p>
        <section class="panel">
            <h2>"Model and genome"</h2>
            <p id="export-model">{move || info().map_or("Loading the model…".to_string(), |i| format!("{} ({}, {} → {} → {})", i.file_name, i.task, i.dims.input, i.dims.hidden, i.dims.classes))}</p>
            <GenomeEditor />
            <div class="row">
                <button id="export-bitgru" disabled=move || busy.get() || info().is_none() on:click=move |_| export(ExportFormat::Bitgru)>"Download .bitgru"</button>
                <button id="export-c" disabled=move || busy.get() || info().is_none() on:click=move |_| export(ExportFormat::CZip)>"Download C source (zip)"</button>
                <button id="copy-genome" on:click=move |_| { copy_text(&st.genome.get_untracked().to_string()); st.notify(false, "Genome copied.") }>"Copy genome"</button>
                <button id="copy-cli" on:click=move |_| { if let Some(c) = cli() { copy_text(&c); st.notify(false, "Command copied.") } }>"Copy CLI command"</button>
            </div>
            <pre class="cli"><code>{cli}</code></pre>
            {move || busy.get().then(|| view! { <p class="loading">"Preparing the file…"</p> })}
        </section>
        <section class="panel">
            <h2>"Size report"</h2>
            {move || evaluating.get().then(|| view! { <p class="loading">"Evaluating…"</p> })}
            {move || match report.get() {
                None => view! { <p class="muted">"The report appears once the model's evaluation data is loaded."</p> }.into_any(),
                Some(Ok(r)) => view! { <GenomeReportView report=r /> }.into_any(),
                Some(Err(e)) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
            }}
        </section>
    }
}
