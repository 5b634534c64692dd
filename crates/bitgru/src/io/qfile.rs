//! The quantized model file (`.bitgru`): a safetensors container holding the integer tensors
//! and, in its header under `bitgru.quant`, JSON metadata with the genome, dimensions, scales,
//! multipliers and shifts. Import rebuilds the exact [`QuantGru`]: a round trip is bit-exact.
//!
//! Format version 2 (written) stores the linear weights and the LUTs at their gene's bit width,
//! packed into one bit stream per tensor ([`super::pack`]); version 1 (still read) stored them
//! as one byte per code. Biases (i32) and the 8-bit head are the same in both.
use super::pack::{pack_signed, pack_unsigned, packed_len, unpack_signed, unpack_unsigned};
use super::stfile::{self, StDtype, StFile};
use crate::error::{Error, Result};
use crate::fixed::{DualMultiplier, Multiplier};
use crate::genome::{Gene, Genome, GENE_NAMES, N_GENES};
use crate::quant::{QHead, QLinear, QuantGru, BIAS_LIMIT};
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Format version written into every file (2: packed weights and LUTs).
pub const FORMAT_VERSION: u32 = 2;
/// Versions the reader accepts: 1 (one byte per code) and 2 (packed).
pub const READ_VERSIONS: [u32; 2] = [1, 2];
const KEY: &str = "bitgru.quant";

#[derive(Serialize, Deserialize)]
struct LinearMeta {
    bits: u8,
    rows: usize,
    cols: usize,
    requant: Multiplier,
    w_scale: f64,
    in_scale: f64,
    out_scale: f64,
}

#[derive(Serialize, Deserialize)]
struct QuantMeta {
    format: String,
    version: u32,
    genome: Genome,
    gene_names: Vec<String>,
    input_size: usize,
    hidden: usize,
    classes: usize,
    input_bits: u8,
    input_scales: Vec<f32>,
    scales: Vec<f64>,
    linear: Vec<LinearMeta>,
    add_r: DualMultiplier,
    add_z: DualMultiplier,
    add_n: DualMultiplier,
    add_h: DualMultiplier,
    sub_z: Multiplier,
    mul_rh: Multiplier,
    mul_zn: Multiplier,
    mul_zh: Multiplier,
    head_w_scale: f64,
    /// Free-form provenance (model meta, seeds) carried along.
    #[serde(default)]
    provenance: serde_json::Value,
}

fn st_err(e: safetensors::SafeTensorError) -> Error {
    Error::format("bitgru", e.to_string())
}

/// Serializes a prepared model (with optional provenance JSON).
pub fn save_quant(q: &QuantGru, provenance: serde_json::Value) -> Result<Vec<u8>> {
    q.validate()?;
    let meta = QuantMeta {
        format: "bitgru-quant".into(),
        version: FORMAT_VERSION,
        genome: q.genome,
        gene_names: GENE_NAMES.iter().map(|s| s.to_string()).collect(),
        input_size: q.input_size,
        hidden: q.hidden,
        classes: q.classes,
        input_bits: crate::calibrate::INPUT_BITS,
        input_scales: q.input_scales.clone(),
        scales: q.scales.to_vec(),
        linear: q
            .lin
            .iter()
            .map(|l| LinearMeta {
                bits: l.bits,
                rows: l.rows,
                cols: l.cols,
                requant: l.requant,
                w_scale: l.w_scale,
                in_scale: l.in_scale,
                out_scale: l.out_scale,
            })
            .collect(),
        add_r: q.add_r,
        add_z: q.add_z,
        add_n: q.add_n,
        add_h: q.add_h,
        sub_z: q.sub_z,
        mul_rh: q.mul_rh,
        mul_zn: q.mul_zn,
        mul_zh: q.mul_zh,
        head_w_scale: q.head.w_scale,
        provenance,
    };
    let i8b = |v: &[i8]| v.iter().map(|&x| x as u8).collect::<Vec<u8>>();
    let i32b = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut data: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (k, l) in q.lin.iter().enumerate() {
        let n = GENE_NAMES[k];
        let w = pack_signed(&l.w, l.bits);
        data.push((format!("{n}.weight"), Dtype::U8, vec![w.len()], w));
        data.push((format!("{n}.bias"), Dtype::I32, vec![l.rows], i32b(&l.bias)));
    }
    let g = q.genome;
    for (name, lut) in [
        ("lut_r", pack_unsigned(&q.lut_r, g.get(crate::Gene::SigR))),
        ("lut_z", pack_unsigned(&q.lut_z, g.get(crate::Gene::SigZ))),
        ("lut_n", pack_signed(&q.lut_n, g.get(crate::Gene::TanhN))),
    ] {
        data.push((name.into(), Dtype::U8, vec![lut.len()], lut));
    }
    data.push((
        "head.weight".into(),
        Dtype::I8,
        vec![q.classes, q.hidden],
        i8b(&q.head.w),
    ));
    data.push((
        "head.bias".into(),
        Dtype::I32,
        vec![q.classes],
        i32b(&q.head.bias),
    ));
    let views: Vec<(String, TensorView)> = data
        .iter()
        .map(|(n, dt, shape, bytes)| {
            TensorView::new(*dt, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(st_err)
        })
        .collect::<Result<_>>()?;
    let mut md = HashMap::new();
    md.insert(
        KEY.to_string(),
        serde_json::to_string(&meta).expect("meta serializes"),
    );
    safetensors::tensor::serialize(views, &Some(md)).map_err(st_err)
}

fn tensor<'a>(st: &StFile<'a>, name: &str, dtype: StDtype, shape: &[usize]) -> Result<&'a [u8]> {
    let t = st
        .tensors
        .get(name)
        .ok_or_else(|| Error::Missing(format!("tensor {name:?} in .bitgru file")))?;
    if t.dtype != dtype {
        return Err(Error::Dtype {
            what: name.into(),
            expected: dtype.name().into(),
            got: t.dtype.name().into(),
        });
    }
    if t.shape != shape {
        return Err(Error::Shape {
            what: name.into(),
            expected: shape.to_vec(),
            got: t.shape.clone(),
        });
    }
    Ok(t.data)
}

fn bad(what: impl Into<String>, detail: impl Into<String>) -> Error {
    Error::Invalid {
        what: format!(".bitgru {}", what.into()),
        detail: detail.into(),
    }
}

/// A scale read from the file: finite and > 0.
fn check_scale(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(bad(what, format!("{v}, expected a finite scale > 0")))
    }
}

/// A multiplier read from the file: mantissa in [2^30, 2^31) (or 0 for a zero multiplier),
/// or smaller only at the saturated shift 62; shift ≤ 62.
fn check_multiplier(what: &str, m: Multiplier) -> Result<()> {
    let normal = (1 << 30..=i32::MAX).contains(&m.mult);
    let ok = m.shift <= 62 && (normal || m.mult == 0 || (m.shift == 62 && m.mult > 0));
    if ok {
        Ok(())
    } else {
        Err(bad(
            what,
            format!(
                "multiplier mult {} shift {}: expected mult in [2^30, 2^31) (or 0) and shift ≤ 62",
                m.mult, m.shift
            ),
        ))
    }
}

/// Checks every metadata field against what the integer kernel and the C export rely on, before
/// any tensor is read.
fn check_meta(meta: &QuantMeta) -> Result<()> {
    if meta.format != "bitgru-quant" {
        return Err(bad(
            "format",
            format!(
                "{:?}, expected \"bitgru-quant\"",
                crate::error::clip(&meta.format, 40)
            ),
        ));
    }
    if meta.gene_names.len() != N_GENES
        || meta.gene_names.iter().zip(GENE_NAMES).any(|(a, b)| a != b)
    {
        return Err(bad(
            "gene_names",
            format!("expected {GENE_NAMES:?} (the gene order this reader uses)"),
        ));
    }
    super::check_dims(meta.input_size, meta.hidden, meta.classes)?;
    if meta.input_bits != crate::calibrate::INPUT_BITS {
        return Err(bad(
            "input_bits",
            format!(
                "{}, expected {}",
                meta.input_bits,
                crate::calibrate::INPUT_BITS
            ),
        ));
    }
    if meta.input_scales.len() != meta.input_size {
        return Err(Error::length(
            ".bitgru input_scales",
            meta.input_size,
            meta.input_scales.len(),
        ));
    }
    for (k, &s) in meta.input_scales.iter().enumerate() {
        check_scale(&format!("input_scales[{k}]"), s as f64)?;
    }
    if meta.scales.len() != N_GENES {
        return Err(Error::length(".bitgru scales", N_GENES, meta.scales.len()));
    }
    for (k, &s) in meta.scales.iter().enumerate() {
        check_scale(&format!("scales[{k}] ({})", GENE_NAMES[k]), s)?;
    }
    if meta.linear.len() != 6 {
        return Err(Error::length(".bitgru linear layers", 6, meta.linear.len()));
    }
    for (k, lm) in meta.linear.iter().enumerate() {
        let n = GENE_NAMES[k];
        let cols = if k < 3 { meta.input_size } else { meta.hidden };
        if (lm.rows, lm.cols) != (meta.hidden, cols) {
            return Err(Error::Shape {
                what: format!(".bitgru linear[{k}] ({n})"),
                expected: vec![meta.hidden, cols],
                got: vec![lm.rows, lm.cols],
            });
        }
        let gene_bits = meta.genome.get(crate::Gene::ALL[k]);
        if lm.bits != gene_bits {
            return Err(bad(
                format!("linear[{k}] ({n}) bits"),
                format!("{}, but the genome gives {gene_bits}", lm.bits),
            ));
        }
        check_multiplier(&format!("linear[{k}] ({n}) requant"), lm.requant)?;
        check_scale(&format!("linear[{k}] ({n}) w_scale"), lm.w_scale)?;
        check_scale(&format!("linear[{k}] ({n}) in_scale"), lm.in_scale)?;
        check_scale(&format!("linear[{k}] ({n}) out_scale"), lm.out_scale)?;
    }
    for (what, m) in [
        ("sub_z", meta.sub_z),
        ("mul_rh", meta.mul_rh),
        ("mul_zn", meta.mul_zn),
        ("mul_zh", meta.mul_zh),
    ] {
        check_multiplier(what, m)?;
    }
    for (what, d) in [
        ("add_r", meta.add_r),
        ("add_z", meta.add_z),
        ("add_n", meta.add_n),
        ("add_h", meta.add_h),
    ] {
        if d.shift > 62 || !(0..1 << 40).contains(&d.mult_a) || !(0..1 << 40).contains(&d.mult_b) {
            return Err(bad(
                what,
                format!(
                    "dual multiplier mult_a {} mult_b {} shift {}: expected mults in [0, 2^40) \
                     and shift ≤ 62",
                    d.mult_a, d.mult_b, d.shift
                ),
            ));
        }
    }
    check_scale("head_w_scale", meta.head_w_scale)?;
    Ok(())
}

/// Loads a quantized model and checks it (every metadata field, shapes, code ranges, head bias
/// range, genome consistency).
pub fn load_quant(bytes: &[u8]) -> Result<(QuantGru, serde_json::Value)> {
    super::check_size("bitgru", bytes)?;
    if let Some(e) = super::sniff::foreign_format(bytes) {
        return Err(e);
    }
    let st = stfile::parse("bitgru", bytes)?;
    let js = st
        .metadata
        .get(KEY)
        .ok_or_else(|| Error::Missing(format!("{KEY} metadata: not a quantized bitgru model")))?;
    // The version first, so that a future format is named as such rather than as a bad field.
    let version = serde_json::from_str::<serde_json::Value>(js)
        .map_err(|e| Error::format("bitgru", format!("{KEY}: {e}")))?
        .get("version")
        .and_then(|v| v.as_u64());
    let version = match version {
        Some(v) if READ_VERSIONS.contains(&(v as u32)) && v <= u32::MAX as u64 => v as u32,
        _ => {
            return Err(Error::format(
                "bitgru",
                format!(
                    "format version {version:?}, expected one of {READ_VERSIONS:?} (a newer \
                     bitgru wrote this file?)"
                ),
            ))
        }
    };
    let meta: QuantMeta =
        serde_json::from_str(js).map_err(|e| Error::format("bitgru", format!("{KEY}: {e}")))?;
    check_meta(&meta)?;
    let expected: Vec<String> = GENE_NAMES
        .iter()
        .take(6)
        .flat_map(|n| [format!("{n}.weight"), format!("{n}.bias")])
        .chain(
            ["lut_r", "lut_z", "lut_n", "head.weight", "head.bias"]
                .iter()
                .map(|s| s.to_string()),
        )
        .collect();
    let unknown: Vec<&String> = st
        .tensors
        .keys()
        .filter(|k| !expected.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(bad(
            "tensors",
            format!("not understood: {unknown:?}; expected exactly {expected:?}"),
        ));
    }
    let (h, i, c) = (meta.hidden, meta.input_size, meta.classes);
    let as_i8 = |b: &[u8]| b.iter().map(|&x| x as i8).collect::<Vec<i8>>();
    let as_i32 = |b: &[u8]| {
        b.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<i32>>()
    };
    // Codes of a weight or LUT tensor: one byte per code (version 1) or packed (version 2).
    let signed = |name: &str, shape: &[usize], bits: u8| -> Result<Vec<i8>> {
        let n = shape.iter().product();
        if version == 1 {
            return Ok(as_i8(tensor(&st, name, StDtype::I8, shape)?));
        }
        let b = tensor(&st, name, StDtype::U8, &[packed_len(n, bits)])?;
        unpack_signed(&format!(".bitgru {name}"), b, n, bits)
    };
    let unsigned = |name: &str, n: usize, bits: u8| -> Result<Vec<u8>> {
        if version == 1 {
            return Ok(tensor(&st, name, StDtype::U8, &[n])?.to_vec());
        }
        let b = tensor(&st, name, StDtype::U8, &[packed_len(n, bits)])?;
        unpack_unsigned(&format!(".bitgru {name}"), b, n, bits)
    };
    let mut lin = Vec::with_capacity(6);
    for (k, lm) in meta.linear.iter().enumerate() {
        let n = GENE_NAMES[k];
        let cols = if k < 3 { i } else { h };
        lin.push(QLinear {
            rows: lm.rows,
            cols: lm.cols,
            w: signed(&format!("{n}.weight"), &[h, cols], lm.bits)?,
            bias: as_i32(tensor(&st, &format!("{n}.bias"), StDtype::I32, &[h])?),
            requant: lm.requant,
            bits: lm.bits,
            w_scale: lm.w_scale,
            in_scale: lm.in_scale,
            out_scale: lm.out_scale,
        });
    }
    let g = meta.genome;
    let lut_len = |gene: Gene| 1usize << g.get(gene);
    let mut scales = [0f64; N_GENES];
    scales.copy_from_slice(&meta.scales);
    let head_bias = as_i32(tensor(&st, "head.bias", StDtype::I32, &[c])?);
    // The logits are `Σ w·h + bias` in i32 (|Σ w·h| ≤ hidden · 2^14): a head bias beyond the
    // range prepare writes would wrap, in Rust and in the exported C.
    if let Some(p) = head_bias
        .iter()
        .position(|&b| (b as i64).abs() > BIAS_LIMIT)
    {
        return Err(bad(
            "head.bias",
            format!(
                "code {} at index {p} exceeds ±2^30 (the logits would overflow i32)",
                head_bias[p]
            ),
        ));
    }
    let q = QuantGru {
        genome: g,
        input_size: i,
        hidden: h,
        classes: c,
        input_scales: meta.input_scales,
        lut_r: unsigned("lut_r", lut_len(Gene::AddR), g.get(Gene::SigR))?,
        lut_z: unsigned("lut_z", lut_len(Gene::AddZ), g.get(Gene::SigZ))?,
        lut_n: signed("lut_n", &[lut_len(Gene::AddN)], g.get(Gene::TanhN))?,
        head: QHead {
            w: as_i8(tensor(&st, "head.weight", StDtype::I8, &[c, h])?),
            bias: head_bias,
            w_scale: meta.head_w_scale,
        },
        lin,
        add_r: meta.add_r,
        add_z: meta.add_z,
        add_n: meta.add_n,
        add_h: meta.add_h,
        sub_z: meta.sub_z,
        mul_rh: meta.mul_rh,
        mul_zn: meta.mul_zn,
        mul_zh: meta.mul_zh,
        scales,
    };
    q.validate()
        .map_err(|e| bad("model", format!("fails validation: {e}")))?;
    Ok((q, meta.provenance))
}
