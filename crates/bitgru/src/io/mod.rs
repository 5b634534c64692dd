//! File formats.
//!
//! - [`safetensors`](mod@self::st): float weights with PyTorch names, plus the bitgru model bundle
//!   (float weights + calibration + metadata in the safetensors header);
//! - [`npz`]: float weights in Keras `GRU(reset_after=True)` layout, reordered to PyTorch's;
//! - [`qfile`]: the quantized integer model (integer tensors + JSON metadata), bit-exact round trip;
//! - [`c_export`]: C99 source of the integer kernel for microcontrollers;
//! - [`golden`]: golden per-stage fixtures shared by native and wasm tests.
pub mod c_export;
pub mod golden;
pub mod npz;
pub mod qfile;
pub mod st;

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
