//! About: what the app is, how it runs, and the data's licences.
use crate::app::state;
use leptos::prelude::*;

#[component]
pub fn AboutPage() -> impl IntoView {
    let st = state();
    view! {
        <h1>"About bitgru"</h1>
        <section class="panel prose">
            <p>"bitgru makes the " <em>"mixed-precision integer-only GRUs"</em> " of Miccini et al., “Modular quantization of GRUs” (arXiv 2402.12263, tinyML 2024) usable in a browser. Each of the GRU cell's 17 operators — 6 linear layers, 5 additions, 3 multiplications and 3 activations — gets its own bit width from 2 to 8, and a genetic search (NSGA-II) finds the models that trade accuracy against size best."</p>
            <h2>"How it runs"</h2>
            <ul>
                <li>"The Rust core (float reference, calibration, integer kernel, search) is compiled to WebAssembly and runs in a Web Worker; this page only draws."</li>
                <li>{move || match st.bridge.mode.get() {
                    Some(m) if m.threaded => format!("This page is cross-origin isolated: evaluations run on a pool of {} threads (wasm-bindgen-rayon).", m.threads),
                    Some(m) => format!("This page runs single-threaded: {}.", m.reason.unwrap_or_else(|| "no thread pool".into())),
                    None => "The worker is starting…".into(),
                }}</li>
                <li>"After the first visit the app works offline: a service worker keeps the app, the models and the bundled data."</li>
                <li>"Nothing you upload leaves your browser; there are no network calls besides this site's own files."</li>
            </ul>
            <h2>"Data and licences"</h2>
            <ul>
                <li>"MNIST: Yann LeCun and Corinna Cortes (with Christopher J. C. Burges), CC BY-SA 3.0. The app bundles 500 test digits."</li>
                <li>"Speech Commands v0.02: Pete Warden (Google), CC BY 4.0. The app bundles MFCC features of the 483 validation clips used here."</li>
                <li>"bitgru itself: MIT or Apache-2.0."</li>
            </ul>
        </section>
    }
}
