//! Google Speech Commands: class maps, split lists and the directory loader.
//!
//! Layout (see shared/data/README.md): `<label>/<speaker>_nohash_<n>.flac`,
//! `_unknown_/<word>_<speaker>_nohash_<n>.flac`, `_silence_/<id>.flac`, the long noise
//! recordings in `_background_noise_/`, and the split lists `train_list.txt`,
//! `validation_list.txt`, `testing_list.txt` (paths relative to the data directory). The official
//! release ships only the validation and testing lists; then the training split is every clip
//! listed in neither ([`list_split`]). WAV and FLAC clips are both accepted.
//!
//! Classes (DESIGN §6), in label order:
//! - `kws4`: yes, no, up, down, `_silence_`, `_unknown_`;
//! - `kws10`: yes, no, up, down, left, right, on, off, stop, go, `_silence_`, `_unknown_`.
//!
//! A folder that is not one of the task's keywords (the other keywords for `kws4`, the
//! `_unknown_` folder, any other word of the full data set) maps to `_unknown_`; `_silence_` maps
//! to `_silence_`; `_background_noise_` holds no clips.
//!
//! Speaker ids come from the file name (`<speaker>_nohash_<n>`, the word prefix of `_unknown_`
//! clips dropped); a `_silence_/<id>` clip gets `silence_<id>`, the key the data README's
//! speaker-disjoint split used.
use crate::audio::Clip;
use crate::error::{Error, Result};

/// Folder of the silence clips and name of the silence class.
pub const SILENCE: &str = "_silence_";
/// Folder of the non-keyword clips and name of the unknown class.
pub const UNKNOWN: &str = "_unknown_";
/// Folder of the long noise recordings.
pub const BACKGROUND_NOISE: &str = "_background_noise_";
/// The keywords of `kws4`.
pub const KWS4_KEYWORDS: [&str; 4] = ["yes", "no", "up", "down"];
/// The keywords of `kws10`.
pub const KWS10_KEYWORDS: [&str; 10] = [
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
];

/// The keyword-spotting tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KwsTask {
    /// 4 keywords + `_silence_` + `_unknown_` (6 classes).
    Kws4,
    /// 10 keywords + `_silence_` + `_unknown_` (12 classes).
    Kws10,
}

impl KwsTask {
    /// `kws4` / `kws10`.
    pub fn name(self) -> &'static str {
        match self {
            KwsTask::Kws4 => "kws4",
            KwsTask::Kws10 => "kws10",
        }
    }

    /// The task's keywords, in label order.
    pub fn keywords(self) -> &'static [&'static str] {
        match self {
            KwsTask::Kws4 => &KWS4_KEYWORDS,
            KwsTask::Kws10 => &KWS10_KEYWORDS,
        }
    }

    /// Class names: the keywords, then `_silence_`, then `_unknown_`.
    pub fn classes(self) -> Vec<String> {
        self.keywords()
            .iter()
            .copied()
            .chain([SILENCE, UNKNOWN])
            .map(String::from)
            .collect()
    }

    /// Number of classes.
    pub fn n_classes(self) -> usize {
        self.keywords().len() + 2
    }

    /// Label of `_silence_`.
    pub fn silence_label(self) -> usize {
        self.keywords().len()
    }

    /// Label of `_unknown_`.
    pub fn unknown_label(self) -> usize {
        self.keywords().len() + 1
    }

    /// Label of a clip in folder `folder`; `None` for `_background_noise_`.
    pub fn label_of_folder(self, folder: &str) -> Option<usize> {
        if folder == BACKGROUND_NOISE {
            None
        } else if folder == SILENCE {
            Some(self.silence_label())
        } else {
            Some(
                self.keywords()
                    .iter()
                    .position(|&k| k == folder)
                    .unwrap_or(self.unknown_label()),
            )
        }
    }
}

impl std::str::FromStr for KwsTask {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "kws4" => Ok(KwsTask::Kws4),
            "kws10" => Ok(KwsTask::Kws10),
            _ => Err(Error::invalid(
                "keyword-spotting task",
                format!("{s:?}, expected \"kws4\" or \"kws10\""),
            )),
        }
    }
}

/// The splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeechSplit {
    /// `train_list.txt`, or every clip in neither of the other lists.
    Train,
    /// `validation_list.txt`.
    Validation,
    /// `testing_list.txt` (not distributed in shared/data: a `Missing` error there).
    Test,
}

impl SpeechSplit {
    /// The list file of the split.
    pub fn list_file(self) -> &'static str {
        match self {
            SpeechSplit::Train => "train_list.txt",
            SpeechSplit::Validation => "validation_list.txt",
            SpeechSplit::Test => "testing_list.txt",
        }
    }
}

/// What a clip path says about the clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipInfo {
    /// Path relative to the data directory, `/`-separated.
    pub path: String,
    /// The folder (label or word).
    pub folder: String,
    /// The speaker id (`silence_<id>` for `_silence_` clips).
    pub speaker: String,
}

/// Parses `<folder>/<file>` (see the module doc for the speaker id).
pub fn parse_clip_path(path: &str) -> Result<ClipInfo> {
    let path = path.trim().trim_start_matches("./").replace('\\', "/");
    let (folder, file) = path.split_once('/').ok_or_else(|| {
        Error::invalid(
            "Speech Commands clip path",
            format!("{path:?}, expected <label>/<file>"),
        )
    })?;
    if file.is_empty() || file.contains('/') || folder.is_empty() {
        return Err(Error::invalid(
            "Speech Commands clip path",
            format!("{path:?}, expected <label>/<file>"),
        ));
    }
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let speaker = if folder == SILENCE {
        format!("silence_{stem}")
    } else if let Some((prefix, _)) = stem.split_once("_nohash_") {
        prefix.rsplit('_').next().unwrap_or(prefix).to_string()
    } else {
        stem.to_string()
    };
    Ok(ClipInfo {
        folder: folder.to_string(),
        speaker,
        path: path.clone(),
    })
}

/// Parses a split list: one relative path per line; blank lines ignored, CRLF accepted. An entry
/// that could leave the data folder (absolute, `..`, a drive or a backslash path) is an error
/// naming its line.
pub fn parse_list(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let escapes = l.starts_with('/')
            || l.contains('\\')
            || l.contains(':')
            || l.contains('\0')
            || l.split('/')
                .any(|part| part == ".." || part == "." || part.is_empty());
        if escapes {
            return Err(Error::invalid(
                format!("split list line {}", k + 1),
                format!(
                    "{:?} is not a plain relative path <folder>/<file> inside the data folder",
                    crate::error::clip(l, 80)
                ),
            ));
        }
        out.push(l.to_string());
    }
    Ok(out)
}

/// `limit` evenly spaced items of `items` (all of them without a limit or when `limit ≥ len`):
/// item `⌊j · len / limit⌋` for `j < limit`. The lists are sorted by label, so every label keeps
/// its share.
pub fn evenly_spaced<T: Clone>(items: &[T], limit: Option<usize>) -> Vec<T> {
    match limit {
        Some(l) if l < items.len() => (0..l).map(|j| items[j * items.len() / l].clone()).collect(),
        _ => items.to_vec(),
    }
}

/// Decoded clips of one split with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechSet {
    /// The task whose class map gave the labels.
    pub task: KwsTask,
    /// Class names (`task.classes()`).
    pub classes: Vec<String>,
    /// Decoded clips (mono, 16 kHz, `clip_samples` long).
    pub clips: Vec<Clip>,
    /// Label per clip.
    pub labels: Vec<usize>,
    /// Speaker id per clip.
    pub speakers: Vec<String>,
    /// Relative path per clip.
    pub paths: Vec<String>,
}

impl SpeechSet {
    /// Number of clips.
    pub fn len(&self) -> usize {
        self.clips.len()
    }

    /// True without clips.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// Clips per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }
}

/// A long background-noise recording.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseRecording {
    /// File stem, e.g. `white_noise`.
    pub name: String,
    /// The recording.
    pub clip: Clip,
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use crate::audio::{decode, fit_length, DecodeOptions, CLIP_SAMPLES};
    use crate::data::read_file;
    use std::collections::HashSet;
    use std::path::Path;

    /// Options of [`load_split_with`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct SpeechLoadOptions {
        /// The class map.
        pub task: KwsTask,
        /// The split.
        pub split: SpeechSplit,
        /// Load only this many clips, evenly spaced over the list ([`evenly_spaced`]).
        pub limit: Option<usize>,
        /// Decoder options (strict 16 kHz mono 16-bit by default).
        pub decode: DecodeOptions,
        /// Pad / trim every clip to this many samples (`None`: keep the decoded length).
        pub clip_samples: Option<usize>,
    }

    impl SpeechLoadOptions {
        /// Strict decoding, 16,000-sample clips, no limit.
        pub fn new(task: KwsTask, split: SpeechSplit) -> Self {
            SpeechLoadOptions {
                task,
                split,
                limit: None,
                decode: DecodeOptions::default(),
                clip_samples: Some(CLIP_SAMPLES),
            }
        }
    }

    fn is_audio(name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        lower.ends_with(".flac") || lower.ends_with(".wav")
    }

    fn read_list(dir: &Path, split: SpeechSplit) -> Result<Option<Vec<String>>> {
        let path = dir.join(split.list_file());
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = read_file(&path)?;
        let text = String::from_utf8(bytes)
            .map_err(|e| Error::invalid(format!("split list {}", path.display()), e.to_string()))?;
        parse_list(&text)
            .map(Some)
            .map_err(|e| Error::invalid(format!("split list {}", path.display()), e.to_string()))
    }

    fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
        let mut entries = std::fs::read_dir(dir)
            .map_err(|e| super::super::io_error(dir, e))?
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| super::super::io_error(dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        Ok(entries)
    }

    /// Every clip under `dir` (`<folder>/<file>.flac|wav`, `_background_noise_` excluded),
    /// sorted.
    pub fn list_all_clips(dir: &Path) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for folder in sorted_entries(dir)? {
            let name = folder.file_name().to_string_lossy().into_owned();
            if name == BACKGROUND_NOISE || !folder.path().is_dir() {
                continue;
            }
            for file in sorted_entries(&folder.path())? {
                let file_name = file.file_name().to_string_lossy().into_owned();
                if is_audio(&file_name) {
                    out.push(format!("{name}/{file_name}"));
                }
            }
        }
        Ok(out)
    }

    /// The relative clip paths of a split: its list file, or, for `Train` without
    /// `train_list.txt`, every clip in neither `validation_list.txt` nor `testing_list.txt` (the
    /// official convention).
    pub fn list_split(dir: &Path, split: SpeechSplit) -> Result<Vec<String>> {
        if let Some(list) = read_list(dir, split)? {
            return Ok(list);
        }
        if split == SpeechSplit::Test {
            return Err(Error::Missing(format!(
                "split list {} in {}: the Speech Commands test list is not shipped with this \
                 data (the data owner holds the speaker-disjoint test split back); evaluate on \
                 the validation split (--split validation), whose speakers are not in training",
                split.list_file(),
                dir.display()
            )));
        }
        if split != SpeechSplit::Train {
            return Err(Error::Missing(format!(
                "split list {} in {}",
                split.list_file(),
                dir.display()
            )));
        }
        let mut held_out = HashSet::new();
        for other in [SpeechSplit::Validation, SpeechSplit::Test] {
            held_out.extend(read_list(dir, other)?.unwrap_or_default());
        }
        Ok(list_all_clips(dir)?
            .into_iter()
            .filter(|p| !held_out.contains(p))
            .collect())
    }

    fn load_clip(dir: &Path, rel: &str, opts: &SpeechLoadOptions) -> Result<Clip> {
        let bytes = read_file(&dir.join(rel))?;
        let mut clip = decode(&bytes, &opts.decode)
            .map_err(|e| Error::invalid(format!("Speech Commands clip {rel}"), e.to_string()))?;
        if let Some(n) = opts.clip_samples {
            fit_length(&mut clip, n);
        }
        Ok(clip)
    }

    /// Loads a split with the default options ([`SpeechLoadOptions::new`]) and an optional
    /// `limit` (evenly spaced clips; keeps tests fast).
    pub fn load_split(
        dir: &Path,
        task: KwsTask,
        split: SpeechSplit,
        limit: Option<usize>,
    ) -> Result<SpeechSet> {
        load_split_with(
            dir,
            &SpeechLoadOptions {
                limit,
                ..SpeechLoadOptions::new(task, split)
            },
        )
    }

    /// Loads and decodes a split (in parallel with the `parallel` feature).
    pub fn load_split_with(dir: &Path, opts: &SpeechLoadOptions) -> Result<SpeechSet> {
        let all = list_split(dir, opts.split)?;
        let mut infos = Vec::with_capacity(all.len());
        for p in evenly_spaced(&all, opts.limit) {
            let info = parse_clip_path(&p)?;
            if info.folder == BACKGROUND_NOISE {
                return Err(Error::invalid(
                    format!("split list entry {p}"),
                    "background-noise recordings are not clips",
                ));
            }
            infos.push(info);
        }
        let clips: Vec<Result<Clip>> =
            crate::math::par_map(&infos, |i| load_clip(dir, &i.path, opts));
        let clips = clips.into_iter().collect::<Result<Vec<_>>>()?;
        let task = opts.task;
        Ok(SpeechSet {
            task,
            classes: task.classes(),
            labels: infos
                .iter()
                .map(|i| {
                    task.label_of_folder(&i.folder)
                        .unwrap_or(task.unknown_label())
                })
                .collect(),
            speakers: infos.iter().map(|i| i.speaker.clone()).collect(),
            paths: infos.into_iter().map(|i| i.path).collect(),
            clips,
        })
    }

    /// Loads `_background_noise_/*.flac|wav`, sorted by name.
    pub fn load_background_noise(dir: &Path, opts: &DecodeOptions) -> Result<Vec<NoiseRecording>> {
        let noise_dir = dir.join(BACKGROUND_NOISE);
        if !noise_dir.is_dir() {
            return Err(Error::Missing(format!(
                "background-noise folder {}",
                noise_dir.display()
            )));
        }
        let mut out = Vec::new();
        for entry in sorted_entries(&noise_dir)? {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if !is_audio(&file_name) {
                continue;
            }
            let bytes = read_file(&entry.path())?;
            let clip = decode(&bytes, opts).map_err(|e| {
                Error::invalid(format!("noise recording {file_name}"), e.to_string())
            })?;
            let name = file_name
                .rsplit_once('.')
                .map_or(file_name.as_str(), |(s, _)| s)
                .to_string();
            out.push(NoiseRecording { name, clip });
        }
        if out.is_empty() {
            return Err(Error::Missing(format!(
                "noise recordings (*.flac, *.wav) in {}",
                noise_dir.display()
            )));
        }
        Ok(out)
    }
}
