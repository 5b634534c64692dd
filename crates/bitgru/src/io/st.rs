//! safetensors import of float weights (PyTorch names, any module prefix, the head found by
//! shape) and the bitgru model bundle.
use super::stfile::{self, RawTensor, StDtype, StFile};
use crate::calibrate::Calibration;
use crate::error::{check_finite, Error, Result};
use crate::model::FloatGru;
use safetensors::tensor::{Dtype, TensorView};
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
    /// The front end: how raw input becomes the model's features ([`crate::frontend`]; the
    /// JSON key stays `features` with its historical layout).
    #[serde(default)]
    pub features: crate::frontend::FrontEnd,
    /// Seed of the run that produced the model.
    #[serde(default)]
    pub seed: u64,
    /// Command line that produced the model.
    #[serde(default)]
    pub command: String,
    /// Free-form notes (e.g. measured accuracy).
    #[serde(default)]
    pub notes: String,
    /// The genome the weights were fine-tuned for by quantization-aware training (`bitgru qat`),
    /// if any: tools use it by default and warn about another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qat_genome: Option<crate::genome::Genome>,
    /// The keyword detector's default probability threshold for this model, chosen on the
    /// model's own DET curve (`bitgru detect --eval … --write-model`, docs/DETECTOR.md): a
    /// threshold belongs to a model (one trained with label smoothing never reaches 0.9).
    /// `None`: [`crate::detect::DEFAULT_THRESHOLD`]. In `[0, 1]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect_threshold: Option<f32>,
}

/// Longest free-text `notes` kept verbatim by [`ModelMeta::provenance`].
pub const PROVENANCE_NOTES_MAX: usize = 512;

impl ModelMeta {
    /// The model's metadata as it travels into an exported `.bitgru` file: task, classes, front
    /// end, seed, command and QAT genome in full; the training notes with every per-epoch
    /// `history` replaced by its summary (epochs recorded, best validation accuracy and its
    /// epoch). The full history stays in the float bundle; carrying it made a
    /// 9.5 KB kws10 model a 33 KB file (issue 11: the file must track the size metric).
    pub fn provenance(&self) -> serde_json::Value {
        let mut m = serde_json::to_value(self).expect("model meta serializes");
        let notes = match serde_json::from_str::<serde_json::Value>(&self.notes) {
            Ok(v @ serde_json::Value::Object(_)) => summarize_histories(v),
            _ if self.notes.len() <= PROVENANCE_NOTES_MAX => self.notes.clone().into(),
            _ => {
                let mut end = PROVENANCE_NOTES_MAX;
                while !self.notes.is_char_boundary(end) {
                    end -= 1;
                }
                format!(
                    "{}… ({} bytes in all)",
                    &self.notes[..end],
                    self.notes.len()
                )
                .into()
            }
        };
        m["notes"] = notes;
        m
    }
}

impl ModelMeta {
    /// The model meta a `.bitgru` file's provenance records under `model_meta` (written by
    /// [`ModelMeta::provenance`], whose `notes` may be a JSON object, kept here as its JSON
    /// text). `None` when the provenance has none or it is not a model meta.
    pub fn from_provenance(provenance: &serde_json::Value) -> Option<ModelMeta> {
        let mut m = provenance.get("model_meta")?.clone();
        if let Some(notes) = m.get_mut("notes") {
            if !notes.is_string() && !notes.is_null() {
                *notes = notes.to_string().into();
            }
        }
        serde_json::from_value(m).ok()
    }

    /// Checks [`ModelMeta::detect_threshold`] (a probability, not NaN).
    pub fn check_detect_threshold(&self) -> Result<()> {
        match self.detect_threshold {
            Some(t) if !(0.0..=1.0).contains(&t) => Err(Error::invalid(
                "model metadata",
                format!("detect_threshold {t} must be a probability in [0, 1]"),
            )),
            _ => Ok(()),
        }
    }
}

/// Replaces every `history` array (a list of per-epoch records) with a summary, also inside
/// `base_notes` (the float model's notes a QAT bundle carries as a JSON string).
fn summarize_histories(mut v: serde_json::Value) -> serde_json::Value {
    use serde_json::{json, Value};
    if let Value::Object(map) = &mut v {
        if let Some(Value::Array(h)) = map.get("history") {
            let best = h
                .iter()
                .filter_map(|r| Some((r["epoch"].as_u64()?, r["val_accuracy"].as_f64()?)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let summary = json!({
                "epochs_recorded": h.len(),
                "best_val_accuracy": best.map(|b| b.1),
                "best_epoch": best.map(|b| b.0),
            });
            map.remove("history");
            map.insert("history_summary".into(), summary);
        }
        if let Some(Value::String(b)) = map.get("base_notes") {
            if let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(b) {
                map.insert("base_notes".into(), summarize_histories(inner));
            }
        }
        for (k, child) in map.iter_mut() {
            if k != "base_notes" && child.is_object() {
                *child = summarize_histories(child.take());
            }
        }
    }
    v
}

/// A float model with its calibration and metadata: everything needed to prepare any genome.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBundle {
    pub meta: ModelMeta,
    pub model: FloatGru,
    pub calibration: Calibration,
}

fn st_err(e: safetensors::SafeTensorError) -> Error {
    Error::format("safetensors", format!("cannot write the file: {e}"))
}

/// IEEE half → f32 (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        // Subnormal: man · 2^-24, exact in f32.
        (0, m) => {
            let v = m as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// A float tensor as f32 (F32, F64, F16 and BF16 are read), with its shape; non-finite values
/// are errors.
fn f32_of(name: &str, t: &RawTensor) -> Result<(Vec<usize>, Vec<f32>)> {
    let data = t.data;
    let v: Vec<f32> = match t.dtype {
        StDtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        StDtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        StDtype::F16 => data
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        StDtype::BF16 => data
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        other => {
            return Err(Error::Dtype {
                what: name.into(),
                expected: "F32, F64, F16 or BF16".into(),
                got: other.name().into(),
            })
        }
    };
    check_finite(name, &v)?;
    Ok((t.shape.clone(), v))
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

/// What bitgru reads from a weight file, said in every naming error.
pub const SUPPORTED_LAYOUT: &str = "bitgru reads one single-layer, unidirectional GRU \
    (PyTorch nn.GRU(num_layers=1, bidirectional=False): <prefix>weight_ih_l0 [3H, I], \
    weight_hh_l0 [3H, H], bias_ih_l0 [3H], bias_hh_l0 [3H]) and one linear head \
    (<head>.weight [C, H], <head>.bias [C]); any module prefix and attribute names are accepted";

fn name_list(names: &[&str]) -> String {
    const SHOWN: usize = 24;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("{:?}", crate::error::clip(n, 80)))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", … ({} in all)", names.len()));
    }
    s
}

/// The file's names of the six tensors, in [`NAMES`] order: the GRU found by its
/// `weight_ih_l0` suffix (any prefix), the head found by shape among the other tensors. Every
/// other tensor is an error (a second layer, a reverse direction, a norm, …): ignoring it would
/// give a silently different model.
pub fn resolve_names(shapes: &[(&str, &[usize])]) -> Result<[String; 6]> {
    let all: Vec<&str> = shapes.iter().map(|(n, _)| *n).collect();
    let found = || name_list(&all);
    let reverse: Vec<&str> = all
        .iter()
        .copied()
        .filter(|n| n.contains("_reverse"))
        .collect();
    if !reverse.is_empty() {
        return Err(Error::invalid(
            "GRU",
            format!(
                "bidirectional GRUs are not supported (found {}); {SUPPORTED_LAYOUT}",
                name_list(&reverse)
            ),
        ));
    }
    let deeper: Vec<&str> = all
        .iter()
        .copied()
        .filter(|n| {
            ["weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"]
                .iter()
                .any(|p| {
                    n.rfind(p).is_some_and(|at| {
                        let layer = &n[at + p.len()..];
                        !layer.is_empty()
                            && layer.bytes().all(|b| b.is_ascii_digit())
                            && layer != "0"
                    })
                })
        })
        .collect();
    if !deeper.is_empty() {
        return Err(Error::invalid(
            "GRU",
            format!(
                "multi-layer GRUs (num_layers > 1) are not supported (found {}); {SUPPORTED_LAYOUT}",
                name_list(&deeper)
            ),
        ));
    }
    let grus: Vec<&str> = all
        .iter()
        .filter_map(|n| n.strip_suffix("weight_ih_l0"))
        .collect();
    let prefix = match grus.as_slice() {
        [p] => *p,
        [] => {
            return Err(Error::Missing(format!(
                "GRU input weights (a tensor named <prefix>weight_ih_l0, e.g. {:?}); found {}; \
                 {SUPPORTED_LAYOUT}",
                NAMES[0],
                found()
            )))
        }
        many => {
            return Err(Error::invalid(
                "GRU",
                format!(
                    "{} GRUs found (prefixes {}); only one is supported",
                    many.len(),
                    name_list(many)
                ),
            ))
        }
    };
    let gru: Vec<String> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        .iter()
        .map(|s| format!("{prefix}{s}"))
        .collect();
    for n in &gru {
        if !all.contains(&n.as_str()) {
            return Err(Error::Missing(format!(
                "tensor {n:?} (the GRU is {prefix:?}…); found {}",
                found()
            )));
        }
    }
    let rest: Vec<(&str, &[usize])> = shapes
        .iter()
        .filter(|(n, _)| !gru.iter().any(|g| g == n))
        .map(|(n, s)| (*n, *s))
        .collect();
    let s_ih = shapes
        .iter()
        .find(|(n, _)| *n == gru[0])
        .map(|(_, s)| *s)
        .unwrap_or(&[]);
    if s_ih.len() != 2 || s_ih[0] % 3 != 0 || s_ih[0] == 0 || s_ih[1] == 0 {
        return Err(Error::invalid(
            gru[0].as_str(),
            format!("shape {s_ih:?}, expected [3*hidden, input] with hidden, input > 0"),
        ));
    }
    let hidden = s_ih[0] / 3;
    // The head: a 2-D `…weight` whose second dimension is the hidden size, with its `…bias`.
    let heads: Vec<&str> = rest
        .iter()
        .filter(|(n, s)| n.ends_with("weight") && s.len() == 2 && s[1] == hidden)
        .map(|(n, _)| *n)
        .collect();
    let head_w = match heads.as_slice() {
        [w] => w.to_string(),
        [] => {
            let weights: Vec<&str> = rest
                .iter()
                .filter(|(n, _)| n.ends_with("weight"))
                .map(|(n, _)| *n)
                .collect();
            if let [w] = weights.as_slice() {
                let got = rest.iter().find(|(n, _)| n == w).expect("listed").1;
                return Err(Error::invalid(
                    *w,
                    format!(
                        "head weight of shape {got:?}, expected [classes, {hidden}] (2-D, \
                         columns = the GRU's hidden size {hidden})"
                    ),
                ));
            }
            return Err(Error::Missing(format!(
                "the linear head's weight (a 2-D tensor <head>.weight [classes, {hidden}], e.g. \
                 {:?}); found {}",
                NAMES[4],
                found()
            )));
        }
        many => {
            return Err(Error::invalid(
                "head",
                format!(
                    "several candidate head weights of shape [classes, {hidden}]: {}; bitgru \
                     reads exactly one linear head",
                    name_list(many)
                ),
            ))
        }
    };
    let head_b = format!("{}bias", head_w.strip_suffix("weight").expect("suffix"));
    if !all.contains(&head_b.as_str()) {
        return Err(Error::Missing(format!(
            "tensor {head_b:?} (the bias of the head {head_w:?}); found {}",
            found()
        )));
    }
    let unknown: Vec<&str> = rest
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != head_w && *n != head_b)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "weight file",
            format!(
                "tensors not understood: {}; {SUPPORTED_LAYOUT}",
                name_list(&unknown)
            ),
        ));
    }
    let [a, b, c, d] = <[String; 4]>::try_from(gru).expect("four");
    Ok([a, b, c, d, head_w, head_b])
}

fn expect_2d_positive(name: &str, got: &[usize], what: &str) -> Result<()> {
    if got.len() != 2 || got[0] == 0 || got[1] == 0 {
        return Err(Error::invalid(
            name,
            format!("shape {got:?}, expected {what}"),
        ));
    }
    Ok(())
}

/// Builds a model from named float tensors (in [`NAMES`] order, named as in the file), checking
/// every shape.
pub(crate) fn model_from_tensors(
    names: &[String; 6],
    mut get: impl FnMut(&str) -> Result<(Vec<usize>, Vec<f32>)>,
) -> Result<FloatGru> {
    let (s_ih, w_ih) = get(&names[0])?;
    if s_ih.len() != 2 || s_ih[0] % 3 != 0 || s_ih[0] == 0 || s_ih[1] == 0 {
        return Err(Error::invalid(
            names[0].as_str(),
            format!("shape {s_ih:?}, expected [3*hidden, input] with hidden, input > 0"),
        ));
    }
    let (h, i) = (s_ih[0] / 3, s_ih[1]);
    super::check_dims(i, h, 1)?;
    let (s_hh, w_hh) = get(&names[1])?;
    expect_shape(&names[1], &s_hh, &[3 * h, h])?;
    let (s, b_ih) = get(&names[2])?;
    expect_shape(&names[2], &s, &[3 * h])?;
    let (s, b_hh) = get(&names[3])?;
    expect_shape(&names[3], &s, &[3 * h])?;
    let (s_fc, w_fc) = get(&names[4])?;
    expect_2d_positive(
        &names[4],
        &s_fc,
        &format!("[classes, {h}] with classes > 0"),
    )?;
    if s_fc[1] != h {
        return Err(Error::invalid(
            names[4].as_str(),
            format!("shape {s_fc:?}, expected [classes, {h}] (columns = hidden size {h})"),
        ));
    }
    let c = s_fc[0];
    super::check_dims(i, h, c)?;
    let (s, b_fc) = get(&names[5])?;
    expect_shape(&names[5], &s, &[c])?;
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

/// Parses the container, first recognising files of other frameworks.
fn parse_st(bytes: &[u8]) -> Result<StFile<'_>> {
    super::check_size("safetensors", bytes)?;
    if let Some(e) = super::sniff::foreign_format(bytes) {
        return Err(e);
    }
    stfile::parse("safetensors", bytes)
}

fn model_of(st: &StFile) -> Result<FloatGru> {
    let shapes: Vec<(&str, &[usize])> = st
        .tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.shape.as_slice()))
        .collect();
    let names = resolve_names(&shapes)?;
    model_from_tensors(&names, |n| {
        let t = st
            .tensors
            .get(n)
            .ok_or_else(|| Error::Missing(format!("tensor {n:?} in safetensors file")))?;
        f32_of(n, t)
    })
}

fn check_meta(meta: &ModelMeta, model: &FloatGru) -> Result<()> {
    meta.check_detect_threshold()?;
    if !meta.classes.is_empty() && meta.classes.len() != model.classes {
        return Err(Error::invalid(
            "model metadata",
            format!(
                "{} class names for a model with {} classes",
                meta.classes.len(),
                model.classes
            ),
        ));
    }
    Ok(())
}

fn header_json<T: serde::de::DeserializeOwned>(key: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::format("safetensors", format!("{key}: {e}")))
}

/// Loads float weights with PyTorch names (`gru.weight_ih_l0`, …, `fc.bias`, or any module
/// prefix and head name, see [`resolve_names`]), and the bitgru metadata if present.
pub fn load_float_safetensors(bytes: &[u8]) -> Result<(FloatGru, Option<ModelMeta>)> {
    let st = parse_st(bytes)?;
    let model = model_of(&st)?;
    let meta: Option<ModelMeta> = if let Some(h) = st.metadata.get(BUNDLE_KEY) {
        Some(header_json::<BundleHeader>(BUNDLE_KEY, h)?.meta)
    } else if let Some(s) = st.metadata.get(META_KEY) {
        Some(header_json(META_KEY, s)?)
    } else {
        None
    };
    if let Some(m) = &meta {
        check_meta(m, &model)?;
    }
    Ok((model, meta))
}

/// Loads a bundle: float weights + calibration + metadata.
pub fn load_bundle(bytes: &[u8]) -> Result<ModelBundle> {
    let st = parse_st(bytes)?;
    let model = model_of(&st)?;
    let (meta, calibration) = if let Some(h) = st.metadata.get(BUNDLE_KEY) {
        let h: BundleHeader = header_json(BUNDLE_KEY, h)?;
        (h.meta, h.calibration)
    } else {
        let calib = st.metadata.get(CALIB_KEY).ok_or_else(|| {
            Error::Missing(format!(
                "{CALIB_KEY} metadata (a plain weight file has no calibration; calibrate it first)"
            ))
        })?;
        let meta = match st.metadata.get(META_KEY) {
            Some(s) => header_json(META_KEY, s)?,
            None => ModelMeta::default(),
        };
        (meta, header_json(CALIB_KEY, calib)?)
    };
    check_meta(&meta, &model)?;
    calibration.validate(&model)?;
    Ok(ModelBundle {
        meta,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(notes: String) -> ModelMeta {
        ModelMeta {
            task: "kws4".into(),
            classes: vec!["yes".into(), "no".into()],
            features: Default::default(),
            seed: 9,
            command: "bitgru train --task kws4".into(),
            notes,
            qat_genome: None,
            detect_threshold: None,
        }
    }

    /// A trained model's notes are JSON, which the provenance keeps as an object: reading the
    /// meta back must not lose the classes, front end or threshold (it once read as `None`).
    #[test]
    fn model_meta_reads_back_from_a_provenance_with_json_notes() {
        let train =
            serde_json::json!({"epochs_done": 1, "history": [{"epoch": 0, "val_accuracy": 0.5}]});
        let mut m = meta(train.to_string());
        m.detect_threshold = Some(0.7);
        let prov = serde_json::json!({"model_meta": m.provenance(), "genome": "x"});
        assert!(prov["model_meta"]["notes"].is_object());
        let back = ModelMeta::from_provenance(&prov).expect("a model meta");
        assert_eq!(back.classes, m.classes);
        assert_eq!(back.detect_threshold, Some(0.7));
        assert!(back.notes.contains("history_summary"), "{}", back.notes);
        let plain = serde_json::json!({"model_meta": meta("short".into()).provenance()});
        assert_eq!(ModelMeta::from_provenance(&plain).unwrap().notes, "short");
        assert!(ModelMeta::from_provenance(&serde_json::json!({"genome": "x"})).is_none());
        assert!(ModelMeta::from_provenance(&serde_json::json!({"model_meta": 3})).is_none());
    }

    #[test]
    fn provenance_summarizes_histories_and_truncates_long_text() {
        let rec = |e: u64, a: f64| serde_json::json!({"epoch": e, "val_accuracy": a});
        let train = serde_json::json!({"epochs_done": 3, "history": [rec(0, 0.5), rec(1, 0.9), rec(2, 0.8)]});
        let qat = serde_json::json!({"qat": {"genome": "x"}, "base_notes": train.to_string()});
        let p = meta(qat.to_string()).provenance();
        assert_eq!(p["seed"], 9);
        assert_eq!(p["command"], "bitgru train --task kws4");
        let inner = &p["notes"]["base_notes"];
        assert!(inner.get("history").is_none(), "{p}");
        assert_eq!(inner["history_summary"]["epochs_recorded"], 3);
        assert_eq!(inner["history_summary"]["best_epoch"], 1);
        assert_eq!(inner["history_summary"]["best_val_accuracy"], 0.9);
        assert_eq!(p["notes"]["qat"]["genome"], "x");

        assert_eq!(
            meta("short note".into()).provenance()["notes"],
            "short note"
        );
        let long = "é".repeat(PROVENANCE_NOTES_MAX);
        let cut = meta(long.clone()).provenance()["notes"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(cut.len() < long.len() && cut.ends_with(&format!("({} bytes in all)", long.len())));
    }
}
