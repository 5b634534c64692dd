//! `bitgru train`, `bitgru qat`, `bitgru bench-train`.
use crate::cli::{BenchTrainArgs, QatArgs, TrainArgs};
use crate::util;
use anyhow::{bail, Context, Result};
use bitgru::data::augment::Augmenter;
use bitgru::io::{ModelBundle, ModelMeta};
use bitgru::task::{self, KwsTrainSource, Normalization, Task, TrainingSet};
use bitgru::train::{
    BatchSource, EpochRecord, InMemory, QatConfig, StepReport, TrainConfig, Trainer,
};
use bitgru::{Calibration, FloatGru};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// A training source plus what it needs to live.
enum Source {
    Features(bitgru::data::Dataset),
    Kws(Box<KwsTrainSource>),
}

impl Source {
    fn as_dyn(&self) -> &dyn BatchSource {
        match self {
            Source::Features(d) => d,
            Source::Kws(k) => k.as_ref(),
        }
    }
}

/// Builds the training source; `norm` = None trains on raw features (QAT of a folded model).
fn source(data: &Path, set: TrainingSet, norm: Option<&Normalization>) -> Result<Source> {
    Ok(match set {
        TrainingSet::Features(d) => Source::Features(match norm {
            Some(n) => n.apply_dataset(&d),
            None => d,
        }),
        TrainingSet::Clips {
            clips,
            labels,
            classes,
            ..
        } => {
            let (noise, _held_out) = task::load_noise(data).context("loading background noise")?;
            let silence_label = classes
                .iter()
                .position(|c| c == "_silence_")
                .context("no _silence_ class")?;
            Source::Kws(Box::new(KwsTrainSource {
                clips,
                labels,
                silence_label,
                augmenter: Augmenter::new(task::default_augment(), noise)?,
                mfcc: task::default_mfcc()?,
                norm: norm.cloned(),
                generated_silence: 0.5,
            }))
        }
    })
}

fn bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} steps  eta {eta}  {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    util::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move checkpoint into {}", path.display()))
}

fn log_epoch(pb: &ProgressBar, r: &EpochRecord, t0: &Instant) {
    let line = format!(
        "epoch {:>3}  train loss {:.4} acc {:.4}  val loss {} acc {}  lr {:.2e}  {:.0}s{}",
        r.epoch,
        r.train_loss,
        r.train_accuracy,
        r.val_loss.map_or("-".into(), |v| format!("{v:.4}")),
        r.val_accuracy.map_or("-".into(), |v| format!("{v:.4}")),
        r.lr,
        t0.elapsed().as_secs_f64(),
        if r.improved { "  *" } else { "" }
    );
    if pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.println(line);
    }
}

pub fn run(a: &TrainArgs) -> Result<()> {
    let t0 = Instant::now();
    let (set, val) = task::load_training(a.task, &a.data, a.limit)
        .with_context(|| format!("loading {} training data from {}", a.task, a.data.display()))?;
    let features = set.features().clone();
    let norm = Normalization::from_dataset(&features);
    let val_n = norm.apply_dataset(&val);
    let classes = features.classes.clone();
    let (steps, input) = a.task.shape();
    if features.steps != steps || features.input != input {
        bail!(
            "{} data has shape {}x{}, expected {steps}x{input}",
            a.task,
            features.steps,
            features.input
        );
    }
    let hidden = a.hidden.unwrap_or(a.task.default_hidden());
    eprintln!(
        "{}: {} training / {} validation examples, {} classes, hidden {hidden}; loaded in {:.1}s",
        a.task,
        features.len(),
        val.len(),
        classes.len(),
        t0.elapsed().as_secs_f64()
    );
    let src = source(&a.data, set, Some(&norm))?;
    let train = src.as_dyn();
    let val_src = &val_n;
    let config = TrainConfig {
        epochs: a.epochs,
        batch_size: a.batch,
        lr: a.lr,
        min_lr: a.min_lr,
        warmup_steps: a.warmup,
        schedule: bitgru::train::Schedule::Cosine,
        clip_norm: a.clip,
        weight_decay: a.weight_decay,
        seed: a.seed,
        patience: a.patience,
        tbptt: a.tbptt,
        shards: a.shards,
        balance_classes: a.task.is_kws(),
    };
    let mut trainer = match (&a.checkpoint, a.resume) {
        (Some(ck), true) if ck.exists() => {
            let t = Trainer::restore_for(&util::read(ck, "checkpoint")?, train)
                .with_context(|| format!("checkpoint {}", ck.display()))?;
            if t.config.batch_size != a.batch {
                bail!(
                    "checkpoint {} was made with --batch {}, this run asks for --batch {}: \
                     resume with --batch {} (the epoch plan and the optimizer state depend on it)",
                    ck.display(),
                    t.config.batch_size,
                    a.batch,
                    t.config.batch_size
                );
            }
            if t.model.hidden != hidden
                || t.model.input_size != input
                || t.model.classes != classes.len()
            {
                bail!(
                    "checkpoint {} holds a {}x{}x{} model, this run wants {input}x{hidden}x{}",
                    ck.display(),
                    t.model.input_size,
                    t.model.hidden,
                    t.model.classes,
                    classes.len()
                );
            }
            // --epochs may extend a finished or running schedule (the cosine is re-planned).
            let mut t = t;
            t.config.epochs = a.epochs;
            eprintln!(
                "resumed from {} at epoch {}, step {}",
                ck.display(),
                t.epoch,
                t.steps()
            );
            t
        }
        (Some(ck), true) => bail!("--resume: checkpoint {} does not exist", ck.display()),
        _ => {
            let init = bitgru::synth::pytorch_init(a.seed, input, hidden, classes.len());
            Trainer::new(init, config, train)?
        }
    };
    let total = (trainer.config.epochs * trainer.steps_per_epoch()) as u64;
    let pb = bar(total, a.quiet);
    pb.set_position(trainer.steps());
    let save_ck = |t: &Trainer| -> Result<()> {
        if let Some(ck) = &a.checkpoint {
            write_atomic(ck, &t.checkpoint())?;
        }
        Ok(())
    };
    let mut stopped_early = false;
    while !trainer.finished() {
        let s: StepReport = trainer.step(train)?;
        pb.set_position(s.step);
        pb.set_message(format!(
            "epoch {} loss {:.4} acc {:.3}",
            s.epoch, s.loss, s.accuracy
        ));
        if s.epoch_done {
            let rec = trainer.end_epoch(Some(val_src))?;
            log_epoch(&pb, &rec, &t0);
            save_ck(&trainer)?;
        } else if a.checkpoint.is_some() && s.step.is_multiple_of(a.checkpoint_every.max(1)) {
            save_ck(&trainer)?;
        }
        if a.max_minutes
            .is_some_and(|m| t0.elapsed().as_secs_f64() > m * 60.0)
        {
            save_ck(&trainer)?;
            stopped_early = true;
            break;
        }
    }
    pb.finish_and_clear();
    let (best_acc, mut model) = trainer.best.clone().unwrap_or((0.0, trainer.model.clone()));
    norm.fold_into(&mut model)?;
    let bundle = finish_bundle(
        a.task,
        model,
        &features,
        classes,
        json!({
            "hidden": hidden,
            "validation_accuracy_float": best_acc,
            "epochs_done": trainer.epoch,
            "steps": trainer.steps(),
            "train_seconds_this_run": t0.elapsed().as_secs_f64(),
            "config": trainer.config,
            "history": trainer.history,
            "finished": trainer.finished(),
            "normalization_folded": norm,
        }),
        a.seed,
    )?;
    util::write(&a.out, &bitgru::io::save_bundle(&bundle)?)?;
    eprintln!(
        "{} {}: best validation accuracy {:.4}; wrote {} ({:.0}s){}",
        a.task,
        if stopped_early {
            "stopped at --max-minutes"
        } else {
            "done"
        },
        best_acc,
        a.out.display(),
        t0.elapsed().as_secs_f64(),
        if stopped_early {
            "; continue with --resume"
        } else {
            ""
        }
    );
    Ok(())
}

/// Calibrates a raw-feature model on (up to 512 evenly spaced) training features and wraps it.
fn finish_bundle(
    task: Task,
    model: FloatGru,
    features: &bitgru::data::Dataset,
    classes: Vec<String>,
    notes: serde_json::Value,
    seed: u64,
) -> Result<ModelBundle> {
    let n = features.len().min(512);
    let idx: Vec<usize> = (0..n).map(|j| j * features.len() / n).collect();
    let views: Vec<&[f32]> = idx
        .iter()
        .map(|&i| features.sequences[i].as_slice())
        .collect();
    let calibration = Calibration::compute(&model, &views)?;
    Ok(ModelBundle {
        meta: ModelMeta {
            task: task.name().into(),
            classes,
            features: task.front_end(),
            seed,
            command: util::command_line(),
            notes: notes.to_string(),
        },
        model,
        calibration,
    })
}

/// A task's training source and validation split, loaded once for QAT runs.
pub(crate) struct QatData {
    task: Task,
    src: Source,
    pub val: bitgru::data::Dataset,
}

impl QatData {
    /// Loads `task`'s training data (`limit`: evenly spaced subset) and checks it fits `model`.
    pub fn load(
        task: Task,
        data: &Path,
        limit: Option<usize>,
        model: &FloatGru,
    ) -> Result<QatData> {
        let (set, val) = task::load_training(task, data, limit)
            .with_context(|| format!("loading {} training data from {}", task, data.display()))?;
        let features = set.features();
        if features.input != model.input_size || features.classes.len() != model.classes {
            bail!(
                "{} data ({} features, {} classes) does not fit the model ({} inputs, {} classes)",
                task,
                features.input,
                features.classes.len(),
                model.input_size,
                model.classes
            );
        }
        Ok(QatData {
            task,
            src: source(data, set, None)?,
            val,
        })
    }

    /// Training samples.
    pub fn train_len(&self) -> usize {
        self.src.as_dyn().len()
    }
}

/// Settings of one QAT run.
pub(crate) struct QatRun {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f32,
    pub seed: u64,
    pub recalibrate: usize,
    pub shards: usize,
    pub quiet: bool,
}

/// What a QAT run gives: the better of the starting point (PTQ) and the fine-tuned epochs.
pub(crate) struct QatOutcome {
    pub ptq: f64,
    pub best: f64,
    pub model: FloatGru,
    pub calibration: Calibration,
    pub history: Vec<EpochRecord>,
}

/// Fine-tunes `bundle` for `genome` through the fake-quant model; validation picks the epoch.
pub(crate) fn qat_genome(
    data: &QatData,
    bundle: &ModelBundle,
    genome: &bitgru::Genome,
    run: &QatRun,
) -> Result<QatOutcome> {
    let t0 = Instant::now();
    let train = data.src.as_dyn();
    let val_src = &data.val;
    let ptq = bitgru::train::evaluate_integer(&bundle.model, &bundle.calibration, genome, val_src)?;
    let config = TrainConfig {
        epochs: run.epochs,
        batch_size: run.batch,
        lr: run.lr,
        min_lr: run.lr * 0.05,
        warmup_steps: 0,
        seed: run.seed,
        shards: run.shards,
        balance_classes: data.task.is_kws(),
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(bundle.model.clone(), config, train)?;
    t.set_qat(QatConfig {
        genome: *genome,
        calibration: bundle.calibration.clone(),
        recalibrate_samples: run.recalibrate,
    })?;
    let pb = bar((run.epochs * t.steps_per_epoch()) as u64, run.quiet);
    t.fit(train, Some(val_src), |s, e| {
        pb.set_position(s.step);
        pb.set_message(format!("loss {:.4}", s.loss));
        if let Some(e) = e {
            log_epoch(&pb, e, &t0);
        }
    })?;
    pb.finish_and_clear();
    // The starting point competes too: QAT never returns something worse than PTQ.
    let (best, model, calibration) = match (t.best.clone(), t.best_calibration.clone()) {
        (Some((acc, m)), Some(c)) if acc >= ptq => (acc, m, c),
        _ => (ptq, bundle.model.clone(), bundle.calibration.clone()),
    };
    Ok(QatOutcome {
        ptq,
        best,
        model,
        calibration,
        history: t.history.clone(),
    })
}

pub fn qat(a: &QatArgs) -> Result<()> {
    let t0 = Instant::now();
    let bundle = bitgru::io::load_bundle(&util::read(&a.model, "model bundle")?)
        .with_context(|| format!("model bundle {}", a.model.display()))?;
    let data = QatData::load(a.task, &a.data, a.limit, &bundle.model)?;
    let run = QatRun {
        epochs: a.epochs,
        batch: a.batch,
        lr: a.lr,
        seed: a.seed,
        recalibrate: a.recalibrate,
        shards: a.shards,
        quiet: a.quiet,
    };
    let out = qat_genome(&data, &bundle, &a.genome, &run)?;
    let (ptq, best) = (out.ptq, out.best);
    let mut meta = bundle.meta.clone();
    meta.command = util::command_line();
    meta.notes = json!({
        "qat": {"genome": a.genome.to_string(), "ptq_validation_accuracy": ptq, "qat_validation_accuracy": best,
                "epochs": a.epochs, "lr": a.lr, "seed": a.seed, "history": out.history,
                "seconds": t0.elapsed().as_secs_f64()},
        "base_model": a.model.display().to_string(),
        "base_notes": bundle.meta.notes,
    })
    .to_string();
    util::write(
        &a.out,
        &bitgru::io::save_bundle(&ModelBundle {
            meta,
            model: out.model,
            calibration: out.calibration,
        })?,
    )?;
    eprintln!(
        "{} genome {}: validation accuracy PTQ {:.4} -> QAT {:.4}; wrote {} ({:.0}s)",
        a.task,
        a.genome,
        ptq,
        best,
        a.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn bench(a: &BenchTrainArgs) -> Result<()> {
    let task = bitgru::synth::SynthTask::new(1, a.classes, a.steps, a.input, 1.0);
    let (xs, ys) = task.sample(2, a.batch * (a.batches + 1));
    let data = InMemory { xs: &xs, ys: &ys };
    let model = bitgru::synth::random_model(3, a.input, a.hidden, a.classes);
    let config = TrainConfig {
        epochs: 1,
        batch_size: a.batch,
        warmup_steps: 0,
        shards: a.shards,
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(model, config, &data)?;
    t.step(&data)?;
    let t0 = Instant::now();
    for _ in 0..a.batches {
        t.step(&data)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    let rate = (a.batch * a.batches) as f64 / secs;
    let threads = rayon::current_num_threads();
    if a.json {
        println!(
            "{}",
            json!({"input": a.input, "hidden": a.hidden, "classes": a.classes, "steps": a.steps,
                   "batch": a.batch, "batches": a.batches, "shards": a.shards, "threads": threads,
                   "seconds": secs, "samples_per_s": rate})
        );
    } else {
        println!(
            "train step (BPTT + Adam), input {} hidden {} steps {} batch {}: {:.1} samples/s, {:.1} ms/batch ({} threads)",
            a.input, a.hidden, a.steps, a.batch, rate, 1e3 * secs / a.batches as f64, threads
        );
    }
    Ok(())
}
