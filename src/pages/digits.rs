//! Digits: draw a digit (mouse, pen or touch); the worker preprocesses it like MNIST and
//! classifies it with the row-wise model at the chosen genome and at 8 bits, live.
use crate::app::{state, AppState, SlotState};
use crate::components::bars::ClassBars;
use crate::protocol::{ClassifyInput, ClassifyResult, FromWorker, ToWorker};
use bitgru::Genome;
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, PointerEvent};

const MODEL: &str = "row-mnist";
const SIDE: u32 = 280;
const GALLERY: usize = 20;

fn ctx2d(c: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    c.get_context("2d")
        .ok()
        .flatten()
        .and_then(|x| x.dyn_into().ok())
}

/// Paints a 28 × 28 grey image (0 = paper) into a canvas.
fn paint_image(c: &HtmlCanvasElement, img: &[u8]) {
    if img.len() != 784 {
        return;
    }
    let mut rgba = Vec::with_capacity(784 * 4);
    for &v in img {
        let p = 255 - v;
        rgba.extend_from_slice(&[p, p, p, 255]);
    }
    if let (Some(ctx), Ok(data)) = (
        ctx2d(c),
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), 28, 28),
    ) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

fn classify(
    st: AppState,
    input: ClassifyInput,
    bufs: Vec<Vec<u8>>,
    result: RwSignal<Option<Result<ClassifyResult, String>>>,
    in_flight: RwSignal<bool>,
) {
    in_flight.set(true);
    let genomes = vec![
        st.genome.get_untracked(),
        Genome::uniform(8).expect("8 bits"),
    ];
    let msg = ToWorker::Classify {
        id: st.bridge.next_id(),
        model: MODEL.into(),
        genomes,
        input,
    };
    st.bridge.request(msg, bufs, move |env| {
        in_flight.set(false);
        match env.msg {
            FromWorker::Classified { result: r, .. } => result.set(Some(Ok(r))),
            FromWorker::Error { message, .. } => result.set(Some(Err(message))),
            other => result.set(Some(Err(format!("unexpected answer {other:?}")))),
        }
    });
}

#[component]
pub fn DigitsPage() -> impl IntoView {
    let st = state();
    st.ensure_model(MODEL, || {});
    st.page_model.set(Some(MODEL.to_string()));
    let canvas = NodeRef::<Canvas>::new();
    let seen = NodeRef::<Canvas>::new();
    let drawing = RwSignal::new(false);
    let dirty = RwSignal::new(false);
    let in_flight = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<ClassifyResult, String>>);
    let gallery = RwSignal::new(None::<(Vec<usize>, Vec<u8>)>);
    let ready =
        move || st.slot(MODEL) == Some(SlotState::Ready) && st.data.with(|d| d.contains("mnist"));

    let send_drawing = move || {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let Some(ctx) = ctx2d(&c) else { return };
        let Ok(data) = ctx.get_image_data(0.0, 0.0, SIDE as f64, SIDE as f64) else {
            return;
        };
        dirty.set(false);
        classify(
            st,
            ClassifyInput::Drawing {
                width: SIDE,
                height: SIDE,
            },
            vec![data.data().0],
            result,
            in_flight,
        );
    };
    // Live: send again when the last answer is in and the drawing changed.
    Effect::new(move |_| {
        if !in_flight.get() && dirty.get() && ready() {
            send_drawing();
        }
    });
    Effect::new(move |_| {
        if let (Some(Ok(r)), Some(c)) = (result.get(), seen.get()) {
            paint_image(&c, &r.image);
        }
    });
    // Re-classify when the chosen genome changes.
    Effect::new(move |prev: Option<Genome>| {
        let g = st.genome.get();
        if prev.is_some_and(|p| p != g) && result.with_untracked(|r| r.is_some()) {
            dirty.set(true);
        }
        g
    });
    // The gallery: the first bundled test digits.
    Effect::new(move |_| {
        if ready() && gallery.with_untracked(Option::is_none) {
            let msg = ToWorker::Samples {
                id: st.bridge.next_id(),
                model: MODEL.into(),
                indices: (0..GALLERY).collect(),
            };
            st.bridge.request(msg, vec![], move |env| {
                match (env.msg, env.bufs.into_iter().next()) {
                    (FromWorker::Samples { labels, .. }, Some(bytes)) => {
                        gallery.set(Some((labels, bytes)))
                    }
                    (FromWorker::Error { message, .. }, _) => st.notify(true, message),
                    _ => {}
                }
            });
        }
    });
    let pos = move |ev: &PointerEvent| -> Option<(f64, f64)> {
        let c = canvas.get_untracked()?;
        let r = c.get_bounding_client_rect();
        Some((
            (ev.client_x() as f64 - r.left()) * SIDE as f64 / r.width(),
            (ev.client_y() as f64 - r.top()) * SIDE as f64 / r.height(),
        ))
    };
    let down = move |ev: PointerEvent| {
        ev.prevent_default();
        let (Some(c), Some((x, y))) = (canvas.get_untracked(), pos(&ev)) else {
            return;
        };
        let _ = c.set_pointer_capture(ev.pointer_id());
        if let Some(ctx) = ctx2d(&c) {
            ctx.set_line_width(18.0);
            ctx.set_line_cap("round");
            ctx.set_line_join("round");
            ctx.set_stroke_style_str("#111");
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x + 0.01, y);
            ctx.stroke();
        }
        drawing.set(true);
        dirty.set(true);
    };
    let mv = move |ev: PointerEvent| {
        if !drawing.get_untracked() {
            return;
        }
        let (Some(c), Some((x, y))) = (canvas.get_untracked(), pos(&ev)) else {
            return;
        };
        if let Some(ctx) = ctx2d(&c) {
            ctx.line_to(x, y);
            ctx.stroke();
        }
        dirty.set(true);
    };
    let up = move |_: PointerEvent| {
        drawing.set(false);
        dirty.set(true);
    };
    let clear = move |_| {
        if let Some(c) = canvas.get_untracked() {
            if let Some(ctx) = ctx2d(&c) {
                ctx.clear_rect(0.0, 0.0, SIDE as f64, SIDE as f64)
            }
        }
        dirty.set(false);
        result.set(None);
    };
    let names = Signal::derive(|| (0..10).map(|d| d.to_string()).collect::<Vec<_>>());
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
                        "all 8 bits".to_string()
                    },
                    s.probs.clone(),
                )
            })
            .collect(),
        _ => Vec::new(),
    });
    view! {
        <h1>"Digits"</h1>
        <p class="lede">"Draw a digit. Your drawing is cropped to its bounding box, scaled to 20 × 20 (anti-aliased) and centred by mass in 28 × 28, like MNIST; the row-wise GRU reads it one row per step, at the chosen genome and at 8 bits."</p>
        {move || (!ready()).then(|| view! { <p class="loading" id="digits-loading">"Loading the row-wise MNIST model and digits…"</p> })}
        <div class="two-col digits">
            <section class="panel">
                <canvas id="draw" node_ref=canvas width=SIDE height=SIDE class="draw" aria-label="drawing canvas: draw a digit with mouse, pen or touch"
                    on:pointerdown=down on:pointermove=mv on:pointerup=up on:pointercancel=up></canvas>
                <div class="row">
                    <button id="clear" on:click=clear>"Clear"</button>
                    <span class="muted">"The model sees:"</span>
                    <canvas id="seen" node_ref=seen width="28" height="28" class="seen" aria-label="the 28 × 28 input the model sees"></canvas>
                </div>
            </section>
            <section class="panel" aria-live="polite">
                <h2>"Prediction"</h2>
                {move || match result.get() {
                    None => view! { <p class="muted" id="digit-prediction" data-class="">"Draw a digit or pick one below."</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="alert" id="digit-prediction" data-class="" role="alert">{e}</p> }.into_any(),
                    Some(Ok(r)) => {
                        let c = r.scores.first().map_or(0, |s| s.class);
                        let c8 = r.scores.get(1).map_or(0, |s| s.class);
                        view! {
                            <p id="digit-prediction" class="prediction" data-class=c.to_string() data-class8=c8.to_string()>
                                <span class="big">{c.to_string()}</span>
                                <span>{format!(" at the chosen genome · {c8} at 8 bits · {:.1} ms", r.elapsed_ms)}</span>
                                {r.label.map(|l| format!(" · label {l}"))}
                            </p>
                        }.into_any()
                    }
                }}
                <ClassBars names=names series=series />
                <p class="muted">"Chosen genome: " <code>{move || st.genome.get().to_string()}</code> " (set it on the Search or Export page)."</p>
            </section>
        </div>
        <section class="panel">
            <h2>"Test digits"</h2>
            <p class="muted">"From the bundled MNIST test subset. Click one to classify it."</p>
            <div class="gallery" id="gallery">
                {move || gallery.get().map(|(labels, bytes)| labels.into_iter().enumerate().map(|(k, l)| {
                    let img = bytes[k * 784..(k + 1) * 784].to_vec();
                    let node = NodeRef::<Canvas>::new();
                    node.on_load(move |c| paint_image(&c, &img));
                    view! {
                        <button class="thumb" data-index=k.to_string() aria-label=format!("test digit {k}, label {l}")
                            on:click=move |_| classify(st, ClassifyInput::Sample { index: k }, vec![], result, in_flight)>
                            <canvas node_ref=node width="28" height="28"></canvas>
                            <span>{l.to_string()}</span>
                        </button>
                    }
                }).collect_view())}
            </div>
        </section>
    }
}
