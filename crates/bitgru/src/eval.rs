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
    Ok(logits_batch_counted(q, seqs)?.0)
}

/// [`logits_batch`], also returning the most pool threads one length group ran on (see
/// [`logits_packed_counted`]).
pub fn logits_batch_counted(q: &QuantGru, seqs: &[Vec<i8>]) -> Result<(Vec<Vec<i32>>, usize)> {
    let mut threads = 1;
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
        let (logits, used) = logits_packed_counted(&p, &batch, Variant::best())?;
        threads = threads.max(used);
        for (&k, l) in order[lo..hi].iter().zip(logits.chunks(q.classes)) {
            out[k] = l.to_vec();
        }
        lo = hi;
    }
    Ok((out, threads))
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
                return Err(crate::error::Error::invalid(
                    "code batch",
                    format!(
                        "sequence {k} has {} values, sequence 0 has {first}; a batch holds \
                         sequences of one length",
                        s.len()
                    ),
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

/// A data set quantized once to 8-bit input codes (sequences of any lengths), with optional
/// labels: the one path "quantize → prepare → batch predict → count". Input codes depend only on
/// the calibration's input scales, so every genome prepared from that calibration is scored on
/// the same codes; [`crate::search::QuantProblem`], the trainer's integer validation, the CLI's
/// `eval` and the browser engine all evaluate through it.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegerEvaluator {
    codes: Vec<Vec<i8>>,
    labels: Option<Vec<usize>>,
    input_scales: Vec<f32>,
}

impl IntegerEvaluator {
    /// Quantizes `sequences` with per-channel `input_scales` (a calibration's or a prepared
    /// model's); errors name the sequence. `labels`, when given, must match in number.
    pub fn new<S: AsRef<[f32]>>(
        input_scales: &[f32],
        sequences: &[S],
        labels: Option<Vec<usize>>,
    ) -> Result<IntegerEvaluator> {
        if let Some(l) = &labels {
            if l.len() != sequences.len() {
                return Err(crate::error::Error::length(
                    "labels",
                    sequences.len(),
                    l.len(),
                ));
            }
        }
        let codes = sequences
            .iter()
            .enumerate()
            .map(|(k, x)| {
                crate::quant::quantize_input_codes(input_scales, x.as_ref())
                    .map_err(|e| e.in_sequence(k))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(IntegerEvaluator {
            codes,
            labels,
            input_scales: input_scales.to_vec(),
        })
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn labels(&self) -> Option<&[usize]> {
        self.labels.as_deref()
    }

    /// The quantized sequences.
    pub fn codes(&self) -> &[Vec<i8>] {
        &self.codes
    }

    /// Checks that `q` quantizes inputs with the scales these codes were made with.
    fn check(&self, q: &QuantGru) -> Result<()> {
        if q.input_scales != self.input_scales {
            return Err(crate::error::Error::invalid(
                "integer evaluation",
                "the model's input scales differ from those the inputs were quantized with \
                 (prepare the genome from the same calibration)",
            ));
        }
        Ok(())
    }

    /// Integer logits of every sequence (batch kernel).
    pub fn logits(&self, q: &QuantGru) -> Result<Vec<Vec<i32>>> {
        self.check(q)?;
        logits_batch(q, &self.codes)
    }

    /// Predicted class of every sequence.
    pub fn predictions(&self, q: &QuantGru) -> Result<Vec<usize>> {
        Ok(self.predictions_counted(q)?.0)
    }

    /// [`Self::predictions`] and how many pool threads ran them ([`logits_batch_counted`]).
    pub fn predictions_counted(&self, q: &QuantGru) -> Result<(Vec<usize>, usize)> {
        self.check(q)?;
        let (logits, threads) = logits_batch_counted(q, &self.codes)?;
        Ok((
            logits.iter().map(|l| crate::math::argmax(l)).collect(),
            threads,
        ))
    }

    /// Correct predictions among `pred` (0 without labels).
    pub fn correct(&self, pred: &[usize]) -> usize {
        self.labels
            .as_ref()
            .map_or(0, |l| pred.iter().zip(l).filter(|(a, b)| a == b).count())
    }

    /// Fraction of labelled sequences `q` classifies correctly (`None` without labels).
    pub fn accuracy(&self, q: &QuantGru) -> Result<Option<f64>> {
        if self.labels.is_none() {
            return Ok(None);
        }
        let pred = self.predictions(q)?;
        Ok(Some(if pred.is_empty() {
            0.0
        } else {
            self.correct(&pred) as f64 / pred.len() as f64
        }))
    }
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

    #[test]
    fn integer_evaluator_is_the_prepared_models_path() {
        let m = random_model(3, 4, 8, 3);
        let mut seqs = random_sequences(4, 20, 6, 4);
        seqs.extend(random_sequences(5, 7, 3, 4)); // two lengths
        let refs: Vec<&[f32]> = seqs.iter().map(Vec::as_slice).collect();
        let cal = Calibration::compute(&m, &refs).unwrap();
        let labels: Vec<usize> = (0..seqs.len()).map(|k| k % 3).collect();
        let ev = IntegerEvaluator::new(&cal.input_scales, &seqs, Some(labels.clone())).unwrap();
        for g in [
            "88888888888888888",
            "44444444444444444",
            "64576888548886757",
        ] {
            let q = QuantGru::prepare(&m, &cal, &g.parse::<Genome>().unwrap()).unwrap();
            // Codes without preparing a model are the prepared model's codes.
            for (x, c) in seqs.iter().zip(ev.codes()) {
                assert_eq!(&cal.quantize_input(x).unwrap(), c);
                assert_eq!(&q.quantize_input(x).unwrap(), c);
            }
            let codes: Vec<Vec<i8>> = ev.codes().to_vec();
            assert_eq!(
                ev.predictions(&q).unwrap(),
                predict_batch(&q, &codes).unwrap()
            );
            let acc = accuracy(&q, &codes, &labels).unwrap();
            assert_eq!(ev.accuracy(&q).unwrap(), Some(acc));
        }
        // Another calibration's model is refused, not scored on the wrong codes.
        let other = Calibration::compute(&m, &refs[..2]).unwrap();
        assert_ne!(other.input_scales, cal.input_scales);
        let q = QuantGru::prepare(&m, &other, &Genome::uniform(8).unwrap()).unwrap();
        assert!(ev.predictions(&q).is_err());
        // Errors name the sequence; labels must match in number.
        let mut bad = seqs.clone();
        bad[5][2] = f32::NAN;
        let e = IntegerEvaluator::new(&cal.input_scales, &bad, None).unwrap_err();
        assert!(e.to_string().contains("sequence 5"), "{e}");
        assert!(IntegerEvaluator::new(&cal.input_scales, &seqs, Some(vec![0])).is_err());
    }
}
