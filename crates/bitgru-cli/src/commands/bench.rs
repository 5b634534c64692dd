//! `bitgru bench`: integer kernel (1 thread, rayon) vs the float reference, and prepare.
use crate::cli::BenchArgs;
use anyhow::{Context, Result};
use bitgru::{Calibration, Genome, QuantGru, Scratch};
use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The default mixed genome (besides all-8).
pub const MIXED_GENOME: &str = "64576888548886757";

/// Calibration sequences per model (enough for stable ranges, cheap to compute).
const N_CALIB: usize = 64;

#[derive(Debug, Serialize)]
struct Row {
    hidden: usize,
    genome: String,
    /// `QuantGru::prepare` (floats, once per genome), microseconds.
    prepare_us: f64,
    int_single_us_per_seq: f64,
    int_single_seq_per_s: f64,
    int_rayon_us_per_seq: f64,
    int_rayon_seq_per_s: f64,
    float_us_per_seq: f64,
    float_seq_per_s: f64,
    /// float time / integer time, both on one thread.
    speedup_int_vs_float: f64,
    /// integer 1-thread time / integer rayon time.
    speedup_rayon_vs_single: f64,
}

/// Seconds per call of `f`: one warm-up call, then batches of calls doubling until a batch
/// takes at least `min`.
fn time_per_call(min: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut n: u64 = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let e = t.elapsed();
        if e >= min {
            return e.as_secs_f64() / n as f64;
        }
        // Aim past `min` next time, at least doubling.
        let per = e.as_secs_f64().max(1e-9) / n as f64;
        let want = (min.as_secs_f64() * 1.2 / per).ceil() as u64;
        n = want.clamp(n * 2, n.saturating_mul(100));
    }
}

pub fn run(a: &BenchArgs) -> Result<()> {
    let genomes: Vec<Genome> = if a.genome.is_empty() {
        vec![Genome::uniform(8)?, MIXED_GENOME.parse()?]
    } else {
        a.genome.clone()
    };
    let min = Duration::from_millis(a.min_time_ms.max(1));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rayon_threads = rayon::current_num_threads();
    let release = !cfg!(debug_assertions);
    if !release && !a.json {
        eprintln!(
            "note: debug build; use `cargo run --release -p bitgru-cli -- bench` for real numbers"
        );
    }

    let mut rows = Vec::new();
    for &h in &a.hidden {
        let model = bitgru::synth::random_model(a.seed, a.input, h, a.classes);
        let seqs = bitgru::synth::random_sequences(a.seed + 1, a.batch, a.steps, a.input);
        let views: Vec<&[f32]> = seqs.iter().take(N_CALIB).map(Vec::as_slice).collect();
        let calib = Calibration::compute(&model, &views).context("calibrating the bench model")?;
        let float_s = time_per_call(min, || {
            for x in &seqs {
                black_box(model.forward(black_box(x)).expect("valid input"));
            }
        }) / a.batch as f64;
        for g in &genomes {
            let prepare_s = time_per_call(min / 2, || {
                black_box(QuantGru::prepare(&model, &calib, g).expect("prepare"));
            });
            let q = QuantGru::prepare(&model, &calib, g)
                .with_context(|| format!("preparing genome {g}"))?;
            let codes: Vec<Vec<i8>> = seqs
                .iter()
                .map(|x| q.quantize_input(x))
                .collect::<bitgru::Result<_>>()?;
            let mut scratch = Scratch::for_model(&q);
            let single_s = time_per_call(min, || {
                for x in &codes {
                    black_box(q.run(black_box(x), &mut scratch).expect("valid codes"));
                }
            }) / a.batch as f64;
            let rayon_s = time_per_call(min, || {
                black_box(bitgru::eval::predict_batch(&q, black_box(&codes)).expect("valid codes"));
            }) / a.batch as f64;
            rows.push(Row {
                hidden: h,
                genome: g.to_string(),
                prepare_us: prepare_s * 1e6,
                int_single_us_per_seq: single_s * 1e6,
                int_single_seq_per_s: 1.0 / single_s,
                int_rayon_us_per_seq: rayon_s * 1e6,
                int_rayon_seq_per_s: 1.0 / rayon_s,
                float_us_per_seq: float_s * 1e6,
                float_seq_per_s: 1.0 / float_s,
                speedup_int_vs_float: float_s / single_s,
                speedup_rayon_vs_single: single_s / rayon_s,
            });
        }
    }

    if a.json {
        let out = serde_json::json!({
            "machine": {
                "available_parallelism": threads,
                "rayon_threads": rayon_threads,
                "os": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
                "release_build": release,
            },
            "config": {
                "steps": a.steps, "input": a.input, "classes": a.classes, "batch": a.batch,
                "seed": a.seed, "min_time_ms": a.min_time_ms,
            },
            "results": rows,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "machine: {} {}, available parallelism {threads} (rayon {rayon_threads} threads), {} build",
        std::env::consts::OS,
        std::env::consts::ARCH,
        if release { "release" } else { "debug" }
    );
    println!(
        "shape: input {}, steps {}, classes {}, batch {} (seed {})",
        a.input, a.steps, a.classes, a.batch, a.seed
    );
    println!(
        "{:>5}  {:<17}  {:>10}  {:>18}  {:>18}  {:>18}  {:>9}  {:>7}",
        "H",
        "genome",
        "prepare µs",
        "int 1-thr µs (s/s)",
        "int rayon µs (s/s)",
        "float µs (s/s)",
        "int/float",
        "rayon×"
    );
    for r in &rows {
        let cell = |us: f64, sps: f64| format!("{us:.1} ({sps:.0})");
        println!(
            "{:>5}  {:<17}  {:>10.1}  {:>18}  {:>18}  {:>18}  {:>8.2}×  {:>6.2}×",
            r.hidden,
            r.genome,
            r.prepare_us,
            cell(r.int_single_us_per_seq, r.int_single_seq_per_s),
            cell(r.int_rayon_us_per_seq, r.int_rayon_seq_per_s),
            cell(r.float_us_per_seq, r.float_seq_per_s),
            r.speedup_int_vs_float,
            r.speedup_rayon_vs_single
        );
    }
    println!("µs = microseconds per sequence, (s/s) = sequences per second; int/float = float time / integer time on one thread");
    Ok(())
}
