//! (c) Golden per-stage integer outputs of fixed models, frozen in
//! `tests/fixtures/golden_kernel.json`. The wasm tests check the same file in the browser.
//! Regenerate (only after an intended change of the scheme) with `scripts/bless.sh`; the tests
//! never write the fixture.
use bitgru::io::golden::{default_specs, GoldenFile};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/golden_kernel.json"
);

#[test]
fn golden_kernel_outputs() {
    let f: GoldenFile = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    assert_eq!(f.cases.len(), default_specs().len());
    for (c, spec) in f.cases.iter().zip(default_specs()) {
        assert_eq!(c.spec, spec);
        c.check_kernel()
            .unwrap_or_else(|e| panic!("{}: {e}", spec.genome));
        c.check_prepare()
            .unwrap_or_else(|e| panic!("{}: {e}", spec.genome));
    }
}

#[test]
fn golden_check_detects_a_changed_code() {
    let f: GoldenFile = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let mut c = f.cases[1].clone();
    c.stage_codes[0][3][10][2] += 1;
    assert!(c.check_kernel().unwrap_err().contains("add_h"));
    let mut c = f.cases[1].clone();
    c.model.lut_n[3] = c.model.lut_n[3].wrapping_add(1);
    assert!(c.check_prepare().is_err());
}

/// Issue 10: real exports hit no rounding ties, so the tie rule (half away from zero) is
/// checked by a constructed case: the last golden case rounds exact ties inside the output
/// range in every one of the 14 requantizers, and its frozen codes pin the rule.
#[test]
fn golden_tie_case_hits_ties_in_every_requantizer() {
    use bitgru::io::golden::{tie_counts, REQUANTIZERS};
    let f: GoldenFile = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let c = f.cases.iter().find(|c| c.spec.ties).expect("a tie case");
    let counts = tie_counts(&c.model, &c.inputs).unwrap();
    for (name, n) in REQUANTIZERS.iter().zip(counts) {
        assert!(n > 0, "{name}: no tie inside the range");
    }
    // The real cases (calibrated multipliers) hit none or almost none: the reason for the case.
    let real: u64 = f
        .cases
        .iter()
        .filter(|c| !c.spec.ties)
        .map(|c| tie_counts(&c.model, &c.inputs).unwrap().iter().sum::<u64>())
        .sum();
    assert!(real < 5, "{real} ties in the calibrated cases");
}
