//! Hardened readers (issue 10): every bad input ends in a specific error that names the file
//! kind, tensor, field or entry, never a panic, an unbounded read or a silently different model.
use bitgru::io::npz::{load_keras_npz, parse_npy, parse_npz};
use bitgru::io::qfile::{load_quant, save_quant};
use bitgru::io::{load_bundle, load_float_safetensors, save_bundle, ModelBundle, ModelMeta};
use bitgru::synth::{random_model, random_sequences};
use bitgru::{Calibration, Error, Genome, QuantGru};
use serde_json::{json, Value};
use std::io::{Cursor, Write};

fn bundle() -> ModelBundle {
    let model = random_model(5, 4, 8, 3);
    let seqs = random_sequences(6, 16, 10, 4);
    let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
    let calibration = Calibration::compute(&model, &refs).unwrap();
    ModelBundle {
        meta: ModelMeta {
            task: "synthetic".into(),
            classes: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        },
        model,
        calibration,
    }
}

/// Minimal safetensors writer for crafting files (tensors in the given order).
fn st_file(tensors: &[(String, Vec<usize>)], metadata: Option<Value>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut body = Vec::new();
    for (name, shape) in tensors {
        let start = body.len();
        let n: usize = shape.iter().product();
        body.extend((0..n).flat_map(|k| (0.01 * (k % 7) as f32).to_le_bytes()));
        header.insert(
            name.clone(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, body.len()]}),
        );
    }
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m);
    }
    let h = serde_json::to_vec(&header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(body);
    out
}

/// A PyTorch-style state dict of a GRU (I=2, H=3) + head (C=4) under the given names.
fn torch_tensors(gru: &str, head: &str) -> Vec<(String, Vec<usize>)> {
    vec![
        (format!("{gru}weight_ih_l0"), vec![9, 2]),
        (format!("{gru}weight_hh_l0"), vec![9, 3]),
        (format!("{gru}bias_ih_l0"), vec![9]),
        (format!("{gru}bias_hh_l0"), vec![9]),
        (format!("{head}weight"), vec![4, 3]),
        (format!("{head}bias"), vec![4]),
    ]
}

fn msg(e: Error) -> String {
    e.to_string()
}

#[test]
fn module_prefix_and_other_attribute_names_are_found() {
    let (plain, _) = load_float_safetensors(&st_file(&torch_tensors("gru.", "fc."), None)).unwrap();
    for (gru, head) in [
        ("model.gru.", "model.fc."),
        ("rnn.", "classifier."),
        ("module.encoder.", "head.out."),
        ("", ""),
    ] {
        let (m, _) = load_float_safetensors(&st_file(&torch_tensors(gru, head), None))
            .unwrap_or_else(|e| panic!("{gru:?}/{head:?}: {e}"));
        assert_eq!(m, plain, "{gru:?}/{head:?}");
    }
}

#[test]
fn multi_layer_bidirectional_and_unknown_tensors_are_rejected() {
    // num_layers = 2: the second layer's tensors must not be ignored.
    let mut t = torch_tensors("gru.", "fc.");
    for s in ["weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"] {
        t.push((format!("gru.{s}"), vec![9, 3]));
    }
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(
        e.contains("multi-layer") && e.contains("gru.weight_ih_l1"),
        "{e}"
    );
    // bidirectional.
    let mut t = torch_tensors("gru.", "fc.");
    t.push(("gru.weight_ih_l0_reverse".into(), vec![9, 2]));
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(
        e.contains("bidirectional") && e.contains("gru.weight_ih_l0_reverse"),
        "{e}"
    );
    // any other tensor.
    let mut t = torch_tensors("gru.", "fc.");
    t.push(("norm.weight".into(), vec![3]));
    t.push(("norm.bias".into(), vec![3]));
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(
        e.contains("not understood") && e.contains("norm.weight") && e.contains("norm.bias"),
        "{e}"
    );
    assert!(e.contains("single-layer, unidirectional GRU"), "{e}");
    // two heads of the right shape are ambiguous.
    let mut t = torch_tensors("gru.", "fc.");
    t.push(("fc2.weight".into(), vec![4, 3]));
    t.push(("fc2.bias".into(), vec![4]));
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(e.contains("fc.weight") && e.contains("fc2.weight"), "{e}");
}

#[test]
fn missing_tensors_list_the_names_found() {
    let t: Vec<_> = torch_tensors("model.rnn.", "model.out.")
        .into_iter()
        .filter(|(n, _)| !n.ends_with("weight_ih_l0"))
        .collect();
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(
        e.contains("weight_ih_l0")
            && e.contains("model.rnn.weight_hh_l0")
            && e.contains("model.out.bias"),
        "{e}"
    );
    let t: Vec<_> = torch_tensors("gru.", "fc.")
        .into_iter()
        .filter(|(n, _)| n != "fc.bias")
        .collect();
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(e.contains("\"fc.bias\""), "{e}");
}

#[test]
fn zero_classes_is_said_in_words() {
    let mut t = torch_tensors("gru.", "fc.");
    t[4].1 = vec![0, 3];
    t[5].1 = vec![0];
    let e = msg(load_float_safetensors(&st_file(&t, None)).unwrap_err());
    assert!(
        e.contains("classes > 0") && !e.contains("expected [0, 3]"),
        "{e}"
    );
}

#[test]
fn class_names_must_match_the_classes() {
    let mut b = bundle();
    b.meta.classes.pop();
    // save_bundle does not judge metadata; the reader does.
    let bytes = save_bundle(&b).unwrap();
    let e = msg(load_bundle(&bytes).unwrap_err());
    assert!(
        e.contains("2 class names for a model with 3 classes"),
        "{e}"
    );
    let e = msg(load_float_safetensors(&bytes).unwrap_err());
    assert!(e.contains("2 class names"), "{e}");
}

#[test]
fn safetensors_errors_are_words_and_truncation_is_named() {
    let good = save_bundle(&bundle()).unwrap();
    for cut in [good.len() - 1, good.len() - 100, 200] {
        let e = msg(load_bundle(&good[..cut]).unwrap_err());
        assert!(e.contains("truncated"), "cut {cut}: {e}");
        for internal in [
            "MetadataIncompleteBuffer",
            "TensorInvalidInfo",
            "InvalidHeaderDeserialization",
            "HeaderTooLarge",
        ] {
            assert!(!e.contains(internal), "{e}");
        }
    }
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (n, data) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file(*n, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn other_frameworks_are_recognised_with_export_advice() {
    let pt = zip_of(&[
        ("archive/data.pkl", b"\x80\x02}q\x00."),
        ("archive/data/0", &[0; 16]),
    ]);
    for reader in [
        |b: &[u8]| load_float_safetensors(b).map(|_| ()),
        |b: &[u8]| load_keras_npz(b).map(|_| ()),
        |b: &[u8]| load_quant(b).map(|_| ()),
    ] {
        let e = msg(reader(&pt).unwrap_err());
        assert!(
            e.contains("torch.save") && e.contains("export_pytorch.py"),
            "{e}"
        );
        let e = msg(reader(&[0x80, 0x04, 0x95, 0, 0]).unwrap_err());
        assert!(e.contains("pickle"), "{e}");
        let e = msg(reader(b"\x89HDF\r\n\x1a\n\0\0\0\0").unwrap_err());
        assert!(e.contains("HDF5") && e.contains("export_keras.py"), "{e}");
        let keras = zip_of(&[
            ("metadata.json", b"{}"),
            ("config.json", b"{}"),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ]);
        let e = msg(reader(&keras).unwrap_err());
        assert!(e.contains(".keras") && e.contains("export_keras.py"), "{e}");
    }
}

fn npy(header: &str, body: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((header.len() as u16).to_le_bytes());
    v.extend(header.as_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn npy_headers_never_panic() {
    let d = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
    for (shape, needle) in [
        (")", "malformed shape"),
        ("é)", "malformed shape"),
        ("(é,)", "bad dimension"),
        ("(", "malformed shape"),
        ("(4294967296, 4294967296, 4294967296)", "too many elements"),
        ("(18446744073709551615, 2)", "too many elements"),
        ("(-1,)", "bad dimension"),
    ] {
        let e = msg(parse_npy("x", &npy(&format!("{d}{shape}, }}"), &[0; 8])).unwrap_err());
        assert!(e.contains(needle), "{shape}: {e}");
    }
    let e = msg(parse_npy("x", b"\x93NUMPY\x02\x00\xff\xff\xff\xff").unwrap_err());
    assert!(e.contains("truncated header"), "{e}");
}

#[test]
fn npz_zip_bomb_is_stopped_at_the_limit() {
    // 80 MiB of zeros deflate to ~80 KiB: the declared size is over the limit.
    let zeros = vec![0u8; 80 << 20];
    let bomb = zip_of(&[("kernel.npy", &zeros)]);
    assert!(bomb.len() < 1 << 20);
    let e = msg(parse_npz(&bomb).unwrap_err());
    assert!(e.contains("byte limit"), "{e}");
    // Lying about the size in the headers (declared 100 bytes) is caught by the cap on the bytes
    // actually inflated, or by the zip reader's own size check.
    let mut lying = bomb.clone();
    patch_zip_sizes(&mut lying, 100);
    assert!(parse_npz(&lying).is_err());
}

/// Overwrites the uncompressed size in every local and central header of a one-entry zip.
fn patch_zip_sizes(z: &mut [u8], size: u32) {
    for k in 0..z.len().saturating_sub(4) {
        if z[k..k + 4] == *b"PK\x03\x04" {
            z[k + 22..k + 26].copy_from_slice(&size.to_le_bytes());
        }
        if z[k..k + 4] == *b"PK\x01\x02" {
            z[k + 24..k + 28].copy_from_slice(&size.to_le_bytes());
        }
    }
}

#[test]
fn npz_unknown_arrays_are_rejected() {
    let f32s = |n: usize| vec![0u8; 4 * n];
    let arr = |shape: &str, n: usize| {
        npy(
            &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"),
            &f32s(n),
        )
    };
    let (k, rk, b, dk, db, extra) = (
        arr("(2, 9)", 18),
        arr("(3, 9)", 27),
        arr("(2, 9)", 18),
        arr("(3, 4)", 12),
        arr("(4,)", 4),
        arr("(3, 9)", 27),
    );
    let good = [
        ("kernel.npy", k.as_slice()),
        ("recurrent_kernel.npy", &rk),
        ("bias.npy", &b),
        ("dense_kernel.npy", &dk),
        ("dense_bias.npy", &db),
    ];
    load_keras_npz(&zip_of(&good)).unwrap();
    let mut two = good.to_vec();
    two.push(("kernel_1.npy", &extra));
    let e = msg(load_keras_npz(&zip_of(&two)).unwrap_err());
    assert!(
        e.contains("not understood") && e.contains("kernel_1"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// .bitgru

fn quant_bytes() -> (QuantGru, Vec<u8>) {
    let b = bundle();
    let g: Genome = "64576888548886757".parse().unwrap();
    let q = QuantGru::prepare(&b.model, &b.calibration, &g).unwrap();
    let bytes = save_quant(&q, json!({})).unwrap();
    (q, bytes)
}

/// Rewrites a `.bitgru` file: `meta` edits the `bitgru.quant` JSON, `data` the tensor bytes
/// (given the header, to find offsets).
fn edit_quant(
    bytes: &[u8],
    meta: impl FnOnce(&mut Value),
    data: impl FnOnce(&Value, &mut [u8]),
) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut m: Value =
        serde_json::from_str(header["__metadata__"]["bitgru.quant"].as_str().unwrap()).unwrap();
    meta(&mut m);
    header["__metadata__"]["bitgru.quant"] = Value::String(m.to_string());
    let mut body = bytes[8 + n..].to_vec();
    data(&header, &mut body);
    let h = serde_json::to_vec(&header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(body);
    out
}

#[test]
fn quant_head_bias_is_range_checked() {
    let (_, bytes) = quant_bytes();
    let bad = edit_quant(
        &bytes,
        |_| {},
        |h, body| {
            let at = h["head.bias"]["data_offsets"][0].as_u64().unwrap() as usize;
            body[at..at + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        },
    );
    let e = msg(load_quant(&bad).unwrap_err());
    assert!(e.contains("head.bias") && e.contains("2147483647"), "{e}");
}

#[test]
fn quant_metadata_fields_are_checked() {
    let (q, bytes) = quant_bytes();
    assert_eq!(load_quant(&bytes).unwrap().0, q);
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "input_scales[1]",
            Box::new(|m| m["input_scales"][1] = json!(0.0)),
        ),
        (
            "input_scales[0]",
            Box::new(|m| m["input_scales"][0] = json!(-1.0)),
        ),
        ("scales[3]", Box::new(|m| m["scales"][3] = json!(-0.5))),
        ("head_w_scale", Box::new(|m| m["head_w_scale"] = json!(0.0))),
        ("format", Box::new(|m| m["format"] = json!("other"))),
        ("gene_names", Box::new(|m| m["gene_names"][0] = json!("x"))),
        ("input_bits", Box::new(|m| m["input_bits"] = json!(4))),
        ("linear[2]", Box::new(|m| m["linear"][2]["bits"] = json!(3))),
        ("linear[4]", Box::new(|m| m["linear"][4]["rows"] = json!(9))),
        (
            "linear[0] (lin_ir) requant",
            Box::new(|m| m["linear"][0]["requant"]["mult"] = json!(5)),
        ),
        (
            "linear[5] (lin_hn) w_scale",
            Box::new(|m| m["linear"][5]["w_scale"] = json!(-1.0)),
        ),
        ("mul_rh", Box::new(|m| m["mul_rh"]["shift"] = json!(63))),
        ("add_h", Box::new(|m| m["add_h"]["mult_a"] = json!(-1))),
        ("hidden size", Box::new(|m| m["hidden"] = json!(1u64 << 40))),
        ("version", Box::new(|m| m["version"] = json!(3))),
    ];
    for (needle, edit) in cases {
        let bad = edit_quant(&bytes, edit, |_, _| {});
        let e = msg(load_quant(&bad).unwrap_err());
        assert!(e.contains(needle), "{needle}: {e}");
    }
    // A tensor the reader does not understand.
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let end = bytes.len() - 8 - n;
    header["extra"] = json!({"dtype": "U8", "shape": [1], "data_offsets": [end, end + 1]});
    let h = serde_json::to_vec(&header).unwrap();
    let mut extra = (h.len() as u64).to_le_bytes().to_vec();
    extra.extend(h);
    extra.extend(&bytes[8 + n..]);
    extra.push(0);
    let e = msg(load_quant(&extra).unwrap_err());
    assert!(e.contains("not understood") && e.contains("extra"), "{e}");
}

#[test]
fn long_genome_is_not_echoed_in_full() {
    let s = "8".repeat(100_000);
    let e = msg(s.parse::<Genome>().unwrap_err());
    assert!(
        e.len() < 300 && e.contains("100000 characters"),
        "{}",
        e.len()
    );
}

#[test]
fn committed_models_still_load() {
    // The stricter readers must accept every model bitgru itself wrote.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "safetensors") {
            let b = load_bundle(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(b.meta.classes.is_empty() || b.meta.classes.len() == b.model.classes);
            n += 1;
        }
    }
    assert!(n >= 5, "{n} models in {}", dir.display());
}
