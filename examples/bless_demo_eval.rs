//! Rewrites `tests/fixtures/demo_eval.json` (the embedded demo model's evaluations, checked
//! natively by tests/native.rs and in wasm by tests/web.rs) and `tests/fixtures/app_search.json`
//! (the front of a small search through the worker's state machine, checked natively and in
//! wasm) and `tests/fixtures/detector_golden.json` (the streaming detector on a fixed signal,
//! checked natively and in wasm). Run through `scripts/bless.sh`, only after an intended change; the tests never write
//! the files.
#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fixtures = [
        (
            "demo_eval.json",
            serde_json::to_string(&common::compute_demo_eval())?,
        ),
        (
            "app_search.json",
            serde_json::to_string(&common::app_search::run())?,
        ),
        (
            "detector_golden.json",
            serde_json::to_string(&common::detector_golden::compute())?,
        ),
    ];
    for (name, text) in fixtures {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::write(&path, text + "\n")?;
        eprintln!("wrote {path}");
    }
    Ok(())
}
