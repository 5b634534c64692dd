//! wasm32 simd128 variant of the batch kernel (compiled when the module is built with
//! `-C target-feature=+simd128`; wasm has no run-time feature detection, so a browser without
//! simd128 gets the scalar build). 4 rows × 4 columns of packed i8 weights per 16-byte load,
//! widened to i16 and multiplied with the input pattern (4 input codes, widened to i16 and
//! repeated twice) by `i32x4.dot_i16x8_s`; pairs are folded at the end. Batches run four
//! sequences at a time: each weight load and widening serves the four sequences' products, and
//! their inputs are widened to i16 once per quad (each pattern is then one `v128_load64_splat`).
//! The element-wise stages are the shared staged code of `batch.rs`, auto-vectorized for simd128
//! (its fused pass measured slower in V8), except the table lookups of ≤ 6 bits:
//! `i8x16.swizzle` over the 16-byte segments of the table that the stage's bit width reaches
//! (see docs/BENCHMARKS.md, "Fused element-wise pass").
#![allow(unsafe_code)]

#[cfg(target_feature = "simd128")]
pub(super) use imp::*;

#[cfg(target_feature = "simd128")]
mod imp {
    use super::super::batch::{
        gemm_in_quads, lookup, lookup_by_16, run_job, BatchScratch, GateMatrix, Gemm, Job, Lut,
        PackedGru,
    };
    use core::arch::wasm32::*;

    struct Simd128;

    /// Bounds every packed product relies on (checked once per call).
    #[inline(always)]
    fn check(m: &GateMatrix, x: &[i8], acc: &[i32]) {
        assert!(x.len() >= m.cols_pad && acc.len() >= m.rows_pad);
        assert!(m.packed.len() >= m.rows_pad * m.cols_pad && m.bias_pad.len() >= m.rows_pad);
        assert!(m.rows_pad.is_multiple_of(16) && m.cols_pad.is_multiple_of(4));
    }

    /// Input codes `x[4k..4k + 4]` widened to i16 and repeated twice: the pattern of columns
    /// `4k..4k + 4` for two rows of a 16-byte weight load.
    ///
    /// # Safety
    /// `p` points to 4 readable bytes.
    #[inline(always)]
    unsafe fn pattern(p: *const i8) -> v128 {
        // SAFETY: the caller's; `v128_load32_splat` has no alignment need.
        i16x8_extend_low_i8x16(unsafe { v128_load32_splat(p.cast()) })
    }

    /// `[r0 p01, r0 p23, r1 p01, r1 p23]`, rows 2, 3 alike → `[r0 r1 r2 r3]`.
    #[inline(always)]
    fn fold(lo: v128, hi: v128) -> v128 {
        i32x4_add(
            i32x4_shuffle::<0, 2, 4, 6>(lo, hi),
            i32x4_shuffle::<1, 3, 5, 7>(lo, hi),
        )
    }

    impl Gemm for Simd128 {
        /// Stage by stage: the fused pass measured slower in V8 (element-wise 0.78 against
        /// 0.55 µs per sequence-step on kws10; docs/BENCHMARKS.md, "Fused element-wise pass").
        const FUSED: bool = false;

        #[inline(always)]
        fn lookup(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &[i32], out: &mut [i32]) {
            if off <= SWIZZLE_MAX_OFF {
                lookup_by_16(t, off, a, out, |a, o| lookup16(bytes, signed, off, a, o));
            } else {
                lookup(t, off, a, out);
            }
        }

        #[inline(always)]
        fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
            check(m, x, acc);
            let rp = m.rows_pad;
            let (w, xp) = (m.packed.as_ptr(), x.as_ptr());
            // Groups of 4 rows, two at a time (rows_pad is a multiple of 16).
            for g in (0..rp / 4).step_by(2) {
                let (mut a0, mut a1, mut b0, mut b1) = (
                    i32x4_splat(0),
                    i32x4_splat(0),
                    i32x4_splat(0),
                    i32x4_splat(0),
                );
                for k in 0..m.cols_pad / 4 {
                    // SAFETY: 4k + 4 ≤ cols_pad ≤ x.len(); weight offset
                    // (k · rows_pad + 4 g) · 4 + 32 ≤ cols_pad · rows_pad (g + 1 < rows_pad / 4),
                    // checked above; v128_load has no alignment need.
                    let (xb, wa, wb) = unsafe {
                        let p = w.add((k * rp + 4 * g) * 4);
                        (
                            pattern(xp.add(4 * k)),
                            v128_load(p.cast()),
                            v128_load(p.add(16).cast()),
                        )
                    };
                    a0 = i32x4_add(a0, i32x4_dot_i16x8(i16x8_extend_low_i8x16(wa), xb));
                    a1 = i32x4_add(a1, i32x4_dot_i16x8(i16x8_extend_high_i8x16(wa), xb));
                    b0 = i32x4_add(b0, i32x4_dot_i16x8(i16x8_extend_low_i8x16(wb), xb));
                    b1 = i32x4_add(b1, i32x4_dot_i16x8(i16x8_extend_high_i8x16(wb), xb));
                }
                let o = 4 * g;
                // SAFETY: o + 8 ≤ rows_pad ≤ bias_pad.len(), acc.len() (checked above).
                unsafe {
                    let b = m.bias_pad.as_ptr().add(o);
                    let out = acc.as_mut_ptr().add(o);
                    v128_store(out.cast(), i32x4_add(fold(a0, a1), v128_load(b.cast())));
                    v128_store(
                        out.add(4).cast(),
                        i32x4_add(fold(b0, b1), v128_load(b.add(4).cast())),
                    );
                }
            }
        }

        #[inline(always)]
        fn gemm_many(m: &GateMatrix, x: &[i8], xs: usize, acc: &mut [i32], accs: usize, n: usize) {
            gemm_in_quads::<Self>(m, x, xs, acc, accs, n, |x, acc, quads| {
                check(m, &x[..m.cols_pad], &acc[..m.rows_pad]);
                let cp = m.cols_pad;
                // The four sequences' inputs widened to i16 once per quad (when they fit):
                // then each pattern is one `v128_load64_splat`.
                let mut wide = [0i16; 4 * WIDE_COLS];
                for q in 0..quads {
                    let (xq, aq) = (&x[4 * q * xs..], &mut acc[4 * q * accs..]);
                    if cp <= WIDE_COLS {
                        for (s, row) in wide.chunks_exact_mut(WIDE_COLS).enumerate() {
                            for (d, &v) in row[..cp].iter_mut().zip(&xq[s * xs..s * xs + cp]) {
                                *d = v as i16;
                            }
                        }
                        let wp = wide.as_ptr();
                        // SAFETY: s < 4 and 4k + 4 ≤ cols_pad ≤ WIDE_COLS, so the 8 bytes read
                        // are inside `wide`; `gemm_in_quads` bounds the four sequences'
                        // accumulators of every quad.
                        unsafe {
                            gemm_quad(m, aq, accs, |s, k| {
                                v128_load64_splat(wp.add(s * WIDE_COLS + 4 * k).cast())
                            })
                        };
                    } else {
                        let xp = xq.as_ptr();
                        // SAFETY: s · xs + 4k + 4 ≤ 3 xs + cols_pad ≤ xq.len() (`gemm_in_quads`),
                        // which also bound the accumulators.
                        unsafe { gemm_quad(m, aq, accs, |s, k| pattern(xp.add(s * xs + 4 * k))) };
                    }
                }
            })
        }
    }

    /// Largest table offset `2^(b − 1)` looked up with [`lookup16`]: b ≤ 6, at most 4 segments.
    /// Wider tables (up to 16 segments of sub, swizzle and or per 16 units) are looked up by
    /// the portable loop, which measured faster for them (docs/BENCHMARKS.md, "Fused
    /// element-wise pass").
    const SWIZZLE_MAX_OFF: i32 = 32;

    /// 16 table lookups: `out[j] = bytes[a[j] + off]` widened (sign- or zero-extended) to i32,
    /// for indices `a[j] + off ∈ [0, 2 off)` (a table of `2^b` entries, `off = 2^(b − 1)`).
    /// The indices are narrowed to bytes and looked up with `i8x16.swizzle` in each 16-byte
    /// segment of the table that they can reach (`⌈2^b / 16⌉`, one for b ≤ 4): the index minus
    /// `16 s` selects segment `s`'s entry where it is in `[0, 16)`, and swizzle gives 0 for every
    /// other lane (wrapped-around bytes ≥ 16), so OR-ing the segments' results gives the entry.
    #[inline(always)]
    fn lookup16(bytes: &[u8; 256], signed: bool, off: i32, a: &[i32; 16], out: &mut [i32; 16]) {
        let segs = ((2 * off as usize) / 16).clamp(1, 16);
        let o = i32x4_splat(off);
        // SAFETY: k < 4, so 4k + 4 ≤ 16 = a.len(); v128_load has no alignment need.
        let v: [v128; 4] = std::array::from_fn(|k| {
            i32x4_add(unsafe { v128_load(a.as_ptr().add(4 * k).cast()) }, o)
        });
        // In [0, 256) for valid codes: the saturating narrowings keep every such index.
        let idx = u8x16_narrow_i16x8(
            i16x8_narrow_i32x4(v[0], v[1]),
            i16x8_narrow_i32x4(v[2], v[3]),
        );
        let t = bytes.as_ptr();
        // SAFETY: segment 0 is bytes 0..16 of the 256.
        let mut got = i8x16_swizzle(unsafe { v128_load(t.cast()) }, idx);
        let mut i = idx;
        for s in 1..segs {
            i = i8x16_sub(i, i8x16_splat(16));
            // SAFETY: s < segs ≤ 16, so bytes 16 s..16 s + 16 are inside the table.
            let seg = unsafe { v128_load(t.add(16 * s).cast()) };
            got = v128_or(got, i8x16_swizzle(seg, i));
        }
        let w = if signed {
            let (lo, hi) = (i16x8_extend_low_i8x16(got), i16x8_extend_high_i8x16(got));
            [
                i32x4_extend_low_i16x8(lo),
                i32x4_extend_high_i16x8(lo),
                i32x4_extend_low_i16x8(hi),
                i32x4_extend_high_i16x8(hi),
            ]
        } else {
            let (lo, hi) = (u16x8_extend_low_u8x16(got), u16x8_extend_high_u8x16(got));
            [
                u32x4_extend_low_u16x8(lo),
                u32x4_extend_high_u16x8(lo),
                u32x4_extend_low_u16x8(hi),
                u32x4_extend_high_u16x8(hi),
            ]
        };
        for (k, wk) in w.into_iter().enumerate() {
            // SAFETY: k < 4, so 4k + 4 ≤ 16 = out.len().
            unsafe { v128_store(out.as_mut_ptr().add(4 * k).cast(), wk) };
        }
    }

    /// Input columns up to which [`Gemm::gemm_many`] widens a quad's inputs to i16 first (a
    /// 4 KB stack buffer for four sequences); wider inputs build each pattern from the i8 codes.
    const WIDE_COLS: usize = 512;

    /// Products of four sequences (`acc[s · accs..]`, s < 4), 4 rows at a time: every weight
    /// load and widening feeds the four sequences' `i32x4.dot_i16x8_s`. `pat(s, k)` is sequence
    /// `s`'s input pattern of columns `4k..4k + 4` (see [`pattern`]).
    ///
    /// # Safety
    /// `check(m, ..)` holds, `accs ≥ rows_pad`, `acc.len() ≥ 3 accs + rows_pad`, and `pat` is
    /// sound for every `s < 4`, `k < cols_pad / 4`.
    #[inline(always)]
    unsafe fn gemm_quad(
        m: &GateMatrix,
        acc: &mut [i32],
        accs: usize,
        pat: impl Fn(usize, usize) -> v128,
    ) {
        let rp = m.rows_pad;
        let (w, ap) = (m.packed.as_ptr(), acc.as_mut_ptr());
        for g in 0..rp / 4 {
            let mut a = [[i32x4_splat(0); 2]; 4];
            for k in 0..m.cols_pad / 4 {
                // SAFETY: weight offset (k · rows_pad + 4 g) · 4 + 16 ≤ cols_pad · rows_pad.
                let wv = unsafe { v128_load(w.add((k * rp + 4 * g) * 4).cast()) };
                let (wl, wh) = (i16x8_extend_low_i8x16(wv), i16x8_extend_high_i8x16(wv));
                for (s, a) in a.iter_mut().enumerate() {
                    let xb = pat(s, k);
                    a[0] = i32x4_add(a[0], i32x4_dot_i16x8(wl, xb));
                    a[1] = i32x4_add(a[1], i32x4_dot_i16x8(wh, xb));
                }
            }
            let o = 4 * g;
            // SAFETY: o + 4 ≤ rows_pad ≤ bias_pad.len(); s · accs + o + 4 ≤ 3 accs + rows_pad ≤
            // acc.len() (the caller's bounds).
            unsafe {
                let b = v128_load(m.bias_pad.as_ptr().add(o).cast());
                for (s, a) in a.iter().enumerate() {
                    v128_store(ap.add(s * accs + o).cast(), i32x4_add(fold(a[0], a[1]), b));
                }
            }
        }
    }

    /// Every job of the simd128 variant.
    pub(in crate::kernel) fn simd128(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
        run_job::<Simd128>(p, job, s)
    }
}
