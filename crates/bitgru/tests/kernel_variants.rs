//! Bit-exactness of every batch-kernel variant against the reference kernel: one suite
//! (`bitgru::kernel::verify::compare` over `bitgru::synth::KernelCase`s), instantiated by
//! `variant_suite!` for every variant. Compared: every per-stage code of every step of every
//! sequence, every logit, the unobserved fast path, and the streaming step. Cases: random genomes
//! (bits 2–8 per gene), H 1..=256 (odd sizes included), I 1..=64, batch sizes 1, 2, 7, 64, 300,
//! tiles 1, 3, 16 and the default, inputs quantized / uniform / saturating, and models pushed to
//! extreme weights and biases. The wasm build runs the same suite in headless Chromium
//! (tests/web.rs at the workspace root).
use bitgru::kernel::{verify, Variant};
use bitgru::synth::{CaseInputs, KernelCase};
use proptest::prelude::*;

fn run(variant: Variant, case: &KernelCase) -> Result<(), TestCaseError> {
    let (q, codes) = case
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let r = verify::compare(&q, variant, &codes, case.n, case.steps, case.tile)
        .map_err(|e| TestCaseError::fail(format!("{e}\ncase: {case:?}")))?;
    prop_assert_eq!(r.codes, case.n * case.steps * case.hidden * bitgru::N_GENES);
    prop_assert_eq!(r.logits, case.n * case.classes);
    Ok(())
}

macro_rules! variant_suite {
    ($name:ident, $variant:expr) => {
        mod $name {
            use super::*;

            fn available() -> bool {
                let ok = $variant.available();
                if !ok {
                    eprintln!("SKIPPED: {} is not available here", $variant.name());
                }
                ok
            }

            proptest! {
                #![proptest_config(ProptestConfig {
                    cases: 20,
                    rng_seed: proptest::test_runner::RngSeed::Fixed(0x6B17),
                    failure_persistence: None,
                    ..ProptestConfig::default()
                })]

                /// Random cases drawn by `KernelCase::random`.
                #[test]
                fn matches_reference(seed in any::<u64>()) {
                    if available() {
                        run($variant, &KernelCase::random(seed))?;
                    }
                }
            }

            /// The table lookups of the variant (staged and fused-chunk forms) against the
            /// portable one: every bit width 2–8, signed and unsigned tables, every code, partial
            /// chunks.
            #[test]
            fn lookups_every_width() {
                if !available() {
                    return;
                }
                let (q, _) = KernelCase::random(1).build().unwrap();
                let p = bitgru::kernel::PackedGru::pack(&q).unwrap();
                for seed in 1..4 {
                    let n = verify::check_lookups(&p, $variant, seed).unwrap_or_else(|e| panic!("{e}"));
                    assert!(n > 0);
                }
            }

            proptest! {
                #![proptest_config(ProptestConfig {
                    cases: 24,
                    rng_seed: proptest::test_runner::RngSeed::Fixed(0xF05E),
                    failure_persistence: None,
                    ..ProptestConfig::default()
                })]

                /// The fused element-wise pass (the unobserved path of calibrated models) on
                /// hidden sizes around the chunk widths (8, 16), all widths 2–8 per gene: every
                /// partial chunk, checked state by state (stream) and by final states and logits
                /// (batch; `verify::compare`).
                #[test]
                fn fused_pass_any_hidden_size(
                    hidden in prop_oneof![1usize..=40, 41usize..=70, Just(127usize), Just(129usize)],
                    bits in proptest::array::uniform17(2u8..=8),
                    seed in any::<u64>(),
                    n in prop_oneof![Just(1usize), Just(5), Just(9)],
                    tile in 0usize..=4,
                ) {
                    if available() {
                        let case = KernelCase {
                            bits,
                            seed,
                            input: 1 + (seed % 12) as usize,
                            hidden,
                            classes: 3,
                            n,
                            steps: 3,
                            inputs: [CaseInputs::Quantized, CaseInputs::Uniform, CaseInputs::Saturating][(seed % 3) as usize],
                            extreme: false,
                            tile,
                        };
                        let (q, _) = case.build().map_err(|e| TestCaseError::fail(e.to_string()))?;
                        let p = bitgru::kernel::PackedGru::pack(&q).unwrap();
                        prop_assert!(p.fused_elementwise(), "a calibrated model has every i32 form");
                        run($variant, &case)?;
                    }
                }
            }

            /// The corners: every batch size with H = 1, an odd H and H = 256, every width at
            /// once (all-2, all-8), saturating inputs and extreme parameters.
            #[test]
            fn corner_cases() {
                if !available() {
                    return;
                }
                for (k, (h, i, n, bits, inputs, extreme)) in [
                    (1, 1, 1, 2, CaseInputs::Saturating, true),
                    (1, 64, 300, 8, CaseInputs::Uniform, false),
                    (3, 7, 2, 5, CaseInputs::Saturating, false),
                    (17, 10, 7, 8, CaseInputs::Quantized, true),
                    (64, 10, 64, 8, CaseInputs::Quantized, false),
                    (65, 28, 64, 3, CaseInputs::Uniform, true),
                    (255, 1, 7, 2, CaseInputs::Saturating, false),
                    (256, 64, 2, 8, CaseInputs::Saturating, true),
                    (256, 10, 1, 4, CaseInputs::Quantized, false),
                ]
                .into_iter()
                .enumerate()
                {
                    let case = KernelCase {
                        bits: [bits; bitgru::N_GENES],
                        seed: 1000 + k as u64,
                        input: i,
                        hidden: h,
                        classes: 5,
                        n,
                        steps: if h * n > 10_000 { 2 } else { 5 },
                        inputs,
                        extreme,
                        tile: 0,
                    };
                    run($variant, &case).unwrap_or_else(|e| panic!("{e}"));
                }
            }
        }
    };
}

variant_suite!(scalar, Variant::Scalar);
variant_suite!(avx2, Variant::Avx2);
variant_suite!(avx512_vnni, Variant::Avx512Vnni);
variant_suite!(simd128, Variant::Simd128);

/// On this project's x86_64 machines at least AVX2 runs; the best variant is one that runs.
#[test]
fn best_variant_is_available() {
    let v = Variant::best();
    assert!(v.available());
    assert_eq!(bitgru::kernel::variant_name(), v.name());
    assert_eq!(Variant::from_name(v.name()), Some(v));
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        assert_ne!(v, Variant::Scalar);
    }
}

/// The comparison really catches a difference (a flipped LUT entry in the reference model
/// changes codes; the packed model built before the change does not).
#[test]
fn compare_detects_a_changed_model() {
    let case = KernelCase {
        bits: [8; bitgru::N_GENES],
        seed: 5,
        input: 4,
        hidden: 8,
        classes: 3,
        n: 7,
        steps: 4,
        inputs: CaseInputs::Uniform,
        extreme: false,
        tile: 0,
    };
    let (q, codes) = case.build().unwrap();
    verify::compare(&q, Variant::Scalar, &codes, case.n, case.steps, 0).unwrap();
    let p = bitgru::kernel::PackedGru::pack(&q).unwrap();
    let mut q2 = q.clone();
    q2.lin[3].bias.iter_mut().for_each(|b| *b += 1 << 20);
    let p2 = bitgru::kernel::PackedGru::pack(&q2).unwrap();
    assert_ne!(p, p2);
    let b = bitgru::eval::CodeBatch {
        codes: codes.clone(),
        n: case.n,
        steps: case.steps,
        input: case.input,
    };
    assert_ne!(
        bitgru::eval::logits_packed(&p, &b).unwrap(),
        bitgru::eval::logits_packed(&p2, &b).unwrap()
    );
}
