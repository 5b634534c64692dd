//! Bit-exactness check of a batch-kernel variant against the reference kernel: every per-stage
//! code of every step of every sequence, every logit, the unobserved fast path and the streaming
//! step. Used by the property tests (native and wasm) and available to tools that want to check
//! a variant on a machine before trusting it.
use super::batch::{BatchScratch, PackedGru, StreamState};
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
