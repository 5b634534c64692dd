//! `bitgru inspect` and `bitgru size`.
use crate::cli::{InspectArgs, SizeArgs};
use crate::models::{self, ModelFile};
use anyhow::Result;
use bitgru::genome::GENE_NAMES;
use serde_json::{json, Value};

pub fn run(a: &InspectArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let d = file.dims();
    let mut out = json!({
        "file": a.model.display().to_string(),
        "kind": file.kind(),
        "dims": {"input": d.input, "hidden": d.hidden, "classes": d.classes},
    });
    let obj = out.as_object_mut().expect("object");
    if let Some(m) = file.float() {
        obj.insert("float_params".into(), json!(m.n_params()));
    }
    if let Some(meta) = file.meta() {
        obj.insert("meta".into(), serde_json::to_value(&meta)?);
    }
    match &file {
        ModelFile::Bundle(b) => {
            let c = &b.calibration;
            obj.insert(
                "calibration".into(),
                json!({"method": c.method, "n_sequences": c.n_sequences,
                       "input_scales": c.input_scales, "head_range": c.head_range}),
            );
        }
        ModelFile::Quant { q, provenance } => {
            obj.insert("genome".into(), json!(q.genome));
            obj.insert(
                "size".into(),
                serde_json::to_value(bitgru::size::report(&q.genome, d))?,
            );
            obj.insert("provenance".into(), provenance.clone());
        }
        ModelFile::Weights { .. } => {}
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print_text(&out, &file, a.full);
    Ok(())
}

/// A one-paragraph summary of the training notes `bitgru train` / `bitgru qat` write; flags an
/// unfinished training run.
fn notes_summary(notes: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let train = notes
        .get("base_notes")
        .and_then(|b| b.as_str())
        .and_then(|b| serde_json::from_str::<Value>(b).ok());
    let train = if notes.get("history").is_some() {
        Some(notes.clone())
    } else {
        train
    };
    if let Some(t) = &train {
        let history = t["history"].as_array().cloned().unwrap_or_default();
        let best = history
            .iter()
            .filter_map(|r| Some((r["epoch"].as_u64()?, r["val_accuracy"].as_f64()?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let planned = t["config"]["epochs"].as_u64();
        out.push(format!(
            "training:    {} of {} epochs ({} steps){}",
            t["epochs_done"]
                .as_u64()
                .map_or("?".into(), |v| v.to_string()),
            planned.map_or("?".into(), |v| v.to_string()),
            t["steps"],
            best.map_or(String::new(), |(e, a)| format!(
                ", best validation accuracy {a:.4} at epoch {e}"
            )),
        ));
        if let Some(last) = history.last() {
            out.push(format!(
                "             last epoch: train loss {:.4}, accuracy {:.4}; lr {:.2e}",
                last["train_loss"].as_f64().unwrap_or(f64::NAN),
                last["train_accuracy"].as_f64().unwrap_or(f64::NAN),
                last["lr"].as_f64().unwrap_or(f64::NAN)
            ));
        }
        if t["finished"] == Value::Bool(false) {
            out.push(
                "             UNFINISHED: training stopped early (Ctrl-C or --max-minutes); this \
                 is the best model so far. Continue with the same `bitgru train` command plus \
                 --resume --checkpoint FILE"
                    .into(),
            );
        }
    }
    if let Some(q) = notes.get("qat") {
        out.push(format!(
            "QAT:         genome {}, validation accuracy PTQ {:.4} -> {:.4}, {} epochs, lr {}",
            q["genome"].as_str().unwrap_or("?"),
            q["ptq_validation_accuracy"].as_f64().unwrap_or(f64::NAN),
            q["qat_validation_accuracy"].as_f64().unwrap_or(f64::NAN),
            q["epochs"],
            q["lr"]
        ));
    }
    out
}

fn print_text(out: &Value, file: &ModelFile, full: bool) {
    println!("file:        {}", out["file"].as_str().unwrap_or_default());
    println!("kind:        {}", file.kind());
    let d = file.dims();
    println!(
        "dims:        input {}, hidden {}, classes {}",
        d.input, d.hidden, d.classes
    );
    if let Some(n) = out.get("float_params") {
        println!("parameters:  {n} (float)");
    }
    if let Some(m) = file.meta() {
        println!("task:        {}", m.task);
        println!("classes:     {}", m.classes.join(", "));
        println!("seed:        {}", m.seed);
        if !m.command.is_empty() {
            println!("command:     {}", m.command);
        }
        if let Some(g) = m.qat_genome {
            println!("QAT genome:  {g} (the genome the weights were fine-tuned for; eval and export use it by default)");
        }
        if m.features != bitgru::frontend::FrontEnd::Raw {
            if full {
                println!(
                    "features:    {}",
                    serde_json::to_string(&m.features).unwrap_or_default()
                );
            } else {
                let opt = |v: Option<usize>| v.map_or("?".to_string(), |v| v.to_string());
                println!(
                    "features:    {} ({} steps x {} inputs)",
                    m.features.kind().unwrap_or("raw"),
                    opt(m.features.steps()),
                    opt(m.features.input())
                );
            }
        }
        if let Some(t) = m.detect_threshold {
            println!("detector:    default keyword threshold {t} (docs/DETECTOR.md)");
        }
        let parsed = serde_json::from_str::<Value>(&m.notes)
            .ok()
            .filter(Value::is_object);
        match (&parsed, full) {
            (Some(n), false) => {
                for line in notes_summary(n) {
                    println!("{line}");
                }
                println!("             (--full prints the whole history and notes)");
            }
            (Some(n), true) => println!(
                "notes:\n{}",
                serde_json::to_string_pretty(n).unwrap_or_default()
            ),
            (None, _) if !m.notes.is_empty() => println!("notes:       {}", m.notes),
            _ => {}
        }
    }
    match file {
        ModelFile::Bundle(b) => println!(
            "calibration: {} on {} sequences",
            b.calibration.method, b.calibration.n_sequences
        ),
        ModelFile::Weights { .. } => {
            println!("calibration: none (calibrate with `bitgru calibrate` or pass --calib)")
        }
        ModelFile::Quant { q, provenance } => {
            println!("genome:      {}", q.genome);
            for (k, name) in GENE_NAMES.iter().enumerate() {
                println!("  {k:>2} {name:<7} {} bits", q.genome.bits()[k]);
            }
            let r = bitgru::size::report(&q.genome, d);
            println!(
                "size:        {} bits = {} bytes ({:.4} of all-8), weights {} bits, {} bit-ops per step",
                r.bits, r.bytes, r.normalized, r.weight_bits, r.bitops_per_step
            );
            if !provenance.is_null() && full {
                println!("provenance:  {provenance}");
            }
        }
    }
}

pub fn size(a: &SizeArgs) -> Result<()> {
    let d = a.dims;
    let r = bitgru::size::report(&a.genome, d);
    // The size report's own fields (the shape `bitgru eval --json` nests under "size").
    let mut out = serde_json::to_value(r)?;
    let obj = out
        .as_object_mut()
        .expect("a struct serializes to an object");
    obj.insert("genome".into(), json!(a.genome));
    obj.insert(
        "dims".into(),
        json!({"input": d.input, "hidden": d.hidden, "classes": d.classes}),
    );
    obj.insert(
        "storage".into(),
        serde_json::to_value(bitgru::size::storage(&a.genome, d))?,
    );
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
