//! Listen: live keyword spotting. The microphone (an AudioWorklet at 16 kHz, [`crate::mic`])
//! or a WAV/FLAC file feeds the worker's listening session, which runs one streaming detector
//! per variant (8 bits, the committed search's mixed genome, a genome chosen on the Search
//! page, the float model) side by side. The page shows the MFCC spectrogram, the class
//! probabilities, a detections log and the compute time per 20 ms hop; it only draws.
use crate::app::{state, AppState, SlotState};
use crate::catalog;
use crate::components::bars::ClassBars;
use crate::components::upload::DropZone;
use crate::mic::{self, Mic};
use crate::protocol::{
    FromWorker, ListenDetection, ListenHop, ListenInfo, ListenReport, ListenSettings,
    ListenVariant, ToWorker, LISTEN_SAVE_SECONDS,
};
use bitgru::Genome;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Hops kept for the spectrogram of the microphone (10 s).
const KEEP_HOPS: usize = 500;

/// Detections kept in the log.
const KEEP_DETECTIONS: usize = 50;

/// Where the audio comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Idle,
    Starting,
    Mic { rate: u32 },
    File { name: String },
}

/// The page's view of the session.
#[derive(Clone, Copy)]
struct View {
    info: RwSignal<Option<ListenInfo>>,
    hops: RwSignal<Vec<ListenHop>>,
    detections: RwSignal<Vec<ListenDetection>>,
    last: RwSignal<Option<ListenReport>>,
    error: RwSignal<Option<String>>,
    mic_error: RwSignal<Option<String>>,
    source: RwSignal<Source>,
    /// Chunks dropped because the worker was still busy with earlier ones.
    in_flight: RwSignal<usize>,
}

impl View {
    fn take(self, report: ListenReport, replace: bool) {
        self.hops.update(|h| {
            if replace {
                h.clear();
            }
            h.extend(report.hops.iter().cloned());
            if !replace && h.len() > KEEP_HOPS {
                let n = h.len() - KEEP_HOPS;
                h.drain(..n);
            }
        });
        self.detections.update(|d| {
            if replace {
                d.clear();
            }
            d.extend(report.detections.iter().cloned());
            if d.len() > KEEP_DETECTIONS {
                let n = d.len() - KEEP_DETECTIONS;
                d.drain(..n);
            }
        });
        if !report.hops.is_empty() || replace {
            self.last.set(Some(report));
        }
    }
}

/// The variants to run, from the check boxes.
fn variants(
    eight: bool,
    mixed: Option<Genome>,
    chosen: Option<Genome>,
    float: bool,
) -> Vec<ListenVariant> {
    let mut v = Vec::new();
    if eight {
        v.push(ListenVariant::Integer {
            genome: Genome::uniform(8).expect("8 bits"),
        });
    }
    for g in [mixed, chosen].into_iter().flatten() {
        let x = ListenVariant::Integer { genome: g };
        if !v.contains(&x) {
            v.push(x);
        }
    }
    if float {
        v.push(ListenVariant::Float);
    }
    v
}

fn start_session(st: AppState, settings: ListenSettings, view: View) {
    let msg = ToWorker::ListenStart {
        id: st.bridge.next_id(),
        settings,
    };
    st.bridge.request(msg, vec![], move |env| match env.msg {
        FromWorker::ListenStarted { info, .. } => {
            view.error.set(None);
            view.info.set(Some(info));
        }
        FromWorker::Error { message, .. } => {
            view.info.set(None);
            view.error.set(Some(message));
        }
        other => view.error.set(Some(format!("unexpected answer {other:?}"))),
    });
}

/// Forwards a microphone chunk (dropped while too many are still in the worker).
fn send_chunk(st: AppState, view: View, rate: u32, bytes: Vec<u8>) {
    if view.info.get_untracked().is_none() || view.in_flight.get_untracked() > 8 {
        return;
    }
    view.in_flight.update(|n| *n += 1);
    let msg = ToWorker::ListenChunk {
        id: st.bridge.next_id(),
        sample_rate: rate,
    };
    st.bridge.stream(msg, vec![bytes], move |env| {
        view.in_flight.update(|n| *n = n.saturating_sub(1));
        match env.msg {
            FromWorker::ListenHops { report, .. } => view.take(report, false),
            FromWorker::Error { message, .. } => view.error.set(Some(message)),
            _ => {}
        }
    });
}

/// Draws the spectrogram (one column per hop, `c0` at the bottom, each coefficient scaled
/// to its range over the shown hops).
fn draw(canvas: &web_sys::HtmlCanvasElement, hops: &[ListenHop], dark: bool) {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    ctx.set_fill_style_str(if dark { "#0b0f14" } else { "#f0f2f5" });
    ctx.fill_rect(0.0, 0.0, w, h);
    let Some(n_c) = hops.first().map(|x| x.features.len()).filter(|&n| n > 0) else {
        return;
    };
    let mut lo = vec![f32::INFINITY; n_c];
    let mut hi = vec![f32::NEG_INFINITY; n_c];
    for hop in hops {
        for (c, &v) in hop.features.iter().enumerate().take(n_c) {
            lo[c] = lo[c].min(v);
            hi[c] = hi[c].max(v);
        }
    }
    let cols = hops.len().max(KEEP_HOPS / 2) as f64;
    let cw = w / cols;
    let rh = h / n_c as f64;
    let x0 = w - cw * hops.len() as f64;
    for (k, hop) in hops.iter().enumerate() {
        for (c, &v) in hop.features.iter().enumerate().take(n_c) {
            let t = if hi[c] > lo[c] {
                f64::from((v - lo[c]) / (hi[c] - lo[c]))
            } else {
                0.5
            };
            // Dark blue → orange → pale yellow.
            let r = (255.0 * (1.6 * t).min(1.0)) as u8;
            let g = (255.0 * (1.6 * t - 0.6).clamp(0.0, 1.0) * 0.95 + 40.0 * (1.0 - t)) as u8;
            let b = (110.0 * (1.0 - t) + 60.0 * (t - 0.7).max(0.0)) as u8;
            ctx.set_fill_style_str(&format!("rgb({r},{g},{b})"));
            let y = h - (c + 1) as f64 * rh;
            ctx.fill_rect(x0 + k as f64 * cw, y, cw.max(1.0) + 0.5, rh + 0.5);
        }
    }
}

#[component]
pub fn ListenPage() -> impl IntoView {
    let st = state();
    // Arriving from the Search page's "Use in Listen": that search's model and genome.
    let from_search = st.search.with_untracked(|s| {
        s.as_ref()
            .map(|v| v.model_key.clone())
            .filter(|k| k == "kws4" || k == "kws10")
    });
    let model = RwSignal::new(from_search.clone().unwrap_or_else(|| "kws4".to_string()));
    let eight = RwSignal::new(true);
    let use_mixed = RwSignal::new(true);
    let use_chosen = RwSignal::new(true);
    let float = RwSignal::new(true);
    // `None`: the model's own default threshold (the session reports it in its info).
    let threshold = RwSignal::new(None::<f64>);
    let refractory = RwSignal::new(1000u32);
    let gate = RwSignal::new(-50.0f64);
    let fewer = RwSignal::new(false);
    let view_state = View {
        info: RwSignal::new(None),
        hops: RwSignal::new(Vec::new()),
        detections: RwSignal::new(Vec::new()),
        last: RwSignal::new(None),
        error: RwSignal::new(None),
        mic_error: RwSignal::new(None),
        source: RwSignal::new(Source::Idle),
        in_flight: RwSignal::new(0),
    };
    let v = view_state;
    let mic_handle = StoredValue::new_local(None::<Mic>);
    on_cleanup(move || {
        mic_handle.set_value(None);
        let msg = ToWorker::ListenStop {
            id: st.bridge.next_id(),
        };
        st.bridge.request(msg, vec![], |_| {});
    });

    let mixed = Memo::new(move |_| catalog::best_within_1pp(&model.get()));
    // The genome chosen elsewhere (Search, Digits, Export), when it is neither 8 bits nor the
    // committed mixed one.
    let chosen = Memo::new(move |_| {
        let g = st.genome.get();
        (!g.is_uniform() && Some(g) != mixed.get().map(|m| m.0)).then_some(g)
    });
    let settings = Memo::new(move |_| ListenSettings {
        model: model.get(),
        variants: variants(
            eight.get(),
            use_mixed.get().then(|| mixed.get().map(|m| m.0)).flatten(),
            use_chosen.get().then(|| chosen.get()).flatten(),
            float.get(),
        ),
        threshold: threshold.get(),
        refractory_ms: refractory.get(),
        gate_dbfs: gate.get(),
        fewer_speech_alarms: fewer.get(),
    });
    // The slider shows the chosen threshold, else the one the session runs with (the model's).
    let shown_threshold = move || {
        threshold
            .get()
            .or_else(|| v.info.get().map(|i| i.threshold))
            .unwrap_or(f64::from(bitgru::detect::DEFAULT_THRESHOLD))
    };
    let ready = move || {
        let k = model.get();
        st.slot(&k) == Some(SlotState::Ready)
    };
    Effect::new(move |_| st.ensure_model(&model.get(), || {}));
    Effect::new(move |_| st.page_model.set(Some(model.get())));
    Effect::new(move |_| {
        let s = settings.get();
        if ready() {
            v.info.set(None);
            start_session(st, s, v);
        }
    });

    let start_mic = move |_| {
        v.mic_error.set(None);
        v.source.set(Source::Starting);
        leptos::task::spawn_local(async move {
            match mic::start(move |rate, bytes| send_chunk(st, v, rate, bytes)).await {
                Ok(m) => {
                    let rate = m.rate;
                    mic_handle.set_value(Some(m));
                    v.hops.set(Vec::new());
                    v.detections.set(Vec::new());
                    v.source.set(Source::Mic { rate });
                }
                Err(e) => {
                    v.source.set(Source::Idle);
                    v.mic_error.set(Some(e.to_string()));
                }
            }
        });
    };
    let stop_mic = move |_| {
        mic_handle.set_value(None);
        v.source.set(Source::Idle);
    };
    let on_file = Callback::new(move |(name, bytes): (String, Vec<u8>)| {
        mic_handle.set_value(None);
        v.source.set(Source::File { name: name.clone() });
        let msg = ToWorker::ListenFile {
            id: st.bridge.next_id(),
            file_name: name,
        };
        st.bridge
            .request(msg, vec![bytes], move |env| match env.msg {
                FromWorker::ListenHops { report, .. } => {
                    v.error.set(None);
                    v.take(report, true)
                }
                FromWorker::Error { message, .. } => v.error.set(Some(message)),
                other => v.error.set(Some(format!("unexpected answer {other:?}"))),
            });
    });
    let save = move |_| {
        let msg = ToWorker::ListenSave {
            id: st.bridge.next_id(),
        };
        crate::pages::request_file(st, msg, RwSignal::new(false));
    };

    // The spectrogram canvas follows the hops and the theme.
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let theme = st.theme.get();
        v.hops.with(|hops| {
            if let Some(c) = canvas.get() {
                let dark = theme == "dark"
                    || (theme == "auto"
                        && web_sys::window()
                            .and_then(|w| {
                                w.match_media("(prefers-color-scheme: dark)").ok().flatten()
                            })
                            .is_some_and(|m| m.matches()));
                draw(&c, hops, dark);
            }
        });
    });

    let names = Signal::derive(move || {
        v.info.get().map(|i| i.class_names).unwrap_or_else(|| {
            catalog::entry(&model.get())
                .map(|e| e.classes.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default()
        })
    });
    let labels = move || v.info.get().map(|i| i.labels).unwrap_or_default();
    let series = Signal::derive(move || {
        let labels = labels();
        v.hops.with(|h| match h.last() {
            Some(hop) => labels
                .into_iter()
                .zip(
                    hop.probs
                        .iter()
                        .map(|p| p.iter().map(|&x| f64::from(x)).collect()),
                )
                .collect(),
            None => Vec::new(),
        })
    });
    let word = move |d: &ListenDetection| names.get().get(d.class).cloned().unwrap_or_default();
    let listening = move || matches!(v.source.get(), Source::Mic { .. } | Source::Starting);

    view! {
        <h1>"Listen"</h1>
        <p class="lede">"Live keyword spotting with the integer GRU: the microphone (or a WAV/FLAC file) at 16 kHz, 10 MFCCs per 20 ms hop, the last second classified after every hop, at 8 bits, at the committed search's mixed genome and in float, side by side. Everything runs in the worker, offline."</p>
        <section class="panel listen-controls" aria-label="source and settings">
            <div class="row">
                <label>"Model "
                    <select id="listen-model" prop:value=move || model.get() on:change=move |ev| {
                        threshold.set(None);
                        model.set(event_target_value(&ev));
                    }>
                        <option value="kws4">"kws4 (yes, no, up, down)"</option>
                        <option value="kws10">"kws10 (10 keywords)"</option>
                    </select>
                </label>
                {move || if listening() {
                    view! { <button id="mic-stop" on:click=stop_mic>"■ Stop the microphone"</button> }.into_any()
                } else {
                    view! { <button id="mic-start" disabled=move || !ready() on:click=start_mic>"● Start the microphone"</button> }.into_any()
                }}
                <button id="save-audio" class="ghost" disabled=move || v.info.get().is_none() on:click=save>
                    {format!("Save the last {LISTEN_SAVE_SECONDS} s (WAV)")}
                </button>
                <span id="listen-source" class="muted" data-source=move || match v.source.get() {
                    Source::Idle => "idle".to_string(), Source::Starting => "starting".into(),
                    Source::Mic { .. } => "mic".into(), Source::File { .. } => "file".into() }>
                    {move || match v.source.get() {
                        Source::Idle => "Not listening.".to_string(),
                        Source::Starting => "Asking for the microphone…".into(),
                        Source::Mic { rate: 16_000 } => "Listening to the microphone at 16 kHz.".into(),
                        Source::Mic { rate } => format!("Listening to the microphone at {rate} Hz (resampled to 16 kHz in the worker)."),
                        Source::File { name } => format!("File: {name}"),
                    }}
                </span>
            </div>
            {move || v.mic_error.get().map(|e| view! { <p id="mic-error" class="alert" role="alert">{e}</p> })}
            <DropZone id="listen-file" accept=".wav,.flac,audio/wav,audio/flac,audio/x-flac"
                label="Use a WAV/FLAC file instead of the microphone"
                hint="any rate, mono or stereo; it is run through the detectors as if it were heard"
                on_file=on_file on_error=Callback::new(move |e| v.error.set(Some(e))) />
            <fieldset class="row variants">
                <legend>"Run side by side"</legend>
                <label><input type="checkbox" id="v-eight" prop:checked=move || eight.get() on:change=move |ev| eight.set(event_target_checked(&ev)) />" 8 bits"</label>
                <label title="results/<task>/result.json: the smallest front genome within 1 point of all-8 accuracy">
                    <input type="checkbox" id="v-mixed" prop:checked=move || use_mixed.get() disabled=move || mixed.get().is_none()
                        on:change=move |ev| use_mixed.set(event_target_checked(&ev)) />
                    {move || match mixed.get() {
                        Some((g, _, red)) => format!(" mixed {g} (committed search, {:.0}% smaller)", 100.0 * red),
                        None => " mixed (no committed search for this model)".into(),
                    }}
                </label>
                {move || chosen.get().map(|g| view! {
                    <label><input type="checkbox" id="v-chosen" prop:checked=move || use_chosen.get()
                        on:change=move |ev| use_chosen.set(event_target_checked(&ev)) />{format!(" chosen {g}")}</label>
                })}
                <label><input type="checkbox" id="v-float" prop:checked=move || float.get() on:change=move |ev| float.set(event_target_checked(&ev)) />" float"</label>
            </fieldset>
            <div class="row sliders">
                <label>"Threshold "
                    <input type="range" id="threshold" min="0.3" max="0.99" step="0.01" prop:value=move || shown_threshold().to_string()
                        on:change=move |ev| if let Ok(x) = event_target_value(&ev).parse() { threshold.set(Some(x)) } />
                    <output id="threshold-value" data-model-default=move || threshold.get().is_none().to_string()>{move || match threshold.get() {
                        Some(t) => format!("{t:.2}"),
                        None => format!("{:.2} (the model's)", shown_threshold()),
                    }}</output>
                </label>
                <label>"Suppression "
                    <input type="range" id="refractory" min="100" max="3000" step="100" prop:value=move || refractory.get().to_string()
                        on:change=move |ev| if let Ok(x) = event_target_value(&ev).parse() { refractory.set(x) } />
                    <output>{move || format!("{} ms", refractory.get())}</output>
                </label>
                <label>"Energy gate "
                    <input type="range" id="gate" min="-90" max="-10" step="1" prop:value=move || gate.get().to_string()
                        on:change=move |ev| if let Ok(x) = event_target_value(&ev).parse() { gate.set(x) } />
                    <output>{move || format!("{:.0} dBFS", gate.get())}</output>
                </label>
                <label title="A keyword must also beat five times the unknown-speech probability by 0.75 (docs/DETECTOR.md). Measured on the default kws4 model: 70% of keywords at 32 false alarms per hour of other speech, against 82% at 77 without.">
                    <input type="checkbox" id="fewer-speech-alarms" prop:checked=move || fewer.get()
                        on:change=move |ev| fewer.set(event_target_checked(&ev)) />
                    " Fewer false alarms on speech"
                </label>
            </div>
            {move || (!ready()).then(|| view! { <p class="loading">"Loading the keyword model…"</p> })}
            {move || v.error.get().map(|e| view! { <p id="listen-error" class="alert" role="alert">{e}</p> })}
        </section>
        <div class="listen-grid">
            <section class="panel" aria-label="spectrogram and detections">
                <h3>"MFCC spectrogram " <small class="muted">"(10 coefficients per 20 ms hop, c0 at the bottom; newest on the right)"</small></h3>
                <canvas id="spectrogram" class="spectrogram" node_ref=canvas width="1000" height="160"
                    role="img" aria-label="MFCC spectrogram of the last seconds"></canvas>
                <p id="hop-time" class="muted" data-us=move || v.last.get().map(|r| format!("{:.1}", r.us_per_hop)).unwrap_or_default()
                    data-us-variants=move || v.last.get().map(|r| r.us_per_hop_variant.iter().map(|u| format!("{u:.1}")).collect::<Vec<_>>().join(",")).unwrap_or_default()>
                    {move || match v.last.get() {
                        Some(r) if !r.hops.is_empty() => {
                            let per: Vec<String> = labels().iter().zip(&r.us_per_hop_variant)
                                .map(|(l, u)| format!("{l} {u:.0} µs")).collect();
                            format!("Compute per 20 ms hop: {:.0} µs in all (MFCC, every variant, decision; {} hops in the last answer) · {} · {:.1} s heard",
                                r.us_per_hop, r.hops.len(), per.join(" · "), r.heard_s)
                        }
                        _ => "Compute per 20 ms hop: — (start the microphone or use a file)".into(),
                    }}
                </p>
                <p class="prediction" id="last-detection" data-word=move || v.detections.with(|d| d.last().map(word).unwrap_or_default())>
                    {move || v.detections.with(|d| d.last().map(|d| view! {
                        <span class="big">{word(d)}</span>
                        {format!(" at {:.2} s, score {:.2}", d.t_ms / 1000.0, d.score)}
                    }.into_any()).unwrap_or_else(|| view! { <span class="muted">"No keyword yet."</span> }.into_any()))}
                </p>
                <h3>"Detections"</h3>
                <div class="table-wrap">
                <table id="detections" class="detections">
                    <thead><tr><th scope="col">"time"</th><th scope="col">"keyword"</th><th scope="col">"variant"</th><th scope="col">"score"</th></tr></thead>
                    <tbody>
                        {move || {
                            let labels = labels();
                            v.detections.get().into_iter().rev().map(|d| {
                                let w = word(&d);
                                let attr = w.clone();
                                view! {
                                    <tr class="det" data-word=attr data-variant=d.variant.to_string() data-t=format!("{:.2}", d.t_ms / 1000.0)>
                                        <td>{format!("{:.2} s", d.t_ms / 1000.0)}</td>
                                        <td><strong>{w}</strong></td>
                                        <td>{labels.get(d.variant).cloned().unwrap_or_default()}</td>
                                        <td>{format!("{:.2}", d.score)}</td>
                                    </tr>
                                }
                            }).collect_view()
                        }}
                    </tbody>
                </table>
                </div>
            </section>
            <section class="panel" aria-label="class probabilities">
                <h3>"Class probabilities " <small class="muted">{move || v.info.get().map(|i| format!("(the detector's, smoothed over {:.0} ms)", i.smooth_ms))}</small></h3>
                <ClassBars names=names series=series />
            </section>
        </div>
    }
}
