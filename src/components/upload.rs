//! A drop zone with a file picker: hands the dropped or picked files' bytes to `on_file` (the
//! first file) or `on_files` (all of them, with their folder-relative paths). Files over
//! `max_bytes` in all are refused before they are read, with a message naming them.
use crate::WebError;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The default limit of one upload.
pub const MAX_UPLOAD_BYTES: usize = 256 << 20;

/// Reads a `File`'s bytes.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, WebError> {
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| WebError::js("reading the file", &e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// A file's path inside a picked folder (`webkitRelativePath`), else its name.
fn relative_path(file: &web_sys::File) -> String {
    js_sys::Reflect::get(file, &"webkitRelativePath".into())
        .ok()
        .and_then(|p| p.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

/// Why files of `sizes` bytes (in all) are refused by an upload of at most `limit` bytes.
pub fn oversize(names: &str, sizes: &[f64], limit: usize) -> Option<String> {
    let total: f64 = sizes.iter().sum();
    (total > limit as f64).then(|| {
        format!(
            "{names}: {:.1} MB, more than this upload's limit of {} MB; nothing was loaded",
            total / 1e6,
            limit / 1_000_000
        )
    })
}

#[component]
pub fn DropZone(
    id: &'static str,
    accept: &'static str,
    label: &'static str,
    hint: &'static str,
    #[prop(optional)] on_file: Option<Callback<(String, Vec<u8>)>>,
    #[prop(optional)] on_files: Option<Callback<crate::data::NamedFiles>>,
    #[prop(optional)] on_error: Option<Callback<String>>,
    /// Accept several files (and hand them all to `on_files`).
    #[prop(optional)]
    multiple: bool,
    /// Pick a folder (its files, with their relative paths).
    #[prop(optional)]
    directory: bool,
    #[prop(default = MAX_UPLOAD_BYTES)] max_bytes: usize,
) -> impl IntoView {
    let over = RwSignal::new(false);
    let fail = move |e: String| {
        if let Some(cb) = on_error {
            cb.run(e)
        }
    };
    let take = move |list: web_sys::FileList| {
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|k| list.get(k)).collect();
        let files = if on_files.is_some() {
            files
        } else {
            files.into_iter().take(1).collect()
        };
        if files.is_empty() {
            return;
        }
        let names = files.iter().map(|f| f.name()).collect::<Vec<_>>();
        let names = if names.len() > 3 {
            format!("{}, … ({} files)", names[..3].join(", "), names.len())
        } else {
            names.join(", ")
        };
        let sizes: Vec<f64> = files.iter().map(|f| f.size()).collect();
        if let Some(e) = oversize(&names, &sizes, max_bytes) {
            return fail(e);
        }
        leptos::task::spawn_local(async move {
            let mut out = Vec::with_capacity(files.len());
            for f in &files {
                match read_file(f).await {
                    Ok(bytes) => out.push((relative_path(f), bytes)),
                    Err(e) => return fail(format!("{}: {e}", f.name())),
                }
            }
            match (on_files, on_file) {
                (Some(cb), _) => cb.run(out),
                (None, Some(cb)) => {
                    if let Some(first) = out.into_iter().next() {
                        cb.run(first)
                    }
                }
                (None, None) => {}
            }
        });
    };
    view! {
        <div class="dropzone" class:over=move || over.get()
            on:dragover=move |ev: web_sys::DragEvent| { ev.prevent_default(); over.set(true); }
            on:dragleave=move |_| over.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                over.set(false);
                if let Some(f) = ev.data_transfer().and_then(|d| d.files()) { take(f) }
            }>
            <label for=id class="button">{label}</label>
            <input id=id type="file" accept=accept class="sr-only" multiple=multiple
                prop:webkitdirectory=directory
                on:change=move |ev| {
                    let input: web_sys::HtmlInputElement = event_target(&ev);
                    if let Some(f) = input.files() { take(f) }
                    input.set_value("");
                } />
            <span class="hint">{hint}</span>
        </div>
    }
}

/// The element of an event's target.
pub fn target_input(ev: &web_sys::Event) -> Option<web_sys::HtmlInputElement> {
    ev.target().and_then(|t| t.dyn_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_uploads_are_named_and_refused() {
        assert_eq!(oversize("a.bin", &[10.0, 20.0], 30), None);
        let e = oversize("big.safetensors", &[300e6], MAX_UPLOAD_BYTES).unwrap();
        assert_eq!(
            e,
            "big.safetensors: 300.0 MB, more than this upload's limit of 268 MB; nothing was loaded"
        );
    }
}
