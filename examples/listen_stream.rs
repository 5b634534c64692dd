//! Builds the Listen page's test stream from Speech Commands validation clips, and measures the
//! listening session natively.
//!
//! ```text
//! cargo run --release --example listen_stream -- DATA_DIR OUT_DIR [PER_WORD]
//! ```
//! writes `OUT_DIR/stream.wav` (16 kHz mono 16-bit: the first PER_WORD (default 2) validation
//! clips of yes, no, up, down, interleaved, each followed by 1 s of silence),
//! `OUT_DIR/stream.json` (`[{word, start_s}]`) and `OUT_DIR/yes.wav` (the `yes` clips only, the
//! fake microphone of the browser test). Then it runs the stream through a listening session
//! of the kws4 model (the page's default settings; like the page's "use a file", the stream is
//! finished with the detector's flush) and prints the detections and the compute time per
//! 20 ms hop (of the stream itself) for one integer variant (8 bits) as JSON on stdout: the
//! whole session (`native_us_per_hop…`, with the spectrogram's MFCCs) and the detector alone
//! (`native_detector_us_per_hop…`: MFCC + GRU + decision).
use bitgru::audio::{decode, DecodeOptions};
use bitgru_web::listen::{wav_bytes, Session, RATE};
use bitgru_web::protocol::{ListenSettings, ListenVariant};
use std::path::PathBuf;
use std::time::Instant;

const WORDS: [&str; 4] = ["yes", "no", "up", "down"];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(data), Some(out)) = (args.first(), args.get(1)) else {
        return Err("usage: listen_stream DATA_DIR OUT_DIR [PER_WORD]".into());
    };
    let per_word: usize = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let sc = PathBuf::from(data).join("speech_commands");
    let list = std::fs::read_to_string(sc.join("validation_list.txt"))
        .map_err(|e| format!("{}: {e}", sc.join("validation_list.txt").display()))?;
    let clip = |word: &str, k: usize| -> Res<Vec<f32>> {
        let rel = list
            .lines()
            .filter(|l| l.starts_with(&format!("{word}/")))
            .nth(k)
            .ok_or_else(|| format!("fewer than {} {word} validation clips", k + 1))?;
        let bytes = std::fs::read(sc.join(rel))?;
        Ok(decode(&bytes, &DecodeOptions::default())?.samples)
    };
    let gap = vec![0.0f32; RATE as usize];
    let mut stream = Vec::new();
    let mut yes = Vec::new();
    let mut marks = Vec::new();
    for k in 0..per_word {
        for w in WORDS {
            let c = clip(w, k)?;
            marks.push(
                serde_json::json!({"word": w, "start_s": stream.len() as f64 / f64::from(RATE)}),
            );
            stream.extend_from_slice(&c);
            stream.extend_from_slice(&gap);
            if w == "yes" {
                yes.extend_from_slice(&c);
                yes.extend_from_slice(&gap);
            }
        }
    }
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("stream.wav"), wav_bytes(&stream, RATE))?;
    std::fs::write(out.join("yes.wav"), wav_bytes(&yes, RATE))?;
    std::fs::write(
        out.join("stream.json"),
        serde_json::to_string_pretty(&marks)?,
    )?;

    // The page's defaults on kws4 (the model's own threshold), 8 bits only (the benchmark's configuration).
    let bundle = bitgru::io::load_bundle(&std::fs::read("assets/models/kws4.safetensors")?)?;
    let settings = ListenSettings {
        model: "kws4".into(),
        variants: vec![ListenVariant::Integer {
            genome: bitgru::Genome::uniform(8)?,
        }],
        threshold: None,
        refractory_ms: 1000,
        gate_dbfs: -50.0,
        fewer_speech_alarms: false,
    };
    let t0 = Instant::now();
    let now = move || t0.elapsed().as_secs_f64() * 1000.0;
    let mut best = f64::INFINITY;
    let mut best_detector = f64::INFINITY;
    let mut report = None;
    // Best of 5 runs over the whole stream (the machine is shared).
    for _ in 0..5 {
        let mut s = Session::new(&bundle, settings.clone(), RATE)?;
        let mut r = s.push(&stream, &now)?;
        best = best.min(r.us_per_hop);
        best_detector = best_detector.min(r.us_per_hop_variant[0]);
        let tail = s.finish(&now)?;
        r.hops.extend(tail.hops);
        r.detections.extend(tail.detections);
        report = Some(r);
    }
    let r = report.expect("ran");
    let detections: Vec<_> = r
        .detections
        .iter()
        .map(|d| serde_json::json!({"t_s": d.t_ms / 1000.0, "word": bundle.meta.classes[d.class], "score": d.score}))
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "hops": r.hops.len(),
            "hidden": bundle.model.dims().hidden,
            "native_us_per_hop_best_of_5": best,
            "native_detector_us_per_hop_best_of_5": best_detector,
            "detections": detections,
            "clips": marks,
        }))?
    );
    Ok(())
}
