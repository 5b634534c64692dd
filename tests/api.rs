//! The JS API (src/api.rs) in headless Chromium:
//! `cargo test -p bitgru-web --target wasm32-unknown-unknown --test api`
//! (or `wasm-pack test --headless --chrome --mode no-install -- --test api`).
#![cfg(target_arch = "wasm32")]

use bitgru::{Dims, Genome};
use bitgru_web::api::{
    default_model, eval_genome, gene_names, model_info, parse_genome, size_report,
};
use bitgru_web::protocol::EvalRequest;
use bitgru_web::{Engine, DEMO_MODEL};
use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsError, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn numbers(v: &JsValue) -> Vec<f64> {
    v.dyn_ref::<Array>()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn message(e: JsError) -> String {
    let v = JsValue::from(e);
    String::from(v.unchecked_ref::<js_sys::Error>().message())
}

#[wasm_bindgen_test]
fn parse_genome_returns_bits_and_names() {
    let v = parse_genome(" 86868686868686868 ").unwrap();
    assert_eq!(get(&v, "genome").as_string().unwrap(), "86868686868686868");
    let bits = numbers(&get(&v, "bits"));
    assert_eq!(bits.len(), 17);
    assert_eq!((bits[0], bits[1]), (8.0, 6.0));
    let genes = get(&v, "genes").unchecked_into::<Array>();
    assert_eq!(get(&genes.get(16), "name").as_string().unwrap(), "tanh_n");
    assert_eq!(get(&v, "uniform").as_bool(), Some(false));
    assert_eq!(gene_names().len(), 17);

    let err = message(parse_genome("8888").unwrap_err());
    assert!(err.contains("expected 17 digits"), "{err}");
    let err = message(parse_genome("88888888888888819").unwrap_err());
    assert!(err.contains("gene 15 (sig_z) = 1"), "{err}");
}

#[wasm_bindgen_test]
fn size_report_matches_the_core() {
    let dims = js_sys::JSON::parse(r#"{"input":10,"hidden":32,"classes":6}"#).unwrap();
    let g = "64576888548886757";
    let v = size_report(dims.clone(), g).unwrap();
    let want = bitgru::size::report(
        &g.parse::<Genome>().unwrap(),
        Dims {
            input: 10,
            hidden: 32,
            classes: 6,
        },
    );
    assert_eq!(get(&v, "bits").as_f64().unwrap(), want.bits as f64);
    assert_eq!(get(&v, "bytes").as_f64().unwrap(), want.bytes as f64);
    assert_eq!(get(&v, "normalized").as_f64().unwrap(), want.normalized);
    assert_eq!(
        get(&v, "bitops_per_step").as_f64().unwrap(),
        want.bitops_per_step as f64
    );
    let all8 = size_report(dims, "88888888888888888").unwrap();
    assert_eq!(get(&all8, "normalized").as_f64(), Some(1.0));

    let bad = js_sys::JSON::parse(r#"{"input":10,"hidden":0,"classes":6}"#).unwrap();
    assert!(message(size_report(bad, g).unwrap_err()).contains("positive"));
    let missing = js_sys::JSON::parse(r#"{"input":10}"#).unwrap();
    assert!(message(size_report(missing, g).unwrap_err()).starts_with("dims:"));
}

#[wasm_bindgen_test]
fn eval_genome_matches_the_engine() {
    let g = "88888866866666666";
    let v = eval_genome(JsValue::UNDEFINED, g, 5.0, 24).unwrap();
    let preds = numbers(&get(&v, "predictions"));
    assert_eq!(preds.len(), 24);
    assert_eq!(numbers(&get(&v, "float_predictions")).len(), 24);
    assert_eq!(get(&v, "threaded").as_bool(), Some(false));
    assert_eq!(get(&v, "threads").as_f64(), Some(1.0));
    assert!(get(&v, "elapsed_ms").as_f64().unwrap() >= 0.0);

    let engine = Engine::from_bytes(DEMO_MODEL).unwrap();
    let want = engine
        .evaluate(
            &EvalRequest {
                genome: g.into(),
                seed: 5,
                n: 24,
            },
            || 0.0,
        )
        .unwrap();
    let want: Vec<f64> = want.predictions.iter().map(|&p| p as f64).collect();
    assert_eq!(preds, want);

    // The same model passed as bytes gives the same answer.
    let bytes = default_model();
    assert_eq!(bytes.length() as usize, DEMO_MODEL.len());
    let v2 = eval_genome(bytes.into(), g, 5.0, 24).unwrap();
    assert_eq!(numbers(&get(&v2, "predictions")), preds);
}

#[wasm_bindgen_test]
fn model_info_and_errors() {
    let info = model_info(JsValue::UNDEFINED).unwrap();
    let dims = get(&info, "dims");
    assert_eq!(get(&dims, "hidden").as_f64(), Some(32.0));
    assert_eq!(
        get(&info, "class_names").unchecked_into::<Array>().length(),
        get(&dims, "classes").as_f64().unwrap() as u32
    );

    let garbage = Uint8Array::from(&[1u8, 2, 3, 4, 5, 6, 7, 8, 9][..]);
    let err = message(model_info(garbage.into()).unwrap_err());
    assert!(err.contains("safetensors"), "{err}");
    let err = message(model_info(JsValue::from_str("x")).unwrap_err());
    assert!(err.contains("Uint8Array"), "{err}");
    let err = message(eval_genome(JsValue::NULL, "88888888888888888", -1.0, 4).unwrap_err());
    assert!(err.starts_with("seed"), "{err}");
    let err = message(eval_genome(JsValue::NULL, "88888888888888888", 1.5, 4).unwrap_err());
    assert!(err.starts_with("seed"), "{err}");
    let err = message(eval_genome(JsValue::NULL, "88888888888888888", 1.0, 0).unwrap_err());
    assert!(err.contains("number of sequences"), "{err}");
    let err = message(eval_genome(JsValue::NULL, "8", 1.0, 4).unwrap_err());
    assert!(err.contains("genome"), "{err}");
}
