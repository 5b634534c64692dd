//! Every malformed, truncated, wrong-shape or non-finite file gives a specific error; bundles
//! and quantized models round-trip exactly.
use bitgru::io::npz::{load_keras_npz, parse_npy};
use bitgru::io::qfile::{load_quant, save_quant};
use bitgru::io::{load_bundle, load_float_safetensors, save_bundle, ModelBundle, ModelMeta};
use bitgru::synth::{random_model, random_sequences};
use bitgru::{Calibration, Error, Genome, QuantGru, Scratch};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn bundle() -> ModelBundle {
    let model = random_model(5, 4, 8, 3);
    let seqs = random_sequences(6, 16, 10, 4);
    let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
    let calibration = Calibration::compute(&model, &refs).unwrap();
    ModelBundle {
        meta: ModelMeta {
            task: "synthetic".into(),
            classes: vec!["a".into(), "b".into(), "c".into()],
            seed: 5,
            ..Default::default()
        },
        model,
        calibration,
    }
}

/// Minimal safetensors writer for crafting bad files.
fn st_file(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut body = Vec::new();
    for (name, dtype, shape, data) in tensors {
        let start = body.len();
        body.extend_from_slice(data);
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, body.len()]}),
        );
    }
    let h = serde_json::to_vec(&header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(body);
    out
}

fn f32s(n: usize, v: f32) -> Vec<u8> {
    (0..n).flat_map(|_| v.to_le_bytes()).collect()
}

fn good_tensors(
    h: usize,
    i: usize,
    c: usize,
) -> Vec<(&'static str, &'static str, Vec<usize>, Vec<u8>)> {
    vec![
        (
            "gru.weight_ih_l0",
            "F32",
            vec![3 * h, i],
            f32s(3 * h * i, 0.1),
        ),
        (
            "gru.weight_hh_l0",
            "F32",
            vec![3 * h, h],
            f32s(3 * h * h, 0.1),
        ),
        ("gru.bias_ih_l0", "F32", vec![3 * h], f32s(3 * h, 0.0)),
        ("gru.bias_hh_l0", "F32", vec![3 * h], f32s(3 * h, 0.0)),
        ("fc.weight", "F32", vec![c, h], f32s(c * h, 0.1)),
        ("fc.bias", "F32", vec![c], f32s(c, 0.0)),
    ]
}

#[test]
fn crafted_good_file_loads() {
    let (m, _) = load_float_safetensors(&st_file(&good_tensors(3, 2, 2))).unwrap();
    assert_eq!((m.input_size, m.hidden, m.classes), (2, 3, 2));
}

#[test]
fn safetensors_errors_are_specific() {
    // Missing tensor.
    let mut t = good_tensors(3, 2, 2);
    t.remove(4);
    let e = load_float_safetensors(&st_file(&t)).unwrap_err();
    assert!(
        matches!(&e, Error::Missing(s) if s.contains("fc.weight")),
        "{e}"
    );
    // Wrong shape.
    let mut t = good_tensors(3, 2, 2);
    t[1] = ("gru.weight_hh_l0", "F32", vec![9, 4], f32s(36, 0.1));
    let e = load_float_safetensors(&st_file(&t)).unwrap_err();
    assert_eq!(
        e,
        Error::Shape {
            what: "gru.weight_hh_l0".into(),
            expected: vec![9, 3],
            got: vec![9, 4]
        }
    );
    // Not a multiple of 3.
    let mut t = good_tensors(3, 2, 2);
    t[0] = ("gru.weight_ih_l0", "F32", vec![8, 2], f32s(16, 0.1));
    assert!(load_float_safetensors(&st_file(&t))
        .unwrap_err()
        .to_string()
        .contains("3*hidden"));
    // NaN.
    let mut t = good_tensors(3, 2, 2);
    let mut d = f32s(6, 0.1);
    d[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    t[5] = ("fc.bias", "F32", vec![2], f32s(2, 0.0));
    t[4] = ("fc.weight", "F32", vec![2, 3], d);
    let e = load_float_safetensors(&st_file(&t)).unwrap_err();
    assert_eq!(
        e,
        Error::NonFinite {
            what: "fc.weight".into(),
            index: 2
        }
    );
    // Infinity in a bias.
    let mut t = good_tensors(3, 2, 2);
    t[2] = ("gru.bias_ih_l0", "F32", vec![9], f32s(9, f32::INFINITY));
    assert!(matches!(
        load_float_safetensors(&st_file(&t)).unwrap_err(),
        Error::NonFinite { .. }
    ));
    // Wrong dtype.
    let mut t = good_tensors(3, 2, 2);
    t[5] = ("fc.bias", "I32", vec![2], vec![0; 8]);
    assert!(matches!(
        load_float_safetensors(&st_file(&t)).unwrap_err(),
        Error::Dtype { .. }
    ));
    // Truncated and garbage files.
    let good = st_file(&good_tensors(3, 2, 2));
    for cut in [0, 4, 8, 20, good.len() - 1] {
        let e = load_float_safetensors(&good[..cut]).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "cut {cut}: {e}");
    }
    assert!(matches!(
        load_float_safetensors(b"hello world, not a model").unwrap_err(),
        Error::Format { .. }
    ));
}

#[test]
fn torch_fixture_is_not_a_bundle() {
    let e = load_bundle(&fixture("torch_gru.safetensors")).unwrap_err();
    assert!(e.to_string().contains("calibration"), "{e}");
}

#[test]
fn bundle_round_trip() {
    let b = bundle();
    let bytes = save_bundle(&b).unwrap();
    assert_eq!(load_bundle(&bytes).unwrap(), b);
}

#[test]
fn a_bundle_carries_its_detector_threshold_and_rejects_a_bad_one() {
    use bitgru::detect::{DetectorConfig, DEFAULT_THRESHOLD};
    let mut b = bundle();
    assert_eq!(
        DetectorConfig::for_model(&b.meta).threshold,
        DEFAULT_THRESHOLD
    );
    b.meta.detect_threshold = Some(0.85);
    let back = load_bundle(&save_bundle(&b).unwrap()).unwrap();
    assert_eq!(back, b);
    assert_eq!(DetectorConfig::for_model(&back.meta).threshold, 0.85);
    for bad in [1.5f32, -0.1] {
        b.meta.detect_threshold = Some(bad);
        let e = load_bundle(&save_bundle(&b).unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("detect_threshold") && e.to_string().contains(&bad.to_string()),
            "{e}"
        );
    }
}

#[test]
fn npz_errors_are_specific() {
    let good = fixture("keras_gru.npz");
    for cut in [0, 10, 100, good.len() / 2, good.len() - 3] {
        let e = load_keras_npz(&good[..cut]).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "cut {cut}: {e}");
    }
    let e = parse_npy("x", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<i4'}").unwrap_err();
    assert!(
        matches!(e, Error::Format { .. } | Error::Dtype { .. }),
        "{e}"
    );
    let hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend((hdr.len() as u16).to_le_bytes());
    npy.extend(hdr.as_bytes());
    npy.extend(f32s(6, 1.0));
    assert_eq!(parse_npy("x", &npy).unwrap().shape, vec![2, 3]);
    let e = parse_npy("x", &npy[..npy.len() - 4]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let mut nan = npy.clone();
    let n = nan.len();
    nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(
        parse_npy("x", &nan).unwrap_err(),
        Error::NonFinite {
            what: "x".into(),
            index: 5
        }
    );
}

#[test]
fn quantized_model_round_trip_is_bit_exact() {
    let b = bundle();
    for g in [
        "88888888888888888",
        "64576888548886757",
        "23456782345678234",
    ] {
        let g: Genome = g.parse().unwrap();
        let q = QuantGru::prepare(&b.model, &b.calibration, &g).unwrap();
        let bytes = save_quant(&q, serde_json::json!({"seed": 5})).unwrap();
        let (back, prov) = load_quant(&bytes).unwrap();
        assert_eq!(back, q);
        assert_eq!(prov["seed"], 5);
        let mut s = Scratch::for_model(&q);
        for x in random_sequences(9, 8, 10, 4) {
            let c = q.quantize_input(&x).unwrap();
            assert_eq!(q.run(&c, &mut s).unwrap(), back.run(&c, &mut s).unwrap());
        }
        // Truncation anywhere is an error, never a panic or a different model.
        for cut in [0, 8, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(load_quant(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }
    // A float bundle is not a quantized model.
    let e = load_quant(&save_bundle(&b).unwrap()).unwrap_err();
    assert!(e.to_string().contains("not a quantized"), "{e}");
}

#[test]
fn input_validation() {
    let b = bundle();
    let q = QuantGru::prepare(&b.model, &b.calibration, &Genome::uniform(8).unwrap()).unwrap();
    assert!(q
        .quantize_input(&[1.0; 7])
        .unwrap_err()
        .to_string()
        .contains("multiple of the input size 4"));
    assert!(matches!(
        q.quantize_input(&[1.0, f32::NAN, 0.0, 0.0]).unwrap_err(),
        Error::NonFinite { index: 1, .. }
    ));
    let mut s = Scratch::for_model(&q);
    assert!(q.run(&[0; 5], &mut s).is_err());
    assert!(q.run(&[], &mut s).is_err());
    assert!(b.model.forward(&[0.0; 3]).is_err());
    // Calibration from another model shape is rejected.
    let other = random_model(1, 5, 8, 3);
    assert!(QuantGru::prepare(&other, &b.calibration, &Genome::uniform(8).unwrap()).is_err());
}

#[test]
fn bundle_bytes_are_deterministic() {
    let b = bundle();
    assert_eq!(save_bundle(&b).unwrap(), save_bundle(&b).unwrap());
}
