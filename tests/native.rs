//! Native side of the cross-target checks: computes the demo-model evaluations that
//! tests/web.rs repeats in wasm, and checks that tests/fixtures/demo_eval.json holds them.
//! `scripts/bless.sh` rewrites the file (the test never writes it).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{compute_demo_eval, DemoEval};
use serde::de::DeserializeOwned;
use std::path::Path;

/// A fixture of tests/fixtures/ as stored (scripts/bless.sh writes them; the tests only read).
fn stored<T: DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| {
        panic!("tests/fixtures/{name} parses (scripts/bless.sh writes it): {e}")
    })
}

const STALE: &str = "the fixture is stale: run scripts/bless.sh if the change is intended";

#[test]
fn demo_eval_fixture_is_current() {
    let now = compute_demo_eval();
    assert_eq!(stored::<DemoEval>("demo_eval.json"), now, "{STALE}");
    // The fixture is only useful if its cases are not trivial.
    for c in &now.cases {
        let distinct: std::collections::BTreeSet<_> = c.predictions.iter().collect();
        assert!(distinct.len() > 1, "{}: a single class", c.genome);
    }
}

#[test]
fn app_search_fixture_is_current() {
    let now = common::app_search::run();
    assert_eq!(
        stored::<serde_json::Value>("app_search.json"),
        now,
        "{STALE}"
    );
    assert!(now.as_array().is_some_and(|f| f.len() >= 2), "{now}");
}

#[test]
fn detector_golden_fixture_is_current() {
    use common::detector_golden::{compute, DetectorGolden};
    let now = compute();
    assert_eq!(
        stored::<DetectorGolden>("detector_golden.json"),
        now,
        "{STALE}"
    );
    // Not trivial: 3 s of frames, more than one leading class, at least one detection.
    assert!(now.frames >= 140, "{} frames", now.frames);
    let distinct: std::collections::BTreeSet<_> = now.smoothed_argmax.iter().collect();
    assert!(distinct.len() > 1, "{:?}", now.smoothed_argmax);
    assert!(!now.events.is_empty(), "no detection at threshold 0.3");
}
