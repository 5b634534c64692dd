//! Genome parsing and range errors; the size metric on a hand-computed case.
use bitgru::size::{bitops_per_step, report, size_bits};
use bitgru::{BitRange, Dims, Error, Gene, Genome};

#[test]
fn parse_and_print_round_trip() {
    for s in [
        "88888888888888888",
        "64576888548886757",
        "22222222222222222",
    ] {
        let g: Genome = s.parse().unwrap();
        assert_eq!(g.to_string(), s);
    }
    let g: Genome = "64576888548886757".parse().unwrap();
    assert_eq!(g.get(Gene::LinIr), 6);
    assert_eq!(g.get(Gene::TanhN), 7);
    assert_eq!(g[Gene::AddN], 5);
    assert_eq!(g[Gene::AddH], 8);
    assert!(!g.is_uniform());
    assert!(Genome::uniform(4).unwrap().is_uniform());
    let json = serde_json::to_string(&g).unwrap();
    assert_eq!(json, "\"64576888548886757\"");
    assert_eq!(serde_json::from_str::<Genome>(&json).unwrap(), g);
}

#[test]
fn errors_name_the_gene_and_range() {
    let e = "88888888888888898".parse::<Genome>().unwrap_err();
    assert_eq!(
        e,
        Error::GeneRange {
            index: 15,
            name: "sig_z",
            value: 9,
            min: 2,
            max: 8
        }
    );
    assert!(e.to_string().contains("sig_z"), "{e}");
    let e = "18888888888888888".parse::<Genome>().unwrap_err();
    assert!(
        e.to_string().contains("lin_ir") && e.to_string().contains("2..=8"),
        "{e}"
    );
    let e = "8888888888888888".parse::<Genome>().unwrap_err();
    assert!(e.to_string().contains("expected 17 digits"), "{e}");
    let e = "888888888x8888888".parse::<Genome>().unwrap_err();
    assert!(e.to_string().contains("gene 9 (sub_z)"), "{e}");
    let r = BitRange::new(4, 6).unwrap();
    let e = Genome::parse_with_range("88888888888888888", r).unwrap_err();
    assert!(e.to_string().contains("4..=6"), "{e}");
    assert!(BitRange::new(1, 8).is_err());
    assert!(BitRange::new(5, 4).is_err());
    assert!(Genome::uniform(9).is_err());
}

#[test]
fn size_metric_hand_computed() {
    // I=2, H=3, C=2, genome all-8:
    // input linears: 3 × (3·2·8 + 3·32) = 3 × 144 = 432
    // hidden linears: 3 × (3·3·8 + 3·32) = 3 × 168 = 504
    // LUTs: 3 × 2^8·8 = 6144; state: 3·8 = 24; head: 2·3·8 + 2·32 = 112
    let d = Dims {
        input: 2,
        hidden: 3,
        classes: 2,
    };
    let g8 = Genome::uniform(8).unwrap();
    assert_eq!(size_bits(&g8, d), 432 + 504 + 6144 + 24 + 112);
    // Mixed: lin_ir=2, add_r=3 (σ_r table has 2^3 entries), sig_r=4, add_h=5, rest 8.
    let mut b = [8u8; 17];
    b[Gene::LinIr as usize] = 2;
    b[Gene::AddR as usize] = 3;
    b[Gene::SigR as usize] = 4;
    b[Gene::AddH as usize] = 5;
    let g = Genome::new(b, BitRange::FULL).unwrap();
    let expect = (3 * 2 * 2 + 96) + 2 * (3 * 2 * 8 + 96) + 504 + (8 * 4) + 2 * 2048 + 3 * 5 + 112;
    assert_eq!(size_bits(&g, d), expect);
    let r = report(&g, d);
    assert_eq!(r.bits, expect);
    assert_eq!(r.bytes, expect.div_ceil(8));
    assert!((r.normalized - expect as f64 / 7216.0).abs() < 1e-12);
    assert!((report(&g8, d).normalized - 1.0).abs() < 1e-12);
}

#[test]
fn bitops_hand_computed() {
    let d = Dims {
        input: 2,
        hidden: 3,
        classes: 2,
    };
    let g8 = Genome::uniform(8).unwrap();
    // linear: 3·(3·2·8·8) + 3·(3·3·8·8) = 1152 + 1728; elementwise: 7 pairs × 3·64 + sub_z 3·8
    assert_eq!(bitops_per_step(&g8, d), 1152 + 1728 + 7 * 192 + 24);
    let g2 = Genome::uniform(2).unwrap();
    // linear: 3·(6·2·8) + 3·(9·2·2) = 288 + 108; elementwise 7 × 3·4 + 3·2
    assert_eq!(bitops_per_step(&g2, d), 288 + 108 + 84 + 6);
}

#[test]
fn smaller_genomes_are_smaller() {
    let d = Dims {
        input: 10,
        hidden: 64,
        classes: 12,
    };
    let mut last = u64::MAX;
    for b in (2..=8).rev() {
        let s = size_bits(&Genome::uniform(b).unwrap(), d);
        assert!(s < last);
        last = s;
    }
}

mod rounding {
    use bitgru::fixed::{prepare::quantize_multiplier, round_shift};
    use proptest::prelude::*;

    /// Exact reference: round(x / 2^s), ties away from zero, in i128.
    fn reference(x: i64, s: u32) -> i64 {
        if s == 0 {
            return x;
        }
        let d = 1i128 << s;
        let (q, r) = ((x as i128).abs() / d, (x as i128).abs() % d);
        let q = if 2 * r >= d { q + 1 } else { q };
        (if x < 0 { -q } else { q }) as i64
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]
        #[test]
        fn round_shift_is_exact(x in -(1i64 << 61)..(1i64 << 61), s in 0u32..=61) {
            prop_assert_eq!(round_shift(x, s), reference(x, s));
        }
        #[test]
        fn round_shift_exact_on_ties(k in -(1i64 << 40)..(1i64 << 40), s in 1u32..=20) {
            let x = k * (1i64 << s) + (1i64 << (s - 1)) * k.signum().max(1);
            prop_assert_eq!(round_shift(x, s), reference(x, s));
            prop_assert_eq!(round_shift(-x, s), reference(-x, s));
        }
        #[test]
        fn multiplier_matches_real_product(x in -(1i64 << 30)..(1i64 << 30), m in 1e-6f64..1e3) {
            // The kernel saturates every rescaled value to ≤ 8 bits, so only results of moderate
            // size matter; the mantissa's 2^-31 relative error is far below one LSB there.
            let x = x % ((65536.0 / m).ceil() as i64).max(1);
            let q = quantize_multiplier(m);
            let got = q.apply(x);
            let want = (x as f64 * m).round();
            // Within one LSB, and exact unless the real product is within 2^-20 of a tie.
            prop_assert!((got as f64 - want).abs() <= 1.0);
            let frac = (x as f64 * m).abs().fract();
            if (frac - 0.5).abs() > 1e-6 * (1.0 + (x as f64 * m).abs()) {
                prop_assert_eq!(got as f64, want);
            }
        }
    }
}
