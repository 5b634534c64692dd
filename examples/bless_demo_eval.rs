//! Rewrites `tests/fixtures/demo_eval.json` (the embedded demo model's evaluations, checked
//! natively by tests/native.rs and in wasm by tests/web.rs). Run through `scripts/bless.sh`, only
//! after an intended change; the tests never write the file.
#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demo_eval.json");
    let text = serde_json::to_string(&common::compute_demo_eval())?;
    std::fs::write(path, text + "\n")?;
    eprintln!("wrote {path}");
    Ok(())
}
