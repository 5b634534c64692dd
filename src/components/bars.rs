//! Per-class probability bars, for one or two genomes side by side.
use leptos::prelude::*;

/// `series`: `(label, probabilities)`; the top class of each series is highlighted (`lead`; not
/// `top`, which is the page header's class).
#[component]
pub fn ClassBars(
    #[prop(into)] names: Signal<Vec<String>>,
    #[prop(into)] series: Signal<Vec<(String, Vec<f64>)>>,
) -> impl IntoView {
    view! {
        <div class="class-bars" role="table" aria-label="class probabilities">
            {move || {
                let s = series.get();
                let tops: Vec<usize> = s.iter().map(|(_, p)| {
                    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(k, _)| k)
                }).collect();
                names.get().into_iter().enumerate().map(|(c, name)| {
                    view! {
                        <div class="cb-row" role="row" data-class=c.to_string()>
                            <span class="cb-label" role="rowheader">{name}</span>
                            {s.iter().enumerate().map(|(k, (label, p))| {
                                let v = p.get(c).copied().unwrap_or(0.0);
                                view! {
                                    <span class=format!("cb-bar s{k}{}", if tops[k] == c { " lead" } else { "" }) role="cell"
                                        title=format!("{label}: {:.1}%", 100.0 * v)>
                                        <span class="fill" style:width=format!("{:.1}%", 100.0 * v)></span>
                                        <span class="val">{format!("{:.0}%", 100.0 * v)}</span>
                                    </span>
                                }
                            }).collect_view()}
                        </div>
                    }
                }).collect_view()
            }}
            <p class="legend">
                {move || series.get().into_iter().enumerate().map(|(k, (label, _))| view! {
                    <span class=format!("key s{k}")></span>{format!("{label} ")}
                }).collect_view()}
            </p>
        </div>
    }
}
