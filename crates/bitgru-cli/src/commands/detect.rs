//! `bitgru detect`: keyword detections of a file (`--wav`), the detector measured on seeded
//! streams (`--eval`, docs/DETECTOR.md) and its cost per hop (`--bench`).
use crate::cli::{DetectArgs, DetectMode};
use crate::models::{self, ModelFile};
use crate::util;
use anyhow::{bail, Context, Result};
use bitgru::detect::streams::{
    self, LabeledClip, OperatingPoint, Scored, StreamConfig, StreamKind,
};
use bitgru::detect::{Detector, DetectorConfig, DetectorModel, DetectorOutput, Levers, Mode};
use bitgru::io::ModelMeta;
use bitgru::{Genome, QuantGru};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

/// The default model, built into the binary so `--wav` works anywhere.
const DEFAULT_MODEL: &[u8] = include_bytes!("../../../../assets/models/kws10.safetensors");
const DEFAULT_MODEL_NAME: &str = "assets/models/kws10.safetensors (built in)";

/// Thresholds of the DET curve: every 0.05 up to 0.8, then every 0.005 (where the low
/// false-alarm operating points are).
pub const THRESHOLDS: [f32; 50] = [
    0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.805, 0.81, 0.815, 0.82, 0.825,
    0.83, 0.835, 0.84, 0.845, 0.85, 0.855, 0.86, 0.865, 0.87, 0.875, 0.88, 0.885, 0.89, 0.895, 0.9,
    0.905, 0.91, 0.915, 0.92, 0.925, 0.93, 0.935, 0.94, 0.945, 0.95, 0.955, 0.96, 0.965, 0.97,
    0.975, 0.98, 0.985, 0.99, 0.995,
];

/// False alarms per hour of unknown speech within which `--eval` reports the best detection
/// rate of every decision setting.
pub const FA_BUDGETS: [f64; 2] = [10.0, 30.0];

/// A loaded model: how to make a fresh scoring model, its metadata and a name.
struct Source {
    meta: ModelMeta,
    /// Float model + calibration, or a prepared integer model.
    bundle: Option<bitgru::io::ModelBundle>,
    quant: Option<QuantGru>,
    name: String,
    genome: Option<Genome>,
}

impl Source {
    fn load(a: &DetectArgs) -> Result<Source> {
        let (file, name) = match &a.model {
            Some(p) => (models::load(p)?, p.display().to_string()),
            None => (
                ModelFile::Bundle(
                    bitgru::io::load_bundle(DEFAULT_MODEL).context("the built-in kws10 model")?,
                ),
                DEFAULT_MODEL_NAME.to_string(),
            ),
        };
        match file {
            ModelFile::Bundle(b) => {
                let genome = if a.float {
                    None
                } else {
                    Some(match a.genome {
                        Some(g) => g,
                        None => Genome::uniform(8)?,
                    })
                };
                if let Some(g) = &genome {
                    QuantGru::prepare(&b.model, &b.calibration, g)
                        .with_context(|| format!("preparing genome {g} for {name}"))?;
                }
                Ok(Source {
                    meta: b.meta.clone(),
                    bundle: Some(b),
                    quant: None,
                    name,
                    genome,
                })
            }
            ModelFile::Quant { q, provenance } => {
                if a.float {
                    bail!("model file {name} is a quantized .bitgru model: it has no float model for --float");
                }
                if let Some(p) = &a.model {
                    models::check_quant_genome(p, &q, a.genome.as_ref())?;
                }
                let meta = ModelMeta::from_provenance(&provenance).with_context(|| {
                    format!("{name}: no model metadata (front end, classes) in its provenance")
                })?;
                Ok(Source {
                    meta,
                    genome: Some(q.genome),
                    quant: Some(q),
                    bundle: None,
                    name,
                })
            }
            ModelFile::Weights { .. } => bail!(
                "model file {name} holds float weights without calibration and front end; \
                 the detector needs a bundle (bitgru train / calibrate) or a .bitgru file"
            ),
        }
    }

    fn model(&self) -> Result<DetectorModel> {
        Ok(match (&self.bundle, &self.quant) {
            (Some(b), _) => DetectorModel::from_bundle(b, self.genome.as_ref())?,
            (None, Some(q)) => DetectorModel::integer(q.clone())?,
            (None, None) => unreachable!("a source has a bundle or a quantized model"),
        })
    }

    fn detector(&self, config: &DetectorConfig, rate: u32) -> Result<Detector> {
        Detector::new(
            self.model()?,
            &self.meta.features,
            &self.meta.classes,
            config.clone(),
            rate,
        )
        .with_context(|| format!("building the detector for {}", self.name))
    }

    /// The sample rate of the model's MFCC front end.
    fn rate(&self) -> Result<u32> {
        self.meta
            .features
            .mfcc()
            .map(|m| m.sample_rate)
            .with_context(|| format!("model {} has no mfcc front end", self.name))
    }

    fn model_label(&self) -> String {
        match &self.genome {
            Some(g) => format!("integer {g}"),
            None => "float".into(),
        }
    }
}

/// The detector settings: the model's defaults ([`DetectorConfig::for_model`]), then the
/// `--config` file's fields, then the flags.
fn config(a: &DetectArgs, meta: &ModelMeta) -> Result<DetectorConfig> {
    let base = DetectorConfig::for_model(meta);
    let mut c = match &a.config {
        Some(p) => {
            let bytes = util::read(p, "detector config")?;
            let what = || {
                format!(
                    "detector config {} (bitgru::detect::DetectorConfig JSON)",
                    p.display()
                )
            };
            let v: serde_json::Value = serde_json::from_slice(&bytes).with_context(what)?;
            let has_threshold = v.get("threshold").is_some();
            let mut c: DetectorConfig = serde_json::from_value(v).with_context(what)?;
            if !has_threshold {
                c.threshold = base.threshold;
            }
            c
        }
        None => base,
    };
    if let Some(t) = a.threshold {
        c.threshold = t;
    }
    if a.fewer_speech_alarms {
        c = c.with_levers(Levers::FEWER_SPEECH_ALARMS);
    }
    let mode = a.mode.or(match (a.every, a.decay) {
        (_, Some(_)) => Some(DetectMode::Stateful),
        (Some(_), None) => Some(DetectMode::Window),
        _ => None,
    });
    match mode {
        Some(DetectMode::Window) => {
            if a.decay.is_some() {
                bail!("--decay is a stateful-mode setting (use --mode stateful)");
            }
            let every = match c.mode {
                Mode::Window { every } => every,
                Mode::Stateful { .. } => 2,
            };
            c.mode = Mode::Window {
                every: a.every.unwrap_or(every),
            };
        }
        Some(DetectMode::Stateful) => {
            if a.every.is_some() {
                bail!("--every is a window-mode setting (use --mode window)");
            }
            c.mode = Mode::Stateful {
                decay: a.decay.unwrap_or(1.0),
            };
        }
        None => {}
    }
    Ok(c)
}

pub fn run(a: &DetectArgs) -> Result<()> {
    let src = Source::load(a)?;
    let cfg = config(a, &src.meta)?;
    if a.eval {
        eval(a, &src, &cfg)
    } else if a.bench {
        bench(a, &src, &cfg)
    } else if let Some(wav) = &a.wav {
        detect_file(a, wav, &src, &cfg)
    } else {
        bail!("nothing to do: pass --wav FILE, --eval (with --task, --data, --out) or --bench")
    }
}

fn detect_file(a: &DetectArgs, path: &Path, src: &Source, cfg: &DetectorConfig) -> Result<()> {
    let bytes = util::read(path, "audio file")?;
    let rate = src.rate()?;
    let clip = bitgru::audio::decode(&bytes, &bitgru::audio::DecodeOptions::converting(rate))
        .with_context(|| format!("decoding {} (WAV or FLAC)", path.display()))?;
    let mut det = src.detector(cfg, clip.sample_rate)?;
    let out = det.run(&clip.samples)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out.events)?);
    } else {
        println!(
            "{}: {:.2} s, model {} ({}), threshold {}",
            path.display(),
            clip.duration_s(),
            src.name,
            src.model_label(),
            cfg.threshold
        );
        if out.events.is_empty() {
            println!("no keyword detected");
        }
        for e in &out.events {
            println!("{:>8.2} s  {:<8} score {:.3}", e.time_s, e.keyword, e.score);
        }
    }
    Ok(())
}

fn kws_task(task: bitgru::task::Task) -> Result<bitgru::data::speech::KwsTask> {
    use bitgru::data::speech::KwsTask;
    use bitgru::task::Task;
    match task {
        Task::Kws4 => Ok(KwsTask::Kws4),
        Task::Kws10 => Ok(KwsTask::Kws10),
        t => bail!("--eval needs a keyword-spotting task (kws4, kws10), got {t}"),
    }
}

fn eval(a: &DetectArgs, src: &Source, cfg: &DetectorConfig) -> Result<()> {
    let task = a.task.context("--eval needs --task")?;
    let data = a.data.as_deref().context("--eval needs --data")?;
    let out_dir = a.out.as_deref().context("--eval needs --out")?;
    let kt = kws_task(task)?;
    let with_threshold = bundle_with_threshold(a, src, cfg.threshold)?;
    let settings = sweep_settings(a, cfg, &src.meta.classes)?;
    let classes = kt.classes();
    if src.meta.classes != classes {
        bail!(
            "model {} has classes [{}], task {task} has [{}]",
            src.name,
            src.meta.classes.join(", "),
            classes.join(", ")
        );
    }
    let rate = src.rate()?;
    let dir = bitgru::task::task_dir(task, data);
    let t0 = Instant::now();
    let set = bitgru::data::speech::load_split(
        &dir,
        kt,
        bitgru::data::speech::SpeechSplit::Validation,
        None,
    )
    .with_context(|| format!("loading the {task} validation split from {}", dir.display()))?;
    let n_kw = kt.keywords().len();
    let clip = |i: usize| LabeledClip {
        samples: set.clips[i].samples.clone(),
        class: set.labels[i],
    };
    let kw_idx: Vec<usize> = (0..set.len()).filter(|&i| set.labels[i] < n_kw).collect();
    let kw_idx = bitgru::data::speech::evenly_spaced(&kw_idx, a.limit);
    let keywords: Vec<LabeledClip> = kw_idx.iter().map(|&i| clip(i)).collect();
    let unknown: Vec<LabeledClip> = (0..set.len())
        .filter(|&i| set.labels[i] == kt.unknown_label())
        .map(clip)
        .collect();
    let (_, held_out) = bitgru::task::load_noise(data).context("loading background noise")?;
    let mut scfg = StreamConfig {
        seed: a.seed,
        sample_rate: rate,
        ..StreamConfig::default()
    };
    if a.limit.is_some() {
        scfg.noise_streams = 2;
        scfg.unknown_passes = 1;
    }
    let all = streams::build_all(&keywords, &unknown, &held_out, &scfg)?;
    let t_build = t0.elapsed();
    eprintln!(
        "{} keyword clips, {} unknown clips, held-out noise {:.1} s; {} streams, {:.1} min of audio (built in {:.1?})",
        keywords.len(),
        unknown.len(),
        held_out.total_samples() as f64 / f64::from(rate),
        all.len(),
        all.iter().map(|s| s.samples.len()).sum::<usize>() as f64 / f64::from(rate) / 60.0,
        t_build
    );
    // Score every stream once (fresh detector each), in parallel.
    let t1 = Instant::now();
    let scored: Vec<Scored> = all
        .par_iter()
        .map(|s| -> Result<Scored> {
            let mut d = src.detector(cfg, rate)?;
            let mut out = DetectorOutput::default();
            d.push(&s.samples, &mut out)?;
            Ok(Scored::from_frames(classes.len(), &out.frames))
        })
        .collect::<Result<_>>()?;
    let t_score = t1.elapsed();
    let frames: usize = scored.iter().map(|s| s.times.len()).sum();
    let keyword_classes: Vec<usize> = (0..n_kw).collect();
    let curve_of = |c: &DetectorConfig| {
        streams::curve(
            &all,
            &scored,
            &classes,
            &keyword_classes,
            c,
            &THRESHOLDS,
            rate,
            a.tolerance,
        )
    };
    let curve = curve_of(cfg);
    // The point at the configured threshold: on the curve when the threshold is on its grid.
    let at_threshold = |points: &[OperatingPoint], c: &DetectorConfig| {
        points
            .iter()
            .find(|p| p.threshold == c.threshold)
            .cloned()
            .unwrap_or_else(|| {
                streams::operating_point(
                    &all,
                    &scored,
                    &classes,
                    &keyword_classes,
                    c,
                    rate,
                    a.tolerance,
                )
            })
    };
    let t2 = Instant::now();
    let sweep: Vec<SweepRow> = settings
        .par_iter()
        .map(|&levers| {
            let c = cfg.with_levers(levers);
            let swept;
            let points = if levers == cfg.levers {
                &curve
            } else {
                swept = curve_of(&c);
                &swept
            };
            SweepRow {
                levers,
                best: FA_BUDGETS.map(|fa| streams::best_within(points, fa).cloned()),
                at_threshold: at_threshold(points, &c),
            }
        })
        .collect();
    let t_sweep = t2.elapsed();
    let suggested = streams::suggest_threshold(&curve).expect("a non-empty curve");
    let chosen = at_threshold(&curve, cfg);
    let durations = |k| streams::duration_s(&all, k, rate);
    let report = serde_json::json!({
        "command": util::command_line(),
        "task": task.name(),
        "model": src.name,
        "genome": src.genome.map(|g| g.to_string()),
        "float": src.genome.is_none(),
        "seed": a.seed,
        "tolerance_s": a.tolerance,
        "detector": cfg,
        "streams": scfg,
        "counts": {
            "keyword_clips": keywords.len(),
            "unknown_clips": unknown.len(),
            "held_out_noise_s": held_out.total_samples() as f64 / f64::from(rate),
            "streams": all.len(),
            "frames": frames,
        },
        "durations_s": {
            "keywords_in_noise": durations(StreamKind::KeywordsInNoise),
            "keywords_in_unknown": durations(StreamKind::KeywordsInUnknown),
            "noise_only": durations(StreamKind::NoiseOnly),
            "unknown_only": durations(StreamKind::UnknownOnly),
        },
        "keywords": kt.keywords(),
        "operating_point": chosen,
        "suggested": {
            "rule": format!(
                "maximize detection rate − (FA/h noise + FA/h unknown) / {} points \
                 (bitgru::detect::streams::suggest_threshold)",
                streams::FA_PER_HOUR_PER_POINT
            ),
            "threshold": suggested.threshold,
        },
        "curve": curve,
        "sweep": {
            "rule": "per decision setting, the threshold of the curve with the highest detection \
                     rate within each budget of false alarms per hour of unknown speech \
                     (bitgru::detect::streams::best_within; null when no threshold is that \
                     quiet), and the point at the configured threshold",
            "thresholds": THRESHOLDS.as_slice(),
            "fa_per_hour_unknown_budgets": FA_BUDGETS,
            "settings": sweep.iter().map(SweepRow::json).collect::<Vec<_>>(),
            "replay_s": t_sweep.as_secs_f64(),
        },
        "scoring_s": t_score.as_secs_f64(),
        "threads": rayon::current_num_threads(),
    });
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    util::write(
        &out_dir.join("detect.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    util::write(
        &out_dir.join("det.svg"),
        det_svg(task.name(), &src.model_label(), &curve, &chosen).as_bytes(),
    )?;
    if let (Some(p), Some(bytes)) = (&a.write_model, &with_threshold) {
        util::write(p, bytes)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{task} {} ({}), {} keyword clips; scored {frames} frames in {:.1?} on {} threads",
        src.name,
        src.model_label(),
        keywords.len(),
        t_score,
        rayon::current_num_threads()
    );
    println!(
        "threshold  detected  in-noise  in-unknown  FA/h noise  FA/h unknown  FA/h kw-streams"
    );
    for p in curve.iter().chain(std::iter::once(&chosen)) {
        println!(
            "{:>9.3}  {:>7.1}%  {:>7.1}%  {:>9.1}%  {:>10.1}  {:>12.1}  {:>15.1}{}",
            p.threshold,
            100.0 * p.detection_rate,
            100.0 * p.detection_rate_noise,
            100.0 * p.detection_rate_unknown,
            p.fa_per_hour_noise,
            p.fa_per_hour_unknown,
            p.fa_per_hour_keyword_streams,
            if std::ptr::eq(p, &chosen) {
                "   <- configured threshold"
            } else {
                ""
            }
        );
    }
    println!(
        "suggested threshold {} (detection − false alarms per hour / {}: {:.1} % at {:.1} FA/h \
         of unknown speech); store it with --threshold {} --write-model FILE",
        suggested.threshold,
        streams::FA_PER_HOUR_PER_POINT,
        100.0 * suggested.detection_rate,
        suggested.fa_per_hour_unknown,
        suggested.threshold
    );
    print_sweep(&sweep, t_sweep, cfg.threshold);
    println!("per keyword at threshold {}:", chosen.threshold);
    for (k, r) in kt.keywords().iter().zip(&chosen.per_keyword) {
        println!("  {k:<6} {:>5.1}%", 100.0 * r);
    }
    println!(
        "wrote {} and {}",
        out_dir.join("detect.json").display(),
        out_dir.join("det.svg").display()
    );
    if let Some(p) = &a.write_model {
        println!(
            "wrote {} with default threshold {}",
            p.display(),
            cfg.threshold
        );
    }
    Ok(())
}

/// The decision settings of `--eval`: every combination of the `--sweep-*` lists (an absent
/// list is the configured value), each checked against the model's classes before anything
/// runs.
fn sweep_settings(a: &DetectArgs, cfg: &DetectorConfig, classes: &[String]) -> Result<Vec<Levers>> {
    fn or<T: Copy>(list: &[T], configured: T) -> Vec<T> {
        if list.is_empty() {
            vec![configured]
        } else {
            list.to_vec()
        }
    }
    let base = cfg.levers;
    let mut out = Vec::new();
    for &margin in &or(&a.sweep_margin, base.margin) {
        for &margin_against in &or(&a.sweep_margin_against, base.margin_against) {
            for &hold_frames in &or(&a.sweep_hold, base.hold_frames) {
                for &unknown_weight in &or(&a.sweep_unknown_weight, base.unknown_weight) {
                    let l = Levers {
                        margin,
                        margin_against,
                        hold_frames,
                        unknown_weight,
                    };
                    l.validate(classes).with_context(|| {
                        format!(
                            "--sweep-* setting margin {margin} against {margin_against}, hold \
                             {hold_frames}, unknown weight {unknown_weight}"
                        )
                    })?;
                    out.push(l);
                }
            }
        }
    }
    Ok(out)
}

/// One decision setting of the sweep: its best operating point within each of [`FA_BUDGETS`]
/// and its point at the configured threshold.
struct SweepRow {
    levers: Levers,
    best: [Option<OperatingPoint>; FA_BUDGETS.len()],
    at_threshold: OperatingPoint,
}

impl SweepRow {
    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.levers).expect("levers serialize");
        for (fa, p) in FA_BUDGETS.iter().zip(&self.best) {
            v[format!("best_within_{fa}_fa_per_hour_unknown")] =
                serde_json::to_value(p).expect("operating points serialize");
        }
        v["at_configured_threshold"] =
            serde_json::to_value(&self.at_threshold).expect("operating points serialize");
        v
    }
}

fn print_sweep(rows: &[SweepRow], took: std::time::Duration, threshold: f32) {
    println!(
        "decision settings ({} replayed over {} thresholds in {took:.1?}): best detection within \
         {} FA/h of unknown speech (threshold, FA/h unknown, FA/h noise), and at the configured \
         threshold {threshold}",
        rows.len(),
        THRESHOLDS.len(),
        FA_BUDGETS.map(|f| format!("≤ {f}")).join(" / ")
    );
    print!("margin  against  hold  unk.w");
    for fa in FA_BUDGETS {
        print!("  | ≤{fa:<3} detected  thresh  FA/h unk  FA/h noise");
    }
    println!("  | at {threshold:<5} detected  FA/h unk  FA/h noise");
    for r in rows {
        let l = &r.levers;
        print!(
            "{:>6.2}  {:<7}  {:>4}  {:>5.2}",
            l.margin, l.margin_against, l.hold_frames, l.unknown_weight
        );
        for p in &r.best {
            match p {
                Some(p) => print!(
                    "  | {:>12.1}%  {:>6.3}  {:>8.1}  {:>10.1}",
                    100.0 * p.detection_rate,
                    p.threshold,
                    p.fa_per_hour_unknown,
                    p.fa_per_hour_noise
                ),
                None => print!("  | {:>13}  {:>6}  {:>8}  {:>10}", "—", "", "", ""),
            }
        }
        let p = &r.at_threshold;
        println!(
            "  | {:>16.1}%  {:>8.1}  {:>10.1}",
            100.0 * p.detection_rate,
            p.fa_per_hour_unknown,
            p.fa_per_hour_noise
        );
    }
}

/// `--write-model`: the source bundle with `threshold` as its default, checked before the
/// (long) evaluation runs so that a wrong model fails early; written after it.
fn bundle_with_threshold(a: &DetectArgs, src: &Source, threshold: f32) -> Result<Option<Vec<u8>>> {
    let Some(p) = &a.write_model else {
        return Ok(None);
    };
    let Some(b) = &src.bundle else {
        bail!(
            "--write-model {}: model {} is a .bitgru file; store the threshold in the bundle it \
             was exported from",
            p.display(),
            src.name
        );
    };
    let mut b = b.clone();
    b.meta.detect_threshold = Some(threshold);
    b.meta.check_detect_threshold()?;
    Ok(Some(bitgru::io::save_bundle(&b)?))
}

/// Microseconds per hop of `det` on `signal`, pushed one hop at a time (best of `reps`).
fn per_hop_us(det: &mut Detector, signal: &[f32], reps: usize) -> Result<f64> {
    let hop = det.mfcc_config().hop_length;
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        det.reset();
        let mut out = DetectorOutput::default();
        let t = Instant::now();
        for chunk in signal.chunks(hop) {
            det.push(chunk, &mut out)?;
            out.frames.clear();
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / det.frames_done().max(1) as f64;
        best = best.min(us);
    }
    Ok(best)
}

fn bench(a: &DetectArgs, src: &Source, cfg: &DetectorConfig) -> Result<()> {
    let rate = src.rate()?;
    let signal = bitgru::detect::bench_signal(a.seed, rate, 20.0);
    let mut rows = Vec::new();
    let mut run = |label: String, mut det: Detector| -> Result<()> {
        let us = per_hop_us(&mut det, &signal, 3)?;
        rows.push(serde_json::json!({"model": label, "us_per_hop": us}));
        Ok(())
    };
    run(src.model_label(), src.detector(cfg, rate)?)?;
    if let Some(b) = &src.bundle {
        if src.genome.is_some() {
            let float = Detector::new(
                DetectorModel::float(b.model.clone())?,
                &src.meta.features,
                &src.meta.classes,
                cfg.clone(),
                rate,
            )?;
            run("float".into(), float)?;
        }
        // The same hop work without the model (MFCC + gate + decision only).
        let gated = DetectorConfig {
            gate_dbfs: 0.0,
            ..cfg.clone()
        };
        run(
            "MFCC + decision only (gate closed)".into(),
            Detector::new(
                DetectorModel::from_bundle(b, src.genome.as_ref())?,
                &src.meta.features,
                &src.meta.classes,
                gated,
                rate,
            )?,
        )?;
    }
    let report = serde_json::json!({
        "model": src.name,
        "hidden": src.model()?.hidden(),
        "detector": cfg,
        "signal_s": 20.0,
        "rows": rows,
        "kernel_variant": bitgru::kernel::variant_name(),
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "per 20 ms hop (MFCC + GRU + decision), {} hidden, mode {:?}, one thread, kernel {}:",
            src.model()?.hidden(),
            cfg.mode,
            bitgru::kernel::variant_name()
        );
        for r in &rows {
            println!(
                "  {:<40} {:>8.1} us",
                r["model"].as_str().unwrap_or(""),
                r["us_per_hop"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}

/// Detection rate against false alarms per hour (log axis), one curve for unknown speech and
/// one for noise, the configured threshold marked.
fn det_svg(task: &str, model: &str, curve: &[OperatingPoint], chosen: &OperatingPoint) -> String {
    use super::plot::{esc, frame_and_labels, B, H, L, R, T, W};
    use std::fmt::Write;
    // x: log10 of FA/h from 0.1 (0 is drawn at the left edge) to the next power of ten.
    let max_fa = curve
        .iter()
        .flat_map(|p| [p.fa_per_hour_unknown, p.fa_per_hour_noise])
        .fold(10.0, f64::max);
    let (x_lo, x_hi) = (-1.0f64, max_fa.log10().ceil().max(1.0));
    let px = |fa: f64| L + ((fa.max(0.1)).log10() - x_lo) / (x_hi - x_lo) * (W - L - R);
    let py = |rate: f64| T + (1.0 - rate.clamp(0.0, 1.0)) * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{L}" y="22" font-size="15" font-weight="bold">{} detector ({}) — detection rate vs false alarms</text>"#,
        esc(task),
        esc(model)
    );
    let _ = writeln!(
        s,
        r##"<text x="{L}" y="40" fill="#444">threshold {:.3}: {:.1} % detected, {:.1} FA/h unknown speech, {:.1} FA/h noise</text>"##,
        chosen.threshold,
        100.0 * chosen.detection_rate,
        chosen.fa_per_hour_unknown,
        chosen.fa_per_hour_noise
    );
    for k in 0..=10 {
        let y = k as f64 / 10.0;
        let _ = writeln!(
            s,
            r##"<line x1="{L}" x2="{:.1}" y1="{1:.1}" y2="{1:.1}" stroke="#e5e5e5"/><text x="{2:.1}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            W - R,
            py(y),
            L - 6.0,
            py(y) + 4.0,
            k * 10
        );
    }
    let mut e = x_lo as i32;
    while e <= x_hi as i32 {
        let fa = 10f64.powi(e);
        let label = if e < 0 {
            "≤0.1".to_string()
        } else {
            format!("{fa}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{T}" y2="{1:.1}" stroke="#e5e5e5"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{label}</text>"##,
            px(fa),
            H - B,
            H - B + 18.0
        );
        e += 1;
    }
    frame_and_labels(
        &mut s,
        "false alarms per hour (log scale)",
        "keywords detected (%)",
    );
    /// `(name, colour, false-alarm rate of a point)`.
    type Series = (&'static str, &'static str, fn(&OperatingPoint) -> f64);
    let series: [Series; 2] = [
        ("unknown speech", "#1f77b4", |p| p.fa_per_hour_unknown),
        ("background noise", "#d62728", |p| p.fa_per_hour_noise),
    ];
    for (i, (name, color, fa)) in series.iter().enumerate() {
        let pts: Vec<String> = curve
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(fa(p)), py(p.detection_rate)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            pts.join(" ")
        );
        for p in curve {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>threshold {}: {:.1} % detected, {:.1} FA/h</title></circle>"#,
                px(fa(p)),
                py(p.detection_rate),
                p.threshold,
                100.0 * p.detection_rate,
                fa(p)
            );
        }
        let ly = T + 20.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" x2="{1:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"/><text x="{2:.1}" y="{3:.1}">{name}</text>"#,
            W - R + 12.0,
            W - R + 36.0,
            W - R + 42.0,
            ly + 4.0
        );
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="7" fill="none" stroke="#000" stroke-width="1.5"/>"##,
            px(fa(chosen)),
            py(chosen.detection_rate)
        );
    }
    let ly = T + 70.0;
    let _ = writeln!(
        s,
        r##"<circle cx="{:.1}" cy="{ly:.1}" r="7" fill="none" stroke="#000" stroke-width="1.5"/><text x="{:.1}" y="{:.1}">threshold {:.3}</text>"##,
        W - R + 24.0,
        W - R + 42.0,
        ly + 4.0,
        chosen.threshold
    );
    s.push_str("</svg>\n");
    s
}
