//! Model files: recognition by extension or content, loading, and the common
//! "bundle, or float weights + `--calib`, or `.bitgru`" resolution of eval and export.
use crate::inputs;
use anyhow::{bail, Context, Result};
use bitgru::io::{ModelBundle, ModelMeta};
use bitgru::{Calibration, FloatGru, Genome, QuantGru};
use std::path::Path;

/// What a model file holds.
#[derive(Debug)]
pub enum ModelFile {
    /// Float weights + calibration + metadata.
    Bundle(ModelBundle),
    /// Float weights only (safetensors with PyTorch names, or Keras npz).
    Weights {
        model: FloatGru,
        meta: Option<ModelMeta>,
        format: &'static str,
    },
    /// A model prepared for one genome.
    Quant {
        q: QuantGru,
        provenance: serde_json::Value,
    },
}

impl ModelFile {
    /// Short description of the kind of file.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelFile::Bundle(_) => "bundle (float weights + calibration)",
            ModelFile::Weights { format, .. } => format,
            ModelFile::Quant { .. } => "quantized model (.bitgru)",
        }
    }

    /// Shape of the model.
    pub fn dims(&self) -> bitgru::Dims {
        match self {
            ModelFile::Bundle(b) => b.model.dims(),
            ModelFile::Weights { model, .. } => model.dims(),
            ModelFile::Quant { q, .. } => q.dims(),
        }
    }

    /// Metadata, if the file carries any (for a `.bitgru` file, the model meta recorded in its
    /// provenance by `bitgru export`).
    pub fn meta(&self) -> Option<ModelMeta> {
        match self {
            ModelFile::Bundle(b) => Some(b.meta.clone()),
            ModelFile::Weights { meta, .. } => meta.clone(),
            ModelFile::Quant { provenance, .. } => ModelMeta::from_provenance(provenance),
        }
    }

    /// The float model, if the file has one.
    pub fn float(&self) -> Option<&FloatGru> {
        match self {
            ModelFile::Bundle(b) => Some(&b.model),
            ModelFile::Weights { model, .. } => Some(model),
            ModelFile::Quant { .. } => None,
        }
    }
}

/// Loads a model file of any supported kind; errors name the file.
pub fn load(path: &Path) -> Result<ModelFile> {
    let bytes = crate::util::read(path, "model file")?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let ctx = || format!("model file {}", path.display());
    if let Some(e) = bitgru::io::sniff::foreign_format(&bytes) {
        return Err(anyhow::Error::new(e).context(ctx()));
    }
    if bytes.starts_with(b"PK\x03\x04") || ext == "npz" {
        let model = bitgru::io::npz::load_keras_npz(&bytes).with_context(|| {
            format!(
                "{} (read as Keras npz: kernel, recurrent_kernel, bias, dense_kernel, dense_bias)",
                ctx()
            )
        })?;
        return Ok(ModelFile::Weights {
            model,
            meta: None,
            format: "float weights (Keras npz)",
        });
    }
    let keys = bitgru::io::stfile::metadata_keys(&bytes);
    let has = |k: &str| keys.as_ref().is_some_and(|ks| ks.iter().any(|x| x == k));
    if has("bitgru.quant") || (ext == "bitgru" && keys.is_none()) {
        let (q, provenance) = bitgru::io::qfile::load_quant(&bytes).with_context(ctx)?;
        return Ok(ModelFile::Quant { q, provenance });
    }
    if ext == "bitgru" {
        bail!(
            "{}: not a quantized bitgru model (no bitgru.quant metadata); \
             write one with `bitgru export --format bitgru`",
            ctx()
        );
    }
    if has("bitgru.bundle") || has("bitgru.calibration") {
        let b = bitgru::io::load_bundle(&bytes).with_context(ctx)?;
        return Ok(ModelFile::Bundle(b));
    }
    let (model, meta) = bitgru::io::load_float_safetensors(&bytes).with_context(|| {
        if keys.is_none() {
            format!(
                "{} (not a safetensors file, and not npz; expected a bundle, float weights or a .bitgru model)",
                ctx()
            )
        } else {
            ctx()
        }
    })?;
    Ok(ModelFile::Weights {
        model,
        meta,
        format: "float weights (safetensors)",
    })
}

/// A float model with its calibration, ready to prepare genomes.
pub struct Calibrated {
    pub model: FloatGru,
    pub calibration: Calibration,
    pub meta: ModelMeta,
    /// Where the calibration came from.
    pub calibration_source: String,
}

/// The float model + calibration of a bundle, or of float weights calibrated on `calib`.
/// `calib` overrides a bundle's own calibration.
pub fn calibrated(path: &Path, file: ModelFile, calib: Option<&Path>) -> Result<Calibrated> {
    let (model, calibration, meta, src) = match (file, calib) {
        (ModelFile::Bundle(b), None) => {
            let src = format!(
                "{} ({} sequences)",
                path.display(),
                b.calibration.n_sequences
            );
            (b.model, b.calibration, b.meta, src)
        }
        (ModelFile::Bundle(ModelBundle { model, meta, .. }), Some(c))
        | (
            ModelFile::Weights {
                model,
                meta: Some(meta),
                ..
            },
            Some(c),
        ) => {
            let (cal, src) = calibrate_on(&model, c)?;
            (model, cal, meta, src)
        }
        (ModelFile::Weights { model, .. }, Some(c)) => {
            let (cal, src) = calibrate_on(&model, c)?;
            (model, cal, ModelMeta::default(), src)
        }
        (ModelFile::Weights { .. }, None) => bail!(
            "model file {} holds float weights without calibration: pass --calib INPUTS to \
             calibrate on the fly, or write a bundle with `bitgru calibrate` first",
            path.display()
        ),
        (ModelFile::Quant { .. }, _) => bail!(
            "model file {} is a quantized .bitgru model; this needs a float model \
             (a bundle, or float weights with --calib)",
            path.display()
        ),
    };
    Ok(Calibrated {
        model,
        calibration,
        meta,
        calibration_source: src,
    })
}

fn calibrate_on(model: &FloatGru, calib: &Path) -> Result<(Calibration, String)> {
    let inp = inputs::read_file(calib, model.input_size)?;
    inp.check_labels(model.classes)?;
    let cal = Calibration::compute(model, &inp.views())
        .with_context(|| format!("calibrating on {}", calib.display()))?;
    Ok((
        cal,
        format!("{} ({} sequences)", calib.display(), inp.sequences.len()),
    ))
}

/// Checks a `--genome` against the genome a `.bitgru` file was prepared for.
pub fn check_quant_genome(path: &Path, q: &QuantGru, genome: Option<&Genome>) -> Result<()> {
    if let Some(g) = genome {
        if *g != q.genome {
            bail!(
                "model file {} is prepared for genome {}, but --genome is {g}; \
                 a .bitgru file holds one genome (drop --genome, or use the bundle)",
                path.display(),
                q.genome
            );
        }
    }
    Ok(())
}

/// Prepares `genome`, with the error naming the model file.
pub fn prepare(path: &Path, c: &Calibrated, genome: &Genome) -> Result<QuantGru> {
    QuantGru::prepare(&c.model, &c.calibration, genome)
        .with_context(|| format!("preparing genome {genome} for {}", path.display()))
}

/// The genomes to run on a model: the given ones, or else the genome a QAT bundle was
/// fine-tuned for. A genome other than the QAT genome is refused unless `force` (then a warning
/// says so): the weights were trained through that genome's quantizers.
pub fn resolve_genomes(
    path: &Path,
    meta: Option<&ModelMeta>,
    given: &[Genome],
    force: bool,
) -> Result<Vec<Genome>> {
    let qat = meta.and_then(|m| m.qat_genome);
    let Some(qg) = qat else {
        return Ok(given.to_vec());
    };
    if given.is_empty() {
        eprintln!(
            "genome {qg}: the QAT genome recorded in {} (give --genome to choose another)",
            path.display()
        );
        return Ok(vec![qg]);
    }
    for g in given.iter().filter(|g| **g != qg) {
        if !force {
            bail!(
                "model {} was fine-tuned (QAT) for genome {qg}, but --genome is {g}: its weights \
                 were trained through {qg}'s quantizers. Drop --genome to use {qg}, or pass \
                 --force to use {g} anyway",
                path.display()
            );
        }
        eprintln!(
            "warning: model {} was fine-tuned (QAT) for genome {qg}; using genome {g} because of \
             --force",
            path.display()
        );
    }
    Ok(given.to_vec())
}
