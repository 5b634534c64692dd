//! # bitgru core
//!
//! A GRU whose 17 operators each run at their own bit width (2–8) with integer-only arithmetic
//! (arXiv 2402.12263, Miccini et al., tinyML 2024).
//!
//! Layers, bottom up:
//! - [`fixed`]: rounding policy, multiplier + shift;
//! - [`genome`]: the 17 genes;
//! - [`model`]: the float reference (PyTorch `nn.GRU` semantics);
//! - [`calibrate`]: PTQ ranges per operator and bit width;
//! - [`quant`]: prepare (floats, once per genome) → [`QuantGru`];
//! - [`kernel`]: the integer-only evaluation (reference kernel, batch kernel, SIMD variants);
//! - [`math`]: σ / tanh, argmax, the input-length check, the parallel map;
//! - [`fakequant`]: the float simulation of the same 17 quantization points;
//! - [`size`]: size and bit-operation metrics;
//! - [`frontend`]: a model's typed front end (MNIST rows / pixels, MFCC, synthetic) and its
//!   one `featurize`;
//! - [`detect`]: the streaming keyword detector (audio in, per-frame probabilities and
//!   detection events out);
//! - [`io`]: safetensors / npz import, quantized export and re-import, C source export.
//! - [`search`]: generic NSGA-II (ask/tell, integer genes), hypervolume, the quantization
//!   problem, the search loop and result format, front analysis.
#![deny(unsafe_code)]

pub mod audio;
pub mod calibrate;
pub mod data;
pub mod detect;
pub mod error;
pub mod eval;
pub mod fakequant;
pub mod fixed;
pub mod frontend;
pub mod genome;
pub mod io;
pub mod kernel;
pub mod math;
pub mod model;
pub mod quant;
pub mod search;
pub mod size;
pub mod synth;
pub mod task;
pub mod train;

pub use calibrate::Calibration;
pub use error::{Error, Result};
pub use genome::{BitRange, Gene, Genome, N_GENES};
pub use kernel::Scratch;
pub use model::FloatGru;
pub use quant::QuantGru;
pub use size::{Dims, SizeReport};

impl FloatGru {
    /// Shape for the size metrics.
    pub fn dims(&self) -> Dims {
        Dims {
            input: self.input_size,
            hidden: self.hidden,
            classes: self.classes,
        }
    }
}

impl QuantGru {
    /// Shape for the size metrics.
    pub fn dims(&self) -> Dims {
        Dims {
            input: self.input_size,
            hidden: self.hidden,
            classes: self.classes,
        }
    }
}
