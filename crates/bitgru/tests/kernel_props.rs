//! Property tests of the integer kernel against the fake-quant simulation and the float model.
use bitgru::fakequant::FakeQuant;
use bitgru::synth::{random_model, random_sequences};
use bitgru::{Calibration, Genome, QuantGru, Scratch, N_GENES};
use proptest::prelude::*;

fn calibrated(
    seed: u64,
    i: usize,
    h: usize,
    c: usize,
    steps: usize,
) -> (bitgru::FloatGru, Calibration) {
    let m = random_model(seed, i, h, c);
    let cal_seqs = random_sequences(seed ^ 0xCA1, 64, steps, i);
    let refs: Vec<&[f32]> = cal_seqs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs).unwrap();
    (m, cal)
}

/// Compares integer and fake-quant codes of every stage; returns (mismatched codes, total codes,
/// largest |difference|, predictions equal).
fn compare(q: &QuantGru, x: &[i8]) -> (usize, usize, i32, bool) {
    let mut int_codes: Vec<Vec<Vec<i32>>> = Vec::new();
    let mut s = Scratch::for_model(q);
    let li = q
        .run_observed(x, &mut s, |_, c| int_codes.push(c.to_vec()))
        .unwrap();
    let fq = FakeQuant::new(q);
    let mut fq_codes: Vec<Vec<Vec<i32>>> = Vec::new();
    let lf = fq
        .run_observed(x, |_, c| fq_codes.push(c.to_vec()))
        .unwrap();
    let (mut bad, mut total, mut worst) = (0, 0, 0);
    for (a, b) in int_codes.iter().zip(&fq_codes) {
        for g in 0..N_GENES {
            for (u, v) in a[g].iter().zip(&b[g]) {
                total += 1;
                if u != v {
                    bad += 1;
                    worst = worst.max((u - v).abs());
                }
            }
        }
    }
    let pi = bitgru::model::argmax_i32(&li);
    let mut pf = 0;
    for (k, v) in lf.iter().enumerate() {
        if *v > lf[pf] {
            pf = k;
        }
    }
    (bad, total, worst, pi == pf)
}

fn genome_strategy() -> impl Strategy<Value = Genome> {
    proptest::array::uniform17(2u8..=8)
        .prop_map(|b| Genome::new(b, bitgru::BitRange::FULL).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: proptest::test_runner::RngSeed::Fixed(0xB17), ..ProptestConfig::default() })]

    /// (a) integer and fake-quant: identical predictions, per-stage codes equal up to ±1 LSB.
    #[test]
    fn integer_matches_fakequant(genome in genome_strategy(), seed in 0u64..1000, h in 4usize..24, i in 1usize..12) {
        let (m, cal) = calibrated(seed, i, h, 5, 12);
        let q = QuantGru::prepare(&m, &cal, &genome).unwrap();
        for x in random_sequences(seed + 7, 4, 12, i) {
            let codes = q.quantize_input(&x).unwrap();
            let (bad, total, worst, same) = compare(&q, &codes);
            prop_assert!(worst <= 1, "difference {worst} > 1 LSB for {genome}");
            prop_assert!(bad * 1000 <= total, "{bad}/{total} codes differ for {genome}");
            prop_assert!(same, "prediction differs for {genome}");
        }
    }
}

/// Measures the ±1 LSB rate over many random genomes and sequences, and states it.
#[test]
fn lsb_mismatch_rate_is_small() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let (mut bad, mut total, mut pred_diff, mut n) = (0usize, 0usize, 0usize, 0usize);
    for k in 0..40u64 {
        let bits: [u8; 17] = std::array::from_fn(|_| rng.gen_range(2..=8));
        let g = Genome::new(bits, bitgru::BitRange::FULL).unwrap();
        let (m, cal) = calibrated(100 + k, 10, 32, 6, 20);
        let q = QuantGru::prepare(&m, &cal, &g).unwrap();
        for x in random_sequences(500 + k, 10, 20, 10) {
            let (b, t, worst, same) = compare(&q, &q.quantize_input(&x).unwrap());
            assert!(worst <= 1);
            bad += b;
            total += t;
            n += 1;
            pred_diff += (!same) as usize;
        }
    }
    eprintln!("±1 LSB mismatch rate: {bad}/{total} codes = {:.2e}; predictions differing: {pred_diff}/{n}", bad as f64 / total as f64);
    assert_eq!(pred_diff, 0);
    assert!((bad as f64 / total as f64) < 1e-4);
}

/// (b) at all-8 the integer model agrees with the float model on ≥ 99 % of random sequences of
/// a well-conditioned random model: a random GRU whose head is fitted (ridge readout) to a
/// seeded synthetic task, evaluated on fresh random samples of that task.
#[test]
fn all8_agrees_with_float() {
    let (mut agree_all, mut n_all) = (0usize, 0usize);
    for (seed, h, c) in [
        (2024u64, 32usize, 6usize),
        (7, 64, 12),
        (99, 16, 4),
        (5, 48, 10),
    ] {
        let (m, task) = bitgru::synth::task_model(seed, 10, h, c, 49);
        let (cal_x, _) = task.sample(seed + 1, 64);
        let refs: Vec<&[f32]> = cal_x.iter().map(|v| v.as_slice()).collect();
        let cal = Calibration::compute(&m, &refs).unwrap();
        let q = QuantGru::prepare(&m, &cal, &Genome::uniform(8).unwrap()).unwrap();
        let (xs, ys) = task.sample(seed + 2, 600);
        let mut s = Scratch::for_model(&q);
        let (mut agree, mut acc_f, mut acc_q) = (0, 0, 0);
        for (x, &y) in xs.iter().zip(&ys) {
            let pf = m.predict(x).unwrap();
            let pq = q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap();
            agree += (pf == pq) as usize;
            acc_f += (pf == y) as usize;
            acc_q += (pq == y) as usize;
        }
        let rate = agree as f64 / xs.len() as f64;
        eprintln!("H={h} C={c}: all-8 integer vs float agreement {agree}/{} = {rate:.4}; accuracy float {acc_f}, int {acc_q}", xs.len());
        assert!(rate >= 0.98, "agreement {rate} for H={h} C={c}");
        // The head really is fitted: far above chance; the integer model keeps the accuracy.
        assert!(
            acc_f as f64 > 0.8 * xs.len() as f64,
            "float accuracy {acc_f}"
        );
        assert!(
            acc_q + 6 >= acc_f,
            "integer accuracy {acc_q} vs float {acc_f}"
        );
        agree_all += agree;
        n_all += xs.len();
    }
    let rate = agree_all as f64 / n_all as f64;
    eprintln!("pooled all-8 agreement {agree_all}/{n_all} = {rate:.4}");
    assert!(rate >= 0.99, "pooled agreement {rate}");
}

/// For reference: agreement on pure-noise inputs, where logit margins are small (not asserted
/// at 99 %: a random head on noise has many near-ties).
#[test]
fn all8_on_noise_inputs() {
    let (m, cal) = calibrated(2024, 10, 32, 6, 49);
    let q = QuantGru::prepare(&m, &cal, &Genome::uniform(8).unwrap()).unwrap();
    let seqs = random_sequences(77, 400, 49, 10);
    let mut s = Scratch::for_model(&q);
    let agree = seqs
        .iter()
        .filter(|x| {
            m.predict(x).unwrap() == q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap()
        })
        .count();
    eprintln!("all-8 on noise inputs: {agree}/{}", seqs.len());
    assert!(agree as f64 >= 0.95 * seqs.len() as f64);
}

/// Lower precision must cost agreement: a 2-bit model is measurably worse than an 8-bit one
/// (guards against a kernel that ignores the genome).
#[test]
fn fewer_bits_degrade_agreement() {
    let (m, cal) = calibrated(2024, 10, 32, 6, 49);
    let seqs = random_sequences(78, 200, 49, 10);
    let agree = |g: Genome| {
        let q = QuantGru::prepare(&m, &cal, &g).unwrap();
        let mut s = Scratch::for_model(&q);
        seqs.iter()
            .filter(|x| {
                m.predict(x).unwrap() == q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap()
            })
            .count()
    };
    let a8 = agree(Genome::uniform(8).unwrap());
    let a2 = agree(Genome::uniform(2).unwrap());
    eprintln!("agreement all-8 {a8}/200, all-2 {a2}/200");
    assert!(a2 + 20 < a8, "all-2 {a2} vs all-8 {a8}");
}
