//! Native side of the cross-target checks: computes the demo-model evaluations that
//! tests/web.rs repeats in wasm, and checks that tests/fixtures/demo_eval.json holds them.
//! `BITGRU_BLESS=1 cargo test -p bitgru-web --test native` rewrites the file.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use bitgru_web::protocol::EvalRequest;
use bitgru_web::{Engine, DEMO_MODEL};
use common::{DemoCase, DemoEval, CASES};
use std::path::Path;

fn compute() -> DemoEval {
    let engine = Engine::from_bytes(DEMO_MODEL).unwrap();
    let cases = CASES
        .iter()
        .map(|&(genome, seed, n)| {
            let req = EvalRequest {
                genome: genome.into(),
                seed,
                n,
            };
            let r = engine.evaluate(&req, || 0.0).unwrap();
            DemoCase {
                genome: r.genome,
                seed,
                n,
                predictions: r.predictions,
                float_predictions: r.float_predictions,
                size: r.size,
            }
        })
        .collect();
    DemoEval {
        description: "bitgru-web: evaluations of assets/models/demo.safetensors computed natively \
                      (integer and float predictions on random_sequences(seed, n, 49, input))"
            .into(),
        cases,
    }
}

#[test]
fn demo_eval_fixture_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo_eval.json");
    let now = compute();
    if std::env::var_os("BITGRU_BLESS").is_some() {
        let text = serde_json::to_string(&now).unwrap();
        std::fs::write(&path, text + "\n").unwrap();
    }
    let stored: DemoEval = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("tests/fixtures/demo_eval.json parses (BITGRU_BLESS=1 to write it)");
    assert_eq!(
        stored, now,
        "the fixture is stale: BITGRU_BLESS=1 cargo test -p bitgru-web --test native"
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
    if std::env::var_os("BITGRU_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string(&now).unwrap() + "\n").unwrap();
    }
    let stored: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("tests/fixtures/app_search.json parses (BITGRU_BLESS=1 to write it)");
    assert_eq!(
        stored, now,
        "stale: BITGRU_BLESS=1 cargo test -p bitgru-web --test native"
    );
    assert!(now.as_array().is_some_and(|f| f.len() >= 2), "{now}");
}
