//! Batch evaluation of prepared models (rayon-parallel with the `parallel` feature).
use crate::error::Result;
use crate::kernel::{BatchScratch, PackedGru, Variant};
use crate::quant::QuantGru;

/// Predicted class of every sequence of input codes (any lengths; see [`logits_batch`]).
pub fn predict_batch(q: &QuantGru, seqs: &[Vec<i8>]) -> Result<Vec<usize>> {
    Ok(logits_batch(q, seqs)?
        .iter()
        .map(|l| crate::math::argmax(l))
        .collect())
}

/// Logits of every sequence of input codes. Sequences are grouped by length and every group runs
/// through the batch kernel ([`logits_codes`]).
pub fn logits_batch(q: &QuantGru, seqs: &[Vec<i8>]) -> Result<Vec<Vec<i32>>> {
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&k| seqs[k].len());
    let mut out = vec![Vec::new(); seqs.len()];
    let p = PackedGru::pack(q)?;
    let mut lo = 0;
    while lo < order.len() {
        let len = seqs[order[lo]].len();
        let hi = lo
            + order[lo..]
                .iter()
                .take_while(|&&k| seqs[k].len() == len)
                .count();
        let steps = crate::math::steps_of("input codes", len, q.input_size)?;
        let mut codes = Vec::with_capacity((hi - lo) * len);
        for &k in &order[lo..hi] {
            codes.extend_from_slice(&seqs[k]);
        }
        let batch = CodeBatch {
            codes,
            n: hi - lo,
            steps,
            input: q.input_size,
        };
        let logits = logits_packed(&p, &batch)?;
        for (&k, l) in order[lo..hi].iter().zip(logits.chunks(q.classes)) {
            out[k] = l.to_vec();
        }
        lo = hi;
    }
    Ok(out)
}

/// Fraction of sequences whose prediction equals the label.
pub fn accuracy(q: &QuantGru, seqs: &[Vec<i8>], labels: &[usize]) -> Result<f64> {
    if seqs.len() != labels.len() {
        return Err(crate::error::Error::length(
            "labels",
            seqs.len(),
            labels.len(),
        ));
    }
    if seqs.is_empty() {
        return Ok(0.0);
    }
    let p = predict_batch(q, seqs)?;
    let ok = p.iter().zip(labels).filter(|(a, b)| a == b).count();
    Ok(ok as f64 / seqs.len() as f64)
}

/// A contiguous tensor of 8-bit input codes, `[n, steps, input]` row-major: the batch kernel's
/// input. Input codes do not depend on the genome, so a fitness set is quantized once.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CodeBatch {
    pub codes: Vec<i8>,
    pub n: usize,
    pub steps: usize,
    pub input: usize,
}

impl CodeBatch {
    /// Builds a batch from equal-length sequences of codes (`[steps, input]` each).
    pub fn from_seqs(seqs: &[Vec<i8>], input: usize) -> Result<CodeBatch> {
        let first = seqs.first().map_or(0, |s| s.len());
        crate::math::steps_of("code batch (first sequence)", first, input)?;
        let mut codes = Vec::with_capacity(first * seqs.len());
        for (k, s) in seqs.iter().enumerate() {
            if s.len() != first {
                return Err(crate::error::Error::length(
                    format!("code batch sequence {k}"),
                    first,
                    s.len(),
                ));
            }
            codes.extend_from_slice(s);
        }
        Ok(CodeBatch {
            codes,
            n: seqs.len(),
            steps: first / input,
            input,
        })
    }

    /// Codes of sequence `k`.
    pub fn seq(&self, k: usize) -> &[i8] {
        let len = self.steps * self.input;
        &self.codes[k * len..(k + 1) * len]
    }
}

/// Sequences per parallel work item of [`logits_codes`].
const CHUNK: usize = 64;

/// Logits of every sequence of a code batch, `[n, classes]` row-major: the batch kernel (the
/// fastest variant here, [`Variant::best`]) over chunks of sequences, on the rayon pool with the
/// `parallel` feature.
pub fn logits_codes(q: &QuantGru, batch: &CodeBatch) -> Result<Vec<i32>> {
    logits_packed(&PackedGru::pack(q)?, batch)
}

/// [`logits_codes`] for an already packed model.
pub fn logits_packed(p: &PackedGru, batch: &CodeBatch) -> Result<Vec<i32>> {
    logits_packed_with(p, batch, Variant::best())
}

/// [`logits_packed`] with an explicit kernel variant.
pub fn logits_packed_with(p: &PackedGru, batch: &CodeBatch, variant: Variant) -> Result<Vec<i32>> {
    Ok(logits_packed_counted(p, batch, variant)?.0)
}

/// [`logits_packed_with`], also returning how many distinct pool threads ran a chunk of the
/// batch (1 without the `parallel` feature): evidence that the integer pass used the pool.
pub fn logits_packed_counted(
    p: &PackedGru,
    batch: &CodeBatch,
    variant: Variant,
) -> Result<(Vec<i32>, usize)> {
    if batch.input != p.input
        || batch.steps == 0
        || batch.codes.len() != batch.n * batch.steps * batch.input
    {
        return Err(crate::error::Error::invalid(
            "code batch",
            format!(
                "{} codes for [{}, {}, {}] with model input size {}",
                batch.codes.len(),
                batch.n,
                batch.steps,
                batch.input,
                p.input
            ),
        ));
    }
    let (n, c) = (batch.n, p.classes);
    let seq = batch.steps * batch.input;
    let chunks: Vec<usize> = (0..n.div_ceil(CHUNK)).collect();
    let parts = crate::math::par_map_init(
        &chunks,
        || BatchScratch::new(p),
        |s, &k| -> Result<(Vec<i32>, Option<usize>)> {
            let (lo, hi) = (k * CHUNK, ((k + 1) * CHUNK).min(n));
            let mut out = vec![0; (hi - lo) * c];
            p.logits_into(
                variant,
                &batch.codes[lo * seq..hi * seq],
                hi - lo,
                batch.steps,
                s,
                &mut out,
            )?;
            Ok((out, crate::math::pool_thread_index()))
        },
    );
    let mut out = Vec::with_capacity(n * c);
    let mut threads = std::collections::BTreeSet::new();
    for part in parts {
        let (logits, thread) = part?;
        out.extend_from_slice(&logits);
        threads.insert(thread);
    }
    Ok((out, threads.len().max(1)))
}

/// Predicted class of every sequence of a code batch.
pub fn predict_codes(q: &QuantGru, batch: &CodeBatch) -> Result<Vec<usize>> {
    let logits = logits_codes(q, batch)?;
    Ok(logits.chunks(q.classes).map(crate::math::argmax).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{random_model, random_sequences};
    use crate::{Calibration, Genome};
    use std::str::FromStr;

    fn batch_of(n: usize) -> (QuantGru, CodeBatch) {
        let m = random_model(7, 3, 8, 4);
        let seqs = random_sequences(8, n, 5, 3);
        let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
        let cal = Calibration::compute(&m, &refs).unwrap();
        let q =
            QuantGru::prepare(&m, &cal, &Genome::from_str("67676767676767676").unwrap()).unwrap();
        let codes: Vec<Vec<i8>> = seqs.iter().map(|x| q.quantize_input(x).unwrap()).collect();
        let batch = CodeBatch::from_seqs(&codes, 3).unwrap();
        (q, batch)
    }

    #[test]
    fn counted_logits_equal_plain_ones_and_count_pool_threads() {
        // 5 chunks of CHUNK sequences.
        let (q, batch) = batch_of(5 * CHUNK);
        let p = PackedGru::pack(&q).unwrap();
        let plain = logits_packed_with(&p, &batch, Variant::Scalar).unwrap();
        let (counted, threads) = logits_packed_counted(&p, &batch, Variant::Scalar).unwrap();
        assert_eq!(plain, counted);
        #[cfg(feature = "parallel")]
        {
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let (_, used) = one
                .install(|| logits_packed_counted(&p, &batch, Variant::Scalar))
                .unwrap();
            assert_eq!(used, 1);
            let two = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let (_, used) = two
                .install(|| logits_packed_counted(&p, &batch, Variant::Scalar))
                .unwrap();
            assert!((1..=2).contains(&used), "{used}");
        }
        assert!(threads >= 1);
    }
}
