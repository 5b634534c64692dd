//! The worker side of the Listen page: one listening session (audio in any chunk size →
//! 16 kHz → streaming MFCC → one detector per variant → hops and detections), the last
//! seconds of audio for "save the last 3 s", and audio files run through a fresh session.
//!
//! Pure Rust, tested natively; [`crate::compute::Compute`] owns the session and answers the
//! Listen messages with it.
use crate::protocol::{
    ListenDetection, ListenHop, ListenInfo, ListenReport, ListenSettings, ListenVariant,
    LISTEN_SAVE_SECONDS, MAX_LISTEN_FILE_BYTES,
};
use crate::WebError;
use bitgru::audio::{DecodeOptions, Mfcc, MfccConfig, MfccStream};
use bitgru::io::ModelBundle;
use bitgru::kernel::{BatchScratch, PackedGru, Variant};
use bitgru::{FloatGru, Gene, QuantGru};
use std::collections::VecDeque;

/// Sample rate of the keyword models' front end.
pub const RATE: u32 = 16_000;

/// Hops in the window a detector classifies (1 s, the length of the training clips).
pub const WINDOW_HOPS: usize = 49;

/// Hops averaged by the smoothing of the class probabilities.
pub const SMOOTH_HOPS: usize = 10;

/// Classes whose names start with `_` (`_silence_`, `_unknown_`) never make a detection.
fn is_keyword(name: &str) -> bool {
    !name.starts_with('_')
}

/// What runs a variant.
enum Net {
    Integer {
        q: Box<QuantGru>,
        packed: Box<PackedGru>,
        scratch: Box<BatchScratch>,
        variant: Variant,
        logits: Vec<i32>,
    },
    Float(Box<FloatGru>),
}

impl Net {
    fn integer(q: QuantGru) -> Result<Net, WebError> {
        let packed = PackedGru::pack(&q)?;
        let scratch = BatchScratch::with_tile(&packed, 1);
        Ok(Net::Integer {
            logits: vec![0; q.classes],
            q: Box::new(q),
            packed: Box::new(packed),
            scratch: Box::new(scratch),
            variant: Variant::best(),
        })
    }

    /// Class probabilities of a window of features (`[hops × n_mfcc]`), run from a zero state.
    fn probs(&mut self, window: &[f32]) -> Result<Vec<f32>, WebError> {
        let logits: Vec<f64> = match self {
            Net::Integer {
                q,
                packed,
                scratch,
                variant,
                logits,
            } => {
                let codes = q.quantize_input(window)?;
                let steps = codes.len() / q.input_size;
                packed.logits_into(*variant, &codes, 1, steps, scratch, logits)?;
                let scale = q.head.w_scale * q.scales[Gene::AddH.index()];
                logits.iter().map(|&v| f64::from(v) * scale).collect()
            }
            Net::Float(m) => m.forward(window)?.iter().map(|&v| f64::from(v)).collect(),
        };
        Ok(crate::compute::softmax(&logits)
            .into_iter()
            .map(|p| p as f32)
            .collect())
    }
}

/// One variant's detector: the network, its recent probabilities and its last detection.
struct Detector {
    net: Net,
    recent: VecDeque<Vec<f32>>,
    last_detection_ms: Option<f64>,
    /// Microseconds spent in this detector (for the per-variant time).
    spent_us: f64,
}

/// A listening session.
pub struct Session {
    settings: ListenSettings,
    info: ListenInfo,
    keyword: Vec<bool>,
    stream: MfccStream,
    detectors: Vec<Detector>,
    /// The last [`WINDOW_HOPS`] feature frames, concatenated.
    window: VecDeque<f32>,
    /// Every sample of the session so far (count) and the last ones (for levels and saving).
    heard: u64,
    recent_audio: VecDeque<f32>,
    frames: u64,
}

impl Session {
    /// A session for `settings` on a loaded keyword model.
    pub fn new(
        bundle: &ModelBundle,
        class_names: &[String],
        settings: ListenSettings,
    ) -> Result<Session, WebError> {
        if settings.variants.is_empty() {
            return Err(WebError::Request {
                what: "listen variants",
                detail: "choose at least one of 8 bits, a mixed genome or float".into(),
            });
        }
        if !(0.0..=1.0).contains(&settings.threshold) {
            return Err(WebError::Request {
                what: "threshold",
                detail: format!("{} (expected 0 to 1)", settings.threshold),
            });
        }
        if !settings.gate_dbfs.is_finite() || settings.gate_dbfs > 0.0 {
            return Err(WebError::Request {
                what: "energy gate",
                detail: format!("{} dBFS (expected a level ≤ 0)", settings.gate_dbfs),
            });
        }
        let mfcc = Mfcc::new(MfccConfig::default())?;
        let dims = bundle.model.dims();
        if dims.input != mfcc.n_mfcc() {
            return Err(WebError::Request {
                what: "model",
                detail: format!(
                    "{} takes {} features per step, the microphone front end makes {} MFCCs",
                    settings.model,
                    dims.input,
                    mfcc.n_mfcc()
                ),
            });
        }
        let detectors = settings
            .variants
            .iter()
            .map(|v| {
                let net = match v {
                    ListenVariant::Integer { genome } => Net::integer(QuantGru::prepare(
                        &bundle.model,
                        &bundle.calibration,
                        genome,
                    )?)?,
                    ListenVariant::Float => Net::Float(Box::new(bundle.model.clone())),
                };
                Ok(Detector {
                    net,
                    recent: VecDeque::new(),
                    last_detection_ms: None,
                    spent_us: 0.0,
                })
            })
            .collect::<Result<Vec<_>, WebError>>()?;
        let cfg = mfcc.config().clone();
        let info = ListenInfo {
            class_names: class_names.to_vec(),
            labels: settings.variants.iter().map(|v| v.to_string()).collect(),
            hop_ms: 1000.0 * cfg.hop_length as f64 / f64::from(cfg.sample_rate),
            n_features: mfcc.n_mfcc(),
        };
        Ok(Session {
            keyword: class_names.iter().map(|c| is_keyword(c)).collect(),
            settings,
            info,
            stream: MfccStream::new(mfcc),
            detectors,
            window: VecDeque::new(),
            heard: 0,
            recent_audio: VecDeque::new(),
            frames: 0,
        })
    }

    pub fn info(&self) -> &ListenInfo {
        &self.info
    }

    pub fn settings(&self) -> &ListenSettings {
        &self.settings
    }

    /// Keeps the audio of `other` (a restart with new settings keeps what was heard).
    pub fn keep_audio_of(&mut self, other: Session) {
        self.recent_audio = other.recent_audio;
    }

    /// Feeds 16 kHz samples; `now_ms` times the work. Returns the hops completed by them.
    pub fn push(
        &mut self,
        samples: &[f32],
        now_ms: &dyn Fn() -> f64,
    ) -> Result<ListenReport, WebError> {
        let t0 = now_ms();
        let hop = self.stream.mfcc().config().hop_length;
        let mut report = ListenReport {
            hops: Vec::new(),
            detections: Vec::new(),
            us_per_hop: 0.0,
            us_per_hop_variant: vec![0.0; self.detectors.len()],
            heard_s: 0.0,
        };
        for d in &mut self.detectors {
            d.spent_us = 0.0;
        }
        // A hop of samples at a time, so that the kept audio covers every new frame's window.
        for piece in samples.chunks(hop) {
            self.push_piece(piece, now_ms, &mut report)?;
        }
        report.heard_s = self.heard as f64 / f64::from(RATE);
        let n = report.hops.len();
        if n > 0 {
            report.us_per_hop = 1000.0 * (now_ms() - t0) / n as f64;
            for (k, d) in self.detectors.iter().enumerate() {
                report.us_per_hop_variant[k] = d.spent_us / n as f64;
            }
        }
        Ok(report)
    }

    fn push_piece(
        &mut self,
        samples: &[f32],
        now_ms: &dyn Fn() -> f64,
        report: &mut ListenReport,
    ) -> Result<(), WebError> {
        let cfg = self.stream.mfcc().config().clone();
        let keep = LISTEN_SAVE_SECONDS * RATE as usize;
        self.recent_audio.extend(samples.iter().copied());
        let excess = self.recent_audio.len().saturating_sub(keep);
        self.recent_audio.drain(..excess);
        self.heard += samples.len() as u64;
        self.stream.push(samples);
        let n_mfcc = self.info.n_features;
        let mut frame = vec![0.0f32; n_mfcc];
        while self.stream.pop_into(&mut frame)? {
            let start = self.frames * cfg.hop_length as u64;
            self.frames += 1;
            let end = start + cfg.win_length as u64;
            let t_ms = 1000.0 * end as f64 / f64::from(RATE);
            let level_dbfs = self.level(start, end);
            self.window.extend(frame.iter().copied());
            let excess = self.window.len().saturating_sub(WINDOW_HOPS * n_mfcc);
            self.window.drain(..excess);
            let window: Vec<f32> = self.window.iter().copied().collect();
            let mut probs = Vec::with_capacity(self.detectors.len());
            for (k, d) in self.detectors.iter_mut().enumerate() {
                let td = now_ms();
                let p = d.net.probs(&window)?;
                d.recent.push_back(p);
                if d.recent.len() > SMOOTH_HOPS {
                    d.recent.pop_front();
                }
                let n = d.recent.len() as f32;
                let smooth: Vec<f32> = (0..self.keyword.len())
                    .map(|c| d.recent.iter().map(|p| p[c]).sum::<f32>() / n)
                    .collect();
                let best = smooth
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| self.keyword[*c])
                    .max_by(|a, b| a.1.total_cmp(b.1));
                let quiet = f64::from(level_dbfs) < self.settings.gate_dbfs;
                let suppressed = d
                    .last_detection_ms
                    .is_some_and(|t| t_ms - t < f64::from(self.settings.refractory_ms));
                if let Some((class, &score)) = best {
                    if f64::from(score) >= self.settings.threshold && !quiet && !suppressed {
                        d.last_detection_ms = Some(t_ms);
                        report.detections.push(ListenDetection {
                            t_ms,
                            variant: k,
                            class,
                            score,
                        });
                    }
                }
                probs.push(smooth);
                d.spent_us += 1000.0 * (now_ms() - td);
            }
            report.hops.push(ListenHop {
                t_ms,
                features: frame.clone(),
                probs,
                level_dbfs,
            });
        }
        Ok(())
    }

    /// dBFS of the RMS of samples `[start, end)` of the session (from the kept audio).
    fn level(&self, start: u64, end: u64) -> f32 {
        let first_kept = self.heard - self.recent_audio.len() as u64;
        let (a, b) = (
            start.saturating_sub(first_kept) as usize,
            (end.saturating_sub(first_kept) as usize).min(self.recent_audio.len()),
        );
        if b <= a {
            return -120.0;
        }
        let e: f64 = self
            .recent_audio
            .range(a..b)
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>()
            / (b - a) as f64;
        (10.0 * e.max(1e-12).log10()) as f32
    }

    /// The last [`LISTEN_SAVE_SECONDS`] of audio as a 16-bit mono 16 kHz WAV file.
    pub fn last_audio_wav(&self) -> Vec<u8> {
        let samples: Vec<f32> = self.recent_audio.iter().copied().collect();
        wav_bytes(&samples, RATE)
    }
}

/// Mono f32 samples as a 16-bit PCM WAV file.
pub fn wav_bytes(samples: &[f32], rate: u32) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for &s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Mono f32 little-endian samples from a payload.
pub fn samples_of(bytes: &[u8]) -> Result<Vec<f32>, WebError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(WebError::Request {
            what: "audio chunk",
            detail: format!("{} bytes is not a whole number of f32 samples", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .filter(|s| s.is_finite())
        .collect())
}

/// Samples of a chunk at `rate`, at 16 kHz (browsers that ignore the requested rate).
pub fn to_model_rate(samples: Vec<f32>, rate: u32) -> Result<Vec<f32>, WebError> {
    if rate == RATE {
        return Ok(samples);
    }
    if !(8_000..=192_000).contains(&rate) {
        return Err(WebError::Request {
            what: "sample rate",
            detail: format!("{rate} Hz (expected 8000 to 192000)"),
        });
    }
    Ok(bitgru::audio::resample(&samples, rate, RATE))
}

/// A WAV or FLAC file as 16 kHz mono samples (down-mixed and resampled when needed).
pub fn decode_file(file_name: &str, bytes: &[u8]) -> Result<Vec<f32>, WebError> {
    let up = |detail: String| WebError::Upload {
        file: file_name.to_string(),
        detail,
    };
    if bytes.len() > MAX_LISTEN_FILE_BYTES {
        return Err(up(format!(
            "{} bytes is more than the {} MiB accepted",
            bytes.len(),
            MAX_LISTEN_FILE_BYTES >> 20
        )));
    }
    let clip = bitgru::audio::decode(bytes, &DecodeOptions::converting(RATE))
        .map_err(|e| up(format!("not a readable WAV or FLAC file: {e}")))?;
    if clip.samples.is_empty() {
        return Err(up("the file holds no samples".into()));
    }
    Ok(clip.samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KWS4: &[u8] = include_bytes!("../assets/models/kws4.safetensors");

    fn session(variants: Vec<ListenVariant>) -> Session {
        let b = bitgru::io::load_bundle(KWS4).unwrap();
        let names = b.meta.classes.clone();
        Session::new(
            &b,
            &names,
            ListenSettings {
                model: "kws4".into(),
                variants,
                threshold: 0.5,
                refractory_ms: 500,
                gate_dbfs: -60.0,
            },
        )
        .unwrap()
    }

    /// A seeded noisy chirp, loud enough to pass the gate.
    fn signal(n: usize) -> Vec<f32> {
        let mut x = 0x2545_f491_u32;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let t = i as f32 / RATE as f32;
                0.3 * (2.0 * std::f32::consts::PI * (300.0 + 400.0 * t) * t).sin()
                    + 0.05 * (x as f32 / u32::MAX as f32 - 0.5)
            })
            .collect()
    }

    fn variants() -> Vec<ListenVariant> {
        vec![
            ListenVariant::Integer {
                genome: bitgru::Genome::uniform(8).unwrap(),
            },
            ListenVariant::Integer {
                genome: "33723346676886243".parse().unwrap(),
            },
            ListenVariant::Float,
        ]
    }

    #[test]
    fn chunk_size_does_not_change_what_is_heard() {
        let x = signal(3 * RATE as usize / 2);
        let mut whole = session(variants());
        let a = whole.push(&x, &|| 0.0).unwrap();
        let mut chunked = session(variants());
        let mut b = Vec::new();
        let mut det = Vec::new();
        for c in x.chunks(777) {
            let r = chunked.push(c, &|| 0.0).unwrap();
            b.extend(r.hops);
            det.extend(r.detections);
        }
        // 1.5 s: 1 + (24000 − 640) / 320 = 74 hops.
        assert_eq!(a.hops.len(), 74);
        assert_eq!(a.hops, b);
        assert_eq!(a.detections, det);
        for hop in &a.hops {
            assert_eq!(hop.probs.len(), 3);
            for p in &hop.probs {
                assert_eq!(p.len(), 6);
                assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            }
            assert!(
                hop.level_dbfs > -20.0 && hop.level_dbfs < 0.0,
                "{}",
                hop.level_dbfs
            );
        }
        assert_eq!(a.hops[0].t_ms, 40.0);
        assert_eq!(a.heard_s, 1.5);
    }

    #[test]
    fn silence_never_detects_and_the_gate_holds_loud_probabilities_back() {
        let mut s = session(variants());
        let r = s.push(&vec![0.0; RATE as usize * 2], &|| 0.0).unwrap();
        assert!(r.detections.is_empty(), "{:?}", r.detections);
        assert!(r.hops.iter().all(|h| h.level_dbfs <= -100.0));
        // Threshold 0 fires on any keyword, but a gate above the level holds everything back,
        // and the refractory time spaces detections.
        let b = bitgru::io::load_bundle(KWS4).unwrap();
        let mk = |gate_dbfs, refractory_ms| {
            Session::new(
                &b,
                &b.meta.classes,
                ListenSettings {
                    model: "kws4".into(),
                    variants: vec![ListenVariant::Float],
                    threshold: 0.0,
                    refractory_ms,
                    gate_dbfs,
                },
            )
            .unwrap()
        };
        let x = signal(RATE as usize * 2);
        assert!(mk(-1.0, 100)
            .push(&x, &|| 0.0)
            .unwrap()
            .detections
            .is_empty());
        let d = mk(-90.0, 500).push(&x, &|| 0.0).unwrap().detections;
        assert!(d.len() >= 3, "{d:?}");
        for w in d.windows(2) {
            assert!(w[1].t_ms - w[0].t_ms >= 500.0, "{d:?}");
        }
        assert!(d.iter().all(|x| x.class < 4), "keywords only: {d:?}");
    }

    #[test]
    fn bad_settings_and_files_are_specific_errors() {
        let b = bitgru::io::load_bundle(KWS4).unwrap();
        let mk = |variants: Vec<ListenVariant>, threshold, gate_dbfs| {
            Session::new(
                &b,
                &b.meta.classes,
                ListenSettings {
                    model: "kws4".into(),
                    variants,
                    threshold,
                    refractory_ms: 0,
                    gate_dbfs,
                },
            )
            .err()
            .map(|e| e.to_string())
        };
        assert!(mk(vec![], 0.5, -50.0).unwrap().contains("at least one"));
        assert!(mk(vec![ListenVariant::Float], 1.5, -50.0)
            .unwrap()
            .contains("1.5"));
        assert!(mk(vec![ListenVariant::Float], 0.5, 3.0)
            .unwrap()
            .contains("dBFS"));
        assert!(mk(vec![ListenVariant::Float], 0.5, -50.0).is_none());
        let e = decode_file("x.wav", b"RIFF1234WAVEnope").unwrap_err();
        assert!(e.to_string().starts_with("x.wav: "), "{e}");
        assert!(samples_of(&[0, 0, 0])
            .unwrap_err()
            .to_string()
            .contains("3 bytes"));
        assert!(to_model_rate(vec![0.0; 10], 7).is_err());
    }

    #[test]
    fn the_last_seconds_save_as_a_wav_that_reads_back() {
        let mut s = session(vec![ListenVariant::Float]);
        let x = signal(RATE as usize * 4);
        s.push(&x, &|| 0.0).unwrap();
        // A restart with other settings keeps the audio.
        let mut t = session(vec![ListenVariant::Float]);
        t.keep_audio_of(s);
        let wav = t.last_audio_wav();
        let back = decode_file("last.wav", &wav).unwrap();
        let keep = LISTEN_SAVE_SECONDS * RATE as usize;
        assert_eq!(back.len(), keep);
        let tail = &x[x.len() - keep..];
        let err = back
            .iter()
            .zip(tail)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err <= 1.0 / 32767.0, "{err}");
        // A 44.1 kHz stereo file is down-mixed and resampled to 16 kHz.
        let stereo: Vec<f32> = signal(44_100).into_iter().flat_map(|s| [s, s]).collect();
        let mut bytes = wav_bytes(&stereo, 44_100);
        bytes[22] = 2; // channels
        let byte_rate = 44_100u32 * 4;
        bytes[28..32].copy_from_slice(&byte_rate.to_le_bytes());
        bytes[32] = 4; // block align
        let mono = decode_file("stereo.wav", &bytes).unwrap();
        assert!((mono.len() as i64 - 16_000).abs() <= 1, "{}", mono.len());
    }
}
