//! The compute worker (thin). Two builds of this file:
//! - single-threaded, by Trunk (`data-type="worker"`, classic worker `worker_loader.js`);
//! - threaded (`--features threads`), by scripts/build-mt-worker.sh: a module worker
//!   (`mt/worker_loader.js`) that starts a wasm-bindgen-rayon pool first.
//!
//! It decodes `protocol::ToWorker` envelopes, hands them to `bitgru_web::Compute`, posts the
//! replies, performs the effects (IndexedDB checkpoint) and runs a search one generation per
//! macrotask, so that Pause/Cancel and other requests are answered between generations.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use bitgru_web::compute::{Effect, Outcome, SearchStep};
    use bitgru_web::protocol::{wire, Envelope, FromWorker, Stage, ToWorker};
    use bitgru_web::{idb, now_ms, Compute};
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    #[derive(Clone)]
    struct Ctx {
        scope: DedicatedWorkerGlobalScope,
        compute: Rc<RefCell<Compute>>,
        looping: Rc<Cell<bool>>,
        /// An evaluation loop is scheduled.
        evaluating: Rc<Cell<bool>>,
    }

    fn post(scope: &DedicatedWorkerGlobalScope, env: &Envelope<FromWorker>) {
        let (msg, transfer) = wire::to_js(&env.msg.encode(), &env.bufs);
        if let Err(e) = scope.post_message_with_transfer(&msg, &transfer) {
            web_sys::console::error_2(&JsValue::from_str("bitgru worker: postMessage failed"), &e);
        }
    }

    fn error(ctx: &Ctx, id: Option<u32>, during: Stage, message: String) {
        post(
            &ctx.scope,
            &Envelope::bare(FromWorker::Error {
                id,
                during,
                message,
            }),
        );
    }

    /// A macrotask boundary: lets queued messages (Pause, Cancel, …) run.
    async fn yield_now() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
            let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    fn perform(ctx: &Ctx, out: Outcome) {
        for r in &out.replies {
            post(&ctx.scope, r);
        }
        for effect in out.effects {
            let ctx = ctx.clone();
            match effect {
                Effect::RunSearch => {
                    if !ctx.looping.replace(true) {
                        wasm_bindgen_futures::spawn_local(search_loop(ctx));
                    }
                }
                Effect::RunEvaluation => {
                    if !ctx.evaluating.replace(true) {
                        wasm_bindgen_futures::spawn_local(evaluation_loop(ctx));
                    }
                }
                Effect::SaveCheckpoint(text) => wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = idb::put(idb::CHECKPOINT_KEY, &text).await {
                        error(&ctx, None, Stage::Checkpoint, e.to_string());
                    }
                }),
                Effect::DeleteCheckpoint => wasm_bindgen_futures::spawn_local(async move {
                    if let Err(e) = idb::delete(idb::CHECKPOINT_KEY).await {
                        error(&ctx, None, Stage::Checkpoint, e.to_string());
                    }
                }),
                Effect::ReadCheckpoint { id, resume } => {
                    wasm_bindgen_futures::spawn_local(async move {
                        match idb::get(idb::CHECKPOINT_KEY).await {
                            Ok(stored) => {
                                let out =
                                    ctx.compute.borrow_mut().checkpoint_read(id, resume, stored);
                                perform(&ctx, out);
                            }
                            Err(e) => error(&ctx, Some(id), Stage::Checkpoint, e.to_string()),
                        }
                    })
                }
            }
        }
    }

    /// Runs the search while it is running, one chunk of evaluations per macrotask (progress
    /// inside a generation; pause and cancel are handled between chunks).
    async fn search_loop(ctx: Ctx) {
        // Start of the generation in progress (its wall time spans several chunks).
        let mut t0: Option<f64> = None;
        loop {
            yield_now().await;
            let start = *t0.get_or_insert_with(now_ms);
            let stepped = ctx.compute.borrow_mut().step_search_part();
            match stepped {
                Ok(SearchStep::Partial(out)) => perform(&ctx, out),
                Ok(SearchStep::Complete) => {
                    let seconds = (now_ms() - start) / 1000.0;
                    t0 = None;
                    let out = ctx.compute.borrow_mut().finish_step(seconds);
                    perform(&ctx, out);
                }
                Ok(SearchStep::Idle) => break,
                Err((id, e)) => {
                    error(&ctx, Some(id), Stage::Search, e.to_string());
                    break;
                }
            }
        }
        ctx.looping.set(false);
    }

    /// Runs an evaluation one chunk per macrotask (progress events; CancelEvaluation between).
    async fn evaluation_loop(ctx: Ctx) {
        loop {
            yield_now().await;
            let out = ctx.compute.borrow_mut().step_evaluation(&now_ms);
            let more = ctx.compute.borrow().evaluation_running();
            perform(&ctx, out);
            if !more {
                break;
            }
        }
        ctx.evaluating.set(false);
    }

    async fn run() {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let threads = match bitgru_web::start_thread_pool(&scope).await {
            Ok(n) => n,
            Err(e) => {
                return post(
                    &scope,
                    &Envelope::bare(FromWorker::Error {
                        id: None,
                        during: Stage::Start,
                        message: e.to_string(),
                    }),
                )
            }
        };
        let ctx = Ctx {
            scope: scope.clone(),
            compute: Rc::new(RefCell::new(Compute::new())),
            looping: Rc::new(Cell::new(false)),
            evaluating: Rc::new(Cell::new(false)),
        };
        let c2 = ctx.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let env = match wire::from_js(&ev.data()) {
                Ok(e) => e,
                Err(e) => return error(&c2, None, Stage::Message, e.to_string()),
            };
            let msg = match ToWorker::decode(&env.msg) {
                Ok(m) => m,
                Err(e) => return error(&c2, None, Stage::Message, e.to_string()),
            };
            let out = c2
                .compute
                .borrow_mut()
                .handle(Envelope::with(msg, env.bufs), &now_ms);
            perform(&c2, out);
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        post(
            &scope,
            &Envelope::bare(FromWorker::Ready {
                threads,
                threaded: cfg!(feature = "threads"),
                kernel: bitgru_web::kernel_variant().to_string(),
            }),
        );
    }

    pub fn main() {
        console_error_panic_hook::set_once();
        wasm_bindgen_futures::spawn_local(run());
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    wasm::main();
}

/// The worker only runs in a browser.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the bitgru worker runs in a browser (wasm32): build it with `trunk build`");
    std::process::exit(2);
}
