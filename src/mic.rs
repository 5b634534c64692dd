//! Microphone capture for the Listen page: `getUserMedia` → an `AudioContext` asked to run at
//! 16 kHz (the browser resamples the microphone) → the `bitgru-capture` AudioWorklet
//! (`listen-worklet.js`), whose chunks of mono f32 samples go to a callback. No computation
//! happens here: the page forwards the chunks to the worker.
use crate::WebError;
use std::fmt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioContext, AudioContextOptions, AudioWorkletNode, AudioWorkletNodeOptions, MediaStream,
    MediaStreamConstraints, MessageEvent,
};

/// The worklet module (copied to the build by Trunk, cached by the service worker).
pub const WORKLET_URL: &str = "./listen-worklet.js";

/// Sample rate asked of the `AudioContext` (the models' front end rate).
pub const CONTEXT_RATE: f32 = 16_000.0;

/// Samples per chunk posted by the worklet (64 ms at 16 kHz).
pub const CHUNK: u32 = 1024;

/// Why the microphone is unavailable, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MicError {
    /// No `navigator.mediaDevices` (an insecure page or an old browser).
    Unsupported,
    /// The user or the browser's settings refused access.
    Denied,
    /// There is no microphone.
    Missing,
    /// The microphone is in use by something else or failed.
    Unreadable(String),
    /// Web Audio (the context or the worklet) failed.
    Audio(String),
}

impl fmt::Display for MicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MicError::Unsupported => f.write_str(
                "This browser gives the page no microphone access (it needs https or localhost and a browser with getUserMedia). Use a WAV/FLAC file instead.",
            ),
            MicError::Denied => f.write_str(
                "Microphone access was denied. Allow it in the browser's site settings and start again, or use a WAV/FLAC file instead.",
            ),
            MicError::Missing => f.write_str(
                "No microphone was found. Connect one and start again, or use a WAV/FLAC file instead.",
            ),
            MicError::Unreadable(m) => write!(f, "The microphone could not be read ({m}). Is another program using it?"),
            MicError::Audio(m) => write!(f, "Web Audio failed: {m}"),
        }
    }
}

fn dom_error_name(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default()
}

fn message(e: &JsValue) -> String {
    WebError::js("audio", e).to_string()
}

/// A running capture; dropping it stops the microphone and closes the context.
pub struct Mic {
    context: AudioContext,
    stream: MediaStream,
    node: AudioWorkletNode,
    _on_chunk: Closure<dyn FnMut(MessageEvent)>,
    /// The context's actual rate (16 kHz unless the browser ignored the request).
    pub rate: u32,
}

impl Drop for Mic {
    fn drop(&mut self) {
        if let Ok(port) = self.node.port() {
            port.set_onmessage(None);
        }
        let _ = self.node.disconnect();
        for t in self.stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
        let _ = self.context.close();
    }
}

/// Starts the microphone; `on_chunk(rate, f32 LE bytes)` gets every chunk.
pub async fn start(on_chunk: impl Fn(u32, Vec<u8>) + 'static) -> Result<Mic, MicError> {
    let window = web_sys::window().ok_or(MicError::Unsupported)?;
    let nav = window.navigator();
    let has_devices = js_sys::Reflect::get(&nav, &"mediaDevices".into())
        .map(|d| !d.is_undefined())
        .unwrap_or(false);
    if !has_devices {
        return Err(MicError::Unsupported);
    }
    let devices = nav.media_devices().map_err(|_| MicError::Unsupported)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    constraints.set_video(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| MicError::Unreadable(message(&e)))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| match dom_error_name(&e).as_str() {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => MicError::Denied,
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => MicError::Missing,
            _ => MicError::Unreadable(message(&e)),
        })?
        .unchecked_into();
    let stop_tracks = |s: &MediaStream| {
        for t in s.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
    };
    let built = build_graph(&stream, on_chunk).await;
    if built.is_err() {
        stop_tracks(&stream);
    }
    let (context, node, closure) = built?;
    let rate = context.sample_rate().round() as u32;
    Ok(Mic {
        context,
        stream,
        node,
        _on_chunk: closure,
        rate,
    })
}

type Graph = (
    AudioContext,
    AudioWorkletNode,
    Closure<dyn FnMut(MessageEvent)>,
);

async fn build_graph(
    stream: &MediaStream,
    on_chunk: impl Fn(u32, Vec<u8>) + 'static,
) -> Result<Graph, MicError> {
    let audio = |e: JsValue| MicError::Audio(message(&e));
    let opts = AudioContextOptions::new();
    opts.set_sample_rate(CONTEXT_RATE);
    // A browser that cannot run a context at 16 kHz gets its default rate: the worker
    // resamples the chunks then.
    let context = AudioContext::new_with_context_options(&opts)
        .or_else(|_| AudioContext::new())
        .map_err(audio)?;
    let fail = |context: &AudioContext, e: MicError| {
        let _ = context.close();
        e
    };
    let worklet = context
        .audio_worklet()
        .map_err(|e| fail(&context, audio(e)))?;
    let added = worklet
        .add_module(WORKLET_URL)
        .map_err(|e| fail(&context, audio(e)))?;
    JsFuture::from(added).await.map_err(|e| {
        fail(
            &context,
            MicError::Audio(format!("{WORKLET_URL}: {}", message(&e))),
        )
    })?;
    let source = context
        .create_media_stream_source(stream)
        .map_err(|e| fail(&context, audio(e)))?;
    let node_opts = AudioWorkletNodeOptions::new();
    node_opts.set_number_of_inputs(1);
    node_opts.set_number_of_outputs(1);
    let proc_opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&proc_opts, &"chunk".into(), &JsValue::from(CHUNK));
    node_opts.set_processor_options(Some(&proc_opts));
    let node = AudioWorkletNode::new_with_options(&context, "bitgru-capture", &node_opts)
        .map_err(|e| fail(&context, audio(e)))?;
    let closure = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let rate = js_sys::Reflect::get(&data, &"rate".into())
            .ok()
            .and_then(|r| r.as_f64())
            .unwrap_or(0.0) as u32;
        if let Some(samples) = js_sys::Reflect::get(&data, &"samples".into())
            .ok()
            .and_then(|s| s.dyn_into::<js_sys::Float32Array>().ok())
        {
            on_chunk(rate, js_sys::Uint8Array::new(&samples.buffer()).to_vec());
        }
    });
    let port = node.port().map_err(|e| fail(&context, audio(e)))?;
    port.set_onmessage(Some(closure.as_ref().unchecked_ref()));
    source
        .connect_with_audio_node(&node)
        .map_err(|e| fail(&context, audio(e)))?;
    // Connected to the output (it writes silence) so that the browser keeps pulling it.
    node.connect_with_audio_node(&context.destination())
        .map_err(|e| fail(&context, audio(e)))?;
    if let Ok(p) = context.resume() {
        let _ = JsFuture::from(p).await;
    }
    Ok((context, node, closure))
}
