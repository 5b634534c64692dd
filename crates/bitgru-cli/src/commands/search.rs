//! `bitgru search` (NSGA-II over the 17 bit widths) and `bitgru report`.
use super::plot;
use super::train::{qat_genome, QatData, QatRun};
use crate::cli::{FitnessArgs, ReportArgs, SearchArgs};
use crate::{inputs, models, util};
use anyhow::{bail, Context, Result};
use bitgru::eval::IntegerEvaluator;
use bitgru::io::ModelBundle;
use bitgru::search::analysis;
use bitgru::search::problem::stratified_subset;
use bitgru::search::run::{
    best_within, model_digest, FitnessInfo, QatPoint, QatRefinement, Rescore, Scored, Timings,
};
use bitgru::search::{Objective, QuantProblem, Search, SearchConfig, SearchResult};
use bitgru::task::{EvalSplit, Task};
use bitgru::Genome;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

const CHECKPOINT: &str = "checkpoint.json";
const RESULT: &str = "result.json";

/// Default fitness subset size of a task (see `--subset`).
fn default_subset(task: Option<Task>, n: usize) -> usize {
    match task {
        Some(Task::RowMnist) => 1000,
        Some(Task::PixelMnist) => 256,
        Some(Task::Kws4 | Task::Kws10) => n,
        None => 1000,
    }
    .min(n)
}

/// Labelled sequences with where they came from.
struct Split {
    name: String,
    sequences: Vec<Vec<f32>>,
    labels: Vec<usize>,
}

/// A task's split featurized for a model recording the front end `front` (KWS: its own MFCC).
fn task_split(
    task: Task,
    data: &Path,
    split: EvalSplit,
    front: &bitgru::frontend::FrontEnd,
    input: usize,
) -> Result<Split> {
    let ds =
        bitgru::task::load_eval_split_with(task, data, split, None, front).with_context(|| {
            format!(
                "loading {task} {} data from {}",
                split.name(),
                data.display()
            )
        })?;
    if ds.input != input {
        bail!(
            "task {task} has {} features per step, the model takes {input}",
            ds.input
        );
    }
    Ok(Split {
        name: split.name().to_string(),
        sequences: ds.sequences,
        labels: ds.labels,
    })
}

/// Writes a file atomically (temporary file + rename), so an interrupted write never leaves a
/// truncated checkpoint or result.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    util::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The fitness data of a search: the split, and its stratified subset.
struct Fitness {
    task_name: String,
    split: Split,
    subset: usize,
    n_split: usize,
    seqs: Vec<Vec<f32>>,
    labels: Vec<usize>,
}

/// Loads the fitness split (task data or a labelled inputs file) and draws the subset.
fn fitness(f: &FitnessArgs, c: &models::Calibrated) -> Result<Fitness> {
    let (task, data, inputs_file, model_path, subset) = (
        f.task,
        f.data.as_deref(),
        f.inputs.as_deref(),
        f.model.as_path(),
        f.subset,
    );
    let dims = c.model.dims();
    // The fitness split.
    let (task_name, split) = match (task, data, inputs_file) {
        (Some(task), Some(data), _) => {
            if !c.meta.task.is_empty()
                && c.meta.task.parse::<Task>().is_ok()
                && c.meta.task != task.name()
            {
                bail!(
                    "model {} was trained for task {}, not {task}; use --task {} (or a {task} model)",
                    model_path.display(),
                    c.meta.task,
                    c.meta.task
                );
            }
            (
                task.name().to_string(),
                task_split(
                    task,
                    data,
                    EvalSplit::Validation,
                    &c.meta.features,
                    dims.input,
                )?,
            )
        }
        (None, None, Some(path)) => {
            let inp = inputs::read_file(path, dims.input)?;
            let Some(labels) = inp.labels else {
                bail!(
                    "inputs file {} has no labels; the search scores accuracy and needs \"labels\"",
                    path.display()
                );
            };
            let name = if c.meta.task.is_empty() {
                "custom".to_string()
            } else {
                c.meta.task.clone()
            };
            (
                name,
                Split {
                    name: format!("inputs {}", path.display()),
                    sequences: inp.sequences,
                    labels,
                },
            )
        }
        _ => bail!("no fitness data: give --task T --data DIR, or --inputs FILE with labels"),
    };
    if let Some((k, l)) = split
        .labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l >= dims.classes)
    {
        bail!(
            "{}: label of sequence {k} is {l}, but the model has {} classes",
            split.name,
            dims.classes
        );
    }
    let n_split = split.labels.len();
    let subset: usize = subset.unwrap_or_else(|| default_subset(task, n_split));
    if subset == 0 || subset > n_split {
        bail!(
            "--subset {subset}: the {} split has {n_split} sequences (expected 1..={n_split})",
            split.name
        );
    }
    let idx = stratified_subset(&split.labels, subset);
    let fit_seqs: Vec<Vec<f32>> = idx.iter().map(|&i| split.sequences[i].clone()).collect();
    let fit_labels: Vec<usize> = idx.iter().map(|&i| split.labels[i]).collect();

    Ok(Fitness {
        task_name,
        split,
        subset,
        n_split,
        seqs: fit_seqs,
        labels: fit_labels,
    })
}

pub fn run(a: &SearchArgs) -> Result<()> {
    let t_start = Instant::now();
    let objectives = Objective::parse_list(&a.objectives).context("--objectives")?;
    let file = models::load(&a.fit.model)?;
    let c = models::calibrated(&a.fit.model, file, a.calib.as_deref())?;
    let dims = c.model.dims();

    let fit = fitness(&a.fit, &c)?;
    let (task_name, split, subset, n_split) = (fit.task_name, fit.split, fit.subset, fit.n_split);
    let (fit_seqs, fit_labels) = (fit.seqs, fit.labels);

    let mut config = SearchConfig::new(
        &task_name,
        &a.fit
            .model
            .file_name()
            .map_or(a.fit.model.display().to_string(), |f| {
                f.to_string_lossy().into()
            }),
        &model_digest(&c.model, &c.calibration),
        a.pop,
        a.gens,
        a.seed,
    )
    .with_objectives(objectives.clone());
    config.split = split.name.clone();
    config.subset = subset;
    config.crossover_prob = a.crossover;
    config.mutation_prob = a.mutation;
    config.min_bits = a.min_bits;
    config.max_bits = a.max_bits;
    config.validate().context("search configuration")?;

    // Everything is checked before anything is written.
    let resumed = match &a.resume {
        Some(dir) => {
            let path = dir.join(CHECKPOINT);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
            let mut s = Search::from_json(&text)
                .with_context(|| format!("checkpoint {}", path.display()))?;
            if let Some((field, was, now)) = s.config.difference(&config) {
                bail!(
                    "checkpoint {} was made with {field} = {was}, this run has {field} = {now}; \
                     resume with the same settings (only --gens may grow), or start a new --out",
                    path.display()
                );
            }
            s.extend_generations(a.gens)
                .with_context(|| format!("checkpoint {}", path.display()))?;
            Some(s)
        }
        None => None,
    };
    let same_dir = a.resume.as_deref().is_some_and(|r| same_path(r, &a.out));
    if !same_dir && !a.force && (a.out.join(CHECKPOINT).exists() || a.out.join(RESULT).exists()) {
        bail!(
            "{} already holds a search; continue it with --resume {0}, overwrite it with --force, \
             or choose another --out",
            a.out.display()
        );
    }
    if a.qat_epochs > 0 && a.fit.task.is_none() {
        bail!("--qat-epochs needs --task and --data (the training split fine-tunes the front)");
    }

    let problem = QuantProblem::new(
        c.model.clone(),
        c.calibration.clone(),
        &fit_seqs,
        fit_labels,
        objectives.clone(),
    )
    .with_context(|| format!("fitness set ({})", split.name))?;
    let mut search = match resumed {
        Some(s) => s,
        None => Search::new(config, &problem)?,
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create directory {}", a.out.display()))?;
    let ckpt_path = a.out.join(CHECKPOINT);
    write_atomic(&ckpt_path, search.to_json()?.as_bytes())?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second handler cannot be installed (e.g. in tests that call run twice): then Ctrl-C
        // keeps its default behaviour, and the per-generation checkpoint still holds.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let threads = rayon::current_num_threads();
    let pb = if a.quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(search.config.gens as u64);
        pb.set_style(util::bar_style("gen {pos}/{len}  eta {eta}  {msg}"));
        pb
    };
    pb.set_position(search.generations().len() as u64);
    if !a.quiet {
        eprintln!(
            "search {task_name}: {} ({} inputs, hidden {}, {} classes), fitness {subset} of {n_split} {} sequences \
             (float accuracy {:.4}), pop {} x {} generations, seed {}, {threads} threads{}",
            a.fit.model.display(),
            dims.input,
            dims.hidden,
            dims.classes,
            split.name,
            problem.float_accuracy(),
            search.config.pop,
            search.config.gens,
            search.config.seed,
            if search.generations().is_empty() { String::new() } else { format!(", resumed at generation {}", search.generations().len()) }
        );
    }
    while !search.is_done() {
        if stop.load(Ordering::SeqCst) {
            pb.finish_and_clear();
            eprintln!(
                "stopped after generation {} of {}; checkpoint {}. Continue with the same command \
                 plus --resume {}",
                search.generations().len(),
                search.config.gens,
                ckpt_path.display(),
                a.out.display()
            );
            return Ok(());
        }
        let t0 = Instant::now();
        let r = search.step(&problem)?;
        let (g, hv, new, front) = (
            r.generation,
            r.hypervolume,
            r.new_evaluations,
            r.front.len(),
        );
        let secs = t0.elapsed().as_secs_f64();
        search.set_seconds(secs);
        write_atomic(&ckpt_path, search.to_json()?.as_bytes())?;
        pb.set_position(search.generations().len() as u64);
        pb.set_message(format!(
            "HV {hv:.4}  front {front}  {:.0} evals/s",
            new as f64 / secs.max(1e-9)
        ));
        if pb.is_hidden() && !a.quiet {
            eprintln!("generation {g}: hypervolume {hv:.4}, front {front}, {new} new evaluations in {secs:.2}s");
        }
    }
    pb.finish_and_clear();

    // Final analysis.
    let mut result = search.result();
    result.fitness = FitnessInfo {
        split_size: n_split,
        subset,
        float_accuracy: problem.float_accuracy(),
    };
    let front_genomes: Vec<Genome> = result.front.iter().map(|p| p.genome).collect();
    let hom_genomes: Vec<Genome> = result.homogeneous.iter().map(|p| p.genome).collect();
    let mut splits = vec![split];
    if let (Some(task), Some(data)) = (a.fit.task, &a.fit.data) {
        if !task.is_kws() {
            splits.push(task_split(
                task,
                data,
                EvalSplit::Test,
                &c.meta.features,
                dims.input,
            )?);
        }
    }
    for s in &splits {
        let full = QuantProblem::new(
            c.model.clone(),
            c.calibration.clone(),
            &s.sequences,
            s.labels.clone(),
            objectives.clone(),
        )?;
        result.rescored.push(rescore(
            &full,
            &s.name,
            &front_genomes,
            &hom_genomes,
            search.config.max_bits,
        )?);
    }
    result.sensitivity =
        analysis::sensitivity(&problem, search.config.max_bits, search.config.min_bits)?;
    let pts: Vec<(Genome, f64, f64)> = result
        .front
        .iter()
        .map(|p| (p.genome, p.accuracy, p.size_normalized))
        .collect();
    result.clusters = analysis::cluster(&pts, 6, search.config.seed);

    if a.qat_epochs > 0 {
        let (task, data) = (
            a.fit.task.expect("checked"),
            a.fit.data.as_ref().expect("checked"),
        );
        result.qat = Some(qat_refine(a, task, data, &c, &splits[0], &result)?);
    }
    let search_seconds: f64 = search.generations().iter().map(|g| g.seconds).sum();
    result.timings = Timings {
        search_seconds,
        total_seconds: t_start.elapsed().as_secs_f64(),
        evaluations: search.n_evaluated(),
        evaluations_per_second: search.n_evaluated() as f64 / search_seconds.max(1e-9),
        threads,
    };

    write_atomic(&a.out.join(RESULT), result.to_json()?.as_bytes())?;
    write_atomic(
        &a.out.join("evaluations.csv"),
        evaluations_csv(&search).as_bytes(),
    )?;
    write_atomic(
        &a.out.join("front.svg"),
        plot::front_svg(&result, search.evaluations().map(|(_, p)| p)).as_bytes(),
    )?;
    print_report(&result);
    eprintln!(
        "wrote {}/{{result.json, evaluations.csv, front.svg, checkpoint.json}}",
        a.out.display()
    );
    Ok(())
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The front and the homogeneous genomes on a whole split.
fn rescore(
    full: &QuantProblem,
    split: &str,
    front: &[Genome],
    homogeneous: &[Genome],
    max_bits: u8,
) -> Result<Rescore> {
    let scored = |gs: &[Genome]| -> Result<Vec<Scored>> {
        Ok(full
            .evaluate_many(gs)?
            .iter()
            .map(|e| Scored {
                genome: e.genome,
                accuracy: e.accuracy,
                agreement: e.agreement,
                size_normalized: e.size.normalized,
            })
            .collect())
    };
    let front = scored(front)?;
    let homogeneous = scored(homogeneous)?;
    let acc8 = homogeneous
        .iter()
        .find(|s| s.genome.bits().iter().all(|&b| b == max_bits))
        .map(|s| s.accuracy);
    let best = acc8.and_then(|a8| {
        best_within(
            front
                .iter()
                .map(|s| (s.genome, s.accuracy, s.size_normalized)),
            a8,
            0.01,
        )
    });
    Ok(Rescore {
        split: split.to_string(),
        n: full.len(),
        float_accuracy: full.float_accuracy(),
        front,
        homogeneous,
        best_within_1pp: best,
    })
}

/// Fine-tunes every front genome with QAT and scores it on the whole search split.
fn qat_refine(
    a: &SearchArgs,
    task: Task,
    data: &Path,
    c: &models::Calibrated,
    split: &Split,
    result: &SearchResult,
) -> Result<QatRefinement> {
    let t0 = Instant::now();
    // The refinement's validation subset is a quarter of --qat-limit (as documented there);
    // it picks each genome's epoch, and the kept model is scored on the whole search split.
    let val_limit = if task.is_kws() {
        a.qat_limit / 4 + 1
    } else {
        (a.qat_limit / 4).max(1)
    };
    let qd = QatData::load(
        task,
        data,
        Some(a.qat_limit),
        Some(val_limit),
        &c.meta.features,
        &c.model,
    )?;
    let bundle = ModelBundle {
        meta: c.meta.clone(),
        model: c.model.clone(),
        calibration: c.calibration.clone(),
    };
    let run = QatRun {
        epochs: a.qat_epochs,
        batch: 128,
        lr: a.qat_lr,
        seed: a.seed,
        recalibrate: 512,
        shards: 4,
        quiet: true,
    };
    let ptq = result
        .rescored
        .first()
        .context("the search split was re-scored")?;
    let n = ptq.front.len();
    let picked: Vec<&Scored> = if a.qat_max == 0 || a.qat_max >= n {
        ptq.front.iter().collect()
    } else if a.qat_max == 1 {
        vec![&ptq.front[n - 1]]
    } else {
        // Evenly spaced by rank along the front, both ends included.
        let mut idx: Vec<usize> = (0..a.qat_max)
            .map(|k| k * (n - 1) / (a.qat_max - 1))
            .collect();
        idx.dedup();
        idx.into_iter().map(|i| &ptq.front[i]).collect()
    };
    let mut front = Vec::new();
    for (k, s) in picked.iter().enumerate() {
        if !a.quiet {
            eprintln!(
                "QAT {}/{}: genome {} (PTQ {:.4})",
                k + 1,
                picked.len(),
                s.genome,
                s.accuracy
            );
        }
        // A genome whose fine-tuning diverges keeps its PTQ point (and says why); the search's
        // other results do not depend on it.
        let (qat_accuracy, qat_error) = match qat_genome(&qd, &bundle, &s.genome, &run) {
            Ok(out) => {
                // Integer accuracy only: no float pass over the split. The codes are made with
                // the refined calibration (QAT re-calibrates, so its input scales may differ).
                let q = bitgru::QuantGru::prepare(&out.model, &out.calibration, &s.genome)?;
                let acc = IntegerEvaluator::new(
                    &out.calibration.input_scales,
                    &split.sequences,
                    Some(split.labels.clone()),
                )?
                .accuracy(&q)?
                .context("labelled split")?;
                (acc.max(s.accuracy), None)
            }
            Err(e) => {
                let why = format!("{e:#}");
                eprintln!("QAT of genome {} failed, PTQ kept: {why}", s.genome);
                (s.accuracy, Some(why))
            }
        };
        front.push(QatPoint {
            genome: s.genome,
            size_normalized: s.size_normalized,
            ptq_accuracy: s.accuracy,
            qat_accuracy,
            qat_error,
        });
    }
    let acc8 = ptq
        .homogeneous
        .iter()
        .find(|s| s.genome.bits().iter().all(|&b| b == result.config.max_bits))
        .map_or(0.0, |s| s.accuracy);
    let best = best_within(
        front
            .iter()
            .map(|q| (q.genome, q.qat_accuracy, q.size_normalized)),
        acc8,
        0.01,
    );
    let hv_points: Vec<Vec<f64>> = front
        .iter()
        .map(|q| vec![1.0 - q.qat_accuracy, q.size_normalized])
        .collect();
    Ok(QatRefinement {
        epochs: a.qat_epochs,
        train_samples: qd.train_len(),
        lr: a.qat_lr as f64,
        seed: a.seed,
        split: split.name.clone(),
        front,
        best_within_1pp: best,
        hypervolume: bitgru::search::hv::hypervolume(
            &hv_points,
            &result.config.reference_point[..2],
        ),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// One line per evaluation, in evaluation order.
fn evaluations_csv(s: &Search) -> String {
    let mut out = String::from(
        "order,generation,genome,accuracy,agreement,size_normalized,size_bytes,bitops_normalized\n",
    );
    for (k, (g, p)) in s.evaluations().enumerate() {
        out += &format!(
            "{k},{g},{},{},{},{},{},{}\n",
            p.genome, p.accuracy, p.agreement, p.size_normalized, p.size_bytes, p.bitops_normalized
        );
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// The summary table of a result.
fn print_report(r: &SearchResult) {
    let c = &r.config;
    println!(
        "search {} on {} (digest {}), fitness: {} of {} sequences of the {} split, float accuracy {}",
        c.task, c.model, c.model_digest, r.fitness.subset, r.fitness.split_size, c.split, pct(r.fitness.float_accuracy)
    );
    println!(
        "NSGA-II: population {}, {} generations, seed {}, objectives {}, bits {}..={}, crossover {}, mutation {}",
        c.pop,
        r.generations.len(),
        c.seed,
        c.objectives.iter().map(|o| o.name()).collect::<Vec<_>>().join(","),
        c.min_bits,
        c.max_bits,
        c.crossover_prob,
        c.mutation_prob.map_or("1/17".to_string(), |m| m.to_string())
    );
    let full = r.rescored.first();
    let test = r.rescored.iter().find(|s| s.split == "test");
    let col = |s: Option<&Rescore>, g: &Genome, hom: bool| {
        s.and_then(|s| {
            let list = if hom { &s.homogeneous } else { &s.front };
            list.iter()
                .find(|x| x.genome == *g)
                .map(|x| pct(x.accuracy))
        })
        .unwrap_or_else(|| "-".into())
    };
    let header = |title: &str| {
        println!("\n{title}");
        println!(
            "{:<19} {:>9} {:>10} {:>10} {:>14} {:>10}",
            "genome",
            "size",
            "bytes",
            "fitness",
            full.map_or("whole split".into(), |s| format!("{} (n={})", s.split, s.n)),
            test.map_or("".into(), |t| format!("test (n={})", t.n))
        );
    };
    let rows = |title: &str, points: &[bitgru::search::run::Point], hom: bool| {
        header(title);
        for p in points {
            println!(
                "{:<19} {:>9.4} {:>10} {:>10} {:>14} {:>10}",
                p.genome.to_string(),
                p.size_normalized,
                p.size_bytes,
                pct(p.accuracy),
                col(full, &p.genome, hom),
                if test.is_some() {
                    col(test, &p.genome, hom)
                } else {
                    String::new()
                }
            );
        }
    };
    rows("homogeneous", &r.homogeneous, true);
    rows("mixed-precision front (by size)", &r.front, false);
    println!(
        "\nhypervolume (reference point {:?}): mixed {:.4}, homogeneous {:.4} ({:+.4})",
        r.hypervolume.reference_point,
        r.hypervolume.mixed,
        r.hypervolume.homogeneous,
        r.hypervolume.mixed - r.hypervolume.homogeneous
    );
    let best_line = |label: &str, b: &Option<bitgru::search::run::BestWithin>| {
        match b {
        Some(b) => println!(
            "smallest within 1 pp of all-8 ({label}): {} at {} (all-8 {}), size {:.4} of all-8 = {:.1} % smaller",
            b.genome, pct(b.accuracy), pct(b.reference_accuracy), b.size_normalized, 100.0 * b.size_reduction
        ),
        None => println!("smallest within 1 pp of all-8 ({label}): none"),
    }
    };
    best_line("fitness subset", &r.best_within_1pp);
    for s in &r.rescored {
        best_line(&format!("{} split, n={}", s.split, s.n), &s.best_within_1pp);
    }
    if let Some(q) = &r.qat {
        println!(
            "\nQAT refinement ({} epoch(s) on {} training samples, lr {}, {:.0}s), accuracy on the {} split:",
            q.epochs, q.train_samples, q.lr, q.seconds, q.split
        );
        for p in &q.front {
            println!(
                "  {}  size {:.4}  PTQ {}  QAT {}",
                p.genome,
                p.size_normalized,
                pct(p.ptq_accuracy),
                pct(p.qat_accuracy)
            );
        }
        best_line("after QAT", &q.best_within_1pp);
        println!("  hypervolume after QAT: {:.4}", q.hypervolume);
    }
    if let Some(cl) = &r.clusters {
        println!(
            "\nclusters of the front: k = {} (silhouette {:.3})",
            cl.k, cl.silhouette
        );
        for (k, s) in cl.clusters.iter().enumerate() {
            println!(
                "  {k}: {} genomes, accuracy {}..{}, size {:.3}..{:.3}; ≥6 bits: {}; ≤3 bits: {}",
                s.members,
                pct(s.accuracy.0),
                pct(s.accuracy.1),
                s.size_normalized.0,
                s.size_normalized.1,
                if s.precise.is_empty() {
                    "-".into()
                } else {
                    s.precise.join(" ")
                },
                if s.squeezed.is_empty() {
                    "-".into()
                } else {
                    s.squeezed.join(" ")
                }
            );
        }
    }
    if !r.sensitivity.is_empty() {
        println!(
            "\nsensitivity (one gene lowered from all-{}, fitness accuracy):",
            c.max_bits
        );
        for g in &r.sensitivity {
            let cells: Vec<String> = g
                .points
                .iter()
                .map(|p| format!("{}b {:.1}", p.bits, 100.0 * p.accuracy))
                .collect();
            println!("  {:<7} {}", g.gene, cells.join("  "));
        }
    }
    let t = &r.timings;
    println!(
        "\ntime: search {:.1}s, total {:.1}s; {} genomes evaluated, {:.1} evaluations/s on {} threads",
        t.search_seconds, t.total_seconds, t.evaluations, t.evaluations_per_second, t.threads
    );
}

/// `bitgru report DIR`.
pub fn report(a: &ReportArgs) -> Result<()> {
    let path: PathBuf = if a.dir.is_dir() {
        a.dir.join(RESULT)
    } else {
        a.dir.clone()
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read search result {}", path.display()))?;
    let r = SearchResult::from_json(&text)
        .with_context(|| format!("search result {}", path.display()))?;
    if a.json {
        println!("{}", r.to_json()?);
    } else {
        print_report(&r);
    }
    Ok(())
}

/// `bitgru bench-search`: fitness evaluations per second, cache off, 1 thread and all threads.
pub fn bench(a: &crate::cli::BenchSearchArgs) -> Result<()> {
    use rand::{Rng, SeedableRng};
    if a.genomes == 0 || a.genomes > 100_000 {
        bail!("--genomes {}: expected 1..=100000", a.genomes);
    }
    let file = models::load(&a.fit.model)?;
    let c = models::calibrated(&a.fit.model, file, None)?;
    let fit = fitness(&a.fit, &c)?;
    if let Some(path) = &a.dump_inputs {
        let steps = fit.seqs[0].len() / c.model.input_size;
        let v = serde_json::json!({"sequences": fit.seqs, "labels": fit.labels, "steps": steps});
        util::write(path, v.to_string().as_bytes())?;
    }
    let problem = QuantProblem::new(
        c.model.clone(),
        c.calibration.clone(),
        &fit.seqs,
        fit.labels.clone(),
        vec![Objective::Error, Objective::Size],
    )?;
    // Distinct seeded random genomes (no cache: each is prepared and evaluated).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let mut genomes: Vec<Genome> = Vec::new();
    while genomes.len() < a.genomes {
        let mut b = [0u8; bitgru::N_GENES];
        for x in &mut b {
            *x = rng.gen_range(2..=8);
        }
        let g = Genome::new(b, bitgru::BitRange::FULL)?;
        if !genomes.contains(&g) {
            genomes.push(g);
        }
    }
    let time = |threads: usize| -> Result<(f64, Vec<f64>)> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("building a thread pool")?;
        pool.install(|| {
            // Warm-up (page faults, caches), then the timed pass.
            problem.evaluate(&genomes[0])?;
            let t0 = Instant::now();
            let evals = problem.evaluate_many(&genomes)?;
            let secs = t0.elapsed().as_secs_f64();
            Ok((secs, evals.iter().map(|e| e.accuracy).collect()))
        })
    };
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (s1, acc1) = time(1)?;
    let (sn, accn) = time(all)?;
    if acc1 != accn {
        bail!("accuracies differ between 1 and {all} threads: the kernel is not deterministic");
    }
    let steps = fit.seqs[0].len() / c.model.input_size;
    let out = serde_json::json!({
        "task": fit.task_name,
        "model": a.fit.model.display().to_string(),
        "dims": {"input": c.model.input_size, "hidden": c.model.hidden, "classes": c.model.classes},
        "steps": steps,
        "subset": fit.subset,
        "genomes": genomes.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        "accuracy": acc1,
        "seed": a.seed,
        "threads_1": {"seconds": s1, "evals_per_s": genomes.len() as f64 / s1},
        "threads_all": {"threads": all, "seconds": sn, "evals_per_s": genomes.len() as f64 / sn},
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{}: {} genomes on {} sequences x {steps} steps (H={}): {:.1} evals/s on 1 thread, {:.1} evals/s on {all} threads",
            fit.task_name,
            genomes.len(),
            fit.subset,
            c.model.hidden,
            genomes.len() as f64 / s1,
            genomes.len() as f64 / sn
        );
    }
    Ok(())
}
