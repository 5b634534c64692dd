//! End-to-end tests of `bitgru search` and `bitgru report` on a small synthetic task (no data
//! needed): determinism, resume == uninterrupted, Ctrl-C, the result files, and bad input that
//! must fail with a specific message and change nothing on disk.
mod common;
use common::*;
#[path = "../../bitgru/tests/support/mod.rs"]
mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const INPUT: usize = 6;
const HIDDEN: usize = 12;
const CLASSES: usize = 4;
const STEPS: usize = 10;

/// A synthetic model bundle and a labelled inputs file of its task, made once.
fn fixture() -> &'static (PathBuf, PathBuf) {
    static F: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    F.get_or_init(|| {
        let d = tmp("fixture");
        let model = d.join("model.safetensors");
        ok(&[
            "demo-model",
            "--seed",
            "5",
            "--input",
            &INPUT.to_string(),
            "--hidden",
            &HIDDEN.to_string(),
            "--classes",
            &CLASSES.to_string(),
            "--steps",
            &STEPS.to_string(),
            "--n-calib",
            "64",
            "--out",
            s(&model),
        ]);
        let task = bitgru::synth::task_of_model(5, INPUT, CLASSES, STEPS);
        let (seqs, labels) = task.sample(11, 160);
        let inputs = d.join("inputs.json");
        std::fs::write(
            &inputs,
            json!({"sequences": seqs, "labels": labels, "steps": STEPS}).to_string(),
        )
        .unwrap();
        (model, inputs)
    })
}

fn search_args<'a>(out: &'a str, gens: &'a str, seed: &'a str) -> Vec<&'a str> {
    let (model, inputs) = fixture();
    vec![
        "search",
        "--model",
        s(model),
        "--inputs",
        s(inputs),
        "--pop",
        "8",
        "--gens",
        gens,
        "--seed",
        seed,
        "--subset",
        "120",
        "--out",
        out,
        "--quiet",
    ]
}

fn result(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap()
}

/// The parts of a result that the seed and settings determine (timings excluded).
fn deterministic(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("timings");
    for g in v["generations"].as_array_mut().unwrap() {
        g.as_object_mut().unwrap().remove("seconds");
    }
    v
}

fn dir_snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

#[test]
fn search_writes_a_consistent_result() {
    let d = tmp("basic");
    let out = ok(&search_args(s(&d), "4", "3"));
    assert!(out.contains("hypervolume"), "{out}");
    let r = result(&d);
    assert_eq!(r["version"], 1);
    assert_eq!(r["config"]["seed"], 3);
    assert_eq!(r["config"]["subset"], 120);
    assert_eq!(r["generations"].as_array().unwrap().len(), 4);
    let hom = r["homogeneous"].as_array().unwrap();
    assert_eq!(hom.len(), 7);
    assert_eq!(hom[6]["genome"], "88888888888888888");
    assert_eq!(hom[6]["size_normalized"], 1.0);
    let front = r["front"].as_array().unwrap();
    assert!(!front.is_empty());
    // The front is non-dominated among every evaluation in the CSV.
    let csv = std::fs::read_to_string(d.join("evaluations.csv")).unwrap();
    let evals: Vec<(String, Vec<f64>)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let acc: f64 = f[3].parse().unwrap();
            let size: f64 = f[5].parse().unwrap();
            (f[2].to_string(), vec![1.0 - acc, size])
        })
        .collect();
    assert_eq!(
        evals.len(),
        r["timings"]["evaluations"].as_u64().unwrap() as usize
    );
    let mut genomes: Vec<&String> = evals.iter().map(|e| &e.0).collect();
    genomes.sort();
    genomes.dedup();
    assert_eq!(
        genomes.len(),
        evals.len(),
        "every genome is evaluated once (cache)"
    );
    for p in front {
        let o: Vec<f64> = p["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!((o[0] - (1.0 - p["accuracy"].as_f64().unwrap())).abs() < 1e-12);
        for (g, e) in &evals {
            assert!(
                !dominates(e, &o),
                "{g} dominates front member {}",
                p["genome"]
            );
        }
    }
    // Elitism: the hypervolume never decreases; the mixed front is at least the homogeneous.
    let hvs: Vec<f64> = r["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["hypervolume"].as_f64().unwrap())
        .collect();
    assert!(hvs.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{hvs:?}");
    let hv = &r["hypervolume"];
    assert!(hv["mixed"].as_f64().unwrap() >= hv["homogeneous"].as_f64().unwrap() - 1e-12);
    assert_eq!(hv["reference_point"], json!([1.1, 1.1]));
    // Re-scored on the whole inputs file, with sensitivity and clusters.
    let rescored = &r["rescored"][0];
    assert_eq!(rescored["n"], 160);
    assert_eq!(rescored["front"].as_array().unwrap().len(), front.len());
    let sens = r["sensitivity"].as_array().unwrap();
    assert_eq!(sens.len(), 17);
    assert_eq!(sens[0]["points"].as_array().unwrap().len(), 6);
    let svg = std::fs::read_to_string(d.join("front.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("mixed-precision front"));
    // report reads it back.
    let rep = ok(&["report", s(&d)]);
    assert!(
        rep.contains("mixed-precision front") && rep.contains("88888888888888888"),
        "{rep}"
    );
    let json_rep: Value = serde_json::from_str(&ok(&["report", s(&d), "--json"])).unwrap();
    assert_eq!(json_rep["front"], r["front"]);
}

#[test]
fn same_seed_same_front_and_resume_equals_uninterrupted() {
    let a = tmp("seed-a");
    let b = tmp("seed-b");
    ok(&search_args(s(&a), "5", "9"));
    ok(&search_args(s(&b), "5", "9"));
    assert_eq!(deterministic(&result(&a)), deterministic(&result(&b)));

    // Stop after 2 generations, then resume (same directory) to 5.
    let c = tmp("resume");
    ok(&search_args(s(&c), "2", "9"));
    let mut args = search_args(s(&c), "5", "9");
    args.extend(["--resume", s(&c)]);
    ok(&args);
    assert_eq!(deterministic(&result(&a)), deterministic(&result(&c)));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_after_a_generation_and_resumes_exactly() {
    // A fitness set large enough that 10 generations take well over the time the signal needs.
    let d0 = tmp("sigint-inputs");
    let inputs = d0.join("big.json");
    let (seqs, labels) = bitgru::synth::task_of_model(5, INPUT, CLASSES, STEPS).sample(12, 1000);
    std::fs::write(
        &inputs,
        json!({"sequences": seqs, "labels": labels, "steps": STEPS}).to_string(),
    )
    .unwrap();
    let args = |out: &Path| -> Vec<String> {
        let mut a: Vec<String> = search_args(s(out), "10", "4")
            .iter()
            .map(|x| x.to_string())
            .collect();
        let k = a.iter().position(|x| x == "--inputs").unwrap();
        a[k + 1] = s(&inputs).to_string();
        let k = a.iter().position(|x| x == "--subset").unwrap();
        a[k + 1] = "1000".into();
        a
    };
    let full = tmp("sigint-full");
    ok(&args(&full).iter().map(String::as_str).collect::<Vec<_>>());

    let d = tmp("sigint");
    let child = Command::new(env!("CARGO_BIN_EXE_bitgru"))
        .args(args(&d))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first generation is checkpointed, then interrupt.
    let t0 = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(d.join("checkpoint.json")).unwrap_or_default();
        if text.contains("\"population\"") {
            break;
        }
        assert!(t0.elapsed().as_secs() < 300, "no generation checkpointed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("stopped after generation") && err.contains("--resume"),
        "{err}"
    );
    assert!(!d.join("result.json").exists());
    let mut resume = args(&d);
    resume.extend(["--resume".to_string(), s(&d).to_string()]);
    ok(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(deterministic(&result(&d)), deterministic(&result(&full)));
}

#[test]
fn bad_input_fails_specifically_and_changes_nothing() {
    let d = tmp("bad");
    ok(&search_args(s(&d), "2", "1"));
    let before = dir_snapshot(&d);

    let with = |extra: &[&str], gens: &str, seed: &str| {
        let mut a = search_args(s(&d), gens, seed);
        a.extend_from_slice(extra);
        fails(&a)
    };
    // Existing search in --out.
    assert!(with(&[], "2", "1").contains("already holds a search"));
    // Resume with another seed / population.
    let e = with(&["--resume", s(&d)], "3", "2");
    assert!(e.contains("seed") && e.contains("checkpoint"), "{e}");
    // Absurd sizes.
    for (flag, value, word) in [
        ("--pop", "0", "population"),
        ("--pop", "7", "population"),
        ("--pop", "100000", "population"),
        ("--gens", "0", "generations"),
        ("--subset", "161", "--subset"),
        ("--subset", "0", "--subset"),
        ("--objectives", "size,error", "objectives"),
        ("--mutation", "1.5", "mutation"),
    ] {
        let mut a = search_args(s(&d), "2", "1");
        let k = a.iter().position(|x| *x == flag);
        match k {
            Some(k) => a[k + 1] = value,
            None => a.extend([flag, value]),
        }
        a.push("--force");
        let e = fails(&a);
        assert!(e.contains(word), "{flag} {value}: {e}");
    }
    assert_eq!(
        dir_snapshot(&d),
        before,
        "failed runs must not touch the directory"
    );

    // A truncated checkpoint and a hand-edited result are refused with a clear message.
    let t = tmp("truncated");
    for (name, bytes) in &before {
        std::fs::write(t.join(name), bytes).unwrap();
    }
    let ck = &before["checkpoint.json"];
    std::fs::write(t.join("checkpoint.json"), &ck[..ck.len() / 2]).unwrap();
    let mut a = search_args(s(&t), "3", "1");
    a.extend(["--resume", s(&t)]);
    let e = fails(&a);
    assert!(e.contains("truncated"), "{e}");
    let mut r: Value = serde_json::from_slice(&before["result.json"]).unwrap();
    r["front"][0]["objectives"] = json!([0.5]);
    std::fs::write(t.join("result.json"), r.to_string()).unwrap();
    let e = fails(&["report", s(&t)]);
    assert!(e.contains("objectives"), "{e}");
    r["version"] = json!(99);
    std::fs::write(t.join("result.json"), r.to_string()).unwrap();
    assert!(fails(&["report", s(&t)]).contains("version 99"));

    // Unlabelled inputs.
    let u = tmp("unlabelled");
    let inputs = u.join("x.json");
    std::fs::write(
        &inputs,
        json!({"sequences": bitgru::synth::random_sequences(1, 4, STEPS, INPUT)}).to_string(),
    )
    .unwrap();
    let e = fails(&[
        "search",
        "--model",
        s(&fixture().0),
        "--inputs",
        s(&inputs),
        "--out",
        s(&u.join("o")),
        "--quiet",
    ]);
    assert!(e.contains("labels"), "{e}");
    assert!(!u.join("o").exists());
}

#[test]
fn search_on_real_data_when_present() {
    const TEST: &str = "search_on_real_data_when_present";
    let Some(data) = support::shared_data(TEST) else {
        return;
    };
    if !data.join("speech_commands").is_dir() {
        support::skip(TEST, "../shared/data/speech_commands not found");
        return;
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models/kws4.safetensors");
    let d = tmp("kws4");
    ok(&[
        "search",
        "--task",
        "kws4",
        "--data",
        s(&data),
        "--model",
        s(&model),
        "--pop",
        "8",
        "--gens",
        "2",
        "--seed",
        "1",
        "--subset",
        "120",
        "--qat-epochs",
        "1",
        "--qat-limit",
        "64",
        "--qat-max",
        "2",
        "--out",
        s(&d),
        "--quiet",
    ]);
    let r = result(&d);
    assert_eq!(r["config"]["task"], "kws4");
    assert_eq!(r["fitness"]["split_size"], 483);
    // all-8 on the whole validation split is the accuracy docs/RESULTS.md reports (91.93 %).
    let a8 = r["rescored"][0]["homogeneous"][6]["accuracy"]
        .as_f64()
        .unwrap();
    assert!((a8 - 0.9193).abs() < 0.0005, "{a8}");
    // QAT refinement of two front genomes (the ends), never worse than PTQ.
    let qat = r["qat"]["front"].as_array().unwrap();
    assert_eq!(qat.len(), 2);
    for q in qat {
        assert!(q["qat_accuracy"].as_f64().unwrap() >= q["ptq_accuracy"].as_f64().unwrap());
    }
    // Another task's model is refused, naming both.
    let e = fails(&[
        "search",
        "--task",
        "kws10",
        "--data",
        s(&data),
        "--model",
        s(&model),
        "--out",
        s(&d.join("x")),
        "--quiet",
    ]);
    assert!(e.contains("kws4") && e.contains("kws10"), "{e}");
}
