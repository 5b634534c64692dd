//! Seeded synthetic models and data: for tests, benchmarks and the demo model when no trained
//! model is at hand. Every generator takes an explicit seed (ChaCha8).
use crate::model::FloatGru;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Standard normal sample (Box–Muller), so that no distribution crate is needed.
pub fn normal(rng: &mut impl Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// A well-conditioned random GRU + head: weights ~ N(0, gain²/fan_in), so that gates are neither
/// saturated nor constant and the state neither explodes nor dies; head weights larger so that
/// logit margins are not razor thin.
pub fn random_model(seed: u64, input: usize, hidden: usize, classes: usize) -> FloatGru {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw =
        |n: usize, std: f32| -> Vec<f32> { (0..n).map(|_| normal(&mut rng) * std).collect() };
    let si = 1.0 / (input as f32).sqrt();
    let sh = 1.0 / (hidden as f32).sqrt();
    FloatGru {
        input_size: input,
        hidden,
        classes,
        w_ih: draw(3 * hidden * input, 1.0 * si),
        w_hh: draw(3 * hidden * hidden, 0.8 * sh),
        b_ih: draw(3 * hidden, 0.2),
        b_hh: draw(3 * hidden, 0.2),
        w_fc: draw(classes * hidden, 3.0 * sh),
        b_fc: draw(classes, 0.1),
    }
}

/// `n` random sequences `[steps, input]` with N(0,1) features.
pub fn random_sequences(seed: u64, n: usize, steps: usize, input: usize) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..steps * input).map(|_| normal(&mut rng)).collect())
        .collect()
}
