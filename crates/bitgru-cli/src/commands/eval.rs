//! `bitgru eval`: a genome (integer kernel) or the float reference on inputs.
use crate::cli::EvalArgs;
use crate::inputs::{self, Inputs};
use crate::models::{self, ModelFile};
use anyhow::{bail, Context, Result};
use bitgru::math::argmax;
use bitgru::{FloatGru, Genome, QuantGru};
use serde_json::{json, Value};
use std::time::Instant;

/// What runs.
enum Subject {
    Int(Box<QuantGru>),
    Float,
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let kind = file.kind();
    let dims = file.dims();
    let class_names = file
        .meta()
        .map(|m| m.classes)
        .filter(|c| c.len() == dims.classes)
        .unwrap_or_default();
    let inp = inputs::load_with_task(&a.inputs, Some(&a.task), dims.input)?;
    inp.check_labels(dims.classes)?;

    // The float model (for --float and for the agreement) and what to evaluate.
    let t0 = Instant::now();
    let (float, subject): (Option<FloatGru>, Subject) = match file {
        ModelFile::Quant { q, .. } => {
            if a.float {
                bail!(
                    "--float needs a float model; {} is a quantized .bitgru model",
                    a.model.display()
                );
            }
            models::check_quant_genome(&a.model, &q, a.genome.as_ref())?;
            (None, Subject::Int(Box::new(q)))
        }
        ModelFile::Weights { model, .. } if a.float && a.calib.is_none() => {
            (Some(model), Subject::Float)
        }
        file => {
            let c = models::calibrated(&a.model, file, a.calib.as_deref())?;
            let subject = if a.float {
                Subject::Float
            } else {
                let g = a.genome.as_ref().with_context(|| {
                    format!(
                        "no genome: give --genome G (17 digits 2..=8) to evaluate the integer \
                         kernel on {}, or --float for the float reference",
                        a.model.display()
                    )
                })?;
                Subject::Int(Box::new(models::prepare(&a.model, &c, g)?))
            };
            (Some(c.model), subject)
        }
    };

    let (predictions, genome) = match &subject {
        Subject::Int(q) => (run_int(q, &inp)?, Some(q.genome)),
        Subject::Float => (
            run_float(float.as_ref().expect("float model present"), &inp)?,
            None,
        ),
    };
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;

    let agreement = match (&subject, &float) {
        (Subject::Int(_), Some(m)) => {
            let fp = run_float(m, &inp)?;
            Some(fraction(&predictions, &fp))
        }
        (Subject::Float, _) => Some(1.0),
        _ => None,
    };
    let accuracy = inp.labels.as_ref().map(|l| fraction(&predictions, l));

    let size = match (&genome, &float) {
        (Some(g), _) => super::size_json(g, dims),
        (None, Some(m)) => {
            let bits = 32 * m.n_params() as u64;
            let all8 = bitgru::size::size_bits(&Genome::uniform(8)?, dims);
            json!({
                "size_bits": bits,
                "size_bytes": bits.div_ceil(8),
                "size_normalized": bits as f64 / all8 as f64,
                "weight_bits": 32 * (m.w_ih.len() + m.w_hh.len() + m.w_fc.len()) as u64,
                "bitops_per_step": null,
            })
        }
        (None, None) => unreachable!("a float evaluation has a float model"),
    };
    let genome_s = genome.map_or("float".to_string(), |g| g.to_string());

    if a.json {
        let mut out = json!({
            "model": a.model.display().to_string(),
            "model_kind": kind,
            "dims": {"input": dims.input, "hidden": dims.hidden, "classes": dims.classes},
            "genome": genome_s,
            "inputs": inp.source,
            "n": predictions.len(),
            "accuracy": accuracy,
            "predictions": predictions,
            "agreement_with_float": agreement,
            "elapsed_ms": elapsed_ms,
        });
        let obj = out.as_object_mut().expect("object");
        if let Value::Object(s) = size {
            obj.extend(s);
        }
        if let Some(seed) = inp.seed {
            obj.insert("seed".into(), json!(seed));
        }
        if let Some(task) = a.task.task {
            obj.insert("task".into(), json!(task.name()));
            obj.insert("split".into(), json!(a.task.split.name()));
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }

    println!(
        "model:   {} ({kind}; input {}, hidden {}, classes {})",
        a.model.display(),
        dims.input,
        dims.hidden,
        dims.classes
    );
    print!("genome:  {genome_s}");
    let fmt_bits = |v: &Value| v.as_u64().map_or("-".to_string(), |b| b.to_string());
    println!(
        "  (size {} bits = {} bytes, {:.4} of all-8; {} bit-ops per step)",
        fmt_bits(&size["size_bits"]),
        fmt_bits(&size["size_bytes"]),
        size["size_normalized"].as_f64().unwrap_or(f64::NAN),
        fmt_bits(&size["bitops_per_step"]),
    );
    println!("inputs:  {} ({} sequences)", inp.source, predictions.len());
    let name = |c: usize| {
        class_names
            .get(c)
            .map_or(c.to_string(), |n| format!("{c} ({n})"))
    };
    match &inp.labels {
        Some(l) => {
            println!("{:>6}  {:<16}  {:<16}", "seq", "prediction", "label");
            for (k, (p, y)) in predictions.iter().zip(l).enumerate() {
                let mark = if p == y { "" } else { "  x" };
                println!("{k:>6}  {:<16}  {:<16}{mark}", name(*p), name(*y));
            }
        }
        None => {
            println!("{:>6}  prediction", "seq");
            for (k, p) in predictions.iter().enumerate() {
                println!("{k:>6}  {}", name(*p));
            }
        }
    }
    let n = predictions.len();
    if let Some(acc) = accuracy {
        println!(
            "accuracy: {acc:.4} ({}/{n})",
            (acc * n as f64).round() as usize
        );
    }
    if let Some(ag) = agreement {
        println!(
            "agreement with float: {ag:.4} ({}/{n})",
            (ag * n as f64).round() as usize
        );
    }
    println!("elapsed: {elapsed_ms:.2} ms");
    Ok(())
}

/// Quantizes every sequence (errors name the sequence) and runs the integer kernel.
fn run_int(q: &QuantGru, inp: &Inputs) -> Result<Vec<usize>> {
    let codes = inp
        .sequences
        .iter()
        .enumerate()
        .map(|(k, x)| {
            q.quantize_input(x)
                .with_context(|| format!("{}: sequence {k}", inp.source))
        })
        .collect::<Result<Vec<_>>>()?;
    let logits = bitgru::eval::logits_batch(q, &codes).context("integer kernel")?;
    Ok(logits.iter().map(|l| argmax(l)).collect())
}

fn run_float(m: &FloatGru, inp: &Inputs) -> Result<Vec<usize>> {
    inp.sequences
        .iter()
        .enumerate()
        .map(|(k, x)| {
            m.forward(x)
                .map(|l| argmax(&l))
                .with_context(|| format!("{}: sequence {k}", inp.source))
        })
        .collect()
}

fn fraction(a: &[usize], b: &[usize]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}
