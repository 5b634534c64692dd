//! The search loop over a [`QuantProblem`]: one generation per [`Search::step`], serializable
//! between steps (checkpoint / resume give exactly the uninterrupted result), and the
//! `result.json` format shared by the CLI and the browser app (docs/SEARCH.md).
//!
//! No clocks, threads or files here: the caller (CLI, browser worker) times the steps, decides
//! when to checkpoint and where to write.
use super::analysis::{Clustering, GeneSensitivity};
use super::hv::hypervolume;
use super::nsga2::{Nsga2, Nsga2Config};
use super::problem::{
    genes_to_genome, genome_to_genes, homogeneous_genomes, Evaluation, Objective, QuantProblem,
};
use crate::error::{Error, Result};
use crate::genome::{BitRange, Genome, N_GENES};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the checkpoint and `result.json` formats.
pub const RESULT_VERSION: u32 = 1;

/// Largest population and generation count accepted (a guard against typos such as
/// `--pop 480000`; a 2-core machine evaluates a few hundred genomes per second).
pub const MAX_POP: usize = 4096;
pub const MAX_GENS: usize = 10_000;

/// Everything that determines a search's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Task name (`row-mnist`, …, or `custom`).
    pub task: String,
    /// Model label (file name).
    pub model: String,
    /// [`model_digest`] of the float weights and calibration.
    pub model_digest: String,
    /// Split the fitness subset is drawn from, e.g. `validation`.
    pub split: String,
    /// Fitness subset size (stratified).
    pub subset: usize,
    pub pop: usize,
    /// Generations in total, the initial population being the first.
    pub gens: usize,
    pub seed: u64,
    pub objectives: Vec<Objective>,
    pub min_bits: u8,
    pub max_bits: u8,
    /// Probability that a pair of parents is recombined (uniform crossover).
    pub crossover_prob: f64,
    /// Per-gene mutation probability (`None`: 1/17).
    pub mutation_prob: Option<f64>,
    /// Hypervolume reference point, one coordinate per objective.
    pub reference_point: Vec<f64>,
    /// Whether the homogeneous genomes are placed in the first population.
    pub seed_homogeneous: bool,
}

impl SearchConfig {
    /// A configuration with the defaults: error and size, crossover 0.9, mutation 1/17,
    /// reference point 1.1 on every objective (error ≤ 1 and normalized size ≤ 1 for any genome,
    /// so every evaluated point counts), homogeneous genomes seeded.
    pub fn new(
        task: &str,
        model: &str,
        model_digest: &str,
        pop: usize,
        gens: usize,
        seed: u64,
    ) -> Self {
        SearchConfig {
            task: task.to_string(),
            model: model.to_string(),
            model_digest: model_digest.to_string(),
            split: "validation".into(),
            subset: 0,
            pop,
            gens,
            seed,
            objectives: vec![Objective::Error, Objective::Size],
            min_bits: 2,
            max_bits: 8,
            crossover_prob: 0.9,
            mutation_prob: None,
            reference_point: vec![1.1, 1.1],
            seed_homogeneous: true,
        }
    }

    /// Sets the objectives, and the reference point to 1.1 on each of them.
    pub fn with_objectives(mut self, objectives: Vec<Objective>) -> Self {
        self.reference_point = vec![1.1; objectives.len()];
        self.objectives = objectives;
        self
    }

    /// Checks ranges; errors name the field and the accepted range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, detail: String| Err(Error::invalid(what, detail));
        if self.pop < 4 || self.pop > MAX_POP || !self.pop.is_multiple_of(2) {
            return bad(
                "population",
                format!("{} (expected an even number from 4 to {MAX_POP})", self.pop),
            );
        }
        if self.gens == 0 || self.gens > MAX_GENS {
            return bad(
                "generations",
                format!("{} (expected 1 to {MAX_GENS})", self.gens),
            );
        }
        if self.subset == 0 {
            return bad("fitness subset", "0 sequences (expected at least 1)".into());
        }
        Objective::check_list(&self.objectives)?;
        if self.reference_point.len() != self.objectives.len()
            || self
                .reference_point
                .iter()
                .any(|r| !r.is_finite() || *r <= 0.0)
        {
            return bad(
                "reference point",
                format!(
                    "{:?} (expected {} positive finite coordinates, one per objective)",
                    self.reference_point,
                    self.objectives.len()
                ),
            );
        }
        BitRange::new(self.min_bits, self.max_bits)?;
        if !(0.0..=1.0).contains(&self.crossover_prob) {
            return bad(
                "crossover probability",
                format!("{} (expected 0..=1)", self.crossover_prob),
            );
        }
        if let Some(m) = self.mutation_prob {
            if !(m > 0.0 && m <= 1.0) {
                return bad("mutation probability", format!("{m} (expected (0, 1])"));
            }
        }
        Ok(())
    }

    /// The first field in which `other` differs, as `(name, self's value, other's value)`;
    /// `gens` may grow (a resumed search can run longer) and is not compared.
    pub fn difference(&self, other: &SearchConfig) -> Option<(&'static str, String, String)> {
        macro_rules! cmp {
            ($($f:ident),*) => {$(
                if self.$f != other.$f {
                    return Some((stringify!($f), format!("{:?}", self.$f), format!("{:?}", other.$f)));
                }
            )*};
        }
        cmp!(
            task,
            model_digest,
            split,
            subset,
            pop,
            seed,
            objectives,
            min_bits,
            max_bits,
            crossover_prob,
            mutation_prob,
            reference_point,
            seed_homogeneous
        );
        None
    }

    fn bit_range(&self) -> BitRange {
        BitRange::new(self.min_bits, self.max_bits).expect("validated")
    }
}

/// One evaluated genome as stored in checkpoints and results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub genome: Genome,
    pub accuracy: f64,
    /// Agreement of the integer model's predictions with the float model's.
    pub agreement: f64,
    pub size_normalized: f64,
    pub size_bytes: u64,
    pub bitops_normalized: f64,
    /// Objective vector in the configuration's order (minimized).
    pub objectives: Vec<f64>,
}

impl From<&Evaluation> for Point {
    fn from(e: &Evaluation) -> Point {
        Point {
            genome: e.genome,
            accuracy: e.accuracy,
            agreement: e.agreement,
            size_normalized: e.size.normalized,
            size_bytes: e.size.bytes,
            bitops_normalized: e.bitops_normalized,
            objectives: e.objectives.clone(),
        }
    }
}

/// One generation: the surviving population, its non-dominated front and hypervolume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    /// 0 for the initial population.
    pub generation: usize,
    pub population: Vec<Point>,
    /// Genomes of the population's non-dominated front, by ascending size.
    pub front: Vec<Genome>,
    /// Hypervolume of the front against the configuration's reference point.
    pub hypervolume: f64,
    /// Genomes evaluated for the first time in this generation.
    pub new_evaluations: usize,
    /// Candidates answered from the cache.
    pub cache_hits: usize,
    /// Wall time of the generation, set by the caller ([`Search::set_seconds`]); 0 if unknown.
    pub seconds: f64,
}

/// A running search: GA state, every evaluation so far, one record per generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Search {
    pub version: u32,
    pub config: SearchConfig,
    ga: Nsga2,
    /// Every evaluated genome (the fitness cache), in genome order.
    evaluated: BTreeMap<Genome, Point>,
    /// Evaluation order: `(generation, genome)`, for the CSV of every evaluation.
    order: Vec<(usize, Genome)>,
    homogeneous: Vec<Point>,
    generations: Vec<GenerationRecord>,
    /// A generation asked of the GA and not yet told ([`Search::step_partial`]); never
    /// serialized: a checkpoint is taken between generations only.
    #[serde(skip)]
    pending: Option<Pending>,
}

/// A generation in progress: the genomes asked, the new ones among them, how many of those are
/// evaluated.
#[derive(Debug, Clone)]
struct Pending {
    genomes: Vec<Genome>,
    todo: Vec<Genome>,
    done: usize,
}

/// Where [`Search::step_partial`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepProgress {
    /// The generation is not complete: `done` of its `total` new evaluations are made.
    Partial { done: usize, total: usize },
    /// The generation is complete and recorded ([`Search::generations`]).
    Complete,
}

impl Search {
    /// Starts a search: validates the configuration against the problem and evaluates the
    /// homogeneous baselines.
    pub fn new(config: SearchConfig, problem: &QuantProblem) -> Result<Search> {
        config.validate()?;
        if config.objectives != problem.objectives() {
            return Err(Error::invalid(
                "objectives",
                format!(
                    "the configuration has {:?} but the problem {:?}",
                    config.objectives,
                    problem.objectives()
                ),
            ));
        }
        if config.subset != problem.len() {
            return Err(Error::length(
                "fitness subset",
                config.subset,
                problem.len(),
            ));
        }
        let range = config.bit_range();
        let homogeneous_g = homogeneous_genomes(range);
        let mut ga_config = Nsga2Config::new(
            config.pop,
            vec![config.min_bits as i32; N_GENES],
            vec![config.max_bits as i32; N_GENES],
            config.objectives.len(),
            config.seed,
        );
        ga_config.crossover_prob = config.crossover_prob;
        ga_config.mutation_prob = config.mutation_prob;
        if config.seed_homogeneous {
            ga_config.initial = homogeneous_g
                .iter()
                .take(config.pop)
                .map(genome_to_genes)
                .collect();
        }
        let ga = Nsga2::new(ga_config)?;
        let mut s = Search {
            version: RESULT_VERSION,
            config,
            ga,
            evaluated: BTreeMap::new(),
            order: Vec::new(),
            homogeneous: Vec::new(),
            generations: Vec::new(),
            pending: None,
        };
        s.evaluate(problem, &homogeneous_g, 0)?;
        s.homogeneous = homogeneous_g
            .iter()
            .map(|g| s.evaluated[g].clone())
            .collect();
        Ok(s)
    }

    /// Evaluates the genomes not seen yet; returns how many were new.
    fn evaluate(
        &mut self,
        problem: &QuantProblem,
        genomes: &[Genome],
        generation: usize,
    ) -> Result<usize> {
        let mut todo: Vec<Genome> = Vec::new();
        for g in genomes {
            if !self.evaluated.contains_key(g) && !todo.contains(g) {
                todo.push(*g);
            }
        }
        for e in problem.evaluate_many(&todo)? {
            self.order.push((generation, e.genome));
            self.evaluated.insert(e.genome, Point::from(&e));
        }
        Ok(todo.len())
    }

    /// Runs one generation (the initial population first). Errors if the search is done.
    pub fn step(&mut self, problem: &QuantProblem) -> Result<&GenerationRecord> {
        while self.step_partial(problem, usize::MAX)? != StepProgress::Complete {}
        Ok(self.generations.last().expect("just completed"))
    }

    /// Advances the current generation by at most `max_new` new evaluations (at least one),
    /// asking the GA for the generation first if none is in progress, and telling it the
    /// objectives once every genome is evaluated. Any sequence of calls gives the same search as
    /// [`Search::step`]: each genome's evaluation is independent of the others and they are
    /// recorded in the same order. Lets a caller report progress inside a long generation and
    /// stay responsive between chunks. Errors if the search is done.
    pub fn step_partial(&mut self, problem: &QuantProblem, max_new: usize) -> Result<StepProgress> {
        if self.pending.is_none() {
            if self.is_done() {
                return Err(Error::invalid(
                    "search",
                    format!("all {} generations are done", self.config.gens),
                ));
            }
            let range = self.config.bit_range();
            let genomes = self
                .ga
                .ask()
                .iter()
                .map(|g| genes_to_genome(g, range))
                .collect::<Result<Vec<_>>>()?;
            let mut todo: Vec<Genome> = Vec::new();
            for g in &genomes {
                if !self.evaluated.contains_key(g) && !todo.contains(g) {
                    todo.push(*g);
                }
            }
            self.pending = Some(Pending {
                genomes,
                todo,
                done: 0,
            });
        }
        let generation = self.generations.len();
        let p = self.pending.as_mut().expect("set above");
        let end = p.todo.len().min(p.done.saturating_add(max_new.max(1)));
        let chunk = p.todo[p.done..end].to_vec();
        p.done = end;
        let (done, total) = (p.done, p.todo.len());
        self.evaluate(problem, &chunk, generation)?;
        if done < total {
            return Ok(StepProgress::Partial { done, total });
        }
        let p = self.pending.take().expect("in progress");
        let range = self.config.bit_range();
        let objectives: Vec<Vec<f64>> = p
            .genomes
            .iter()
            .map(|g| self.evaluated[g].objectives.clone())
            .collect();
        self.ga.tell(objectives)?;
        let population: Vec<Point> = self
            .ga
            .population()
            .iter()
            .map(|ind| {
                let g = genes_to_genome(&ind.genes, range)?;
                Ok(self.evaluated[&g].clone())
            })
            .collect::<Result<_>>()?;
        let front_points = pareto_front(&population);
        let hv = self.hypervolume_of(&front_points);
        self.generations.push(GenerationRecord {
            generation,
            front: front_points.iter().map(|p| p.genome).collect(),
            population,
            hypervolume: hv,
            new_evaluations: total,
            cache_hits: p.genomes.len() - total,
            seconds: 0.0,
        });
        Ok(StepProgress::Complete)
    }

    /// `(done, total)` new evaluations of the generation in progress, if one is.
    pub fn pending_progress(&self) -> Option<(usize, usize)> {
        self.pending.as_ref().map(|p| (p.done, p.todo.len()))
    }

    /// Records the wall time of the last generation.
    pub fn set_seconds(&mut self, seconds: f64) {
        if let Some(r) = self.generations.last_mut() {
            r.seconds = seconds;
        }
    }

    /// Whether all configured generations ran.
    pub fn is_done(&self) -> bool {
        self.generations.len() >= self.config.gens
    }

    /// Lets a resumed search run longer (`gens` may only grow).
    pub fn extend_generations(&mut self, gens: usize) -> Result<()> {
        if gens < self.generations.len() || gens > MAX_GENS {
            return Err(Error::invalid(
                "generations",
                format!(
                    "{gens}: the checkpoint already ran {} generations (and at most {MAX_GENS} are allowed)",
                    self.generations.len()
                ),
            ));
        }
        self.config.gens = gens;
        Ok(())
    }

    pub fn generations(&self) -> &[GenerationRecord] {
        &self.generations
    }

    pub fn homogeneous(&self) -> &[Point] {
        &self.homogeneous
    }

    /// Every evaluation in the order it was made, with its generation.
    pub fn evaluations(&self) -> impl Iterator<Item = (usize, &Point)> {
        self.order
            .iter()
            .map(|(g, genome)| (*g, &self.evaluated[genome]))
    }

    /// Number of distinct genomes evaluated (homogeneous baselines included).
    pub fn n_evaluated(&self) -> usize {
        self.evaluated.len()
    }

    /// The evaluated point of a genome, if any.
    pub fn point(&self, g: &Genome) -> Option<&Point> {
        self.evaluated.get(g)
    }

    /// The current non-dominated front of the population (empty before the first step).
    pub fn front(&self) -> Vec<Point> {
        self.generations.last().map_or_else(Vec::new, |r| {
            r.front.iter().map(|g| self.evaluated[g].clone()).collect()
        })
    }

    /// Hypervolume of a set of points against the configuration's reference point.
    pub fn hypervolume_of(&self, points: &[Point]) -> f64 {
        let objs: Vec<Vec<f64>> = points.iter().map(|p| p.objectives.clone()).collect();
        hypervolume(&objs, &self.config.reference_point)
    }

    /// `(mixed front, homogeneous genomes)` hypervolumes.
    pub fn hypervolumes(&self) -> (f64, f64) {
        (
            self.hypervolume_of(&self.front()),
            self.hypervolume_of(&pareto_front(&self.homogeneous)),
        )
    }

    /// Serializes the whole state (JSON). Errors while a generation is in progress
    /// ([`Search::step_partial`]): checkpoints are taken between generations.
    pub fn to_json(&self) -> Result<String> {
        if let Some((done, total)) = self.pending_progress() {
            return Err(Error::invalid(
                "search checkpoint",
                format!("a generation is in progress ({done} of {total} evaluations)"),
            ));
        }
        serde_json::to_string(self).map_err(|e| Error::invalid("search checkpoint", e.to_string()))
    }

    /// Restores a checkpoint and checks it for consistency; a truncated or hand-edited file
    /// gives an error naming what is wrong.
    pub fn from_json(s: &str) -> Result<Search> {
        let s: Search = parse_versioned(s, "search checkpoint")?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<()> {
        let bad = |d: String| Err(Error::format("search checkpoint", d));
        self.config.validate()?;
        if self.ga.config().pop_size != self.config.pop
            || self.ga.config().seed != self.config.seed
            || self.ga.config().n_objectives != self.config.objectives.len()
        {
            return bad("the GA state does not match the configuration".into());
        }
        if self.ga.generation() != self.generations.len() {
            return bad(format!(
                "the GA ran {} generations but {} are recorded",
                self.ga.generation(),
                self.generations.len()
            ));
        }
        if self.generations.len() > self.config.gens {
            return bad(format!(
                "{} generations recorded, more than the configured {}",
                self.generations.len(),
                self.config.gens
            ));
        }
        let n_obj = self.config.objectives.len();
        for p in self.evaluated.values() {
            if p.objectives.len() != n_obj || p.objectives.iter().any(|o| !o.is_finite()) {
                return bad(format!(
                    "genome {}: bad objectives {:?}",
                    p.genome, p.objectives
                ));
            }
        }
        for (k, (_, g)) in self.order.iter().enumerate() {
            if !self.evaluated.contains_key(g) {
                return bad(format!("evaluation {k} ({g}) has no recorded result"));
            }
        }
        if self.order.len() != self.evaluated.len() {
            return bad(format!(
                "{} evaluations in order but {} results",
                self.order.len(),
                self.evaluated.len()
            ));
        }
        for (k, r) in self.generations.iter().enumerate() {
            if r.generation != k || r.population.len() != self.config.pop {
                return bad(format!("generation record {k} is inconsistent"));
            }
            if let Some(g) = r.front.iter().find(|g| !self.evaluated.contains_key(g)) {
                return bad(format!(
                    "generation {k}: front genome {g} was never evaluated"
                ));
            }
        }
        let expected = homogeneous_genomes(self.config.bit_range());
        if self
            .homogeneous
            .iter()
            .map(|p| p.genome)
            .ne(expected.iter().copied())
        {
            return bad("the homogeneous baselines are missing or out of order".into());
        }
        Ok(())
    }

    /// The search's result (the parts the search itself knows; the caller adds re-scoring,
    /// analysis, QAT and timings).
    pub fn result(&self) -> SearchResult {
        let (mixed, homogeneous) = self.hypervolumes();
        let front = self.front();
        let acc8 = self
            .homogeneous
            .iter()
            .find(|p| p.genome.bits().iter().all(|&b| b == self.config.max_bits))
            .map(|p| p.accuracy);
        let best_within_1pp = acc8.and_then(|a| {
            best_within(
                front
                    .iter()
                    .map(|p| (p.genome, p.accuracy, p.size_normalized)),
                a,
                0.01,
            )
        });
        SearchResult {
            version: RESULT_VERSION,
            config: self.config.clone(),
            generations: self.generations.clone(),
            front,
            homogeneous: self.homogeneous.clone(),
            hypervolume: Hypervolumes {
                mixed,
                homogeneous,
                reference_point: self.config.reference_point.clone(),
            },
            best_within_1pp,
            fitness: FitnessInfo::default(),
            rescored: Vec::new(),
            sensitivity: Vec::new(),
            clusters: None,
            qat: None,
            timings: Timings::default(),
        }
    }
}

/// Non-dominated points of a set (by their objectives), duplicates removed, by ascending size
/// (the second objective) and then error.
pub fn pareto_front(points: &[Point]) -> Vec<Point> {
    let objs: Vec<Vec<f64>> = points.iter().map(|p| p.objectives.clone()).collect();
    let fronts = super::nsga2::fast_non_dominated_sort(&objs);
    let mut out: Vec<Point> = Vec::new();
    if let Some(f0) = fronts.first() {
        for &i in f0 {
            if !out.iter().any(|p| p.genome == points[i].genome) {
                out.push(points[i].clone());
            }
        }
    }
    out.sort_by(|a, b| {
        a.size_normalized
            .total_cmp(&b.size_normalized)
            .then(b.accuracy.total_cmp(&a.accuracy))
            .then(a.genome.cmp(&b.genome))
    });
    out
}

/// The smallest genome whose accuracy is at least `reference − tolerance`, with its size
/// reduction against the all-8 model (`1 − size_normalized`).
pub fn best_within(
    points: impl Iterator<Item = (Genome, f64, f64)>,
    reference_accuracy: f64,
    tolerance: f64,
) -> Option<BestWithin> {
    points
        .filter(|(_, acc, _)| *acc >= reference_accuracy - tolerance - 1e-12)
        .min_by(|a, b| a.2.total_cmp(&b.2).then(b.1.total_cmp(&a.1)))
        .map(|(genome, accuracy, size_normalized)| BestWithin {
            genome,
            accuracy,
            size_normalized,
            size_reduction: 1.0 - size_normalized,
            reference_accuracy,
        })
}

/// Hypervolumes of the mixed and homogeneous fronts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypervolumes {
    pub mixed: f64,
    pub homogeneous: f64,
    pub reference_point: Vec<f64>,
}

/// The smallest genome within a tolerance of the all-8 accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestWithin {
    pub genome: Genome,
    pub accuracy: f64,
    pub size_normalized: f64,
    /// `1 − size_normalized`.
    pub size_reduction: f64,
    /// The all-8 accuracy it is compared with.
    pub reference_accuracy: f64,
}

/// What the fitness set was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitnessInfo {
    /// Size of the split the subset was drawn from.
    pub split_size: usize,
    pub subset: usize,
    pub float_accuracy: f64,
}

/// The front (and the homogeneous genomes) re-scored on a whole split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rescore {
    /// e.g. `validation` (the whole split the subset came from) or `test`.
    pub split: String,
    pub n: usize,
    pub float_accuracy: f64,
    pub front: Vec<Scored>,
    pub homogeneous: Vec<Scored>,
    /// Smallest front genome within 1 pp of the all-8 accuracy on this split.
    pub best_within_1pp: Option<BestWithin>,
}

/// A genome's accuracy on a re-scoring split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub genome: Genome,
    pub accuracy: f64,
    pub agreement: f64,
    pub size_normalized: f64,
}

/// QAT refinement of the final front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QatRefinement {
    /// Budget: epochs, training samples, learning rate, seed.
    pub epochs: usize,
    pub train_samples: usize,
    pub lr: f64,
    pub seed: u64,
    /// Split the accuracies below are measured on.
    pub split: String,
    pub front: Vec<QatPoint>,
    pub best_within_1pp: Option<BestWithin>,
    pub hypervolume: f64,
    pub seconds: f64,
}

/// One genome before and after QAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QatPoint {
    pub genome: Genome,
    pub size_normalized: f64,
    pub ptq_accuracy: f64,
    /// After QAT, never below `ptq_accuracy` (the PTQ model is kept when QAT does not help).
    pub qat_accuracy: f64,
    /// Why QAT failed for this genome (e.g. a non-finite gradient), when it did: the point then
    /// keeps its PTQ accuracy and the other genomes are still refined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qat_error: Option<String>,
}

/// Wall-clock figures of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub search_seconds: f64,
    pub total_seconds: f64,
    pub evaluations: usize,
    pub evaluations_per_second: f64,
    pub threads: usize,
}

/// `result.json`: the whole outcome of a search (docs/SEARCH.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub version: u32,
    pub config: SearchConfig,
    pub generations: Vec<GenerationRecord>,
    /// The final mixed-precision front (fitness subset), by ascending size.
    pub front: Vec<Point>,
    /// The homogeneous genomes all-min … all-max on the fitness subset.
    pub homogeneous: Vec<Point>,
    pub hypervolume: Hypervolumes,
    /// On the fitness subset.
    pub best_within_1pp: Option<BestWithin>,
    pub fitness: FitnessInfo,
    /// Re-scoring on whole splits (the search split, and MNIST's test set).
    pub rescored: Vec<Rescore>,
    pub sensitivity: Vec<GeneSensitivity>,
    pub clusters: Option<Clustering>,
    pub qat: Option<QatRefinement>,
    pub timings: Timings,
}

impl SearchResult {
    /// Reads and checks a `result.json`.
    pub fn from_json(s: &str) -> Result<SearchResult> {
        let r: SearchResult = parse_versioned(s, "search result")?;
        r.config.validate()?;
        let n_obj = r.config.objectives.len();
        for p in r
            .front
            .iter()
            .chain(&r.homogeneous)
            .chain(r.generations.iter().flat_map(|g| &g.population))
        {
            if p.objectives.len() != n_obj || p.objectives.iter().any(|o| !o.is_finite()) {
                return Err(Error::format(
                    "search result",
                    format!(
                        "genome {}: {} objectives {:?}, expected {n_obj} finite values",
                        p.genome,
                        p.objectives.len(),
                        p.objectives
                    ),
                ));
            }
        }
        Ok(r)
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::invalid("search result", e.to_string()))
    }
}

/// Parses a versioned JSON document (checkpoint or result): JSON errors say the file may be
/// truncated, and any version but [`RESULT_VERSION`] is refused before the fields are read.
fn parse_versioned<T: serde::de::DeserializeOwned>(s: &str, what: &'static str) -> Result<T> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| {
        Error::format(
            what,
            format!("not valid JSON ({e}); the file may be truncated"),
        )
    })?;
    match v.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == RESULT_VERSION as u64 => {}
        Some(v) => {
            return Err(Error::format(
                what,
                format!("version {v}, this bitgru reads version {RESULT_VERSION}"),
            ))
        }
        None => return Err(Error::format(what, "no version field")),
    }
    serde_json::from_value(v).map_err(|e| Error::format(what, e.to_string()))
}

/// A stable digest of a float model and its calibration (FNV-1a 64 over the weights' bits and
/// the calibration's JSON): ties checkpoints and results to the model they were made with.
pub fn model_digest(
    model: &crate::model::FloatGru,
    calibration: &crate::calibrate::Calibration,
) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for t in [
        &model.w_ih,
        &model.w_hh,
        &model.b_ih,
        &model.b_hh,
        &model.w_fc,
        &model.b_fc,
    ] {
        eat(&(t.len() as u64).to_le_bytes());
        for v in t.iter() {
            eat(&v.to_bits().to_le_bytes());
        }
    }
    eat(serde_json::to_string(calibration)
        .unwrap_or_default()
        .as_bytes());
    format!("fnv1a64:{h:016x}")
}
