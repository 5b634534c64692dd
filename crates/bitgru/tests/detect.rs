//! The streaming keyword detector (`bitgru::detect`): streaming equals batch (features, integer
//! and float GRU, resampled input, any chunk size); a constructed energy-keyword model finds
//! every keyword of a seeded stream and nothing in minutes of noise (always runs); the default
//! kws10 model on real validation clips embedded in held-out noise (skips without ../shared).
mod support;

use bitgru::audio::{resample, Mfcc};
use bitgru::detect::streams::{self, match_detections, LabeledClip, Placement, StreamConfig};
use bitgru::detect::{
    softmax_in_place, Detector, DetectorConfig, DetectorModel, DetectorOutput, Mode,
};
use bitgru::frontend::FrontEnd;
use bitgru::{Calibration, FloatGru, Genome, QuantGru, Scratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RATE: u32 = 16_000;
const WIN: usize = 49;

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// MFCC windows of a signal, for calibration.
fn windows(signal: &[f32], step: usize) -> Vec<Vec<f32>> {
    let f = Mfcc::default().compute(signal);
    let frames = f.len() / 10;
    (WIN..=frames)
        .step_by(step)
        .map(|t| f[(t - WIN) * 10..t * 10].to_vec())
        .collect()
}

fn calibrate(model: &FloatGru, signal: &[f32]) -> Calibration {
    let w = windows(signal, 7);
    let views: Vec<&[f32]> = w.iter().map(Vec::as_slice).collect();
    Calibration::compute(model, &views).unwrap()
}

fn all8() -> Genome {
    Genome::uniform(8).unwrap()
}

fn detector(model: DetectorModel, classes: &[String], cfg: DetectorConfig, rate: u32) -> Detector {
    Detector::new(model, &FrontEnd::default_mfcc(), classes, cfg, rate).unwrap()
}

fn push_chunks(d: &mut Detector, x: &[f32], chunk: usize) -> DetectorOutput {
    d.reset();
    let mut out = DetectorOutput::default();
    for c in x.chunks(chunk) {
        d.push(c, &mut out).unwrap();
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn streaming_equals_batch_for_features_and_both_models() {
    let signal = bitgru::detect::bench_signal(3, RATE, 3.0);
    let model = bitgru::synth::random_model(5, 10, 16, 4);
    let classes = names(&["a", "b", "_silence_", "_unknown_"]);
    let cal = calibrate(&model, &signal);
    let q = QuantGru::prepare(&model, &cal, &"64576888548886757".parse().unwrap()).unwrap();
    let feats = Mfcc::default().compute(&signal);
    let frames = feats.len() / 10;
    let raw = |every| DetectorConfig {
        mode: every,
        smooth_frames: 1,
        gate_dbfs: f32::NEG_INFINITY,
        ..DetectorConfig::default()
    };
    let s_logit = (q.head.w_scale * q.scales[bitgru::Gene::AddH as usize]) as f32;
    let int_probs = |x: &[f32]| {
        let mut s = Scratch::for_model(&q);
        let l = q.run(&q.quantize_input(x).unwrap(), &mut s).unwrap();
        let mut p: Vec<f32> = l.iter().map(|&v| v as f32 * s_logit).collect();
        softmax_in_place(&mut p);
        p
    };
    let float_probs = |x: &[f32]| {
        let mut p = model.forward(x).unwrap();
        softmax_in_place(&mut p);
        p
    };
    for (integer, mode) in [
        (true, Mode::Window { every: 1 }),
        (false, Mode::Window { every: 1 }),
        (true, Mode::Stateful { decay: 1.0 }),
        (false, Mode::Stateful { decay: 1.0 }),
    ] {
        let m = if integer {
            DetectorModel::integer(q.clone()).unwrap()
        } else {
            DetectorModel::float(model.clone()).unwrap()
        };
        let mut d = detector(m, &classes, raw(mode), RATE);
        let out = push_chunks(&mut d, &signal, 333);
        assert_eq!(out.frames.len(), frames, "one output per MFCC frame");
        for f in &out.frames {
            let t = f.frame as usize + 1;
            let x = match mode {
                Mode::Window { .. } if t < WIN => continue,
                Mode::Window { .. } => &feats[(t - WIN) * 10..t * 10],
                Mode::Stateful { .. } => &feats[..t * 10],
            };
            let want = if integer {
                int_probs(x)
            } else {
                float_probs(x)
            };
            assert_eq!(
                bits(&f.probs),
                bits(&want),
                "{mode:?} integer={integer} frame {}",
                f.frame
            );
            assert_eq!(f.probs, f.smoothed);
        }
        // Any chunk size gives the same outputs.
        let one = push_chunks(&mut d, &signal, 1);
        let big = push_chunks(&mut d, &signal, 7000);
        assert_eq!(one, out);
        assert_eq!(big, out);
    }
    // 48 kHz input through the streaming resampler equals the batch resampler's 16 kHz signal.
    let hi = bitgru::detect::bench_signal(4, 48_000, 2.0);
    let lo = resample(&hi, 48_000, RATE);
    let mk = |rate| {
        detector(
            DetectorModel::integer(q.clone()).unwrap(),
            &classes,
            raw(Mode::Window { every: 2 }),
            rate,
        )
    };
    let a = mk(48_000).run(&hi).unwrap();
    let b = mk(RATE).run(&lo).unwrap();
    assert!(!a.frames.is_empty());
    assert_eq!(a, b);
}

/// A hand-built GRU that detects loud broadband bursts ("beep"): one unit whose candidate is
/// `tanh(a·(c0 − θ))` and whose update gate is a constant 0.8 (an exponential average over about
/// five frames); head logits `[6h, 0, −2]`. θ and a come from the MFCC c0 of quiet noise and of
/// bursts.
fn burst_model(quiet_c0: f32, loud_c0: f32) -> FloatGru {
    let (i, h, c) = (10, 1, 3);
    let a = 6.0 / (loud_c0 - quiet_c0);
    let theta = 0.5 * (quiet_c0 + loud_c0);
    let mut w_ih = vec![0.0; 3 * h * i];
    w_ih[2 * i] = a; // n gate, coefficient c0
    FloatGru {
        input_size: i,
        hidden: h,
        classes: c,
        w_ih,
        w_hh: vec![0.0; 3 * h * h],
        b_ih: vec![0.0, 1.4, -a * theta],
        b_hh: vec![0.0; 3 * h],
        w_fc: vec![6.0, 0.0, 0.0],
        b_fc: vec![0.0, 0.0, -2.0],
    }
}

fn quiet(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-0.02f32..0.02)).collect()
}

fn burst(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-0.3f32..0.3)).collect()
}

fn mean_c0(x: &[f32]) -> f32 {
    let f = Mfcc::default().compute(x);
    let n = f.len() / 10;
    (0..n).map(|t| f[t * 10]).sum::<f32>() / n as f32
}

/// A seeded stream of quiet noise with 0.4 s bursts at known places.
fn burst_stream(seed: u64, seconds: f64, bursts: &[f64]) -> (Vec<f32>, Vec<Placement>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = quiet(&mut rng, (seconds * f64::from(RATE)) as usize);
    let len = (0.4 * f64::from(RATE)) as usize;
    let mut placements = Vec::new();
    for &t in bursts {
        let start = (t * f64::from(RATE)) as usize;
        for (s, b) in x[start..start + len].iter_mut().zip(burst(&mut rng, len)) {
            *s += b;
        }
        placements.push(Placement {
            start,
            len,
            class: 0,
        });
    }
    (x, placements)
}

#[test]
fn constructed_model_finds_every_burst_and_nothing_in_noise() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (q0, l0) = (
        mean_c0(&quiet(&mut rng, 16000)),
        mean_c0(&burst(&mut rng, 16000)),
    );
    assert!(l0 > q0 + 10.0, "bursts must be far louder: c0 {q0} vs {l0}");
    let model = burst_model(q0, l0);
    let classes = names(&["beep", "_silence_", "_unknown_"]);
    let times: Vec<f64> = (0..10)
        .map(|k| 3.0 + 5.0 * k as f64 + rng.gen_range(0.0..1.0))
        .collect();
    let (stream, placements) = burst_stream(12, 56.0, &times);
    let cal = calibrate(&model, &stream);
    let q = QuantGru::prepare(&model, &cal, &all8()).unwrap();
    let (free, _) = burst_stream(13, 180.0, &[]);
    for integer in [true, false] {
        let mk = |cfg: DetectorConfig| {
            let m = if integer {
                DetectorModel::integer(q.clone()).unwrap()
            } else {
                DetectorModel::float(model.clone()).unwrap()
            };
            detector(m, &classes, cfg, RATE)
        };
        let mut d = mk(DetectorConfig::default());
        let out = d.run(&stream).unwrap();
        let m = match_detections(&out.events, &placements, RATE, 0.25);
        assert_eq!(m.hit, vec![true; 10], "integer={integer}: {:?}", out.events);
        assert_eq!(m.false_alarms, 0, "integer={integer}: {:?}", out.events);
        assert!(out.events.iter().all(|e| e.keyword == "beep"));
        // Three minutes of keyword-free noise above the gate: the model runs, nothing fires.
        let out = d.run(&free).unwrap();
        assert!(out.events.is_empty(), "integer={integer}: {:?}", out.events);
        assert!(out.frames.iter().filter(|f| f.gated).count() < 60);
        // Digital silence: gated, the silence class gets the mass, nothing fires.
        let out = d.run(&vec![0.0; 3 * RATE as usize]).unwrap();
        assert!(out.events.is_empty() && out.frames.iter().all(|f| f.gated));
        assert!(out.frames.iter().all(|f| f.probs == [0.0, 1.0, 0.0]));
        // Bursts starting 0.7 s apart (0.3 s of quiet between them, enough to re-arm): one
        // detection with a 1.5 s refractory time, two without.
        let (pair, _) = burst_stream(14, 4.0, &[1.0, 1.7]);
        let mut long_refractory = mk(DetectorConfig {
            refractory_s: 1.5,
            ..DetectorConfig::default()
        });
        let ev = long_refractory.run(&pair).unwrap().events;
        assert_eq!(ev.len(), 1, "integer={integer}: {ev:?}");
        let mut no_refractory = mk(DetectorConfig {
            refractory_s: 0.0,
            ..DetectorConfig::default()
        });
        assert_eq!(
            no_refractory.run(&pair).unwrap().events.len(),
            2,
            "integer={integer}"
        );
    }
}

#[test]
fn bad_detector_inputs_are_refused() {
    let model = bitgru::synth::random_model(5, 10, 16, 4);
    let classes = names(&["a", "b", "_silence_", "_unknown_"]);
    let mk = |cfg: DetectorConfig, front: &FrontEnd, classes: &[String], rate| {
        Detector::new(
            DetectorModel::float(model.clone()).unwrap(),
            front,
            classes,
            cfg,
            rate,
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    let e = mk(
        DetectorConfig::default(),
        &FrontEnd::MnistRows,
        &classes,
        RATE,
    );
    assert!(e.contains("mnist-rows") && e.contains("mfcc"), "{e}");
    let e = mk(
        DetectorConfig::default(),
        &FrontEnd::default_mfcc(),
        &classes[..3],
        RATE,
    );
    assert!(e.contains("expected 4"), "{e}");
    let e = mk(
        DetectorConfig {
            threshold: 1.5,
            ..DetectorConfig::default()
        },
        &FrontEnd::default_mfcc(),
        &classes,
        RATE,
    );
    assert!(e.contains("threshold 1.5"), "{e}");
    let mut cfg = DetectorConfig::default();
    cfg.thresholds.insert("_silence_".into(), 0.5);
    let e = mk(cfg, &FrontEnd::default_mfcc(), &classes, RATE);
    assert!(e.contains("not a keyword") && e.contains("a, b"), "{e}");
    let e = mk(
        DetectorConfig::default(),
        &FrontEnd::default_mfcc(),
        &classes,
        0,
    );
    assert!(e.contains("0 Hz"), "{e}");
    // A non-finite sample is refused and changes nothing.
    let mut d = detector(
        DetectorModel::float(model.clone()).unwrap(),
        &classes,
        DetectorConfig::default(),
        RATE,
    );
    let mut out = DetectorOutput::default();
    d.push(&[0.1; 1000], &mut out).unwrap();
    let before = d.frames_done();
    let mut bad = vec![0.1f32; 20_000];
    bad[7] = f32::NAN;
    assert!(d
        .push(&bad, &mut out)
        .unwrap_err()
        .to_string()
        .contains("non-finite"));
    assert_eq!(d.frames_done(), before);
    // The config's JSON form: absent fields keep their defaults.
    let c: DetectorConfig = serde_json::from_str(r#"{"threshold": 0.9}"#).unwrap();
    assert_eq!(
        c,
        DetectorConfig {
            threshold: 0.9,
            ..DetectorConfig::default()
        }
    );
}

/// The default kws10 model on real validation keyword clips placed into the held-out noise, and
/// on a keyword-free stream of held-out noise (thresholds of docs/DETECTOR.md).
#[test]
fn kws10_detects_real_keywords_in_held_out_noise() {
    let Some(data) = support::shared_data("kws10_detects_real_keywords_in_held_out_noise") else {
        return;
    };
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../assets/models/kws10.safetensors"),
    )
    .unwrap();
    let bundle = bitgru::io::load_bundle(&bytes).unwrap();
    let task = bitgru::task::Task::Kws10;
    let dir = bitgru::task::task_dir(task, &data);
    let set = bitgru::data::speech::load_split(
        &dir,
        bitgru::data::speech::KwsTask::Kws10,
        bitgru::data::speech::SpeechSplit::Validation,
        None,
    )
    .unwrap();
    let kw: Vec<usize> = (0..set.len()).filter(|&i| set.labels[i] < 10).collect();
    let kw = bitgru::data::speech::evenly_spaced(&kw, Some(60));
    let clips: Vec<LabeledClip> = kw
        .iter()
        .map(|&i| LabeledClip {
            samples: set.clips[i].samples.clone(),
            class: set.labels[i],
        })
        .collect();
    let (_, held_out) = bitgru::task::load_noise(&data).unwrap();
    let cfg = StreamConfig {
        seed: 5,
        noise_s: 180.0,
        ..StreamConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let with_kw = streams::keywords_in_noise(&clips, &held_out, &cfg, &mut rng).unwrap();
    let free = streams::noise_only(&held_out, 1, &cfg, &mut rng).unwrap();
    let mut d =
        Detector::from_bundle(&bundle, Some(&all8()), DetectorConfig::default(), RATE).unwrap();
    let (mut hits, mut total) = (0, 0);
    for s in &with_kw {
        let mut out = DetectorOutput::default();
        d.reset();
        d.push(&s.samples, &mut out).unwrap();
        let m = match_detections(&out.events, &s.placements, RATE, 0.25);
        hits += m.hit.iter().filter(|&&h| h).count();
        total += m.hit.len();
    }
    let rate = hits as f64 / total as f64;
    eprintln!("kws10 in held-out noise: {hits}/{total} keywords detected");
    assert_eq!(total, 60);
    assert!(rate >= 0.45, "detection rate {rate:.3} ({hits}/{total})");
    d.reset();
    let mut out = DetectorOutput::default();
    d.push(&free[0].samples, &mut out).unwrap();
    assert!(
        out.events.is_empty(),
        "false alarms in {} s of keyword-free noise: {:?}",
        cfg.noise_s,
        out.events
    );
}
