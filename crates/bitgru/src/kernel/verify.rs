//! Bit-exactness check of a batch-kernel variant against the reference kernel: every per-stage
//! code of every step of every sequence, every logit, the unobserved fast path and the streaming
//! step. Used by the property tests (native and wasm) and available to tools that want to check
//! a variant on a machine before trusting it.
use super::batch::{lookup_variant, lut_bytes, BatchScratch, LookupJob, PackedGru, StreamState};
use super::{Scratch, Variant};
use crate::genome::{Gene, N_GENES};
use crate::quant::QuantGru;

/// What was compared (all equal when [`compare`] returns `Ok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compared {
    pub codes: usize,
    pub logits: usize,
}

/// Runs `n` sequences of `steps` steps (`codes` is `[n, steps, input]`) through the reference
/// kernel and through `variant` with tiles of `tile` sequences (0: the default tile), and
/// reports the first difference.
pub fn compare(
    q: &QuantGru,
    variant: Variant,
    codes: &[i8],
    n: usize,
    steps: usize,
    tile: usize,
) -> Result<Compared, String> {
    let (h, c, i_sz) = (q.hidden, q.classes, q.input_size);
    let seq = steps * i_sz;
    if codes.len() != n * seq {
        return Err(format!("{} codes for [{n}, {steps}, {i_sz}]", codes.len()));
    }
    // Reference: codes[b][t][g][j] flattened, logits[b][c].
    let per_step = N_GENES * h;
    let mut want = vec![0i32; n * steps * per_step];
    let mut want_logits = Vec::with_capacity(n * c);
    let mut s = Scratch::for_model(q);
    for b in 0..n {
        let l = q
            .run_observed(&codes[b * seq..(b + 1) * seq], &mut s, |t, cs| {
                let base = (b * steps + t) * per_step;
                for (g, v) in cs.iter().enumerate() {
                    want[base + g * h..base + (g + 1) * h].copy_from_slice(&v[..h]);
                }
            })
            .map_err(|e| e.to_string())?;
        want_logits.extend(l);
    }
    let p = PackedGru::pack(q).map_err(|e| e.to_string())?;
    let mut scratch = if tile == 0 {
        BatchScratch::new(&p)
    } else {
        BatchScratch::with_tile(&p, tile)
    };
    let tile = scratch.tile();
    let mut got = vec![0i32; n * c];
    let mut first_diff: Option<String> = None;
    let mut compared = Compared::default();
    p.logits_observed(
        variant,
        codes,
        n,
        steps,
        &mut scratch,
        &mut got,
        |b0, t, cs| {
            let m = tile.min(n - b0);
            for b in 0..m {
                let base = ((b0 + b) * steps + t) * per_step;
                for g in 0..N_GENES {
                    for j in 0..h {
                        let (w, v) = (want[base + g * h + j], cs[g][b * h + j]);
                        compared.codes += 1;
                        if w != v && first_diff.is_none() {
                            first_diff = Some(format!(
                                "{}: sequence {}, step {t}, {} unit {j}: reference {w}, batch {v}",
                                variant.name(),
                                b0 + b,
                                Gene::ALL[g].name()
                            ));
                        }
                    }
                }
            }
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(d) = first_diff {
        return Err(d);
    }
    let diff_logits = |what: &str, got: &[i32]| -> Result<(), String> {
        match got.iter().zip(&want_logits).position(|(a, b)| a != b) {
            Some(k) => Err(format!(
                "{} {what}: logit {} of sequence {}: reference {}, batch {}",
                variant.name(),
                k % c,
                k / c,
                want_logits[k],
                got[k]
            )),
            None => Ok(()),
        }
    };
    diff_logits("observed", &got)?;
    compared.logits = got.len();
    let mut fast = vec![0i32; n * c];
    p.logits_into(variant, codes, n, steps, &mut scratch, &mut fast)
        .map_err(|e| e.to_string())?;
    diff_logits("fast path", &fast)?;
    // The fast path's last states (the scratch holds the last tile's).
    let last = (n.saturating_sub(1) / tile) * tile;
    let hp = p.wh.cols_pad;
    for b in last..n {
        let base = ((b * steps) + steps - 1) * per_step + Gene::AddH as usize * h;
        let got_h = &scratch.h[(b - last) * hp..(b - last) * hp + h];
        if let Some(j) = (0..h).find(|&j| got_h[j] as i32 != want[base + j]) {
            return Err(format!(
                "{} fast path: sequence {b} unit {j}: reference state {}, batch {}",
                variant.name(),
                want[base + j],
                got_h[j]
            ));
        }
    }
    // Streaming step: the first sequence, one step at a time, state checked after each step.
    if n > 0 {
        let mut st = StreamState::new(&p, variant).map_err(|e| e.to_string())?;
        for t in 0..steps {
            p.step_stream(&codes[t * i_sz..(t + 1) * i_sz], &mut st)
                .map_err(|e| e.to_string())?;
            let base = t * per_step + Gene::AddH as usize * h;
            let want_h = &want[base..base + h];
            if let Some(j) = (0..h).find(|&j| st.state()[j] as i32 != want_h[j]) {
                return Err(format!(
                    "{} stream: step {t} unit {j}: reference {}, stream {}",
                    variant.name(),
                    want_h[j],
                    st.state()[j]
                ));
            }
        }
        if p.stream_logits(&st) != want_logits[..c] {
            return Err(format!("{} stream: logits differ", variant.name()));
        }
        st.reset();
        if st.state().iter().any(|&v| v != 0) {
            return Err("stream reset left a non-zero state".into());
        }
    }
    Ok(compared)
}

/// Checks `variant`'s table lookups (the staged [`Gemm`](super::batch) lookup and the fused
/// pass's chunk lookup) against the portable one: for every bit width 2–8 of the index, unsigned
/// and signed tables of random bytes (all 256 entries set, so that a lookup reaching outside the
/// width's `2^b` entries would show), every code of that width in a shuffled order, at lengths
/// 0–40 and 2^b + 17 (partial chunks included). `p` is any packed model (not read). Returns the
/// number of lookups compared.
pub fn check_lookups(p: &PackedGru, variant: Variant, seed: u64) -> Result<usize, String> {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut compared = 0;
    for bits in 2u8..=8 {
        let off = 1i32 << (bits - 1);
        for signed in [false, true] {
            let raw: [u8; 256] = std::array::from_fn(|_| rng.gen());
            let t: super::batch::Lut = std::array::from_fn(|k| {
                if signed {
                    raw[k] as i8 as i32
                } else {
                    raw[k] as i32
                }
            });
            debug_assert_eq!(lut_bytes(&t), raw);
            let mut codes: Vec<i32> = (-off..off).collect();
            codes.shuffle(&mut rng);
            let lens = (0..=40).chain([codes.len(), 2 * off as usize + 17]);
            for len in lens {
                let a: Vec<i32> = (0..len).map(|k| codes[k % codes.len()]).collect();
                let (mut staged, mut chunked) = (vec![-999; len], vec![-999; len]);
                lookup_variant(
                    p,
                    variant,
                    LookupJob {
                        t: &t,
                        signed,
                        off,
                        a: &a,
                        staged: &mut staged,
                        chunked: &mut chunked,
                    },
                )
                .map_err(|e| e.to_string())?;
                for (k, &x) in a.iter().enumerate() {
                    let want = t[(x + off) as usize];
                    for (what, got) in [("lookup", staged[k]), ("chunk lookup", chunked[k])] {
                        if got != want {
                            return Err(format!(
                                "{} {what}: {bits} bits, signed {signed}, length {len}, \
                                 position {k}, code {x}: want {want}, got {got}",
                                variant.name()
                            ));
                        }
                    }
                    compared += 2;
                }
            }
        }
    }
    Ok(compared)
}
