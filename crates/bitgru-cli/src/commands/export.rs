//! `bitgru export`: a prepared genome as `DIR/model.bitgru` or C source.
use crate::cli::{ExportArgs, ExportFormat};
use crate::models::{self, ModelFile};
use crate::util;
use anyhow::{Context, Result};
use serde_json::json;

/// File name of the quantized model inside the output directory.
pub const QUANT_FILE: &str = "model.bitgru";

pub fn run(a: &ExportArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let command = util::command_line();
    let (q, provenance) = match file {
        ModelFile::Quant { q, provenance } => {
            models::check_quant_genome(&a.model, &q, a.genome.as_ref())?;
            let p = json!({
                "source": a.model.display().to_string(),
                "genome": q.genome,
                "command": command,
                "previous": provenance,
            });
            (q, p)
        }
        file => {
            let c = models::calibrated(&a.model, file, a.calib.as_deref())?;
            let given: Vec<_> = a.genome.into_iter().collect();
            let g = *models::resolve_genomes(&a.model, Some(&c.meta), &given, a.force)?
                .first()
                .with_context(|| {
                    format!(
                        "no genome: give --genome G (17 digits 2..=8) to export {}",
                        a.model.display()
                    )
                })?;
            let q = models::prepare(&a.model, &c, &g)?;
            let p = json!({
                "source": a.model.display().to_string(),
                "model_meta": c.meta,
                "genome": g,
                "calibration": {
                    "method": c.calibration.method,
                    "n_sequences": c.calibration.n_sequences,
                    "source": c.calibration_source,
                },
                "size": bitgru::size::report(&g, q.dims()),
                "command": command,
            });
            (q, p)
        }
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create output directory {}", a.out.display()))?;
    let written = match a.format {
        ExportFormat::Bitgru => {
            let bytes = bitgru::io::qfile::save_quant(&q, provenance)
                .context("serializing the quantized model")?;
            let path = a.out.join(QUANT_FILE);
            util::write(&path, &bytes)?;
            vec![path]
        }
        ExportFormat::C => {
            let c = bitgru::io::c_export::export_c(&q, &a.prefix)
                .with_context(|| format!("exporting C source with prefix {:?}", a.prefix))?;
            let h = a.out.join(&c.header_name);
            let s = a.out.join(&c.source_name);
            util::write(&h, c.header.as_bytes())?;
            util::write(&s, c.source.as_bytes())?;
            vec![h, s]
        }
    };
    for p in &written {
        println!("{}", p.display());
    }
    eprintln!(
        "exported genome {} (input {}, hidden {}, classes {})",
        q.genome, q.input_size, q.hidden, q.classes
    );
    Ok(())
}
