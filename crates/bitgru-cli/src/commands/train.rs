//! `bitgru train`, `bitgru qat`, `bitgru bench-train`.
use crate::cli::{BenchTrainArgs, KwsAugmentArgs, QatArgs, TrainArgs};
use crate::util;
use anyhow::{bail, Context, Result};
use bitgru::data::augment::KwsAugment;
use bitgru::frontend::FrontEnd;
use bitgru::io::{ModelBundle, ModelMeta};
use bitgru::task::{self, KwsTrainSource, Normalization, Task, TrainingSet};
use bitgru::train::{
    BatchSource, EpochRecord, InMemory, QatConfig, StepReport, TrainConfig, Trainer,
};
use bitgru::{Calibration, FloatGru};
use indicatif::ProgressBar;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
fn source(
    data: &Path,
    set: TrainingSet,
    norm: Option<&Normalization>,
    aug: &KwsAugment,
) -> Result<Source> {
    Ok(match set {
        TrainingSet::Features(d) => Source::Features(match norm {
            Some(n) => n.apply_dataset(&d),
            None => d,
        }),
        TrainingSet::Clips {
            clips,
            labels,
            classes,
            mfcc,
            ..
        } => {
            let (noise, _held_out) = task::load_noise(data).context("loading background noise")?;
            let label = |name: &str| {
                classes
                    .iter()
                    .position(|c| c == name)
                    .with_context(|| format!("no {name} class"))
            };
            Source::Kws(Box::new(KwsTrainSource::new(
                clips,
                labels,
                label("_silence_")?,
                label("_unknown_")?,
                aug,
                noise,
                *mfcc,
                norm.cloned(),
            )?))
        }
    })
}

impl KwsAugmentArgs {
    /// The augmentation these flags ask for: `Some` for keyword spotting, `None` for MNIST
    /// (where any non-default flag is an error: MNIST is not augmented).
    fn for_task(&self, task: Task) -> Result<Option<KwsAugment>> {
        let d = KwsAugment::default();
        let mut a = d.clone();
        a.waveform.max_shift_ms = self.shift_ms;
        a.waveform.noise_prob = self.noise_prob;
        a.waveform.snr_db = self.snr;
        a.spec = self.spec_augment.unwrap_or_default();
        a.extra_silence = self.silence_fraction;
        a.unknown_cap = self.unknown_cap;
        a.boundary_unknown = self.boundary_unknown;
        if !task.is_kws() {
            if a != d {
                bail!(
                    "--shift-ms, --noise-prob, --snr, --spec-augment, --silence-fraction, \
                     --unknown-cap and --boundary-unknown apply to kws4 and kws10 only, not {task}"
                );
            }
            return Ok(None);
        }
        if task != Task::Kws4 && a.unknown_cap != d.unknown_cap {
            bail!("--unknown-cap applies to kws4 only (kws10 keeps every _unknown_ clip)");
        }
        a.validate().context("KWS augmentation")?;
        Ok(Some(a))
    }
}

fn bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(util::bar_style("{pos}/{len} steps  eta {eta}  {msg}"));
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
        "epoch {:>3}  train loss {:.4} acc {:.4}  val loss {} acc {}{}  lr {:.2e}  {:.0}s{}",
        r.epoch,
        r.train_loss,
        r.train_accuracy,
        r.val_loss.map_or("-".into(), |v| format!("{v:.4}")),
        r.val_accuracy.map_or("-".into(), |v| format!("{v:.4}")),
        r.val_accuracy_raw
            .map_or(String::new(), |v| format!(" (raw weights {v:.4})")),
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

/// Settings of `train` that a checkpoint fixes: (option, value given now, checkpoint's value).
fn resume_differences(a: &TrainArgs, t: &Trainer) -> Vec<(&'static str, String, String)> {
    let c = &t.config;
    let mut d = Vec::new();
    let mut check = |name: &'static str, given: Option<String>, was: String| {
        if let Some(g) = given {
            if g != was {
                d.push((name, g, was));
            }
        }
    };
    check(
        "--hidden",
        a.hidden.map(|v| v.to_string()),
        t.model.hidden.to_string(),
    );
    check(
        "--batch",
        a.batch.map(|v| v.to_string()),
        c.batch_size.to_string(),
    );
    check("--lr", a.lr.map(|v| v.to_string()), c.lr.to_string());
    check(
        "--min-lr",
        a.min_lr.map(|v| v.to_string()),
        c.min_lr.to_string(),
    );
    check(
        "--warmup",
        a.warmup.map(|v| v.to_string()),
        c.warmup_steps.to_string(),
    );
    check(
        "--clip",
        a.clip.map(|v| v.to_string()),
        c.clip_norm.to_string(),
    );
    check(
        "--weight-decay",
        a.weight_decay.map(|v| v.to_string()),
        c.weight_decay.to_string(),
    );
    check("--seed", a.seed.map(|v| v.to_string()), c.seed.to_string());
    check(
        "--patience",
        a.patience.map(|v| v.to_string()),
        c.patience.to_string(),
    );
    check(
        "--tbptt",
        a.tbptt.map(|v| v.to_string()),
        c.tbptt.map_or("off".into(), |v| v.to_string()),
    );
    check(
        "--shards",
        a.shards.map(|v| v.to_string()),
        c.shards.to_string(),
    );
    check(
        "--ema",
        a.ema.map(|v| v.to_string()),
        c.ema.map_or("off".into(), |v| v.to_string()),
    );
    let mfcc = c.mfcc.clone().unwrap_or_default();
    check(
        "--n-mfcc",
        a.n_mfcc.map(|v| v.to_string()),
        mfcc.n_mfcc.to_string(),
    );
    check(
        "--n-mels",
        a.n_mels.map(|v| v.to_string()),
        mfcc.n_mels.to_string(),
    );
    check(
        "--fmax",
        a.fmax.map(|v| v.to_string()),
        mfcc.fmax.to_string(),
    );
    d
}

/// The features a KWS checkpoint was trained on (`config.mfcc`, `None` = the default MFCC).
fn checkpoint_front_end(task: Task, config: &TrainConfig) -> FrontEnd {
    match (&config.mfcc, task.is_kws()) {
        (Some(c), true) => FrontEnd::Mfcc {
            config: c.clone(),
            clip_samples: bitgru::audio::CLIP_SAMPLES,
        },
        _ => task.front_end(),
    }
}

/// Per-epoch metrics as CSV.
fn metrics_csv(history: &[EpochRecord]) -> String {
    let mut out =
        String::from("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,improved\n");
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in history {
        out += &format!(
            "{},{},{},{},{},{},{}\n",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            opt(r.val_loss),
            opt(r.val_accuracy),
            r.lr,
            r.improved
        );
    }
    out
}

pub fn run(a: &TrainArgs) -> Result<()> {
    let t0 = Instant::now();
    // Everything that can be checked cheaply fails before the data is loaded and trained on.
    // The options themselves first, then the files.
    let augment = a.augment.for_task(a.task)?;
    bitgru::train::check_label_smoothing(a.label_smoothing).context("--label-smoothing")?;
    if let Some(d) = a.ema {
        bitgru::train::check_ema(d).context("--ema")?;
    }
    let mfcc_options = task::MfccOptions {
        n_mfcc: a.n_mfcc,
        n_mels: a.n_mels,
        fmax: a.fmax,
    };
    let asked_front = a.task.front_end_with(&mfcc_options).with_context(|| {
        let show = |v: Option<String>| v.unwrap_or_else(|| "default".into());
        format!(
            "--n-mfcc {} / --n-mels {} / --fmax {}",
            show(a.n_mfcc.map(|v| v.to_string())),
            show(a.n_mels.map(|v| v.to_string())),
            show(a.fmax.map(|v| v.to_string()))
        )
    })?;
    let unknown_cap = augment.as_ref().map_or(1.0, |g| g.unknown_cap);
    util::check_writable(&a.out, "--out")?;
    if let Some(log) = &a.log {
        util::check_writable(log, "--log")?;
    }
    let resumed = match (&a.checkpoint, a.resume) {
        (Some(ck), true) => {
            if !ck.exists() {
                bail!("--resume: checkpoint {} does not exist", ck.display());
            }
            let t = Trainer::restore(&util::read(ck, "checkpoint")?)
                .with_context(|| format!("checkpoint {}", ck.display()))?;
            let diff = resume_differences(a, &t);
            if !diff.is_empty() {
                let list = |f: &dyn Fn(&(&str, String, String)) -> String| {
                    diff.iter().map(f).collect::<Vec<_>>().join(", ")
                };
                bail!(
                    "checkpoint {} was made with {}; this run asks for {}. A resumed run keeps \
                     its checkpoint's settings (only --epochs may change): drop these options \
                     or give the checkpoint's values, or start over with --force (without \
                     --resume)",
                    ck.display(),
                    list(&|(n, _, was)| format!("{n} {was}")),
                    list(&|(n, now, _)| format!("{n} {now}"))
                );
            }
            Some(t.config.clone())
        }
        (Some(ck), false) if ck.exists() && !a.force => bail!(
            "checkpoint {} already exists: continue it with --resume, start over with --force \
             (it is overwritten), or choose another --checkpoint",
            ck.display()
        ),
        _ => None,
    };
    if let Some(ck) = &a.checkpoint {
        util::check_writable(ck, "--checkpoint")?;
    }

    // A resumed run keeps its checkpoint's features (given flags were checked to agree).
    let front = match &resumed {
        Some(c) => checkpoint_front_end(a.task, c),
        None => asked_front,
    };
    let (set, val) =
        task::load_training_with(a.task, &a.data, a.limit, a.val_limit, unknown_cap, &front)
            .with_context(|| {
                format!("loading {} training data from {}", a.task, a.data.display())
            })?;
    let features = set.features().clone();
    let norm = Normalization::from_dataset(&features);
    let val_n = norm.apply_dataset(&val);
    let classes = features.classes.clone();
    let (steps, input) = match (front.steps(), front.input()) {
        (Some(s), Some(i)) => (s, i),
        _ => a.task.shape(),
    };
    if features.steps != steps || features.input != input {
        bail!(
            "{} data has shape {}x{}, expected {steps}x{input}",
            a.task,
            features.steps,
            features.input
        );
    }
    let src = source(
        &a.data,
        set,
        Some(&norm),
        augment.as_ref().unwrap_or(&KwsAugment::default()),
    )?;
    let train = src.as_dyn();
    if let Source::Kws(k) = &src {
        if k.extra_silence() > 0 {
            eprintln!(
                "plus {} generated _silence_ examples per epoch",
                k.extra_silence()
            );
        }
        if k.boundary_unknown() > 0 {
            eprintln!(
                "plus {} boundary-window _unknown_ examples per epoch",
                k.boundary_unknown()
            );
        }
    }
    let val_src = &val_n;
    let config = TrainConfig {
        epochs: a.epochs,
        batch_size: a.batch.unwrap_or(128),
        lr: a.lr.unwrap_or(3e-3),
        min_lr: a.min_lr.unwrap_or(1e-5),
        warmup_steps: a.warmup.unwrap_or(200),
        schedule: bitgru::train::Schedule::Cosine,
        clip_norm: a.clip.unwrap_or(1.0),
        weight_decay: a.weight_decay.unwrap_or(0.0),
        seed: a.seed.unwrap_or(0),
        patience: a.patience.unwrap_or(0),
        tbptt: a.tbptt,
        shards: a.shards.unwrap_or(4),
        balance_classes: a.task.is_kws(),
        label_smoothing: a.label_smoothing,
        augment: augment.clone(),
        ema: a.ema,
        mfcc: front
            .mfcc()
            .filter(|c| **c != bitgru::audio::MfccConfig::default())
            .cloned(),
    };
    let mut trainer = match (&a.checkpoint, resumed) {
        (Some(ck), Some(_)) => {
            let mut t = Trainer::restore_for(&util::read(ck, "checkpoint")?, train)
                .with_context(|| format!("checkpoint {}", ck.display()))?;
            if t.model.input_size != input || t.model.classes != classes.len() {
                bail!(
                    "checkpoint {} holds a model with {} inputs and {} classes, {} data has {input} \
                     and {}",
                    ck.display(),
                    t.model.input_size,
                    t.model.classes,
                    a.task,
                    classes.len()
                );
            }
            // Checkpoints from before these settings were recorded trained KWS with the default
            // augmentation and no smoothing.
            let ck_aug = match (&t.config.augment, a.task.is_kws()) {
                (None, true) => Some(KwsAugment::default()),
                (g, _) => g.clone(),
            };
            if ck_aug != augment || t.config.label_smoothing != a.label_smoothing {
                bail!(
                    "checkpoint {} was trained with label smoothing {} and augmentation {}, this \
                     run asks for label smoothing {} and augmentation {}: resume with the same \
                     flags (the training stream depends on them)",
                    ck.display(),
                    t.config.label_smoothing,
                    serde_json::to_string(&ck_aug)?,
                    a.label_smoothing,
                    serde_json::to_string(&augment)?
                );
            }
            // --epochs may extend a finished or running schedule (the cosine is re-planned).
            t.config.augment = augment.clone();
            t.config.epochs = a.epochs;
            eprintln!(
                "resumed from {} at epoch {}, step {}",
                ck.display(),
                t.epoch,
                t.steps()
            );
            t
        }
        _ => {
            let hidden = a.hidden.unwrap_or(a.task.default_hidden());
            let init = bitgru::synth::pytorch_init(config.seed, input, hidden, classes.len());
            Trainer::new(init, config, train)?
        }
    };
    let hidden = trainer.model.hidden;
    let seed = trainer.config.seed;
    eprintln!(
        "{}: {} training / {} validation examples, {} classes, hidden {hidden}; loaded in {:.1}s",
        a.task,
        features.len(),
        val.len(),
        classes.len(),
        t0.elapsed().as_secs_f64()
    );
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Only one handler per process; without it Ctrl-C keeps its default behaviour.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let total = (trainer.config.epochs * trainer.steps_per_epoch()) as u64;
    let pb = bar(total, a.quiet);
    pb.set_position(trainer.steps());
    // On an interruption the checkpoint goes to --checkpoint, or next to the bundle.
    let interrupt_ck = a
        .checkpoint
        .clone()
        .unwrap_or_else(|| a.out.with_extension("ckpt.json"));
    let save_ck = |t: &Trainer, path: Option<&Path>| -> Result<()> {
        if let Some(ck) = path {
            write_atomic(ck, &t.checkpoint())?;
        }
        Ok(())
    };
    let mut stopped: Option<&str> = None;
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
            save_ck(&trainer, a.checkpoint.as_deref())?;
            if let Some(log) = &a.log {
                write_atomic(log, metrics_csv(&trainer.history).as_bytes())?;
            }
        } else if a.checkpoint.is_some() && s.step.is_multiple_of(a.checkpoint_every.max(1)) {
            save_ck(&trainer, a.checkpoint.as_deref())?;
        }
        if a.max_minutes
            .is_some_and(|m| t0.elapsed().as_secs_f64() > m * 60.0)
        {
            stopped = Some("stopped at --max-minutes");
        }
        if stop.load(Ordering::SeqCst) {
            stopped = Some("interrupted (Ctrl-C)");
        }
        if stopped.is_some() {
            save_ck(&trainer, Some(&interrupt_ck))?;
            break;
        }
    }
    pb.finish_and_clear();
    let (best_acc, mut model) = trainer
        .best
        .clone()
        .unwrap_or_else(|| (0.0, trainer.eval_model().clone()));
    norm.fold_into(&mut model)?;
    let bundle = finish_bundle(
        a.task,
        front,
        model,
        &features,
        classes,
        json!({
            "hidden": hidden,
            "validation_accuracy_float": best_acc,
            "validation_examples": val.len(),
            "epochs_done": trainer.epoch,
            "steps": trainer.steps(),
            "train_seconds_this_run": t0.elapsed().as_secs_f64(),
            "config": trainer.config,
            "history": trainer.history,
            "finished": trainer.finished(),
            "normalization_folded": norm,
        }),
        seed,
    )?;
    util::write(&a.out, &bitgru::io::save_bundle(&bundle)?)?;
    match stopped {
        None => eprintln!(
            "{} done: best validation accuracy {:.4}; wrote {} ({:.0}s)",
            a.task,
            best_acc,
            a.out.display(),
            t0.elapsed().as_secs_f64()
        ),
        Some(why) => {
            let mut cont = util::command_line();
            if !a.resume {
                cont += " --resume";
            }
            if a.checkpoint.is_none() {
                cont += &format!(
                    " --checkpoint {}",
                    util::shell_quote(&interrupt_ck.display().to_string())
                );
            }
            eprintln!(
                "{} {why} at epoch {}, step {} of {total}: wrote the best model so far (validation \
                 accuracy {best_acc:.4}) to {} and the checkpoint to {} ({:.0}s). Continue with:\n  {cont}",
                a.task,
                trainer.epoch,
                trainer.steps(),
                a.out.display(),
                interrupt_ck.display(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Calibrates a raw-feature model on (up to 512 evenly spaced) training features and wraps it.
fn finish_bundle(
    task: Task,
    features_front: FrontEnd,
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
            features: features_front,
            seed,
            command: util::command_line(),
            notes: notes.to_string(),
            qat_genome: None,
            detect_threshold: None,
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
    /// Loads `task`'s training data (`limit`, `val_limit`: evenly spaced subsets of the training
    /// and validation splits) featurized for a model recording the front end `front` (KWS: its
    /// own MFCC configuration) and checks it fits `model`.
    pub fn load(
        task: Task,
        data: &Path,
        limit: Option<usize>,
        val_limit: Option<usize>,
        front: &FrontEnd,
        model: &FloatGru,
    ) -> Result<QatData> {
        let (set, val) = task::load_training_with(task, data, limit, val_limit, 1.0, front)
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
            src: source(data, set, None, &task::default_augment())?,
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
    /// The best fine-tuned epoch's accuracy (`None`: no epoch ran).
    pub qat_best: Option<f64>,
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
        augment: data.task.is_kws().then(task::default_augment),
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
        qat_best: t.best.as_ref().map(|b| b.0),
        model,
        calibration,
        history: t.history.clone(),
    })
}

pub fn qat(a: &QatArgs) -> Result<()> {
    let t0 = Instant::now();
    let bundle = bitgru::io::load_bundle(&util::read(&a.model, "model bundle")?)
        .with_context(|| format!("model bundle {}", a.model.display()))?;
    bitgru::task::check_meta(a.task, &bundle.meta).with_context(|| {
        format!(
            "model bundle {} does not fit the {} data",
            a.model.display(),
            a.task
        )
    })?;
    if let Some(g) = bundle.meta.qat_genome.filter(|g| *g != a.genome) {
        eprintln!(
            "note: {} was already fine-tuned for genome {g}; fine-tuning it for {} now",
            a.model.display(),
            a.genome
        );
    }
    util::check_writable(&a.out, "--out")?;
    let data = QatData::load(
        a.task,
        &a.data,
        a.limit,
        a.val_limit,
        &bundle.meta.features,
        &bundle.model,
    )?;
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
    meta.qat_genome = Some(a.genome);
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
    let secs = t0.elapsed().as_secs_f64();
    if best > ptq {
        eprintln!(
            "{} genome {}: QAT improved the validation accuracy from {ptq:.4} (PTQ) to {best:.4}; \
             wrote {} ({secs:.0}s)",
            a.task,
            a.genome,
            a.out.display()
        );
    } else {
        eprintln!(
            "{} genome {}: QAT did not improve on PTQ: validation accuracy {ptq:.4} before, best \
             fine-tuned epoch {} after {} epochs. Wrote the PTQ weights unchanged to {} \
             (try more --epochs, another --lr, or more data) ({secs:.0}s)",
            a.task,
            a.genome,
            out.qat_best.map_or("none".into(), |v| format!("{v:.4}")),
            a.epochs,
            a.out.display()
        );
    }
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
