//! The batch kernel by stage and by variant (issue 6): where a step's time goes.
//!
//! Shapes: kws10 (T 49, I 10, H 64, 12 classes), row-MNIST (T 28, I 28, H 128, 10 classes) and
//! pixel-MNIST (T 784, I 1, H 64, 10 classes); genome all-8; seeded synthetic model and inputs.
//! For every variant available here, one thread, one tile of the default size (20 sequences at
//! H 64, 8 at H 128; see `PackedGru::default_tile`):
//!
//! - `{shape}/products/{variant}`: the input and recurrent products of one step of the tile
//!   ([`Stage::Products`]);
//! - `{shape}/elementwise/{variant}`: the element-wise stages of one step of the tile
//!   ([`Stage::Elementwise`], from the accumulators of a real step);
//! - `{shape}/sequences/{variant}`: whole sequences through `PackedGru::logits_into` (kws10 and
//!   row-MNIST only; pixel-MNIST's 784 steps make it slow), one tile;
//! - `{shape}/stream_step/{variant}`: one `PackedGru::step_stream` of one sequence.
//!
//! Throughput is in sequences (elements) per second for the stage and sequence groups, so
//! `products` + `elementwise` ≈ one step of the tile. Run:
//! `cargo bench -p bitgru --bench kernel_stages -- --quick` (not run by the test suite).
use bitgru::kernel::{BatchScratch, PackedGru, Stage, StreamState, Variant};
use bitgru::{Calibration, Genome, QuantGru};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

/// (name, steps, input, hidden, classes).
const SHAPES: [(&str, usize, usize, usize, usize); 3] = [
    ("kws10", 49, 10, 64, 12),
    ("row_mnist", 28, 28, 128, 10),
    ("pixel_mnist", 784, 1, 64, 10),
];
const SEED: u64 = 1;

/// The packed all-8 model of a shape and `n` sequences of its codes (`[n, steps, input]`).
fn setup(
    steps: usize,
    input: usize,
    hidden: usize,
    classes: usize,
    n: usize,
) -> (PackedGru, Vec<i8>) {
    let model = bitgru::synth::random_model(SEED, input, hidden, classes);
    let seqs = bitgru::synth::random_sequences(SEED + 1, n, steps, input);
    let views: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
    let calib = Calibration::compute(&model, &views).expect("calibration");
    let q =
        QuantGru::prepare(&model, &calib, &Genome::uniform(8).expect("genome")).expect("prepare");
    let codes = seqs
        .iter()
        .flat_map(|x| q.quantize_input(x).expect("valid input"))
        .collect();
    (PackedGru::pack(&q).expect("pack"), codes)
}

fn stages(c: &mut Criterion) {
    let variants: Vec<Variant> = Variant::ALL.into_iter().filter(|v| v.available()).collect();
    for (name, steps, input, hidden, classes) in SHAPES {
        let probe = setup(1, input, hidden, classes, 1).0;
        let tile = probe.default_tile();
        let (p, codes) = setup(steps, input, hidden, classes, tile);
        let mut group = c.benchmark_group(name);
        group
            .throughput(Throughput::Elements(tile as u64))
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        let mut out = vec![0i32; tile * classes];
        for &v in &variants {
            // A real tile first, so that the accumulators and states hold a step's values.
            let mut s = BatchScratch::with_tile(&p, tile);
            p.logits_into(v, &codes, tile, steps, &mut s, &mut out)
                .expect("valid batch");
            for (stage, label) in [
                (Stage::Products, "products"),
                (Stage::Elementwise, "elementwise"),
            ] {
                group.bench_function(BenchmarkId::new(label, v.name()), |b| {
                    b.iter(|| p.run_stage(v, black_box(stage), &mut s).expect("variant"))
                });
            }
            if steps <= 49 {
                group.bench_function(BenchmarkId::new("sequences", v.name()), |b| {
                    b.iter(|| {
                        p.logits_into(v, black_box(&codes), tile, steps, &mut s, &mut out)
                            .expect("valid batch");
                        black_box(&out);
                    })
                });
            }
            let mut st = StreamState::new(&p, v).expect("variant");
            group.throughput(Throughput::Elements(1));
            group.bench_function(BenchmarkId::new("stream_step", v.name()), |b| {
                b.iter(|| {
                    p.step_stream(black_box(&codes[..input]), &mut st)
                        .expect("step")
                })
            });
            group.throughput(Throughput::Elements(tile as u64));
        }
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
