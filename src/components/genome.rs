//! The chosen genome: a 17-digit editor with a per-gene grid.
use crate::app::state;
use bitgru::genome::GENE_NAMES;
use bitgru::Genome;
use leptos::prelude::*;
use std::str::FromStr;

/// Text field bound to the app's chosen genome; invalid text is explained and not applied.
#[component]
pub fn GenomeEditor() -> impl IntoView {
    let st = state();
    let text = RwSignal::new(st.genome.get_untracked().to_string());
    // Follow changes made elsewhere (a clicked point, "use in Digits").
    Effect::new(move |_| {
        let g = st.genome.get().to_string();
        if Genome::from_str(&text.get_untracked())
            .ok()
            .map(|x| x.to_string())
            != Some(g.clone())
        {
            text.set(g);
        }
    });
    let parsed = Memo::new(move |_| Genome::from_str(text.get().trim()).map_err(|e| e.to_string()));
    view! {
        <div class="genome-editor">
            <label for="genome">"Genome (17 bit widths, 2–8)"</label>
            <input id="genome" type="text" inputmode="numeric" autocomplete="off" spellcheck="false"
                maxlength="17" aria-describedby="genome-error"
                class:invalid=move || parsed.with(Result::is_err)
                prop:value=move || text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    if let Ok(g) = Genome::from_str(v.trim()) { st.genome.set(g); }
                    text.set(v);
                } />
            <p id="genome-error" class="field-error" aria-live="polite">
                {move || parsed.with(|p| p.as_ref().err().cloned())}
            </p>
            <GeneGrid genome=Signal::derive(move || st.genome.get()) />
        </div>
    }
}

/// The 17 genes with their bit widths.
#[component]
pub fn GeneGrid(#[prop(into)] genome: Signal<Genome>) -> impl IntoView {
    view! {
        <ol class="genes" aria-label="bit width of each operator">
            {GENE_NAMES.iter().enumerate().map(|(i, name)| view! {
                <li class=move || super::heatmap::bits_class(genome.get().bits()[i])>
                    <span class="bits">{move || genome.get().bits()[i].to_string()}</span>
                    <span class="name">{*name}</span>
                </li>
            }).collect_view()}
        </ol>
    }
}
