//! Browser tests (headless Chromium via wasm-bindgen-test-runner):
//! `cargo test -p bitgru-web --target wasm32-unknown-unknown --test web`.
//!
//! - the page mounts and shows its initial UI, and explains an invalid genome;
//! - the integer kernel gives the same bits in wasm as natively: the golden fixture written and
//!   checked natively by the core's tests is re-run here, stage by stage;
//! - the worker's evaluation of the embedded model gives the same predictions as natively
//!   (tests/fixtures/demo_eval.json, kept current by tests/native.rs).
//!
//! - re-preparing the golden models from their recorded seeds (synthetic weights, calibration,
//!   scales, multipliers, LUTs) gives the frozen models bit for bit: prepare uses only
//!   IEEE-exact arithmetic and the portable `libm` crate, never the platform libm.
#![cfg(target_arch = "wasm32")]

use bitgru::io::golden::{run_kernel, GoldenFile};
use bitgru_web::protocol::EvalRequest;
use bitgru_web::{App, Engine, DEFAULT_GENOME, DEMO_MODEL};
use common::DemoEval;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

mod common;

const DEMO_EVAL: &str = include_str!("fixtures/demo_eval.json");
const GOLDEN: &str = include_str!("../crates/bitgru/tests/fixtures/golden_kernel.json");

/// A fresh container in the document.
fn container() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    root
}

fn find(root: &HtmlElement, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn text(root: &HtmlElement, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn app_shows_the_initial_ui() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;

    assert_eq!(text(&root, "h1"), "bitgru");
    assert!(text(&root, ".lede").contains("17 operators"));
    let genome: HtmlInputElement = find(&root, "#genome").unchecked_into();
    assert_eq!(genome.value(), DEFAULT_GENOME);
    assert_eq!(text(&root, "#genome-error"), "");
    // One cell per gene, showing the default genome's bits.
    let cells = root.query_selector_all(".genes .bits").unwrap();
    assert_eq!(cells.length(), 17);
    let shown: String = (0..cells.length())
        .map(|i| cells.item(i).unwrap().text_content().unwrap())
        .collect();
    assert_eq!(shown, DEFAULT_GENOME);
    // The worker has not answered yet: nothing can run, nothing has run.
    let run: HtmlButtonElement = find(&root, "#run").unchecked_into();
    assert!(run.disabled());
    let result = find(&root, "#result");
    assert_eq!(result.get_attribute("data-status").as_deref(), Some("idle"));
    assert!(text(&root, "#result").contains("Run a genome"));
    assert!(root.query_selector("#result-json").unwrap().is_none());
    drop(handle);
    root.remove();
}

#[wasm_bindgen_test]
async fn app_explains_an_invalid_genome() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    let genome: HtmlInputElement = find(&root, "#genome").unchecked_into();

    genome.set_value("8888");
    genome
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    leptos::task::tick().await;
    assert!(
        text(&root, "#genome-error").contains("expected 17 digits"),
        "{}",
        text(&root, "#genome-error")
    );
    assert!(find(&root, "#genome").class_list().contains("invalid"));
    assert_eq!(text(&root, ".genes .bits"), "·");

    genome.set_value("88888888888888818");
    genome
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    leptos::task::tick().await;
    assert!(text(&root, "#genome-error").contains("gene 15 (sig_z) = 1"));

    genome.set_value("22222222222222222");
    genome
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    leptos::task::tick().await;
    assert_eq!(text(&root, "#genome-error"), "");
    assert!(!find(&root, "#genome").class_list().contains("invalid"));
    drop(handle);
    root.remove();
}

/// Waits (50 ms steps, up to 10 s) until `selector` matches in `root`.
async fn wait_for(root: &HtmlElement, selector: &str) -> Element {
    for _ in 0..200 {
        if let Some(el) = root.query_selector(selector).unwrap() {
            return el;
        }
        let sleep = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 50)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(sleep).await.unwrap();
    }
    panic!("{selector} did not appear");
}

#[wasm_bindgen_test]
async fn app_shows_worker_failures() {
    // The test page has no worker scripts: the threaded worker (the runner serves COOP/COEP)
    // fails to load, the page falls back to the single-threaded one, which fails too; both
    // failures are shown, and nothing can run.
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    let error = wait_for(&root, "#error").await.text_content().unwrap();
    assert!(
        error.contains("The worker stopped") && error.contains("worker_loader.js"),
        "{error}"
    );
    if bitgru_web::cross_origin_isolated() {
        assert!(text(&root, "#notice").contains("threaded worker did not start"));
    }
    assert_eq!(
        find(&root, "#status")
            .get_attribute("data-phase")
            .as_deref(),
        Some("failed")
    );
    let run: HtmlButtonElement = find(&root, "#run").unchecked_into();
    assert!(run.disabled());
    drop(handle);
    root.remove();
}

#[wasm_bindgen_test]
fn golden_kernel_is_bit_exact_in_wasm() {
    let file: GoldenFile = serde_json::from_str(GOLDEN).expect("golden fixture parses");
    assert!(!file.cases.is_empty());
    for (k, case) in file.cases.iter().enumerate() {
        // The stored prepared model and input codes, re-run here: every stage of every step.
        let (logits, stages) = run_kernel(&case.model, &case.inputs).unwrap();
        assert_eq!(stages.len(), case.stage_codes.len());
        for (s, (got, want)) in stages.iter().zip(&case.stage_codes).enumerate() {
            assert_eq!(got.len(), want.len(), "case {k} sequence {s}: steps");
            for (t, (g, w)) in got.iter().zip(want).enumerate() {
                assert_eq!(
                    g, w,
                    "case {k} ({}) sequence {s} step {t}",
                    case.spec.genome
                );
            }
        }
        assert_eq!(logits, case.logits, "case {k} logits");
        case.check_kernel()
            .unwrap_or_else(|e| panic!("case {k}: {e}"));
    }
}

#[wasm_bindgen_test]
fn demo_evaluation_matches_native() {
    // The whole chain on the embedded model (inputs, quantization, prepare from the stored
    // calibration, integer kernel, float model) against the values computed natively by
    // tests/native.rs, which keeps the fixture current.
    let want: DemoEval = serde_json::from_str(DEMO_EVAL).unwrap();
    let engine = Engine::from_bytes(DEMO_MODEL).unwrap();
    for case in &want.cases {
        let req = EvalRequest {
            genome: case.genome.clone(),
            seed: case.seed,
            n: case.n,
        };
        let got = engine.evaluate(&req, || 0.0).unwrap();
        assert_eq!(got.predictions, case.predictions, "{}", case.genome);
        assert_eq!(
            got.float_predictions, case.float_predictions,
            "{}",
            case.genome
        );
        assert_eq!(got.size, case.size, "{}", case.genome);
    }
}

#[wasm_bindgen_test]
fn golden_prepare_is_bit_exact_in_wasm() {
    // Prepare (synthetic model, calibration, scales, multipliers, LUTs) uses only IEEE-exact
    // arithmetic and the portable `libm` crate, so the model rebuilt here from the recorded seeds
    // equals the one frozen natively, bit for bit.
    let file: GoldenFile = serde_json::from_str(GOLDEN).expect("golden fixture parses");
    for (k, case) in file.cases.iter().enumerate() {
        case.check_prepare()
            .unwrap_or_else(|e| panic!("case {k} ({}): {e}", case.spec.genome));
    }
}

/// The batch kernel's bit-exactness suite (`bitgru::kernel::verify::compare` over
/// `bitgru::synth::KernelCase::random`, the same as `crates/bitgru/tests/kernel_variants.rs`),
/// for the variants of this build: the simd128 one and the portable one.
#[wasm_bindgen_test]
fn kernel_variants_are_bit_exact_in_wasm() {
    use bitgru::kernel::{verify, Variant};
    assert_eq!(
        bitgru::kernel::variant_name(),
        "simd128",
        "built with +simd128"
    );
    // Few cases per test: a wasm test blocks the page, and the runner's driver gives up after
    // ~20 s without an answer.
    for k in 0..6u64 {
        let case = bitgru::synth::KernelCase::random(0x6B17_0000 + k);
        let (q, codes) = case.build().unwrap();
        for v in [Variant::Scalar, Variant::Simd128] {
            verify::compare(&q, v, &codes, case.n, case.steps, case.tile)
                .unwrap_or_else(|e| panic!("{e}\ncase: {case:?}"));
        }
    }
}

/// Throughput of the batch kernel on the kws10 shape (T = 49, I = 10, H = 64, 6 classes, batch
/// 256, genome all-8) in this browser, one thread, and the streaming step; printed for
/// docs/BENCHMARKS.md (wasm ÷ native on the same machine). Asserts only that it ran.
#[wasm_bindgen_test]
fn kernel_throughput_kws10() {
    use bitgru::kernel::{BatchScratch, PackedGru, StreamState, Variant};
    let (steps, input, hidden, classes, n) = (49, 10, 64, 6, 256);
    let m = bitgru::synth::random_model(1, input, hidden, classes);
    let seqs = bitgru::synth::random_sequences(2, n, steps, input);
    let refs: Vec<&[f32]> = seqs.iter().take(64).map(|v| v.as_slice()).collect();
    let cal = bitgru::Calibration::compute(&m, &refs).unwrap();
    let q = bitgru::QuantGru::prepare(&m, &cal, &bitgru::Genome::uniform(8).unwrap()).unwrap();
    let codes: Vec<i8> = seqs
        .iter()
        .flat_map(|x| q.quantize_input(x).unwrap())
        .collect();
    let p = PackedGru::pack(&q).unwrap();
    for v in [Variant::Simd128, Variant::Scalar] {
        let mut s = BatchScratch::new(&p);
        let mut out = vec![0i32; n * classes];
        p.logits_into(v, &codes, n, steps, &mut s, &mut out)
            .unwrap();
        let (t0, mut reps) = (bitgru_web::now_ms(), 0);
        while bitgru_web::now_ms() - t0 < 700.0 {
            p.logits_into(v, &codes, n, steps, &mut s, &mut out)
                .unwrap();
            reps += 1;
        }
        let secs = (bitgru_web::now_ms() - t0) / 1000.0;
        console_log!(
            "wasm kws10 batch kernel {}: {:.0} seq/s (1 thread, batch {n})",
            v.name(),
            (reps * n) as f64 / secs
        );
        assert!(reps > 0);
    }
    let mut st = StreamState::new(&p, Variant::best()).unwrap();
    let (t0, mut k) = (bitgru_web::now_ms(), 0usize);
    while bitgru_web::now_ms() - t0 < 300.0 {
        for _ in 0..100 {
            p.step_stream(&codes[..input], &mut st).unwrap();
        }
        k += 100;
    }
    let us = (bitgru_web::now_ms() - t0) * 1000.0 / k as f64;
    console_log!(
        "wasm kws10 streaming step ({}): {us:.2} µs",
        st.variant().name()
    );
}
