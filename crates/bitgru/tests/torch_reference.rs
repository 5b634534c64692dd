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

/// Largest absolute difference between the model's hidden states / logits and PyTorch's.
fn worst_diff(m: &FloatGru, f: &Fixture) -> f32 {
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
    worst
}

/// Tolerance of the npz / safetensors checks against `torch_gru.json`.
const TOL: f32 = 1e-5;

fn check(m: &FloatGru, f: &Fixture, tol: f32) {
    let worst = worst_diff(m, f);
    assert!(worst < tol, "largest difference to PyTorch {worst} ≥ {tol}");
}

#[test]
fn float_gru_matches_pytorch() {
    let (m, meta) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    assert!(meta.is_none());
    check(&m, &fixture("torch_gru.json"), TOL);
}

#[test]
fn float_gru_matches_pytorch_h16_t20() {
    let (m, _) = load_float_safetensors(&bytes("torch_gru_h16.safetensors")).unwrap();
    check(&m, &fixture("torch_gru_h16.json"), 2e-5);
}

#[test]
fn keras_npz_reorders_gates_to_pytorch() {
    let m = load_keras_npz(&bytes("keras_gru.npz")).unwrap();
    check(&m, &fixture("torch_gru.json"), TOL);
    let (t, _) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    assert_eq!(m, t, "npz import must give exactly the PyTorch tensors");
}

#[test]
fn swapped_gates_are_detected() {
    // A classic bug: loading Keras order without reordering (or reordering the wrong blocks).
    // Each wrong gate order must move the outputs far beyond the tolerance of the checks above;
    // otherwise the fixture is too weak to catch it (e.g. gates with near-identical weights).
    let (good, _) = load_float_safetensors(&bytes("torch_gru.safetensors")).unwrap();
    let f = fixture("torch_gru.json");
    let h = good.hidden;
    // Block permutations of the PyTorch gate order (r, z, n) applied to every gate-stacked tensor.
    let perms: [[usize; 3]; 5] = [[1, 0, 2], [0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
    for perm in perms {
        let permute = |v: &[f32]| -> Vec<f32> {
            let block = v.len() / 3;
            assert_eq!(block % h, 0);
            perm.iter()
                .flat_map(|&p| v[p * block..(p + 1) * block].iter().copied())
                .collect()
        };
        let mut m = good.clone();
        m.w_ih = permute(&good.w_ih);
        m.w_hh = permute(&good.w_hh);
        m.b_ih = permute(&good.b_ih);
        m.b_hh = permute(&good.b_hh);
        let worst = worst_diff(&m, &f);
        assert!(
            worst > 100.0 * TOL,
            "gate order {perm:?}: largest difference {worst} would not be caught"
        );
    }
    // And the npz fixture really is in Keras order: read as if it were already in PyTorch order
    // (no reordering), it must not match.
    let arrays = bitgru::io::npz::parse_npz(&bytes("keras_gru.npz")).unwrap();
    let k = &arrays["kernel"];
    assert_eq!(k.shape, [good.input_size, 3 * h]);
    let mut naive = good.clone();
    for row in 0..3 * h {
        for col in 0..good.input_size {
            naive.w_ih[row * good.input_size + col] = k.data[col * 3 * h + row];
        }
    }
    assert_ne!(
        naive.w_ih, good.w_ih,
        "npz kernel is not in Keras gate order"
    );
    assert!(worst_diff(&naive, &f) > 100.0 * TOL);
}
