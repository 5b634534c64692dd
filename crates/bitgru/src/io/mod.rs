//! File formats.
//!
//! - [`safetensors`](mod@self::st): float weights with PyTorch names, plus the bitgru model bundle
//!   (float weights + calibration + metadata in the safetensors header);
//! - [`npz`]: float weights in Keras `GRU(reset_after=True)` layout, reordered to PyTorch's;
//! - [`qfile`]: the quantized integer model (integer tensors + JSON metadata), bit-exact round trip;
//! - [`pack`]: b-bit codes packed into bit streams (`.bitgru` version 2, packed C export);
//! - [`c_export`]: C99 source of the integer kernel for microcontrollers;
//! - [`golden`]: golden per-stage fixtures shared by native and wasm tests.
pub mod c_export;
pub mod golden;
pub mod inputs;
pub mod npz;
pub mod pack;
pub mod qfile;
pub mod sniff;
pub mod st;
pub mod stfile;

pub use st::{load_bundle, load_float_safetensors, save_bundle, ModelBundle, ModelMeta};

/// Largest file the loaders accept (64 MiB): anything bigger is not a GRU of MCU size.
pub const MAX_FILE_BYTES: usize = 64 << 20;

pub(crate) fn check_size(format: &'static str, bytes: &[u8]) -> crate::Result<()> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(crate::Error::format(
            format,
            format!(
                "{} bytes exceeds the {} byte limit",
                bytes.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(crate::Error::format(format, "empty file"));
    }
    Ok(())
}

/// Largest input size, hidden size and class count the readers accept. With 8-bit codes and
/// |bias| ≤ 2^30, every accumulator (`Σ w·x + bias`, at most `4096 · 2^14 + 2^30`) stays inside
/// i32, in the Rust kernel and in the exported C.
pub const MAX_DIM: usize = 4096;

/// Checks model dimensions read from a file: positive and at most [`MAX_DIM`].
pub fn check_dims(input: usize, hidden: usize, classes: usize) -> crate::Result<()> {
    for (what, v) in [
        ("input size", input),
        ("hidden size", hidden),
        ("classes", classes),
    ] {
        if v == 0 || v > MAX_DIM {
            return Err(crate::Error::invalid(
                what,
                format!("{v}, expected 1..={MAX_DIM}"),
            ));
        }
    }
    Ok(())
}
