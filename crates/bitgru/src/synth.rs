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

/// How the input codes of a [`KernelCase`] are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseInputs {
    /// Random normal features quantized by the model's input scales.
    Quantized,
    /// Uniform over all 8-bit codes.
    Uniform,
    /// Only the extreme codes −128 and 127.
    Saturating,
}

/// A random test case for the integer kernels: a prepared model of any genome and shape and a
/// `[n, steps, input]` batch of input codes. With `extreme`, the prepared model is then pushed to
/// its limits (weights at the extremes of their bit widths, biases up to ±2^30) so that every
/// accumulator and saturation bound is exercised.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCase {
    pub bits: [u8; crate::N_GENES],
    pub seed: u64,
    pub input: usize,
    pub hidden: usize,
    pub classes: usize,
    pub n: usize,
    pub steps: usize,
    pub inputs: CaseInputs,
    pub extreme: bool,
    /// Sequences per tile of the batch kernel (0: its default).
    pub tile: usize,
}

impl KernelCase {
    /// A case drawn from `seed`: any genome (bits 2–8), H in 1..=256 (odd sizes included),
    /// I in 1..=64, batch sizes 1, 2, 7, 64 or 300; the number of steps shrinks with the work.
    pub fn random(seed: u64) -> KernelCase {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let bits = std::array::from_fn(|_| rng.gen_range(2..=8u8));
        let hidden = match rng.gen_range(0..4) {
            0 => rng.gen_range(1..=8),
            1 => rng.gen_range(9..=80),
            2 => rng.gen_range(81..=256),
            _ => [1, 16, 63, 64, 65, 128, 255, 256][rng.gen_range(0..8)],
        };
        let input = match rng.gen_range(0..3) {
            0 => rng.gen_range(1..=4),
            1 => rng.gen_range(5..=64),
            _ => [1, 3, 4, 10, 28, 64][rng.gen_range(0..6)],
        };
        let n = [1, 2, 7, 64, 300][rng.gen_range(0..5)];
        let budget = 30_000 / (n * hidden).max(1);
        let steps = rng.gen_range(1..=budget.clamp(1, 6));
        let inputs = [
            CaseInputs::Quantized,
            CaseInputs::Uniform,
            CaseInputs::Saturating,
        ][rng.gen_range(0..3)];
        KernelCase {
            bits,
            seed: rng.gen(),
            input,
            hidden,
            classes: rng.gen_range(1..=12),
            n,
            steps,
            inputs,
            extreme: rng.gen_bool(0.3),
            tile: [0, 1, 3, 16][rng.gen_range(0..4)],
        }
    }

    /// The prepared model and the input codes.
    pub fn build(&self) -> crate::Result<(crate::QuantGru, Vec<i8>)> {
        let m = random_model(self.seed, self.input, self.hidden, self.classes);
        let cal_x = random_sequences(self.seed ^ 0xCA1, 4, 3, self.input);
        let refs: Vec<&[f32]> = cal_x.iter().map(|v| v.as_slice()).collect();
        let cal = crate::Calibration::compute(&m, &refs)?;
        let genome = crate::Genome::new(self.bits, crate::BitRange::FULL)?;
        let mut q = crate::QuantGru::prepare(&m, &cal, &genome)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5EED);
        if self.extreme {
            let lim = crate::quant::BIAS_LIMIT as i32;
            for l in &mut q.lin {
                let hi = crate::fixed::qmax_signed(l.bits);
                let mode = rng.gen_range(0..3);
                for w in &mut l.w {
                    *w = match mode {
                        0 => -hi - 1,
                        1 => hi,
                        _ => [-hi - 1, hi][rng.gen_range(0..2)],
                    } as i8;
                }
                for b in &mut l.bias {
                    *b = match rng.gen_range(0..3) {
                        0 => lim,
                        1 => -lim,
                        _ => rng.gen_range(-lim..=lim),
                    };
                }
            }
            for w in &mut q.head.w {
                *w = [-128i8, 127][rng.gen_range(0..2)];
            }
            q.validate()?;
        }
        let len = self.n * self.steps * self.input;
        let codes = match self.inputs {
            CaseInputs::Quantized => {
                random_sequences(self.seed ^ 0x1A, self.n, self.steps, self.input)
                    .iter()
                    .map(|x| q.quantize_input(x))
                    .collect::<crate::Result<Vec<_>>>()?
                    .concat()
            }
            CaseInputs::Uniform => (0..len).map(|_| rng.gen::<i8>()).collect(),
            CaseInputs::Saturating => (0..len)
                .map(|_| [-128i8, 127][rng.gen_range(0..2)])
                .collect(),
        };
        Ok((q, codes))
    }
}
