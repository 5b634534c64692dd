//! x86_64 SIMD variants of the batch kernel, chosen at run time by CPU feature detection.
//!
//! - AVX2: 8 rows × 4 columns of packed i8 weights per 32-byte load, widened to i16
//!   (`vpmovsxbw`), multiplied with the broadcast input pattern and summed in pairs into i32
//!   (`vpmaddwd`); pairs are folded at the end (`vphaddd`).
//! - AVX-512 VNNI: 16 rows × 4 columns per 64-byte load, `vpdpbusd` (u8 × i8, four products
//!   summed into each i32 lane) with the activations offset by +128 (the offset's contribution,
//!   `128 · Σ_k W[r, k]`, is pre-subtracted from the initial accumulator at pack time).
//!
//! The whole tile loop (products and element-wise stages) is instantiated inside a
//! `#[target_feature]` function, so the element-wise code is compiled for the same features.
//! Everything unsafe is here; each block states why it is sound.
#![allow(unsafe_code)]

use super::batch::{
    gemm_in_quads, lookup_by_16, run_job, BatchScratch, GateMatrix, Gemm, Job, Lut, PackedGru,
};
use core::arch::x86_64::*;

pub(super) fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2")
}

pub(super) fn has_avx512_vnni() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni")
        && is_x86_feature_detected!("avx512vbmi")
}

/// Bounds every packed product relies on (checked once per call; cheap next to the product).
#[inline(always)]
fn check(m: &GateMatrix, x: &[i8], acc: &[i32]) {
    assert!(x.len() >= m.cols_pad && acc.len() >= m.rows_pad);
    assert!(m.packed.len() >= m.rows_pad * m.cols_pad && m.bias_u8.len() >= m.rows_pad);
    assert!(m.rows_pad.is_multiple_of(16) && m.cols_pad.is_multiple_of(4));
}

/// The entry point of a variant: checks its CPU features, then runs the job inside a
/// `#[target_feature]` function, so that the whole tile loop (products and the shared
/// element-wise code, inlined) is compiled for those features.
macro_rules! entry_point {
    ($(#[$doc:meta])* $name:ident, $gemm:ty, $features:literal, $has:ident) => {
        $(#[$doc])*
        pub(super) fn $name(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
            #[target_feature(enable = $features)]
            unsafe fn with_features(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
                run_job::<$gemm>(p, job, s)
            }
            assert!($has(), "{} called without its CPU features", stringify!($name));
            // SAFETY: the CPU features were just checked; `$gemm` is private to this module and
            // only used here.
            unsafe { with_features(p, job, s) }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// AVX-512 VNNI

struct Vnni;

impl Gemm for Vnni {
    #[inline(always)]
    fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
        check(m, x, acc);
        // SAFETY: `Vnni` is private to this module and only used by `run_vnni` / `step_vnni`,
        // which are only called after `has_avx512_vnni()` returned true (see
        // `Variant::available`, checked by every public entry point). Bounds: `check` above.
        unsafe { gemm_vnni(m, x, acc) }
    }

    #[inline(always)]
    fn gemm_many(m: &GateMatrix, x: &[i8], xs: usize, acc: &mut [i32], accs: usize, n: usize) {
        gemm_in_quads::<Self>(m, x, xs, acc, accs, n, |x, acc, quads| {
            check(m, &x[..m.cols_pad], &acc[..m.rows_pad]);
            // SAFETY: CPU features as for `gemm`; `gemm_in_quads` bounds every sequence's
            // inputs and accumulators.
            unsafe { gemm_vnni_quads(m, x, xs, acc, accs, quads) };
        })
    }

    #[inline(always)]
    fn lookup(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &[i32], out: &mut [i32]) {
        // SAFETY: as for `gemm` (CPU features); 16 i32 in and out.
        lookup_by_16(t, off, a, out, |a, o| unsafe {
            lookup_vbmi(bytes, signed, off, a, o)
        });
    }
}

/// 16 lookups in a 256-byte table: two `vpermi2b` (entries 0–127 and 128–255) selected by bit 7
/// of the index, then widened to i32.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")]
#[inline]
fn lookup_vbmi(bytes: &[u8; 256], signed: bool, off: i32, a: &[i32; 16], out: &mut [i32; 16]) {
    // SAFETY: `bytes` holds 4 × 64 bytes, `a` and `out` 16 i32 (64 bytes).
    let (t, v) = unsafe {
        let p = bytes.as_ptr();
        (
            [
                _mm512_loadu_si512(p.cast()),
                _mm512_loadu_si512(p.add(64).cast()),
                _mm512_loadu_si512(p.add(128).cast()),
                _mm512_loadu_si512(p.add(192).cast()),
            ],
            _mm512_loadu_si512(a.as_ptr().cast()),
        )
    };
    let idx = _mm512_castsi128_si512(_mm512_cvtepi32_epi8(_mm512_add_epi32(
        v,
        _mm512_set1_epi32(off),
    )));
    let lo = _mm512_permutex2var_epi8(t[0], idx, t[1]);
    let hi = _mm512_permutex2var_epi8(t[2], idx, t[3]);
    let sel = _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi);
    let b = _mm512_castsi512_si128(sel);
    let w = if signed {
        _mm512_cvtepi8_epi32(b)
    } else {
        _mm512_cvtepu8_epi32(b)
    };
    // SAFETY: see above.
    unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), w) };
}

#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")]
unsafe fn gemm_vnni(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
    let nv = m.rows_pad / 16;
    let mut v = 0;
    // SAFETY (all calls): v + NV ≤ nv, so rows [16v, 16(v + NV)) are inside rows_pad.
    while v + 8 <= nv {
        unsafe { vnni_block::<8>(m, x, acc, v) };
        v += 8;
    }
    while v + 4 <= nv {
        unsafe { vnni_block::<4>(m, x, acc, v) };
        v += 4;
    }
    while v < nv {
        unsafe { vnni_block::<1>(m, x, acc, v) };
        v += 1;
    }
}

/// Products of `4 · quads` sequences, four at a time: every 64-byte weight load feeds four
/// sequences' `vpdpbusd` (a quarter of the weight traffic of one sequence at a time, which
/// matters once `[3H, H]` outgrows L1, e.g. H = 128).
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")]
unsafe fn gemm_vnni_quads(
    m: &GateMatrix,
    x: &[i8],
    xs: usize,
    acc: &mut [i32],
    accs: usize,
    quads: usize,
) {
    let nv = m.rows_pad / 16;
    for q in 0..quads {
        let (xq, aq) = (&x[4 * q * xs..], &mut acc[4 * q * accs..]);
        let mut v = 0;
        // SAFETY (all calls): v + NV ≤ nv; the caller bounds the four sequences.
        while v + 4 <= nv {
            unsafe { vnni_quad::<4>(m, xq, xs, aq, accs, v) };
            v += 4;
        }
        while v < nv {
            unsafe { vnni_quad::<1>(m, xq, xs, aq, accs, v) };
            v += 1;
        }
    }
}

/// Rows `[16 v0, 16 (v0 + NV))` of sequences 0–3 (`x[s · xs..]`, `acc[s · accs..]`).
#[allow(clippy::needless_range_loop)] // `a[s][i]`: one weight load, four accumulators
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")]
#[inline]
unsafe fn vnni_quad<const NV: usize>(
    m: &GateMatrix,
    x: &[i8],
    xs: usize,
    acc: &mut [i32],
    accs: usize,
    v0: usize,
) {
    let rp = m.rows_pad;
    let w = m.packed.as_ptr();
    let mut a = [[_mm512_setzero_si512(); NV]; 4];
    for row in a.iter_mut() {
        for (i, ai) in row.iter_mut().enumerate() {
            // SAFETY: 16 (v0 + i) + 16 ≤ rows_pad = bias_u8.len().
            *ai = unsafe { _mm512_loadu_si512(m.bias_u8.as_ptr().add((v0 + i) * 16).cast()) };
        }
    }
    for k in 0..m.cols_pad / 4 {
        let xb: [__m512i; 4] = std::array::from_fn(|s| {
            let c = &x[s * xs + 4 * k..s * xs + 4 * k + 4];
            let x4 = u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]);
            _mm512_set1_epi32((x4 ^ 0x8080_8080) as i32)
        });
        for i in 0..NV {
            // SAFETY: offset (k · rows_pad + 16 (v0 + i)) · 4 + 64 ≤ cols_pad · rows_pad.
            let wv = unsafe { _mm512_loadu_si512(w.add((k * rp + (v0 + i) * 16) * 4).cast()) };
            for s in 0..4 {
                a[s][i] = _mm512_dpbusd_epi32(a[s][i], xb[s], wv);
            }
        }
    }
    for (s, row) in a.iter().enumerate() {
        let out = &mut acc[s * accs + v0 * 16..s * accs + (v0 + NV) * 16];
        for (i, ai) in row.iter().enumerate() {
            // SAFETY: `out` holds NV · 16 i32 (bounds-checked slice above).
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(i * 16).cast(), *ai) };
        }
    }
}

/// Rows `[16 v0, 16 (v0 + NV))`.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi")]
#[inline]
unsafe fn vnni_block<const NV: usize>(m: &GateMatrix, x: &[i8], acc: &mut [i32], v0: usize) {
    let rp = m.rows_pad;
    let w = m.packed.as_ptr();
    let mut a = [_mm512_setzero_si512(); NV];
    for (i, ai) in a.iter_mut().enumerate() {
        // SAFETY: 16 (v0 + i) + 16 ≤ rows_pad = bias_u8.len() (checked by `check`).
        *ai = unsafe { _mm512_loadu_si512(m.bias_u8.as_ptr().add((v0 + i) * 16).cast()) };
    }
    for k in 0..m.cols_pad / 4 {
        let x4 = u32::from_le_bytes([
            x[4 * k] as u8,
            x[4 * k + 1] as u8,
            x[4 * k + 2] as u8,
            x[4 * k + 3] as u8,
        ]) ^ 0x8080_8080;
        let xb = _mm512_set1_epi32(x4 as i32);
        for (i, ai) in a.iter_mut().enumerate() {
            // SAFETY: offset (k · rows_pad + 16 (v0 + i)) · 4 + 64 ≤ cols_pad · rows_pad.
            let wv = unsafe { _mm512_loadu_si512(w.add((k * rp + (v0 + i) * 16) * 4).cast()) };
            *ai = _mm512_dpbusd_epi32(*ai, xb, wv);
        }
    }
    for (i, ai) in a.iter().enumerate() {
        // SAFETY: 16 (v0 + i) + 16 ≤ rows_pad ≤ acc.len() (checked by `check`).
        unsafe { _mm512_storeu_si512(acc.as_mut_ptr().add((v0 + i) * 16).cast(), *ai) };
    }
}

entry_point!(
    /// Every job of the VNNI variant (products and element-wise stages compiled for AVX-512).
    vnni,
    Vnni,
    "avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi",
    has_avx512_vnni
);

// ---------------------------------------------------------------------------------------------
// AVX2

struct Avx2;

impl Gemm for Avx2 {
    /// Stage by stage: with its scalar table lookups inside each chunk, the fused pass measured
    /// 10–15 % slower than the staged one here (docs/BENCHMARKS.md, "Fused element-wise pass").
    const FUSED: bool = false;

    #[inline(always)]
    fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
        check(m, x, acc);
        // SAFETY: `Avx2` is private to this module and only used by `run_avx2` / `step_avx2`,
        // which are only called after `has_avx2()` returned true. Bounds: `check` above.
        unsafe { gemm_avx2(m, x, acc) }
    }
}

#[target_feature(enable = "avx2")]
unsafe fn gemm_avx2(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
    let ng = m.rows_pad / 8;
    let mut g = 0;
    // SAFETY (all calls): g + NG ≤ ng, so rows [8g, 8(g + NG)) are inside rows_pad.
    while g + 4 <= ng {
        unsafe { avx2_block::<4>(m, x, acc, g) };
        g += 4;
    }
    while g < ng {
        unsafe { avx2_block::<2>(m, x, acc, g) };
        g += 2;
    }
}

/// Rows `[8 g0, 8 (g0 + NG))` (NG even; rows_pad is a multiple of 16).
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn avx2_block<const NG: usize>(m: &GateMatrix, x: &[i8], acc: &mut [i32], g0: usize) {
    let rp = m.rows_pad;
    let w = m.packed.as_ptr();
    // lo[i]: rows 0–3 of group i, two partial sums per row; hi[i]: rows 4–7.
    let mut lo = [_mm256_setzero_si256(); NG];
    let mut hi = [_mm256_setzero_si256(); NG];
    for k in 0..m.cols_pad / 4 {
        let pat = (x[4 * k] as i16 as u16 as u64)
            | (x[4 * k + 1] as i16 as u16 as u64) << 16
            | (x[4 * k + 2] as i16 as u16 as u64) << 32
            | (x[4 * k + 3] as i16 as u16 as u64) << 48;
        let xb = _mm256_set1_epi64x(pat as i64);
        for i in 0..NG {
            // SAFETY: offset (k · rows_pad + 8 (g0 + i)) · 4 + 32 ≤ cols_pad · rows_pad.
            let wv = unsafe { _mm256_loadu_si256(w.add((k * rp + (g0 + i) * 8) * 4).cast()) };
            let wl = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(wv));
            let wh = _mm256_cvtepi8_epi16(_mm256_extracti128_si256::<1>(wv));
            lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(wl, xb));
            hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(wh, xb));
        }
    }
    for i in 0..NG {
        // [r0 r1 r4 r5 | r2 r3 r6 r7] → [r0 r1 r2 r3 | r4 r5 r6 r7]
        let s = _mm256_permute4x64_epi64::<0xD8>(_mm256_hadd_epi32(lo[i], hi[i]));
        let off = (g0 + i) * 8;
        // SAFETY: off + 8 ≤ rows_pad ≤ bias_pad.len(), acc.len() (checked by `check`).
        unsafe {
            let b = _mm256_loadu_si256(m.bias_pad.as_ptr().add(off).cast());
            _mm256_storeu_si256(acc.as_mut_ptr().add(off).cast(), _mm256_add_epi32(s, b));
        }
    }
}

entry_point!(
    /// Every job of the AVX2 variant.
    avx2,
    Avx2,
    "avx2",
    has_avx2
);
