//! `scripts/export_pytorch.py` writes what bitgru reads: its committed demo output (a model under
//! a `model.` prefix with attribute names `rnn` / `head`, inputs and PyTorch's logits, in
//! tests/fixtures/export_pytorch/) loads without renaming and matches PyTorch's logits; when
//! PyTorch is installed (`BITGRU_PYTHON`, default `python3`), the script is run again and its
//! fresh output is checked the same way.
use bitgru::io::{inputs::parse_inputs, load_float_safetensors};
use std::path::{Path, PathBuf};

fn check_export(dir: &Path) {
    let (m, meta) = load_float_safetensors(&std::fs::read(dir.join("model.safetensors")).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    assert!(meta.is_none());
    assert_eq!((m.input_size, m.hidden, m.classes), (3, 6, 4));
    let (seqs, _) = parse_inputs(&std::fs::read(dir.join("inputs.json")).unwrap(), 3).unwrap();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let logits = expected["logits"].as_array().unwrap();
    assert_eq!(logits.len(), seqs.len());
    let mut worst = 0f64;
    for (x, want) in seqs.iter().zip(logits) {
        let got = m.forward(x).unwrap();
        for (g, w) in got.iter().zip(want.as_array().unwrap()) {
            worst = worst.max((*g as f64 - w.as_f64().unwrap()).abs());
        }
    }
    assert!(
        worst < 1e-5,
        "{}: largest logit difference to PyTorch {worst}",
        dir.display()
    );
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export_pytorch")
}

#[test]
fn committed_pytorch_export_loads_and_matches() {
    check_export(&fixture_dir());
}

#[test]
fn pytorch_export_script_output_loads_and_matches() {
    let python = std::env::var("BITGRU_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_torch = std::process::Command::new(&python)
        .args(["-c", "import torch, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_torch {
        // Without PyTorch, the committed output of the script is what is checked (above).
        check_export(&fixture_dir());
        return;
    }
    let out = std::env::temp_dir().join(format!("bitgru-export-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/export_pytorch.py");
    let st = std::process::Command::new(&python)
        .arg(script)
        .arg("--demo")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    check_export(&out);
    std::fs::remove_dir_all(&out).unwrap();
}
