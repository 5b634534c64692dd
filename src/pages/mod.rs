//! One module per page.
pub mod about;
pub mod digits;
pub mod export;
pub mod listen;
pub mod models;
pub mod search;

use crate::app::AppState;
use crate::protocol::{FromWorker, GenomeReport, Id, ToWorker};
use leptos::prelude::*;

/// Asks the worker to evaluate the chosen genome on `model`'s evaluation set; returns the
/// request id (for [`EvalProgressBar`]'s cancel).
pub fn request_report(
    st: AppState,
    model: String,
    genome: bitgru::Genome,
    out: RwSignal<Option<Result<GenomeReport, String>>>,
    busy: RwSignal<bool>,
) -> Id {
    busy.set(true);
    let id = st.bridge.next_id();
    let msg = ToWorker::Evaluate { id, model, genome };
    st.bridge.request(msg, vec![], move |env| {
        busy.set(false);
        st.eval_progress.set(None);
        match env.msg {
            FromWorker::Evaluated { report, .. } => out.set(Some(Ok(report))),
            FromWorker::EvaluationCancelled { reason, .. } => {
                out.set(None);
                st.notify(false, format!("Evaluation {reason}."));
            }
            FromWorker::Error { message, .. } => out.set(Some(Err(message))),
            other => out.set(Some(Err(format!("unexpected answer {other:?}")))),
        }
    });
    id
}

/// Progress of a running evaluation (sequences scored so far) with a cancel button; shown
/// while `busy`.
#[component]
pub fn EvalProgressBar(busy: RwSignal<bool>, request: RwSignal<Option<Id>>) -> impl IntoView {
    let st = crate::app::state();
    let progress = move || {
        let id = request.get()?;
        st.eval_progress
            .get()
            .filter(|(p, _, _)| *p == id)
            .map(|(_, d, t)| (d, t))
    };
    let cancel = move |_| {
        if let Some(target) = request.get_untracked() {
            let msg = ToWorker::CancelEvaluation {
                id: st.bridge.next_id(),
                target,
            };
            st.bridge.request(msg, vec![], |_| {});
        }
    };
    move || {
        busy.get().then(|| {
            let (done, total) = progress().unwrap_or((0, 0));
            view! {
                <div class="row eval-progress" id="eval-progress" data-done=done data-total=total>
                    <span class="loading">{if total > 0 {
                        format!("Evaluating: {} of {} sequences", crate::group_digits(done as u64), crate::group_digits(total as u64))
                    } else {
                        "Evaluating…".to_string()
                    }}</span>
                    <progress max=total.max(1).to_string() value=done.to_string() aria-label="sequences evaluated"></progress>
                    <button id="cancel-eval" class="ghost" on:click=cancel>"Cancel"</button>
                </div>
            }
        })
    }
}

/// Asks the worker for a file and downloads it.
pub fn request_file(st: AppState, msg: ToWorker, busy: RwSignal<bool>) {
    busy.set(true);
    st.bridge.request(msg, vec![], move |env| {
        busy.set(false);
        match env.msg {
            FromWorker::File {
                file_name, mime, ..
            } => match env.bufs.first() {
                Some(bytes) => {
                    if let Err(e) = crate::app::download(&file_name, &mime, bytes) {
                        st.notify(true, e.to_string());
                    } else {
                        st.notify(
                            false,
                            format!("Downloaded {file_name} ({} bytes).", bytes.len()),
                        );
                    }
                }
                None => st.notify(true, "the worker sent no file"),
            },
            FromWorker::Error { message, .. } => st.notify(true, message),
            other => st.notify(true, format!("unexpected answer {other:?}")),
        }
    });
}
