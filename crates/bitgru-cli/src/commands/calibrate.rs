//! `bitgru calibrate`: float weights + inputs → bundle.
use crate::cli::CalibrateArgs;
use crate::models::{self, ModelFile};
use crate::{inputs, util};
use anyhow::{bail, Context, Result};
use bitgru::io::{ModelBundle, ModelMeta};
use bitgru::Calibration;

pub fn run(a: &CalibrateArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let (model, old_meta) = match file {
        ModelFile::Bundle(b) => (b.model, Some(b.meta)),
        ModelFile::Weights { model, meta, .. } => (model, meta),
        ModelFile::Quant { .. } => bail!(
            "model file {} is a quantized .bitgru model; calibrate needs float weights",
            a.model.display()
        ),
    };
    let inp = inputs::load(&a.inputs, model.input_size)?;
    inp.check_labels(model.classes)?;
    let calibration = Calibration::compute(&model, &inp.views())
        .with_context(|| format!("calibrating {} on {}", a.model.display(), inp.source))?;

    let old = old_meta.unwrap_or_default();
    let classes = match &a.classes {
        Some(c) if c.len() != model.classes => bail!(
            "--classes names {} classes, but the model in {} has {}",
            c.len(),
            a.model.display(),
            model.classes
        ),
        Some(c) => c.iter().map(|s| s.trim().to_string()).collect(),
        None if old.classes.len() == model.classes => old.classes.clone(),
        None => (0..model.classes).map(|k| format!("c{k}")).collect(),
    };
    let task = a.task.clone().unwrap_or_else(|| {
        if old.task.is_empty() {
            "unspecified".into()
        } else {
            old.task.clone()
        }
    });
    let note = format!("calibrated ({}) on {}", calibration.method, inp.source);
    let meta = ModelMeta {
        task,
        classes,
        features: old.features.clone(),
        seed: inp.seed.unwrap_or(old.seed),
        command: util::command_line(),
        notes: if old.notes.is_empty() {
            note
        } else {
            format!("{}; {note}", old.notes)
        },
        qat_genome: old.qat_genome,
        detect_threshold: old.detect_threshold,
    };
    let bundle = ModelBundle {
        meta,
        model,
        calibration,
    };
    let bytes = bitgru::io::save_bundle(&bundle).context("serializing the bundle")?;
    util::write(&a.out, &bytes)?;
    eprintln!(
        "wrote {} (input {}, hidden {}, classes {}; calibrated on {} sequences)",
        a.out.display(),
        bundle.model.input_size,
        bundle.model.hidden,
        bundle.model.classes,
        bundle.calibration.n_sequences
    );
    Ok(())
}
