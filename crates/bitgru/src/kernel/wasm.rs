//! wasm32 simd128 variant of the batch kernel (compiled when the module is built with
//! `-C target-feature=+simd128`; wasm has no run-time feature detection, so a browser without
//! simd128 gets the scalar build). 4 rows × 4 columns of packed i8 weights per 16-byte load,
//! widened to i16 and multiplied with the input pattern by `i32x4.dot_i16x8_s`; pairs are folded
//! at the end. The element-wise stages are the shared code, auto-vectorized for simd128.
#![allow(unsafe_code)]

#[cfg(target_feature = "simd128")]
pub(super) use imp::*;

#[cfg(target_feature = "simd128")]
mod imp {
    use super::super::batch::{run_job, BatchScratch, GateMatrix, Gemm, Job, PackedGru};
    use core::arch::wasm32::*;

    struct Simd128;

    impl Gemm for Simd128 {
        #[inline(always)]
        fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
            assert!(x.len() >= m.cols_pad && acc.len() >= m.rows_pad);
            assert!(m.packed.len() >= m.rows_pad * m.cols_pad && m.bias_pad.len() >= m.rows_pad);
            assert!(m.rows_pad.is_multiple_of(16) && m.cols_pad.is_multiple_of(4));
            let rp = m.rows_pad;
            let w = m.packed.as_ptr();
            // Groups of 4 rows, two at a time (rows_pad is a multiple of 16).
            for g in (0..rp / 4).step_by(2) {
                let (mut a0, mut a1, mut b0, mut b1) = (
                    i32x4_splat(0),
                    i32x4_splat(0),
                    i32x4_splat(0),
                    i32x4_splat(0),
                );
                for k in 0..m.cols_pad / 4 {
                    let xs = [
                        x[4 * k] as i16,
                        x[4 * k + 1] as i16,
                        x[4 * k + 2] as i16,
                        x[4 * k + 3] as i16,
                    ];
                    let xb = i16x8(xs[0], xs[1], xs[2], xs[3], xs[0], xs[1], xs[2], xs[3]);
                    // SAFETY: offset (k · rows_pad + 4 g) · 4 + 32 ≤ cols_pad · rows_pad
                    // (g + 1 < rows_pad / 4), checked above; v128_load has no alignment need.
                    let (wa, wb) = unsafe {
                        let p = w.add((k * rp + 4 * g) * 4);
                        (v128_load(p.cast()), v128_load(p.add(16).cast()))
                    };
                    a0 = i32x4_add(a0, i32x4_dot_i16x8(i16x8_extend_low_i8x16(wa), xb));
                    a1 = i32x4_add(a1, i32x4_dot_i16x8(i16x8_extend_high_i8x16(wa), xb));
                    b0 = i32x4_add(b0, i32x4_dot_i16x8(i16x8_extend_low_i8x16(wb), xb));
                    b1 = i32x4_add(b1, i32x4_dot_i16x8(i16x8_extend_high_i8x16(wb), xb));
                }
                // a0 = [r0 p01, r0 p23, r1 p01, r1 p23], a1 = rows 2, 3 → [r0 r1 r2 r3].
                let fold = |lo: v128, hi: v128| {
                    i32x4_add(
                        i32x4_shuffle::<0, 2, 4, 6>(lo, hi),
                        i32x4_shuffle::<1, 3, 5, 7>(lo, hi),
                    )
                };
                let off = 4 * g;
                for (k, v) in [fold(a0, a1), fold(b0, b1)].into_iter().enumerate() {
                    let o = off + 4 * k;
                    let b = [
                        m.bias_pad[o],
                        m.bias_pad[o + 1],
                        m.bias_pad[o + 2],
                        m.bias_pad[o + 3],
                    ];
                    let s = i32x4_add(v, i32x4(b[0], b[1], b[2], b[3]));
                    acc[o] = i32x4_extract_lane::<0>(s);
                    acc[o + 1] = i32x4_extract_lane::<1>(s);
                    acc[o + 2] = i32x4_extract_lane::<2>(s);
                    acc[o + 3] = i32x4_extract_lane::<3>(s);
                }
            }
        }
    }

    /// Every job of the simd128 variant.
    pub(in crate::kernel) fn simd128(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
        run_job::<Simd128>(p, job, s)
    }
}
