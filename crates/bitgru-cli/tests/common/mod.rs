//! Helpers shared by the CLI's integration tests (`mod common;` in each test file).
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `bitgru` binary with `args`.
pub fn bitgru(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bitgru"))
        .args(args)
        .output()
        .expect("the bitgru binary runs")
}

/// Runs and expects success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = bitgru(args);
    assert!(
        out.status.success(),
        "bitgru {args:?} failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs and expects a clean failure (exit 1, or clap's 2; no panic, a message); returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = bitgru(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "bitgru {args:?} should fail cleanly: status {:?}, stdout:\n{}\nstderr:\n{err}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !err.contains("panicked"),
        "bitgru {args:?} panicked:\n{err}"
    );
    assert!(!err.trim().is_empty(), "no error message for {args:?}");
    err
}

/// A fresh directory for one test under cargo's per-target temp dir (named after the test
/// binary, so test files never share one).
pub fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bitgru-{}-{name}", env!("CARGO_CRATE_NAME")));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// A path as `&str` (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Writes a small random model with `bitgru demo-model` (seed 7, 10 inputs, 10-step
/// calibration sequences) to `path`.
pub fn demo_model(path: &Path, hidden: usize, classes: usize, n_calib: usize) {
    let (h, c, n) = (hidden.to_string(), classes.to_string(), n_calib.to_string());
    ok(&[
        "demo-model",
        "--seed",
        "7",
        "--input",
        "10",
        "--hidden",
        &h,
        "--classes",
        &c,
        "--steps",
        "10",
        "--n-calib",
        &n,
        "--out",
        s(path),
    ]);
}

/// The committed default model of a task (`assets/models/NAME.safetensors`).
pub fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../assets/models/{name}.safetensors"))
}

/// A 16-bit PCM WAV file (interleaved channels).
pub fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|&x| ((x.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
        .collect();
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
    b.extend_from_slice(&(2 * channels).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    std::fs::write(path, b).unwrap();
}

/// Deterministic noise in [-1, 1) (the project's seeded ChaCha8 generator).
pub fn noise(seed: u64, n: usize) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// kws4's folders (four keywords, `_silence_`, and `left` for `_unknown_`), 4 one-second clips
/// each (a class-specific tone plus a little noise), one clip per class listed for validation,
/// and one background-noise recording.
pub fn synthetic_speech(root: &Path) -> PathBuf {
    let dir = root.join("speech_commands");
    let folders = ["yes", "no", "up", "down", "_silence_", "left"];
    let mut val = String::new();
    for (c, f) in folders.iter().enumerate() {
        std::fs::create_dir_all(dir.join(f)).unwrap();
        for k in 0..4 {
            let hz = 300.0 + 250.0 * c as f32;
            let amp = if *f == "_silence_" { 0.0 } else { 0.4 };
            let n = noise(100 * c as u64 + k, 16_000);
            let x: Vec<f32> = (0..16_000)
                .map(|t| {
                    amp * (2.0 * std::f32::consts::PI * hz * t as f32 / 16_000.0).sin()
                        + 0.02 * n[t]
                })
                .collect();
            let rel = format!("{f}/{:08x}_nohash_{k}.wav", 0xabc0 + c as u32);
            write_wav(&dir.join(&rel), 16_000, 1, &x);
            if k == 0 {
                val += &rel;
                val += "\n";
            }
        }
    }
    std::fs::write(dir.join("validation_list.txt"), val).unwrap();
    std::fs::create_dir_all(dir.join("_background_noise_")).unwrap();
    let bg: Vec<f32> = noise(7, 48_000).iter().map(|v| 0.1 * v).collect();
    write_wav(
        &dir.join("_background_noise_/white_noise.wav"),
        16_000,
        1,
        &bg,
    );
    dir
}
