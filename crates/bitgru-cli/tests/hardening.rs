//! The CLI on hostile or mistaken inputs (issue 10): every case ends in a specific error, never a
//! panic, an abort or an unbounded read.
mod common;
use common::*;
use std::path::{Path, PathBuf};

fn demo(dir: &Path) -> PathBuf {
    let p = dir.join("demo.safetensors");
    let out = bitgru(&[
        "demo-model",
        "--seed",
        "3",
        "--input",
        "4",
        "--hidden",
        "8",
        "--classes",
        "3",
        "--steps",
        "5",
        "--n-calib",
        "8",
        "--out",
        s(&p),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

#[test]
fn model_from_dev_zero_is_refused_not_read_forever() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let e = fails(&["inspect", "--model", "/dev/zero"]);
    assert!(e.contains("byte limit"), "{e}");
}

#[test]
fn absurd_random_sizes_are_refused() {
    let d = tmp("random");
    let m = demo(&d);
    for args in [
        vec!["--random", "18446744073709551615"],
        vec!["--random", "1000000000"],
        vec!["--random", "2", "--steps", "1000000000000"],
    ] {
        let mut a = vec!["eval", "--model", s(&m), "--genome", "88888888888888888"];
        a.extend(args.iter().copied());
        let e = fails(&a);
        assert!(e.contains("over the limit"), "{args:?}: {e}");
    }
}

#[test]
fn calibrate_rejects_out_of_range_labels() {
    let d = tmp("labels");
    let m = demo(&d);
    let inputs = d.join("in.json");
    std::fs::write(
        &inputs,
        r#"{"sequences": [[0,0,0,0],[1,1,1,1]], "labels": [0, 3]}"#,
    )
    .unwrap();
    let e = fails(&[
        "calibrate",
        "--model",
        s(&m),
        "--inputs",
        s(&inputs),
        "--out",
        s(&d.join("out.safetensors")),
    ]);
    assert!(e.contains("label 1 is 3") && e.contains("3 classes"), "{e}");
    assert!(!d.join("out.safetensors").exists());
}

#[test]
fn size_dims_overflow_is_refused() {
    let e = fails(&[
        "size",
        "--genome",
        "88888888888888888",
        "--dims",
        "4294967296,4294967296,4294967296",
    ]);
    assert!(e.contains("at most 4096"), "{e}");
}

#[test]
fn empty_evaluation_set_is_an_error() {
    let d = tmp("empty");
    // A row-mnist model (the task check passes) on an MNIST-layout directory whose test split holds 0 images.
    let mnist = d.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    std::fs::write(
        mnist.join("t10k-images-idx3-ubyte"),
        [0u8, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28],
    )
    .unwrap();
    std::fs::write(
        mnist.join("t10k-labels-idx1-ubyte"),
        [0u8, 0, 8, 1, 0, 0, 0, 0],
    )
    .unwrap();
    let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models/row-mnist.safetensors");
    let e = fails(&[
        "eval",
        "--model",
        s(&m),
        "--genome",
        "88888888888888888",
        "--task",
        "row-mnist",
        "--split",
        "test",
        "--data",
        s(&d),
    ]);
    assert!(e.contains("is empty: nothing to evaluate"), "{e}");
    assert!(!e.contains("0/0"), "{e}");
}

#[test]
fn torch_save_file_gets_export_advice() {
    let d = tmp("pt");
    let pt = d.join("model.pt");
    // The zip layout of torch.save (entries under <name>/, data.pkl first), stored.
    std::fs::write(
        &pt,
        stored_zip(&[
            ("model/data.pkl", b"\x80\x02}q\x00."),
            ("model/version", b"3\n"),
        ]),
    )
    .unwrap();
    let e = fails(&["inspect", "--model", s(&pt)]);
    assert!(
        e.contains("torch.save") && e.contains("export_pytorch.py") && !e.contains("NUMPY"),
        "{e}"
    );
}

/// A minimal stored zip (CRCs left 0: only the names are read before the error).
fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (n, len) = (name.len() as u16, data.len() as u32);
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        out.extend(b"PK\x03\x04");
        out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend(crc.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(len.to_le_bytes());
        out.extend(n.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(b"PK\x01\x02");
        central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend(crc.to_le_bytes());
        central.extend(len.to_le_bytes());
        central.extend(len.to_le_bytes());
        central.extend(n.to_le_bytes());
        central.extend([0u8; 12]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (cd_at, cd_len, k) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend(central);
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend(k.to_le_bytes());
    out.extend(k.to_le_bytes());
    out.extend(cd_len.to_le_bytes());
    out.extend(cd_at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A little-endian float32 .npy file.
fn npy(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for v in data {
        out.extend(v.to_le_bytes());
    }
    out
}

#[test]
fn npy_and_npz_inputs_match_the_json_form() {
    let d = tmp("npy");
    let m = demo(&d);
    // 3 sequences of 5 steps x 4 features.
    let x: Vec<f32> = (0..60)
        .map(|k| ((k * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    let seqs: Vec<Vec<f32>> = x.chunks(20).map(<[f32]>::to_vec).collect();
    let labels = [2usize, 0, 1];
    let json_in = d.join("x.json");
    std::fs::write(
        &json_in,
        serde_json::json!({"sequences": seqs, "labels": labels}).to_string(),
    )
    .unwrap();
    let eval = |inputs: &Path| -> serde_json::Value {
        let out = ok(&[
            "eval",
            "--model",
            s(&m),
            "--genome",
            "88888888888888888",
            "--inputs",
            s(inputs),
            "--json",
        ]);
        serde_json::from_str(&out).unwrap()
    };
    let want = eval(&json_in);
    for (name, bytes) in [
        ("x3.npy", npy(&[3, 5, 4], &x)),
        ("x2.npy", npy(&[3, 20], &x)),
    ] {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let v = eval(&p);
        assert_eq!(v["predictions"], want["predictions"], "{name}");
        assert!(v["accuracy"].is_null(), "a .npy file has no labels");
    }
    let lab: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
    let z = d.join("x.npz");
    std::fs::write(
        &z,
        stored_zip(&[
            ("sequences.npy", &npy(&[3, 5, 4], &x)),
            ("labels.npy", &npy(&[3], &lab)),
        ]),
    )
    .unwrap();
    let v = eval(&z);
    assert_eq!(v["predictions"], want["predictions"]);
    assert_eq!(v["accuracy"], want["accuracy"]);
    // Strict: wrong feature count, missing array, bad labels.
    let bad = d.join("bad.npy");
    std::fs::write(&bad, npy(&[3, 4, 5], &x)).unwrap();
    let e = fails(&[
        "eval",
        "--model",
        s(&m),
        "--genome",
        "88888888888888888",
        "--inputs",
        s(&bad),
    ]);
    assert!(e.contains("input size 4"), "{e}");
    std::fs::write(&z, stored_zip(&[("x.npy", &npy(&[3, 20], &x))])).unwrap();
    let e = fails(&[
        "eval",
        "--model",
        s(&m),
        "--genome",
        "88888888888888888",
        "--inputs",
        s(&z),
    ]);
    assert!(e.contains("no \"sequences\" array"), "{e}");
    let half = [0.5f32, 0.0, 1.0];
    std::fs::write(
        &z,
        stored_zip(&[
            ("sequences.npy", &npy(&[3, 20], &x)),
            ("labels.npy", &npy(&[3], &half)),
        ]),
    )
    .unwrap();
    let e = fails(&[
        "eval",
        "--model",
        s(&m),
        "--genome",
        "88888888888888888",
        "--inputs",
        s(&z),
    ]);
    assert!(e.contains("label 0 is 0.5"), "{e}");
}
