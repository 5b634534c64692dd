//! Seeded synthetic models and data: for tests, benchmarks and the demo model when no trained
//! model is at hand. Every generator takes an explicit seed (ChaCha8).
use crate::model::FloatGru;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Standard normal sample (Box–Muller), so that no distribution crate is needed.
pub fn normal(rng: &mut impl Rng) -> f32 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    ((-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)) as f32
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
        w_hh: draw(3 * hidden * hidden, 0.5 * sh),
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

/// A seeded synthetic classification task: each class has a prototype sequence; a sample is its
/// class prototype plus white noise. Gives random models a meaningful, well-conditioned head
/// (see [`fit_head`]) and the demo a labelled data set.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthTask {
    pub seed: u64,
    pub classes: usize,
    pub steps: usize,
    pub input: usize,
    /// Standard deviation of the additive noise (the prototypes have unit variance).
    pub noise: f32,
    prototypes: Vec<Vec<f32>>,
}

impl SynthTask {
    /// A task with `classes` prototypes of `[steps, input]`.
    pub fn new(seed: u64, classes: usize, steps: usize, input: usize, noise: f32) -> Self {
        let prototypes = random_sequences(seed, classes, steps, input);
        SynthTask {
            seed,
            classes,
            steps,
            input,
            noise,
            prototypes,
        }
    }

    /// `n` labelled samples (labels cycle through the classes, so every class is present).
    pub fn sample(&self, seed: u64, n: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut xs = Vec::with_capacity(n);
        let mut ys = Vec::with_capacity(n);
        for k in 0..n {
            let y = k % self.classes;
            xs.push(
                self.prototypes[y]
                    .iter()
                    .map(|p| p + self.noise * normal(&mut rng))
                    .collect(),
            );
            ys.push(y);
        }
        (xs, ys)
    }
}

/// Fits the classifier head of `model` by ridge regression of one-hot targets on the final
/// float state `[h_T, 1]` (a reservoir-computing readout): `(ΦᵀΦ + λI) W = ΦᵀY`, solved by
/// Cholesky in f64.
pub fn fit_head(
    model: &mut FloatGru,
    seqs: &[Vec<f32>],
    labels: &[usize],
    ridge: f64,
) -> crate::Result<()> {
    if seqs.len() != labels.len() || seqs.is_empty() {
        return Err(crate::Error::length("labels", seqs.len(), labels.len()));
    }
    let (h, c) = (model.hidden, model.classes);
    let d = h + 1;
    let mut a = vec![0f64; d * d];
    let mut b = vec![0f64; d * c];
    for (x, &y) in seqs.iter().zip(labels) {
        if y >= c {
            return Err(crate::Error::invalid("label", format!("{y} ≥ classes {c}")));
        }
        let hs = model.hidden_states(x)?;
        let mut phi: Vec<f64> = hs
            .last()
            .expect("non-empty")
            .iter()
            .map(|&v| v as f64)
            .collect();
        phi.push(1.0);
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] += phi[i] * phi[j];
            }
            b[i * c + y] += phi[i];
        }
    }
    for i in 0..d {
        a[i * d + i] += ridge;
    }
    // Cholesky A = L Lᵀ.
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s <= 0.0 {
                    return Err(crate::Error::invalid(
                        "ridge system",
                        "not positive definite",
                    ));
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    for col in 0..c {
        let mut z = vec![0f64; d];
        for i in 0..d {
            let mut s = b[i * c + col];
            for k in 0..i {
                s -= l[i * d + k] * z[k];
            }
            z[i] = s / l[i * d + i];
        }
        let mut w = vec![0f64; d];
        for i in (0..d).rev() {
            let mut s = z[i];
            for k in i + 1..d {
                s -= l[k * d + i] * w[k];
            }
            w[i] = s / l[i * d + i];
        }
        for (dst, src) in model.w_fc[col * h..(col + 1) * h].iter_mut().zip(&w) {
            *dst = *src as f32;
        }
        model.b_fc[col] = w[h] as f32;
    }
    Ok(())
}

/// The synthetic task that [`task_model`]`(seed, …)` is fitted to (regenerate it from the seed
/// to get labelled samples for a stored demo model).
pub fn task_of_model(seed: u64, input: usize, classes: usize, steps: usize) -> SynthTask {
    SynthTask::new(seed ^ 0x7A5C, classes, steps, input, 1.0)
}

/// A random GRU with a head fitted to a synthetic task: the demo and test model. Returns the
/// model and the task (seeded: same seed, same model).
pub fn task_model(
    seed: u64,
    input: usize,
    hidden: usize,
    classes: usize,
    steps: usize,
) -> (FloatGru, SynthTask) {
    let mut m = random_model(seed, input, hidden, classes);
    let task = task_of_model(seed, input, classes, steps);
    let (xs, ys) = task.sample(seed ^ 0xF17, 40 * classes);
    fit_head(&mut m, &xs, &ys, 1e-2).expect("ridge system of a random model is positive definite");
    (m, task)
}

/// PyTorch's default initialization of `nn.GRU` + `nn.Linear`: every tensor
/// `U(−1/√H, 1/√H)` (the head with its fan-in H as well), seeded. The starting point of training.
pub fn pytorch_init(seed: u64, input: usize, hidden: usize, classes: usize) -> FloatGru {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = 1.0 / (hidden as f32).sqrt();
    let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-k..k)).collect() };
    FloatGru {
        input_size: input,
        hidden,
        classes,
        w_ih: draw(3 * hidden * input),
        w_hh: draw(3 * hidden * hidden),
        b_ih: draw(3 * hidden),
        b_hh: draw(3 * hidden),
        w_fc: draw(classes * hidden),
        b_fc: draw(classes),
    }
}
