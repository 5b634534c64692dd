//! # bitgru in the browser
//!
//! - the page (feature `ui`): a Leptos CSR [`App`] — [`app`] (shell, router, shared state),
//!   [`bridge`] (the worker link), [`pages`] (one module per page), [`components`] (charts,
//!   heatmap, upload, …) — mounted by `src/main.rs`, built by Trunk. Views never compute: every
//!   computation is a message to the worker;
//! - the compute worker (`src/bin/worker.rs`, thin): decodes [`protocol`] messages and hands
//!   them to [`compute::Compute`] (models, bundled [`data`], the search, [`digits`]
//!   preprocessing, [`export`]s), on a wasm-bindgen-rayon pool when the page is cross-origin
//!   isolated (feature `threads`), single-threaded otherwise;
//! - [`catalog`]: the default models and their measured accuracies (embedded at build time);
//! - [`api`]: the `#[wasm_bindgen]` JS API packaged by `wasm-pack build` (feature `api`), with
//!   [`engine`]'s demo evaluation.
#![forbid(unsafe_code)]

#[cfg(feature = "api")]
pub mod api;
pub mod catalog;
pub mod compute;
pub mod data;
pub mod digits;
pub mod engine;
pub mod export;
#[cfg(target_arch = "wasm32")]
pub mod idb;
pub mod listen;
pub mod protocol;

#[cfg(feature = "ui")]
pub mod app;
#[cfg(feature = "ui")]
pub mod bridge;
#[cfg(feature = "ui")]
pub mod components;
#[cfg(feature = "ui")]
pub mod mic;
#[cfg(feature = "ui")]
pub mod pages;

#[cfg(feature = "ui")]
pub use app::App;
pub use compute::Compute;
pub use engine::{Engine, WebError};

/// The integer kernel variant, shown in the status bar (`simd128` or `scalar` in wasm).
pub fn kernel_variant() -> &'static str {
    bitgru::kernel::variant_name()
}

pub use bitgru::io::ModelBundle;
use wasm_bindgen::{JsCast, JsValue};

/// The demo model embedded in the app: a bitgru bundle file (safetensors: float weights,
/// calibration and metadata). The page sends these bytes to the worker once (`Load`); the JS API
/// uses them when no model is given.
pub const DEMO_MODEL: &[u8] = include_bytes!("../assets/models/demo.safetensors");

/// The embedded demo model, decoded.
pub fn default_bundle() -> Result<ModelBundle, WebError> {
    Ok(bitgru::io::load_bundle(DEMO_MODEL)?)
}

/// `performance.now()` of the current global (window or worker), else `Date.now()`.
/// Only for wasm32 in a browser or Node.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &JsValue::from_str("performance")).ok();
    let now = perf.as_ref().and_then(|p| {
        let f = js_sys::Reflect::get(p, &JsValue::from_str("now")).ok()?;
        let f = f.dyn_into::<js_sys::Function>().ok()?;
        f.call0(p).ok()?.as_f64()
    });
    now.unwrap_or_else(js_sys::Date::now)
}

/// Whether the current global is cross-origin isolated (so that shared memory, hence the
/// threaded worker, can work).
pub fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crossOriginIsolated"))
        .map(|v| v.is_truthy())
        .unwrap_or(false)
}

/// The smallest module using a simd128 instruction: `() -> v128 { i8x16.popcnt(i8x16.splat(0)) }`.
/// A browser without WebAssembly SIMD rejects it.
pub const SIMD_PROBE: [u8; 31] = [
    0, 97, 115, 109, 1, 0, 0, 0, // magic, version 1
    1, 5, 1, 96, 0, 1, 123, // type section: one function type () -> v128
    3, 2, 1, 0, // function section: one function of type 0
    10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
    11, // code: i32.const 0; i8x16.splat; popcnt; end
];

/// Whether this browser runs WebAssembly SIMD (simd128) code: validates [`SIMD_PROBE`].
pub fn wasm_simd_supported() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(&SIMD_PROBE[..]).into())
        .unwrap_or(false)
}

/// A query parameter of the page's address (`?name=value`), if present.
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// Starts the worker's wasm-bindgen-rayon pool with `navigator.hardwareConcurrency` threads
/// and returns its size.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub async fn start_thread_pool(
    scope: &web_sys::DedicatedWorkerGlobalScope,
) -> Result<usize, WebError> {
    let n = (scope.navigator().hardware_concurrency() as usize).max(1);
    wasm_bindgen_futures::JsFuture::from(wasm_bindgen_rayon::init_thread_pool(n))
        .await
        .map_err(|e| WebError::js("starting the thread pool", &e))?;
    Ok(rayon::current_num_threads())
}

/// Single-threaded build: no pool, one thread.
#[cfg(not(all(feature = "threads", target_arch = "wasm32")))]
pub async fn start_thread_pool(
    _scope: &web_sys::DedicatedWorkerGlobalScope,
) -> Result<usize, WebError> {
    Ok(engine::pool_threads())
}

/// `1234567` → `"1,234,567"`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(1234567), "1,234,567");
    }

    #[test]
    fn the_embedded_model_loads() {
        let b = default_bundle().unwrap();
        b.calibration.validate(&b.model).unwrap();
        assert_eq!(b.meta.classes.len(), b.model.classes);
    }
}
