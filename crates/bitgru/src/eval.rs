//! Batch evaluation of prepared models (rayon-parallel with the `parallel` feature).
use crate::error::Result;
use crate::kernel::Scratch;
use crate::quant::QuantGru;

/// Predicted class of every sequence of input codes.
pub fn predict_batch(q: &QuantGru, seqs: &[Vec<i8>]) -> Result<Vec<usize>> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        seqs.par_iter()
            .map_init(|| Scratch::for_model(q), |s, x| q.predict(x, s))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut s = Scratch::for_model(q);
        seqs.iter().map(|x| q.predict(x, &mut s)).collect()
    }
}

/// Logits of every sequence of input codes.
pub fn logits_batch(q: &QuantGru, seqs: &[Vec<i8>]) -> Result<Vec<Vec<i32>>> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        seqs.par_iter()
            .map_init(|| Scratch::for_model(q), |s, x| q.run(x, s))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut s = Scratch::for_model(q);
        seqs.iter().map(|x| q.run(x, &mut s)).collect()
    }
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
        if input == 0 || first == 0 || !first.is_multiple_of(input) {
            return Err(crate::error::Error::invalid(
                "code batch",
                format!("first sequence length {first} is not a positive multiple of the input size {input}"),
            ));
        }
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

/// Logits of every sequence of a code batch, `[n, classes]` row-major.
pub fn logits_codes(q: &QuantGru, batch: &CodeBatch) -> Result<Vec<i32>> {
    if batch.input != q.input_size || batch.codes.len() != batch.n * batch.steps * batch.input {
        return Err(crate::error::Error::invalid(
            "code batch",
            format!(
                "{} codes for [{}, {}, {}] with model input size {}",
                batch.codes.len(),
                batch.n,
                batch.steps,
                batch.input,
                q.input_size
            ),
        ));
    }
    let seqs: Vec<Vec<i8>> = (0..batch.n).map(|k| batch.seq(k).to_vec()).collect();
    Ok(logits_batch(q, &seqs)?.concat())
}

/// Predicted class of every sequence of a code batch.
pub fn predict_codes(q: &QuantGru, batch: &CodeBatch) -> Result<Vec<usize>> {
    let logits = logits_codes(q, batch)?;
    Ok(logits
        .chunks(q.classes)
        .map(crate::model::argmax_i32)
        .collect())
}
