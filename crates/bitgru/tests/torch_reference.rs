//! The float GRU against real PyTorch `nn.GRU` outputs (fixtures made by
//! `scripts/make_torch_fixtures.py` with torch; see its header), and the Keras npz importer
//! against the same outputs (the npz is the same model re-laid out in Keras order).
use bitgru::io::{load_float_safetensors, npz::load_keras_npz};
use bitgru::FloatGru;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    input_size: usize,
    hidden: usize,
    classes: usize,
    inputs: Vec<Vec<Vec<f32>>>,
    hidden_states: Vec<Vec<Vec<f32>>>,
    logits: Vec<Vec<f32>>,
}

fn fixture(name: &str) -> Fixture {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn check(m: &FloatGru, f: &Fixture, tol: f32) {
    assert_eq!(
        (m.input_size, m.hidden, m.classes),
        (f.input_size, f.hidden, f.classes)
    );
    let mut worst = 0f32;
    for (b, seq) in f.inputs.iter().enumerate() {
        let flat: Vec<f32> = seq.iter().flatten().copied().collect();
        let hs = m.hidden_states(&flat).unwrap();
        assert_eq!(hs.len(), seq.len());
        for (got, want) in hs.iter().zip(&f.hidden_states[b]) {
            for (a, e) in got.iter().zip(want) {
                worst = worst.max((a - e).abs());
            }
        }
        let logits = m.forward(&flat).unwrap();
        for (a, e) in logits.iter().zip(&f.logits[b]) {
            worst = worst.max((a - e).abs());
        }
    }
    assert!(worst < tol, "largest difference to PyTorch {worst} ≥ {tol}");
}

#[test]
fn float_gru_matches_pytorch() {
    let (m, meta) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    assert!(meta.is_none());
    check(&m, &fixture("torch_gru.json"), 1e-5);
}

#[test]
fn float_gru_matches_pytorch_h16_t20() {
    let (m, _) = load_float_safetensors(&bytes("torch_gru_h16.safetensors")).unwrap();
    check(&m, &fixture("torch_gru_h16.json"), 2e-5);
}

#[test]
fn keras_npz_reorders_gates_to_pytorch() {
    let m = load_keras_npz(&bytes("keras_gru.npz")).unwrap();
    check(&m, &fixture("torch_gru.json"), 1e-5);
    let (t, _) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    assert_eq!(m, t, "npz import must give exactly the PyTorch tensors");
}

#[test]
fn swapped_gates_are_detected() {
    // A classic bug: loading Keras order without reordering. Swapping r and z rows must change
    // the outputs, so the tests above would catch it.
    let (mut m, _) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    let h = m.hidden;
    let n = h * m.input_size;
    let (r, z) = m.w_ih.split_at_mut(n);
    r.swap_with_slice(&mut z[..n]);
    let _ = h;
    let f = fixture("torch_gru.json");
    let flat: Vec<f32> = f.inputs[0].iter().flatten().copied().collect();
    let got = m.forward(&flat).unwrap();
    let diff: f32 = got
        .iter()
        .zip(&f.logits[0])
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(diff > 1e-3);
}
