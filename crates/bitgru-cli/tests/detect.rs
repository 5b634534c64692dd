//! `bitgru detect`: detections of a file (`--wav`, any rate and channel count, JSON events),
//! clear errors, the seeded `--eval` measurement (real data; skips without ../shared) and its
//! sweep of decision settings (synthetic data; always runs).
mod common;
#[path = "../../bitgru/tests/support/mod.rs"]
mod support;
use common::{asset, bitgru, fails, s, synthetic_speech, tmp, write_wav};
use std::path::Path;
use std::process::Output;

fn events(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().expect("a JSON list of events").clone()
}

#[test]
fn detect_wav_quiet_file_has_no_events_and_errors_are_clear() {
    let dir = tmp("quiet");
    let wav = dir.join("quiet.wav");
    // 3 s of faint hiss at 48 kHz, stereo: decoded, mixed, resampled, no keyword.
    let hiss: Vec<f32> = (0..3 * 48_000 * 2)
        .map(|k: u64| ((k * 7919 % 1009) as f32 / 1009.0 - 0.5) * 0.002)
        .collect();
    write_wav(&wav, 48_000, 2, &hiss);
    let w = wav.to_str().unwrap();
    assert!(events(&bitgru(&["detect", "--wav", w, "--json"])).is_empty());
    assert!(events(&bitgru(&["detect", "--wav", w, "--json", "--float"])).is_empty());
    let text = bitgru(&["detect", "--wav", w]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("no keyword detected"));

    let err = |args: &[&str]| {
        let o = bitgru(args);
        assert!(!o.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let missing = dir.join("missing.wav");
    let e = err(&["detect", "--wav", missing.to_str().unwrap()]);
    assert!(e.contains("missing.wav"), "{e}");
    let junk = dir.join("junk.wav");
    std::fs::write(&junk, b"not audio at all").unwrap();
    let e = err(&["detect", "--wav", junk.to_str().unwrap()]);
    assert!(e.contains("decoding") && e.contains("RIFF"), "{e}");
    let e = err(&["detect", "--wav", w, "--threshold", "2"]);
    assert!(e.contains("threshold 2"), "{e}");
    let e = err(&["detect", "--wav", w, "--genome", "12345"]);
    assert!(e.contains("genome"), "{e}");
    let e = err(&["detect", "--wav", w, "--every", "2", "--decay", "0.9"]);
    assert!(e.contains("--every"), "{e}");
    let e = err(&["detect", "--eval", "--task", "kws10"]);
    assert!(e.contains("--data") || e.contains("--out"), "{e}");
    let e = err(&["detect"]);
    assert!(e.contains("--wav"), "{e}");
    // A model without an audio front end.
    let demo = dir.join("demo.safetensors");
    let o = bitgru(&["demo-model", "--out", demo.to_str().unwrap()]);
    assert!(o.status.success());
    let e = err(&["detect", "--wav", w, "--model", demo.to_str().unwrap()]);
    assert!(e.contains("mfcc"), "{e}");
}

#[test]
fn detect_wav_finds_real_keywords_at_any_rate() {
    let Some(data) = support::shared_data("detect_wav_finds_real_keywords_at_any_rate") else {
        return;
    };
    let dir = tmp("real");
    // Two validation clips ("yes", then "stop") with a second of faint noise between them.
    let clip = |word: &str| -> Vec<f32> {
        let list =
            std::fs::read_to_string(data.join("speech_commands/validation_list.txt")).unwrap();
        let path = list
            .lines()
            .find(|l| l.starts_with(&format!("{word}/")))
            .unwrap()
            .to_string();
        let bytes = std::fs::read(data.join("speech_commands").join(path)).unwrap();
        bitgru::audio::decode(&bytes, &bitgru::audio::DecodeOptions::default())
            .unwrap()
            .samples
    };
    let mut x: Vec<f32> = vec![0.0; 8000];
    x.extend(clip("yes"));
    x.extend(vec![0.0; 16000]);
    x.extend(clip("stop"));
    x.extend(vec![0.0; 8000]);
    let gap = 0.5f64;
    let at16 = dir.join("two16k.wav");
    write_wav(&at16, 16_000, 1, &x);
    let hi = bitgru::audio::resample(&x, 16_000, 44_100);
    let stereo: Vec<f32> = hi.iter().flat_map(|&v| [v, v]).collect();
    let at44 = dir.join("two44k.wav");
    write_wav(&at44, 44_100, 2, &stereo);
    for wav in [&at16, &at44] {
        let ev = events(&bitgru(&[
            "detect",
            "--wav",
            wav.to_str().unwrap(),
            "--json",
        ]));
        let words: Vec<&str> = ev.iter().map(|e| e["keyword"].as_str().unwrap()).collect();
        assert_eq!(words, ["yes", "stop"], "{}: {ev:?}", wav.display());
        let t0 = ev[0]["time_s"].as_f64().unwrap();
        let t1 = ev[1]["time_s"].as_f64().unwrap();
        assert!((gap..=gap + 1.25).contains(&t0), "{t0}");
        assert!((gap + 2.0..=gap + 3.25).contains(&t1), "{t1}");
    }
}

/// The threshold `bitgru detect --wav` reports for `model` with `extra` flags.
fn threshold_printed(model: &Path, wav: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "detect",
        "--wav",
        wav.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = bitgru(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let t = text.split("threshold ").nth(1).expect("threshold printed");
    t.lines().next().unwrap().trim().to_string()
}

/// The threshold a model carries (meta `detect_threshold`) is the default of `--wav`; a
/// `--config` file without a threshold keeps it; `--threshold` and a config's own override it.
#[test]
fn the_model_s_own_threshold_is_the_default() {
    let dir = tmp("own-threshold");
    let kws10 = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/models/kws10.safetensors"
    );
    let mut b = bitgru::io::load_bundle(&std::fs::read(kws10).unwrap()).unwrap();
    b.meta.detect_threshold = Some(0.55);
    let model = dir.join("kws10-055.safetensors");
    std::fs::write(&model, bitgru::io::save_bundle(&b).unwrap()).unwrap();
    let wav = dir.join("quiet.wav");
    write_wav(&wav, 16_000, 1, &vec![0.0; 16_000]);
    let threshold_of = |extra: &[&str]| threshold_printed(&model, &wav, extra);
    assert_eq!(threshold_of(&[]), "0.55");
    let o = bitgru(&["inspect", "--model", model.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("default keyword threshold 0.55"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(threshold_of(&["--threshold", "0.9"]), "0.9");
    let cfg = dir.join("cfg.json");
    std::fs::write(&cfg, r#"{"refractory_s": 0.5}"#).unwrap();
    assert_eq!(threshold_of(&["--config", cfg.to_str().unwrap()]), "0.55");
    std::fs::write(&cfg, r#"{"threshold": 0.7}"#).unwrap();
    assert_eq!(threshold_of(&["--config", cfg.to_str().unwrap()]), "0.7");
    // --write-model needs a bundle: a .bitgru file is refused before anything is measured.
    let exported = dir.join("exported");
    let o = bitgru(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--genome",
        "88888888888888888",
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The .bitgru file carries the model meta (JSON training notes and all) and its threshold.
    assert_eq!(
        threshold_printed(&exported.join("model.bitgru"), &wav, &[]),
        "0.55"
    );
    let not_written = dir.join("never.safetensors");
    let o = bitgru(&[
        "detect",
        "--eval",
        "--task",
        "kws10",
        "--data",
        dir.join("no-data").to_str().unwrap(),
        "--out",
        dir.join("no-out").to_str().unwrap(),
        "--model",
        exported.join("model.bitgru").to_str().unwrap(),
        "--write-model",
        not_written.to_str().unwrap(),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && e.contains(".bitgru file"), "{e}");
    assert!(!not_written.exists() && !dir.join("no-out").exists());
    // The built-in model carries its own too (not the library's fallback only).
    let o = bitgru(&["detect", "--wav", wav.to_str().unwrap()]);
    let own = bitgru::io::load_bundle(&std::fs::read(kws10).unwrap())
        .unwrap()
        .meta
        .detect_threshold
        .expect("the default kws10 model stores its threshold");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("threshold {own}")),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn detect_eval_writes_a_seeded_report_and_curve() {
    let Some(data) = support::shared_data("detect_eval_writes_a_seeded_report_and_curve") else {
        return;
    };
    let out = tmp("eval");
    let run = |sub: &str, extra: &[&str]| {
        let dir = out.join(sub);
        let mut args = vec![
            "detect",
            "--task",
            "kws10",
            "--model",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/models/kws10.safetensors"
            ),
            "--data",
            data.to_str().unwrap(),
            "--eval",
            "--limit",
            "20",
            "--seed",
            "3",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = bitgru(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("detect.json")).unwrap()).unwrap();
        let svg = std::fs::read_to_string(dir.join("det.svg")).unwrap();
        (r, svg)
    };
    let (a, svg) = run("a", &[]);
    assert_eq!(a["counts"]["keyword_clips"], 20);
    // --write-model stores the measured (here: given) threshold in a copy of the bundle.
    let written = out.join("with-threshold.safetensors");
    let (w, _) = run(
        "w",
        &[
            "--threshold",
            "0.65",
            "--write-model",
            written.to_str().unwrap(),
        ],
    );
    let back = bitgru::io::load_bundle(&std::fs::read(&written).unwrap()).unwrap();
    assert_eq!(back.meta.detect_threshold, Some(0.65));
    assert_eq!(
        w["operating_point"]["threshold"].as_f64().unwrap() as f32,
        0.65
    );
    assert_eq!(a["seed"], 3);
    let curve = a["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 50);
    for p in curve {
        let d = p["detection_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&d));
        assert_eq!(p["per_keyword"].as_array().unwrap().len(), 10);
        assert!(p["fa_per_hour_unknown"].as_f64().unwrap() >= 0.0);
    }
    assert!(a["durations_s"]["unknown_only"].as_f64().unwrap() > 60.0);
    assert!(
        svg.starts_with("<svg") && svg.contains("polyline") && svg.trim_end().ends_with("</svg>")
    );
    let (b, _) = run("b", &[]);
    assert_eq!(a["curve"], b["curve"], "same seed, same figures");
}

/// `--eval --sweep-*` on a synthetic Speech Commands layout: one row per combination of the
/// lists (in order, margin outermost), each with its best operating point within 10 and 30 FA/h
/// of unknown speech carrying the row's settings; the configured setting's row is the best of
/// the plain curve; a margin of 0 is the same decision against either reference; bad values are
/// refused before anything runs.
#[test]
fn detect_eval_sweeps_decision_settings_on_synthetic_data() {
    let root = tmp("sweep");
    synthetic_speech(&root);
    let model = asset("kws4");
    let out = root.join("out");
    let args = |out: &str, sweep: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "detect",
            "--task",
            "kws4",
            "--model",
            s(&model),
            "--data",
            s(&root),
            "--eval",
            "--limit",
            "4",
            "--out",
            out,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(sweep.iter().map(|x| x.to_string()));
        v
    };
    let run = |sweep: &[&'static str]| {
        let a = args(s(&out), sweep);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = bitgru(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("detect.json")).unwrap()).unwrap();
        (r, text)
    };
    let (r, text) = run(&[
        "--sweep-margin",
        "0,0.5",
        "--sweep-margin-against",
        "unknown,rest",
        "--sweep-hold",
        "1,3",
        "--sweep-unknown-weight",
        "1,2",
    ]);
    assert!(
        text.contains("decision settings (16 replayed over 50 thresholds"),
        "{text}"
    );
    let curve = r["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 50);
    let sweep = &r["sweep"];
    assert_eq!(sweep["thresholds"].as_array().unwrap().len(), 50);
    let rows = sweep["settings"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let key = |fa: u32| format!("best_within_{fa}_fa_per_hour_unknown");
    let mut k = 0;
    for margin in [0.0, 0.5] {
        for against in ["unknown", "rest"] {
            for hold in [1, 3] {
                for weight in [1.0, 2.0] {
                    let row = &rows[k];
                    k += 1;
                    assert_eq!(row["margin"].as_f64().unwrap(), margin);
                    assert_eq!(row["margin_against"], against);
                    assert_eq!(row["hold_frames"], hold);
                    assert_eq!(row["unknown_weight"].as_f64().unwrap(), weight);
                    for fa in [10, 30] {
                        let p = &row[key(fa)];
                        if p.is_null() {
                            continue;
                        }
                        assert!(p["fa_per_hour_unknown"].as_f64().unwrap() <= f64::from(fa));
                        for lever in ["margin", "margin_against", "hold_frames", "unknown_weight"] {
                            assert_eq!(p[lever], row[lever], "{lever} recorded in {p}");
                        }
                    }
                }
            }
        }
    }
    // The plain setting (first row) is the best of the configured curve; margin 0 against the
    // rest (rows 4–7) decides exactly as against unknown (rows 0–3).
    for fa in [10, 30] {
        let best = curve
            .iter()
            .filter(|p| p["fa_per_hour_unknown"].as_f64().unwrap() <= f64::from(fa))
            .map(|p| p["detection_rate"].as_f64().unwrap())
            .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
        assert_eq!(rows[0][key(fa)]["detection_rate"].as_f64(), best);
        for i in 0..4 {
            assert_eq!(
                rows[i][key(fa)]["detection_rate"],
                rows[i + 4][key(fa)]["detection_rate"]
            );
            assert_eq!(
                rows[i][key(fa)]["threshold"],
                rows[i + 4][key(fa)]["threshold"]
            );
        }
    }
    // Without --sweep-*: one row, the configured setting.
    let (plain, _) = run(&[]);
    assert_eq!(plain["sweep"]["settings"].as_array().unwrap().len(), 1);
    assert_eq!(plain["curve"], r["curve"], "same seed, same curve");
    // --fewer-speech-alarms runs (and records) the Listen page's setting.
    let (strict, _) = run(&["--fewer-speech-alarms"]);
    let d = &strict["detector"];
    assert_eq!(d["margin"].as_f64(), Some(0.75), "{d}");
    assert_eq!(d["margin_against"], "unknown");
    assert_eq!(d["unknown_weight"].as_f64(), Some(5.0));
    assert_eq!(plain["detector"]["margin"].as_f64(), Some(0.0));
    // Bad values fail before the streams are built (nothing written).
    let never = root.join("never");
    for (flag, value, said) in [
        ("--sweep-hold", "1,0", "hold_frames = 0"),
        ("--sweep-margin", "1.5", "margin = 1.5"),
        ("--sweep-unknown-weight", "-1", "unknown_weight = -1"),
        ("--sweep-margin-against", "both", "unknown or rest"),
    ] {
        let a = args(s(&never), &[]);
        let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
        let flag_value = format!("{flag}={value}");
        a.push(&flag_value);
        let e = fails(&a);
        assert!(e.contains(said), "{flag} {value}: {e}");
        assert!(!never.exists());
    }
    let e = fails(&["detect", "--wav", "x.wav", "--sweep-hold", "2"]);
    assert!(e.contains("--eval"), "{e}");
}
