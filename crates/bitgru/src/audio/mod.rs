//! Audio front end of the keyword-spotting tasks: clip decoding and MFCC features.
//!
//! - [`decode`]: WAV (hound) and FLAC (claxon) bytes → [`Clip`] (mono f32 in `[-1, 1]`), with
//!   explicit opt-in resampling and down-mixing, and [`fit_length`] (explicit pad / trim);
//! - [`resample`]: the windowed-sinc resampler behind `DecodeOptions::resample`;
//! - [`fft`]: the real-input FFT of the MFCCs (radix-2 for powers of two, direct DFT otherwise);
//! - [`mfcc`]: MFCCs on [`fft::RealFft`], one per-frame routine shared by the batch form
//!   ([`Mfcc::compute`]) and the streaming form ([`MfccStream`]), so both give bit-identical
//!   output.
//!
//! Everything here is pure computation on byte slices and sample buffers: it builds for
//! `wasm32-unknown-unknown` (the microphone path of the web app) as well as natively.
pub mod decode;
pub mod fft;
pub mod mfcc;
pub mod resample;

pub use decode::{
    decode, decode_flac, decode_wav, fit_length, Clip, DecodeOptions, LengthFit, CLIP_SAMPLES,
    SPEECH_COMMANDS_RATE,
};
pub use mfcc::{Mfcc, MfccConfig, MfccScratch, MfccStream};
pub use resample::{resample, StreamResampler};
