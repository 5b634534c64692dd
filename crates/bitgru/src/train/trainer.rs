use super::grad::{batch_grad, model_tensors, model_tensors_mut, BatchStats, Grads, Workspace};
use super::qat::{qat_batch_grad, QatSpec, QatWorkspace};
use crate::calibrate::Calibration;
use crate::error::{Error, Result};
use crate::genome::Genome;
use crate::model::FloatGru;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Constant after warmup.
    Constant,
    /// Cosine decay from `lr` to `min_lr` over all steps after warmup.
    Cosine,
}

/// Training hyper-parameters (all recorded in checkpoints and model metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub min_lr: f32,
    pub warmup_steps: usize,
    pub schedule: Schedule,
    /// Clip the global gradient norm to this value (0 = off).
    pub clip_norm: f32,
    /// Decoupled weight decay (AdamW), 0 = off.
    pub weight_decay: f32,
    pub seed: u64,
    /// Stop after this many epochs without a better validation accuracy (0 = never).
    pub patience: usize,
    /// Back-propagate through the last k steps only (None = full BPTT).
    pub tbptt: Option<usize>,
    /// Data-parallel shards per mini-batch (fixed, so results do not depend on the core count).
    pub shards: usize,
    /// Weight the loss by inverse class frequency.
    pub balance_classes: bool,
    /// Label smoothing ε of the training loss (0 = off; see [`super::Loss`]).
    #[serde(default)]
    pub label_smoothing: f32,
    /// Keyword spotting: the augmentation that makes the training stream (recorded so a
    /// checkpoint says how it was trained and a resume can insist on the same stream).
    #[serde(default)]
    pub augment: Option<crate::data::augment::KwsAugment>,
    /// Exponential moving average of the weights with this decay `d` (`0 < d < 1`; `None` =
    /// off). When on, per-epoch validation scores the averaged weights and the kept (best)
    /// model is the average; see [`Trainer::ema_decay_at`] for the warm-up form. Left out of
    /// the JSON when off, so checkpoints and model metadata without EMA are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema: Option<f32>,
    /// Keyword spotting: the MFCC configuration of the features when it is not
    /// [`MfccConfig::default`](crate::audio::MfccConfig) (`None` = the default; recorded so a
    /// checkpoint says which features it was trained on and a resume can insist on them). Left
    /// out of the JSON when `None`, so checkpoints and model metadata on the default features
    /// are unchanged. The trainer itself does not read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfcc: Option<crate::audio::MfccConfig>,
}

/// Checks an EMA decay `d` of the weights (finite, `0 < d < 1`).
pub fn check_ema(d: f32) -> Result<()> {
    if d.is_finite() && d > 0.0 && d < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "EMA decay",
            format!("{d}, expected finite and 0 < d < 1 (e.g. 0.999)"),
        ))
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 128,
            lr: 3e-3,
            min_lr: 1e-5,
            warmup_steps: 100,
            schedule: Schedule::Cosine,
            clip_norm: 1.0,
            weight_decay: 0.0,
            seed: 0,
            patience: 0,
            tbptt: None,
            shards: 4,
            balance_classes: false,
            label_smoothing: 0.0,
            augment: None,
            ema: None,
            mfcc: None,
        }
    }
}

/// Where training samples come from; `get` may augment with the given generator.
pub trait BatchSource: Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn label(&self, idx: usize) -> usize;
    /// Sample `idx` (possibly augmented using `rng`).
    fn get(&self, idx: usize, rng: &mut ChaCha8Rng) -> Result<Cow<'_, [f32]>>;
}

/// An in-memory data set without augmentation.
pub struct InMemory<'a> {
    pub xs: &'a [Vec<f32>],
    pub ys: &'a [usize],
}

impl BatchSource for InMemory<'_> {
    fn len(&self) -> usize {
        self.xs.len()
    }
    fn label(&self, idx: usize) -> usize {
        self.ys[idx]
    }
    fn get(&self, idx: usize, _rng: &mut ChaCha8Rng) -> Result<Cow<'_, [f32]>> {
        Ok(Cow::Borrowed(&self.xs[idx]))
    }
}

/// A data set is a source without augmentation.
impl BatchSource for crate::data::Dataset {
    fn len(&self) -> usize {
        self.sequences.len()
    }
    fn label(&self, idx: usize) -> usize {
        self.labels[idx]
    }
    fn get(&self, idx: usize, _rng: &mut ChaCha8Rng) -> Result<Cow<'_, [f32]>> {
        Ok(Cow::Borrowed(&self.sequences[idx]))
    }
}

/// Report of one optimizer step.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct StepReport {
    pub step: u64,
    pub epoch: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub grad_norm: f32,
    pub lr: f32,
    /// True when this step finished an epoch.
    pub epoch_done: bool,
}

/// One epoch's record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub lr: f32,
    pub improved: bool,
    /// With EMA on: the validation accuracy of the raw (optimizer) weights, for comparison with
    /// `val_accuracy` (which is the average's). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_accuracy_raw: Option<f64>,
}

/// Quantization-aware training: train through the fake-quant model of `genome`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QatConfig {
    pub genome: Genome,
    /// The calibration whose scales the forward pass uses (exported with the model).
    pub calibration: Calibration,
    /// Re-calibrate on this many training samples at the end of every epoch (0 = keep fixed).
    pub recalibrate_samples: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Adam {
    m: Grads,
    v: Grads,
    t: u64,
}

/// The steppable trainer. Serialize it (`checkpoint`) to resume later, bit-identically.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trainer {
    pub config: TrainConfig,
    pub model: FloatGru,
    opt: Adam,
    rng: ChaCha8Rng,
    pub epoch: usize,
    order: Vec<usize>,
    cursor: usize,
    class_weights: Option<Vec<f32>>,
    epoch_stats: BatchStats,
    steps_per_epoch: usize,
    /// Best validation accuracy and its model.
    pub best: Option<(f64, FloatGru)>,
    pub history: Vec<EpochRecord>,
    epochs_since_best: usize,
    /// Set for quantization-aware training.
    pub qat: Option<QatConfig>,
    /// Under QAT, the calibration that goes with `best`'s model.
    pub best_calibration: Option<Calibration>,
    /// With `config.ema`: the moving average of the weights (present exactly when EMA is on;
    /// left out of the JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ema: Option<FloatGru>,
}

impl Trainer {
    /// A trainer for `model` over `data` (its labels fix class weights and the epoch length).
    pub fn new(model: FloatGru, config: TrainConfig, data: &dyn BatchSource) -> Result<Trainer> {
        model.validate()?;
        if data.is_empty() {
            return Err(Error::invalid("training data", "empty"));
        }
        if config.batch_size == 0 || config.shards == 0 {
            return Err(Error::invalid(
                "train config",
                "batch_size and shards must be positive",
            ));
        }
        super::check_label_smoothing(config.label_smoothing)?;
        if let Some(d) = config.ema {
            check_ema(d)?;
        }
        if let Some(a) = &config.augment {
            a.validate()?;
        }
        let class_weights = if config.balance_classes {
            let mut counts = vec![0usize; model.classes];
            for i in 0..data.len() {
                counts[data.label(i)] += 1;
            }
            let n = data.len() as f32;
            let k = counts.iter().filter(|&&c| c > 0).count() as f32;
            Some(
                counts
                    .iter()
                    .map(|&c| if c == 0 { 0.0 } else { n / (k * c as f32) })
                    .collect(),
            )
        } else {
            None
        };
        let g = Grads::zeros_like(&model);
        let mut t = Trainer {
            opt: Adam {
                m: g.clone(),
                v: g,
                t: 0,
            },
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            steps_per_epoch: data.len().div_ceil(config.batch_size),
            ema: config.ema.map(|_| model.clone()),
            config,
            model,
            epoch: 0,
            order: (0..data.len()).collect(),
            cursor: 0,
            class_weights,
            epoch_stats: BatchStats::default(),
            best: None,
            history: Vec::new(),
            epochs_since_best: 0,
            qat: None,
            best_calibration: None,
        };
        t.order.shuffle(&mut t.rng);
        Ok(t)
    }

    /// Learning rate at optimizer step `t` (0-based).
    pub fn lr_at(&self, t: u64) -> f32 {
        let c = &self.config;
        let t = t as f32;
        if (t as usize) < c.warmup_steps {
            return c.lr * (t + 1.0) / c.warmup_steps as f32;
        }
        match c.schedule {
            Schedule::Constant => c.lr,
            Schedule::Cosine => {
                let total = (c.epochs * self.steps_per_epoch)
                    .saturating_sub(c.warmup_steps)
                    .max(1) as f32;
                let p = ((t - c.warmup_steps as f32) / total).min(1.0);
                c.min_lr + 0.5 * (c.lr - c.min_lr) * (1.0 + (std::f32::consts::PI * p).cos())
            }
        }
    }

    /// Mini-batches per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> u64 {
        self.opt.t
    }

    /// The moving average of the weights (`None` when EMA is off).
    pub fn ema_model(&self) -> Option<&FloatGru> {
        self.ema.as_ref()
    }

    /// The weights validation scores and `best` keeps: the EMA when on, else the raw weights.
    pub fn eval_model(&self) -> &FloatGru {
        self.ema.as_ref().unwrap_or(&self.model)
    }

    /// The EMA decay used by optimizer step `t` (1-based: the step that makes `steps()` = `t`),
    /// `d_t = min(d, t / (t + 9))`, i.e. TensorFlow's `min(d, (1 + n) / (10 + n))` with `n = t − 1`
    /// updates before it. `None` when EMA is off.
    ///
    /// Why the warm-up form and not a fixed `d` with Adam-style bias correction: the average
    /// starts at the initial weights, and with a fixed `d` = 0.999 it would remember that random
    /// start (and the high-lr early phase) for ~1000 steps, a quarter of a 120-epoch kws4 run
    /// (36–39 steps an epoch), so the early per-epoch validations would score a blur of stale
    /// weights. Bias correction removes the start but still averages over a fixed 1/(1 − d)
    /// steps. The warm-up form averages over roughly the last ~11 % of the steps taken
    /// (`1/(1 − d_t) = (t + 9)/9`) until that reaches `1/(1 − d)`: the first step almost
    /// replaces the initial weights (`d_1` = 0.1), every epoch's validation is of a current
    /// model, and late in training it is the plain EMA. Note that `d` then only binds after
    /// `9d/(1 − d)` steps (8,991 for 0.999): a shorter run is the same for `d` and any larger one.
    pub fn ema_decay_at(&self, t: u64) -> Option<f32> {
        let d = self.config.ema?;
        let t = t as f32;
        Some(d.min(t / (t + 9.0)))
    }

    /// `ema = d_t·ema + (1 − d_t)·w` for every parameter, after optimizer step `self.opt.t`.
    fn update_ema(&mut self) {
        let (Some(d), Some(ema)) = (self.ema_decay_at(self.opt.t), self.ema.as_mut()) else {
            return;
        };
        for (e, w) in model_tensors_mut(ema)
            .into_iter()
            .zip(model_tensors(&self.model))
        {
            for (e, w) in e.iter_mut().zip(w) {
                *e = d * *e + (1.0 - d) * *w;
            }
        }
    }

    /// Whether training is over (all epochs done, or early stopping).
    pub fn finished(&self) -> bool {
        self.epoch >= self.config.epochs
            || (self.config.patience > 0 && self.epochs_since_best >= self.config.patience)
    }

    /// Runs one mini-batch: gradients over `shards` shards (in parallel with the `parallel`
    /// feature), summed in a fixed order, clipped, one Adam step.
    pub fn step(&mut self, data: &dyn BatchSource) -> Result<StepReport> {
        let bs = self.config.batch_size.min(self.order.len() - self.cursor);
        let idx: Vec<usize> = self.order[self.cursor..self.cursor + bs].to_vec();
        // Per-sample generators derived from the trainer's stream: deterministic for any sharding.
        let seeds: Vec<u64> = idx.iter().map(|_| rand::Rng::gen(&mut self.rng)).collect();
        let shards = self.config.shards.min(bs).max(1);
        let chunk = bs.div_ceil(shards);
        let norm = bs as f32;
        let model = &self.model;
        let loss = super::Loss {
            class_weights: self.class_weights.as_deref(),
            label_smoothing: self.config.label_smoothing,
        };
        let tbptt = self.config.tbptt;
        let spec = self
            .qat
            .as_ref()
            .map(|q| QatSpec::new(&q.calibration, &q.genome));
        let work = |k: usize| -> Result<(Grads, BatchStats)> {
            let lo = k * chunk;
            let hi = ((k + 1) * chunk).min(bs);
            let mut xs = Vec::with_capacity(hi - lo);
            let mut ys = Vec::with_capacity(hi - lo);
            for j in lo..hi {
                let mut r = ChaCha8Rng::seed_from_u64(seeds[j]);
                xs.push(data.get(idx[j], &mut r)?.into_owned());
                ys.push(data.label(idx[j]));
            }
            let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
            let mut g = Grads::zeros_like(model);
            let st = match &spec {
                Some(spec) => {
                    let mut ws = QatWorkspace::default();
                    qat_batch_grad(model, spec, &refs, &ys, loss, norm, &mut g, &mut ws)?
                }
                None => {
                    let mut ws = Workspace::default();
                    batch_grad(model, &refs, &ys, loss, tbptt, norm, &mut g, &mut ws)?
                }
            };
            Ok((g, st))
        };
        let n_shards = bs.div_ceil(chunk);
        let parts: Vec<Result<(Grads, BatchStats)>> = crate::math::par_map_range(n_shards, work);
        let mut g = Grads::zeros_like(&self.model);
        let mut stats = BatchStats::default();
        for p in parts {
            let (pg, ps) = p?;
            g.add(&pg);
            stats.merge(&ps);
        }
        let grad_norm = g.norm();
        if !grad_norm.is_finite() {
            return Err(Error::NonFinite {
                what: "gradient".into(),
                index: 0,
            });
        }
        if self.config.clip_norm > 0.0 && grad_norm > self.config.clip_norm {
            g.scale(self.config.clip_norm / grad_norm);
        }
        let lr = self.lr_at(self.opt.t);
        self.adam(&g, lr);
        self.update_ema();
        self.epoch_stats.merge(&stats);
        self.cursor += bs;
        let epoch_done = self.cursor >= self.order.len();
        Ok(StepReport {
            step: self.opt.t,
            epoch: self.epoch,
            loss: stats.loss(),
            accuracy: stats.accuracy(),
            grad_norm,
            lr,
            epoch_done,
        })
    }

    fn adam(&mut self, g: &Grads, lr: f32) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.opt.t += 1;
        let t = self.opt.t as i32;
        let c1 = 1.0 - b1.powi(t);
        let c2 = 1.0 - b2.powi(t);
        let wd = self.config.weight_decay;
        let params = model_tensors_mut(&mut self.model);
        let ms = self.opt.m.tensors_mut();
        let vs = self.opt.v.tensors_mut();
        for (((p, m), v), gr) in params.into_iter().zip(ms).zip(vs).zip(g.tensors()) {
            for i in 0..p.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * gr[i];
                v[i] = b2 * v[i] + (1.0 - b2) * gr[i] * gr[i];
                let upd = (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
                p[i] -= lr * (upd + wd * p[i]);
            }
        }
    }

    /// Closes the epoch: validation, best-model bookkeeping, reshuffle.
    pub fn end_epoch(&mut self, val: Option<&dyn BatchSource>) -> Result<EpochRecord> {
        let (val_loss, val_accuracy) = match (val, &self.qat) {
            (Some(v), None) => {
                let s = evaluate_float(self.eval_model(), v)?;
                (Some(s.loss()), Some(s.accuracy()))
            }
            // QAT: the validation score is the integer model's accuracy.
            (Some(v), Some(q)) => (
                None,
                Some(evaluate_integer(&self.model, &q.calibration, &q.genome, v)?),
            ),
            (None, _) => (None, None),
        };
        let val_accuracy_raw = match (val, &self.ema) {
            (Some(v), Some(_)) => Some(evaluate_float(&self.model, v)?.accuracy()),
            _ => None,
        };
        let score = val_accuracy.unwrap_or(self.epoch_stats.accuracy());
        let improved = self.best.as_ref().is_none_or(|(b, _)| score > *b);
        if improved {
            self.best = Some((score, self.eval_model().clone()));
            self.best_calibration = self.qat.as_ref().map(|q| q.calibration.clone());
            self.epochs_since_best = 0;
        } else {
            self.epochs_since_best += 1;
        }
        let rec = EpochRecord {
            epoch: self.epoch,
            train_loss: self.epoch_stats.loss(),
            train_accuracy: self.epoch_stats.accuracy(),
            val_loss,
            val_accuracy,
            lr: self.lr_at(self.opt.t),
            improved,
            val_accuracy_raw,
        };
        self.history.push(rec.clone());
        self.epoch += 1;
        self.cursor = 0;
        self.epoch_stats = BatchStats::default();
        self.order.shuffle(&mut self.rng);
        Ok(rec)
    }

    /// Runs whole epochs until finished, calling `report` after every step and epoch.
    pub fn fit(
        &mut self,
        train: &dyn BatchSource,
        val: Option<&dyn BatchSource>,
        mut report: impl FnMut(&StepReport, Option<&EpochRecord>),
    ) -> Result<()> {
        while !self.finished() {
            let s = self.step(train)?;
            if s.epoch_done {
                let rec = self.end_epoch(val)?;
                if !self.finished() {
                    self.recalibrate(train)?;
                }
                report(&s, Some(&rec));
            } else {
                report(&s, None);
            }
        }
        Ok(())
    }

    /// Serializes the whole trainer state (JSON).
    pub fn checkpoint(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("trainer state serializes")
    }

    /// Restores a trainer from [`Trainer::checkpoint`], checking every field that training later
    /// indexes or divides by (a corrupt or hand-edited checkpoint is an error naming the field,
    /// never a panic or a silently different run).
    pub fn restore(bytes: &[u8]) -> Result<Trainer> {
        let t: Trainer = serde_json::from_slice(bytes)
            .map_err(|e| Error::format("checkpoint", e.to_string()))?;
        t.validate_state()?;
        Ok(t)
    }

    /// [`Trainer::restore`] for resuming on `data`: also checks that the checkpoint's epoch order
    /// and class weights fit this data set (a checkpoint made on another data set or another
    /// `--limit` would index past its end).
    pub fn restore_for(bytes: &[u8], data: &dyn BatchSource) -> Result<Trainer> {
        let t = Trainer::restore(bytes)?;
        if t.order.len() != data.len() {
            return Err(Error::invalid(
                "checkpoint",
                format!(
                    "made on {} training samples, this data set has {} (same data and --limit \
                     needed to resume)",
                    t.order.len(),
                    data.len()
                ),
            ));
        }
        if let Some(k) = (0..data.len()).find(|&i| data.label(i) >= t.model.classes) {
            return Err(Error::invalid(
                "training data",
                format!(
                    "label {} of sample {k} is not a class of the checkpoint's {}-class model",
                    data.label(k),
                    t.model.classes
                ),
            ));
        }
        Ok(t)
    }

    /// A checkpoint's second set of weights (`what`: the best model, the EMA) is a valid model
    /// with the dimensions of the trained one.
    fn check_like_model(&self, what: &str, m: &FloatGru) -> Result<()> {
        m.validate()?;
        if m.dims() != self.model.dims() {
            return Err(Error::invalid(
                format!("checkpoint {what}"),
                format!(
                    "dimensions {:?} differ from the model's {:?}",
                    m.dims(),
                    self.model.dims()
                ),
            ));
        }
        Ok(())
    }

    fn validate_state(&self) -> Result<()> {
        let bad =
            |what: &str, detail: String| Err(Error::invalid(format!("checkpoint {what}"), detail));
        let c = &self.config;
        if c.batch_size == 0 || c.shards == 0 {
            return bad(
                "config",
                format!(
                    "batch_size {} and shards {} must be positive",
                    c.batch_size, c.shards
                ),
            );
        }
        for (what, v, positive) in [
            ("lr", c.lr, true),
            ("min_lr", c.min_lr, false),
            ("clip_norm", c.clip_norm, false),
            ("weight_decay", c.weight_decay, false),
        ] {
            if !v.is_finite() || v < 0.0 || (positive && v == 0.0) {
                let want = if positive { "> 0" } else { "≥ 0" };
                return bad(
                    &format!("config.{what}"),
                    format!("{v}, expected finite and {want}"),
                );
            }
        }
        if let Err(e) = super::check_label_smoothing(c.label_smoothing) {
            return bad("config.label_smoothing", e.to_string());
        }
        if let Some(a) = &c.augment {
            if let Err(e) = a.validate() {
                return bad("config.augment", e.to_string());
            }
        }
        if let Some(d) = c.ema {
            if let Err(e) = check_ema(d) {
                return bad("config.ema", e.to_string());
            }
        }
        self.model.validate()?;
        match (c.ema, &self.ema) {
            (Some(_), None) => {
                return bad(
                    "ema",
                    "config.ema is set but the checkpoint holds no EMA weights".into(),
                )
            }
            (None, Some(_)) => {
                return bad(
                    "ema",
                    "EMA weights without config.ema (the decay they were made with)".into(),
                )
            }
            (Some(_), Some(m)) => {
                self.check_like_model("ema", m)?;
                if self.qat.is_some() {
                    return bad("ema", "EMA and QAT together are not supported".into());
                }
            }
            (None, None) => {}
        }
        let shapes = Grads::zeros_like(&self.model);
        for (what, g) in [("Adam m", &self.opt.m), ("Adam v", &self.opt.v)] {
            for (k, (t, want)) in g.tensors().iter().zip(shapes.tensors()).enumerate() {
                if t.len() != want.len() {
                    return Err(Error::length(
                        format!("checkpoint {what} tensor {k}"),
                        want.len(),
                        t.len(),
                    ));
                }
                crate::error::check_finite(&format!("checkpoint {what} tensor {k}"), t)?;
            }
        }
        if let Some(p) = self
            .opt
            .v
            .tensors()
            .iter()
            .flat_map(|t| t.iter())
            .position(|&v| v < 0.0)
        {
            return bad(
                "Adam v",
                format!("negative second moment at flat index {p}"),
            );
        }
        let n = self.order.len();
        if n == 0 {
            return bad("order", "empty epoch order".into());
        }
        let mut seen = vec![false; n];
        for (k, &i) in self.order.iter().enumerate() {
            if i >= n || std::mem::replace(&mut seen[i], true) {
                return bad(
                    "order",
                    format!("entry {k} = {i}: not a permutation of 0..{n}"),
                );
            }
        }
        if self.cursor > n {
            return bad(
                "cursor",
                format!("{}, beyond the {n} samples of an epoch", self.cursor),
            );
        }
        if self.steps_per_epoch != n.div_ceil(c.batch_size) {
            return bad(
                "steps_per_epoch",
                format!(
                    "{}, expected {} ({n} samples / batch {})",
                    self.steps_per_epoch,
                    n.div_ceil(c.batch_size),
                    c.batch_size
                ),
            );
        }
        if let Some(w) = &self.class_weights {
            if w.len() != self.model.classes {
                return Err(Error::length(
                    "checkpoint class_weights",
                    self.model.classes,
                    w.len(),
                ));
            }
            if let Some(k) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return bad(
                    "class_weights",
                    format!("weight {k} is {}, expected finite and ≥ 0", w[k]),
                );
            }
        }
        let st = &self.epoch_stats;
        if !st.loss_sum.is_finite() || !st.weight_sum.is_finite() || st.correct > st.n {
            return bad("epoch_stats", format!("{st:?} is inconsistent"));
        }
        if let Some((score, best)) = &self.best {
            if !(0.0..=1.0).contains(score) {
                return bad(
                    "best score",
                    format!("{score}, expected an accuracy in [0, 1]"),
                );
            }
            self.check_like_model("best model", best)?;
        }
        if let Some(q) = &self.qat {
            q.calibration.validate(&self.model)?;
        }
        if let Some(cal) = &self.best_calibration {
            cal.validate(&self.model)?;
        }
        Ok(())
    }
}

/// Float loss and accuracy over a source (no augmentation), batched, parallel when enabled.
pub fn evaluate_float(model: &FloatGru, data: &dyn BatchSource) -> Result<BatchStats> {
    const B: usize = 256;
    let n = data.len();
    let work = |k: usize| -> Result<BatchStats> {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let lo = k * B;
        let hi = (lo + B).min(n);
        let xs: Vec<Vec<f32>> = (lo..hi)
            .map(|i| data.get(i, &mut rng).map(|c| c.into_owned()))
            .collect::<Result<_>>()?;
        let ys: Vec<usize> = (lo..hi).map(|i| data.label(i)).collect();
        // Group by length (sequences of one task share T; be safe anyway).
        let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
        let mut g = Grads::zeros_like(model);
        let mut ws = Workspace::default();
        batch_grad(
            model,
            &refs,
            &ys,
            super::Loss::default(),
            Some(0),
            1.0,
            &mut g,
            &mut ws,
        )
    };
    let chunks = n.div_ceil(B);
    let parts: Vec<Result<BatchStats>> = crate::math::par_map_range(chunks, work);
    let mut s = BatchStats::default();
    for p in parts {
        s.merge(&p?);
    }
    Ok(s)
}

/// Accuracy of the integer model of `genome` over a source.
pub fn evaluate_integer(
    model: &FloatGru,
    calib: &Calibration,
    genome: &Genome,
    data: &dyn BatchSource,
) -> Result<f64> {
    let q = crate::quant::QuantGru::prepare(model, calib, genome)?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut xs = Vec::with_capacity(data.len());
    let mut ys = Vec::with_capacity(data.len());
    for i in 0..data.len() {
        xs.push(data.get(i, &mut rng)?.into_owned());
        ys.push(data.label(i));
    }
    // The one evaluation path (batch kernel, sequences grouped by length, parallel chunks).
    let ev = crate::eval::IntegerEvaluator::new(&calib.input_scales, &xs, Some(ys))?;
    Ok(ev.accuracy(&q)?.unwrap_or(0.0))
}

impl Trainer {
    /// Switches to quantization-aware training of `genome` with the given calibration.
    pub fn set_qat(&mut self, qat: QatConfig) -> Result<()> {
        if self.config.ema.is_some() {
            return Err(Error::invalid(
                "QAT",
                "EMA of the weights applies to float training only (QAT scores the raw weights \
                 under their calibration)",
            ));
        }
        qat.calibration.validate(&self.model)?;
        self.qat = Some(qat);
        Ok(())
    }

    /// Re-calibrates the QAT scales on the current weights, using the first
    /// `recalibrate_samples` samples of `data` (no augmentation). No-op without QAT.
    pub fn recalibrate(&mut self, data: &dyn BatchSource) -> Result<()> {
        let Some(q) = &self.qat else { return Ok(()) };
        let n = q.recalibrate_samples.min(data.len());
        if n == 0 {
            return Ok(());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let xs: Vec<Vec<f32>> = (0..n)
            .map(|i| data.get(i, &mut rng).map(|c| c.into_owned()))
            .collect::<Result<_>>()?;
        let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
        let cal = Calibration::compute(&self.model, &refs)?;
        if let Some(q) = &mut self.qat {
            q.calibration = cal;
        }
        Ok(())
    }
}
