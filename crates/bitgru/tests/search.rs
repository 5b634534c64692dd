//! The quantization problem and the search loop: evaluations equal the reference kernel's,
//! checkpoint + resume equals an uninterrupted run, corrupt checkpoints are refused, the front
//! is non-dominated and never loses hypervolume.
use bitgru::search::problem::{stratified_subset, Objective, QuantProblem};
use bitgru::search::run::{pareto_front, Search, SearchConfig, SearchResult, StepProgress};
use bitgru::{Calibration, Genome, QuantGru, Scratch};

const INPUT: usize = 5;
const HIDDEN: usize = 10;
const CLASSES: usize = 3;
const STEPS: usize = 8;

fn problem(objectives: Vec<Objective>) -> QuantProblem {
    let (model, task) = bitgru::synth::task_model(21, INPUT, HIDDEN, CLASSES, STEPS);
    let (calib, _) = task.sample(22, 64);
    let views: Vec<&[f32]> = calib.iter().map(Vec::as_slice).collect();
    let calibration = Calibration::compute(&model, &views).unwrap();
    let (xs, ys) = task.sample(23, 90);
    QuantProblem::new(model, calibration, &xs, ys, objectives).unwrap()
}

fn config(p: &QuantProblem, gens: usize) -> SearchConfig {
    let mut c = SearchConfig::new("synthetic", "m", "d", 8, gens, 17);
    c.subset = p.len();
    c.objectives = p.objectives().to_vec();
    c.reference_point = vec![1.1; c.objectives.len()];
    c
}

#[test]
fn evaluation_matches_the_reference_kernel() {
    let p = problem(vec![Objective::Error, Objective::Size, Objective::Bitops]);
    let (model, task) = bitgru::synth::task_model(21, INPUT, HIDDEN, CLASSES, STEPS);
    let (xs, ys) = task.sample(23, 90);
    for g in [
        "88888888888888888",
        "64576888548886757",
        "22222222222222222",
        "38273645827364523",
    ] {
        let g: Genome = g.parse().unwrap();
        let e = p.evaluate(&g).unwrap();
        let q = QuantGru::prepare(&model, p.calibration(), &g).unwrap();
        let mut s = Scratch::for_model(&q);
        let pred: Vec<usize> = xs
            .iter()
            .map(|x| q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap())
            .collect();
        let correct = pred.iter().zip(&ys).filter(|(a, b)| a == b).count();
        assert_eq!(e.correct, correct, "{g}");
        assert_eq!(e.n, 90);
        let float: Vec<usize> = xs.iter().map(|x| model.predict(x).unwrap()).collect();
        let agree = pred.iter().zip(&float).filter(|(a, b)| a == b).count();
        assert!((e.agreement - agree as f64 / 90.0).abs() < 1e-15);
        let size = bitgru::size::report(&g, model.dims());
        assert_eq!(e.size, size);
        assert_eq!(e.objectives.len(), 3);
        assert!((e.objectives[0] - (1.0 - correct as f64 / 90.0)).abs() < 1e-15);
        assert_eq!(e.objectives[1], size.normalized);
        assert_eq!(
            p.confusion(&g)
                .unwrap()
                .iter()
                .map(|r| r.iter().sum::<usize>())
                .sum::<usize>(),
            90
        );
    }
    let many = p
        .evaluate_many(&[
            "88888888888888888".parse().unwrap(),
            "44444444444444444".parse().unwrap(),
        ])
        .unwrap();
    assert_eq!(
        many[0],
        p.evaluate(&"88888888888888888".parse().unwrap()).unwrap()
    );
}

#[test]
fn problem_rejects_bad_fitness_sets() {
    let (model, task) = bitgru::synth::task_model(21, INPUT, HIDDEN, CLASSES, STEPS);
    let (xs, ys) = task.sample(22, 8);
    let views: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
    let cal = Calibration::compute(&model, &views).unwrap();
    let obj = vec![Objective::Error, Objective::Size];
    let err = |xs: &[Vec<f32>], ys: Vec<usize>| {
        QuantProblem::new(model.clone(), cal.clone(), xs, ys, obj.clone())
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[], vec![]).contains("no sequences"));
    assert!(err(&xs, ys[..3].to_vec()).contains("labels"));
    let mut bad = ys.clone();
    bad[2] = CLASSES;
    assert!(err(&xs, bad).contains("sequence 2"));
    let mut nan = xs.clone();
    nan[4][3] = f32::NAN;
    assert!(err(&nan, ys.clone()).contains("fitness sequence 4"));
    let mut ragged = xs.clone();
    ragged[1].truncate(INPUT * 2);
    assert!(err(&ragged, ys).contains("sequence 1"));
}

#[test]
fn checkpoint_resume_equals_uninterrupted() {
    let p = problem(vec![Objective::Error, Objective::Size]);
    let mut full = Search::new(config(&p, 6), &p).unwrap();
    while !full.is_done() {
        full.step(&p).unwrap();
    }
    let mut part = Search::new(config(&p, 6), &p).unwrap();
    part.step(&p).unwrap();
    part.step(&p).unwrap();
    let json = part.to_json().unwrap();
    let mut resumed = Search::from_json(&json).unwrap();
    while !resumed.is_done() {
        resumed.step(&p).unwrap();
    }
    assert_eq!(resumed.result(), full.result());
    assert_eq!(resumed.to_json().unwrap(), full.to_json().unwrap());
    assert!(
        resumed.step(&p).is_err(),
        "a finished search refuses another step"
    );

    // The result round-trips through result.json.
    let r = full.result();
    assert_eq!(SearchResult::from_json(&r.to_json().unwrap()).unwrap(), r);
}

/// Generations run in chunks of new evaluations (what the app does, to report progress inside
/// a generation) give exactly the search of whole steps; no checkpoint mid-generation.
#[test]
fn partial_steps_equal_whole_steps() {
    let p = problem(vec![Objective::Error, Objective::Size]);
    let mut whole = Search::new(config(&p, 4), &p).unwrap();
    while !whole.is_done() {
        whole.step(&p).unwrap();
    }
    for chunk in [1, 3, 7] {
        let mut part = Search::new(config(&p, 4), &p).unwrap();
        let mut partials = 0;
        while !part.is_done() {
            match part.step_partial(&p, chunk).unwrap() {
                StepProgress::Partial { done, total } => {
                    assert!(done < total && done % chunk == 0, "{done}/{total}");
                    assert_eq!(part.pending_progress(), Some((done, total)));
                    assert!(part.to_json().is_err(), "checkpoint mid-generation");
                    partials += 1;
                }
                StepProgress::Complete => assert_eq!(part.pending_progress(), None),
            }
        }
        assert!(partials > 0, "chunk {chunk}: no generation was split");
        assert_eq!(
            part.to_json().unwrap(),
            whole.to_json().unwrap(),
            "chunk {chunk}"
        );
        assert!(part.step_partial(&p, chunk).is_err(), "done");
    }
}

#[test]
fn front_is_non_dominated_and_hypervolume_monotone() {
    let p = problem(vec![Objective::Error, Objective::Size]);
    let mut s = Search::new(config(&p, 8), &p).unwrap();
    let mut last = f64::NEG_INFINITY;
    while !s.is_done() {
        let hv = s.step(&p).unwrap().hypervolume;
        assert!(hv >= last - 1e-12, "hypervolume fell from {last} to {hv}");
        last = hv;
    }
    let all: Vec<_> = s.evaluations().map(|(_, p)| p.clone()).collect();
    assert_eq!(all.len(), s.n_evaluated());
    let front = s.front();
    assert!(!front.is_empty());
    for f in &front {
        for q in &all {
            let dom = q.objectives.iter().zip(&f.objectives).all(|(a, b)| a <= b)
                && q.objectives.iter().zip(&f.objectives).any(|(a, b)| a < b);
            assert!(!dom, "{} dominates front member {}", q.genome, f.genome);
        }
    }
    // The population's front equals the front of every evaluation (elitism keeps them all).
    let global = pareto_front(&all);
    let objs = |v: &[bitgru::search::run::Point]| {
        v.iter().map(|p| p.objectives.clone()).collect::<Vec<_>>()
    };
    for o in objs(&global) {
        assert!(
            objs(&front).contains(&o),
            "{o:?} missing from the final front"
        );
    }
    let (mixed, hom) = s.hypervolumes();
    assert!(mixed >= hom);
    assert_eq!(s.homogeneous().len(), 7);
}

#[test]
fn corrupt_checkpoints_are_refused() {
    let p = problem(vec![Objective::Error, Objective::Size]);
    let mut s = Search::new(config(&p, 4), &p).unwrap();
    s.step(&p).unwrap();
    let json = s.to_json().unwrap();
    let e = Search::from_json(&json[..json.len() - 10])
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["version"] = 7.into();
    assert!(Search::from_json(&v.to_string())
        .unwrap_err()
        .to_string()
        .contains("version 7"));
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["config"]["pop"] = 6.into();
    assert!(Search::from_json(&v.to_string()).is_err());
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["generations"] = serde_json::json!([]);
    let e = Search::from_json(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("generations"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["config"]["gens"] = 0.into();
    assert!(Search::from_json(&v.to_string())
        .unwrap_err()
        .to_string()
        .contains("generations"));
}

#[test]
fn config_validation_and_difference() {
    let p = problem(vec![Objective::Error, Objective::Size]);
    let c = config(&p, 4);
    c.validate().unwrap();
    for (f, bad) in [
        ("pop", {
            let mut x = c.clone();
            x.pop = 0;
            x
        }),
        ("pop", {
            let mut x = c.clone();
            x.pop = 9;
            x
        }),
        ("gens", {
            let mut x = c.clone();
            x.gens = 0;
            x
        }),
        ("subset", {
            let mut x = c.clone();
            x.subset = 0;
            x
        }),
        ("reference", {
            let mut x = c.clone();
            x.reference_point = vec![1.1];
            x
        }),
        ("bits", {
            let mut x = c.clone();
            x.min_bits = 1;
            x
        }),
    ] {
        assert!(bad.validate().is_err(), "{f}");
    }
    let mut other = c.clone();
    other.gens = 9;
    assert_eq!(c.difference(&other), None, "gens may grow");
    other.seed = 1;
    assert_eq!(c.difference(&other).unwrap().0, "seed");
    // A subset that does not match the problem is refused.
    let mut wrong = c.clone();
    wrong.subset = 5;
    assert!(Search::new(wrong, &p).is_err());
}

#[test]
fn stratified_subset_keeps_class_balance() {
    let labels: Vec<usize> = (0..483).map(|i| (i * 7) % 12).collect();
    let s = stratified_subset(&labels, 120);
    assert_eq!(s.len(), 120);
    for c in 0..12 {
        let n = s.iter().filter(|&&i| labels[i] == c).count();
        assert!((9..=11).contains(&n), "class {c}: {n}");
    }
}
