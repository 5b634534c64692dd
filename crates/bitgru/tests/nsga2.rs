//! The generic NSGA-II and hypervolume (`bitgru::search`): pymoo fixtures
//! (`scripts/make_pymoo_fixtures.py`), convergence on discretized ZDT1/ZDT2, determinism and
//! checkpointing, validation and error paths, the fitness cache.
use bitgru::search::{
    crowding_distance, fast_non_dominated_sort, hypervolume, FitnessCache, Individual, Nsga2,
    Nsga2Config,
};
use bitgru::Error;
use serde::Deserialize;
use std::collections::HashSet;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/pymoo/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Deserialize)]
struct SortingFile {
    cases: Vec<SortingCase>,
}

#[derive(Deserialize)]
struct SortingCase {
    name: String,
    points: Vec<Vec<f64>>,
    fronts: Vec<Vec<usize>>,
    /// `None` is +infinity.
    crowding: Vec<Vec<Option<f64>>>,
    crowding_all: Vec<Option<f64>>,
}

#[derive(Deserialize)]
struct HvFile {
    cases: Vec<HvCase>,
}

#[derive(Deserialize)]
struct HvCase {
    name: String,
    points: Vec<Vec<f64>>,
    reference: Vec<f64>,
    hv: f64,
}

fn assert_crowding(case: &str, got: &[f64], want: &[Option<f64>]) {
    assert_eq!(got.len(), want.len(), "{case}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        match w {
            None => assert_eq!(*g, f64::INFINITY, "{case}: member {k}"),
            Some(w) => assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{case}: member {k}: got {g}, pymoo {w}"
            ),
        }
    }
}

#[test]
fn sorting_and_crowding_match_pymoo() {
    let file: SortingFile = serde_json::from_str(&fixture("sorting.json")).unwrap();
    assert!(file.cases.len() >= 10);
    let mut saw_zero_boundary = false;
    for case in &file.cases {
        let fronts = fast_non_dominated_sort(&case.points);
        assert_eq!(fronts, case.fronts, "{}: fronts", case.name);
        for (r, front) in fronts.iter().enumerate() {
            let cd = crowding_distance(&case.points, front);
            assert_crowding(&format!("{} front {r}", case.name), &cd, &case.crowding[r]);
            saw_zero_boundary |= cd.len() > 2 && cd.iter().all(|&d| d == 0.0);
        }
        let all: Vec<usize> = (0..case.points.len()).collect();
        let cd = crowding_distance(&case.points, &all);
        assert_crowding(&format!("{} all", case.name), &cd, &case.crowding_all);
    }
    // The degenerate-range convention (no infinite boundary in a constant objective) is covered.
    assert!(saw_zero_boundary);
}

#[test]
fn hypervolume_matches_pymoo() {
    let file: HvFile = serde_json::from_str(&fixture("hypervolume.json")).unwrap();
    let dims: HashSet<usize> = file.cases.iter().map(|c| c.reference.len()).collect();
    assert!((1..=5).all(|d| dims.contains(&d)), "{dims:?}");
    for case in &file.cases {
        let hv = hypervolume(&case.points, &case.reference);
        assert!(
            (hv - case.hv).abs() <= 1e-12 * case.hv.abs().max(1.0),
            "{}: got {hv}, pymoo {}",
            case.name,
            case.hv
        );
    }
}

#[derive(Clone, Copy)]
enum Zdt {
    /// ZDT1: convex front, optimum x_2..x_30 = 0 (the genes' lower bound).
    One,
    /// ZDT2: concave front, same optimum.
    Two,
    /// ZDT1 with the optimum moved inside the range: g uses |x_i − 0.537| (genes = 537), so
    /// that mutations stopping at a bound are no help.
    OneShifted,
}

/// Discretized ZDT: 30 genes in 0..=1000, x_i = g_i / 1000.
fn zdt(genes: &[i32], kind: Zdt) -> Vec<f64> {
    let x: Vec<f64> = genes.iter().map(|&g| f64::from(g) / 1000.0).collect();
    let f1 = x[0];
    let dist = |v: f64| match kind {
        Zdt::OneShifted => (v - 0.537).abs(),
        _ => v,
    };
    let g = 1.0 + 9.0 * x[1..].iter().map(|&v| dist(v)).sum::<f64>() / (x.len() - 1) as f64;
    let f2 = match kind {
        Zdt::Two => g * (1.0 - (f1 / g) * (f1 / g)),
        _ => g * (1.0 - (f1 / g).sqrt()),
    };
    vec![f1, f2]
}

/// Hypervolume of the true (continuous) front for reference (1.1, 1.1): the box beyond f1 = 1
/// (0.1 × 1.1) plus the integral over [0, 1] of 1.1 − f2(f1) = 0.1 + ∫ (1 − f2).
fn true_hv(kind: Zdt) -> f64 {
    match kind {
        Zdt::One | Zdt::OneShifted => 0.11 + 0.1 + 2.0 / 3.0,
        Zdt::Two => 0.11 + 0.1 + 1.0 / 3.0,
    }
}

/// Runs `gens` generations after the initial population and returns the ratio of the front's
/// hypervolume to the true front's (reference (1.1, 1.1)).
fn zdt_hv_ratio(kind: Zdt, pop: usize, gens: usize, seed: u64) -> f64 {
    let config = Nsga2Config::new(pop, vec![0; 30], vec![1000; 30], 2, seed);
    let mut nsga = Nsga2::new(config).unwrap();
    for _ in 0..=gens {
        let batch = nsga.ask();
        let objs = batch.iter().map(|g| zdt(g, kind)).collect();
        nsga.tell(objs).unwrap();
    }
    let pts: Vec<Vec<f64>> = nsga.front().into_iter().map(|i| i.objectives).collect();
    hypervolume(&pts, &[1.1, 1.1]) / true_hv(kind)
}

// Budget: population 200 (a 100-point front cannot cover ZDT2's concave front to within 1 %:
// measured 0.991 at best), 150 generations after the initial population (30 200 evaluations);
// 300 for the shifted optimum. Measured ratios: 0.9967 (ZDT1, seed 1), 0.9951 (ZDT2, seed 2),
// 0.9969 (shifted ZDT1, seed 3); seeds 1–8 (1–6 for the shifted one) gave 0.9967–0.9970,
// 0.9944–0.9952 and 0.9969–0.9971.
#[test]
fn zdt1_discretized_converges() {
    let ratio = zdt_hv_ratio(Zdt::One, 200, 150, 1);
    assert!(ratio >= 0.99, "ZDT1 hypervolume ratio {ratio}");
}

#[test]
fn zdt2_discretized_converges() {
    let ratio = zdt_hv_ratio(Zdt::Two, 200, 150, 2);
    assert!(ratio >= 0.99, "ZDT2 hypervolume ratio {ratio}");
}

#[test]
fn zdt1_with_an_interior_optimum_converges() {
    let ratio = zdt_hv_ratio(Zdt::OneShifted, 200, 300, 3);
    assert!(ratio >= 0.99, "shifted ZDT1 hypervolume ratio {ratio}");
}

/// A cheap 3-objective test problem on 6 genes in -5..=5.
fn toy(genes: &[i32]) -> Vec<f64> {
    let s: f64 = genes.iter().map(|&g| f64::from(g)).sum();
    let sq: f64 = genes.iter().map(|&g| f64::from(g - 2).powi(2)).sum();
    vec![sq, f64::from(genes[0] + 5) + f64::from(genes[1].abs()), -s]
}

fn toy_config(seed: u64) -> Nsga2Config {
    Nsga2Config::new(12, vec![-5; 6], vec![5; 6], 3, seed)
}

fn step(nsga: &mut Nsga2) {
    let batch = nsga.ask();
    nsga.tell(batch.iter().map(|g| toy(g)).collect()).unwrap();
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let mut a = Nsga2::new(toy_config(7)).unwrap();
    let mut b = Nsga2::new(toy_config(7)).unwrap();
    let mut c = Nsga2::new(toy_config(8)).unwrap();
    for _ in 0..15 {
        step(&mut a);
        step(&mut b);
        step(&mut c);
    }
    assert_eq!(a.population(), b.population());
    assert_eq!(a.ask(), b.ask());
    assert_ne!(a.population(), c.population());
}

#[test]
fn checkpoint_resume_matches_uninterrupted() {
    let mut reference = Nsga2::new(toy_config(3)).unwrap();
    for _ in 0..20 {
        step(&mut reference);
    }
    // Checkpoint after a tell (and before the first ask), at every generation.
    for cut in 0..20 {
        let mut run = Nsga2::new(toy_config(3)).unwrap();
        for _ in 0..cut {
            step(&mut run);
        }
        let json = run.to_json().unwrap();
        let mut resumed = Nsga2::from_json(&json).unwrap();
        assert_eq!(resumed.generation(), cut);
        for _ in cut..20 {
            step(&mut resumed);
        }
        assert_eq!(resumed.population(), reference.population(), "cut {cut}");
        assert_eq!(resumed.to_json().unwrap(), reference.to_json().unwrap());
    }
    // Checkpoint with pending asks: the resumed run returns the same batch and continues alike.
    for cut in [0, 1, 9] {
        let mut run = Nsga2::new(toy_config(3)).unwrap();
        for _ in 0..cut {
            step(&mut run);
        }
        let asked = run.ask();
        let mut resumed = Nsga2::from_json(&run.to_json().unwrap()).unwrap();
        assert_eq!(resumed.pending(), Some(asked.as_slice()));
        assert_eq!(resumed.ask(), asked);
        resumed
            .tell(asked.iter().map(|g| toy(g)).collect())
            .unwrap();
        for _ in cut + 1..20 {
            step(&mut resumed);
        }
        assert_eq!(
            resumed.population(),
            reference.population(),
            "pending cut {cut}"
        );
    }
}

#[test]
fn ask_twice_returns_the_pending_batch() {
    let mut nsga = Nsga2::new(toy_config(1)).unwrap();
    assert_eq!(nsga.pending(), None);
    let a = nsga.ask();
    assert_eq!(nsga.ask(), a);
    step(&mut nsga);
    assert_eq!(nsga.generation(), 1);
    let b = nsga.ask();
    assert_eq!(b.len(), 12);
    assert_eq!(nsga.ask(), b);
    assert_eq!(nsga.pending(), Some(b.as_slice()));
}

#[test]
fn config_validation_errors() {
    let ok = Nsga2Config::new(8, vec![2; 3], vec![8; 3], 2, 0);
    assert!(ok.validate().is_ok());
    assert_eq!(ok.crossover_prob, 0.9);
    assert_eq!(ok.mutation_prob, None);
    let bad = |f: &dyn Fn(&mut Nsga2Config)| {
        let mut c = ok.clone();
        f(&mut c);
        let e = c.validate().unwrap_err();
        assert_eq!(Nsga2::new(c).unwrap_err(), e);
        e
    };
    assert!(matches!(bad(&|c| c.pop_size = 2), Error::Invalid { .. }));
    assert!(matches!(bad(&|c| c.pop_size = 7), Error::Invalid { .. }));
    assert!(matches!(
        bad(&|c| {
            c.upper.pop();
        }),
        Error::Length {
            expected: 3,
            got: 2,
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| {
            c.lower.clear();
            c.upper.clear();
        }),
        Error::Invalid { .. }
    ));
    match bad(&|c| c.lower[1] = 9) {
        Error::Invalid { what, detail } => {
            assert!(what.contains("gene 1"), "{what}");
            assert!(detail.contains("9"), "{detail}");
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        bad(&|c| c.n_objectives = 0),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        bad(&|c| c.crossover_prob = 1.5),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        bad(&|c| c.crossover_prob = f64::NAN),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        bad(&|c| c.mutation_prob = Some(-0.1)),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        bad(&|c| c.initial = vec![vec![2; 3]; 9]),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        bad(&|c| c.initial = vec![vec![2; 4]]),
        Error::Length {
            expected: 3,
            got: 4,
            ..
        }
    ));
    assert!(matches!(
        bad(&|c| c.initial = vec![vec![2, 1, 2]]),
        Error::Invalid { .. }
    ));
    // JSON may omit the defaults.
    let parsed: Nsga2Config = serde_json::from_str(
        r#"{"pop_size": 8, "lower": [2, 2, 2], "upper": [8, 8, 8], "n_objectives": 2, "seed": 0}"#,
    )
    .unwrap();
    assert_eq!(parsed, ok);
    // Fixed genes (lower == upper) and probability 0/1 are valid.
    let mut fixed = ok.clone();
    fixed.lower[0] = 8;
    fixed.crossover_prob = 0.0;
    fixed.mutation_prob = Some(1.0);
    assert!(fixed.validate().is_ok());
}

#[test]
fn tell_errors_leave_the_state_unchanged() {
    let mut nsga = Nsga2::new(toy_config(4)).unwrap();
    assert!(matches!(nsga.tell(vec![]), Err(Error::Missing(_))));
    let batch = nsga.ask();
    let good: Vec<Vec<f64>> = batch.iter().map(|g| toy(g)).collect();
    let before = nsga.to_json().unwrap();

    let mut short = good.clone();
    short.pop();
    assert!(matches!(
        nsga.tell(short),
        Err(Error::Length {
            expected: 12,
            got: 11,
            ..
        })
    ));
    let mut wrong_m = good.clone();
    wrong_m[5].push(1.0);
    assert!(matches!(
        nsga.tell(wrong_m),
        Err(Error::Length {
            expected: 3,
            got: 4,
            ..
        })
    ));
    let mut nan = good.clone();
    nan[3][2] = f64::NAN;
    assert!(matches!(
        nsga.tell(nan),
        Err(Error::NonFinite { index: 2, .. })
    ));
    assert_eq!(nsga.to_json().unwrap(), before);
    assert_eq!(nsga.generation(), 0);

    // Infinite objectives (e.g. a failed evaluation) are accepted and survive a checkpoint.
    let mut inf = good;
    inf[0] = vec![f64::INFINITY; 3];
    nsga.tell(inf).unwrap();
    assert_eq!(nsga.generation(), 1);
    assert!(matches!(nsga.tell(vec![]), Err(Error::Missing(_))));
    let again = Nsga2::from_json(&nsga.to_json().unwrap()).unwrap();
    assert_eq!(again.population(), nsga.population());
    assert!(nsga
        .population()
        .iter()
        .all(|i| !i.crowding.is_nan() && i.crowding >= 0.0));
}

/// Edits the JSON state and expects `from_json` to fail with an error matching `check`.
fn corrupt(json: &str, edit: impl FnOnce(&mut serde_json::Value), check: impl Fn(&Error) -> bool) {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    edit(&mut v);
    let e = Nsga2::from_json(&v.to_string()).unwrap_err();
    assert!(check(&e), "unexpected error {e:?}");
}

#[test]
fn from_json_rejects_corrupt_state() {
    let mut nsga = Nsga2::new(toy_config(5)).unwrap();
    for _ in 0..3 {
        step(&mut nsga);
    }
    nsga.ask();
    let json = nsga.to_json().unwrap();
    assert!(Nsga2::from_json(&json).is_ok());

    // Truncated at any point or not JSON: a Format error, never a panic.
    for cut in (0..json.len()).step_by(97) {
        assert!(matches!(
            Nsga2::from_json(&json[..cut]),
            Err(Error::Format { .. })
        ));
    }
    assert!(matches!(Nsga2::from_json("[]"), Err(Error::Format { .. })));
    corrupt(
        &json,
        |v| v["rng"]["seed"] = serde_json::json!([1, 2]),
        |e| matches!(e, Error::Format { .. }),
    );
    corrupt(
        &json,
        |v| v["config"]["pop_size"] = 5.into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("pop_size")),
    );
    corrupt(
        &json,
        |v| v["config"]["upper"][2] = (-9).into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("gene 2")),
    );
    corrupt(
        &json,
        |v| {
            v["population"].as_array_mut().unwrap().pop();
        },
        |e| {
            matches!(
                e,
                Error::Length {
                    expected: 12,
                    got: 11,
                    ..
                }
            )
        },
    );
    corrupt(
        &json,
        |v| v["generation"] = 0.into(),
        |e| {
            matches!(
                e,
                Error::Length {
                    expected: 0,
                    got: 12,
                    ..
                }
            )
        },
    );
    corrupt(
        &json,
        |v| v["population"][4]["genes"][1] = 6.into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("population[4]")),
    );
    corrupt(
        &json,
        |v| {
            v["population"][4]["genes"].as_array_mut().unwrap().pop();
        },
        |e| {
            matches!(
                e,
                Error::Length {
                    expected: 6,
                    got: 5,
                    ..
                }
            )
        },
    );
    corrupt(
        &json,
        |v| {
            v["population"][0]["objectives"]
                .as_array_mut()
                .unwrap()
                .push(1.into());
        },
        |e| {
            matches!(
                e,
                Error::Length {
                    expected: 3,
                    got: 4,
                    ..
                }
            )
        },
    );
    corrupt(
        &json,
        |v| v["population"][2]["objectives"][1] = "nan".into(),
        |e| matches!(e, Error::NonFinite { index: 1, .. }),
    );
    corrupt(
        &json,
        |v| v["population"][2]["objectives"][1] = "many".into(),
        |e| matches!(e, Error::Format { .. }),
    );
    corrupt(
        &json,
        |v| v["population"][3]["crowding"] = (-1.0).into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("crowding")),
    );
    corrupt(
        &json,
        |v| v["population"][0]["rank"] = 7.into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("rank")),
    );
    corrupt(
        &json,
        |v| {
            v["pending"].as_array_mut().unwrap().pop();
        },
        |e| {
            matches!(
                e,
                Error::Length {
                    expected: 12,
                    got: 11,
                    ..
                }
            )
        },
    );
    corrupt(
        &json,
        |v| v["pending"][11][5] = 99.into(),
        |e| matches!(e, Error::Invalid { what, .. } if what.contains("pending[11]")),
    );
    // The same validation applies through serde.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["population"][0]["rank"] = 7.into();
    assert!(serde_json::from_value::<Nsga2>(v).is_err());
}

#[test]
fn homogeneous_initial_individuals_are_in_generation_zero() {
    let mut config = Nsga2Config::new(20, vec![2; 17], vec![8; 17], 2, 11);
    config.initial = (2..=8).map(|b| vec![b; 17]).collect();
    let mut nsga = Nsga2::new(config.clone()).unwrap();
    let batch = nsga.ask();
    assert_eq!(batch.len(), 20);
    assert_eq!(&batch[..7], config.initial.as_slice());
    let distinct: HashSet<&Vec<i32>> = batch.iter().collect();
    assert_eq!(distinct.len(), 20, "random members duplicate");
    for g in &batch {
        assert!(g.iter().all(|&x| (2..=8).contains(&x)));
    }
    // They are evaluated and survive as the whole first population.
    let objs = batch
        .iter()
        .map(|g| {
            let bits: i32 = g.iter().sum();
            vec![f64::from(bits), -f64::from(g[0] * g[1])]
        })
        .collect();
    nsga.tell(objs).unwrap();
    let genes: Vec<&Vec<i32>> = nsga.population().iter().map(|i| &i.genes).collect();
    for h in &config.initial {
        assert!(genes.contains(&h));
    }
}

#[test]
fn bounds_are_always_respected_and_fixed_genes_stay() {
    let lower = vec![-7, 0, 3, i32::MIN, 100, -1];
    let upper = vec![-2, 0, 4, i32::MIN + 3, 100_000, 1];
    let mut config = Nsga2Config::new(10, lower.clone(), upper.clone(), 2, 21);
    config.mutation_prob = Some(0.5);
    let mut nsga = Nsga2::new(config).unwrap();
    let mut seen = 0;
    for _ in 0..40 {
        let batch = nsga.ask();
        for g in &batch {
            for i in 0..6 {
                assert!(g[i] >= lower[i] && g[i] <= upper[i], "{g:?}");
            }
            assert_eq!(g[1], 0);
            seen += 1;
        }
        let objs = batch
            .iter()
            .map(|g| {
                vec![
                    f64::from(g[0]) + f64::from(g[4]) * 1e-3,
                    -f64::from(g[2] + g[5]),
                ]
            })
            .collect();
        nsga.tell(objs).unwrap();
    }
    assert_eq!(seen, 400);
}

#[test]
fn offspring_avoid_duplicates_when_the_space_allows() {
    // 4^3 = 64 genomes, population 8: offspring are distinct from each other and the parents.
    let mut nsga = Nsga2::new(Nsga2Config::new(8, vec![0; 3], vec![3; 3], 2, 13)).unwrap();
    for gen in 0..30 {
        let batch = nsga.ask();
        let mut seen: HashSet<Vec<i32>> = HashSet::new();
        if gen > 0 {
            seen.extend(nsga.population().iter().map(|i| i.genes.clone()));
        }
        for g in &batch {
            assert!(seen.insert(g.clone()), "generation {gen}: duplicate {g:?}");
        }
        let objs = batch
            .iter()
            .map(|g| vec![f64::from(g[0] + g[1]), f64::from(6 - g[1] - g[2])])
            .collect();
        nsga.tell(objs).unwrap();
    }
}

#[test]
fn a_gene_space_smaller_than_the_population_still_fills_batches() {
    let mut config = Nsga2Config::new(6, vec![0, 5], vec![1, 5], 1, 17);
    config.initial = vec![vec![1, 5]];
    let mut nsga = Nsga2::new(config).unwrap();
    for _ in 0..5 {
        let batch = nsga.ask();
        assert_eq!(batch.len(), 6);
        nsga.tell(batch.iter().map(|g| vec![f64::from(g[0])]).collect())
            .unwrap();
    }
    let front = nsga.front();
    assert_eq!(front.len(), 1);
    assert_eq!(front[0].genes, vec![0, 5]);
}

#[test]
fn survival_is_elitist_and_ranks_are_consistent() {
    let mut nsga = Nsga2::new(toy_config(19)).unwrap();
    let mut all: Vec<Vec<f64>> = Vec::new();
    for _ in 0..25 {
        let batch = nsga.ask();
        let objs: Vec<Vec<f64>> = batch.iter().map(|g| toy(g)).collect();
        all.extend(objs.iter().cloned());
        nsga.tell(objs).unwrap();
        let pop = nsga.population();
        assert_eq!(pop.len(), 12);
        // The best value of each objective ever seen is kept (extreme points have infinite
        // crowding, so they are only lost to other points of equal value).
        for j in 0..3 {
            let best = all.iter().map(|o| o[j]).fold(f64::INFINITY, f64::min);
            assert!(pop.iter().any(|i| i.objectives[j] == best), "objective {j}");
        }
        // Stored ranks are the ranks among the survivors.
        let objs: Vec<Vec<f64>> = pop.iter().map(|i| i.objectives.clone()).collect();
        for (r, front) in fast_non_dominated_sort(&objs).iter().enumerate() {
            for &k in front {
                assert_eq!(pop[k].rank, r);
            }
        }
    }
}

#[test]
fn front_is_rank_zero_deduplicated_and_sorted() {
    let mut nsga = Nsga2::new(Nsga2Config::new(8, vec![0; 2], vec![2; 2], 2, 23)).unwrap();
    for _ in 0..10 {
        let batch = nsga.ask();
        let objs = batch
            .iter()
            .map(|g| vec![f64::from(g[0]), f64::from(2 - g[0] + g[1])])
            .collect();
        nsga.tell(objs).unwrap();
    }
    let front = nsga.front();
    let want: Vec<Individual> = {
        let mut seen = HashSet::new();
        let mut f: Vec<Individual> = nsga
            .population()
            .iter()
            .filter(|i| i.rank == 0 && seen.insert(i.genes.clone()))
            .cloned()
            .collect();
        f.sort_by(|a, b| {
            a.objectives[0]
                .total_cmp(&b.objectives[0])
                .then(a.objectives[1].total_cmp(&b.objectives[1]))
        });
        f
    };
    assert_eq!(front, want);
    // The true front of this problem: g[1] = 0, g[0] in 0..=2.
    let genes: Vec<Vec<i32>> = front.iter().map(|i| i.genes.clone()).collect();
    assert_eq!(genes, vec![vec![0, 0], vec![1, 0], vec![2, 0]]);
}

#[test]
fn fitness_cache_evaluates_each_new_genome_once() {
    let mut cache = FitnessCache::default();
    assert!(cache.is_empty());
    cache.insert(vec![1, 1], vec![0.5]);
    let genomes = vec![vec![3, 0], vec![1, 1], vec![2, 2], vec![3, 0], vec![2, 2]];
    let mut calls = Vec::new();
    let (objs, n_new) = cache
        .evaluate(&genomes, |batch| {
            calls.push(batch.to_vec());
            Ok::<_, String>(
                batch
                    .iter()
                    .map(|g| vec![f64::from(g[0] * 10 + g[1])])
                    .collect(),
            )
        })
        .unwrap();
    assert_eq!(calls, vec![vec![vec![3, 0], vec![2, 2]]]);
    assert_eq!(n_new, 2);
    assert_eq!(
        objs,
        vec![vec![30.0], vec![0.5], vec![22.0], vec![30.0], vec![22.0]]
    );
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get(&[2, 2]), Some(&[22.0][..]));
    assert_eq!(cache.get(&[9, 9]), None);

    // Everything cached: the evaluator is not called.
    let (objs2, n_new2) = cache
        .evaluate(&genomes[..2], |_| -> Result<Vec<Vec<f64>>, String> {
            panic!("called")
        })
        .unwrap();
    assert_eq!((objs2, n_new2), (vec![vec![30.0], vec![0.5]], 0));

    // A failing evaluator stores nothing and returns its error.
    let err = cache
        .evaluate(&[vec![7, 7]], |_| Err::<Vec<Vec<f64>>, _>("boom"))
        .unwrap_err();
    assert_eq!(err, "boom");
    assert_eq!(cache.len(), 3);

    // Serialized as [genes, objectives] pairs (infinities included), and back.
    cache.insert(vec![0, 0], vec![f64::INFINITY]);
    let json = serde_json::to_string(&cache).unwrap();
    assert_eq!(
        json,
        r#"[[[0,0],["inf"]],[[1,1],[0.5]],[[2,2],[22.0]],[[3,0],[30.0]]]"#
    );
    let back: FitnessCache = serde_json::from_str(&json).unwrap();
    let entries: Vec<(&[i32], &[f64])> = back.iter().collect();
    assert_eq!(entries, cache.iter().collect::<Vec<_>>());
}
