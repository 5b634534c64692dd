//! Listen: keyword spotting on the bundled Speech Commands validation clips (MFCC features),
//! with the integer model at the chosen genome and at 8 bits side by side. Live microphone
//! input is developed separately and will plug into this page.
use crate::app::{state, AppState, SlotState};
use crate::components::bars::ClassBars;
use crate::protocol::{ClassifyInput, ClassifyResult, FromWorker, ToWorker};
use bitgru::Genome;
use leptos::prelude::*;

fn classify(
    st: AppState,
    model: String,
    index: usize,
    out: RwSignal<Option<Result<ClassifyResult, String>>>,
) {
    let genomes = vec![
        st.genome.get_untracked(),
        Genome::uniform(8).expect("8 bits"),
    ];
    let msg = ToWorker::Classify {
        id: st.bridge.next_id(),
        model,
        genomes,
        input: ClassifyInput::Sample { index },
    };
    st.bridge.request(msg, vec![], move |env| match env.msg {
        FromWorker::Classified { result, .. } => out.set(Some(Ok(result))),
        FromWorker::Error { message, .. } => out.set(Some(Err(message))),
        other => out.set(Some(Err(format!("unexpected answer {other:?}")))),
    });
}

#[component]
pub fn ListenPage() -> impl IntoView {
    let st = state();
    let model = RwSignal::new("kws10".to_string());
    let index = RwSignal::new(0usize);
    let result = RwSignal::new(None::<Result<ClassifyResult, String>>);
    Effect::new(move |_| st.ensure_model(&model.get(), || {}));
    let ready = move || {
        st.slot(&model.get()) == Some(SlotState::Ready) && st.data.with(|d| d.contains("kws"))
    };
    let info = move || {
        let k = model.get();
        st.models.with(|m| m.get(&k).cloned())
    };
    Effect::new(move |_| {
        let (k, i, _) = (model.get(), index.get(), st.genome.get());
        if ready() {
            classify(st, k, i, result)
        }
    });
    let names = Signal::derive(move || info().map(|i| i.class_names).unwrap_or_default());
    let series = Signal::derive(move || match result.get() {
        Some(Ok(r)) => r
            .scores
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    if k == 0 {
                        format!("genome {}", s.genome)
                    } else {
                        "all 8 bits".into()
                    },
                    s.probs.clone(),
                )
            })
            .collect(),
        _ => Vec::new(),
    });
    let n = move || info().map_or(0, |i| i.eval_sequences);
    view! {
        <h1>"Listen"</h1>
        <p class="lede">"Keyword spotting with the integer GRU on the bundled Speech Commands validation clips (10 MFCCs per 20 ms hop, 49 hops). Step through the clips and compare the chosen genome with 8 bits."</p>
        <section class="panel">
            <div class="row">
                <label>"Model "
                    <select id="listen-model" on:change=move |ev| { model.set(event_target_value(&ev)); index.set(0) }>
                        <option value="kws10">"kws10 (10 keywords)"</option>
                        <option value="kws4">"kws4 (4 keywords)"</option>
                    </select>
                </label>
                <button id="prev-clip" disabled=move || index.get() == 0 on:click=move |_| index.update(|i| *i = i.saturating_sub(1))>"◀ Previous"</button>
                <span id="clip-index">{move || format!("clip {} of {}", index.get() + 1, n())}</span>
                <button id="next-clip" disabled=move || index.get() + 1 >= n() on:click=move |_| index.update(|i| *i += 1)>"Next ▶"</button>
            </div>
            {move || (!ready()).then(|| view! { <p class="loading">"Loading the keyword model and the clips' features…"</p> })}
            {move || match result.get() {
                Some(Ok(r)) => {
                    let names = names.get();
                    let name = |c: usize| names.get(c).cloned().unwrap_or_default();
                    view! {
                        <p class="prediction" id="listen-prediction">
                            <span class="big">{name(r.scores[0].class)}</span>
                            {format!(" at the chosen genome · {} at 8 bits · label {} · {:.1} ms", name(r.scores.get(1).map_or(0, |s| s.class)), r.label.map(&name).unwrap_or_default(), r.elapsed_ms)}
                        </p>
                    }.into_any()
                }
                Some(Err(e)) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
                None => view! { <p class="muted">"…"</p> }.into_any(),
            }}
            <ClassBars names=names series=series />
        </section>
    }
}
