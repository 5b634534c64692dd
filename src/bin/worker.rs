//! The compute worker. Two builds of this file:
//! - single-threaded, by Trunk (`data-type="worker"`, classic worker `worker_loader.js`);
//! - threaded (`--features threads`), by scripts/build-mt-worker.sh: a module worker
//!   (`mt/worker_loader.js`) that starts a wasm-bindgen-rayon pool first.
//!
//! It answers `protocol::ToWorker` messages with `protocol::FromWorker` ones, after announcing
//! itself with `Ready` (messages posted before that would be lost).
use bitgru_web::protocol::{FromWorker, ProtocolError, Stage};
use bitgru_web::WorkerState;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    if let Err(e) = scope.post_message(&JsValue::from_str(&msg.encode())) {
        web_sys::console::error_2(&JsValue::from_str("bitgru worker: postMessage failed"), &e);
    }
}

async fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let threads = match bitgru_web::start_thread_pool(&scope).await {
        Ok(n) => n,
        Err(e) => {
            return post(
                &scope,
                &FromWorker::Error {
                    during: Stage::Start,
                    message: e.to_string(),
                },
            )
        }
    };
    let state = RefCell::new(WorkerState::new());
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let reply = match data.as_string() {
            Some(text) => state.borrow_mut().handle(&text, bitgru_web::now_ms),
            None => FromWorker::Error {
                during: Stage::Message,
                message: ProtocolError::NotText(format!("{data:?}")).to_string(),
            },
        };
        post(&reply_to, &reply);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(
        &scope,
        &FromWorker::Ready {
            threads,
            threaded: cfg!(feature = "threads"),
            kernel: bitgru::kernel::variant_name().to_string(),
        },
    );
}

fn main() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(run());
}
