//! `bitgru export`: a prepared genome as `DIR/model.bitgru` or C source.
use crate::cli::{CStorage, ExportArgs, ExportFormat};
use crate::models::{self, ModelFile};
use crate::util;
use anyhow::{Context, Result};
use bitgru::io::c_export::{export_c_with, CExportOptions, Storage};
use serde_json::json;

/// File name of the quantized model inside the output directory.
pub const QUANT_FILE: &str = "model.bitgru";

pub fn run(a: &ExportArgs) -> Result<()> {
    let file = models::load(&a.model)?;
    let command = util::command_line();
    let class_names: Vec<String> = file
        .meta()
        .map(|m| m.classes)
        .filter(|c| c.len() == file.dims().classes)
        .unwrap_or_default();
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
                "model_meta": c.meta.provenance(),
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
            let st = bitgru::size::storage(&q.genome, q.dims());
            eprintln!(
                ".bitgru: {} bytes = {} packed tensor bytes (size metric {} stored bytes + {} \
                 padding) + {} header bytes (JSON metadata)",
                bytes.len(),
                st.packed_tensor_bytes,
                st.metric_stored_bytes,
                st.padding_bytes,
                bytes.len() as u64 - st.packed_tensor_bytes,
            );
            vec![path]
        }
        ExportFormat::C => {
            let opt = CExportOptions {
                storage: match a.storage {
                    CStorage::Packed => Storage::Packed,
                    CStorage::Unpacked => Storage::Unpacked,
                },
                class_names: class_names.clone(),
            };
            let c = export_c_with(&q, &a.prefix, &opt)
                .with_context(|| format!("exporting C source with prefix {:?}", a.prefix))?;
            let mut files = vec![
                (c.header_name.clone(), c.header.clone()),
                (c.source_name.clone(), c.source.clone()),
            ];
            files.extend(
                c.package
                    .iter()
                    .map(|f| (f.name.clone(), f.contents.clone())),
            );
            let mut paths = Vec::new();
            for (name, text) in files {
                let path = a.out.join(name);
                util::write(&path, text.as_bytes())?;
                paths.push(path);
            }
            let st = c.storage;
            let ro = match c.storage_kind {
                Storage::Packed => st.c_rodata_packed,
                Storage::Unpacked => st.c_rodata_unpacked,
            };
            eprintln!(
                "C read-only data: {ro} bytes ({} storage); size metric {} bits = {} stored \
                 bytes + {} state bits; packed overhead {} bytes ({} constants + {} padding); \
                 unpacked {} bytes",
                c.storage_kind.name(),
                st.metric_bits,
                st.metric_stored_bytes,
                st.state_bits,
                st.c_overhead_packed,
                bitgru::size::C_CONSTANT_BYTES,
                st.padding_bytes,
                st.c_rodata_unpacked,
            );
            paths
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
