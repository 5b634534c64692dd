//! The scoring model behind the detector: the integer GRU at any genome or the float reference,
//! one enum so that a page can run both side by side on the same stream.
use crate::error::{Error, Result};
use crate::genome::Genome;
use crate::io::ModelBundle;
use crate::kernel::{PackedGru, StreamState, Variant};
use crate::model::{FloatGru, FloatScratch};
use crate::quant::QuantGru;

/// A model the detector runs, with its streaming state.
#[derive(Debug, Clone)]
pub enum DetectorModel {
    /// The integer-only kernel ([`PackedGru::step_stream`]) of a prepared genome; logits are
    /// dequantized (`logit · s_head · s_h`) only for the softmax.
    Integer(Box<IntegerScorer>),
    /// The float reference ([`FloatGru::step_stream`]).
    Float(Box<FloatScorer>),
}

/// The integer model and its stream state.
#[derive(Debug, Clone)]
pub struct IntegerScorer {
    quant: QuantGru,
    packed: PackedGru,
    state: StreamState,
    /// Scale of the i32 logits.
    logit_scale: f32,
    codes: Vec<i8>,
}

/// The float model and its stream state.
#[derive(Debug, Clone)]
pub struct FloatScorer {
    model: FloatGru,
    scratch: FloatScratch,
}

impl DetectorModel {
    /// The integer model of a prepared genome (kernel variant [`Variant::best`]; every variant
    /// gives the same codes).
    pub fn integer(quant: QuantGru) -> Result<DetectorModel> {
        quant.validate()?;
        let packed = PackedGru::pack(&quant)?;
        let state = StreamState::new(&packed, Variant::best())?;
        let s_h = quant.scales[crate::genome::Gene::AddH as usize];
        let logit_scale = (quant.head.w_scale * s_h) as f32;
        let codes = vec![0; quant.input_size];
        Ok(DetectorModel::Integer(Box::new(IntegerScorer {
            quant,
            packed,
            state,
            logit_scale,
            codes,
        })))
    }

    /// The float reference model.
    pub fn float(model: FloatGru) -> Result<DetectorModel> {
        model.validate()?;
        let mut scratch = FloatScratch::default();
        model.reset_scratch(&mut scratch);
        Ok(DetectorModel::Float(Box::new(FloatScorer {
            model,
            scratch,
        })))
    }

    /// The integer model of `bundle` at `genome`, or its float model for `None`.
    pub fn from_bundle(bundle: &ModelBundle, genome: Option<&Genome>) -> Result<DetectorModel> {
        match genome {
            Some(g) => {
                DetectorModel::integer(QuantGru::prepare(&bundle.model, &bundle.calibration, g)?)
            }
            None => DetectorModel::float(bundle.model.clone()),
        }
    }

    /// Input features per step.
    pub fn input_size(&self) -> usize {
        match self {
            DetectorModel::Integer(m) => m.quant.input_size,
            DetectorModel::Float(m) => m.model.input_size,
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        match self {
            DetectorModel::Integer(m) => m.quant.classes,
            DetectorModel::Float(m) => m.model.classes,
        }
    }

    /// Hidden size.
    pub fn hidden(&self) -> usize {
        match self {
            DetectorModel::Integer(m) => m.quant.hidden,
            DetectorModel::Float(m) => m.model.hidden,
        }
    }

    /// The genome of an integer model.
    pub fn genome(&self) -> Option<Genome> {
        match self {
            DetectorModel::Integer(m) => Some(m.quant.genome),
            DetectorModel::Float(_) => None,
        }
    }

    /// Sets the state to zero.
    pub fn reset(&mut self) {
        match self {
            DetectorModel::Integer(m) => m.state.reset(),
            DetectorModel::Float(m) => m.model.reset_scratch(&mut m.scratch),
        }
    }

    /// Multiplies the state by `num / 256` (integer model: rounded, see
    /// [`StreamState::decay`]; float model: `h · (num / 256)`).
    pub fn decay(&mut self, num: u16) {
        match self {
            DetectorModel::Integer(m) => m.state.decay(num),
            DetectorModel::Float(m) => {
                let f = f32::from(num.min(256)) / 256.0;
                for v in m.model.state_mut(&mut m.scratch) {
                    *v *= f;
                }
            }
        }
    }

    /// One step with the float features `x` (`[input]`; the integer model quantizes them with
    /// its calibrated input scales).
    pub fn step(&mut self, x: &[f32]) -> Result<()> {
        match self {
            DetectorModel::Integer(m) => {
                if x.len() != m.quant.input_size {
                    return Err(Error::length(
                        "features of one step",
                        m.quant.input_size,
                        x.len(),
                    ));
                }
                quantize_step(&m.quant, x, &mut m.codes);
                m.packed.step_stream(&m.codes, &mut m.state)
            }
            DetectorModel::Float(m) => m.model.step_stream(x, &mut m.scratch),
        }
    }

    /// Class probabilities (softmax of the logits of the current state, f32 with libm's `expf`:
    /// the same bits natively and in wasm) into `out` (`[classes]`).
    pub fn probabilities(&self, out: &mut [f32]) {
        match self {
            DetectorModel::Integer(m) => {
                let logits = m.packed.stream_logits(&m.state);
                for (o, &l) in out.iter_mut().zip(&logits) {
                    *o = l as f32 * m.logit_scale;
                }
            }
            DetectorModel::Float(m) => {
                let logits = m.model.head_logits(m.model.state(&m.scratch));
                out.copy_from_slice(&logits);
            }
        }
        softmax_in_place(out);
    }
}

/// The integer model's input quantization of one step (same arithmetic as
/// [`QuantGru::quantize_input`], without allocating).
fn quantize_step(q: &QuantGru, x: &[f32], out: &mut [i8]) {
    let qmax = crate::fixed::qmax_signed(crate::calibrate::INPUT_BITS) as f32;
    for ((o, &v), &s) in out.iter_mut().zip(x).zip(&q.input_scales) {
        *o = (v / s).round().clamp(-qmax - 1.0, qmax) as i8;
    }
}

/// Softmax in place (max-subtracted, libm `expf`).
pub fn softmax_in_place(v: &mut [f32]) {
    let m = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        *x = libm::expf(*x - m);
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}
