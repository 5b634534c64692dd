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
    print_text(&out, &file);
    Ok(())
}

fn print_text(out: &Value, file: &ModelFile) {
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
        if m.features != bitgru::frontend::FrontEnd::Raw {
            println!(
                "features:    {}",
                serde_json::to_string(&m.features).unwrap_or_default()
            );
        }
        if !m.notes.is_empty() {
            println!("notes:       {}", m.notes);
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
            if !provenance.is_null() {
                println!("provenance:  {provenance}");
            }
        }
    }
}

pub fn size(a: &SizeArgs) -> Result<()> {
    let d = a.dims;
    let r = bitgru::size::report(&a.genome, d);
    let out = json!({
        "genome": a.genome,
        "dims": {"input": d.input, "hidden": d.hidden, "classes": d.classes},
        "bits": r.bits,
        "bytes": r.bytes,
        "normalized": r.normalized,
        "weight_bits": r.weight_bits,
        "bitops_per_step": r.bitops_per_step,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
