//! `bitgru eval`: genomes (integer kernel) and the float reference on inputs, summarized.
use crate::cli::EvalArgs;
use crate::inputs::Inputs;
use crate::models::{self, ModelFile};
use anyhow::{bail, Context, Result};
use bitgru::eval::IntegerEvaluator;
use bitgru::math::argmax;
use bitgru::search::problem::confusion_matrix;
use bitgru::{FloatGru, Genome, QuantGru};
use indicatif::{ProgressBar, ProgressDrawTarget};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Sequences per unit of work (the progress bar's step).
const CHUNK: usize = 256;

/// A progress bar that appears only on a terminal, and only once the work has taken a second.
struct Progress {
    pb: ProgressBar,
    t0: Instant,
    enabled: bool,
    shown: bool,
    /// [`crate::util::progress_delay`].
    delay: Duration,
}

impl Progress {
    fn new(total: u64, quiet: bool) -> Progress {
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        pb.set_style(crate::util::bar_style("{pos}/{len} sequences  {msg}"));
        Progress {
            pb,
            t0: Instant::now(),
            enabled: !quiet && std::io::stderr().is_terminal(),
            shown: false,
            delay: crate::util::progress_delay(),
        }
    }

    fn inc(&mut self, n: usize, what: &str) {
        self.pb.inc(n as u64);
        self.pb.set_message(what.to_string());
        if self.enabled && !self.shown && self.t0.elapsed() >= self.delay {
            self.pb.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
    }
}

/// What one evaluated subject (a genome, or the float model) gave.
struct Run {
    /// `None` for the float model.
    q: Option<QuantGru>,
    predictions: Vec<usize>,
    /// Real-valued logits per sequence (dequantized for the integer model), with --logits.
    logits: Option<Vec<Vec<f64>>>,
    /// The integer model's i32 logits, with --logits.
    codes: Option<Vec<Vec<i32>>>,
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let kind = file.kind();
    let dims = file.dims();
    let meta = file.meta();
    if let (Some(task), Some(m)) = (a.task.task, &meta) {
        bitgru::task::check_meta(task, m).with_context(|| {
            format!(
                "model {} does not fit the {task} data ({} {})",
                a.model.display(),
                if m.task.is_empty() {
                    "task"
                } else {
                    "trained for"
                },
                if m.task.is_empty() {
                    "unspecified"
                } else {
                    m.task.as_str()
                }
            )
        })?;
    }
    let class_names = meta
        .as_ref()
        .map(|m| m.classes.clone())
        .filter(|c| c.len() == dims.classes)
        .unwrap_or_default();
    let front = meta
        .as_ref()
        .map(|m| m.features.clone())
        .unwrap_or_default();
    let inp = crate::inputs::load_with_task(&a.inputs, Some(&a.task), &front, dims.input)?;
    inp.check_labels(dims.classes)?;

    // What runs: the float model (unless skipped) and every genome.
    let t0 = Instant::now();
    let (float, quants): (Option<FloatGru>, Vec<QuantGru>) = match file {
        ModelFile::Quant { q, .. } => {
            if a.float {
                bail!(
                    "--float needs a float model; {} is a quantized .bitgru model",
                    a.model.display()
                );
            }
            for g in &a.genome {
                models::check_quant_genome(&a.model, &q, Some(g))?;
            }
            (None, vec![q])
        }
        ModelFile::Weights { model, .. } if a.float && a.calib.is_none() => (Some(model), vec![]),
        file => {
            let c = models::calibrated(&a.model, file, a.calib.as_deref())?;
            let quants = if a.float {
                Vec::new()
            } else {
                let genomes = models::resolve_genomes(&a.model, Some(&c.meta), &a.genome, a.force)?;
                if genomes.is_empty() {
                    bail!(
                        "no genome: give --genome G (17 digits 2..=8; several separated by commas) \
                         to evaluate the integer kernel on {}, or --float for the float reference",
                        a.model.display()
                    );
                }
                genomes
                    .iter()
                    .map(|g| models::prepare(&a.model, &c, g))
                    .collect::<Result<Vec<_>>>()?
            };
            (Some(c.model), quants)
        }
    };
    let float = if a.no_float { None } else { float };

    let n = inp.sequences.len();
    let units = n * (quants.len() + usize::from(float.is_some()));
    let mut progress = Progress::new(units as u64, a.quiet);
    let mut runs = Vec::new();
    // The float pass first: its time is part of the reported elapsed time.
    let tf = Instant::now();
    let float_run = match &float {
        Some(m) => Some(run_float(m, &inp, a.logits, &mut progress)?),
        None => None,
    };
    let float_ms = float_run.as_ref().map(|_| tf.elapsed().as_secs_f64() * 1e3);
    if let Some(first) = quants.first() {
        // Every genome comes from one calibration (or is the one .bitgru model): one
        // quantization of the inputs serves all of them.
        let chunks = inp
            .sequences
            .chunks(CHUNK)
            .enumerate()
            .map(|(k, c)| {
                IntegerEvaluator::new(&first.input_scales, c, None).with_context(|| {
                    format!("{}: chunk starting at sequence {}", inp.source, k * CHUNK)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for q in quants {
            runs.push(run_int(q, &chunks, a.logits, &mut progress)?);
        }
    }
    progress.pb.finish_and_clear();
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
    let float_run = match float_run {
        Some(f) if runs.is_empty() => {
            runs.push(f);
            None
        }
        f => f,
    };

    let labels = inp.labels.as_deref();
    let float_accuracy = float_run
        .as_ref()
        .and_then(|f| labels.map(|l| fraction(&f.predictions, l)));
    let objects: Vec<Value> = runs
        .iter()
        .map(|r| {
            let agreement = match (&r.q, &float_run) {
                (None, _) => Some(1.0),
                (Some(_), Some(f)) => Some(fraction(&r.predictions, &f.predictions)),
                (Some(_), None) => None,
            };
            let mut o = json!({
                "model": a.model.display().to_string(),
                "model_kind": kind,
                "dims": {"input": dims.input, "hidden": dims.hidden, "classes": dims.classes},
                "genome": r.q.as_ref().map_or("float".to_string(), |q| q.genome.to_string()),
                "inputs": inp.source,
                "n": n,
                "accuracy": labels.map(|l| fraction(&r.predictions, l)),
                "float_accuracy": if r.q.is_none() { labels.map(|l| fraction(&r.predictions, l)) } else { float_accuracy },
                "agreement_with_float": agreement,
                "predictions": r.predictions,
                "size": size_of(r, float.as_ref(), dims),
                "elapsed_ms": elapsed_ms,
                "float_ms": float_ms,
            });
            let obj = o.as_object_mut().expect("object");
            if let Some(l) = labels {
                obj.insert("per_class".into(), per_class(&r.predictions, l, dims.classes, &class_names));
                obj.insert(
                    "confusion".into(),
                    json!(confusion_matrix(&r.predictions, l, dims.classes)),
                );
            }
            if a.logits {
                obj.insert("logits".into(), json!(r.logits));
                if r.q.is_some() {
                    obj.insert("logits_codes".into(), json!(r.codes));
                    obj.insert("float_logits".into(), json!(float_run.as_ref().and_then(|f| f.logits.clone())));
                } else {
                    obj.insert("float_logits".into(), json!(r.logits));
                }
            }
            if let Some(seed) = inp.seed {
                obj.insert("seed".into(), json!(seed));
            }
            if let Some(task) = a.task.task {
                obj.insert("task".into(), json!(task.name()));
                obj.insert("split".into(), json!(a.task.split.name()));
            }
            o
        })
        .collect();
    if a.json {
        let out = match objects.as_slice() {
            [one] => one.clone(),
            many => Value::Array(many.to_vec()),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let float_pred = float_run.as_ref().map(|f| f.predictions.as_slice());
    print_text(
        a,
        &inp,
        &objects,
        &runs,
        float_pred,
        float_accuracy,
        float_ms,
        elapsed_ms,
        &class_names,
    );
    Ok(())
}

/// The size report of a genome (the `bitgru size` shape), or of the 32-bit float parameters.
fn size_of(r: &Run, float: Option<&FloatGru>, dims: bitgru::Dims) -> Value {
    match (&r.q, float) {
        (Some(q), _) => {
            serde_json::to_value(bitgru::size::report(&q.genome, dims)).expect("plain data")
        }
        (None, Some(m)) => {
            let bits = 32 * m.n_params() as u64;
            let all8 =
                bitgru::size::size_bits(&Genome::uniform(8).expect("8 is a bit width"), dims);
            json!({
                "bits": bits,
                "bytes": bits.div_ceil(8),
                "normalized": bits as f64 / all8 as f64,
                "weight_bits": 32 * (m.w_ih.len() + m.w_hh.len() + m.w_fc.len()) as u64,
                "bitops_per_step": null,
            })
        }
        (None, None) => unreachable!("a float run has a float model"),
    }
}

/// Per-class counts and accuracy.
fn per_class(pred: &[usize], labels: &[usize], classes: usize, names: &[String]) -> Value {
    (0..classes)
        .map(|c| {
            let n = labels.iter().filter(|&&y| y == c).count();
            let correct = pred
                .iter()
                .zip(labels)
                .filter(|(p, y)| **y == c && p == y)
                .count();
            json!({
                "class": c,
                "name": names.get(c),
                "n": n,
                "correct": correct,
                "accuracy": if n == 0 { None } else { Some(correct as f64 / n as f64) },
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn print_text(
    a: &EvalArgs,
    inp: &Inputs,
    objects: &[Value],
    runs: &[Run],
    float_pred: Option<&[usize]>,
    float_accuracy: Option<f64>,
    float_ms: Option<f64>,
    elapsed_ms: f64,
    class_names: &[String],
) {
    let o0 = &objects[0];
    let d = &o0["dims"];
    println!(
        "model:    {} ({}; input {}, hidden {}, classes {})",
        a.model.display(),
        o0["model_kind"].as_str().unwrap_or_default(),
        d["input"],
        d["hidden"],
        d["classes"]
    );
    let n = inp.sequences.len();
    println!("inputs:   {} ({n} sequences)", inp.source);
    let labels = inp.labels.as_deref();
    let count = |acc: Option<f64>| {
        acc.map_or("-".to_string(), |v| {
            format!("{v:.4} ({}/{n})", (v * n as f64).round() as usize)
        })
    };
    println!();
    println!(
        "{:<19} {:>18}  {:>9}  {:>9}  {:>8}",
        "model", "accuracy", "agreement", "bytes", "of all-8"
    );
    let has_float_row = float_pred.is_some();
    if has_float_row {
        println!("{:<19} {:>18}  {:>9}", "float", count(float_accuracy), "-");
    }
    for o in objects {
        let size = &o["size"];
        println!(
            "{:<19} {:>18}  {:>9}  {:>9}  {:>8}",
            o["genome"].as_str().unwrap_or_default(),
            count(o["accuracy"].as_f64()),
            o["agreement_with_float"]
                .as_f64()
                .map_or("-".into(), |v| format!("{v:.4}")),
            size["bytes"].as_u64().map_or("-".into(), |b| b.to_string()),
            size["normalized"]
                .as_f64()
                .map_or("-".into(), |v| format!("{v:.4}")),
        );
    }
    let name = |c: usize| {
        class_names
            .get(c)
            .filter(|s| **s != c.to_string())
            .map_or(c.to_string(), |s| format!("{c} {s}"))
    };
    if let Some(l) = labels {
        println!("\nper-class accuracy:");
        let mut head = format!("{:<16} {:>6}", "class", "n");
        if has_float_row {
            head += &format!("  {:>8}", "float");
        }
        for (k, _) in objects.iter().enumerate() {
            head += &format!("  {:>8}", format!("g{}", k + 1));
        }
        println!("{head}");
        for c in 0..o0["dims"]["classes"].as_u64().unwrap_or(0) as usize {
            let nc = l.iter().filter(|&&y| y == c).count();
            let mut line = format!("{:<16} {nc:>6}", name(c));
            let acc_of = |p: &[usize]| {
                let ok = p.iter().zip(l).filter(|(p, y)| **y == c && p == y).count();
                if nc == 0 {
                    "-".to_string()
                } else {
                    format!("{:.4}", ok as f64 / nc as f64)
                }
            };
            if let Some(f) = float_pred {
                line += &format!("  {:>8}", acc_of(f));
            }
            for r in runs {
                line += &format!("  {:>8}", acc_of(&r.predictions));
            }
            println!("{line}");
        }
        if objects.len() > 1 || has_float_row {
            let gs: Vec<String> = objects
                .iter()
                .enumerate()
                .map(|(k, o)| format!("g{} = {}", k + 1, o["genome"].as_str().unwrap_or_default()))
                .collect();
            println!("({})", gs.join(", "));
        }
        for o in objects {
            println!(
                "\nconfusion matrix of {} (rows: label, columns: prediction):",
                o["genome"].as_str().unwrap_or_default()
            );
            let m = &o["confusion"];
            let classes = m.as_array().map_or(0, Vec::len);
            let mut head = format!("{:<16}", "");
            for c in 0..classes {
                head += &format!(" {c:>5}");
            }
            println!("{head}");
            for (y, row) in m.as_array().into_iter().flatten().enumerate() {
                let mut line = format!("{:<16}", name(y));
                for v in row.as_array().into_iter().flatten() {
                    line += &format!(" {:>5}", v.as_u64().unwrap_or_default());
                }
                println!("{line}");
            }
        }
    }
    if a.predictions {
        for (o, r) in objects.iter().zip(runs) {
            println!(
                "\npredictions of {}:",
                o["genome"].as_str().unwrap_or_default()
            );
            println!("{:>6}  {:<16}  {:<16}", "seq", "prediction", "label");
            for (k, p) in r.predictions.iter().enumerate() {
                let (y, mark) = match labels {
                    Some(l) => (name(l[k]), if l[k] == *p { "" } else { "  x" }),
                    None => ("-".to_string(), ""),
                };
                println!("{k:>6}  {:<16}  {y:<16}{mark}", name(*p));
            }
        }
    } else if labels.is_none() {
        println!("(no labels: --predictions lists the prediction of every sequence)");
    }
    println!(
        "\nelapsed: {elapsed_ms:.1} ms (prepare + quantize + integer kernel{}; file loading not counted)",
        match float_ms {
            Some(f) => format!(" + float model {f:.1} ms"),
            None => String::new(),
        }
    );
}

/// Integer predictions (and logits) of one prepared genome over the quantized chunks.
fn run_int(
    q: QuantGru,
    chunks: &[IntegerEvaluator],
    want_logits: bool,
    progress: &mut Progress,
) -> Result<Run> {
    let scale = q.logit_scale();
    let (mut predictions, mut logits, mut codes) = (Vec::new(), Vec::new(), Vec::new());
    let label = q.genome.to_string();
    for ch in chunks {
        let l = ch.logits(&q).context("integer kernel")?;
        predictions.extend(l.iter().map(|l| argmax(l)));
        if want_logits {
            logits.extend(
                l.iter()
                    .map(|l| l.iter().map(|&v| v as f64 * scale).collect::<Vec<_>>()),
            );
            codes.extend(l);
        }
        progress.inc(ch.len(), &label);
    }
    Ok(Run {
        q: Some(q),
        predictions,
        logits: want_logits.then_some(logits),
        codes: want_logits.then_some(codes),
    })
}

/// Float predictions (and logits) on every sequence, in parallel.
fn run_float(
    m: &FloatGru,
    inp: &Inputs,
    want_logits: bool,
    progress: &mut Progress,
) -> Result<Run> {
    let (mut predictions, mut logits) = (Vec::new(), Vec::new());
    for (k, chunk) in inp.sequences.chunks(CHUNK).enumerate() {
        let l = chunk
            .par_iter()
            .enumerate()
            .map(|(j, x)| {
                m.forward(x)
                    .with_context(|| format!("{}: sequence {}", inp.source, k * CHUNK + j))
            })
            .collect::<Result<Vec<_>>>()?;
        predictions.extend(l.iter().map(|l| bitgru::model::argmax_f32(l)));
        if want_logits {
            logits.extend(
                l.into_iter()
                    .map(|l| l.into_iter().map(f64::from).collect::<Vec<_>>()),
            );
        }
        progress.inc(chunk.len(), "float model");
    }
    Ok(Run {
        q: None,
        predictions,
        logits: want_logits.then_some(logits),
        codes: None,
    })
}

fn fraction(a: &[usize], b: &[usize]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}
