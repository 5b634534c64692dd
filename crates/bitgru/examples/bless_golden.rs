//! Rewrites `crates/bitgru/tests/fixtures/golden_kernel.json` from the golden specs. Run only
//! after an intended change of the integer scheme, through `scripts/bless.sh`; the test suite
//! only reads the file (`tests/golden.rs`), so a test run can never re-bless it.
use bitgru::io::golden::{default_specs, GoldenCase, GoldenFile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/golden_kernel.json"
    );
    let cases = default_specs()
        .into_iter()
        .map(GoldenCase::generate)
        .collect::<Result<Vec<_>, _>>()?;
    let f = GoldenFile {
        description: "bitgru integer kernel golden outputs: prepared model, input codes, per-stage codes [seq][t][gene][unit], logits".into(),
        cases,
    };
    std::fs::write(path, serde_json::to_string(&f)?)?;
    eprintln!("wrote {path}");
    Ok(())
}
