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

/// An exact i32 evaluation of a [`Multiplier`] over `|x| ≤` [`Mul32::MAX_ABS`] (the products
/// and differences of ≤ 8-bit codes the cell's element-wise stages rescale), for SIMD lanes of
/// 32 bits: `apply(x) == m.apply(x)` for every such `x` (proved below, tested exhaustively in
/// this module's tests).
///
/// With `mult = 2^16·hi + lo` (`0 ≤ lo < 2^16`), `P = x·mult = 2^16·(x·hi) + x·lo` and, for
/// `shift = s ≥ 17`, nested floor division by powers of two gives
/// `⌊(P + 2^(s−1) − [P<0]) / 2^s⌋ = ⌊(x·hi + 2^(s−17) + ⌊(x·lo − [x<0]) / 2^16⌋) / 2^(s−16)⌋`
/// (`[P<0] = [x<0]` as `mult ≥ 0`). Every term fits i32: `|x·hi| < 2^30`, `|x·lo| < 2^31`,
/// `2^(s−17) ≤ 2^29` for `s ≤ 46`. For `s ≥ 47`, `|P| < 2^46 ≤ 2^(s−1)` so the result is 0
/// (represented with `hi = lo = 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mul32 {
    pub(crate) hi: i32,
    pub(crate) lo: i32,
    pub(crate) bias: i32,
    pub(crate) shift: u32,
}

impl Mul32 {
    /// Largest `|x|` the i32 form is exact for.
    pub const MAX_ABS: i32 = 1 << 15;

    /// `⌊(x·hi + bias + ⌊(x·lo − [x<0]) / 2^16⌋) / 2^shift⌋`; exact for `|x| ≤ MAX_ABS`.
    #[inline(always)]
    pub fn apply(self, x: i32) -> i32 {
        (x * self.hi + self.bias + ((x * self.lo + (x >> 31)) >> 16)) >> self.shift
    }
}

impl Multiplier {
    /// The i32 form of this multiplier, or `None` when it needs i64 (`shift ≤ 16`, i.e. a factor
    /// ≥ 2^15, or a negative mantissa; calibrated models never have either).
    pub fn mul32(self) -> Option<Mul32> {
        match (self.mult, self.shift) {
            (m, _) if m < 0 => None,
            (0, _) | (_, 47..) => Some(Mul32 {
                hi: 0,
                lo: 0,
                bias: 1,
                shift: 1,
            }),
            (m, s @ 17..=46) => Some(Mul32 {
                hi: m >> 16,
                lo: m & 0xffff,
                bias: 1 << (s - 17),
                shift: s - 16,
            }),
            _ => None,
        }
    }
}

/// [`Multiplier::apply`] for an i32 `x` and `shift ≥ 32` with an i32 result: the i64 product
/// is only needed up to its high word. `⌊(x·mult + 2^(s−1) − [x<0]) / 2^s⌋ =
/// ⌊⌊(x·mult + 2^(s−1) + (x >> 31)) / 2^32⌋ / 2^(s−32)⌋` (nested floor division; `[P<0] =
/// [x<0]` for `mult > 0`, and for `mult = 0` both sides are 0); `|x·mult| < 2^62` and
/// `2^(s−1) ≤ 2^61` keep the sum in i64, the high word `|·| < 2^30` in i32. SIMD code then
/// keeps the high halves of the 64-bit products instead of rounding, saturating and narrowing
/// in i64 lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HighWord {
    pub(crate) mult: i64,
    pub(crate) round: i64,
    pub(crate) shift: u32,
}

impl HighWord {
    /// Equal to the multiplier's `apply(x as i64)` for every i32 `x`.
    #[inline(always)]
    pub fn apply(self, x: i32) -> i32 {
        let p = x as i64 * self.mult + self.round + (x >> 31) as i64;
        ((p >> 32) as i32) >> self.shift
    }
}

impl Multiplier {
    /// The high-word form when `shift ≥ 32` (a factor below 1/2; every calibrated linear's
    /// requantization) and `mult ≥ 0`.
    pub fn high_word(self) -> Option<HighWord> {
        (self.shift >= 32 && self.mult >= 0).then(|| HighWord {
            mult: self.mult as i64,
            round: 1 << (self.shift - 1),
            shift: self.shift - 32,
        })
    }
}

/// An exact i32 evaluation of a [`DualMultiplier`] for `|a|, |b| ≤` [`Dual32::MAX_ABS`] (the
/// additions of ≤ 8-bit codes). With `A = 2^16·ah + al`, `B = 2^16·bh + bl`, `X = a·ah + b·bh`,
/// `Y = a·al + b·bl`: `P = A·a + B·b = 2^16·X + Y`, `[P<0] = [X + ⌊Y/2^16⌋ < 0]`, and for
/// `17 ≤ s ≤ 46` the same nested division as [`Mul32`] gives
/// `⌊(X + 2^(s−17) + ⌊(Y − [P<0]) / 2^16⌋) / 2^(s−16)⌋` with `|X| ≤ 2^24`, `|Y| ≤ 2^25`. For
/// `s ≥ 47`, `|P| ≤ 2^41 < 2^(s−1)`: the result is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dual32 {
    pub(crate) ah: i32,
    pub(crate) al: i32,
    pub(crate) bh: i32,
    pub(crate) bl: i32,
    pub(crate) bias: i32,
    pub(crate) shift: u32,
}

impl Dual32 {
    /// Largest `|a|`, `|b|` the i32 form is exact for.
    pub const MAX_ABS: i32 = 1 << 8;

    /// The i32 form of `A·a + B·b` rounded once; exact for `|a|, |b| ≤ MAX_ABS`.
    #[inline(always)]
    pub fn apply(self, a: i32, b: i32) -> i32 {
        let x = a * self.ah + b * self.bh;
        let y = a * self.al + b * self.bl;
        let neg = (x + (y >> 16)) >> 31;
        (x + self.bias + ((y + neg) >> 16)) >> self.shift
    }
}

impl DualMultiplier {
    /// The i32 form, or `None` when a mantissa is outside `[0, 2^31]` or `shift ≤ 16`.
    pub fn dual32(self) -> Option<Dual32> {
        let ok = |m: i64| (0..=1i64 << 31).contains(&m);
        if !ok(self.mult_a) || !ok(self.mult_b) {
            return None;
        }
        let (ah, al) = ((self.mult_a >> 16) as i32, (self.mult_a & 0xffff) as i32);
        let (bh, bl) = ((self.mult_b >> 16) as i32, (self.mult_b & 0xffff) as i32);
        match self.shift {
            s @ 17..=46 => Some(Dual32 {
                ah,
                al,
                bh,
                bl,
                bias: 1 << (s - 17),
                shift: s - 16,
            }),
            47.. => Some(Dual32 {
                ah: 0,
                al: 0,
                bh: 0,
                bl: 0,
                bias: 1,
                shift: 1,
            }),
            _ => None,
        }
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

    /// Multipliers covering every shift the i32 forms accept and their edges (mantissas at both
    /// ends of the normalized range, zero, the `s ≥ 47` zero form, rejected shifts).
    fn multipliers() -> Vec<Multiplier> {
        let mut out = Vec::new();
        for s in [
            0u32, 1, 15, 16, 17, 18, 20, 25, 30, 31, 33, 38, 40, 45, 46, 47, 50, 62,
        ] {
            for m in [
                0,
                1,
                0xffff,
                1 << 16,
                (1 << 30) + 12345,
                1 << 30,
                i32::MAX,
                0x5555_5555,
            ] {
                out.push(Multiplier { mult: m, shift: s });
            }
        }
        // Real multipliers (0.3·2^-k and friends) as prepare makes them.
        for k in 0..40 {
            out.push(quantize_multiplier(
                0.3 / f64::from(1u32 << (k % 31)) / (1 + k / 31) as f64,
            ));
            out.push(quantize_multiplier(1.7e-4 * (k + 1) as f64));
        }
        out
    }

    #[test]
    fn mul32_equals_i64_over_its_whole_domain() {
        let mut checked = 0;
        for m in multipliers() {
            let Some(f) = m.mul32() else {
                assert!(m.shift <= 16, "{m:?} rejected");
                continue;
            };
            for x in -Mul32::MAX_ABS..=Mul32::MAX_ABS {
                assert_eq!(f.apply(x) as i64, m.apply(x as i64), "{m:?} x={x}");
            }
            checked += 1;
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn high_word_equals_i64() {
        let mut checked = 0;
        for m in multipliers() {
            let Some(f) = m.high_word() else {
                assert!(m.shift < 32, "{m:?} rejected");
                continue;
            };
            // Every x within 2^16 of zero and of both ends of i32, then a grid over the rest.
            let near = (-(1 << 16)..=1 << 16)
                .chain(i32::MIN..=i32::MIN + (1 << 16))
                .chain(i32::MAX - (1 << 16)..=i32::MAX);
            let grid = (i32::MIN..=i32::MAX).step_by(65_521);
            for x in near.chain(grid) {
                assert_eq!(f.apply(x) as i64, m.apply(x as i64), "{m:?} x={x}");
            }
            checked += 1;
        }
        assert!(checked > 40, "{checked}");
    }

    #[test]
    fn dual32_equals_i64_over_its_whole_domain() {
        let mut duals = Vec::new();
        for (k, m) in multipliers().into_iter().enumerate() {
            let b = [m.mult as i64 / 3, 1 << 31, 0, 0x1_0000][k % 4];
            duals.push(DualMultiplier {
                mult_a: m.mult as i64,
                mult_b: b,
                shift: m.shift,
            });
        }
        for k in 1..20 {
            duals.push(quantize_dual(0.01 * k as f64, 0.37 / k as f64));
            duals.push(quantize_dual(3e-4 * k as f64, 1e-5 * k as f64));
        }
        let r = Dual32::MAX_ABS;
        // Every pair of 8-bit codes (the stage's whole input range), then the rest of the
        // accepted range on a grid that includes its corners.
        let grid: Vec<i32> = (-r..=r)
            .filter(|v| v % 5 == 0 || v.abs() >= r - 1)
            .collect();
        let mut checked = 0;
        for d in duals {
            let Some(f) = d.dual32() else {
                assert!(d.shift <= 16, "{d:?} rejected");
                continue;
            };
            let check = |a: i32, b: i32| {
                assert_eq!(
                    f.apply(a, b) as i64,
                    d.apply(a as i64, b as i64),
                    "{d:?} a={a} b={b}"
                )
            };
            for a in -128..128 {
                for b in -128..128 {
                    check(a, b);
                }
            }
            for &a in &grid {
                for &b in &grid {
                    check(a, b);
                }
            }
            checked += 1;
        }
        assert!(checked > 150, "{checked}");
        assert_eq!(
            DualMultiplier {
                mult_a: (1 << 31) + 1,
                mult_b: 0,
                shift: 30
            }
            .dual32(),
            None
        );
        assert_eq!(
            Multiplier {
                mult: -5,
                shift: 30
            }
            .mul32(),
            None
        );
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
