//! A model's front end as a typed value: how raw input (an image, audio, ready features) becomes
//! the `[T, I]` float feature sequence the model takes.
//!
//! A bundle records its front end in `ModelMeta::features` ([`crate::io::ModelMeta`]). The JSON
//! layout is the one bitgru has always written (a `kind` key plus the parameters, e.g.
//! `{"kind": "mfcc", "mfcc": {…}, "clip_samples": 16000, "steps": 49, "input": 10}`), so every
//! existing bundle loads; what changed is that readers get a [`FrontEnd`] instead of looking up
//! string keys. A missing or `null` entry is [`FrontEnd::Raw`]; an unknown `kind` or
//! inconsistent parameters are a load error that names them.
//!
//! | kind (JSON) | variant | raw input | features |
//! |---|---|---|---|
//! | absent / `null` | [`FrontEnd::Raw`] | features only | as given |
//! | `mnist-rows` | [`FrontEnd::MnistRows`] | 28 × 28 grey image | 28 steps × 28 pixels, `p / 255` |
//! | `mnist-pixels` | [`FrontEnd::MnistPixels`] | 28 × 28 grey image | 784 steps × 1 pixel (raster), `p / 255` |
//! | `mfcc` | [`FrontEnd::Mfcc`] | mono audio, any rate | resampled to the MFCC rate, padded/trimmed to `clip_samples`, MFCC frames |
//! | `synthetic-task` | [`FrontEnd::Synthetic`] | features only | as given ([`crate::synth::task_of_model`] makes labelled samples) |
//!
//! Every front end also accepts [`RawInput::Features`] (an already featurized sequence: inputs
//! files, uploads), checked against its input size.
use crate::audio::mfcc::{Mfcc, MfccConfig};
use crate::audio::{fit_length, resample, Clip};
use crate::error::{check_finite, Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Side of an MNIST image.
pub const MNIST_SIDE: usize = 28;

/// How raw input becomes a model's features (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub enum FrontEnd {
    /// No recorded front end: the input is a feature sequence of the model's input size.
    Raw,
    /// Row-wise MNIST: 28 steps of the 28 pixels of one row, scaled by `1 / 255`.
    MnistRows,
    /// Pixel-wise MNIST: 784 steps of one pixel in raster order, scaled by `1 / 255`.
    MnistPixels,
    /// MFCC frames of a fixed-length mono clip ([`crate::audio::mfcc`]).
    Mfcc {
        /// The MFCC parameters (sample rate, window, hop, bands, coefficients).
        config: MfccConfig,
        /// Samples of one clip at `config.sample_rate` (shorter input is zero-padded at the
        /// end, longer input trimmed, as the Speech Commands clips).
        clip_samples: usize,
    },
    /// The seeded synthetic task of a `bitgru demo-model` bundle
    /// ([`crate::synth::task_of_model`]`(seed, input, classes, steps)`, noise `noise`).
    Synthetic {
        seed: u64,
        input: usize,
        classes: usize,
        steps: usize,
        noise: f32,
    },
}

/// Raw input to [`FrontEnd::featurize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawInput<'a> {
    /// A grey image, row-major, 0 = background, 255 = ink (MNIST's convention).
    Image {
        width: usize,
        height: usize,
        pixels: &'a [u8],
    },
    /// Mono audio samples in `[-1, 1]` at `sample_rate` Hz.
    Audio {
        sample_rate: u32,
        samples: &'a [f32],
    },
    /// An already featurized sequence, flat `[T, I]`.
    Features(&'a [f32]),
}

impl RawInput<'_> {
    fn name(&self) -> &'static str {
        match self {
            RawInput::Image { .. } => "an image",
            RawInput::Audio { .. } => "audio",
            RawInput::Features(_) => "features",
        }
    }
}

impl FrontEnd {
    /// The JSON `kind` (`None` for [`FrontEnd::Raw`]).
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            FrontEnd::Raw => None,
            FrontEnd::MnistRows => Some("mnist-rows"),
            FrontEnd::MnistPixels => Some("mnist-pixels"),
            FrontEnd::Mfcc { .. } => Some("mfcc"),
            FrontEnd::Synthetic { .. } => Some("synthetic-task"),
        }
    }

    /// The default MFCC front end of the keyword-spotting tasks (DESIGN §6: 1 s clips, 49 × 10).
    pub fn default_mfcc() -> FrontEnd {
        FrontEnd::Mfcc {
            config: MfccConfig::default(),
            clip_samples: crate::audio::CLIP_SAMPLES,
        }
    }

    /// Features per step (`None` for [`FrontEnd::Raw`]: the model's input size).
    pub fn input(&self) -> Option<usize> {
        match self {
            FrontEnd::Raw => None,
            FrontEnd::MnistRows => Some(MNIST_SIDE),
            FrontEnd::MnistPixels => Some(1),
            FrontEnd::Mfcc { config, .. } => Some(config.n_mfcc),
            FrontEnd::Synthetic { input, .. } => Some(*input),
        }
    }

    /// Steps of one featurized input (`None` for [`FrontEnd::Raw`]: any length).
    pub fn steps(&self) -> Option<usize> {
        match self {
            FrontEnd::Raw => None,
            FrontEnd::MnistRows => Some(MNIST_SIDE),
            FrontEnd::MnistPixels => Some(MNIST_SIDE * MNIST_SIDE),
            FrontEnd::Mfcc {
                config,
                clip_samples,
            } => Some(config.frames(*clip_samples)),
            FrontEnd::Synthetic { steps, .. } => Some(*steps),
        }
    }

    /// The MFCC parameters of an audio front end.
    pub fn mfcc(&self) -> Option<&MfccConfig> {
        match self {
            FrontEnd::Mfcc { config, .. } => Some(config),
            _ => None,
        }
    }

    /// Whether the front end takes audio.
    pub fn is_audio(&self) -> bool {
        matches!(self, FrontEnd::Mfcc { .. })
    }

    /// Checks the front end's parameters and that it fits a model with `model_input` features
    /// per step.
    pub fn check_model(&self, model_input: usize) -> Result<()> {
        self.validate()?;
        match self.input() {
            Some(i) if i != model_input => Err(Error::invalid(
                "front end",
                format!(
                    "{} gives {i} features per step, the model takes {model_input}",
                    self.kind().unwrap_or("raw")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the parameters (MFCC configuration valid, a clip at least one window long,
    /// positive synthetic sizes).
    pub fn validate(&self) -> Result<()> {
        match self {
            FrontEnd::Mfcc {
                config,
                clip_samples,
            } => {
                config.validate()?;
                if config.frames(*clip_samples) == 0 {
                    return Err(Error::invalid(
                        "mfcc front end",
                        format!(
                            "clip_samples {clip_samples} is shorter than one {}-sample window",
                            config.win_length
                        ),
                    ));
                }
                Ok(())
            }
            FrontEnd::Synthetic {
                input,
                classes,
                steps,
                noise,
                ..
            } => {
                if *input == 0 || *classes == 0 || *steps == 0 || !noise.is_finite() {
                    return Err(Error::invalid(
                        "synthetic-task front end",
                        format!(
                            "input {input}, classes {classes}, steps {steps} must be positive \
                             and noise {noise} finite"
                        ),
                    ));
                }
                Ok(())
            }
            FrontEnd::Raw | FrontEnd::MnistRows | FrontEnd::MnistPixels => Ok(()),
        }
    }

    /// Raw input → the model's features, flat `[T, I]`. `model_input` is the model's input size
    /// (it checks [`RawInput::Features`] for [`FrontEnd::Raw`]). For repeated audio calls build a
    /// [`Featurizer`] once instead (it keeps the FFT plan).
    pub fn featurize(&self, input: RawInput<'_>, model_input: usize) -> Result<Vec<f32>> {
        Featurizer::new(self.clone(), model_input)?.featurize(input)
    }
}

/// A [`FrontEnd`] ready to run (the MFCC extractor built once).
#[derive(Debug, Clone)]
pub struct Featurizer {
    front: FrontEnd,
    input: usize,
    mfcc: Option<Mfcc>,
}

impl Featurizer {
    /// Validates `front` against a model with `model_input` features per step.
    pub fn new(front: FrontEnd, model_input: usize) -> Result<Featurizer> {
        front.check_model(model_input)?;
        let mfcc = match &front {
            FrontEnd::Mfcc { config, .. } => Some(Mfcc::new(config.clone())?),
            _ => None,
        };
        Ok(Featurizer {
            front,
            input: model_input,
            mfcc,
        })
    }

    /// The front end.
    pub fn front_end(&self) -> &FrontEnd {
        &self.front
    }

    /// The MFCC extractor of an audio front end.
    pub fn mfcc(&self) -> Option<&Mfcc> {
        self.mfcc.as_ref()
    }

    /// Raw input → features, flat `[T, I]` (see the module doc for what each front end takes).
    pub fn featurize(&self, input: RawInput<'_>) -> Result<Vec<f32>> {
        let wrong = || {
            Error::invalid(
                "front end input",
                format!(
                    "the {} front end does not take {}",
                    self.front.kind().unwrap_or("raw"),
                    input.name()
                ),
            )
        };
        match (&self.front, input) {
            (_, RawInput::Features(x)) => {
                crate::math::steps_of("feature sequence", x.len(), self.input)?;
                check_finite("feature sequence", x)?;
                Ok(x.to_vec())
            }
            (
                FrontEnd::MnistRows | FrontEnd::MnistPixels,
                RawInput::Image {
                    width,
                    height,
                    pixels,
                },
            ) => {
                if (width, height) != (MNIST_SIDE, MNIST_SIDE) {
                    return Err(Error::Shape {
                        what: "MNIST image".into(),
                        expected: vec![MNIST_SIDE, MNIST_SIDE],
                        got: vec![height, width],
                    });
                }
                if pixels.len() != width * height {
                    return Err(Error::length("image pixels", width * height, pixels.len()));
                }
                // Rows and raster pixels are the same flat array: only (T, I) differ.
                Ok(pixels.iter().map(|&p| f32::from(p) / 255.0).collect())
            }
            (
                FrontEnd::Mfcc { clip_samples, .. },
                RawInput::Audio {
                    sample_rate,
                    samples,
                },
            ) => {
                let mfcc = self
                    .mfcc
                    .as_ref()
                    .expect("an MFCC front end has an extractor");
                check_finite("audio samples", samples)?;
                let rate = mfcc.config().sample_rate;
                if sample_rate == 0 {
                    return Err(Error::invalid("audio sample rate", "0 Hz"));
                }
                let mut clip = Clip {
                    samples: resample(samples, sample_rate, rate),
                    sample_rate: rate,
                };
                fit_length(&mut clip, *clip_samples);
                Ok(mfcc.compute(&clip.samples))
            }
            _ => Err(wrong()),
        }
    }
}

/// The JSON layout (fields in alphabetical order through `serde_json::Value`, as bitgru has
/// always written it; descriptive `scale`, `order` and `generator` strings are written for
/// readers and ignored when reading).
#[derive(Default, Serialize, Deserialize)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    steps: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mfcc: Option<MfccConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clip_samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noise: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generator: Option<String>,
}

impl FrontEnd {
    fn to_wire(&self) -> Option<Wire> {
        let mut w = Wire {
            kind: self.kind().map(str::to_string),
            steps: self.steps(),
            input: self.input(),
            ..Wire::default()
        };
        match self {
            FrontEnd::Raw => return None,
            FrontEnd::MnistRows => w.scale = Some("pixel / 255".into()),
            FrontEnd::MnistPixels => {
                w.scale = Some("pixel / 255".into());
                w.order = Some("raster".into());
            }
            FrontEnd::Mfcc {
                config,
                clip_samples,
            } => {
                w.mfcc = Some(config.clone());
                w.clip_samples = Some(*clip_samples);
            }
            FrontEnd::Synthetic {
                seed,
                classes,
                noise,
                ..
            } => {
                w.seed = Some(*seed);
                w.classes = Some(*classes);
                w.noise = Some(*noise);
                w.generator =
                    Some("bitgru::synth::task_of_model(seed, input, classes, steps)".into());
            }
        }
        Some(w)
    }

    fn from_wire(w: Wire) -> std::result::Result<FrontEnd, String> {
        let Some(kind) = w.kind.as_deref() else {
            return Ok(FrontEnd::Raw);
        };
        let need = |v: Option<usize>, what: &str| {
            v.ok_or_else(|| format!("front end {kind:?} needs {what:?}"))
        };
        let front = match kind {
            "mnist-rows" => FrontEnd::MnistRows,
            "mnist-pixels" => FrontEnd::MnistPixels,
            "mfcc" => FrontEnd::Mfcc {
                config: w.mfcc.clone().ok_or("front end \"mfcc\" needs \"mfcc\"")?,
                clip_samples: need(w.clip_samples, "clip_samples")?,
            },
            "synthetic-task" => FrontEnd::Synthetic {
                seed: w
                    .seed
                    .ok_or("front end \"synthetic-task\" needs \"seed\"")?,
                input: need(w.input, "input")?,
                classes: need(w.classes, "classes")?,
                steps: need(w.steps, "steps")?,
                noise: w
                    .noise
                    .ok_or("front end \"synthetic-task\" needs \"noise\"")?,
            },
            other => {
                return Err(format!(
                    "unknown front end kind {other:?}, expected mnist-rows, mnist-pixels, mfcc \
                     or synthetic-task (or no features entry)"
                ))
            }
        };
        front.validate().map_err(|e| e.to_string())?;
        for (what, stored, derived) in [
            ("steps", w.steps, front.steps()),
            ("input", w.input, front.input()),
        ] {
            if let (Some(s), Some(d)) = (stored, derived) {
                if s != d {
                    return Err(format!(
                        "front end {kind:?} records {what} {s}, its parameters give {d}"
                    ));
                }
            }
        }
        Ok(front)
    }
}

impl Serialize for FrontEnd {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.to_wire() {
            None => s.serialize_none(),
            Some(w) => serde_json::to_value(w)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for FrontEnd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<FrontEnd, D::Error> {
        match Option::<Wire>::deserialize(d)? {
            None => Ok(FrontEnd::Raw),
            Some(w) => FrontEnd::from_wire(w).map_err(serde::de::Error::custom),
        }
    }
}

impl Default for FrontEnd {
    /// [`FrontEnd::Raw`].
    fn default() -> Self {
        FrontEnd::Raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_json_round_trips() {
        let mfcc = serde_json::json!({"clip_samples": 16000, "input": 10, "kind": "mfcc",
            "mfcc": MfccConfig::default(), "steps": 49});
        let f: FrontEnd = serde_json::from_value(mfcc.clone()).unwrap();
        assert_eq!(f, FrontEnd::default_mfcc());
        assert_eq!(serde_json::to_value(&f).unwrap(), mfcc);
        let rows = serde_json::json!({"kind": "mnist-rows", "scale": "pixel / 255", "steps": 28, "input": 28});
        let f: FrontEnd = serde_json::from_value(rows.clone()).unwrap();
        assert_eq!(f, FrontEnd::MnistRows);
        assert_eq!(serde_json::to_value(&f).unwrap(), rows);
        let f: FrontEnd = serde_json::from_value(serde_json::Value::Null).unwrap();
        assert_eq!(f, FrontEnd::Raw);
        assert!(serde_json::to_value(&f).unwrap().is_null());
    }

    #[test]
    fn bad_front_ends_are_named() {
        let e = serde_json::from_value::<FrontEnd>(serde_json::json!({"kind": "spectrogram"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("spectrogram") && e.contains("mfcc"), "{e}");
        let e = serde_json::from_value::<FrontEnd>(
            serde_json::json!({"kind": "mnist-rows", "steps": 27}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("steps 27") && e.contains("28"), "{e}");
        let e = serde_json::from_value::<FrontEnd>(
            serde_json::json!({"kind": "mfcc", "clip_samples": 16000}),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("needs \"mfcc\""), "{e}");
    }

    #[test]
    fn featurize_checks_and_converts() {
        let rows = FrontEnd::MnistRows;
        let img: Vec<u8> = (0..784).map(|k| (k % 256) as u8).collect();
        let x = rows
            .featurize(
                RawInput::Image {
                    width: 28,
                    height: 28,
                    pixels: &img,
                },
                28,
            )
            .unwrap();
        assert_eq!(x.len(), 784);
        assert_eq!(x[255], 1.0);
        let e = rows
            .featurize(
                RawInput::Audio {
                    sample_rate: 16000,
                    samples: &[0.0; 10],
                },
                28,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("mnist-rows") && e.contains("audio"), "{e}");
        assert!(rows.check_model(10).is_err());
        // Audio: a 48 kHz half-second tone → resampled, padded to 1 s, 49 × 10 MFCC.
        let tone: Vec<f32> = (0..24_000).map(|n| 0.3 * (n as f32 * 0.05).sin()).collect();
        let f = FrontEnd::default_mfcc();
        let x = f
            .featurize(
                RawInput::Audio {
                    sample_rate: 48_000,
                    samples: &tone,
                },
                10,
            )
            .unwrap();
        assert_eq!(x.len(), 49 * 10);
        let e = f.featurize(RawInput::Features(&[1.0; 7]), 10).unwrap_err();
        assert!(e.to_string().contains("multiple of the input size 10"));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod bundle_tests {
    /// Every committed bundle loads with its typed front end and re-saves to the same bytes
    /// (the JSON layout did not change).
    #[test]
    fn committed_bundles_keep_their_front_end_and_bytes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models");
        let want = [
            ("demo", "synthetic-task"),
            ("kws4", "mfcc"),
            ("kws10", "mfcc"),
            ("pixel-mnist", "mnist-pixels"),
            ("row-mnist", "mnist-rows"),
        ];
        for (name, kind) in want {
            let bytes = std::fs::read(dir.join(format!("{name}.safetensors"))).unwrap();
            let b = crate::io::load_bundle(&bytes).unwrap();
            assert_eq!(b.meta.features.kind(), Some(kind), "{name}");
            b.meta.features.check_model(b.model.input_size).unwrap();
            let again = crate::io::save_bundle(&b).unwrap();
            assert!(again == bytes, "{name}: re-saved bundle differs");
        }
    }
}
