//! The front's genomes as a heatmap: 17 genes (rows) × front members (columns, by size).
use bitgru::genome::GENE_NAMES;
use bitgru::Genome;
use leptos::prelude::*;

/// Fill colour class of a bit width.
pub fn bits_class(b: u8) -> &'static str {
    match b {
        2 => "b2",
        3 => "b3",
        4 => "b4",
        5 => "b5",
        6 => "b6",
        7 => "b7",
        _ => "b8",
    }
}

#[component]
pub fn GenomeHeatmap(
    #[prop(into)] genomes: Signal<Vec<Genome>>,
    #[prop(into)] selected: Signal<Option<Genome>>,
    on_select: Callback<Genome>,
) -> impl IntoView {
    let cell = 18.0;
    let left = 64.0;
    let top = 8.0;
    view! {
        <figure class="chart heatmap">
            {move || {
                let gs = genomes.get();
                let sel = selected.get();
                let w = left + cell * gs.len().max(1) as f64 + 8.0;
                let h = top + cell * 17.0 + 6.0;
                view! {
                    <svg id="heatmap" viewBox=format!("0 0 {w} {h}") role="img"
                        style:max-width=format!("{}px", w * 1.4)
                        aria-label="bit width of each gene for each front member">
                        {GENE_NAMES.iter().enumerate().map(|(r, name)| view! {
                            <text class="tick" x=left - 4.0 y=top + cell * r as f64 + 13.0 text-anchor="end">{*name}</text>
                        }).collect_view()}
                        {gs.iter().enumerate().map(|(c, g)| {
                            let g = *g;
                            let x = left + cell * c as f64;
                            view! {
                                <g class="hm-col" class:selected=sel == Some(g) on:click=move |_| on_select.run(g)>
                                    {g.bits().iter().enumerate().map(|(r, b)| view! {
                                        <rect class=bits_class(*b) x=x y=top + cell * r as f64 width=cell - 1.0 height=cell - 1.0>
                                            <title>{format!("{g}: {} = {b} bits", GENE_NAMES[r])}</title>
                                        </rect>
                                        <text class=if *b <= 4 { "hm-num dark" } else { "hm-num" } x=x + cell / 2.0 - 0.5 y=top + cell * r as f64 + 12.5 text-anchor="middle">{b.to_string()}</text>
                                    }).collect_view()}
                                </g>
                            }
                        }).collect_view()}
                    </svg>
                }
            }}
            <figcaption class="legend">
                "Columns: front members, smallest first. Bits: "
                {(2u8..=8).map(|b| view! { <span class=format!("swatch {}", bits_class(b))>{b.to_string()}</span> }).collect_view()}
            </figcaption>
        </figure>
    }
}
