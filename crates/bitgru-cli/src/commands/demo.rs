//! `bitgru demo-model`: a seeded synthetic model bundle.
use crate::cli::DemoModelArgs;
use crate::util;
use anyhow::{Context, Result};
use bitgru::io::{ModelBundle, ModelMeta};
use bitgru::Calibration;

pub fn run(a: &DemoModelArgs) -> Result<()> {
    let (model, task) = bitgru::synth::task_model(a.seed, a.input, a.hidden, a.classes, a.steps);
    let calib_seed = a.seed.wrapping_add(1);
    let (seqs, _) = task.sample(calib_seed, a.n_calib);
    let views: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
    let calibration =
        Calibration::compute(&model, &views).context("calibrating the synthetic model")?;
    let meta = ModelMeta {
        task: "synthetic-demo".into(),
        classes: (0..a.classes).map(|k| format!("c{k}")).collect(),
        features: bitgru::frontend::FrontEnd::Synthetic {
            seed: a.seed,
            input: a.input,
            classes: a.classes,
            steps: a.steps,
            noise: task.noise,
        },
        seed: a.seed,
        command: util::command_line(),
        notes: format!(
            "bitgru::synth::task_model(seed {}, input {}, hidden {}, classes {}): a random GRU \
             whose head is ridge-fitted to a seeded synthetic task; calibrated on {} task samples \
             (seed {calib_seed}, steps {}); labelled samples: task_of_model(..).sample(seed, n)",
            a.seed, a.input, a.hidden, a.classes, a.n_calib, a.steps
        ),
        qat_genome: None,
        detect_threshold: None,
    };
    let bundle = ModelBundle {
        meta,
        model,
        calibration,
    };
    let bytes = bitgru::io::save_bundle(&bundle).context("serializing the bundle")?;
    util::write(&a.out, &bytes)?;
    eprintln!(
        "wrote {} ({} bytes; input {}, hidden {}, classes {}, seed {})",
        a.out.display(),
        bytes.len(),
        a.input,
        a.hidden,
        a.classes,
        a.seed
    );
    Ok(())
}
