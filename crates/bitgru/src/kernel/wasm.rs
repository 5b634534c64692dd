//! wasm32 simd128 variant of the batch kernel (compiled when the module is built with
//! `-C target-feature=+simd128`; wasm has no run-time feature detection, so a browser without
//! simd128 gets the scalar build). 4 rows × 4 columns of packed i8 weights per 16-byte load,
//! widened to i16 and multiplied with the input pattern (4 input codes, widened to i16 and
//! repeated twice) by `i32x4.dot_i16x8_s`; pairs are folded at the end. Batches run four
//! sequences at a time: each weight load and widening serves the four sequences' products, and
//! their inputs are widened to i16 once per quad (each pattern is then one `v128_load64_splat`).
//! The element-wise stages run fused in explicit simd128 ([`Gemm::cells_fused`]): 16 units at a
//! time through all 17 stages in vector registers, the requantizations' i64 products by
//! `i64x2.extmul_*_i32x4_s`, the table lookups of ≤ 7 bits by `i8x16.swizzle` over the 16-byte
//! segments of the table that the stage's bit width reaches. Written out rather than left to
//! the auto-vectorizer, because the app's `web` profile (opt-level z with LTO) never vectorizes
//! loops (docs/BENCHMARKS.md, "Search in the browser"). The staged code of `batch.rs` remains the
//! path of the observer and of models without an i32 form of every stage; its table lookups of
//! ≤ 6 bits use the same swizzle.
#![allow(unsafe_code)]

#[cfg(target_feature = "simd128")]
pub(super) use imp::*;

#[cfg(target_feature = "simd128")]
mod imp {
    use super::super::batch::{
        gate_chunks, gemm_in_quads, lookup, lookup_by_16, run_job, tail_chunk, BatchScratch, Fused,
        GateMatrix, Gemm, Job, Lut, PackedGru,
    };
    use crate::fixed::{Dual32, HighWord, Mul32};
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
        /// Fused, with explicit simd128 arithmetic ([`cells_simd`]): the portable fused pass
        /// measured slower in V8 than the staged one, and the staged loops are only vectorized
        /// where LLVM's post-link vectorizer runs at a speed opt-level (docs/BENCHMARKS.md).
        const FUSED: bool = true;

        #[inline(always)]
        fn cells_fused(
            p: &PackedGru,
            f: &Fused,
            n: usize,
            h: &mut [i8],
            acc_x: &[i32],
            acc_h: &[i32],
        ) {
            cells_simd(p, f, n, h, acc_x, acc_h)
        }

        #[inline(always)]
        fn lookup(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &[i32], out: &mut [i32]) {
            if off <= SWIZZLE_MAX_OFF {
                lookup_by_16(t, off, a, out, |a, o| {
                    store16(swizzle(bytes, signed, off, &load16(a)), o)
                });
            } else {
                lookup(t, off, a, out);
            }
        }

        /// The explicit fused pass's lookup ([`lookup_chunk`]) on chunks of its width (so that
        /// `verify::check_lookups` covers it code by code), else the staged one.
        #[inline(always)]
        fn lookup_chunk<const N: usize>(
            t: &Lut,
            bytes: &[u8; 256],
            signed: bool,
            off: i32,
            a: &[i32; N],
        ) -> [i32; N] {
            let mut out = [0; N];
            if let (Ok(a), Ok(o)) = (<&[i32; UNITS]>::try_from(&a[..]), (&mut out[..]).try_into()) {
                store16(lookup_chunk(t, bytes, signed, off, &load16(a)), o);
            } else {
                Self::lookup(t, bytes, signed, off, a, &mut out);
            }
            out
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

    /// Largest table offset `2^(b − 1)` the staged pass looks up with [`swizzle`]: b ≤ 6, at
    /// most 4 segments. Wider tables (up to 16 segments of sub, swizzle and or per 16 units) are
    /// looked up by the portable loop, which measured faster for them in the staged pass
    /// (docs/BENCHMARKS.md, "Fused element-wise pass").
    const SWIZZLE_MAX_OFF: i32 = 32;

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

    /// Vectors of 4 lanes per chunk of the explicit fused pass (16 units: one byte vector of
    /// indices or state codes; 4 or 8 units measured slower in V8, docs/BENCHMARKS.md).
    const K: usize = 4;
    /// Units per chunk.
    const UNITS: usize = 4 * K;
    /// A chunk's values of one stage.
    type V = [v128; K];

    /// A chunk of 16 i32 values.
    #[inline(always)]
    fn load16(a: &[i32; UNITS]) -> V {
        // SAFETY: 4k + 4 ≤ 16 = a.len(); v128_load has no alignment need.
        each(|k| unsafe { v128_load(a.as_ptr().add(4 * k).cast()) })
    }

    /// Stores a chunk of 16 i32 values.
    #[inline(always)]
    fn store16(v: V, out: &mut [i32; UNITS]) {
        for (k, x) in v.into_iter().enumerate() {
            // SAFETY: 4k + 4 ≤ 16 = out.len().
            unsafe { v128_store(out.as_mut_ptr().add(4 * k).cast(), x) };
        }
    }

    /// The chunk's 16 codes (in the i8 / u8 range) as the 16 bytes of a vector, by saturating
    /// narrowings (exact for such codes); `unsigned` narrows to u8 (indices up to 255).
    #[inline(always)]
    fn to_bytes(a: &V, unsigned: bool) -> v128 {
        let (w0, w1) = (
            i16x8_narrow_i32x4(a[0], a[1]),
            i16x8_narrow_i32x4(a[2], a[3]),
        );
        if unsigned {
            u8x16_narrow_i16x8(w0, w1)
        } else {
            i8x16_narrow_i16x8(w0, w1)
        }
    }

    /// The 16 bytes of `b` widened to a chunk's i32 lanes (sign- or zero-extended).
    #[inline(always)]
    fn from_bytes(b: v128, signed: bool) -> V {
        if signed {
            let (lo, hi) = (i16x8_extend_low_i8x16(b), i16x8_extend_high_i8x16(b));
            [
                i32x4_extend_low_i16x8(lo),
                i32x4_extend_high_i16x8(lo),
                i32x4_extend_low_i16x8(hi),
                i32x4_extend_high_i16x8(hi),
            ]
        } else {
            let (lo, hi) = (u16x8_extend_low_u8x16(b), u16x8_extend_high_u8x16(b));
            [
                u32x4_extend_low_u16x8(lo),
                u32x4_extend_high_u16x8(lo),
                u32x4_extend_low_u16x8(hi),
                u32x4_extend_high_u16x8(hi),
            ]
        }
    }

    /// `f` on each vector of a chunk.
    #[inline(always)]
    fn each(f: impl Fn(usize) -> v128) -> V {
        std::array::from_fn(f)
    }

    /// `min(max(x, lo), hi)`.
    #[inline(always)]
    fn clamp(x: v128, lo: v128, hi: v128) -> v128 {
        i32x4_min(i32x4_max(x, lo), hi)
    }

    /// A [`HighWord`] requantization with its bounds, splatted.
    #[derive(Clone, Copy)]
    struct Req {
        mult: v128,
        round: v128,
        shift: u32,
        lo: v128,
        hi: v128,
    }

    impl Req {
        fn new((m, lo, hi): (HighWord, i32, i32)) -> Req {
            Req {
                // The mantissa of a `Multiplier` is an i32 ≥ 0.
                mult: i32x4_splat(m.mult as i32),
                round: i64x2_splat(m.round),
                shift: m.shift,
                lo: i32x4_splat(lo),
                hi: i32x4_splat(hi),
            }
        }

        /// [`HighWord::apply`] lane by lane, saturated: the i64 products `x · mult` of the low
        /// and high lane pairs (`i64x2.extmul_*_i32x4_s`), plus the rounding term and
        /// `x >> 31` sign-extended, and their high words gathered by one shuffle.
        #[inline(always)]
        fn apply(&self, x: v128) -> v128 {
            let sign = i32x4_shr(x, 31);
            let lo = i64x2_add(
                i64x2_add(i64x2_extmul_low_i32x4(x, self.mult), self.round),
                i64x2_extend_low_i32x4(sign),
            );
            let hi = i64x2_add(
                i64x2_add(i64x2_extmul_high_i32x4(x, self.mult), self.round),
                i64x2_extend_high_i32x4(sign),
            );
            let w = i32x4_shuffle::<1, 3, 5, 7>(lo, hi);
            clamp(i32x4_shr(w, self.shift), self.lo, self.hi)
        }
    }

    /// A [`Dual32`] addition with its bounds, splatted.
    #[derive(Clone, Copy)]
    struct Add {
        ah: v128,
        al: v128,
        bh: v128,
        bl: v128,
        bias: v128,
        shift: u32,
        lo: v128,
        hi: v128,
    }

    impl Add {
        fn new((d, lo, hi): (Dual32, i32, i32)) -> Add {
            Add {
                ah: i32x4_splat(d.ah),
                al: i32x4_splat(d.al),
                bh: i32x4_splat(d.bh),
                bl: i32x4_splat(d.bl),
                bias: i32x4_splat(d.bias),
                shift: d.shift,
                lo: i32x4_splat(lo),
                hi: i32x4_splat(hi),
            }
        }

        /// [`Dual32::apply`] lane by lane, saturated.
        #[inline(always)]
        fn apply(&self, a: v128, b: v128) -> v128 {
            let x = i32x4_add(i32x4_mul(a, self.ah), i32x4_mul(b, self.bh));
            let y = i32x4_add(i32x4_mul(a, self.al), i32x4_mul(b, self.bl));
            let neg = i32x4_shr(i32x4_add(x, i32x4_shr(y, 16)), 31);
            let r = i32x4_add(i32x4_add(x, self.bias), i32x4_shr(i32x4_add(y, neg), 16));
            clamp(i32x4_shr(r, self.shift), self.lo, self.hi)
        }
    }

    /// A [`Mul32`] rescale with its bounds, splatted.
    #[derive(Clone, Copy)]
    struct Mul {
        hi: v128,
        lo: v128,
        bias: v128,
        shift: u32,
        min: v128,
        max: v128,
    }

    impl Mul {
        fn new((m, min, max): (Mul32, i32, i32)) -> Mul {
            Mul {
                hi: i32x4_splat(m.hi),
                lo: i32x4_splat(m.lo),
                bias: i32x4_splat(m.bias),
                shift: m.shift,
                min: i32x4_splat(min),
                max: i32x4_splat(max),
            }
        }

        /// [`Mul32::apply`] lane by lane, saturated.
        #[inline(always)]
        fn apply(&self, x: v128) -> v128 {
            let low = i32x4_shr(i32x4_add(i32x4_mul(x, self.lo), i32x4_shr(x, 31)), 16);
            let r = i32x4_add(i32x4_add(i32x4_mul(x, self.hi), self.bias), low);
            clamp(i32x4_shr(r, self.shift), self.min, self.max)
        }
    }

    /// The fused pass's parameters, splatted once per call.
    struct Splat {
        req: [Req; 6],
        add: [Add; 4],
        mul: [Mul; 3],
        sub: Mul,
        z_max: v128,
    }

    impl Splat {
        fn new(f: &Fused) -> Splat {
            let (m, z_max, q) = f.sub_z;
            Splat {
                req: f.req.map(Req::new),
                add: f.add.map(Add::new),
                mul: f.mul.map(Mul::new),
                sub: Mul::new((m, 0, q)),
                z_max: i32x4_splat(z_max),
            }
        }
    }

    /// Table lookups of a chunk, `out = t[a + off]`: by [`swizzle`] for tables of at most
    /// `2 · `[`FUSED_SWIZZLE_MAX_OFF`] entries, else lane by lane.
    #[inline(always)]
    fn lookup_chunk(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &V) -> V {
        if off > FUSED_SWIZZLE_MAX_OFF {
            let g = |x: i32| t[((x + off) as usize) & 255];
            return each(|k| {
                let v = a[k];
                i32x4(
                    g(i32x4_extract_lane::<0>(v)),
                    g(i32x4_extract_lane::<1>(v)),
                    g(i32x4_extract_lane::<2>(v)),
                    g(i32x4_extract_lane::<3>(v)),
                )
            });
        }
        swizzle(bytes, signed, off, a)
    }

    /// 16 table lookups: `bytes[a[j] + off]` widened (sign- or zero-extended) to i32, for
    /// indices `a[j] + off ∈ [0, 2 off)` (a table of `2^b` entries, `off = 2^(b − 1)`). The
    /// indices are narrowed to bytes and looked up with `i8x16.swizzle` in each 16-byte segment
    /// of the table that they can reach (`⌈2^b / 16⌉`, one for b ≤ 4): the index minus `16 s`
    /// selects segment `s`'s entry where it is in `[0, 16)`, and swizzle gives 0 for every other
    /// lane (wrapped-around bytes ≥ 16), so OR-ing the segments' results gives the entry.
    #[inline(always)]
    fn swizzle(bytes: &[u8; 256], signed: bool, off: i32, a: &V) -> V {
        let segs = ((2 * off as usize) / 16).clamp(1, 16);
        let o = i32x4_splat(off);
        // In [0, 256) for valid codes: the saturating narrowings keep every such index.
        let idx = to_bytes(&each(|k| i32x4_add(a[k], o)), true);
        let tp = bytes.as_ptr();
        // SAFETY: segment 0 is bytes 0..16 of the 256.
        let mut got = i8x16_swizzle(unsafe { v128_load(tp.cast()) }, idx);
        let mut i = idx;
        for s in 1..segs {
            i = i8x16_sub(i, i8x16_splat(16));
            // SAFETY: s < segs ≤ 16, so bytes 16 s..16 s + 16 are inside the table.
            let seg = unsafe { v128_load(tp.add(16 * s).cast()) };
            got = v128_or(got, i8x16_swizzle(seg, i));
        }
        from_bytes(got, signed)
    }

    /// Largest table offset looked up by swizzle in the explicit fused pass: b ≤ 7, at most 8
    /// segments (16 segments for b = 8 measured slower than the lane-by-lane lookup).
    const FUSED_SWIZZLE_MAX_OFF: i32 = 64;

    /// Every stage of one chunk ([`super::super::batch`]'s `chunk`, in explicit simd128): `acc`
    /// holds the accumulators of gates ir, iz, in, hr, hz, hn, `hprev` the previous state → the
    /// new state codes.
    #[inline(always)]
    fn chunk(p: &PackedGru, f: &Fused, v: &Splat, hprev: &V, acc: [&[i32; UNITS]; 6]) -> V {
        let c = &p.cell;
        let req = |g: usize| -> V {
            let a = load16(acc[g]);
            each(|k| v.req[g].apply(a[k]))
        };
        let add = |d: &Add, a: &V, b: &V| -> V { each(|k| d.apply(a[k], b[k])) };
        let mul = |m: &Mul, a: &V, b: &V| -> V { each(|k| m.apply(i32x4_mul(a[k], b[k]))) };
        let ar = add(&v.add[0], &req(0), &req(3));
        let r = lookup_chunk(&c.lut_r, &c.lut_bytes[0], false, f.off[0], &ar);
        let mrh = mul(&v.mul[0], &r, &req(5));
        let an = add(&v.add[2], &req(2), &mrh);
        let nn = lookup_chunk(&c.lut_n, &c.lut_bytes[2], true, f.off[2], &an);
        let az = add(&v.add[1], &req(1), &req(4));
        let z = lookup_chunk(&c.lut_z, &c.lut_bytes[1], false, f.off[1], &az);
        let sz = each(|k| v.sub.apply(i32x4_sub(v.z_max, z[k])));
        let mzn = mul(&v.mul[1], &sz, &nn);
        let mzh = mul(&v.mul[2], &z, hprev);
        add(&v.add[3], &mzn, &mzh)
    }

    /// The fused element-wise pass of `n` sequences in explicit simd128 (the [`Gemm::cells_fused`]
    /// of this variant): chunks of [`UNITS`] units through every stage in vector registers; a
    /// last, partial chunk runs on zero-padded copies and stores only its units.
    fn cells_simd(p: &PackedGru, f: &Fused, n: usize, h: &mut [i8], acc_x: &[i32], acc_h: &[i32]) {
        let v = Splat::new(f);
        let hs = p.hidden;
        let (hp, rx, rh) = (p.wh.cols_pad, p.wx.rows_pad, p.wh.rows_pad);
        let full = hs / UNITS * UNITS;
        for b in 0..n {
            let (ax, ah) = (
                &acc_x[b * rx..b * rx + 3 * hs],
                &acc_h[b * rh..b * rh + 3 * hs],
            );
            let hb = &mut h[b * hp..b * hp + hs];
            for j0 in (0..full).step_by(UNITS) {
                let acc = gate_chunks(ax, ah, hs, j0);
                let hc: &mut [i8; UNITS] = (&mut hb[j0..j0 + UNITS]).try_into().expect("a chunk");
                // SAFETY: a 16-byte load of the chunk's 16 state codes.
                let hprev = from_bytes(unsafe { v128_load(hc.as_ptr().cast()) }, true);
                let hn = chunk(p, f, &v, &hprev, acc);
                // Saturated codes of ≤ 8 bits: the narrowings are exact.
                // SAFETY: a 16-byte store into the chunk's 16 state codes.
                unsafe { v128_store(hc.as_mut_ptr().cast(), to_bytes(&hn, false)) };
            }
            if full < hs {
                let (pad, hq) = tail_chunk::<UNITS>(ax, ah, hb, hs, full);
                let hprev = load16(&hq);
                let acc = [&pad[0], &pad[1], &pad[2], &pad[3], &pad[4], &pad[5]];
                let hn = chunk(p, f, &v, &hprev, acc);
                let mut out = [0i32; UNITS];
                store16(hn, &mut out);
                for (o, &x) in hb[full..].iter_mut().zip(&out) {
                    *o = x as i8;
                }
            }
        }
    }

    /// Every job of the simd128 variant.
    pub(in crate::kernel) fn simd128(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
        run_job::<Simd128>(p, job, s)
    }
}
