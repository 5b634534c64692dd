//! Float training: gradients against finite differences, learning a synthetic task, determinism,
//! checkpoint/resume.
use bitgru::synth::{random_model, SynthTask};
use bitgru::train::{
    batch_grad, evaluate_float, Grads, InMemory, Loss, TrainConfig, Trainer, Workspace,
};
use bitgru::FloatGru;

fn loss(m: &FloatGru, xs: &[&[f32]], ys: &[usize], loss: Loss<'_>) -> f64 {
    let mut g = Grads::zeros_like(m);
    let mut ws = Workspace::default();
    let s = batch_grad(m, xs, ys, loss, None, xs.len() as f32, &mut g, &mut ws).unwrap();
    s.loss_sum / xs.len() as f64
}

fn params_mut(m: &mut FloatGru, k: usize) -> &mut Vec<f32> {
    match k {
        0 => &mut m.w_ih,
        1 => &mut m.w_hh,
        2 => &mut m.b_ih,
        3 => &mut m.b_hh,
        4 => &mut m.w_fc,
        _ => &mut m.b_fc,
    }
}

/// The analytic gradient of `spec`'s loss against central finite differences (every third
/// parameter of every tensor); returns the analytic gradient.
fn check_gradients(spec: Loss<'_>) -> Grads {
    let m = random_model(3, 3, 5, 4);
    let task = SynthTask::new(4, 4, 6, 3, 0.5);
    let (xs, ys) = task.sample(5, 7);
    let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
    let mut g = Grads::zeros_like(&m);
    let mut ws = Workspace::default();
    batch_grad(&m, &refs, &ys, spec, None, xs.len() as f32, &mut g, &mut ws).unwrap();
    let eps = 1e-2f32;
    let mut worst = 0f64;
    let mut checked = 0;
    for (k, grad) in g.tensors().iter().enumerate() {
        for i in (0..grad.len()).step_by(3) {
            let mut mp = m.clone();
            params_mut(&mut mp, k)[i] += eps;
            let mut mm = m.clone();
            params_mut(&mut mm, k)[i] -= eps;
            let numeric =
                (loss(&mp, &refs, &ys, spec) - loss(&mm, &refs, &ys, spec)) / (2.0 * eps as f64);
            let err = (numeric - grad[i] as f64).abs()
                / (numeric.abs().max(grad[i].abs() as f64).max(1e-2));
            worst = worst.max(err);
            checked += 1;
        }
    }
    eprintln!(
        "finite differences ({spec:?}): {checked} parameters, worst relative error {worst:.2e}"
    );
    assert!(worst < 2e-2, "worst relative error {worst}");
    g
}

#[test]
fn gradients_match_finite_differences() {
    check_gradients(Loss::weighted(Some(&[1.0, 2.0, 0.5, 1.5])));
}

/// Label smoothing: the gradient of the smoothed loss matches finite differences (with and
/// without class weights), differs from the plain one, and ε outside [0, 1) is refused.
#[test]
fn label_smoothing_gradients_match_finite_differences() {
    let cw = [1.0f32, 2.0, 0.5, 1.5];
    let plain = check_gradients(Loss::weighted(Some(&cw)));
    let smooth = check_gradients(Loss {
        class_weights: Some(&cw),
        label_smoothing: 0.2,
    });
    check_gradients(Loss {
        class_weights: None,
        label_smoothing: 0.1,
    });
    assert_ne!(plain.w_fc, smooth.w_fc);
    // Σ_c δlogit_c = w·(Σ p − Σ target) = 0 per sample, so the head-bias gradient sums to 0.
    let sum: f32 = smooth.b_fc.iter().sum();
    assert!(sum.abs() < 1e-5, "{sum}");
    // Equal logits: the loss is ln C whatever ε (the target is a distribution).
    let m0 = {
        let mut m = random_model(3, 3, 5, 4);
        m.w_fc.iter_mut().for_each(|v| *v = 0.0);
        m.b_fc.iter_mut().for_each(|v| *v = 0.0);
        m
    };
    let x = vec![0.5f32; 18];
    for eps in [0.0, 0.3] {
        let l = loss(
            &m0,
            &[&x],
            &[2],
            Loss {
                class_weights: None,
                label_smoothing: eps,
            },
        );
        assert!((l - 4f64.ln()).abs() < 1e-5, "ε {eps}: {l}");
    }
    for bad in [1.0f32, -0.1, f32::NAN] {
        let mut g = Grads::zeros_like(&m0);
        let err = batch_grad(
            &m0,
            &[&x],
            &[0],
            Loss {
                class_weights: None,
                label_smoothing: bad,
            },
            None,
            1.0,
            &mut g,
            &mut Workspace::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("label smoothing"), "{err}");
        let cfg = TrainConfig {
            label_smoothing: bad,
            ..config(1)
        };
        let (xs, ys) = SynthTask::new(1, 4, 6, 3, 0.5).sample(2, 8);
        let data = InMemory { xs: &xs, ys: &ys };
        assert!(Trainer::new(random_model(1, 3, 4, 4), cfg, &data).is_err());
    }
}

#[test]
fn truncated_bptt_only_changes_early_gradients() {
    let m = random_model(8, 2, 4, 3);
    let task = SynthTask::new(9, 3, 10, 2, 0.5);
    let (xs, ys) = task.sample(10, 5);
    let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
    let run = |k: Option<usize>| {
        let mut g = Grads::zeros_like(&m);
        let mut ws = Workspace::default();
        batch_grad(&m, &refs, &ys, Loss::default(), k, 5.0, &mut g, &mut ws).unwrap();
        g
    };
    let full = run(None);
    let all = run(Some(10));
    let short = run(Some(2));
    assert_eq!(full, all);
    assert_eq!(
        full.w_fc, short.w_fc,
        "the head gradient does not depend on BPTT depth"
    );
    assert_ne!(full.w_hh, short.w_hh);
}

fn config(seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: 6,
        batch_size: 32,
        lr: 1e-2,
        warmup_steps: 5,
        seed,
        shards: 3,
        ..TrainConfig::default()
    }
}

#[test]
fn learns_a_synthetic_task_deterministically() {
    let task = SynthTask::new(21, 4, 12, 3, 0.8);
    let (xs, ys) = task.sample(22, 512);
    let (vx, vy) = task.sample(23, 256);
    let train = InMemory { xs: &xs, ys: &ys };
    let val = InMemory { xs: &vx, ys: &vy };
    let run = || {
        let mut t = Trainer::new(random_model(1, 3, 16, 4), config(7), &train).unwrap();
        let mut epochs = Vec::new();
        t.fit(&train, Some(&val), |_, e| {
            if let Some(e) = e {
                epochs.push(e.clone())
            }
        })
        .unwrap();
        (t, epochs)
    };
    let (t1, e1) = run();
    for e in &e1 {
        eprintln!(
            "epoch {} loss {:.4} acc {:.3} val {:.3}",
            e.epoch,
            e.train_loss,
            e.train_accuracy,
            e.val_accuracy.unwrap()
        );
    }
    assert!(e1.last().unwrap().train_loss < 0.5 * e1[0].train_loss);
    let best = t1.best.as_ref().unwrap().0;
    assert!(best > 0.9, "validation accuracy {best}");
    let (t2, e2) = run();
    assert_eq!(t1.model, t2.model, "same seed, same model");
    assert_eq!(e1, e2);
}

#[test]
fn checkpoint_resume_is_identical() {
    for (eps, ema) in [
        (0.0, None),
        (0.1, None),
        (0.0, Some(0.9)),
        (0.1, Some(0.999)),
    ] {
        resume_is_identical(eps, ema);
    }
}

/// A run checkpointed mid-epoch and restored continues exactly like the uninterrupted run:
/// weights, EMA weights, per-epoch validation (of the EMA when on) and the kept best model.
fn resume_is_identical(label_smoothing: f32, ema: Option<f32>) {
    let task = SynthTask::new(31, 3, 8, 2, 0.8);
    let (xs, ys) = task.sample(32, 200);
    let (vx, vy) = task.sample(33, 40);
    let train = InMemory { xs: &xs, ys: &ys };
    let val = InMemory { xs: &vx, ys: &vy };
    let cfg = TrainConfig {
        label_smoothing,
        ema,
        ..config(3)
    };
    let mut a = Trainer::new(random_model(2, 2, 8, 3), cfg, &train).unwrap();
    for _ in 0..9 {
        let s = a.step(&train).unwrap();
        if s.epoch_done {
            a.end_epoch(Some(&val)).unwrap();
        }
    }
    let ck = a.checkpoint();
    let v: serde_json::Value = serde_json::from_slice(&ck).unwrap();
    // EMA off: the checkpoint has no EMA field at all (bit-identical to the format before EMA).
    assert_eq!(v.get("ema").is_some(), ema.is_some());
    assert_eq!(v["config"].get("ema").is_some(), ema.is_some());
    let mut b = Trainer::restore(&ck).unwrap();
    assert_eq!(b.config.label_smoothing, label_smoothing);
    assert_eq!(b.config.ema, ema);
    assert_eq!(a.ema_model(), b.ema_model());
    for _ in 0..9 {
        let sa = a.step(&train).unwrap();
        let sb = b.step(&train).unwrap();
        assert_eq!(sa.loss, sb.loss);
        if sa.epoch_done {
            let ra = a.end_epoch(Some(&val)).unwrap();
            let rb = b.end_epoch(Some(&val)).unwrap();
            assert_eq!(ra, rb);
            assert_eq!(ra.val_accuracy_raw.is_some(), ema.is_some());
        }
    }
    assert_eq!(a.model, b.model);
    assert_eq!(a.ema_model(), b.ema_model());
    assert_eq!(a.ema_model().is_some(), ema.is_some());
    assert_eq!(a.best, b.best);
    assert_eq!(a.history, b.history);
    assert!(Trainer::restore(&ck[..ck.len() / 2]).is_err());
}

/// EMA of the weights: the average follows `ema = d_t·ema + (1 − d_t)·w` with the warm-up decay
/// `d_t = min(d, t/(t + 9))` bit for bit, the raw training trajectory is the same as without
/// EMA, validation scores the average (the raw weights' score is recorded beside it) and the
/// kept best model is the average.
#[test]
fn ema_follows_the_warmup_formula_and_is_what_is_kept() {
    let task = SynthTask::new(41, 3, 8, 2, 0.8);
    let (xs, ys) = task.sample(42, 96);
    let (vx, vy) = task.sample(43, 48);
    let train = InMemory { xs: &xs, ys: &ys };
    let val = InMemory { xs: &vx, ys: &vy };
    let d = 0.5f32; // binds from t = 9 on: both regimes of d_t within the 12 steps below
    let init = random_model(6, 2, 8, 3);
    let mut on = Trainer::new(
        init.clone(),
        TrainConfig {
            ema: Some(d),
            ..config(4)
        },
        &train,
    )
    .unwrap();
    let mut off = Trainer::new(init.clone(), config(4), &train).unwrap();
    assert_eq!(off.ema_model(), None);
    assert_eq!(off.ema_decay_at(1), None);
    assert_eq!(on.ema_model(), Some(&init));
    assert_eq!(on.ema_decay_at(1), Some(0.1));
    assert_eq!(on.ema_decay_at(9), Some(0.5));
    assert_eq!(on.ema_decay_at(1000), Some(0.5));
    let mut expect = init.clone();
    for t in 1..=12u64 {
        let s_on = on.step(&train).unwrap();
        let s_off = off.step(&train).unwrap();
        assert_eq!(s_on.loss, s_off.loss, "EMA must not change training");
        assert_eq!(on.model, off.model);
        let dt = d.min(t as f32 / (t as f32 + 9.0));
        let w = &on.model;
        let avg = |e: &mut Vec<f32>, w: &[f32]| {
            for (e, w) in e.iter_mut().zip(w) {
                *e = dt * *e + (1.0 - dt) * *w;
            }
        };
        avg(&mut expect.w_ih, &w.w_ih);
        avg(&mut expect.w_hh, &w.w_hh);
        avg(&mut expect.b_ih, &w.b_ih);
        avg(&mut expect.b_hh, &w.b_hh);
        avg(&mut expect.w_fc, &w.w_fc);
        avg(&mut expect.b_fc, &w.b_fc);
        assert_eq!(on.ema_model(), Some(&expect), "step {t}");
        assert_ne!(on.ema_model(), Some(&on.model));
        if s_on.epoch_done {
            let r_on = on.end_epoch(Some(&val)).unwrap();
            let r_off = off.end_epoch(Some(&val)).unwrap();
            let score = |m| evaluate_float(m, &val).unwrap().accuracy();
            assert_eq!(r_on.val_accuracy, Some(score(&expect)));
            assert_eq!(r_on.val_accuracy_raw, Some(score(&on.model)));
            assert_eq!(r_on.val_accuracy_raw, r_off.val_accuracy);
            assert_eq!(r_off.val_accuracy_raw, None);
            if r_on.improved {
                assert_eq!(on.best.as_ref().unwrap().1, expect);
            }
            assert_eq!(off.best.as_ref().unwrap().1, off.model);
        }
    }
    assert_eq!(on.epoch, 4, "96 samples / 32 = 3 steps an epoch");
}

/// A bad EMA decay is refused with a typed error naming it (also for QAT, which does not take
/// an EMA).
#[test]
fn bad_ema_decay_is_refused() {
    let task = SynthTask::new(41, 3, 8, 2, 0.8);
    let (xs, ys) = task.sample(42, 32);
    let train = InMemory { xs: &xs, ys: &ys };
    for d in [0.0, 1.0, -0.5, 1.5, f32::NAN, f32::INFINITY] {
        let cfg = TrainConfig {
            ema: Some(d),
            ..config(1)
        };
        let e = Trainer::new(random_model(1, 2, 4, 3), cfg, &train).unwrap_err();
        assert!(
            matches!(&e, bitgru::Error::Invalid { what, .. } if what == "EMA decay"),
            "{d}: {e}"
        );
        assert!(bitgru::train::check_ema(d).is_err());
    }
    bitgru::train::check_ema(0.999).unwrap();
    let cfg = TrainConfig {
        ema: Some(0.99),
        ..config(1)
    };
    let model = random_model(1, 2, 4, 3);
    let mut t = Trainer::new(model.clone(), cfg, &train).unwrap();
    let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
    let calibration = bitgru::Calibration::compute(&model, &refs).unwrap();
    let e = t
        .set_qat(bitgru::train::QatConfig {
            genome: "88888888888888888".parse().unwrap(),
            calibration,
            recalibrate_samples: 0,
        })
        .unwrap_err();
    assert!(e.to_string().contains("EMA"), "{e}");
}

/// QAT: the fake-quant training gradient matches finite differences of the fake-quant loss
/// where the loss is locally smooth (weights away from quantization steps is not guaranteed, so
/// we check the head bias, which has no quantizer of its own), QAT improves a low-bit model
/// over PTQ, and the integer kernel agrees with the QAT'ed model's fake-quant path.
#[test]
fn qat_improves_low_bit_accuracy_and_matches_the_kernel() {
    use bitgru::fakequant::FakeQuant;
    use bitgru::train::QatConfig;
    use bitgru::{Calibration, Genome, QuantGru, Scratch};
    let task = SynthTask::new(41, 4, 12, 3, 0.8);
    let (xs, ys) = task.sample(42, 512);
    let (vx, vy) = task.sample(43, 400);
    let train = InMemory { xs: &xs, ys: &ys };
    let val = InMemory { xs: &vx, ys: &vy };
    let mut t = Trainer::new(random_model(4, 3, 16, 4), config(11), &train).unwrap();
    t.fit(&train, Some(&val), |_, _| {}).unwrap();
    let float = t.best.clone().unwrap().1;
    let refs: Vec<&[f32]> = xs[..128].iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&float, &refs).unwrap();
    let genome: Genome = "33333333333333333".parse().unwrap();
    let int_acc = |m: &FloatGru, c: &Calibration| {
        let q = QuantGru::prepare(m, c, &genome).unwrap();
        let mut s = Scratch::for_model(&q);
        vx.iter()
            .zip(&vy)
            .filter(|(x, y)| q.predict(&q.quantize_input(x).unwrap(), &mut s).unwrap() == **y)
            .count()
    };
    let ptq = int_acc(&float, &cal);
    let cfg = TrainConfig {
        epochs: 4,
        lr: 2e-3,
        warmup_steps: 0,
        ..config(12)
    };
    let mut q = Trainer::new(float.clone(), cfg, &train).unwrap();
    q.set_qat(QatConfig {
        genome,
        calibration: cal.clone(),
        recalibrate_samples: 128,
    })
    .unwrap();
    q.fit(&train, Some(&val), |_, e| {
        if let Some(e) = e {
            eprintln!(
                "QAT epoch {} loss {:.4} val(int) {:.3}",
                e.epoch,
                e.train_loss,
                e.val_accuracy.unwrap()
            );
        }
    })
    .unwrap();
    let (_, qm) = q.best.clone().unwrap();
    let qcal = q.best_calibration.clone().unwrap();
    let qat = int_acc(&qm, &qcal);
    eprintln!("3-bit: PTQ {ptq}/400, QAT {qat}/400");
    assert!(qat > ptq + 8, "QAT {qat} should beat PTQ {ptq}");
    // Integer kernel == fake-quant path of the QAT'ed model.
    let qq = QuantGru::prepare(&qm, &qcal, &genome).unwrap();
    let fq = FakeQuant::new(&qq);
    let mut s = Scratch::for_model(&qq);
    for x in &vx[..100] {
        let c = qq.quantize_input(x).unwrap();
        assert_eq!(qq.predict(&c, &mut s).unwrap(), fq.predict(&c).unwrap());
    }
}

/// At 8 bits the straight-through gradient is close to the float gradient (cosine > 0.95), and
/// at 2 bits it is not identical to it (the quantizers are really in the path).
#[test]
fn qat_gradient_tracks_float_gradient_at_8_bits() {
    use bitgru::train::{qat_batch_grad, QatSpec, QatWorkspace};
    use bitgru::{Calibration, Genome};
    let m = random_model(51, 3, 12, 4);
    let task = SynthTask::new(52, 4, 10, 3, 0.8);
    let (xs, ys) = task.sample(53, 64);
    let refs: Vec<&[f32]> = xs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs).unwrap();
    let mut gf = Grads::zeros_like(&m);
    batch_grad(
        &m,
        &refs,
        &ys,
        Loss::default(),
        None,
        64.0,
        &mut gf,
        &mut Workspace::default(),
    )
    .unwrap();
    let cos = |bits: u8| {
        let spec = QatSpec::new(&cal, &Genome::uniform(bits).unwrap());
        let mut gq = Grads::zeros_like(&m);
        qat_batch_grad(
            &m,
            &spec,
            &refs,
            &ys,
            Loss::default(),
            64.0,
            &mut gq,
            &mut QatWorkspace::default(),
        )
        .unwrap();
        let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
        for (a, b) in gf.tensors().iter().zip(gq.tensors()) {
            for (x, y) in a.iter().zip(b.iter()) {
                dot += (*x as f64) * (*y as f64);
                na += (*x as f64).powi(2);
                nb += (*y as f64).powi(2);
            }
        }
        dot / (na.sqrt() * nb.sqrt())
    };
    let (c8, c2) = (cos(8), cos(2));
    eprintln!("cosine(float grad, STE grad): 8-bit {c8:.4}, 2-bit {c2:.4}");
    assert!(c8 > 0.95, "{c8}");
    assert!(c2 < c8);
}

/// Keyword-spotting training stream (waveform augmentation, SpecAugment masks, extra generated
/// silence) with label smoothing: a run resumed from a mid-epoch checkpoint is bit-identical to
/// the uninterrupted run, and the checkpoint records the settings.
#[test]
fn kws_augmented_resume_is_identical_and_recorded() {
    use bitgru::data::augment::{KwsAugment, NoiseBank, SpecAugment};
    use bitgru::task::{default_mfcc, KwsTrainSource};
    use bitgru::train::BatchSource;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let labels: Vec<usize> = (0..12).map(|k| k % 3).collect();
    let clips: Vec<Vec<f32>> = labels
        .iter()
        .map(|&l| {
            (0..16000)
                .map(|i| {
                    0.3 * ((i as f32) * 0.02 * (l + 1) as f32).sin() + rng.gen_range(-0.01..0.01)
                })
                .collect()
        })
        .collect();
    let noise = NoiseBank {
        parts: vec![(
            "n".into(),
            (0..40_000).map(|_| rng.gen_range(-0.5..0.5)).collect(),
        )],
    };
    let mut aug = KwsAugment {
        spec: "2,5,1,2".parse::<SpecAugment>().unwrap(),
        extra_silence: 0.5,
        ..KwsAugment::default()
    };
    aug.waveform.max_shift_ms = 200.0;
    aug.waveform.snr_db = (0.0, 10.0);
    let src = KwsTrainSource::new(
        clips,
        labels,
        2,
        1,
        &aug,
        noise,
        default_mfcc().unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(src.len(), 18);
    assert_eq!(src.label(15), 2, "extra examples are _silence_");
    let cfg = |shards| TrainConfig {
        epochs: 3,
        batch_size: 4,
        lr: 1e-2,
        warmup_steps: 2,
        seed: 9,
        shards,
        balance_classes: true,
        label_smoothing: 0.1,
        augment: Some(aug.clone()),
        ..TrainConfig::default()
    };
    let mut a = Trainer::new(random_model(4, 10, 6, 3), cfg(2), &src).unwrap();
    for _ in 0..7 {
        if a.step(&src).unwrap().epoch_done {
            a.end_epoch(None).unwrap();
        }
    }
    let ck = a.checkpoint();
    let v: serde_json::Value = serde_json::from_slice(&ck).unwrap();
    assert_eq!(v["config"]["label_smoothing"].as_f64().unwrap() as f32, 0.1);
    assert_eq!(v["config"]["augment"]["spec"]["max_time_width"], 5);
    assert_eq!(v["config"]["augment"]["extra_silence"], 0.5);
    assert_eq!(v["config"]["augment"]["waveform"]["snr_db"][1], 10.0);
    let mut b = Trainer::restore_for(&ck, &src).unwrap();
    assert_eq!(b.config, a.config);
    let mut c = Trainer::new(random_model(4, 10, 6, 3), cfg(2), &src).unwrap();
    for k in 0..7 {
        let sa = a.step(&src).unwrap();
        let sb = b.step(&src).unwrap();
        assert_eq!(sa.loss, sb.loss, "step {k} after resuming");
        if sa.epoch_done {
            a.end_epoch(None).unwrap();
            b.end_epoch(None).unwrap();
        }
    }
    assert_eq!(a.model, b.model);
    // Uninterrupted from scratch: identical to `a` (checkpointed and continued).
    for _ in 0..14 {
        if c.step(&src).unwrap().epoch_done {
            c.end_epoch(None).unwrap();
        }
    }
    assert_eq!(a.model, c.model);
}
