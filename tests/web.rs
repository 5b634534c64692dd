//! Browser tests (headless Chromium via wasm-bindgen-test-runner):
//! `cargo test -p bitgru-web --target wasm32-unknown-unknown --test web`.
//!
//! - the shell mounts (nav, default models, status bar) and follows the URL;
//! - the charts and heatmap draw what they are given and report clicks;
//! - the worker protocol: envelopes carry transferable buffers; the worker's state machine
//!   (`Compute`) runs a search in wasm with the same front as natively
//!   (tests/fixtures/app_search.json);
//! - the integer kernel gives the same bits in wasm as natively: the golden fixture written and
//!   checked natively by the core's tests is re-run here, stage by stage;
//! - the worker's evaluation of the embedded model gives the same predictions as natively
//!   (tests/fixtures/demo_eval.json, kept current by tests/native.rs).
//!
//! - the streaming keyword detector (resampler, MFCC, integer kws10 model, smoothing,
//!   decisions) gives the same bits in wasm as natively (tests/fixtures/detector_golden.json);
//! - re-preparing the golden models from their recorded seeds (synthetic weights, calibration,
//!   scales, multipliers, LUTs) gives the frozen models bit for bit: prepare uses only
//!   IEEE-exact arithmetic and the portable `libm` crate, never the platform libm.
#![cfg(target_arch = "wasm32")]

use bitgru::io::golden::{run_kernel, GoldenFile};
use bitgru::search::run::Point;
use bitgru_web::components::chart::{HypervolumeChart, ParetoChart, ScatterData};
use bitgru_web::components::heatmap::GenomeHeatmap;
use bitgru_web::protocol::{EvalRequest, ToWorker};
use bitgru_web::{App, Engine, DEMO_MODEL};
use common::DemoEval;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

mod common;

const DEMO_EVAL: &str = include_str!("fixtures/demo_eval.json");
const APP_SEARCH: &str = include_str!("fixtures/app_search.json");
const GOLDEN: &str = include_str!("../crates/bitgru/tests/fixtures/golden_kernel.json");
const DETECTOR_GOLDEN: &str = include_str!("fixtures/detector_golden.json");

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

async fn settle() {
    for _ in 0..3 {
        leptos::task::tick().await;
    }
}

#[wasm_bindgen_test]
async fn app_shows_the_shell_and_follows_the_url() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), App);
    settle().await;
    // Six pages in the nav bar; the Models page first, with the default models.
    let links = root.query_selector_all("nav a").unwrap();
    assert_eq!(links.length(), 6);
    assert_eq!(
        find(&root, "#main").get_attribute("data-route").as_deref(),
        Some("models")
    );
    assert_eq!(root.query_selector_all(".model-card").unwrap().length(), 5);
    assert!(
        text(&root, "#model-row-mnist").contains("99.11%"),
        "accuracy from RESULTS.md"
    );
    assert!(text(&root, "#worker-mode").contains("Worker"));
    // The URL selects the page.
    let window = web_sys::window().unwrap();
    window.location().set_hash("/about").unwrap();
    let mut route = String::new();
    for _ in 0..50 {
        settle().await;
        route = find(&root, "#main")
            .get_attribute("data-route")
            .unwrap_or_default();
        if route == "about" {
            break;
        }
        sleep_ms(20).await;
    }
    assert_eq!(route, "about");
    assert!(text(&root, "h1").contains("About"));
    assert_eq!(
        find(&root, "#nav-about")
            .get_attribute("aria-current")
            .as_deref(),
        Some("page")
    );
    window.location().set_hash("").unwrap();
    drop(handle);
    root.remove();
}

async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn point(g: &str, acc: f64, size: f64) -> Point {
    Point {
        genome: g.parse().unwrap(),
        accuracy: acc,
        agreement: 1.0,
        size_normalized: size,
        size_bytes: (size * 1000.0) as u64,
        bitops_normalized: size,
        objectives: vec![1.0 - acc, size],
    }
}

#[wasm_bindgen_test]
async fn charts_draw_points_front_homogeneous_curve_and_heatmap() {
    use leptos::prelude::*;
    let root = container();
    let hom: Vec<Point> = (2..=8)
        .map(|b| {
            point(
                &b.to_string().repeat(17),
                0.1 * b as f64 + 0.15,
                b as f64 / 8.0,
            )
        })
        .collect();
    let front = vec![
        point("86868686868686868", 0.97, 0.8),
        point("66666666666666666", 0.9, 0.7),
    ];
    let data = ScatterData {
        population: vec![
            point("88888888888888888", 0.99, 1.0),
            front[0].clone(),
            front[1].clone(),
        ],
        front: front.clone(),
        homogeneous: hom,
    };
    let picked = RwSignal::new(None::<bitgru::Genome>);
    let genomes: Vec<bitgru::Genome> = front.iter().map(|p| p.genome).collect();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        let cb = Callback::new(move |g| picked.set(Some(g)));
        view! {
            <ParetoChart data=Signal::derive(move || data.clone()) selected=Signal::derive(move || picked.get()) on_select=cb />
            <HypervolumeChart values=Signal::derive(|| vec![0.5, 0.6, 0.65]) homogeneous=Signal::derive(|| Some(0.4)) reference=Signal::derive(|| vec![1.1, 1.1]) />
            <GenomeHeatmap genomes=Signal::derive(move || genomes.clone()) selected=Signal::derive(move || picked.get()) on_select=cb />
        }
    });
    settle().await;
    assert_eq!(root.query_selector_all(".pop-pt").unwrap().length(), 3);
    assert_eq!(root.query_selector_all(".front-pt").unwrap().length(), 2);
    assert_eq!(root.query_selector_all(".hom-pt").unwrap().length(), 7);
    assert_eq!(root.query_selector_all(".hv-pt").unwrap().length(), 3);
    assert_eq!(
        root.query_selector_all("#heatmap rect").unwrap().length(),
        2 * 17
    );
    assert!(
        text(&root, "#pareto-chart").contains("model size"),
        "axis label"
    );
    assert!(text(&root, "#hv-chart").contains("generation"));
    // Clicking a front point selects its genome (and enlarges it).
    let pt: web_sys::SvgElement =
        find(&root, ".front-pt[data-genome='66666666666666666']").unchecked_into();
    pt.dispatch_event(&web_sys::MouseEvent::new("click").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(
        picked.get_untracked().map(|g| g.to_string()).as_deref(),
        Some("66666666666666666")
    );
    assert_eq!(
        root.query_selector_all(".front-pt.selected")
            .unwrap()
            .length(),
        1
    );
    drop(handle);
    root.remove();
}

#[wasm_bindgen_test]
fn envelopes_carry_binary_payloads_as_transferable_buffers() {
    use bitgru_web::protocol::wire;
    let bufs = vec![vec![1u8, 2, 3], vec![255u8; 1000]];
    let (value, transfer) = wire::to_js(&ToWorker::Cancel { id: 4 }.encode(), &bufs);
    assert_eq!(transfer.length(), 2);
    assert!(transfer.get(0).is_instance_of::<js_sys::ArrayBuffer>());
    let back = wire::from_js(&value).unwrap();
    assert_eq!(back.bufs, bufs);
    assert_eq!(
        ToWorker::decode(&back.msg).unwrap(),
        ToWorker::Cancel { id: 4 }
    );
    assert!(wire::from_js(&JsValue::from_str("nope")).is_err());
}

#[wasm_bindgen_test]
fn the_worker_state_machine_searches_like_natively() {
    // The same search through `Compute` (what the worker runs) as tests/native.rs, whose
    // front is frozen in tests/fixtures/app_search.json.
    let want: serde_json::Value = serde_json::from_str(APP_SEARCH).unwrap();
    assert_eq!(common::app_search::run(), want);
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

/// The Listen page's detector in wasm: every frame's probabilities, smoothed probabilities,
/// level and gate, and every detection, bit for bit as natively.
#[wasm_bindgen_test]
fn detector_is_bit_exact_in_wasm() {
    let stored: common::detector_golden::DetectorGolden =
        serde_json::from_str(DETECTOR_GOLDEN).expect("detector fixture parses");
    assert_eq!(common::detector_golden::compute(), stored);
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

/// The table lookups of the simd128 variant (`i8x16.swizzle` over the segments a bit width
/// reaches, lane by lane above; staged and fused-chunk forms) against the portable one: every
/// width 2–8, signed and
/// unsigned tables, every code, partial chunks (`bitgru::kernel::verify::check_lookups`).
#[wasm_bindgen_test]
fn kernel_lookups_are_exact_in_wasm() {
    use bitgru::kernel::{verify, PackedGru, Variant};
    let (q, _) = bitgru::synth::KernelCase::random(1).build().unwrap();
    let p = PackedGru::pack(&q).unwrap();
    for v in [Variant::Scalar, Variant::Simd128]
        .into_iter()
        .filter(|v| v.available())
    {
        for seed in 1..4 {
            verify::check_lookups(&p, v, seed).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Hidden sizes around the fused element-wise pass's chunk width (16 units, the explicit
/// simd128 pass of this build), all widths 2–8, models with every i32 form.
#[wasm_bindgen_test]
fn kernel_fused_pass_is_bit_exact_in_wasm() {
    use bitgru::kernel::{verify, PackedGru, Variant};
    use bitgru::synth::{CaseInputs, KernelCase};
    for (k, hidden) in [1usize, 5, 8, 15, 16, 17, 24, 31, 33, 47, 48, 50, 63, 65, 71]
        .into_iter()
        .enumerate()
    {
        let case = KernelCase {
            bits: std::array::from_fn(|g| 2 + ((g * 3 + k) % 7) as u8),
            seed: 0xF05E_0000 + k as u64,
            input: 1 + k % 11,
            hidden,
            classes: 3,
            n: 1 + k % 6,
            steps: 3,
            inputs: [
                CaseInputs::Saturating,
                CaseInputs::Uniform,
                CaseInputs::Quantized,
            ][k % 3],
            extreme: false,
            tile: k % 4,
        };
        let (q, codes) = case.build().unwrap();
        assert!(PackedGru::pack(&q).unwrap().fused_elementwise());
        for v in [Variant::Scalar, Variant::Simd128]
            .into_iter()
            .filter(|v| v.available())
        {
            verify::compare(&q, v, &codes, case.n, case.steps, case.tile)
                .unwrap_or_else(|e| panic!("{e}\ncase: {case:?}"));
        }
    }
}

/// The bit-exactness suite on chosen cases, so that every build of the wasm suite covers what the
/// few random cases above may miss: batch sizes 1, 2, 7, 64 and 300 (the simd128 product runs
/// four sequences at a time, the rest one by one), tiles of 1, 3, 16 and the default, bit widths
/// 2–8, odd sizes, saturating and extreme inputs, and inputs wider than the simd128 product's
/// i16 staging buffer (512 columns).
#[wasm_bindgen_test]
fn kernel_variants_are_bit_exact_in_wasm_on_chosen_cases() {
    use bitgru::kernel::{verify, Variant};
    use bitgru::synth::{CaseInputs, KernelCase};
    let inputs = [
        CaseInputs::Saturating,
        CaseInputs::Uniform,
        CaseInputs::Quantized,
    ];
    // (n, tile, input, hidden, steps)
    let shapes = [
        (1, 0, 3, 17, 3),
        (2, 1, 10, 64, 2),
        (7, 0, 1, 63, 3),
        (64, 16, 10, 65, 2),
        (300, 0, 5, 33, 2),
        (7, 3, 28, 1, 3),
        (8, 8, 530, 9, 2),
        (5, 5, 4, 520, 1),
    ];
    for (k, &(n, tile, input, hidden, steps)) in shapes.iter().enumerate() {
        let case = KernelCase {
            bits: std::array::from_fn(|g| 2 + ((g + k) % 7) as u8),
            seed: 0x51_3D00 + k as u64,
            input,
            hidden,
            classes: 1 + k % 7,
            n,
            steps,
            inputs: inputs[k % 3],
            extreme: k % 2 == 1,
            tile,
        };
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

/// Time of the two stages of a step of the batch kernel (products, element-wise) on the kws10
/// shape (H = 64, genome all-8), per variant: where a wasm step's time goes. Best of 10 runs of
/// ~50 ms each after 1 s of warm-up (the engine's optimizing tier compiles the kernel's large
/// entry point in the background). Printed for
/// docs/BENCHMARKS.md; asserts only that it ran.
#[wasm_bindgen_test]
fn kernel_throughput_stages_kws10() {
    use bitgru::kernel::{BatchScratch, PackedGru, Stage, Variant};
    let (input, hidden, classes) = (10, 64, 6);
    let m = bitgru::synth::random_model(1, input, hidden, classes);
    let seqs = bitgru::synth::random_sequences(2, 64, 49, input);
    let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
    let cal = bitgru::Calibration::compute(&m, &refs).unwrap();
    let q = bitgru::QuantGru::prepare(&m, &cal, &bitgru::Genome::uniform(8).unwrap()).unwrap();
    let p = PackedGru::pack(&q).unwrap();
    for v in [Variant::Simd128, Variant::Scalar] {
        let mut s = BatchScratch::new(&p);
        let tile = s.tile();
        for stage in [Stage::Products, Stage::Elementwise] {
            let t0 = bitgru_web::now_ms();
            while bitgru_web::now_ms() - t0 < 1000.0 {
                p.run_stage(v, stage, &mut s).unwrap();
            }
            let mut best = f64::INFINITY;
            for _ in 0..10 {
                let (t0, mut k) = (bitgru_web::now_ms(), 0usize);
                while bitgru_web::now_ms() - t0 < 50.0 {
                    for _ in 0..10 {
                        p.run_stage(v, stage, &mut s).unwrap();
                    }
                    k += 10;
                }
                let us = (bitgru_web::now_ms() - t0) * 1000.0 / (k * tile) as f64;
                best = best.min(us);
            }
            console_log!(
                "wasm kws10 stage {} {stage:?}: {best:.3} µs per sequence-step (tile {tile})",
                v.name()
            );
        }
    }
}

/// Where one search evaluation's time goes in this browser (row-MNIST model, 200 sequences of
/// 28 steps: the app's default search on that model, one genome, one thread): the whole
/// `QuantProblem::evaluate`, and its parts `prepare`, `pack` and the batch kernel. Printed for
/// docs/BENCHMARKS.md ("Search in the browser"); asserts only that it ran.
#[wasm_bindgen_test]
fn search_evaluation_breakdown_row_mnist() {
    use bitgru::kernel::{BatchScratch, PackedGru, Variant};
    let b =
        bitgru::io::load_bundle(include_bytes!("../assets/models/row-mnist.safetensors")).unwrap();
    let (n, steps, input) = (200, 28, 28);
    let seqs = bitgru::synth::random_sequences(3, n, steps, input);
    let labels: Vec<usize> = (0..n).map(|k| k % 10).collect();
    let objectives = vec![
        bitgru::search::Objective::Error,
        bitgru::search::Objective::Size,
    ];
    let p = bitgru::search::QuantProblem::new(b.model, b.calibration, &seqs, labels, objectives)
        .unwrap();
    let g: bitgru::Genome = "77723336657384263".parse().unwrap();
    p.evaluate(&g).unwrap();
    // Mean ms per call over ~1 s.
    let time = |f: &mut dyn FnMut()| {
        let (t0, mut k) = (bitgru_web::now_ms(), 0);
        while bitgru_web::now_ms() - t0 < 1000.0 {
            f();
            k += 1;
        }
        (bitgru_web::now_ms() - t0) / f64::from(k)
    };
    let eval = time(&mut || {
        p.evaluate(&g).unwrap();
    });
    let prepare = time(&mut || {
        p.prepare(&g).unwrap();
    });
    let q = p.prepare(&g).unwrap();
    let pack = time(&mut || {
        PackedGru::pack(&q).unwrap();
    });
    let packed = PackedGru::pack(&q).unwrap();
    let codes: Vec<i8> = seqs
        .iter()
        .flat_map(|x| q.quantize_input(x).unwrap())
        .collect();
    let mut scratch = BatchScratch::new(&packed);
    let mut out = vec![0i32; n * packed.classes];
    let variant = Variant::best();
    let kernel = time(&mut || {
        packed
            .logits_into(variant, &codes, n, steps, &mut scratch, &mut out)
            .unwrap();
    });
    console_log!(
        "wasm row-mnist search evaluation ({}, 1 thread, {n} sequences): {eval:.2} ms; prepare \
         {prepare:.3} ms, pack {pack:.3} ms, kernel {kernel:.2} ms",
        variant.name()
    );
    assert!(eval > 0.0 && kernel > 0.0);
}
