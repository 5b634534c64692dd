//! Search: NSGA-II over the 17 bit widths in the worker, live per generation; checkpoint in
//! IndexedDB; open a CLI result.json; click a point for its details.
use super::{request_file, request_report, EvalProgressBar};
use crate::app::{state, AppState, Route, SearchStatus, SlotState};
use crate::catalog::{self, BundledData};
use crate::components::chart::{HypervolumeChart, ParetoChart, ScatterData};
use crate::components::heatmap::GenomeHeatmap;
use crate::components::report::GenomeReportView;
use crate::components::upload::DropZone;
use crate::protocol::{GenomeReport, SearchSettings, ToWorker};
use bitgru::search::run::Point;
use bitgru::search::Objective;
use bitgru::Genome;
use leptos::prelude::*;

fn fmt_eta(s: f64) -> String {
    if !s.is_finite() {
        "—".into()
    } else if s < 60.0 {
        format!("{s:.0} s")
    } else {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

fn post(st: AppState, msg: ToWorker, bufs: Vec<Vec<u8>>) {
    if let Err(e) = st.bridge.post(&msg, &bufs) {
        st.notify(true, e.to_string());
    }
}

fn go(route: Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&format!("/{}", route.slug()));
    }
}

/// The settings form.
#[component]
fn Settings() -> impl IntoView {
    let st = state();
    let model = RwSignal::new(st.current.get_untracked());
    let subset = RwSignal::new("200".to_string());
    let pop = RwSignal::new("24".to_string());
    let gens = RwSignal::new("10".to_string());
    let seed = RwSignal::new("0".to_string());
    let bitops = RwSignal::new(false);
    let searchable = move || {
        let mut keys: Vec<(String, String)> = catalog::ENTRIES
            .iter()
            .filter(|e| e.data != BundledData::None)
            .map(|e| (e.key.to_string(), e.title.to_string()))
            .collect();
        st.models.with(|m| {
            for (k, i) in m {
                if k.starts_with("upload:") && i.fixed_genome.is_none() {
                    keys.push((k.clone(), format!("{} (uploaded)", i.file_name)));
                }
            }
        });
        keys
    };
    let parsed = Memo::new(move |_| -> Result<SearchSettings, String> {
        let num = |s: &str, what: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("{what}: {s:?} is not a whole number"))
        };
        let mut objectives = vec![Objective::Error, Objective::Size];
        if bitops.get() {
            objectives.push(Objective::Bitops);
        }
        let s = SearchSettings {
            model: model.get(),
            subset: num(&subset.get(), "fitness subset")? as usize,
            pop: num(&pop.get(), "population")? as usize,
            gens: num(&gens.get(), "generations")? as usize,
            seed: num(&seed.get(), "seed")?,
            objectives,
        };
        if s.pop < 4 || !s.pop.is_multiple_of(2) || s.pop > 4096 {
            return Err(format!(
                "population: {} (an even number from 4 to 4096)",
                s.pop
            ));
        }
        if s.gens == 0 || s.gens > 10_000 {
            return Err(format!("generations: {} (1 to 10000)", s.gens));
        }
        if s.subset == 0 {
            return Err("fitness subset: at least 1 sequence".into());
        }
        Ok(s)
    });
    let running = move || {
        matches!(
            st.search_status.get(),
            SearchStatus::Starting | SearchStatus::Running | SearchStatus::Paused
        )
    };
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(settings) = parsed.get_untracked() else {
            return;
        };
        st.search_status.set(SearchStatus::Starting);
        let key = settings.model.clone();
        let launch = move || {
            post(
                st,
                ToWorker::StartSearch {
                    id: st.bridge.next_id(),
                    settings,
                },
                vec![],
            )
        };
        if key.starts_with("upload:") {
            launch()
        } else {
            st.ensure_model(&key, launch)
        }
    };
    view! {
        <form id="search-form" class="panel settings" on:submit=start>
            <h2>"Settings"</h2>
            <div class="grid-form">
                <label>"Model"
                    <select id="search-model" on:change=move |ev| model.set(event_target_value(&ev)) prop:value=move || model.get()>
                        {move || searchable().into_iter().map(|(k, t)| view! { <option value=k.clone() selected=model.get_untracked() == k>{t}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Fitness subset" <input id="subset" type="number" min="1" prop:value=move || subset.get() on:input=move |ev| subset.set(event_target_value(&ev)) />
                    <small>"sequences, stratified"</small></label>
                <label>"Population" <input id="pop" type="number" min="4" step="2" prop:value=move || pop.get() on:input=move |ev| pop.set(event_target_value(&ev)) /></label>
                <label>"Generations" <input id="gens" type="number" min="1" prop:value=move || gens.get() on:input=move |ev| gens.set(event_target_value(&ev)) /></label>
                <label>"Seed" <input id="seed" type="number" min="0" prop:value=move || seed.get() on:input=move |ev| seed.set(event_target_value(&ev)) /></label>
                <fieldset><legend>"Objectives"</legend>
                    <label><input type="checkbox" checked disabled />" error"</label>
                    <label><input type="checkbox" checked disabled />" size"</label>
                    <label><input id="obj-bitops" type="checkbox" prop:checked=move || bitops.get() on:change=move |ev| bitops.set(event_target_checked(&ev)) />" bit-ops"</label>
                </fieldset>
            </div>
            <p class="field-error" id="settings-error" aria-live="polite">{move || parsed.with(|p| p.as_ref().err().cloned())}</p>
            <button id="start-search" type="submit" disabled=move || running() || parsed.with(Result::is_err)>"Start search"</button>
            <p class="muted">{move || parsed.get().ok().map(|s| format!(
                "Same as: bitgru search --model {}.safetensors --inputs {}-inputs.json --subset {} --pop {} --gens {} --seed {} --objectives {} --out run/",
                s.model, s.model, s.subset, s.pop, s.gens, s.seed, s.objectives.iter().map(|o| o.name()).collect::<Vec<_>>().join(",")))}</p>
        </form>
    }
}

#[component]
fn Controls() -> impl IntoView {
    let st = state();
    let status = move || st.search_status.get();
    let saving = RwSignal::new(false);
    view! {
        <div class="controls row" role="group" aria-label="search controls">
            <button id="pause" disabled=move || status() != SearchStatus::Running
                on:click=move |_| post(st, ToWorker::Pause { id: st.bridge.next_id() }, vec![])>"Pause"</button>
            <button id="resume" disabled=move || status() != SearchStatus::Paused
                on:click=move |_| { st.search_status.set(SearchStatus::Running); post(st, ToWorker::Resume { id: st.bridge.next_id() }, vec![]) }>"Resume"</button>
            <button id="cancel" disabled=move || !matches!(status(), SearchStatus::Running | SearchStatus::Paused)
                on:click=move |_| post(st, ToWorker::Cancel { id: st.bridge.next_id() }, vec![])>"Cancel"</button>
            <button id="save-result" disabled=move || st.search.with(Option::is_none) || saving.get()
                on:click=move |_| request_file(st, ToWorker::SaveResult { id: st.bridge.next_id() }, saving)>"Download result.json"</button>
            <button id="save-inputs" disabled=move || st.search.with(|s| s.as_ref().is_none_or(|v| v.model_key.is_empty())) || saving.get()
                on:click=move |_| {
                    let key = st.search.with_untracked(|s| s.as_ref().map(|v| v.model_key.clone())).unwrap_or_default();
                    request_file(st, ToWorker::InputsJson { id: st.bridge.next_id(), model: key }, saving)
                }>"Download inputs JSON (for the CLI)"</button>
        </div>
    }
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let st = state();
    let selected = RwSignal::new(None::<Genome>);
    let report = RwSignal::new(None::<Result<GenomeReport, String>>);
    let evaluating = RwSignal::new(false);
    let eval_request = RwSignal::new(None::<crate::protocol::Id>);
    let open_error = RwSignal::new(None::<String>);
    let last_points = move || {
        st.search.with(|s| {
            let Some(v) = s else {
                return ScatterData::default();
            };
            let Some(last) = v.generations.last() else {
                return ScatterData {
                    homogeneous: v.homogeneous.clone(),
                    ..Default::default()
                };
            };
            let front: Vec<Point> = last
                .front
                .iter()
                .filter_map(|g| last.population.iter().find(|p| p.genome == *g).cloned())
                .collect();
            ScatterData {
                population: last.population.clone(),
                front,
                homogeneous: v.homogeneous.clone(),
            }
        })
    };
    let scatter = Signal::derive(last_points);
    let on_select = Callback::new(move |g: Genome| {
        selected.set(Some(g));
        st.genome.set(g);
        let key = st
            .search
            .with_untracked(|s| s.as_ref().map(|v| v.model_key.clone()))
            .unwrap_or_default();
        if key.is_empty() {
            report.set(Some(Err("This result belongs to a model that is not loaded: load it on the Models page to evaluate its genomes.".into())));
        } else {
            report.set(None);
            eval_request.set(Some(request_report(st, key, g, report, evaluating)));
        }
    });
    let on_result = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        open_error.set(None);
        if let Err(e) = st.bridge.post(
            &ToWorker::OpenResult {
                id: st.bridge.next_id(),
                file_name: name,
            },
            &[bytes],
        ) {
            open_error.set(Some(e.to_string()));
        }
    });
    let resume_ckpt = move |_| {
        let Some(c) = st.checkpoint.get_untracked() else {
            return;
        };
        st.search_status.set(SearchStatus::Starting);
        let launch = move || {
            post(
                st,
                ToWorker::ResumeCheckpoint {
                    id: st.bridge.next_id(),
                },
                vec![],
            )
        };
        if c.model.starts_with("upload:") {
            if st.slot(&c.model) == Some(SlotState::Ready) {
                launch()
            } else {
                st.search_status.set(SearchStatus::Idle);
                st.notify(
                    true,
                    format!(
                        "Upload {} again on the Models page to resume.",
                        c.model.trim_start_matches("upload:")
                    ),
                );
            }
        } else {
            st.ensure_model(&c.model, launch);
        }
    };
    let discard = move |_| {
        st.checkpoint.set(None);
        post(
            st,
            ToWorker::DiscardCheckpoint {
                id: st.bridge.next_id(),
            },
            vec![],
        );
    };
    let hv_values = Signal::derive(move || {
        st.search.with(|s| {
            s.as_ref()
                .map(|v| v.generations.iter().map(|g| g.hypervolume).collect())
                .unwrap_or_default()
        })
    });
    let hv_hom = Signal::derive(move || st.search.with(|s| s.as_ref().map(|v| v.hv_homogeneous)));
    let reference = Signal::derive(move || {
        st.search.with(|s| {
            s.as_ref()
                .map(|v| v.config.reference_point.clone())
                .unwrap_or_default()
        })
    });
    let front_genomes = Signal::derive(move || {
        st.search.with(|s| {
            s.as_ref()
                .and_then(|v| v.generations.last().map(|g| g.front.clone()))
                .unwrap_or_default()
        })
    });
    view! {
        <h1>"Search"</h1>
        <p class="lede">"NSGA-II over the 17 bit widths, in a Web Worker on the same core as " <code>"bitgru search"</code> ": the same seed and settings give the same front, bit for bit. Every generation is checkpointed in your browser, so a reload loses nothing."</p>
        {move || st.checkpoint.get().filter(|_| st.search_status.get() == SearchStatus::Idle).map(|c| view! {
            <section class="panel banner" id="checkpoint-banner" role="region" aria-label="unfinished search">
                <p>{format!("An unfinished search of {} ({}, population {}, seed {}) stopped after generation {} of {}.", c.model, c.task, c.pop, c.seed, c.done, c.total)}</p>
                <button id="resume-checkpoint" on:click=resume_ckpt>"Resume it"</button>
                <button id="discard-checkpoint" class="ghost" on:click=discard>"Discard"</button>
            </section>
        })}
        <div class="two-col search-top">
            <Settings />
            <section class="panel">
                <h2>"Progress"</h2>
                <div id="search-status" data-status=move || st.search_status.get().key()
                    data-generations=move || st.search.with(|s| s.as_ref().map_or(0, |v| v.generations.len())).to_string()>
                    {move || {
                        let p = st.progress.get();
                        let status = st.search_status.get();
                        let (done, total) = st.search.with(|s| s.as_ref().map_or((0, 0), |v| (v.generations.len(), v.config.gens)));
                        view! {
                            <p class="status-line">{match status {
                                SearchStatus::Idle => "No search yet: start one, resume a checkpoint or open a result.json.".to_string(),
                                SearchStatus::Starting => "Starting: loading the model and evaluating the homogeneous genomes…".into(),
                                SearchStatus::Running => format!("Running: generation {done} of {total}"),
                                SearchStatus::Paused => format!("Paused after generation {done} of {total}"),
                                SearchStatus::Finished => format!("Finished: {total} generations"),
                                SearchStatus::Cancelled => format!("Cancelled after generation {done} of {total}"),
                                SearchStatus::Opened => format!("Opened result.json: {done} generations"),
                            }}</p>
                            <progress max=total.max(1).to_string() value=done.to_string() aria-label="generations done"></progress>
                            {move || st.gen_progress.get().filter(|_| st.search_status.get() == SearchStatus::Running).map(|(g, d, t)| view! {
                                <p class="hint" id="gen-progress" data-done=d.to_string() data-total=t.to_string()>
                                    {format!("Generation {g}: {d} of {t} new genomes evaluated")}
                                </p>
                            })}
                            <dl class="stats compact">
                                <div><dt>"Evaluations/s"</dt><dd id="evals-per-s">{p.as_ref().map_or("—".into(), |p| format!("{:.1}", p.evals_per_s))}</dd></div>
                                <div><dt>"ETA"</dt><dd>{p.as_ref().map_or("—".into(), |p| fmt_eta(p.eta_s))}</dd></div>
                                <div><dt>"Genomes evaluated"</dt><dd>{p.as_ref().map_or("—".into(), |p| p.evaluated.to_string())}</dd></div>
                                <div><dt>"Hypervolume"</dt><dd id="hv-now">{st.search.with(|s| s.as_ref().and_then(|v| v.generations.last()).map_or("—".into(), |g| format!("{:.4}", g.hypervolume)))}</dd></div>
                            </dl>
                        }
                    }}
                </div>
                <Controls />
                <h3>"Open a result"</h3>
                <DropZone id="open-result" accept=".json,application/json" label="Open result.json"
                    hint="written by bitgru search or by this page" on_file=on_result
                    on_error=Callback::new(move |e: String| open_error.set(Some(e))) />
                {move || open_error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
            </section>
        </div>
        <section class="panel charts" aria-label="search charts">
            <div class="two-col">
                <div>
                    <h2>"Error vs size"</h2>
                    <ParetoChart data=scatter selected=selected on_select=on_select />
                </div>
                <div>
                    <h2>"Hypervolume per generation"</h2>
                    <HypervolumeChart values=hv_values homogeneous=hv_hom reference=reference />
                    <h2>"Genomes of the front"</h2>
                    <GenomeHeatmap genomes=front_genomes selected=selected on_select=on_select />
                </div>
            </div>
        </section>
        <section class="panel" id="point-details" aria-live="polite">
            <h2>"Selected genome"</h2>
            {move || match selected.get() {
                None => view! { <p class="muted">"Click a point or a heatmap column."</p> }.into_any(),
                Some(g) => view! {
                    <p><code class="genome-big">{g.to_string()}</code></p>
                    <div class="row">
                        <button id="use-in-digits" on:click=move |_| { st.genome.set(g); go(Route::Digits) }>"Use in Digits"</button>
                        <button id="use-in-listen" on:click=move |_| { st.genome.set(g); go(Route::Listen) }>"Use in Listen"</button>
                        <button id="export-point" on:click=move |_| {
                            st.genome.set(g);
                            if let Some(k) = st.search.with_untracked(|s| s.as_ref().map(|v| v.model_key.clone())).filter(|k| !k.is_empty()) { st.current.set(k) }
                            go(Route::Export)
                        }>"Export"</button>
                    </div>
                    <EvalProgressBar busy=evaluating request=eval_request />
                    {move || report.get().map(|r| match r {
                        Ok(r) => view! { <GenomeReportView report=r /> }.into_any(),
                        Err(e) => view! { <p class="alert" role="alert">{e}</p> }.into_any(),
                    })}
                }.into_any(),
            }}
        </section>
    }
}
