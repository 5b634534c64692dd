//! What each fuzz target does with its input: shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, nightly) and the stable replay of the corpora and regressions
//! (`crates/bitgru/tests/fuzz_regressions.rs`), so both exercise exactly the same code.
//!
//! A target passes when the readers return (an error or a value) without panicking, aborting or
//! allocating without bound; whatever they accept is then used the way the CLI uses it, so that
//! a file the readers let through cannot make a later stage panic.
#![allow(dead_code)]

use bitgru::audio::{decode, decode_flac, decode_wav, DecodeOptions};
use bitgru::data::{mnist, speech};
use bitgru::io::{inputs, npz, qfile};
use bitgru::train::{InMemory, Trainer};
use bitgru::{QuantGru, Scratch};

/// The targets, as named under `fuzz/fuzz_targets/`, `fuzz/corpus/` and `fuzz/regressions/`.
pub const TARGETS: [&str; 9] = [
    "bundle",
    "npz",
    "bitgru",
    "inputs",
    "checkpoint",
    "wav",
    "flac",
    "idx",
    "split_list",
];

/// Runs the integer kernel on extreme input codes (every accumulator at its largest).
fn exercise_quant(q: &QuantGru) {
    let mut s = Scratch::for_model(q);
    for code in [0i8, 127, -128] {
        let x = vec![code; 3 * q.input_size];
        q.run(&x, &mut s).expect("a validated model runs");
    }
}

/// Feeds `data` to the reader(s) of `target`. Panics on an unknown target name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "bundle" => {
            if let Ok(b) = bitgru::io::load_bundle(data) {
                let g = bitgru::Genome::uniform(8).expect("genome");
                let q = QuantGru::prepare(&b.model, &b.calibration, &g)
                    .expect("a loaded bundle prepares");
                exercise_quant(&q);
            }
            let _ = bitgru::io::load_float_safetensors(data);
        }
        "npz" => {
            let _ = npz::load_keras_npz(data);
            let _ = npz::parse_npy("x", data);
        }
        "bitgru" => {
            if let Ok((q, _)) = qfile::load_quant(data) {
                exercise_quant(&q);
            }
        }
        "inputs" => {
            let _ = inputs::parse_inputs(data, 1);
            let _ = inputs::parse_inputs(data, 3);
        }
        "checkpoint" => {
            if let Ok(t) = Trainer::restore(data) {
                // Resume on a data set of the checkpoint's size, as `bitgru train --resume` does.
                // The epoch has between `hi - batch + 1` and `hi` samples; restore_for finds which.
                let hi = t.steps_per_epoch() * t.config.batch_size;
                let lo = hi.saturating_sub(t.config.batch_size - 1).max(1);
                if hi <= 256
                    && t.config.batch_size <= 64
                    && t.model.input_size * t.model.hidden <= 4096
                {
                    let xs = vec![vec![0.5f32; 2 * t.model.input_size]; hi];
                    for len in lo..=hi {
                        let ys = vec![0usize; len];
                        let src = InMemory {
                            xs: &xs[..len],
                            ys: &ys,
                        };
                        if let Ok(mut t) = Trainer::restore_for(data, &src) {
                            if let Ok(s) = t.step(&src) {
                                if s.epoch_done {
                                    let _ = t.end_epoch(Some(&src));
                                }
                            }
                        }
                    }
                }
            }
        }
        "wav" => {
            let _ = decode_wav(data, &DecodeOptions::default());
            let _ = decode(data, &DecodeOptions::converting(16000));
        }
        "flac" => {
            let _ = decode_flac(data, &DecodeOptions::default());
            let _ = decode(data, &DecodeOptions::converting(8000));
        }
        "idx" => {
            let _ = mnist::parse_idx(data, None);
            let _ = mnist::parse_idx(data, Some(2));
            if let (Ok(img), Ok(lbl)) = (
                mnist::parse_images(data, Some(4)),
                mnist::parse_labels(data, None),
            ) {
                let _ = mnist::to_dataset(&img, &lbl, mnist::MnistTask::Row);
            }
        }
        "split_list" => {
            if let Ok(list) = speech::parse_list(&String::from_utf8_lossy(data)) {
                for entry in list {
                    assert!(!entry.starts_with('/') && !entry.split('/').any(|p| p == ".."));
                }
            }
        }
        other => panic!("unknown fuzz target {other:?}"),
    }
}
