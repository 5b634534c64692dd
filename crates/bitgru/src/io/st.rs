//! safetensors import of float weights (PyTorch names) and the bitgru model bundle.
use crate::calibrate::Calibration;
use crate::error::{check_finite, Error, Result};
use crate::model::FloatGru;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Tensor names, PyTorch convention.
pub const NAMES: [&str; 6] = [
    "gru.weight_ih_l0",
    "gru.weight_hh_l0",
    "gru.bias_ih_l0",
    "gru.bias_hh_l0",
    "fc.weight",
    "fc.bias",
];
const META_KEY: &str = "bitgru.meta";
const CALIB_KEY: &str = "bitgru.calibration";
/// One header key holding both, so that the written bytes are deterministic (safetensors
/// writes metadata from a hash map, in random order).
const BUNDLE_KEY: &str = "bitgru.bundle";

#[derive(Serialize, Deserialize)]
struct BundleHeader {
    meta: ModelMeta,
    calibration: Calibration,
}

/// Provenance and task information stored with a model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Task name (`row-mnist`, `pixel-mnist`, `kws4`, `kws10`, `synthetic`, …).
    pub task: String,
    /// Class names, in logit order.
    pub classes: Vec<String>,
    /// Feature front-end configuration (task specific, free-form JSON).
    #[serde(default)]
    pub features: serde_json::Value,
    /// Seed of the run that produced the model.
    #[serde(default)]
    pub seed: u64,
    /// Command line that produced the model.
    #[serde(default)]
    pub command: String,
    /// Free-form notes (e.g. measured accuracy).
    #[serde(default)]
    pub notes: String,
}

/// A float model with its calibration and metadata: everything needed to prepare any genome.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBundle {
    pub meta: ModelMeta,
    pub model: FloatGru,
    pub calibration: Calibration,
}

fn st_err(e: safetensors::SafeTensorError) -> Error {
    Error::format("safetensors", e.to_string())
}

fn f32_tensor(st: &SafeTensors, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let t = st
        .tensor(name)
        .map_err(|_| Error::Missing(format!("tensor {name:?} in safetensors file")))?;
    let data = t.data();
    let v: Vec<f32> = match t.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        other => {
            return Err(Error::Dtype {
                what: name.into(),
                expected: "F32 or F64".into(),
                got: format!("{other:?}"),
            })
        }
    };
    check_finite(name, &v)?;
    Ok((t.shape().to_vec(), v))
}

fn expect_shape(name: &str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got != expected {
        return Err(Error::Shape {
            what: name.into(),
            expected: expected.to_vec(),
            got: got.to_vec(),
        });
    }
    Ok(())
}

/// Builds a model from named float tensors, checking every shape.
pub(crate) fn model_from_tensors(
    mut get: impl FnMut(&str) -> Result<(Vec<usize>, Vec<f32>)>,
) -> Result<FloatGru> {
    let (s_ih, w_ih) = get(NAMES[0])?;
    if s_ih.len() != 2 || s_ih[0] % 3 != 0 || s_ih[0] == 0 || s_ih[1] == 0 {
        return Err(Error::invalid(
            NAMES[0],
            format!("shape {s_ih:?}, expected [3*hidden, input] with hidden, input > 0"),
        ));
    }
    let (h, i) = (s_ih[0] / 3, s_ih[1]);
    let (s_hh, w_hh) = get(NAMES[1])?;
    expect_shape(NAMES[1], &s_hh, &[3 * h, h])?;
    let (s, b_ih) = get(NAMES[2])?;
    expect_shape(NAMES[2], &s, &[3 * h])?;
    let (s, b_hh) = get(NAMES[3])?;
    expect_shape(NAMES[3], &s, &[3 * h])?;
    let (s_fc, w_fc) = get(NAMES[4])?;
    if s_fc.len() != 2 || s_fc[1] != h || s_fc[0] == 0 {
        return Err(Error::Shape {
            what: NAMES[4].into(),
            expected: vec![0, h],
            got: s_fc,
        });
    }
    let c = s_fc[0];
    let (s, b_fc) = get(NAMES[5])?;
    expect_shape(NAMES[5], &s, &[c])?;
    let m = FloatGru {
        input_size: i,
        hidden: h,
        classes: c,
        w_ih,
        w_hh,
        b_ih,
        b_hh,
        w_fc,
        b_fc,
    };
    m.validate()?;
    Ok(m)
}

fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
    let (_, md) = SafeTensors::read_metadata(bytes).map_err(st_err)?;
    Ok(md.metadata().clone().unwrap_or_default())
}

/// Loads float weights with PyTorch names (`gru.weight_ih_l0`, …, `fc.bias`), and the bitgru
/// metadata if present.
pub fn load_float_safetensors(bytes: &[u8]) -> Result<(FloatGru, Option<ModelMeta>)> {
    super::check_size("safetensors", bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(st_err)?;
    let model = model_from_tensors(|n| f32_tensor(&st, n))?;
    let md = metadata(bytes)?;
    if let Some(h) = md.get(BUNDLE_KEY) {
        let h: BundleHeader = serde_json::from_str(h)
            .map_err(|e| Error::format("safetensors", format!("{BUNDLE_KEY}: {e}")))?;
        return Ok((model, Some(h.meta)));
    }
    let meta = match md.get(META_KEY) {
        Some(s) => Some(
            serde_json::from_str(s)
                .map_err(|e| Error::format("safetensors", format!("{META_KEY}: {e}")))?,
        ),
        None => None,
    };
    Ok((model, meta))
}

/// Loads a bundle: float weights + calibration + metadata.
pub fn load_bundle(bytes: &[u8]) -> Result<ModelBundle> {
    let (model, meta) = load_float_safetensors(bytes)?;
    let md = metadata(bytes)?;
    if let Some(h) = md.get(BUNDLE_KEY) {
        let h: BundleHeader = serde_json::from_str(h)
            .map_err(|e| Error::format("safetensors", format!("{BUNDLE_KEY}: {e}")))?;
        h.calibration.validate(&model)?;
        return Ok(ModelBundle {
            meta: h.meta,
            model,
            calibration: h.calibration,
        });
    }
    let calib = md.get(CALIB_KEY).ok_or_else(|| {
        Error::Missing(format!(
            "{CALIB_KEY} metadata (a plain weight file has no calibration; calibrate it first)"
        ))
    })?;
    let calibration: Calibration = serde_json::from_str(calib)
        .map_err(|e| Error::format("safetensors", format!("{CALIB_KEY}: {e}")))?;
    calibration.validate(&model)?;
    Ok(ModelBundle {
        meta: meta.unwrap_or_default(),
        model,
        calibration,
    })
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes a bundle as safetensors (PyTorch tensor names; calibration and meta in the header).
pub fn save_bundle(b: &ModelBundle) -> Result<Vec<u8>> {
    b.model.validate()?;
    b.calibration.validate(&b.model)?;
    let m = &b.model;
    let (h, i, c) = (m.hidden, m.input_size, m.classes);
    let data = [
        (NAMES[0], f32_bytes(&m.w_ih), vec![3 * h, i]),
        (NAMES[1], f32_bytes(&m.w_hh), vec![3 * h, h]),
        (NAMES[2], f32_bytes(&m.b_ih), vec![3 * h]),
        (NAMES[3], f32_bytes(&m.b_hh), vec![3 * h]),
        (NAMES[4], f32_bytes(&m.w_fc), vec![c, h]),
        (NAMES[5], f32_bytes(&m.b_fc), vec![c]),
    ];
    let views: Vec<(&str, TensorView)> = data
        .iter()
        .map(|(n, bytes, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (*n, v))
                .map_err(st_err)
        })
        .collect::<Result<_>>()?;
    let mut md = HashMap::new();
    let header = BundleHeader {
        meta: b.meta.clone(),
        calibration: b.calibration.clone(),
    };
    md.insert(
        BUNDLE_KEY.to_string(),
        serde_json::to_string(&header).expect("bundle header serializes"),
    );
    safetensors::tensor::serialize(views, &Some(md)).map_err(st_err)
}
