//! A drop zone with a file picker: hands the dropped or picked file's bytes to `on_file`.
use crate::WebError;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Reads a `File`'s bytes.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, WebError> {
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| WebError::js("reading the file", &e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// `on_file(name, bytes)` for the first dropped or picked file.
#[component]
pub fn DropZone(
    id: &'static str,
    accept: &'static str,
    label: &'static str,
    hint: &'static str,
    on_file: Callback<(String, Vec<u8>)>,
    #[prop(optional)] on_error: Option<Callback<String>>,
) -> impl IntoView {
    let over = RwSignal::new(false);
    let take = move |file: web_sys::File| {
        leptos::task::spawn_local(async move {
            match read_file(&file).await {
                Ok(bytes) => on_file.run((file.name(), bytes)),
                Err(e) => {
                    if let Some(cb) = on_error {
                        cb.run(format!("{}: {e}", file.name()))
                    }
                }
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
                if let Some(f) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) { take(f) }
            }>
            <label for=id class="button">{label}</label>
            <input id=id type="file" accept=accept class="sr-only"
                on:change=move |ev| {
                    let input: web_sys::HtmlInputElement = event_target(&ev);
                    if let Some(f) = input.files().and_then(|f| f.get(0)) { take(f) }
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
