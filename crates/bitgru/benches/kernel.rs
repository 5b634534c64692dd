//! Integer kernel vs float reference, and the cost of `QuantGru::prepare`.
//!
//! Shapes: H ∈ {32, 64, 128}, T = 49 steps, input 10, 6 classes, batches of 64 seeded synthetic
//! sequences; genomes all-8 and the mixed `64576888548886757`. Groups:
//!
//! - `eval_h{H}/float`: `FloatGru::forward` over the batch, one thread;
//! - `eval_h{H}/int_single/{genome}`: the integer kernel over the batch, one thread, one
//!   reused [`Scratch`] (inputs quantized beforehand);
//! - `eval_h{H}/int_predict_batch/{genome}`: [`bitgru::eval::predict_batch`] (rayon with the
//!   `parallel` feature, the default);
//! - `prepare/{genome}/{H}`: [`QuantGru::prepare`] (what a GA fitness evaluation costs besides
//!   the kernel).
//!
//! Throughput is reported in sequences (elements) per second; µs per sequence = time / 64.
//! Run: `cargo bench -p bitgru --bench kernel -- --quick`.
use bitgru::{Calibration, FloatGru, Genome, QuantGru, Scratch};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

const HIDDEN: [usize; 3] = [32, 64, 128];
const STEPS: usize = 49;
const INPUT: usize = 10;
const CLASSES: usize = 6;
const BATCH: usize = 64;
const SEED: u64 = 1;
const GENOMES: [(&str, &str); 2] = [
    ("all8", "88888888888888888"),
    ("mixed", "64576888548886757"),
];

/// A seeded model, its calibration (on the batch itself) and the float batch.
fn setup(hidden: usize) -> (FloatGru, Calibration, Vec<Vec<f32>>) {
    let model = bitgru::synth::random_model(SEED, INPUT, hidden, CLASSES);
    let seqs = bitgru::synth::random_sequences(SEED + 1, BATCH, STEPS, INPUT);
    let views: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
    let calib = Calibration::compute(&model, &views).expect("calibration");
    (model, calib, seqs)
}

fn genome(s: &str) -> Genome {
    s.parse().expect("valid genome")
}

fn eval(c: &mut Criterion) {
    for h in HIDDEN {
        let (model, calib, seqs) = setup(h);
        let mut group = c.benchmark_group(format!("eval_h{h}"));
        group
            .throughput(Throughput::Elements(BATCH as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        group.bench_function("float", |b| {
            b.iter(|| {
                for x in &seqs {
                    black_box(model.forward(black_box(x)).expect("valid input"));
                }
            })
        });
        for (name, g) in GENOMES {
            let q = QuantGru::prepare(&model, &calib, &genome(g)).expect("prepare");
            let codes: Vec<Vec<i8>> = seqs
                .iter()
                .map(|x| q.quantize_input(x).expect("valid input"))
                .collect();
            let mut scratch = Scratch::for_model(&q);
            group.bench_function(BenchmarkId::new("int_single", name), |b| {
                b.iter(|| {
                    for x in &codes {
                        black_box(q.run(black_box(x), &mut scratch).expect("valid codes"));
                    }
                })
            });
            group.bench_function(BenchmarkId::new("int_predict_batch", name), |b| {
                b.iter(|| {
                    black_box(bitgru::eval::predict_batch(&q, black_box(&codes)).expect("codes"))
                })
            });
        }
        group.finish();
    }
}

fn prepare(c: &mut Criterion) {
    let mut group = c.benchmark_group("prepare");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for h in HIDDEN {
        let (model, calib, _) = setup(h);
        for (name, g) in GENOMES {
            let g = genome(g);
            group.bench_with_input(BenchmarkId::new(name, h), &g, |b, g| {
                b.iter(|| black_box(QuantGru::prepare(&model, &calib, black_box(g)).expect("ok")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, eval, prepare);
criterion_main!(benches);
