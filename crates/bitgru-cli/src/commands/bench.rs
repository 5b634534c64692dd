//! `bitgru bench`: the integer kernels (scalar reference, batch variants on one thread, the
//! fastest variant on all threads, the streaming step) vs the float reference, and prepare/pack.
use crate::cli::BenchArgs;
use anyhow::{Context, Result};
use bitgru::eval::CodeBatch;
use bitgru::kernel::{BatchScratch, PackedGru, StreamState, Variant};
use bitgru::{Calibration, Genome, QuantGru, Scratch};
use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The default mixed genome (besides all-8).
pub const MIXED_GENOME: &str = "64576888548886757";

/// Calibration sequences per model (enough for stable ranges, cheap to compute).
const N_CALIB: usize = 64;

#[derive(Debug, Serialize)]
struct VariantRow {
    variant: &'static str,
    us_per_seq: f64,
    seq_per_s: f64,
}

#[derive(Debug, Serialize)]
struct Row {
    hidden: usize,
    genome: String,
    /// `QuantGru::prepare` (floats, once per genome), microseconds.
    prepare_us: f64,
    /// `PackedGru::pack` (after prepare), microseconds.
    pack_us: f64,
    /// Scalar reference kernel (`QuantGru::run`), one thread (absent with --kernel-only).
    reference_seq_per_s: Option<f64>,
    /// Batch kernel of each variant, one thread (`PackedGru::logits_into`).
    batch_1thread: Vec<VariantRow>,
    /// Fastest variant on all threads (`eval::logits_packed`).
    batch_all_threads: VariantRow,
    threads: usize,
    /// One streaming step of one sequence (`PackedGru::step_stream`), fastest variant, µs.
    stream_step_us: f64,
    /// Float reference (`FloatGru::forward`), one thread (absent with --kernel-only).
    float_seq_per_s: Option<f64>,
    /// Int8 multiply-adds per sequence (the six linears and the head).
    macs_per_seq: usize,
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
    let variants: Vec<Variant> = if a.variants.is_empty() {
        Variant::ALL
            .iter()
            .copied()
            .filter(|v| v.available())
            .collect()
    } else {
        a.variants.clone()
    };
    if let Some(v) = variants.iter().find(|v| !v.available()) {
        anyhow::bail!(
            "kernel variant {} is not available on this machine",
            v.name()
        );
    }
    let min = Duration::from_millis(a.min_time_ms.max(1));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(cores))
        .build()
        .context("building the thread pool")?;
    let release = !cfg!(debug_assertions);
    if !release && !a.json {
        eprintln!(
            "note: debug build; use `cargo run --release -p bitgru-cli -- bench` for real numbers"
        );
    }
    let best = Variant::best();

    let mut rows = Vec::new();
    for &h in &a.hidden {
        let model = bitgru::synth::random_model(a.seed, a.input, h, a.classes);
        let seqs = bitgru::synth::random_sequences(a.seed + 1, a.batch, a.steps, a.input);
        let views: Vec<&[f32]> = seqs.iter().take(N_CALIB).map(Vec::as_slice).collect();
        let calib = Calibration::compute(&model, &views).context("calibrating the bench model")?;
        let float_s = (!a.kernel_only).then(|| {
            time_per_call(min, || {
                for x in &seqs {
                    black_box(model.forward(black_box(x)).expect("valid input"));
                }
            }) / a.batch as f64
        });
        for g in &genomes {
            let prepare_s = time_per_call(min / 2, || {
                black_box(QuantGru::prepare(&model, &calib, g).expect("prepare"));
            });
            let q = QuantGru::prepare(&model, &calib, g)
                .with_context(|| format!("preparing genome {g}"))?;
            let pack_s = time_per_call(min / 2, || {
                black_box(PackedGru::pack(&q).expect("pack"));
            });
            let p = PackedGru::pack(&q)?;
            let codes: Vec<Vec<i8>> = seqs
                .iter()
                .map(|x| q.quantize_input(x))
                .collect::<bitgru::Result<_>>()?;
            let batch = CodeBatch::from_seqs(&codes, a.input)?;
            let reference_s = (!a.kernel_only).then(|| {
                let mut scratch = Scratch::for_model(&q);
                time_per_call(min, || {
                    for x in &codes {
                        black_box(q.run(black_box(x), &mut scratch).expect("valid codes"));
                    }
                }) / a.batch as f64
            });
            let mut batch_1thread = Vec::new();
            let mut out = vec![0i32; a.batch * a.classes];
            for &v in &variants {
                let mut s = BatchScratch::new(&p);
                let t = time_per_call(min, || {
                    p.logits_into(
                        v,
                        black_box(&batch.codes),
                        batch.n,
                        batch.steps,
                        &mut s,
                        &mut out,
                    )
                    .expect("valid batch");
                    black_box(&out);
                }) / a.batch as f64;
                batch_1thread.push(VariantRow {
                    variant: v.name(),
                    us_per_seq: t * 1e6,
                    seq_per_s: 1.0 / t,
                });
            }
            let all_s = pool.install(|| {
                time_per_call(min, || {
                    black_box(bitgru::eval::logits_packed(&p, black_box(&batch)).expect("valid"));
                })
            }) / a.batch as f64;
            let mut st = StreamState::new(&p, best)?;
            let x0 = &batch.codes[..a.input];
            let stream_s = time_per_call(min / 2, || {
                for _ in 0..100 {
                    p.step_stream(black_box(x0), &mut st).expect("valid step");
                }
            }) / 100.0;
            rows.push(Row {
                hidden: h,
                genome: g.to_string(),
                prepare_us: prepare_s * 1e6,
                pack_us: pack_s * 1e6,
                reference_seq_per_s: reference_s.map(|t| 1.0 / t),
                batch_1thread,
                batch_all_threads: VariantRow {
                    variant: best.name(),
                    us_per_seq: all_s * 1e6,
                    seq_per_s: 1.0 / all_s,
                },
                threads: pool.current_num_threads(),
                stream_step_us: stream_s * 1e6,
                float_seq_per_s: float_s.map(|t| 1.0 / t),
                macs_per_seq: a.steps * 3 * h * (a.input + h) + h * a.classes,
            });
        }
    }

    if a.json {
        let out = serde_json::json!({
            "machine": {
                "available_parallelism": cores,
                "threads": pool.current_num_threads(),
                "os": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
                "release_build": release,
                "best_variant": best.name(),
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
        "machine: {} {}, available parallelism {cores} ({} threads used), best kernel variant {}, {} build",
        std::env::consts::OS,
        std::env::consts::ARCH,
        pool.current_num_threads(),
        best.name(),
        if release { "release" } else { "debug" }
    );
    println!(
        "shape: input {}, steps {}, classes {}, batch {} (seed {}); sequences per second",
        a.input, a.steps, a.classes, a.batch, a.seed
    );
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
    for r in &rows {
        println!(
            "H {:>4}  {:<17}  prepare {:.1} µs  pack {:.1} µs  float {}  reference {}  stream step {:.2} µs",
            r.hidden,
            r.genome,
            r.prepare_us,
            r.pack_us,
            opt(r.float_seq_per_s),
            opt(r.reference_seq_per_s),
            r.stream_step_us
        );
        for v in &r.batch_1thread {
            let vs =
                |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.2}×", v.seq_per_s / x));
            println!(
                "    batch {:<12} 1 thread  {:>10.0} seq/s  ({:.2} µs/seq)  vs float {}  vs reference {}",
                v.variant,
                v.seq_per_s,
                v.us_per_seq,
                vs(r.float_seq_per_s),
                vs(r.reference_seq_per_s)
            );
        }
        println!(
            "    batch {:<12} {} threads {:>10.0} seq/s",
            r.batch_all_threads.variant, r.threads, r.batch_all_threads.seq_per_s
        );
    }
    Ok(())
}
