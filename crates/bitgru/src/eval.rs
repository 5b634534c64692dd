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
