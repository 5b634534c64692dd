//! Fixed-point arithmetic and the rounding policy shared by every integer kernel.
//!
//! **Rounding policy: round half away from zero**, everywhere: in the integer kernel
//! ([`round_shift`]), in the fake-quant path and when weights, biases and LUT entries are
//! quantized at prepare time (those call Rust's `f64::round` / `f32::round` directly, which
//! has the same policy), so the float simulation and the integer kernel agree on ties.
//!
//! A real rescale factor `m > 0` is represented as a [`Multiplier`]: a 31-bit mantissa
//! `mult ∈ [2^30, 2^31)` and a right shift, `m ≈ mult · 2^-shift` (the representation of
//! gemmlowp / TFLite `QuantizeMultiplier`). Unlike gemmlowp's two-step
//! `SaturatingRoundingDoublingHighMul` + `RoundingDivideByPOT`, the product is formed in i64 and
//! rounded **once**, so the only error is the 2^-31 relative error of the mantissa.
#![deny(clippy::float_arithmetic)]

use serde::{Deserialize, Serialize};

/// Rounding right shift of an i64 by `shift` bits, ties away from zero. `shift` ≤ 62.
#[inline(always)]
pub fn round_shift(x: i64, shift: u32) -> i64 {
    if shift == 0 {
        return x;
    }
    // Branch-free: ⌊(x + 2^(s−1) − [x < 0]) / 2^s⌋ rounds ties away from zero for both signs.
    (x + (1i64 << (shift - 1)) - (x < 0) as i64) >> shift
}

/// Saturates to the signed range of `bits` bits: `[-2^(b-1), 2^(b-1) - 1]`.
#[inline(always)]
pub fn sat_signed(x: i64, bits: u8) -> i32 {
    let hi = (1i64 << (bits - 1)) - 1;
    x.clamp(-hi - 1, hi) as i32
}

/// Saturates to the unsigned range of `bits` bits: `[0, 2^b - 1]`.
#[inline(always)]
pub fn sat_unsigned(x: i64, bits: u8) -> i32 {
    x.clamp(0, (1i64 << bits) - 1) as i32
}

/// Largest signed code at `bits` bits, `2^(b-1) - 1`.
#[inline(always)]
pub const fn qmax_signed(bits: u8) -> i32 {
    (1i32 << (bits - 1)) - 1
}

/// Largest unsigned code at `bits` bits, `2^b - 1`.
#[inline(always)]
pub const fn qmax_unsigned(bits: u8) -> i32 {
    (1i32 << bits) - 1
}

/// A real multiplier `m ≈ mult · 2^-shift` with `mult` a normalized 31-bit mantissa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Multiplier {
    /// Mantissa in `[2^30, 2^31)` (smaller only when the shift saturates at 62 or m = 0).
    pub mult: i32,
    /// Right shift applied after the product, ≤ 62.
    pub shift: u32,
}

impl Multiplier {
    /// Applies the multiplier to `x` (|x| < 2^31), rounding once, half away from zero.
    #[inline(always)]
    pub fn apply(self, x: i64) -> i64 {
        round_shift(x * self.mult as i64, self.shift)
    }
}

/// Applies two multipliers that share one shift to two operands and rounds once.
/// Used by the additions: `a·m_a + b·m_b` in one fixed-point sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DualMultiplier {
    pub mult_a: i64,
    pub mult_b: i64,
    pub shift: u32,
}

impl DualMultiplier {
    #[inline(always)]
    pub fn apply(self, a: i64, b: i64) -> i64 {
        round_shift(a * self.mult_a + b * self.mult_b, self.shift)
    }
}

/// Prepare-time helpers: the only floating point in this module, never called by a kernel.
pub mod prepare {
    #![allow(clippy::float_arithmetic)]
    use super::{DualMultiplier, Multiplier};

    /// ⌊log2 m⌋ of a positive normal f64, read exactly from its exponent bits.
    fn floor_log2(m: f64) -> i32 {
        ((m.to_bits() >> 52) & 0x7ff) as i32 - 1023
    }

    /// 2^e, exact (|e| ≤ 1000).
    fn pow2(e: i32) -> f64 {
        f64::from_bits(((1023 + e) as u64) << 52)
    }

    /// Quantizes a positive real multiplier to mantissa + shift (`m = 0` gives a zero multiplier).
    pub fn quantize_multiplier(m: f64) -> Multiplier {
        assert!(
            m.is_finite() && m >= 0.0,
            "multiplier must be finite and ≥ 0, got {m}"
        );
        if m == 0.0 {
            return Multiplier { mult: 0, shift: 0 };
        }
        // m = f · 2^e with f ∈ [0.5, 1)  ⇒  mult = round(f · 2^31), shift = 31 - e.
        let e = floor_log2(m) + 1;
        let mut shift = 31 - e;
        if shift > 62 {
            // Tiny multiplier: keep the shift in range and lose mantissa bits instead.
            let mult = (m * pow2(62)).round() as i64;
            return Multiplier {
                mult: mult as i32,
                shift: 62,
            };
        }
        if shift < 0 {
            // ≥ 2^31: no real model gets here (scales are calibrated); saturate, never panic.
            return Multiplier {
                mult: i32::MAX,
                shift: 0,
            };
        }
        let mut mult = (m * pow2(shift)).round() as i64;
        if mult == 1i64 << 31 {
            mult /= 2;
            shift -= 1;
            if shift < 0 {
                return Multiplier {
                    mult: i32::MAX,
                    shift: 0,
                };
            }
        }
        Multiplier {
            mult: mult as i32,
            shift: shift as u32,
        }
    }

    /// Two multipliers sharing one shift: the larger gets a normalized 31-bit mantissa.
    pub fn quantize_dual(ma: f64, mb: f64) -> DualMultiplier {
        let big = ma.max(mb);
        assert!(
            big.is_finite() && big > 0.0,
            "dual multiplier needs a positive factor"
        );
        let e = floor_log2(big) + 1;
        let shift = (31 - e).clamp(0, 62);
        let scale = pow2(shift);
        DualMultiplier {
            mult_a: (ma * scale).round() as i64,
            mult_b: (mb * scale).round() as i64,
            shift: shift as u32,
        }
    }

    /// The real value a multiplier represents.
    pub fn multiplier_value(m: Multiplier) -> f64 {
        m.mult as f64 / pow2(m.shift as i32)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::float_arithmetic)]
    use super::prepare::*;
    use super::*;

    #[test]
    fn round_shift_ties_away_from_zero() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 -> 3
        assert_eq!(round_shift(-5, 1), -3); // -2.5 -> -3
        assert_eq!(round_shift(4, 1), 2);
        assert_eq!(round_shift(-7, 2), -2); // -1.75 -> -2
        assert_eq!(round_shift(6, 2), 2); // 1.5 -> 2
        assert_eq!(round_shift(-6, 2), -2); // -1.5 -> -2
        assert_eq!(round_shift(7, 0), 7);
    }

    #[test]
    fn saturation() {
        assert_eq!(sat_signed(200, 8), 127);
        assert_eq!(sat_signed(-200, 8), -128);
        assert_eq!(sat_signed(3, 2), 1);
        assert_eq!(sat_signed(-3, 2), -2);
        assert_eq!(sat_unsigned(-1, 4), 0);
        assert_eq!(sat_unsigned(99, 4), 15);
    }

    #[test]
    fn multiplier_precision() {
        for &m in &[
            1e-9,
            3.7e-5,
            0.001234,
            0.5,
            0.999_999_9,
            1.0,
            1.5,
            77.25,
            1234.5678,
        ] {
            let q = quantize_multiplier(m);
            assert!(q.mult >= 1 << 30 || q.shift == 62, "{m}: {q:?}");
            let back = multiplier_value(q);
            assert!(((back - m) / m).abs() < 1e-9, "{m} -> {back}");
        }
        assert_eq!(quantize_multiplier(0.0).mult, 0);
    }

    #[test]
    fn multiplier_apply_matches_real_rounding() {
        let m = quantize_multiplier(0.3);
        assert_eq!(m.apply(10), 3);
        assert_eq!(m.apply(-10), -3);
        assert_eq!(m.apply(5), 2); // 1.5 -> 2 (0.3 is slightly above in binary? check exactness below)
        let half = quantize_multiplier(0.5);
        assert_eq!(half.apply(3), 2);
        assert_eq!(half.apply(-3), -2);
    }

    #[test]
    fn dual_multiplier_single_rounding() {
        let d = quantize_dual(0.5, 0.25);
        // 1*0.5 + 2*0.25 = 1.0 exactly; 1*0.5 + 1*0.25 = 0.75 -> 1
        assert_eq!(d.apply(1, 2), 1);
        assert_eq!(d.apply(1, 1), 1);
        assert_eq!(d.apply(-1, -1), -1);
        assert_eq!(d.apply(1, -1), 0); // 0.25 -> 0
    }
}
