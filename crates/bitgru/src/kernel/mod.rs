//! The integer-only GRU kernels. No floating point at run time (enforced by
//! `#![deny(clippy::float_arithmetic)]` on this module; CI runs clippy with `-D warnings`).
//!
//! - [`reference`]: today's scalar step over a [`QuantGru`](crate::QuantGru), one sequence at a
//!   time, with a per-stage observer. The truth.
//! - [`batch`]: the kernel library. [`PackedGru`] holds the eval-time parameters as plain data
//!   with named gates (the three input linears as one `[3H, I]` matrix, the recurrent ones as one
//!   `[3H, H]` matrix, weights also packed in the layout the SIMD inner loops read). Its batch
//!   entry point runs many sequences of a contiguous `[B, T, I]` code tensor in lockstep with a
//!   caller-owned [`BatchScratch`]; [`PackedGru::step_stream`] is the single-sequence fast step.
//! - `x86` (AVX2, AVX-512 VNNI; chosen at run time) and `wasm` (simd128; chosen at compile time):
//!   the SIMD variants of the batch kernel. Every variant is tested bit-exact against the reference
//!   (`tests/kernel_variants.rs`).
#![deny(clippy::float_arithmetic)]

pub mod batch;
pub mod reference;
pub mod verify;
#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use batch::{BatchScratch, PackedGru, Stage, StreamState};
pub use reference::Scratch;

/// An implementation of the batch kernel. All variants give identical codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Portable Rust (the compiler may auto-vectorize it for the build's target features).
    Scalar,
    /// x86_64 AVX2: i8 → i16 widening and `vpmaddwd` products.
    Avx2,
    /// x86_64 AVX-512 with VNNI: `vpdpbusd` (u8 × i8 → i32) products.
    Avx512Vnni,
    /// wasm32 simd128: `i32x4.dot_i16x8_s` products (when built with `+simd128`).
    Simd128,
}

impl Variant {
    /// Every variant, fastest last.
    pub const ALL: [Variant; 4] = [
        Variant::Scalar,
        Variant::Simd128,
        Variant::Avx2,
        Variant::Avx512Vnni,
    ];

    /// Short name: "scalar", "avx2", "avx512-vnni", "simd128".
    pub fn name(self) -> &'static str {
        match self {
            Variant::Scalar => "scalar",
            Variant::Avx2 => "avx2",
            Variant::Avx512Vnni => "avx512-vnni",
            Variant::Simd128 => "simd128",
        }
    }

    /// Whether this variant can run here (CPU features detected at run time on x86_64; simd128
    /// when the wasm module was built with it).
    pub fn available(self) -> bool {
        match self {
            Variant::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Variant::Avx2 => x86::has_avx2(),
            #[cfg(target_arch = "x86_64")]
            Variant::Avx512Vnni => x86::has_avx512_vnni(),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Variant::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest available variant (`BITGRU_KERNEL=scalar|avx2|…` is not read here: the
    /// library never reads the environment; callers pick a variant explicitly when they must).
    pub fn best() -> Variant {
        Variant::ALL
            .iter()
            .rev()
            .copied()
            .find(|v| v.available())
            .unwrap_or(Variant::Scalar)
    }

    /// Parses a [`Variant::name`].
    pub fn from_name(s: &str) -> Option<Variant> {
        Variant::ALL.iter().copied().find(|v| v.name() == s)
    }
}

/// Name of the variant the batch kernel uses here by default ([`Variant::best`]).
pub fn variant_name() -> &'static str {
    Variant::best().name()
}
