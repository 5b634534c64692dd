//! The JS API (`wasm-pack build --target web --out-dir pkg` → `pkg/bitgru_web.js`).
//!
//! ```js
//! import init, { parseGenome, sizeReport, defaultModel, evalGenome } from './pkg/bitgru_web.js';
//! await init();
//! parseGenome('88888866866666666');      // { genome, bits: [8, …], genes: [{ name, bits }, …] }
//! sizeReport({ input: 10, hidden: 32, classes: 6 }, '88888866866666666');
//! evalGenome(undefined, '88888866866666666', 1, 64);   // the embedded model
//! evalGenome(new Uint8Array(await (await fetch('m.safetensors')).arrayBuffer()), …);
//! ```
//!
//! Values cross as plain JS objects (JSON-compatible); errors are thrown as `Error`s with the
//! core's message. Evaluation runs on the calling thread: call it from a worker in a page.
use crate::engine::Engine;
use crate::protocol::EvalRequest;
use crate::{now_ms, WebError, DEMO_MODEL};
use bitgru::genome::GENE_NAMES;
use bitgru::{Dims, Genome};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::OnceCell;
use std::str::FromStr;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static DEFAULT_ENGINE: OnceCell<Engine> = const { OnceCell::new() };
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|e| JsError::from(WebError::js("JSON.parse", &e)))
}

fn from_js<T: DeserializeOwned>(what: &str, value: &JsValue) -> Result<T, JsError> {
    let text = js_sys::JSON::stringify(value)
        .map_err(|e| JsError::from(WebError::js("JSON.stringify", &e)))?;
    let text = String::from(text);
    serde_json::from_str(&text).map_err(|e| JsError::new(&format!("{what}: {e}")))
}

/// Runs `f` on the engine of `model`: `undefined`/`null` → the embedded demo model (decoded
/// once per thread), a `Uint8Array` → that bundle file.
fn with_engine<R>(
    model: &JsValue,
    f: impl FnOnce(&Engine) -> Result<R, JsError>,
) -> Result<R, JsError> {
    if model.is_undefined() || model.is_null() {
        DEFAULT_ENGINE.with(|cell| {
            if cell.get().is_none() {
                // Cannot already be set: this thread checked just above.
                let _ = cell.set(Engine::from_bytes(DEMO_MODEL)?);
            }
            f(cell.get().expect("set above"))
        })
    } else if let Some(bytes) = model.dyn_ref::<js_sys::Uint8Array>() {
        f(&Engine::from_bytes(&bytes.to_vec())?)
    } else {
        Err(JsError::new(
            "model: expected undefined (the embedded model) or a Uint8Array of a bitgru bundle file",
        ))
    }
}

#[derive(Serialize)]
struct GeneBits {
    name: &'static str,
    bits: u8,
}

#[derive(Serialize)]
struct ParsedGenome {
    genome: String,
    bits: Vec<u8>,
    genes: Vec<GeneBits>,
    uniform: bool,
}

/// Parses 17 digits (2–8 each) into `{ genome, bits, genes: [{ name, bits }], uniform }`;
/// throws with the offending gene named.
#[wasm_bindgen(js_name = parseGenome)]
pub fn parse_genome(text: &str) -> Result<JsValue, JsError> {
    let g = Genome::from_str(text)?;
    to_js(&ParsedGenome {
        genome: g.to_string(),
        bits: g.bits().to_vec(),
        genes: GENE_NAMES
            .iter()
            .zip(g.bits())
            .map(|(&name, &bits)| GeneBits { name, bits })
            .collect(),
        uniform: g.is_uniform(),
    })
}

/// The operator names in genome order.
#[wasm_bindgen(js_name = geneNames)]
pub fn gene_names() -> Vec<String> {
    GENE_NAMES.iter().map(|s| s.to_string()).collect()
}

/// Size metrics `{ bits, bytes, normalized, weight_bits, bitops_per_step }` of a genome on a
/// model shape `{ input, hidden, classes }`.
#[wasm_bindgen(js_name = sizeReport)]
pub fn size_report(dims: JsValue, genome: &str) -> Result<JsValue, JsError> {
    let dims: Dims = from_js("dims", &dims)?;
    if dims.input == 0 || dims.hidden == 0 || dims.classes == 0 {
        return Err(JsError::new(&format!(
            "dims: input {}, hidden {}, classes {} must all be positive",
            dims.input, dims.hidden, dims.classes
        )));
    }
    let g = Genome::from_str(genome)?;
    to_js(&bitgru::size::report(&g, dims))
}

/// The bytes of the embedded demo model (a bitgru bundle file: safetensors with calibration).
#[wasm_bindgen(js_name = defaultModel)]
pub fn default_model() -> js_sys::Uint8Array {
    js_sys::Uint8Array::from(DEMO_MODEL)
}

/// `{ task, class_names, dims, n_params, calibration_sequences }` of a model (`undefined` = the
/// embedded one, else a `Uint8Array` bundle file).
#[wasm_bindgen(js_name = modelInfo)]
pub fn model_info(model: JsValue) -> Result<JsValue, JsError> {
    with_engine(&model, |e| to_js(e.info()))
}

/// Evaluates `genome` on `n` seeded random sequences of 49 steps with the integer kernel and
/// the float model. `model`: `undefined`/`null` for the embedded model, else the `Uint8Array`
/// of a bitgru bundle file (`.safetensors` with calibration). Returns the same report as the
/// worker: `{ predictions, float_predictions, agree, agreement, size, elapsed_ms, … }`.
#[wasm_bindgen(js_name = evalGenome)]
pub fn eval_genome(model: JsValue, genome: &str, seed: f64, n: u32) -> Result<JsValue, JsError> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= MAX_SAFE) {
        return Err(JsError::new(&format!(
            "seed: {seed} is not a whole number in 0..=2^53-1"
        )));
    }
    let req = EvalRequest {
        genome: genome.to_string(),
        seed: seed as u64,
        n: n as usize,
    };
    with_engine(&model, |e| to_js(&e.evaluate(&req, now_ms)?))
}
