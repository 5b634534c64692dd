//! `bitgru features`: a task's evaluation features (and a model's 8-bit codes) as an inputs file,
//! for cross-checking a firmware front end.
use crate::cli::FeaturesArgs;
use crate::models::{self, ModelFile};
use crate::util;
use anyhow::{bail, Context, Result};
use bitgru::{Genome, QuantGru};
use serde_json::json;

/// The model's integer form for quantizing inputs (the input scales do not depend on the
/// genome; a bundle is prepared at all-8 for them).
fn quantizer(path: &std::path::Path) -> Result<QuantGru> {
    match models::load(path)? {
        ModelFile::Quant { q, .. } => Ok(q),
        file => {
            let c = models::calibrated(path, file, None)?;
            models::prepare(path, &c, &Genome::uniform(8).expect("8 bits"))
        }
    }
}

pub fn run(a: &FeaturesArgs) -> Result<()> {
    // With a model, its recorded front end (KWS: its own MFCC configuration).
    let front = match &a.model {
        Some(path) => models::load(path)?
            .meta()
            .map(|m| m.features)
            .unwrap_or_default(),
        None => bitgru::frontend::FrontEnd::Raw,
    };
    let ds = bitgru::task::load_eval_split_with(a.task, &a.data, a.split, a.limit, &front)
        .with_context(|| {
            format!(
                "loading {} {} data from {}",
                a.task,
                a.split.name(),
                a.data.display()
            )
        })?;
    if ds.sequences.is_empty() {
        bail!(
            "the {} {} split of {} is empty",
            a.task,
            a.split.name(),
            a.data.display()
        );
    }
    let mut out = json!({
        "task": a.task.name(),
        "split": a.split.name(),
        "classes": ds.classes,
        "steps": ds.steps,
        "input_size": ds.input,
        "sequences": ds.sequences,
        "labels": ds.labels,
        "command": util::command_line(),
    });
    if let Some(path) = &a.model {
        let q = quantizer(path)?;
        if q.input_size != ds.input {
            bail!(
                "task {} has {} features per step, the model {} takes {}",
                a.task,
                ds.input,
                path.display(),
                q.input_size
            );
        }
        let codes = ds
            .sequences
            .iter()
            .map(|x| q.quantize_input(x))
            .collect::<bitgru::Result<Vec<_>>>()
            .context("quantizing the features")?;
        let obj = out.as_object_mut().expect("object");
        obj.insert("model".into(), json!(path.display().to_string()));
        obj.insert("input_scales".into(), json!(q.input_scales));
        obj.insert("codes".into(), json!(codes));
    }
    util::write(&a.out, serde_json::to_string(&out)?.as_bytes())?;
    println!("{}", a.out.display());
    eprintln!(
        "wrote {} sequences of {} steps x {} features{}",
        ds.sequences.len(),
        ds.steps,
        ds.input,
        if a.model.is_some() { " with codes" } else { "" }
    );
    Ok(())
}
