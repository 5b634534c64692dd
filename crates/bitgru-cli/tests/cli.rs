//! End-to-end tests of the `bitgru` binary on temporary files.
mod common;
use bitgru::io::{load_bundle, qfile::load_quant};
use bitgru::{FloatGru, Genome, QuantGru, Scratch};
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MIXED: &str = "64576888548886757";
const INPUT: usize = 10;
const HIDDEN: usize = 8;
const CLASSES: usize = 6;

/// The demo model (small), made once per test process with `bitgru demo-model`.
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let p = tmp("demo").join("demo.safetensors");
        demo_model(&p, HIDDEN, CLASSES, 24);
        p
    })
}

/// Writes an inputs file and returns the sequences.
fn write_inputs(path: &Path, n: usize, steps: usize, labels: bool) -> Vec<Vec<f32>> {
    let seqs = bitgru::synth::random_sequences(99, n, steps, INPUT);
    let mut v = json!({ "sequences": seqs, "steps": steps });
    if labels {
        v["labels"] = json!((0..n).map(|k| k % CLASSES).collect::<Vec<_>>());
    }
    std::fs::write(path, v.to_string()).unwrap();
    seqs
}

fn predictions(v: &Value) -> Vec<usize> {
    v["predictions"]
        .as_array()
        .expect("predictions array")
        .iter()
        .map(|p| p.as_u64().expect("class index") as usize)
        .collect()
}

#[test]
fn demo_model_then_eval_json_with_labels() {
    let d = tmp("eval-labels");
    let inputs = d.join("inputs.json");
    let n = 9;
    let seqs = write_inputs(&inputs, n, 7, true);
    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        MIXED,
        "--inputs",
        s(&inputs),
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("eval prints one JSON object");
    assert_eq!(v["n"], n);
    assert_eq!(v["genome"], MIXED);
    assert!(v.get("seed").is_none(), "no seed for file inputs");
    let preds = predictions(&v);
    assert_eq!(preds.len(), n);

    // Same predictions as the library.
    let b = load_bundle(&std::fs::read(demo()).unwrap()).unwrap();
    assert_eq!(b.meta.task, "synthetic-demo");
    assert_eq!(b.meta.classes, ["c0", "c1", "c2", "c3", "c4", "c5"]);
    assert_eq!(b.meta.seed, 7);
    assert!(
        b.meta.command.starts_with("bitgru demo-model"),
        "{}",
        b.meta.command
    );
    let g: Genome = MIXED.parse().unwrap();
    let q = QuantGru::prepare(&b.model, &b.calibration, &g).unwrap();
    let mut sc = Scratch::for_model(&q);
    let lib: Vec<usize> = seqs
        .iter()
        .map(|x| q.predict(&q.quantize_input(x).unwrap(), &mut sc).unwrap())
        .collect();
    assert_eq!(preds, lib);

    // Accuracy against the labels; agreement against the float model.
    let labels: Vec<usize> = (0..n).map(|k| k % CLASSES).collect();
    let acc = preds.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / n as f64;
    assert!((v["accuracy"].as_f64().expect("accuracy number") - acc).abs() < 1e-12);
    let fp: Vec<usize> = seqs.iter().map(|x| b.model.predict(x).unwrap()).collect();
    let agree = preds.iter().zip(&fp).filter(|(a, b)| a == b).count() as f64 / n as f64;
    assert!((v["agreement_with_float"].as_f64().unwrap() - agree).abs() < 1e-12);

    // Size fields.
    let r = bitgru::size::report(&g, b.model.dims());
    assert_eq!(
        v["size"],
        serde_json::to_value(r).unwrap(),
        "the `bitgru size` report"
    );
    assert!(r.normalized < 1.0);
    assert!(v["elapsed_ms"].as_f64().unwrap() >= 0.0);

    // Text mode prints the accuracy line and one row per sequence.
    let text = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        MIXED,
        "--inputs",
        s(&inputs),
    ]);
    assert!(text.contains("accuracy") && text.contains(MIXED), "{text}");
    assert!(
        text.contains("per-class accuracy") && text.contains("0 c0"),
        "class names: {text}"
    );
    assert!(text.contains("confusion matrix of"), "{text}");
    assert!(
        !text.contains("predictions of"),
        "predictions only on request: {text}"
    );
}

#[test]
fn eval_random_inputs_and_float_reference() {
    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        "88888888888888888",
        "--random",
        "5",
        "--steps",
        "6",
        "--seed",
        "42",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["n"], 5);
    assert_eq!(v["seed"], 42);
    assert!(v["accuracy"].is_null(), "no labels, no accuracy");
    assert!(v["agreement_with_float"].as_f64().is_some());

    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--float",
        "--random",
        "5",
        "--steps",
        "6",
        "--seed",
        "42",
        "--json",
    ]);
    let f: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(f["genome"], "float");
    let b = load_bundle(&std::fs::read(demo()).unwrap()).unwrap();
    let want: Vec<usize> = bitgru::synth::random_sequences(42, 5, 6, INPUT)
        .iter()
        .map(|x| b.model.predict(x).unwrap())
        .collect();
    assert_eq!(predictions(&f), want);
    assert_eq!(f["size"]["bits"], 32 * b.model.n_params() as u64);
    assert!(f["size"]["bitops_per_step"].is_null());
}

/// Plain float weights in safetensors with PyTorch names (no bitgru metadata).
fn write_plain_weights(path: &Path, m: &FloatGru) {
    let (h, i, c) = (m.hidden, m.input_size, m.classes);
    let tensors: [(&str, &[f32], Vec<usize>); 6] = [
        ("gru.weight_ih_l0", &m.w_ih, vec![3 * h, i]),
        ("gru.weight_hh_l0", &m.w_hh, vec![3 * h, h]),
        ("gru.bias_ih_l0", &m.b_ih, vec![3 * h]),
        ("gru.bias_hh_l0", &m.b_hh, vec![3 * h]),
        ("fc.weight", &m.w_fc, vec![c, h]),
        ("fc.bias", &m.b_fc, vec![c]),
    ];
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, v, shape) in tensors {
        let start = data.len();
        data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        header.insert(
            name.into(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let mut h = Value::Object(header).to_string().into_bytes();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
    bytes.extend(h);
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn plain_weights_calibrate_and_eval_with_calib() {
    let d = tmp("plain");
    let w = d.join("weights.safetensors");
    write_plain_weights(&w, &bitgru::synth::random_model(3, INPUT, HIDDEN, CLASSES));
    let calib = d.join("calib.json");
    write_inputs(&calib, 12, 8, false);
    let inputs = d.join("inputs.json");
    write_inputs(&inputs, 6, 5, true);

    let err = fails(&[
        "eval",
        "--model",
        s(&w),
        "--genome",
        MIXED,
        "--inputs",
        s(&inputs),
    ]);
    assert!(
        err.contains("--calib") && err.contains("weights.safetensors"),
        "{err}"
    );
    // The float reference needs no calibration; inspect names the kind of file.
    let v: Value = serde_json::from_str(&ok(&[
        "eval",
        "--model",
        s(&w),
        "--float",
        "--inputs",
        s(&inputs),
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["n"], 6);
    assert!(ok(&["inspect", "--model", s(&w)]).contains("float weights (safetensors)"));

    // On-the-fly calibration == calibrate, then eval the bundle.
    let fly = ok(&[
        "eval",
        "--model",
        s(&w),
        "--calib",
        s(&calib),
        "--genome",
        MIXED,
        "--inputs",
        s(&inputs),
        "--json",
    ]);
    let bundle = d.join("out/bundle.safetensors");
    ok(&[
        "calibrate",
        "--model",
        s(&w),
        "--inputs",
        s(&calib),
        "--out",
        s(&bundle),
        "--task",
        "toy",
        "--classes",
        "a,b,c,d,e,f",
    ]);
    let via = ok(&[
        "eval",
        "--model",
        s(&bundle),
        "--genome",
        MIXED,
        "--inputs",
        s(&inputs),
        "--json",
    ]);
    let (fly, via): (Value, Value) = (
        serde_json::from_str(&fly).unwrap(),
        serde_json::from_str(&via).unwrap(),
    );
    assert_eq!(predictions(&fly), predictions(&via));
    assert_eq!(fly["accuracy"], via["accuracy"]);

    let b = load_bundle(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(b.meta.task, "toy");
    assert_eq!(b.meta.classes, ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(b.calibration.n_sequences, 12);
    assert!(
        b.meta.command.starts_with("bitgru calibrate"),
        "{}",
        b.meta.command
    );

    let err = fails(&[
        "calibrate",
        "--model",
        s(&w),
        "--inputs",
        s(&calib),
        "--out",
        s(&bundle),
        "--classes",
        "a,b",
    ]);
    assert!(err.contains("2 classes") && err.contains("has 6"), "{err}");
}

#[test]
fn export_bitgru_round_trips_and_c_writes_sources() {
    let d = tmp("export");
    let out = d.join("q");
    let printed = ok(&[
        "export",
        "--model",
        s(demo()),
        "--genome",
        MIXED,
        "--format",
        "bitgru",
        "--out",
        s(&out),
    ]);
    let file = out.join("model.bitgru");
    assert!(printed.contains("model.bitgru"));
    let (q, prov) = load_quant(&std::fs::read(&file).unwrap()).expect("re-imports");
    assert_eq!(q.genome.to_string(), MIXED);
    assert_eq!(prov["genome"], MIXED);
    assert_eq!(prov["model_meta"]["task"], "synthetic-demo");
    assert!(prov["command"]
        .as_str()
        .unwrap()
        .starts_with("bitgru export"));

    let b = load_bundle(&std::fs::read(demo()).unwrap()).unwrap();
    let p = QuantGru::prepare(&b.model, &b.calibration, &MIXED.parse().unwrap()).unwrap();
    assert_eq!(q, p);
    let (mut s1, mut s2) = (Scratch::for_model(&q), Scratch::for_model(&p));
    for x in bitgru::synth::random_sequences(5, 6, 9, INPUT) {
        let codes = p.quantize_input(&x).unwrap();
        assert_eq!(
            q.run(&codes, &mut s1).unwrap(),
            p.run(&codes, &mut s2).unwrap()
        );
    }

    // The .bitgru file evaluates and inspects on its own.
    let v: Value = serde_json::from_str(&ok(&[
        "eval",
        "--model",
        s(&file),
        "--random",
        "3",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["genome"], MIXED);
    assert!(v["agreement_with_float"].is_null());
    let err = fails(&[
        "eval",
        "--model",
        s(&file),
        "--genome",
        "88888888888888888",
        "--random",
        "3",
    ]);
    assert!(err.contains("prepared for genome"), "{err}");
    let v: Value = serde_json::from_str(&ok(&["inspect", "--model", s(&file), "--json"])).unwrap();
    assert_eq!(v["genome"], MIXED);
    assert_eq!(v["dims"]["hidden"], HIDDEN);
    assert_eq!(
        v["meta"]["task"], "synthetic-demo",
        "model meta from the provenance"
    );
    assert!(v["size"]["bits"].as_u64().unwrap() > 0);

    let c_dir = d.join("c/nested");
    ok(&[
        "export",
        "--model",
        s(demo()),
        "--genome",
        MIXED,
        "--format",
        "c",
        "--out",
        s(&c_dir),
        "--prefix",
        "demo_net",
    ]);
    let h = std::fs::read_to_string(c_dir.join("demo_net.h")).expect("header written");
    let c = std::fs::read_to_string(c_dir.join("demo_net.c")).expect("source written");
    assert!(h.contains(MIXED), "header names the genome");
    assert!(c.contains("demo_net"));
}

#[test]
fn inspect_and_size() {
    let text = ok(&["inspect", "--model", s(demo())]);
    assert!(
        text.contains("synthetic-demo") && text.contains("hidden 8"),
        "{text}"
    );
    let v: Value =
        serde_json::from_str(&ok(&["size", "--dims", "10,32,6", "--genome", MIXED])).unwrap();
    let r = bitgru::size::report(
        &MIXED.parse().unwrap(),
        bitgru::Dims {
            input: 10,
            hidden: 32,
            classes: 6,
        },
    );
    assert_eq!(v["bits"], r.bits);
    assert_eq!(v["bytes"], r.bytes);
    assert_eq!(v["bitops_per_step"], r.bitops_per_step);
    let err = fails(&["size", "--dims", "10,32", "--genome", MIXED]);
    assert!(err.contains("input,hidden,classes"), "{err}");
}

/// `bitgru … | head`: when the reader goes away first, the CLI ends like other Unix tools (by
/// SIGPIPE, silently), not with a panic about a broken pipe.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // A pipe whose read end is closed before the CLI starts: its first write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_bitgru"))
        .args(["inspect", "--json", "--model", s(demo())])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}

#[test]
fn errors_name_the_problem() {
    let d = tmp("errors");
    let all8 = "88888888888888888";

    let missing = d.join("missing.safetensors");
    let err = fails(&[
        "eval",
        "--model",
        s(&missing),
        "--genome",
        all8,
        "--random",
        "2",
    ]);
    assert!(
        err.contains("missing.safetensors") && err.contains("cannot read"),
        "{err}"
    );

    let bad = d.join("bad.json");
    std::fs::write(&bad, "{\"sequences\": [[1, 2,").unwrap();
    let err = fails(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        all8,
        "--inputs",
        s(&bad),
    ]);
    assert!(
        err.contains("bad.json") && err.contains("malformed JSON"),
        "{err}"
    );

    let wrong = d.join("wrong.json");
    let good: Vec<f32> = vec![0.5; 2 * INPUT];
    std::fs::write(
        &wrong,
        json!({"sequences": [good, vec![0.5f32; 13]]}).to_string(),
    )
    .unwrap();
    let err = fails(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        all8,
        "--inputs",
        s(&wrong),
    ]);
    assert!(
        err.contains("wrong.json") && err.contains("sequence 1") && err.contains("input size 10"),
        "{err}"
    );

    let labels = d.join("labels.json");
    std::fs::write(
        &labels,
        json!({"sequences": [good], "labels": [6]}).to_string(),
    )
    .unwrap();
    let err = fails(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        all8,
        "--inputs",
        s(&labels),
    ]);
    assert!(err.contains("label 0 is 6"), "{err}");

    let err = fails(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        "88888888988888888",
        "--random",
        "2",
    ]);
    assert!(err.contains("gene 8") && err.contains("add_n"), "{err}");
    let err = fails(&[
        "eval",
        "--model",
        s(demo()),
        "--genome",
        "8888",
        "--random",
        "2",
    ]);
    assert!(err.contains("17"), "{err}");

    let err = fails(&[
        "export",
        "--model",
        s(demo()),
        "--genome",
        all8,
        "--format",
        "zip",
        "--out",
        s(&d),
    ]);
    assert!(
        err.contains("zip") && err.contains("bitgru") && err.contains("c"),
        "{err}"
    );
    let err = fails(&[
        "export",
        "--model",
        s(demo()),
        "--genome",
        all8,
        "--format",
        "c",
        "--out",
        s(&d),
        "--prefix",
        "9x",
    ]);
    assert!(err.contains("9x"), "{err}");

    let err = fails(&[
        "eval",
        "--model",
        s(&bad),
        "--genome",
        all8,
        "--random",
        "2",
    ]);
    assert!(err.contains("bad.json"), "{err}");
    let err = fails(&["eval", "--model", s(demo()), "--random", "2"]);
    assert!(err.contains("--genome"), "{err}");
}

#[test]
fn help_documents_inputs_and_genome() {
    let h = ok(&["eval", "--help"]);
    assert!(
        h.contains("\"sequences\"") && h.contains("--random") && h.contains("lin_ir"),
        "{h}"
    );
    for cmd in [
        "calibrate",
        "export",
        "inspect",
        "size",
        "demo-model",
        "bench",
    ] {
        let h = ok(&[cmd, "--help"]);
        assert!(h.len() > 200, "{cmd} --help is too short:\n{h}");
    }
}

#[test]
fn bench_tiny_prints_json() {
    let out = ok(&[
        "bench",
        "--hidden",
        "8",
        "--steps",
        "5",
        "--batch",
        "4",
        "--min-time-ms",
        "5",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).expect("bench --json prints JSON");
    assert!(v["machine"]["available_parallelism"].as_u64().unwrap() >= 1);
    let rows = v["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "all-8 and the mixed genome");
    assert_eq!(rows[0]["genome"], "88888888888888888");
    assert_eq!(rows[1]["genome"], MIXED);
    let best = v["machine"]["best_variant"].as_str().unwrap().to_string();
    assert!(
        ["scalar", "avx2", "avx512-vnni"].contains(&best.as_str()),
        "{best}"
    );
    for r in rows {
        assert_eq!(r["hidden"], 8);
        for k in [
            "prepare_us",
            "pack_us",
            "float_seq_per_s",
            "reference_seq_per_s",
            "stream_step_us",
        ] {
            assert!(r[k].as_f64().unwrap() > 0.0, "{k} in {r}");
        }
        let variants = r["batch_1thread"].as_array().unwrap();
        assert_eq!(
            variants[0]["variant"], "scalar",
            "the portable variant is always timed"
        );
        assert!(
            variants.iter().any(|x| x["variant"] == best.as_str()),
            "{r}"
        );
        for x in variants {
            assert!(x["seq_per_s"].as_f64().unwrap() > 0.0, "{x}");
        }
        assert_eq!(r["batch_all_threads"]["variant"], best.as_str());
    }
    let table = ok(&[
        "bench",
        "--hidden",
        "8",
        "--steps",
        "5",
        "--batch",
        "4",
        "--min-time-ms",
        "2",
    ]);
    assert!(
        table.contains("available parallelism") && table.contains("vs float"),
        "{table}"
    );
}

#[test]
fn eval_refuses_another_tasks_model_and_explains_the_missing_test_list() {
    let d = tmp("task-check");
    // The example: a kws4 model on kws10 data is an error naming both (before any data
    // is read: the directory is empty).
    let e = fails(&[
        "eval",
        "--task",
        "kws10",
        "--data",
        s(&d),
        "--model",
        s(&asset("kws4")),
        "--genome",
        "88888888888888888",
    ]);
    assert!(
        e.contains("trained for kws4") && e.contains("the data is kws10"),
        "{e}"
    );
    assert!(e.contains("_unknown_"), "class names listed: {e}");
    // Class names that are not the task's.
    let b = d.join("renamed.safetensors");
    let names = "a,b,c,d,e,f,g,h,i,j,k,l";
    let calib = d.join("calib.json");
    write_inputs(&calib, 4, 3, false);
    let w = d.join("w.safetensors");
    write_plain_weights(
        &w,
        &load_bundle(&std::fs::read(asset("kws10")).unwrap())
            .unwrap()
            .model,
    );
    ok(&[
        "calibrate",
        "--model",
        s(&w),
        "--inputs",
        s(&calib),
        "--out",
        s(&b),
        "--classes",
        names,
    ]);
    let e = fails(&[
        "eval",
        "--task",
        "kws10",
        "--data",
        s(&d),
        "--model",
        s(&b),
        "--genome",
        MIXED,
    ]);
    assert!(
        e.contains("model's classes are a,b,c") && e.contains("kws10's are yes,no"),
        "{e}"
    );
    // --split test on Speech Commands explains that the test list is not shipped.
    std::fs::create_dir_all(d.join("speech_commands")).unwrap();
    let e = fails(&[
        "eval",
        "--task",
        "kws4",
        "--data",
        s(&d),
        "--model",
        s(&asset("kws4")),
        "--split",
        "test",
        "--genome",
        MIXED,
    ]);
    assert!(
        e.contains("test list is not shipped") && e.contains("--split validation"),
        "{e}"
    );
}

#[test]
fn eval_summary_several_genomes_logits_and_skipped_float() {
    let d = tmp("summary");
    let inputs = d.join("x.json");
    let seqs = write_inputs(&inputs, 40, 5, true);
    let g8 = "88888888888888888";
    // Several genomes in one run (comma-separated and repeated): one JSON object each.
    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--inputs",
        s(&inputs),
        "--genome",
        &format!("{g8},{MIXED}"),
        "--genome",
        "44444444444444444",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let arr = v.as_array().expect("an array for several genomes");
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[1]["genome"], MIXED);
    let b = load_bundle(&std::fs::read(demo()).unwrap()).unwrap();
    let labels: Vec<usize> = (0..40).map(|k| k % CLASSES).collect();
    let fp: Vec<usize> = seqs.iter().map(|x| b.model.predict(x).unwrap()).collect();
    let facc = fp.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / 40.0;
    for o in arr {
        assert!((o["float_accuracy"].as_f64().unwrap() - facc).abs() < 1e-12);
        // Per-class counts add up to the accuracy; the confusion matrix to n.
        let correct: u64 = o["per_class"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["correct"].as_u64().unwrap())
            .sum();
        assert!((correct as f64 / 40.0 - o["accuracy"].as_f64().unwrap()).abs() < 1e-12);
        let total: u64 = o["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap())
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert_eq!(total, 40);
        assert!(
            o["elapsed_ms"].as_f64().unwrap() >= o["float_ms"].as_f64().unwrap(),
            "float time counted"
        );
    }
    // --no-float skips the float model; --logits gives float and dequantized integer logits.
    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--inputs",
        s(&inputs),
        "--genome",
        g8,
        "--no-float",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["agreement_with_float"].is_null()
            && v["float_accuracy"].is_null()
            && v["float_ms"].is_null()
    );
    let out = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--inputs",
        s(&inputs),
        "--genome",
        g8,
        "--logits",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let fl = v["float_logits"].as_array().unwrap();
    let il = v["logits"].as_array().unwrap();
    assert_eq!((fl.len(), il.len()), (40, 40));
    let want = b.model.forward(&seqs[0]).unwrap();
    let q = QuantGru::prepare(&b.model, &b.calibration, &g8.parse().unwrap()).unwrap();
    for c in 0..CLASSES {
        assert_eq!(fl[0][c].as_f64().unwrap(), want[c] as f64);
        let code = v["logits_codes"][0][c].as_i64().unwrap();
        assert_eq!(il[0][c].as_f64().unwrap(), code as f64 * q.logit_scale());
        // At 8 bits the dequantized integer logits track the float ones.
        assert!(
            (il[0][c].as_f64().unwrap() - want[c] as f64).abs() < 0.5,
            "class {c}"
        );
    }
    // Text: summary first, predictions only on request.
    let text = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--inputs",
        s(&inputs),
        "--genome",
        g8,
        "--genome",
        MIXED,
    ]);
    assert!(
        text.contains("float") && text.contains("g1") && text.contains("g2"),
        "{text}"
    );
    assert!(!text.contains("predictions of"), "{text}");
    let text = ok(&[
        "eval",
        "--model",
        s(demo()),
        "--inputs",
        s(&inputs),
        "--genome",
        g8,
        "--predictions",
    ]);
    assert!(text.contains("predictions of 88888888888888888"), "{text}");
}

/// Every subcommand builds its parser (clap's debug assertions run in test builds) and every
/// option says what it does.
#[test]
fn every_option_has_help() {
    let top = ok(&["--help"]);
    assert!(
        top.contains("`bitgru train`") && top.contains("`bitgru qat`"),
        "typical flow: {top}"
    );
    let cmds = [
        "calibrate",
        "eval",
        "export",
        "inspect",
        "size",
        "demo-model",
        "bench",
        "train",
        "qat",
        "bench-train",
        "search",
        "report",
        "bench-search",
    ];
    for cmd in cmds {
        let h = ok(&[cmd, "-h"]);
        let lines: Vec<&str> = h.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with("Options:"))
            .expect("options");
        for (k, l) in lines.iter().enumerate().skip(start + 1) {
            if l.trim().is_empty() {
                break; // the end of the options section
            }
            let t = l.trim_start();
            if !t.starts_with('-') {
                continue;
            }
            // "  -x, --name <V>  Description [default: ...]": the description is what follows
            // the option and its value name, or the next line when clap wraps.
            let rest = t.split_once("  ").map_or("", |x| x.1).trim();
            let rest = rest.split("[default").next().unwrap().trim();
            let next = lines.get(k + 1).map_or("", |n| n.trim());
            assert!(
                !rest.is_empty() || (!next.is_empty() && !next.starts_with('-')),
                "bitgru {cmd}: option without help: {l:?}"
            );
        }
    }
}

/// `eval` draws its progress bar on a terminal (here a pseudo-terminal made by util-linux's
/// `script`), never when stderr is a pipe or with `--quiet`. The one-second delay before it
/// appears is set to 0 through `BITGRU_PROGRESS_DELAY_MS`.
#[test]
fn eval_progress_bar_on_a_terminal_only() {
    let args = format!(
        "{} eval --model {} --genome {MIXED} --random 6000 --steps 12 --seed 1",
        env!("CARGO_BIN_EXE_bitgru"),
        s(demo())
    );
    let on_tty = |extra: &str| {
        let out = std::process::Command::new("script")
            .args(["-qefc", &format!("{args} {extra}"), "/dev/null"])
            .env("BITGRU_PROGRESS_DELAY_MS", "0")
            .output()
            .expect("util-linux `script` runs (bsdutils, on every Debian)");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let shown = on_tty("");
    assert!(
        shown.contains("/12000 sequences") && shown.contains("=>"),
        "no progress bar on a terminal:\n{shown}"
    );
    assert!(shown.contains("accuracy"), "{shown}");
    let quiet = on_tty("--quiet");
    assert!(
        !quiet.contains("/12000 sequences"),
        "--quiet drew a bar:\n{quiet}"
    );
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_bitgru"))
        .args(args.split(' ').skip(1))
        .env("BITGRU_PROGRESS_DELAY_MS", "0")
        .output()
        .unwrap();
    assert!(piped.status.success());
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(!err.contains("/12000 sequences"), "a bar on a pipe:\n{err}");
}
