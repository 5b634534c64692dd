//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and the crash regressions
//! (`fuzz/regressions/<target>/`) through the same code the cargo-fuzz targets run
//! (`fuzz/readers.rs`), on stable: a reader that panics, aborts or allocates without bound on
//! any of them fails this test. See docs/FUZZING.md.
#[path = "../../../fuzz/readers.rs"]
mod readers;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every file under `fuzz/<kind>/<target>/`, with its target.
fn cases(kind: &str) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for target in readers::TARGETS {
        let d = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (target, p)));
    }
    out
}

fn replay(kind: &str) -> usize {
    let cases = cases(kind);
    for (target, path) in &cases {
        let data = std::fs::read(path).unwrap();
        let r = std::panic::catch_unwind(|| readers::run(target, &data));
        assert!(r.is_ok(), "{target}: {} panics", path.display());
    }
    cases.len()
}

#[test]
fn corpora_replay_without_panics() {
    let n = replay("corpus");
    // Every target has a committed corpus (at least its seeds).
    for t in readers::TARGETS {
        assert!(
            fuzz_dir().join("corpus").join(t).is_dir(),
            "fuzz/corpus/{t} is missing"
        );
    }
    assert!(n >= readers::TARGETS.len(), "{n} corpus files");
}

#[test]
fn crash_regressions_replay_without_panics() {
    replay("regressions");
}

#[test]
fn seeds_are_accepted_by_their_readers() {
    // The seeds start the fuzzer inside each format; a seed its reader rejects would leave the
    // deep paths unexplored.
    use bitgru::audio::{decode_flac, decode_wav, DecodeOptions};
    let seed =
        |t: &str, name: &str| std::fs::read(fuzz_dir().join("corpus").join(t).join(name)).unwrap();
    bitgru::io::load_bundle(&seed("bundle", "seed-tiny")).unwrap();
    bitgru::io::load_float_safetensors(&seed("bundle", "seed-torch")).unwrap();
    bitgru::io::npz::load_keras_npz(&seed("npz", "seed-keras")).unwrap();
    bitgru::io::qfile::load_quant(&seed("bitgru", "seed-23456782345678234")).unwrap();
    bitgru::io::inputs::parse_inputs(&seed("inputs", "seed-nested"), 3).unwrap();
    bitgru::train::Trainer::restore(&seed("checkpoint", "seed-tiny")).unwrap();
    let clip = decode_wav(&seed("wav", "seed-mono16k"), &DecodeOptions::default()).unwrap();
    assert_eq!(clip.samples.len(), 64);
    let clip = decode_flac(&seed("flac", "seed-mono16k"), &DecodeOptions::default()).unwrap();
    assert_eq!(clip.samples.len(), 64);
    bitgru::data::mnist::parse_labels(&seed("idx", "seed-labels-gz"), None).unwrap();
    bitgru::data::speech::parse_list(&String::from_utf8(seed("split_list", "seed-list")).unwrap())
        .unwrap();
}
