//! One module per page.
pub mod about;
pub mod digits;
pub mod export;
pub mod listen;
pub mod models;
pub mod search;

use crate::app::AppState;
use crate::protocol::{FromWorker, GenomeReport, ToWorker};
use leptos::prelude::*;

/// Asks the worker to evaluate the chosen genome on `model`'s evaluation set.
pub fn request_report(
    st: AppState,
    model: String,
    genome: bitgru::Genome,
    out: RwSignal<Option<Result<GenomeReport, String>>>,
    busy: RwSignal<bool>,
) {
    busy.set(true);
    let msg = ToWorker::Evaluate {
        id: st.bridge.next_id(),
        model,
        genome,
    };
    st.bridge.request(msg, vec![], move |env| {
        busy.set(false);
        match env.msg {
            FromWorker::Evaluated { report, .. } => out.set(Some(Ok(report))),
            FromWorker::Error { message, .. } => out.set(Some(Err(message))),
            other => out.set(Some(Err(format!("unexpected answer {other:?}")))),
        }
    });
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
