//! `Trainer::restore` on corrupt or mismatched checkpoints (issue 10): every field that training
//! later indexes or divides by is checked, with an error naming it, never a panic.
use bitgru::synth::{random_model, SynthTask};
use bitgru::train::{InMemory, TrainConfig, Trainer};
use serde_json::{json, Value};

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 16,
        lr: 0.01,
        warmup_steps: 2,
        shards: 2,
        balance_classes: true,
        ..Default::default()
    }
}

/// A checkpoint after one epoch and a few steps (so best, cursor and Adam moments are set).
fn checkpoint() -> (Vec<Vec<f32>>, Vec<usize>, Value) {
    let task = SynthTask::new(31, 3, 8, 2, 0.8);
    let (xs, ys) = task.sample(32, 64);
    let train = InMemory { xs: &xs, ys: &ys };
    let mut t = Trainer::new(random_model(2, 2, 8, 3), config(), &train).unwrap();
    for _ in 0..6 {
        if t.step(&train).unwrap().epoch_done {
            t.end_epoch(None).unwrap();
        }
    }
    let v = serde_json::from_slice(&t.checkpoint()).unwrap();
    (xs, ys, v)
}

fn restore_err(v: &Value) -> String {
    Trainer::restore(&serde_json::to_vec(v).unwrap())
        .unwrap_err()
        .to_string()
}

#[test]
fn corrupt_fields_are_named() {
    let (_, _, good) = checkpoint();
    Trainer::restore(&serde_json::to_vec(&good).unwrap()).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("config.lr", Box::new(|v| v["config"]["lr"] = json!(-0.01))),
        (
            "config.min_lr",
            Box::new(|v| v["config"]["min_lr"] = json!(-1.0)),
        ),
        (
            "batch_size 0",
            Box::new(|v| v["config"]["batch_size"] = json!(0)),
        ),
        ("shards 0", Box::new(|v| v["config"]["shards"] = json!(0))),
        ("cursor", Box::new(|v| v["cursor"] = json!(1_000_000))),
        ("order", Box::new(|v| v["order"][0] = json!(1_000_000))),
        ("order", Box::new(|v| v["order"][1] = v["order"][0].clone())),
        (
            "steps_per_epoch",
            Box::new(|v| v["steps_per_epoch"] = json!(1)),
        ),
        (
            "Adam m tensor 0",
            Box::new(|v| {
                v["opt"]["m"]["w_ih"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "Adam v",
            Box::new(|v| v["opt"]["v"]["b_fc"][0] = json!(-1.0)),
        ),
        (
            "class_weights",
            Box::new(|v| v["class_weights"][1] = json!(-2.0)),
        ),
        (
            "class_weights",
            Box::new(|v| {
                v["class_weights"].as_array_mut().unwrap().pop();
            }),
        ),
        ("best score", Box::new(|v| v["best"][0] = json!(2.0))),
        (
            "best model",
            Box::new(|v| {
                let m = random_model(3, 2, 4, 3);
                v["best"][1] = serde_json::to_value(m).unwrap();
            }),
        ),
    ];
    for (needle, edit) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let e = restore_err(&v);
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

/// EMA checkpoints (issue 9): a hand-edited decay or inconsistent EMA weights are refused with
/// an error naming the field.
#[test]
fn ema_checkpoint_fields_are_checked() {
    let task = SynthTask::new(31, 3, 8, 2, 0.8);
    let (xs, ys) = task.sample(32, 64);
    let train = InMemory { xs: &xs, ys: &ys };
    let cfg = TrainConfig {
        ema: Some(0.99),
        ..config()
    };
    let mut t = Trainer::new(random_model(2, 2, 8, 3), cfg, &train).unwrap();
    for _ in 0..6 {
        if t.step(&train).unwrap().epoch_done {
            t.end_epoch(None).unwrap();
        }
    }
    let good: Value = serde_json::from_slice(&t.checkpoint()).unwrap();
    let back = Trainer::restore(&serde_json::to_vec(&good).unwrap()).unwrap();
    assert_eq!(back.ema_model(), t.ema_model());
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("config.ema", Box::new(|v| v["config"]["ema"] = json!(1.0))),
        ("config.ema", Box::new(|v| v["config"]["ema"] = json!(0.0))),
        ("config.ema", Box::new(|v| v["config"]["ema"] = json!(-0.5))),
        ("config.ema", Box::new(|v| v["config"]["ema"] = json!(1.5))),
        (
            "no EMA weights",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("ema");
            }),
        ),
        (
            "without config.ema",
            Box::new(|v| {
                v["config"].as_object_mut().unwrap().remove("ema");
            }),
        ),
        (
            "gru.weight_hh_l0",
            Box::new(|v| {
                v["ema"]["w_hh"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "checkpoint ema",
            Box::new(|v| {
                let m = random_model(3, 2, 4, 3);
                v["ema"] = serde_json::to_value(m).unwrap();
            }),
        ),
    ];
    for (needle, edit) in cases {
        let mut v = good.clone();
        edit(&mut v);
        let e = Trainer::restore(&serde_json::to_vec(&v).unwrap())
            .err()
            .unwrap_or_else(|| panic!("{needle}: restored"))
            .to_string();
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn resuming_on_other_data_is_refused() {
    let (xs, ys, v) = checkpoint();
    let bytes = serde_json::to_vec(&v).unwrap();
    // Same data: fine. Fewer samples (another --limit): an error, not an index panic.
    Trainer::restore_for(&bytes, &InMemory { xs: &xs, ys: &ys }).unwrap();
    let e = Trainer::restore_for(
        &bytes,
        &InMemory {
            xs: &xs[..32],
            ys: &ys[..32],
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("made on 64 training samples, this data set has 32"),
        "{e}"
    );
    let mut bad_labels = ys.clone();
    bad_labels[5] = 7;
    let e = Trainer::restore_for(
        &bytes,
        &InMemory {
            xs: &xs,
            ys: &bad_labels,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("label 7 of sample 5"), "{e}");
}

#[test]
fn committed_checkpoints_still_restore() {
    // The stricter validation must accept every checkpoint real training wrote.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/checkpoints");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            Trainer::restore(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            n += 1;
        }
    }
    assert!(n >= 1, "no checkpoint in {}", dir.display());
}
