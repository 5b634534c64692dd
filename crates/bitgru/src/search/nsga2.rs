//! NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) over bounded integer genes, as an ask/tell
//! state machine: the caller evaluates (in parallel, cached, in a worker…), the state only
//! breeds and selects. All objectives are minimized.
//!
//! # One generation
//! - [`Nsga2::ask`] returns the candidates to evaluate: first the initial population
//!   ([`Nsga2Config::initial`] then uniformly random genomes), then `pop_size` offspring per
//!   generation;
//! - [`Nsga2::tell`] takes their objectives and keeps `pop_size` survivors of parents ∪
//!   offspring (elitist μ+λ) by non-dominated rank, then crowding distance.
//!
//! # Operators
//! - **Selection**: binary tournament. Two distinct survivors are drawn uniformly; the lower
//!   rank wins, on equal ranks the larger crowding distance wins, on equal crowding a fair coin
//!   decides.
//! - **Crossover**: parents are taken in pairs; with probability
//!   [`Nsga2Config::crossover_prob`] (default [`DEFAULT_CROSSOVER_PROB`]) the pair is recombined
//!   by uniform crossover (each gene swapped between the two children with probability ½),
//!   otherwise the children are copies of the parents.
//! - **Mutation**: each gene with `lower < upper` mutates with probability
//!   [`Nsga2Config::mutation_prob`] (default `1 / n_genes`). A mutation always changes the
//!   value: with probability [`RESET_SHARE`] (½) it is a *reset* to a value drawn uniformly among
//!   the other values of the range; otherwise a *creep* of `±d` (sign ½/½) with a log-uniform
//!   magnitude `d = ⌊span^u⌋`, `u ~ U[0, 1)`, `span = upper − lower` (so `d = 1` with
//!   probability `ln 2 / ln span`; every order of magnitude of the range is equally likely). A
//!   creep past a bound stops at the bound; a creep out of a bound the gene sits on goes the
//!   other way.
//! - **Duplicate elimination** (as pymoo's `eliminate_duplicates`): an offspring equal to a
//!   current survivor or to an earlier offspring of the same batch has one uniformly chosen
//!   non-fixed gene mutated again, up to [`DUPLICATE_RETRIES`] times; if it is still a duplicate
//!   (a gene space smaller than the population) it is kept. Random members of the initial
//!   population are redrawn whole, up to [`DUPLICATE_RETRIES`] times, while they duplicate an
//!   earlier member; [`Nsga2Config::initial`] is kept as given.
//!
//! # Survival and tie-breaking
//! Parents ∪ offspring (parents first, in survivor order, then offspring in ask order) are sorted
//! into fronts ([`fast_non_dominated_sort`]); whole fronts are kept while they fit; the front
//! that does not fit is cut by crowding distance ([`crowding_distance`] within that front),
//! largest first, ties going to the earlier index (so a parent beats an equal offspring). The
//! survivors' `rank` is their front and `crowding` the distance within their front of
//! parents ∪ offspring (the value survival and the next tournaments use, as in pymoo).
//!
//! # Determinism
//! All randomness comes from one [`ChaCha8Rng`] seeded with [`Nsga2Config::seed`] and stored in
//! the state; integer draws use 32-bit ranges, never `usize`, so a seed gives the same run on
//! 64-bit native targets and on wasm32. [`Nsga2::to_json`] after any [`Nsga2::ask`] or
//! [`Nsga2::tell`], then [`Nsga2::from_json`] and continuing, gives exactly the run that was
//! never interrupted.
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

/// Default probability that a pair of parents is recombined.
pub const DEFAULT_CROSSOVER_PROB: f64 = 0.9;
/// Share of gene mutations that reset the gene uniformly (the rest are log-uniform creeps).
pub const RESET_SHARE: f64 = 0.5;
/// How many times a duplicate offspring is re-mutated before it is accepted as it is.
pub const DUPLICATE_RETRIES: usize = 32;

/// Settings of an NSGA-II run. All fields are public; [`Nsga2Config::validate`] (called by
/// [`Nsga2::new`] and [`Nsga2::from_json`]) checks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nsga2Config {
    /// Population size: the number of survivors and of offspring per generation (≥ 4, even).
    pub pop_size: usize,
    /// Inclusive lower bound of each gene (same length as `upper`, at least one gene).
    pub lower: Vec<i32>,
    /// Inclusive upper bound of each gene (`lower[i] <= upper[i]`; equal bounds fix the gene).
    pub upper: Vec<i32>,
    /// Number of objectives (≥ 1), all minimized.
    pub n_objectives: usize,
    /// Probability that a pair of parents is recombined by uniform crossover (swap probability
    /// ½ per gene); in `[0, 1]`, default [`DEFAULT_CROSSOVER_PROB`] (also when absent from
    /// JSON).
    #[serde(default = "default_crossover_prob")]
    pub crossover_prob: f64,
    /// Per-gene mutation probability in `[0, 1]`; `None` (or absent from JSON) means
    /// `1 / n_genes`.
    #[serde(default)]
    pub mutation_prob: Option<f64>,
    /// Seed of the run's only random number generator.
    pub seed: u64,
    /// Genomes placed first in the initial population (at most `pop_size`, e.g. homogeneous
    /// genomes); the rest is drawn uniformly within the bounds.
    #[serde(default)]
    pub initial: Vec<Vec<i32>>,
}

fn default_crossover_prob() -> f64 {
    DEFAULT_CROSSOVER_PROB
}

impl Nsga2Config {
    /// A configuration with the defaults: crossover probability [`DEFAULT_CROSSOVER_PROB`],
    /// mutation probability `1 / n_genes`, no initial genomes. Not validated here.
    pub fn new(
        pop_size: usize,
        lower: Vec<i32>,
        upper: Vec<i32>,
        n_objectives: usize,
        seed: u64,
    ) -> Self {
        Nsga2Config {
            pop_size,
            lower,
            upper,
            n_objectives,
            crossover_prob: DEFAULT_CROSSOVER_PROB,
            mutation_prob: None,
            seed,
            initial: Vec::new(),
        }
    }

    /// Number of genes.
    pub fn n_genes(&self) -> usize {
        self.lower.len()
    }

    /// The per-gene mutation probability in effect (`mutation_prob` or `1 / n_genes`).
    pub fn effective_mutation_prob(&self) -> f64 {
        self.mutation_prob
            .unwrap_or(1.0 / self.n_genes().max(1) as f64)
    }

    /// Checks every field; the error names the field and the offending value.
    pub fn validate(&self) -> Result<()> {
        if self.pop_size < 4 || !self.pop_size.is_multiple_of(2) {
            return Err(Error::invalid(
                "nsga2 pop_size",
                format!("{} (must be even and at least 4)", self.pop_size),
            ));
        }
        if self.lower.len() != self.upper.len() {
            return Err(Error::length(
                "nsga2 upper bounds (one per lower bound)",
                self.lower.len(),
                self.upper.len(),
            ));
        }
        if self.lower.is_empty() {
            return Err(Error::invalid(
                "nsga2 bounds",
                "at least one gene is needed",
            ));
        }
        for (i, (lo, hi)) in self.lower.iter().zip(&self.upper).enumerate() {
            if lo > hi {
                return Err(Error::invalid(
                    format!("nsga2 bounds of gene {i}"),
                    format!("lower {lo} > upper {hi}"),
                ));
            }
        }
        if self.n_objectives == 0 {
            return Err(Error::invalid(
                "nsga2 n_objectives",
                "at least one objective is needed",
            ));
        }
        if !(0.0..=1.0).contains(&self.crossover_prob) {
            return Err(Error::invalid(
                "nsga2 crossover_prob",
                format!("{} (must be in [0, 1])", self.crossover_prob),
            ));
        }
        if let Some(p) = self.mutation_prob {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(
                    "nsga2 mutation_prob",
                    format!("{p} (must be in [0, 1])"),
                ));
            }
        }
        if self.initial.len() > self.pop_size {
            return Err(Error::invalid(
                "nsga2 initial",
                format!(
                    "{} genomes for a population of {}",
                    self.initial.len(),
                    self.pop_size
                ),
            ));
        }
        for (j, genes) in self.initial.iter().enumerate() {
            self.check_genes(&format!("nsga2 initial[{j}]"), genes)?;
        }
        Ok(())
    }

    /// Checks a genome's length and bounds.
    fn check_genes(&self, what: &str, genes: &[i32]) -> Result<()> {
        if genes.len() != self.n_genes() {
            return Err(Error::length(what, self.n_genes(), genes.len()));
        }
        for (i, ((&g, lo), hi)) in genes.iter().zip(&self.lower).zip(&self.upper).enumerate() {
            if g < *lo || g > *hi {
                return Err(Error::invalid(
                    format!("{what} gene {i}"),
                    format!("{g} is outside {lo}..={hi}"),
                ));
            }
        }
        Ok(())
    }
}

/// An evaluated member of the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Individual {
    /// The genome.
    pub genes: Vec<i32>,
    /// Its objectives (minimized); `±inf` allowed, never NaN. Non-finite values are written as
    /// the strings `"inf"` / `"-inf"` in JSON.
    #[serde(with = "ext_f64::vec")]
    pub objectives: Vec<f64>,
    /// Non-dominated rank: 0 for the first front.
    pub rank: usize,
    /// Crowding distance within its front at the last survival (`inf` at the boundaries,
    /// written `"inf"` in JSON).
    #[serde(with = "ext_f64")]
    pub crowding: f64,
}

/// The complete state of an NSGA-II run: configuration, random number generator, survivors,
/// pending (asked, not yet told) candidates and the generation counter. Serializable
/// ([`Nsga2::to_json`]) and validated when deserialized ([`Nsga2::from_json`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "Nsga2State")]
pub struct Nsga2 {
    config: Nsga2Config,
    rng: ChaCha8Rng,
    generation: usize,
    population: Vec<Individual>,
    pending: Option<Vec<Vec<i32>>>,
}

/// The unvalidated serialized form of [`Nsga2`].
#[derive(Deserialize)]
struct Nsga2State {
    config: Nsga2Config,
    rng: ChaCha8Rng,
    generation: usize,
    population: Vec<Individual>,
    pending: Option<Vec<Vec<i32>>>,
}

impl TryFrom<Nsga2State> for Nsga2 {
    type Error = Error;

    fn try_from(s: Nsga2State) -> Result<Self> {
        let c = &s.config;
        c.validate()?;
        let expected = if s.generation == 0 { 0 } else { c.pop_size };
        if s.population.len() != expected {
            return Err(Error::length(
                format!("nsga2 state population at generation {}", s.generation),
                expected,
                s.population.len(),
            ));
        }
        for (j, ind) in s.population.iter().enumerate() {
            c.check_genes(&format!("nsga2 state population[{j}]"), &ind.genes)?;
            check_objectives(
                &format!("nsga2 state population[{j}] objectives"),
                &ind.objectives,
                c.n_objectives,
            )?;
            if ind.crowding.is_nan() || ind.crowding < 0.0 {
                return Err(Error::invalid(
                    format!("nsga2 state population[{j}] crowding"),
                    format!("{} (must be >= 0)", ind.crowding),
                ));
            }
        }
        let objs: Vec<Vec<f64>> = s.population.iter().map(|i| i.objectives.clone()).collect();
        for (rank, front) in fast_non_dominated_sort(&objs).iter().enumerate() {
            for &j in front {
                if s.population[j].rank != rank {
                    return Err(Error::invalid(
                        format!("nsga2 state population[{j}] rank"),
                        format!(
                            "stored {}, the objectives give {rank}",
                            s.population[j].rank
                        ),
                    ));
                }
            }
        }
        if let Some(batch) = &s.pending {
            if batch.len() != c.pop_size {
                return Err(Error::length(
                    "nsga2 state pending candidates",
                    c.pop_size,
                    batch.len(),
                ));
            }
            for (j, genes) in batch.iter().enumerate() {
                c.check_genes(&format!("nsga2 state pending[{j}]"), genes)?;
            }
        }
        Ok(Nsga2 {
            config: s.config,
            rng: s.rng,
            generation: s.generation,
            population: s.population,
            pending: s.pending,
        })
    }
}

/// Checks an objective vector's length and that it holds no NaN.
fn check_objectives(what: &str, objectives: &[f64], n_objectives: usize) -> Result<()> {
    if objectives.len() != n_objectives {
        return Err(Error::length(what, n_objectives, objectives.len()));
    }
    match objectives.iter().position(|x| x.is_nan()) {
        Some(index) => Err(Error::NonFinite {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

impl Nsga2 {
    /// A new run (generation 0, nothing asked yet). Validates the configuration.
    pub fn new(config: Nsga2Config) -> Result<Self> {
        config.validate()?;
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Ok(Nsga2 {
            config,
            rng,
            generation: 0,
            population: Vec::new(),
            pending: None,
        })
    }

    /// Candidates to evaluate now: the initial population (generation 0:
    /// [`Nsga2Config::initial`], then uniformly random genomes without duplicates), then
    /// `pop_size` offspring (binary tournament on (rank, crowding), crossover, mutation,
    /// duplicate elimination; see the module documentation). Calling `ask` twice without
    /// [`Nsga2::tell`] returns the same pending batch.
    pub fn ask(&mut self) -> Vec<Vec<i32>> {
        if let Some(batch) = &self.pending {
            return batch.clone();
        }
        let batch = if self.population.is_empty() {
            self.initial_population()
        } else {
            self.offspring()
        };
        self.pending = Some(batch.clone());
        batch
    }

    /// Objectives of the asked candidates, in ask order. Elitist (μ+λ) survival by rank then
    /// crowding distance; increments [`Nsga2::generation`].
    ///
    /// `±inf` objectives are accepted (e.g. for a failed evaluation), NaN is not.
    ///
    /// # Errors
    /// [`Error::Missing`] if nothing is pending (call [`Nsga2::ask`] first), [`Error::Length`]
    /// for a wrong number of objective vectors or of objectives in one, [`Error::NonFinite`] for
    /// a NaN. The state is unchanged on error (the batch stays pending).
    pub fn tell(&mut self, objectives: Vec<Vec<f64>>) -> Result<()> {
        let Some(batch) = &self.pending else {
            return Err(Error::Missing(
                "asked candidates for nsga2 tell (call ask first)".into(),
            ));
        };
        if objectives.len() != batch.len() {
            return Err(Error::length(
                "nsga2 tell: objective vectors (one per asked candidate)",
                batch.len(),
                objectives.len(),
            ));
        }
        for (j, o) in objectives.iter().enumerate() {
            check_objectives(
                &format!("nsga2 tell: objectives of candidate {j}"),
                o,
                self.config.n_objectives,
            )?;
        }
        let batch = self.pending.take().unwrap_or_default();
        let mut merged = std::mem::take(&mut self.population);
        merged.extend(
            batch
                .into_iter()
                .zip(objectives)
                .map(|(genes, objectives)| Individual {
                    genes,
                    objectives,
                    rank: 0,
                    crowding: 0.0,
                }),
        );
        self.population = survive(merged, self.config.pop_size);
        self.generation += 1;
        Ok(())
    }

    /// Number of completed [`Nsga2::tell`]s (0 before the first).
    pub fn generation(&self) -> usize {
        self.generation
    }

    /// The current survivors with their rank and crowding distance (empty before the first
    /// tell), in survival order: front by front, the cut front by decreasing crowding.
    pub fn population(&self) -> &[Individual] {
        &self.population
    }

    /// The rank-0 survivors, duplicates (same genes) removed, sorted by objective 0, then 1, …,
    /// then genes (lexicographically).
    pub fn front(&self) -> Vec<Individual> {
        let mut seen = HashSet::new();
        let mut front: Vec<Individual> = self
            .population
            .iter()
            .filter(|i| i.rank == 0 && seen.insert(i.genes.clone()))
            .cloned()
            .collect();
        front.sort_by(|a, b| {
            a.objectives
                .iter()
                .zip(&b.objectives)
                .map(|(x, y)| total_key(*x).total_cmp(&total_key(*y)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.genes.cmp(&b.genes))
        });
        front
    }

    /// The configuration.
    pub fn config(&self) -> &Nsga2Config {
        &self.config
    }

    /// The asked candidates awaiting [`Nsga2::tell`], if any.
    pub fn pending(&self) -> Option<&[Vec<i32>]> {
        self.pending.as_deref()
    }

    /// The full state as JSON (configuration, RNG, survivors, pending candidates, generation).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::format("nsga2 state", e.to_string()))
    }

    /// Restores a state written by [`Nsga2::to_json`], validated: the configuration, the
    /// population size for the generation, every genome's length and bounds, every objective
    /// vector's length (no NaN), crowding distances (≥ 0), ranks (recomputed from the
    /// objectives) and the pending batch's size and genomes.
    ///
    /// # Errors
    /// [`Error::Format`] for malformed JSON (truncated, wrong types, missing fields), otherwise
    /// the specific [`Error`] of the first failed check.
    pub fn from_json(s: &str) -> Result<Self> {
        let state: Nsga2State =
            serde_json::from_str(s).map_err(|e| Error::format("nsga2 state", e.to_string()))?;
        Nsga2::try_from(state)
    }

    /// Generation 0: the configured initial genomes, then random ones (redrawn up to
    /// [`DUPLICATE_RETRIES`] times while they duplicate an earlier member).
    fn initial_population(&mut self) -> Vec<Vec<i32>> {
        let mut batch = self.config.initial.clone();
        let mut seen: HashSet<Vec<i32>> = batch.iter().cloned().collect();
        while batch.len() < self.config.pop_size {
            let mut genes = self.random_genes();
            for _ in 0..DUPLICATE_RETRIES {
                if !seen.contains(&genes) {
                    break;
                }
                genes = self.random_genes();
            }
            seen.insert(genes.clone());
            batch.push(genes);
        }
        batch
    }

    fn random_genes(&mut self) -> Vec<i32> {
        let c = &self.config;
        c.lower
            .iter()
            .zip(&c.upper)
            .map(|(&lo, &hi)| self.rng.gen_range(lo..=hi))
            .collect()
    }

    /// `pop_size` offspring: tournament, crossover, mutation, duplicate elimination.
    fn offspring(&mut self) -> Vec<Vec<i32>> {
        let n = self.config.pop_size;
        let n_genes = self.config.n_genes();
        let free: Vec<usize> = (0..n_genes)
            .filter(|&i| self.config.lower[i] < self.config.upper[i])
            .collect();
        let mut seen: HashSet<Vec<i32>> = self.population.iter().map(|i| i.genes.clone()).collect();
        let mut batch = Vec::with_capacity(n);
        while batch.len() < n {
            let a = self.tournament();
            let b = self.tournament();
            let mut c1 = self.population[a].genes.clone();
            let mut c2 = self.population[b].genes.clone();
            if self.rng.gen::<f64>() < self.config.crossover_prob {
                for i in 0..n_genes {
                    if self.rng.gen::<bool>() {
                        std::mem::swap(&mut c1[i], &mut c2[i]);
                    }
                }
            }
            for mut child in [c1, c2] {
                self.mutate(&mut child, &free);
                let mut retries = 0;
                while !free.is_empty() && retries < DUPLICATE_RETRIES && seen.contains(&child) {
                    let k = free[self.rng.gen_range(0..free.len() as u32) as usize];
                    self.mutate_gene(&mut child, k);
                    retries += 1;
                }
                seen.insert(child.clone());
                batch.push(child);
            }
        }
        batch
    }

    /// Binary tournament: two distinct survivors drawn uniformly; lower rank, then larger
    /// crowding wins; a fair coin on a tie.
    fn tournament(&mut self) -> usize {
        let n = self.population.len() as u32;
        let i = self.rng.gen_range(0..n);
        let mut j = self.rng.gen_range(0..n - 1);
        if j >= i {
            j += 1;
        }
        let (a, b) = (&self.population[i as usize], &self.population[j as usize]);
        let order = a
            .rank
            .cmp(&b.rank)
            .then_with(|| b.crowding.total_cmp(&a.crowding));
        let i_wins = match order {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => self.rng.gen::<bool>(),
        };
        if i_wins {
            i as usize
        } else {
            j as usize
        }
    }

    /// Per-gene mutation of the non-fixed genes `free`.
    fn mutate(&mut self, genes: &mut [i32], free: &[usize]) {
        let p = self.config.effective_mutation_prob();
        for &k in free {
            if self.rng.gen::<f64>() < p {
                self.mutate_gene(genes, k);
            }
        }
    }

    /// Changes gene `k` (which has `lower < upper`): a uniform reset to another value with
    /// probability [`RESET_SHARE`], else a log-uniform creep (see the module documentation).
    fn mutate_gene(&mut self, genes: &mut [i32], k: usize) {
        let lo = i64::from(self.config.lower[k]);
        let hi = i64::from(self.config.upper[k]);
        let v = i64::from(genes[k]);
        let span = hi - lo; // 1 ..= 2^32 - 1
        let new = if self.rng.gen::<f64>() < RESET_SHARE {
            let r = i64::from(self.rng.gen_range(0..span as u32));
            let x = lo + r;
            if x >= v {
                x + 1
            } else {
                x
            }
        } else {
            let u: f64 = self.rng.gen();
            let d = (libm::pow(span as f64, u).floor() as i64).clamp(1, span);
            let up = self.rng.gen::<bool>();
            let step = |up: bool| if up { (v + d).min(hi) } else { (v - d).max(lo) };
            let x = step(up);
            if x == v {
                step(!up)
            } else {
                x
            }
        };
        genes[k] = new as i32;
    }
}

/// Keeps `n` of `merged` by rank then crowding distance (ties to the lower index) and sets
/// every survivor's rank and crowding.
fn survive(mut merged: Vec<Individual>, n: usize) -> Vec<Individual> {
    let objs: Vec<Vec<f64>> = merged.iter().map(|i| i.objectives.clone()).collect();
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    for (rank, front) in fast_non_dominated_sort(&objs).into_iter().enumerate() {
        if chosen.len() >= n {
            break;
        }
        let cd = crowding_distance(&objs, &front);
        for (k, &i) in front.iter().enumerate() {
            merged[i].rank = rank;
            merged[i].crowding = cd[k];
        }
        if chosen.len() + front.len() <= n {
            chosen.extend_from_slice(&front);
        } else {
            let mut order: Vec<usize> = (0..front.len()).collect();
            order.sort_by(|&a, &b| cd[b].total_cmp(&cd[a]).then(front[a].cmp(&front[b])));
            let room = n - chosen.len();
            chosen.extend(order[..room].iter().map(|&k| front[k]));
        }
    }
    let mut slots: Vec<Option<Individual>> = merged.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// `x` with `-0.0` mapped to `0.0`, so that `total_cmp` orders like `<` on non-NaN values.
fn total_key(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

/// Whether `a` Pareto-dominates `b` (minimization): no worse in every objective, better in one.
fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            better = true;
        }
    }
    better
}

/// Non-dominated sorting (Deb et al. 2002, `O(M N²)`): the fronts as indices into `objs`,
/// front 0 (non-dominated) first, each front in ascending index order. Identical points share a
/// front; a NaN coordinate makes comparisons in that objective false (such a point is neither
/// better nor worse there).
///
/// # Panics
/// If the objective vectors differ in length.
pub fn fast_non_dominated_sort(objs: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = objs.len();
    if let Some(first) = objs.first() {
        for (i, o) in objs.iter().enumerate() {
            assert_eq!(
                o.len(),
                first.len(),
                "fast_non_dominated_sort: point {i} has {} objectives, point 0 {}",
                o.len(),
                first.len()
            );
        }
    }
    let mut dominated_by_me: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut n_dominating: Vec<usize> = vec![0; n];
    for p in 0..n {
        for q in p + 1..n {
            if dominates(&objs[p], &objs[q]) {
                dominated_by_me[p].push(q);
                n_dominating[q] += 1;
            } else if dominates(&objs[q], &objs[p]) {
                dominated_by_me[q].push(p);
                n_dominating[p] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&p| n_dominating[p] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &p in &current {
            for &q in &dominated_by_me[p] {
                n_dominating[q] -= 1;
                if n_dominating[q] == 0 {
                    next.push(q);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// Crowding distance of each member of `front` (indices into `objs`), in `front`'s order, with
/// pymoo's conventions (its `calc_crowding_distance`, NSGA-II's default):
/// - a front of at most 2 points is all `f64::INFINITY`;
/// - per objective, members are sorted stably (equal values keep `front`'s order), the first
///   and last get an infinite distance, the others `(next − previous) / (max − min)`;
///   duplicates are not filtered, so a duplicate's gap to its twin is 0;
/// - an objective with `max == min` (degenerate range) contributes 0 to every member,
///   *including* the boundary ones;
/// - the sum over objectives is divided by the number of objectives; NaN terms (e.g.
///   `inf − inf`) count as 0.
///
/// # Panics
/// If an index is out of range or the objective vectors differ in length.
pub fn crowding_distance(objs: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let m = objs[front[0]].len();
    for &i in front {
        assert_eq!(
            objs[i].len(),
            m,
            "crowding_distance: point {i} has {} objectives, point {} {m}",
            objs[i].len(),
            front[0]
        );
    }
    let mut sum = vec![0.0f64; n];
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut values = vec![0.0f64; n];
    let columns: Vec<Vec<f64>> = (0..m)
        .map(|j| front.iter().map(|&i| objs[i][j]).collect())
        .collect();
    for column in &columns {
        // Stable from `front`'s order for every objective (as numpy's mergesort argsort).
        order.clear();
        order.extend(0..n);
        order.sort_by(|&a, &b| total_key(column[a]).total_cmp(&total_key(column[b])));
        for (v, &k) in values.iter_mut().zip(&order) {
            *v = column[k];
        }
        let norm = values[n - 1] - values[0];
        let norm = if norm == 0.0 { f64::NAN } else { norm };
        for (r, &k) in order.iter().enumerate() {
            let prev = if r == 0 {
                f64::NEG_INFINITY
            } else {
                values[r - 1]
            };
            let next = if r == n - 1 {
                f64::INFINITY
            } else {
                values[r + 1]
            };
            let to_last = zero_nan((values[r] - prev) / norm);
            let to_next = zero_nan((next - values[r]) / norm);
            sum[k] += to_last + to_next;
        }
    }
    sum.into_iter().map(|s| s / m as f64).collect()
}

fn zero_nan(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x
    }
}

/// Fitness cache keyed by genes, serialized as a list of `[genes, objectives]` pairs in genes
/// order (non-finite objectives as the strings `"inf"` / `"-inf"` / `"nan"`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<CacheEntry>", into = "Vec<CacheEntry>")]
pub struct FitnessCache {
    map: BTreeMap<Vec<i32>, Vec<f64>>,
}

/// One serialized cache entry.
#[derive(Serialize, Deserialize)]
struct CacheEntry(Vec<i32>, #[serde(with = "ext_f64::vec")] Vec<f64>);

impl From<Vec<CacheEntry>> for FitnessCache {
    fn from(entries: Vec<CacheEntry>) -> Self {
        FitnessCache {
            map: entries.into_iter().map(|e| (e.0, e.1)).collect(),
        }
    }
}

impl From<FitnessCache> for Vec<CacheEntry> {
    fn from(cache: FitnessCache) -> Self {
        cache
            .map
            .into_iter()
            .map(|(g, o)| CacheEntry(g, o))
            .collect()
    }
}

impl FitnessCache {
    /// The cached objectives of `genes`.
    pub fn get(&self, genes: &[i32]) -> Option<&[f64]> {
        self.map.get(genes).map(Vec::as_slice)
    }

    /// Caches (or replaces) the objectives of `genes`.
    pub fn insert(&mut self, genes: Vec<i32>, objectives: Vec<f64>) {
        self.map.insert(genes, objectives);
    }

    /// Number of cached genomes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The cached entries, in genes order.
    pub fn iter(&self) -> impl Iterator<Item = (&[i32], &[f64])> {
        self.map.iter().map(|(g, o)| (g.as_slice(), o.as_slice()))
    }

    /// Evaluates only the genomes not cached (each distinct genome once, in first-seen order,
    /// passed to `f` as one batch; `f` is not called when everything is cached), stores them,
    /// and returns the objectives of all `genomes` in order, plus how many were newly
    /// evaluated. If `f` fails, nothing is stored and its error is returned.
    ///
    /// # Panics
    /// If `f` returns a different number of objective vectors than genomes it was given.
    pub fn evaluate<E>(
        &mut self,
        genomes: &[Vec<i32>],
        f: impl FnOnce(&[Vec<i32>]) -> std::result::Result<Vec<Vec<f64>>, E>,
    ) -> std::result::Result<(Vec<Vec<f64>>, usize), E> {
        let mut batch: Vec<Vec<i32>> = Vec::new();
        let mut in_batch: HashSet<&[i32]> = HashSet::new();
        for g in genomes {
            if !self.map.contains_key(g) && in_batch.insert(g) {
                batch.push(g.clone());
            }
        }
        let n_new = batch.len();
        if n_new > 0 {
            let objectives = f(&batch)?;
            assert_eq!(
                objectives.len(),
                n_new,
                "FitnessCache::evaluate: the evaluator returned {} objective vectors for {n_new} genomes",
                objectives.len()
            );
            self.map.extend(batch.into_iter().zip(objectives));
        }
        let all = genomes.iter().map(|g| self.map[g].clone()).collect();
        Ok((all, n_new))
    }
}

/// Serde for `f64` that survives JSON: finite values as numbers, `±inf` and NaN as the strings
/// `"inf"`, `"-inf"`, `"nan"` (serde_json would write `null` and fail to read it back).
mod ext_f64 {
    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("nan")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(ExtVisitor)
    }

    struct ExtVisitor;

    impl Visitor<'_> for ExtVisitor {
        type Value = f64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(r#"a number or "inf", "-inf", "nan""#)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }

    #[derive(Serialize, Deserialize)]
    struct Ext(#[serde(with = "super::ext_f64")] f64);

    /// The same for `Vec<f64>`.
    pub mod vec {
        use super::Ext;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(xs.iter().map(|&x| Ext(x)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Ok(Vec::<Ext>::deserialize(d)?
                .into_iter()
                .map(|e| e.0)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutate_gene_always_changes_and_respects_bounds() {
        let config = Nsga2Config::new(4, vec![-3, 0, 7], vec![4, 1, 1000], 1, 5);
        let mut s = Nsga2::new(config).unwrap();
        let mut genes = vec![-3, 1, 1000];
        for t in 0..20_000 {
            let k = t % 3;
            let before = genes[k];
            s.mutate_gene(&mut genes, k);
            assert_ne!(genes[k], before, "gene {k} did not change");
            assert!(genes[k] >= s.config.lower[k] && genes[k] <= s.config.upper[k]);
        }
    }

    #[test]
    fn mutate_gene_reaches_every_value() {
        let config = Nsga2Config::new(4, vec![2], vec![8], 1, 9);
        let mut s = Nsga2::new(config).unwrap();
        let mut genes = vec![5];
        let mut hits = [0usize; 7];
        for _ in 0..7_000 {
            s.mutate_gene(&mut genes, 0);
            hits[(genes[0] - 2) as usize] += 1;
        }
        assert!(hits.iter().all(|&h| h > 300), "{hits:?}");
    }

    #[test]
    fn mutate_gene_full_i32_range() {
        let config = Nsga2Config::new(4, vec![i32::MIN], vec![i32::MAX], 1, 1);
        let mut s = Nsga2::new(config).unwrap();
        for start in [i32::MIN, i32::MAX, 0] {
            let mut genes = vec![start];
            for _ in 0..1000 {
                let before = genes[0];
                s.mutate_gene(&mut genes, 0);
                assert_ne!(genes[0], before);
            }
        }
    }

    #[test]
    fn ext_f64_roundtrip() {
        let ind = Individual {
            genes: vec![1],
            objectives: vec![f64::INFINITY, f64::NEG_INFINITY, 0.1, -2.0],
            rank: 0,
            crowding: f64::INFINITY,
        };
        let s = serde_json::to_string(&ind).unwrap();
        assert!(s.contains(r#"["inf","-inf",0.1,-2.0]"#), "{s}");
        let back: Individual = serde_json::from_str(&s).unwrap();
        assert_eq!(back, ind);
    }
}
