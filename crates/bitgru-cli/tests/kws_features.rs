//! `bitgru train --n-mfcc / --n-mels / --fmax` on a synthetic Speech Commands layout (WAV clips written
//! to a temp dir, so the test never needs ../shared): the bundle records the MFCC front end and
//! takes that many inputs, `eval`, `qat` and `features` featurize the task's data with it, a
//! resume keeps it, and bad values are refused with a message that says why.
mod common;
use common::{bitgru, fails, ok, s, synthetic_speech, tmp};

fn train_args<'a>(data: &'a str, out: &'a str, ck: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--task",
        "kws4",
        "--data",
        data,
        "--out",
        out,
        "--checkpoint",
        ck,
        "--hidden",
        "8",
        "--batch",
        "8",
        "--warmup",
        "0",
        "--seed",
        "3",
        "--quiet",
    ]
}

#[test]
fn n_mfcc_is_trained_recorded_evaluated_and_resumed() {
    let root = tmp("n-mfcc");
    synthetic_speech(&root);
    let (data, out, ck) = (
        s(&root).to_string(),
        s(&root.join("m13.safetensors")).to_string(),
        s(&root.join("m13.ckpt.json")).to_string(),
    );
    let mut args = train_args(&data, &out, &ck);
    args.extend([
        "--epochs", "1", "--n-mfcc", "13", "--n-mels", "32", "--fmax", "7000",
    ]);
    ok(&args);

    // The bundle: 13 inputs, an MFCC front end of 13 coefficients of 32 bands.
    let b = bitgru::io::load_bundle(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(b.model.input_size, 13);
    let cfg = b.meta.features.mfcc().expect("an MFCC front end");
    assert_eq!((cfg.n_mfcc, cfg.n_mels, cfg.fmax), (13, 32, 7000.0));
    assert_eq!(b.meta.features.input(), Some(13));
    assert_eq!(b.meta.features.steps(), Some(49));
    b.meta.features.check_model(b.model.input_size).unwrap();
    // The checkpoint records it (config.mfcc) for a resume.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&ck).unwrap()).unwrap();
    assert_eq!(v["config"]["mfcc"]["n_mfcc"], 13);
    assert_eq!(v["config"]["mfcc"]["n_mels"], 32);
    assert_eq!(v["config"]["mfcc"]["fmax"], 7000.0);

    // eval featurizes the task's data with the model's front end (6 validation clips).
    for mode in [&["--float"][..], &["--genome", "88888888888888888"][..]] {
        let mut e = vec![
            "eval", "--task", "kws4", "--model", &out, "--data", &data, "--json",
        ];
        e.extend(mode);
        let v: serde_json::Value = serde_json::from_str(&ok(&e)).unwrap();
        assert_eq!(v["dims"]["input"], 13, "{v}");
        assert!(v["accuracy"].is_number(), "{v}");
        let clips: u64 = v["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap())
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(clips, 6, "{v}");
    }
    // So do features (with the model's codes) and qat.
    let feats = root.join("f.json");
    ok(&[
        "features",
        "--task",
        "kws4",
        "--data",
        &data,
        "--model",
        &out,
        "--out",
        s(&feats),
    ]);
    let f: serde_json::Value = serde_json::from_slice(&std::fs::read(&feats).unwrap()).unwrap();
    assert_eq!(f["input_size"], 13);
    ok(&[
        "qat",
        "--task",
        "kws4",
        "--model",
        &out,
        "--data",
        &data,
        "--genome",
        "88888888888888888",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        s(&root.join("q13.safetensors")),
    ]);

    // A resume keeps the checkpoint's features and refuses others, naming both.
    let mut again = train_args(&data, &out, &ck);
    again.extend(["--epochs", "2", "--resume", "--n-mfcc", "20"]);
    let err = fails(&again);
    assert!(
        err.contains("--n-mfcc 13") && err.contains("--n-mfcc 20"),
        "{err}"
    );
    let mut again = train_args(&data, &out, &ck);
    again.extend(["--epochs", "2", "--resume"]);
    ok(&again);
    let b = bitgru::io::load_bundle(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(b.model.input_size, 13);
    assert_eq!(b.meta.features.mfcc().unwrap().n_mels, 32);

    // The default features leave the checkpoint's config as before (no "mfcc" key).
    let ck10 = s(&root.join("m10.ckpt.json")).to_string();
    let out10 = s(&root.join("m10.safetensors")).to_string();
    let mut args = train_args(&data, &out10, &ck10);
    args.extend(["--epochs", "1"]);
    ok(&args);
    let text = std::fs::read_to_string(&ck10).unwrap();
    assert!(!text.contains("\"mfcc\""), "{text:.300}");
    let b = bitgru::io::load_bundle(&std::fs::read(&out10).unwrap()).unwrap();
    assert_eq!(b.model.input_size, 10);
    assert_eq!(b.meta.features, bitgru::frontend::FrontEnd::default_mfcc());
}

#[test]
fn bad_n_mfcc_and_n_mels_are_refused_before_loading() {
    let root = tmp("n-mfcc-bad");
    let (out, ck) = (
        s(&root.join("m.safetensors")).to_string(),
        s(&root.join("m.ckpt.json")).to_string(),
    );
    // No data is needed: the flags are checked first.
    let data = s(&root.join("missing")).to_string();
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--n-mfcc", "0"],
            &["--n-mfcc 0", "at least 1 cepstral coefficient"],
        ),
        (&["--n-mfcc", "41"], &["41", "more than the 40 mel bands"]),
        (
            &["--n-mfcc", "20", "--n-mels", "16"],
            &["20", "more than the 16 mel bands"],
        ),
        (&["--n-mels", "0"], &["--n-mels 0", "at least 1 mel band"]),
        (&["--n-mels", "400"], &["covers no FFT bin"]),
        (
            &["--fmax", "9000"],
            &["--fmax 9000", "at most half the sample rate (8000 Hz)"],
        ),
        (
            &["--fmax", "10"],
            &["--fmax 10", "above its lower edge (20 Hz)"],
        ),
    ];
    for (extra, want) in cases {
        let mut args = train_args(&data, &out, &ck);
        args.extend(extra);
        let err = fails(&args);
        for w in want {
            assert!(err.contains(w), "{extra:?}: {err}");
        }
    }
    let err = fails(&[
        "train",
        "--task",
        "row-mnist",
        "--data",
        &data,
        "--out",
        &out,
        "--n-mfcc",
        "13",
    ]);
    assert!(
        err.contains("kws4, kws10") && err.contains("row-mnist"),
        "{err}"
    );
    let help = String::from_utf8(bitgru(&["train", "--help"]).stdout).unwrap();
    for flag in ["--n-mfcc", "--n-mels", "--fmax"] {
        assert!(help.contains(flag), "{help}");
    }
}
