//! The quantized model file (`.bitgru`): a safetensors container holding the integer tensors
//! (weights i8, biases i32, LUTs u8/i8) and, in its header under `bitgru.quant`, JSON metadata
//! with the genome, dimensions, scales, multipliers and shifts. Import rebuilds the exact
//! [`QuantGru`]: a round trip is bit-exact.
use crate::error::{Error, Result};
use crate::fixed::{DualMultiplier, Multiplier};
use crate::genome::{Genome, GENE_NAMES, N_GENES};
use crate::quant::{QHead, QLinear, QuantGru};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Format version written into every file.
pub const FORMAT_VERSION: u32 = 1;
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
        data.push((
            format!("{n}.weight"),
            Dtype::I8,
            vec![l.rows, l.cols],
            i8b(&l.w),
        ));
        data.push((format!("{n}.bias"), Dtype::I32, vec![l.rows], i32b(&l.bias)));
    }
    data.push((
        "lut_r".into(),
        Dtype::U8,
        vec![q.lut_r.len()],
        q.lut_r.clone(),
    ));
    data.push((
        "lut_z".into(),
        Dtype::U8,
        vec![q.lut_z.len()],
        q.lut_z.clone(),
    ));
    data.push((
        "lut_n".into(),
        Dtype::I8,
        vec![q.lut_n.len()],
        i8b(&q.lut_n),
    ));
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

fn tensor<'a>(st: &'a SafeTensors, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8]> {
    let t = st
        .tensor(name)
        .map_err(|_| Error::Missing(format!("tensor {name:?} in .bitgru file")))?;
    if t.dtype() != dtype {
        return Err(Error::Dtype {
            what: name.into(),
            expected: format!("{dtype:?}"),
            got: format!("{:?}", t.dtype()),
        });
    }
    if t.shape() != shape {
        return Err(Error::Shape {
            what: name.into(),
            expected: shape.to_vec(),
            got: t.shape().to_vec(),
        });
    }
    // Borrowed from the input buffer through the SafeTensors view.
    Ok(t.data())
}

/// Loads a quantized model and checks it (shapes, code ranges, genome consistency).
pub fn load_quant(bytes: &[u8]) -> Result<(QuantGru, serde_json::Value)> {
    super::check_size("bitgru", bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(st_err)?;
    let (_, md) = SafeTensors::read_metadata(bytes).map_err(st_err)?;
    let js = md
        .metadata()
        .as_ref()
        .and_then(|m| m.get(KEY))
        .ok_or_else(|| Error::Missing(format!("{KEY} metadata: not a quantized bitgru model")))?;
    let meta: QuantMeta =
        serde_json::from_str(js).map_err(|e| Error::format("bitgru", format!("{KEY}: {e}")))?;
    if meta.version != FORMAT_VERSION {
        return Err(Error::format(
            "bitgru",
            format!("format version {}, expected {FORMAT_VERSION}", meta.version),
        ));
    }
    if meta.scales.len() != N_GENES || meta.linear.len() != 6 {
        return Err(Error::format(
            "bitgru",
            "metadata has the wrong number of scales or linear layers",
        ));
    }
    let (h, i, c) = (meta.hidden, meta.input_size, meta.classes);
    let as_i8 = |b: &[u8]| b.iter().map(|&x| x as i8).collect::<Vec<i8>>();
    let as_i32 = |b: &[u8]| {
        b.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect::<Vec<i32>>()
    };
    let mut lin = Vec::with_capacity(6);
    for (k, lm) in meta.linear.iter().enumerate() {
        let n = GENE_NAMES[k];
        let cols = if k < 3 { i } else { h };
        lin.push(QLinear {
            rows: lm.rows,
            cols: lm.cols,
            w: as_i8(tensor(&st, &format!("{n}.weight"), Dtype::I8, &[h, cols])?),
            bias: as_i32(tensor(&st, &format!("{n}.bias"), Dtype::I32, &[h])?),
            requant: lm.requant,
            bits: lm.bits,
            w_scale: lm.w_scale,
            in_scale: lm.in_scale,
            out_scale: lm.out_scale,
        });
    }
    let g = meta.genome;
    let lut_len = |gene: crate::Gene| 1usize << g.get(gene);
    let mut scales = [0f64; N_GENES];
    scales.copy_from_slice(&meta.scales);
    let q = QuantGru {
        genome: g,
        input_size: i,
        hidden: h,
        classes: c,
        input_scales: meta.input_scales,
        lut_r: tensor(&st, "lut_r", Dtype::U8, &[lut_len(crate::Gene::AddR)])?.to_vec(),
        lut_z: tensor(&st, "lut_z", Dtype::U8, &[lut_len(crate::Gene::AddZ)])?.to_vec(),
        lut_n: as_i8(tensor(
            &st,
            "lut_n",
            Dtype::I8,
            &[lut_len(crate::Gene::AddN)],
        )?),
        head: QHead {
            w: as_i8(tensor(&st, "head.weight", Dtype::I8, &[c, h])?),
            bias: as_i32(tensor(&st, "head.bias", Dtype::I32, &[c])?),
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
    q.validate()?;
    Ok((q, meta.provenance))
}
