//! The mixed-precision quantization problem: genome → prepared integer model → typed
//! [`Evaluation`] on a fixed fitness set.
//!
//! The fitness inputs are quantized to 8-bit codes **once**, when the problem is built: the
//! input codes depend only on the calibration's per-channel input scales, never on the genome.
//! A genome then costs one `prepare` (scales → multipliers, LUTs; tens of µs) and one pass of
//! the batch integer kernel over the code tensor. This is the one place where "prepare →
//! quantize → batch predict → count" happens; the CLI, the trainer's integer evaluation and the
//! browser worker all go through it.
use crate::calibrate::Calibration;
use crate::error::{Error, Result};
use crate::eval::{predict_codes, CodeBatch, IntegerEvaluator};
use crate::genome::{BitRange, Genome, N_GENES};
use crate::math::par_map;
use crate::model::FloatGru;
use crate::quant::QuantGru;
use crate::size::{self, Dims, SizeReport};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// An objective of the search; all are minimized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// `1 − accuracy` on the fitness set.
    Error,
    /// Model size divided by the all-8 model's size (DESIGN §4 metric).
    Size,
    /// Bit-operations per step divided by the all-8 model's.
    Bitops,
}

impl Objective {
    pub const ALL: [Objective; 3] = [Objective::Error, Objective::Size, Objective::Bitops];

    pub fn name(self) -> &'static str {
        match self {
            Objective::Error => "error",
            Objective::Size => "size",
            Objective::Bitops => "bitops",
        }
    }

    /// Parses a comma-separated list such as `error,size` or `error,size,bitops`.
    pub fn parse_list(s: &str) -> Result<Vec<Objective>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim) {
            let o = Objective::ALL
                .into_iter()
                .find(|o| o.name() == part)
                .ok_or_else(|| {
                    Error::invalid(
                        "objectives",
                        format!("{part:?} is not an objective; expected error, size or bitops"),
                    )
                })?;
            if out.contains(&o) {
                return Err(Error::invalid(
                    "objectives",
                    format!("{part:?} is listed twice"),
                ));
            }
            out.push(o);
        }
        Objective::check_list(&out)?;
        Ok(out)
    }

    /// A list must start with `error` and contain `size` (the paper's two objectives).
    pub fn check_list(list: &[Objective]) -> Result<()> {
        if list.len() < 2 || list[0] != Objective::Error || !list.contains(&Objective::Size) {
            return Err(Error::invalid(
                "objectives",
                format!(
                    "{:?}: the first objective must be error and size must be one of them (e.g. error,size or error,size,bitops)",
                    list.iter().map(|o| o.name()).collect::<Vec<_>>()
                ),
            ));
        }
        Ok(())
    }
}

/// What one genome scores on the fitness set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub genome: Genome,
    /// Correct predictions out of `n`.
    pub correct: usize,
    pub n: usize,
    pub accuracy: f64,
    /// Fraction of sequences where the integer model predicts what the float model predicts.
    pub agreement: f64,
    pub size: SizeReport,
    /// Bit-operations per step divided by the all-8 model's.
    pub bitops_normalized: f64,
    /// The objective vector, in the problem's objective order.
    pub objectives: Vec<f64>,
}

/// The quantization problem of one model on one fitness set.
#[derive(Debug, Clone)]
pub struct QuantProblem {
    model: FloatGru,
    calibration: Calibration,
    dims: Dims,
    batch: CodeBatch,
    labels: Vec<usize>,
    /// The raw fitness sequences (for the float model's predictions, computed on first use).
    sequences: Vec<Vec<f32>>,
    float_predictions: OnceLock<Vec<usize>>,
    objectives: Vec<Objective>,
    bitops_all8: u64,
}

impl QuantProblem {
    /// Builds the problem: validates the labels, quantizes the (raw-feature) sequences once
    /// with the calibration's input scales. The float model runs over them once, on first use
    /// of the agreement or the float accuracy.
    pub fn new(
        model: FloatGru,
        calibration: Calibration,
        sequences: &[Vec<f32>],
        labels: Vec<usize>,
        objectives: Vec<Objective>,
    ) -> Result<QuantProblem> {
        Objective::check_list(&objectives)?;
        if sequences.is_empty() {
            return Err(Error::invalid(
                "fitness set",
                "no sequences: the search needs at least one labelled sequence",
            ));
        }
        if labels.len() != sequences.len() {
            return Err(Error::length(
                "fitness labels",
                sequences.len(),
                labels.len(),
            ));
        }
        if let Some((k, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= model.classes) {
            return Err(Error::invalid(
                "fitness labels",
                format!(
                    "label of sequence {k} is {l}, but the model has {} classes",
                    model.classes
                ),
            ));
        }
        model.validate()?;
        calibration.validate(&model)?;
        // Input codes depend only on the calibration's input scales: any genome quantizes
        // them identically.
        let codes = IntegerEvaluator::new(&calibration.input_scales, sequences, None).map_err(
            |e| match e {
                Error::Invalid { what, detail } => Error::Invalid {
                    what: format!("fitness {what}"),
                    detail,
                },
                Error::NonFinite { what, index } => Error::NonFinite {
                    what: format!("fitness {what}"),
                    index,
                },
                e => e,
            },
        )?;
        let batch = CodeBatch::from_seqs(codes.codes(), model.input_size)?;
        let all8 = Genome::uniform(8)?;
        let dims = model.dims();
        Ok(QuantProblem {
            bitops_all8: size::bitops_per_step(&all8, dims),
            model,
            calibration,
            dims,
            batch,
            labels,
            sequences: sequences.to_vec(),
            float_predictions: OnceLock::new(),
            objectives,
        })
    }

    /// The float model.
    pub fn model(&self) -> &FloatGru {
        &self.model
    }

    /// The calibration every genome is prepared from.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    pub fn dims(&self) -> Dims {
        self.dims
    }

    pub fn objectives(&self) -> &[Objective] {
        &self.objectives
    }

    /// Number of fitness sequences.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a problem has at least one sequence.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The fitness inputs as 8-bit codes, `[n, steps, input]`.
    pub fn codes(&self) -> &CodeBatch {
        &self.batch
    }

    /// Accuracy of the float model on the fitness set.
    pub fn float_accuracy(&self) -> f64 {
        fraction_equal(self.float_predictions(), &self.labels)
    }

    /// Predictions of the float model on the fitness set (computed once, on first use; the
    /// sequences were validated when the problem was built).
    pub fn float_predictions(&self) -> &[usize] {
        self.float_predictions.get_or_init(|| {
            par_map(&self.sequences, |x| self.model.predict(x))
                .into_iter()
                .collect::<Result<Vec<_>>>()
                .expect("fitness sequences were validated when the problem was built")
        })
    }

    /// Integer accuracy of `genome` on the fitness set (no float pass).
    pub fn accuracy(&self, genome: &Genome) -> Result<f64> {
        let pred = self.predictions(genome)?;
        Ok(fraction_equal(&pred, &self.labels))
    }

    /// Prepares `genome` (no data pass).
    pub fn prepare(&self, genome: &Genome) -> Result<QuantGru> {
        QuantGru::prepare(&self.model, &self.calibration, genome)
    }

    /// Integer predictions of `genome` on the fitness set.
    pub fn predictions(&self, genome: &Genome) -> Result<Vec<usize>> {
        predict_codes(&self.prepare(genome)?, &self.batch)
    }

    /// Scores one genome.
    pub fn evaluate(&self, genome: &Genome) -> Result<Evaluation> {
        let pred = self.predictions(genome)?;
        Ok(self.evaluation_of(genome, &pred))
    }

    /// Scores many genomes (in parallel with the `parallel` feature); results in order.
    pub fn evaluate_many(&self, genomes: &[Genome]) -> Result<Vec<Evaluation>> {
        par_map(genomes, |g| self.evaluate(g)).into_iter().collect()
    }

    /// The evaluation of `genome` given its predictions on the fitness set.
    pub fn evaluation_of(&self, genome: &Genome, pred: &[usize]) -> Evaluation {
        let n = self.labels.len();
        let correct = pred
            .iter()
            .zip(&self.labels)
            .filter(|(a, b)| a == b)
            .count();
        let accuracy = correct as f64 / n as f64;
        let agreement = fraction_equal(pred, self.float_predictions());
        let size = size::report(genome, self.dims);
        let bitops_normalized = size.bitops_per_step as f64 / self.bitops_all8 as f64;
        let objectives = self
            .objectives
            .iter()
            .map(|o| match o {
                Objective::Error => 1.0 - accuracy,
                Objective::Size => size.normalized,
                Objective::Bitops => bitops_normalized,
            })
            .collect();
        Evaluation {
            genome: *genome,
            correct,
            n,
            accuracy,
            agreement,
            size,
            bitops_normalized,
            objectives,
        }
    }

    /// Confusion matrix of `genome` on the fitness set: `m[label][prediction]`.
    pub fn confusion(&self, genome: &Genome) -> Result<Vec<Vec<usize>>> {
        Ok(confusion_matrix(
            &self.predictions(genome)?,
            &self.labels,
            self.dims.classes,
        ))
    }
}

/// `m[label][prediction]` counts.
pub fn confusion_matrix(pred: &[usize], labels: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let mut m = vec![vec![0usize; classes]; classes];
    for (&p, &y) in pred.iter().zip(labels) {
        if p < classes && y < classes {
            m[y][p] += 1;
        }
    }
    m
}

fn fraction_equal(a: &[usize], b: &[usize]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

/// A deterministic stratified subset of `n` indices (sorted): every class gets a share
/// proportional to its frequency (largest remainder, at least one per present class while
/// `n` allows), picked evenly spaced within the class. `n ≥ labels.len()` returns all.
pub fn stratified_subset(labels: &[usize], n: usize) -> Vec<usize> {
    let total = labels.len();
    if n >= total {
        return (0..total).collect();
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push(i);
    }
    // Largest-remainder allocation of n over the classes.
    let mut share: Vec<usize> = members.iter().map(|m| m.len() * n / total).collect();
    let mut rest: Vec<(usize, usize)> = members
        .iter()
        .enumerate()
        .map(|(c, m)| ((m.len() * n) % total, c))
        .collect();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = n - share.iter().sum::<usize>();
    for &(_, c) in &rest {
        if left == 0 {
            break;
        }
        if share[c] < members[c].len() {
            share[c] += 1;
            left -= 1;
        }
    }
    let mut out: Vec<usize> = Vec::with_capacity(n);
    for (c, m) in members.iter().enumerate() {
        let k = share[c];
        out.extend((0..k).map(|j| m[j * m.len() / k]));
    }
    out.sort_unstable();
    out
}

/// The homogeneous genomes `all-lo … all-hi`.
pub fn homogeneous_genomes(range: BitRange) -> Vec<Genome> {
    (range.min..=range.max)
        .map(|b| Genome::new([b; N_GENES], BitRange::FULL).expect("2..=8 is in range"))
        .collect()
}

/// Genes as the GA's integer vector.
pub fn genome_to_genes(g: &Genome) -> Vec<i32> {
    g.bits().iter().map(|&b| b as i32).collect()
}

/// The GA's integer vector as a genome (checked against `range`).
pub fn genes_to_genome(genes: &[i32], range: BitRange) -> Result<Genome> {
    if genes.len() != N_GENES {
        return Err(Error::length("genes", N_GENES, genes.len()));
    }
    let mut bits = [0u8; N_GENES];
    for (i, &v) in genes.iter().enumerate() {
        bits[i] = u8::try_from(v).map_err(|_| {
            Error::Genome(format!(
                "gene {i} is {v}, expected {}..={}",
                range.min, range.max
            ))
        })?;
    }
    Genome::new(bits, range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_subset_is_proportional_and_sorted() {
        let labels: Vec<usize> = (0..100)
            .map(|i| if i < 80 { 0 } else { 1 + i % 2 })
            .collect();
        let s = stratified_subset(&labels, 10);
        assert_eq!(s.len(), 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let count = |c| s.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!(count(0), 8);
        assert_eq!(count(1) + count(2), 2);
        assert_eq!(stratified_subset(&labels, 1000).len(), 100);
        assert_eq!(stratified_subset(&labels, 10), s, "deterministic");
    }

    #[test]
    fn objectives_parse() {
        assert_eq!(
            Objective::parse_list("error,size").unwrap(),
            vec![Objective::Error, Objective::Size]
        );
        assert_eq!(Objective::parse_list("error,size,bitops").unwrap().len(), 3);
        for bad in ["size,error", "error", "error,error,size", "error,speed"] {
            assert!(Objective::parse_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn genes_round_trip() {
        let g: Genome = "64576888548886757".parse().unwrap();
        assert_eq!(
            genes_to_genome(&genome_to_genes(&g), BitRange::FULL).unwrap(),
            g
        );
        assert!(genes_to_genome(&[9; N_GENES], BitRange::FULL).is_err());
        assert!(genes_to_genome(&[-1; N_GENES], BitRange::FULL).is_err());
        assert!(genes_to_genome(&[8; 3], BitRange::FULL).is_err());
    }
}
