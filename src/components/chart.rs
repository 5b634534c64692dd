//! SVG charts drawn by the app: the search scatter (error vs size, population, front and the
//! homogeneous 2…8-bit curve) and the hypervolume history. Axes, ticks, units, legends and
//! tooltips (`<title>` plus a hover readout).
use bitgru::search::run::Point;
use bitgru::Genome;
use leptos::prelude::*;

const W: f64 = 560.0;
const H: f64 = 340.0;
const ML: f64 = 58.0;
const MR: f64 = 14.0;
const MT: f64 = 12.0;
const MB: f64 = 46.0;

/// "Nice" linear ticks covering `[lo, hi]`.
pub fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.7)
        .unwrap_or(10.0 * mag);
    // Ticks are whole multiples of the step, rounded to the step's decimals (0.6, not
    // 0.6000000000000001).
    let scale = 10f64.powi((-step.log10().floor()).max(0.0) as i32 + 1);
    let (k0, k1) = (
        (lo / step - 1e-9).ceil() as i64,
        (hi / step + 1e-9).floor() as i64,
    );
    (k0..=k1)
        .map(|k| (k as f64 * step * scale).round() / scale)
        .collect()
}

/// Log-scale error axis: lower end a power-of-ten fraction at or below the smallest positive
/// error (at least 0.1 %), upper end 100 %.
pub fn error_domain(errors: impl Iterator<Item = f64>) -> (f64, f64) {
    let min = errors.filter(|e| *e > 0.0).fold(1.0f64, f64::min);
    let lo = 10f64.powf(min.log10().floor()).clamp(0.001, 0.1);
    (lo, 1.0)
}

fn log_ticks(lo: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut d = lo;
    while d <= 1.0 + 1e-12 {
        for m in [1.0, 2.0, 5.0] {
            let v = d * m;
            if v >= lo - 1e-12 && v <= 1.0 + 1e-12 {
                out.push(v);
            }
        }
        d *= 10.0;
    }
    out
}

/// SVG path data of a polyline through screen points (`M x,y L x,y …`).
fn polyline(points: impl Iterator<Item = (f64, f64)>) -> String {
    points
        .enumerate()
        .map(|(k, (x, y))| format!("{}{x:.1},{y:.1}", if k == 0 { "M" } else { "L" }))
        .collect()
}

fn pct(v: f64) -> String {
    let p = v * 100.0;
    if p >= 10.0 || p == p.round() {
        format!("{p:.0}%")
    } else if p >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// What the scatter shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScatterData {
    pub population: Vec<Point>,
    pub front: Vec<Point>,
    pub homogeneous: Vec<Point>,
}

/// Error (log) against normalized size. `on_select` gets a clicked point's genome.
#[component]
pub fn ParetoChart(
    #[prop(into)] data: Signal<ScatterData>,
    #[prop(into)] selected: Signal<Option<Genome>>,
    on_select: Callback<Genome>,
) -> impl IntoView {
    let hover = RwSignal::new(None::<Point>);
    let plot = move || {
        let d = data.get();
        let all = d
            .population
            .iter()
            .chain(&d.front)
            .chain(&d.homogeneous)
            .map(|p| 1.0 - p.accuracy);
        let (lo, hi) = error_domain(all);
        let (llo, lhi) = (lo.log10(), hi.log10());
        let x_max = 1.05;
        let sx = move |s: f64| ML + (s / x_max).clamp(0.0, 1.0) * (W - ML - MR);
        let sy = move |e: f64| {
            let e = e.max(lo);
            MT + (lhi - e.log10()) / (lhi - llo) * (H - MT - MB)
        };
        let sel = selected.get();
        let xt = linear_ticks(0.0, 1.0, 5);
        let yt = log_ticks(lo);
        let points_path = |pts: &[Point]| {
            polyline(
                pts.iter()
                    .map(|p| (sx(p.size_normalized), sy(1.0 - p.accuracy))),
            )
        };
        let hom_path = points_path(&d.homogeneous);
        let front_path = points_path(&d.front);
        let point_title = |p: &Point, what: &str| {
            format!(
                "{what} {}\nerror {} (accuracy {:.2}%)\nsize {:.3} of all-8 ({} B)",
                p.genome,
                pct(1.0 - p.accuracy),
                100.0 * p.accuracy,
                p.size_normalized,
                p.size_bytes
            )
        };
        view! {
            <g class="grid">
                {xt.iter().map(|&t| view! {
                    <line x1=sx(t) x2=sx(t) y1=MT y2=H - MB></line>
                    <text class="tick" x=sx(t) y=H - MB + 16.0 text-anchor="middle">{format!("{t:.1}")}</text>
                }).collect_view()}
                {yt.iter().map(|&t| view! {
                    <line x1=ML x2=W - MR y1=sy(t) y2=sy(t)></line>
                    <text class="tick" x=ML - 6.0 y=sy(t) + 4.0 text-anchor="end">{pct(t)}</text>
                }).collect_view()}
            </g>
            <text class="axis-label" x=(ML + W - MR) / 2.0 y=H - 8.0 text-anchor="middle">
                "model size (fraction of the all-8-bit size)"
            </text>
            <text class="axis-label" transform=format!("translate(14,{}) rotate(-90)", (MT + H - MB) / 2.0) text-anchor="middle">
                "error on the fitness subset (log scale)"
            </text>
            <path class="hom-line" d=hom_path></path>
            {d.homogeneous.iter().map(|p| {
                let p2 = p.clone();
                let g = p.genome;
                view! {
                    <g class="hom-pt" on:click=move |_| on_select.run(g)
                        on:mouseenter={let p2 = p2.clone(); move |_| hover.set(Some(p2.clone()))}
                        on:mouseleave=move |_| hover.set(None)>
                        <rect x=sx(p.size_normalized) - 4.0 y=sy(1.0 - p.accuracy) - 4.0 width="8" height="8">
                            <title>{point_title(p, "homogeneous")}</title>
                        </rect>
                        <text class="hom-label" x=sx(p.size_normalized) y=sy(1.0 - p.accuracy) - 8.0 text-anchor="middle">
                            {p.genome.bits()[0].to_string()}
                        </text>
                    </g>
                }
            }).collect_view()}
            {d.population.iter().map(|p| {
                let g = p.genome;
                let p2 = p.clone();
                view! {
                    <circle class="pop-pt" cx=sx(p.size_normalized) cy=sy(1.0 - p.accuracy) r="3.5"
                        on:click=move |_| on_select.run(g)
                        on:mouseenter=move |_| hover.set(Some(p2.clone()))
                        on:mouseleave=move |_| hover.set(None)>
                        <title>{point_title(p, "population")}</title>
                    </circle>
                }
            }).collect_view()}
            <path class="front-line" d=front_path></path>
            {d.front.iter().map(|p| {
                let g = p.genome;
                let p2 = p.clone();
                let is_sel = sel == Some(g);
                view! {
                    <circle class="front-pt" class:selected=is_sel cx=sx(p.size_normalized) cy=sy(1.0 - p.accuracy) r=if is_sel { "7" } else { "5" }
                        tabindex="0" role="button" data-genome=g.to_string()
                        aria-label=format!("front genome {g}, error {}, size {:.3}", pct(1.0 - p.accuracy), p.size_normalized)
                        on:click=move |_| on_select.run(g)
                        on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { ev.prevent_default(); on_select.run(g) }
                        on:focus={let p2 = p2.clone(); move |_| hover.set(Some(p2.clone()))}
                        on:mouseenter=move |_| hover.set(Some(p2.clone()))
                        on:mouseleave=move |_| hover.set(None)>
                        <title>{point_title(p, "front")}</title>
                    </circle>
                }
            }).collect_view()}
        }
    };
    view! {
        <figure class="chart">
            <svg id="pareto-chart" viewBox=format!("0 0 {W} {H}") role="img"
                aria-label="error against model size: population, Pareto front and homogeneous genomes">
                {plot}
            </svg>
            <figcaption>
                <span class="legend">
                    <span class="key pop"></span>"population "
                    <span class="key front"></span>"Pareto front "
                    <span class="key hom"></span>"homogeneous 2…8 bits"
                </span>
                <span class="readout" aria-live="polite">
                    {move || hover.get().map(|p| format!(
                        "{} · error {} · size {:.3} ({} B)", p.genome, pct(1.0 - p.accuracy), p.size_normalized, p.size_bytes
                    )).unwrap_or_else(|| "Hover or focus a point; click it for details.".into())}
                </span>
            </figcaption>
        </figure>
    }
}

/// Hypervolume per generation, with the homogeneous genomes' hypervolume as a reference line.
#[component]
pub fn HypervolumeChart(
    #[prop(into)] values: Signal<Vec<f64>>,
    #[prop(into)] homogeneous: Signal<Option<f64>>,
    #[prop(into)] reference: Signal<Vec<f64>>,
) -> impl IntoView {
    let (w, h) = (560.0, 220.0);
    let plot = move || {
        let v = values.get();
        let hom = homogeneous.get();
        let n = v.len().max(2);
        let lo_v = v.iter().copied().chain(hom).fold(f64::INFINITY, f64::min);
        let hi_v = v
            .iter()
            .copied()
            .chain(hom)
            .fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo_v.is_finite() && hi_v > lo_v {
            let pad = (hi_v - lo_v) * 0.1;
            (lo_v - pad, hi_v + pad)
        } else if lo_v.is_finite() {
            (lo_v - 0.01, lo_v + 0.01)
        } else {
            (0.0, 1.0)
        };
        let sx = move |g: f64| ML + g / (n - 1) as f64 * (w - ML - MR);
        let sy = move |y: f64| MT + (hi - y) / (hi - lo) * (h - MT - MB);
        let path = polyline(v.iter().enumerate().map(|(k, y)| (sx(k as f64), sy(*y))));
        let xt = linear_ticks(0.0, (n - 1) as f64, 6.min(n - 1).max(1));
        let yt = linear_ticks(lo, hi, 4);
        view! {
            <g class="grid">
                {xt.iter().map(|&t| view! {
                    <line x1=sx(t) x2=sx(t) y1=MT y2=h - MB></line>
                    <text class="tick" x=sx(t) y=h - MB + 16.0 text-anchor="middle">{format!("{t:.0}")}</text>
                }).collect_view()}
                {yt.iter().map(|&t| view! {
                    <line x1=ML x2=w - MR y1=sy(t) y2=sy(t)></line>
                    <text class="tick" x=ML - 6.0 y=sy(t) + 4.0 text-anchor="end">{format!("{t:.3}")}</text>
                }).collect_view()}
            </g>
            <text class="axis-label" x=(ML + w - MR) / 2.0 y=h - 8.0 text-anchor="middle">"generation"</text>
            <text class="axis-label" transform=format!("translate(14,{}) rotate(-90)", (MT + h - MB) / 2.0) text-anchor="middle">"hypervolume"</text>
            {hom.map(|y| view! {
                <line class="hv-hom" x1=ML x2=w - MR y1=sy(y) y2=sy(y)><title>{format!("homogeneous genomes: {y:.4}")}</title></line>
            })}
            <path class="hv-line" d=path></path>
            {v.iter().enumerate().map(|(k, y)| view! {
                <circle class="hv-pt" cx=sx(k as f64) cy=sy(*y) r="3">
                    <title>{format!("generation {k}: hypervolume {y:.4}")}</title>
                </circle>
            }).collect_view()}
        }
    };
    view! {
        <figure class="chart">
            <svg id="hv-chart" viewBox=format!("0 0 {w} {h}") role="img" aria-label="hypervolume per generation">
                {plot}
            </svg>
            <figcaption>
                <span class="legend">
                    <span class="key front"></span>"mixed-precision front "
                    <span class="key hom dashed"></span>"homogeneous genomes"
                </span>
                <span>{move || format!("Reference point ({}), objectives minimized.",
                    reference.get().iter().map(|r| format!("{r}")).collect::<Vec<_>>().join(", "))}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polylines_move_then_draw() {
        assert_eq!(
            polyline([(1.0, 2.26), (3.0, 4.0)].into_iter()),
            "M1.0,2.3L3.0,4.0"
        );
        assert_eq!(polyline(std::iter::empty()), "");
    }

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(
            linear_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        let t = linear_ticks(0.913, 0.957, 4);
        assert!(
            t.first().unwrap() >= &0.913 && t.last().unwrap() <= &0.957 && t.len() >= 3,
            "{t:?}"
        );
        assert_eq!(error_domain([0.02, 0.5].into_iter()), (0.01, 1.0));
        assert_eq!(error_domain([0.0].into_iter()).0, 0.1);
        assert_eq!(error_domain([0.00001].into_iter()).0, 0.001);
        assert_eq!(log_ticks(0.01), vec![0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]);
        assert_eq!(pct(0.015), "1.5%");
    }
}
