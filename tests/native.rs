//! Native side of the cross-target checks: computes the demo-model evaluations that
//! tests/web.rs repeats in wasm, and checks that tests/fixtures/demo_eval.json holds them.
//! `scripts/bless.sh` rewrites the file (the test never writes it).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{compute_demo_eval, DemoEval};
use std::path::Path;

#[test]
fn demo_eval_fixture_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo_eval.json");
    let now = compute_demo_eval();
    let stored: DemoEval = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("tests/fixtures/demo_eval.json parses (scripts/bless.sh writes it)");
    assert_eq!(
        stored, now,
        "the fixture is stale: run scripts/bless.sh if the change is intended"
    );
    // The fixture is only useful if its cases are not trivial.
    for c in &now.cases {
        let distinct: std::collections::BTreeSet<_> = c.predictions.iter().collect();
        assert!(distinct.len() > 1, "{}: a single class", c.genome);
    }
}

#[test]
fn app_search_fixture_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app_search.json");
    let now = common::app_search::run();
    let stored: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("tests/fixtures/app_search.json parses (scripts/bless.sh writes it)");
    assert_eq!(
        stored, now,
        "the fixture is stale: run scripts/bless.sh if the change is intended"
    );
    assert!(now.as_array().is_some_and(|f| f.len() >= 2), "{now}");
}
