//! The worker side of the Listen page: one listening session (audio in any chunk size and
//! rate → one [`bitgru::detect::Detector`] per variant, side by side → hops and detections),
//! the MFCCs of every hop for the spectrogram, the last seconds of audio for "save the last
//! 3 s", and audio files run through a fresh session.
//!
//! Pure Rust, tested natively; [`crate::compute::Compute`] owns the session and answers the
//! Listen messages with it.
use crate::protocol::{
    ListenDetection, ListenHop, ListenInfo, ListenReport, ListenSettings, ListenVariant,
    LISTEN_SAVE_SECONDS, MAX_LISTEN_FILE_BYTES,
};
use crate::WebError;
use bitgru::audio::{DecodeOptions, Mfcc, MfccStream, StreamResampler};
use bitgru::detect::{Detector, DetectorConfig, DetectorOutput, Levers};
use bitgru::io::ModelBundle;
use std::collections::VecDeque;

/// Sample rate of the keyword models' front end.
pub const RATE: u32 = 16_000;

/// What one chunk of audio made, before the report is assembled.
struct Pushed {
    outputs: Vec<DetectorOutput>,
    spent_us: Vec<f64>,
}

/// A listening session.
pub struct Session {
    settings: ListenSettings,
    info: ListenInfo,
    input_rate: u32,
    detectors: Vec<Detector>,
    /// The page's spectrogram: the same MFCCs as the detectors', at 16 kHz.
    to_rate: Option<StreamResampler>,
    display: MfccStream,
    features: VecDeque<Vec<f32>>,
    /// 16 kHz samples heard so far (count) and the last ones (for saving).
    heard: u64,
    recent_audio: VecDeque<f32>,
}

impl Session {
    /// A session for `settings` on a loaded keyword model, for audio at `input_rate` Hz.
    pub fn new(
        bundle: &ModelBundle,
        settings: ListenSettings,
        input_rate: u32,
    ) -> Result<Session, WebError> {
        if settings.variants.is_empty() {
            return Err(WebError::Request {
                what: "listen variants",
                detail: "choose at least one of 8 bits, a mixed genome or float".into(),
            });
        }
        if let Some(t) = settings.threshold.filter(|t| !(0.0..=1.0).contains(t)) {
            return Err(WebError::Request {
                what: "threshold",
                detail: format!("{t} (expected 0 to 1)"),
            });
        }
        if !settings.gate_dbfs.is_finite() || settings.gate_dbfs > 0.0 {
            return Err(WebError::Request {
                what: "energy gate",
                detail: format!("{} dBFS (expected a level ≤ 0)", settings.gate_dbfs),
            });
        }
        if !(8_000..=192_000).contains(&input_rate) {
            return Err(WebError::Request {
                what: "sample rate",
                detail: format!("{input_rate} Hz (expected 8000 to 192000)"),
            });
        }
        let model_default = DetectorConfig::for_model(&bundle.meta);
        let config = DetectorConfig {
            threshold: settings
                .threshold
                .map_or(model_default.threshold, |t| t as f32),
            refractory_s: settings.refractory_ms as f32 / 1000.0,
            gate_dbfs: settings.gate_dbfs as f32,
            ..model_default
        };
        let config = if settings.fewer_speech_alarms {
            config.with_levers(Levers::FEWER_SPEECH_ALARMS)
        } else {
            config
        };
        let detectors = settings
            .variants
            .iter()
            .map(|v| {
                let genome = match v {
                    ListenVariant::Integer { genome } => Some(genome),
                    ListenVariant::Float => None,
                };
                Detector::from_bundle(bundle, genome, config.clone(), input_rate)
            })
            .collect::<bitgru::Result<Vec<_>>>()?;
        let first = &detectors[0];
        let mfcc = first.mfcc_config().clone();
        if mfcc.sample_rate != RATE {
            return Err(WebError::Request {
                what: "model",
                detail: format!(
                    "{} listens at {} Hz; the Listen page records at {RATE} Hz",
                    settings.model, mfcc.sample_rate
                ),
            });
        }
        let hop_ms = 1000.0 * mfcc.hop_length as f64 / f64::from(mfcc.sample_rate);
        let info = ListenInfo {
            class_names: first.classes().to_vec(),
            labels: settings.variants.iter().map(|v| v.to_string()).collect(),
            hop_ms,
            n_features: mfcc.n_mfcc,
            threshold: f64::from(config.threshold),
            smooth_ms: config.smooth_frames as f64 * hop_ms,
        };
        Ok(Session {
            to_rate: (input_rate != RATE)
                .then(|| StreamResampler::new(input_rate, RATE))
                .transpose()?,
            display: MfccStream::new(Mfcc::new(mfcc)?),
            features: VecDeque::new(),
            settings,
            info,
            input_rate,
            detectors,
            heard: 0,
            recent_audio: VecDeque::new(),
        })
    }

    pub fn info(&self) -> &ListenInfo {
        &self.info
    }

    pub fn settings(&self) -> &ListenSettings {
        &self.settings
    }

    /// Rate of the audio the session takes.
    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    /// Keeps the audio of `other` (a restart with new settings keeps what was heard).
    pub fn keep_audio_of(&mut self, other: Session) {
        self.recent_audio = other.recent_audio;
    }

    /// Feeds samples at the input rate; `now_ms` times the work. Returns the hops completed.
    pub fn push(
        &mut self,
        samples: &[f32],
        now_ms: &dyn Fn() -> f64,
    ) -> Result<ListenReport, WebError> {
        let t0 = now_ms();
        let pushed = self.run(now_ms, |d, out| d.push(samples, out))?;
        let at_rate = match &mut self.to_rate {
            Some(r) => {
                let mut buf = Vec::new();
                r.push(samples, &mut buf);
                buf
            }
            None => samples.to_vec(),
        };
        self.hear(&at_rate)?;
        Ok(self.report(pushed, now_ms() - t0))
    }

    /// Ends the stream (a file): the detectors see a little silence after it.
    pub fn finish(&mut self, now_ms: &dyn Fn() -> f64) -> Result<ListenReport, WebError> {
        let t0 = now_ms();
        let pushed = self.run(now_ms, |d, out| d.finish(out))?;
        let flush = self.detectors.first().map_or(0.0, |d| d.config().flush_s);
        let silence = vec![0.0; (f64::from(flush) * f64::from(RATE)).round() as usize];
        let mut display = Vec::new();
        self.display.push(&silence);
        display.extend(std::iter::from_fn(|| self.display.pop()));
        self.features.extend(display);
        Ok(self.report(pushed, now_ms() - t0))
    }

    fn run(
        &mut self,
        now_ms: &dyn Fn() -> f64,
        mut step: impl FnMut(&mut Detector, &mut DetectorOutput) -> bitgru::Result<()>,
    ) -> Result<Pushed, WebError> {
        let mut outputs = Vec::with_capacity(self.detectors.len());
        let mut spent_us = Vec::with_capacity(self.detectors.len());
        for d in &mut self.detectors {
            let t = now_ms();
            let mut out = DetectorOutput::default();
            step(d, &mut out)?;
            spent_us.push(1000.0 * (now_ms() - t));
            outputs.push(out);
        }
        Ok(Pushed { outputs, spent_us })
    }

    /// Keeps 16 kHz samples and computes their MFCCs for the page.
    fn hear(&mut self, samples: &[f32]) -> Result<(), WebError> {
        let keep = LISTEN_SAVE_SECONDS * RATE as usize;
        self.recent_audio.extend(samples.iter().copied());
        let excess = self.recent_audio.len().saturating_sub(keep);
        self.recent_audio.drain(..excess);
        self.heard += samples.len() as u64;
        self.display.push(samples);
        while let Some(f) = self.display.pop() {
            self.features.push_back(f);
        }
        Ok(())
    }

    fn report(&mut self, pushed: Pushed, total_ms: f64) -> ListenReport {
        let Pushed { outputs, spent_us } = pushed;
        let n = outputs.first().map_or(0, |o| o.frames.len());
        let hops = (0..n)
            .map(|i| {
                let f0 = &outputs[0].frames[i];
                ListenHop {
                    t_ms: 1000.0 * f0.time_s,
                    features: self.features.pop_front().unwrap_or_default(),
                    probs: outputs
                        .iter()
                        .map(|o| {
                            o.frames
                                .get(i)
                                .map(|f| f.smoothed.clone())
                                .unwrap_or_default()
                        })
                        .collect(),
                    level_dbfs: f0.level_dbfs,
                }
            })
            .collect();
        let mut detections: Vec<ListenDetection> = outputs
            .iter()
            .enumerate()
            .flat_map(|(k, o)| {
                o.events.iter().map(move |e| ListenDetection {
                    t_ms: 1000.0 * e.time_s,
                    variant: k,
                    class: e.class,
                    score: e.score,
                })
            })
            .collect();
        detections.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms).then(a.variant.cmp(&b.variant)));
        let per = |x: f64| if n > 0 { x / n as f64 } else { 0.0 };
        ListenReport {
            hops,
            detections,
            us_per_hop: per(1000.0 * total_ms),
            us_per_hop_variant: spent_us.into_iter().map(per).collect(),
            heard_s: self.heard as f64 / f64::from(RATE),
        }
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
        .collect())
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
        Session::new(
            &b,
            ListenSettings {
                model: "kws4".into(),
                variants,
                threshold: Some(0.5),
                refractory_ms: 500,
                gate_dbfs: -60.0,
                fewer_speech_alarms: false,
            },
            RATE,
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
                ListenSettings {
                    model: "kws4".into(),
                    variants: vec![ListenVariant::Float],
                    threshold: Some(0.0),
                    refractory_ms,
                    gate_dbfs,
                    fewer_speech_alarms: false,
                },
                RATE,
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
        assert!(!d.is_empty(), "{d:?}");
        for w in d.windows(2) {
            assert!(w[1].t_ms - w[0].t_ms >= 500.0, "{d:?}");
        }
        assert!(d.iter().all(|x| x.class < 4), "keywords only: {d:?}");
    }

    #[test]
    fn fewer_speech_alarms_runs_the_detectors_with_the_unknown_margin() {
        let b = bitgru::io::load_bundle(KWS4).unwrap();
        let mk = |fewer_speech_alarms| {
            Session::new(
                &b,
                ListenSettings {
                    model: "kws4".into(),
                    variants: variants(),
                    threshold: Some(0.3),
                    refractory_ms: 0,
                    gate_dbfs: -90.0,
                    fewer_speech_alarms,
                },
                RATE,
            )
            .unwrap()
        };
        let (mut plain, mut strict) = (mk(false), mk(true));
        for d in &strict.detectors {
            assert_eq!(d.config().levers, Levers::FEWER_SPEECH_ALARMS);
            assert_eq!(d.config().threshold, 0.3, "the threshold stays the page's");
        }
        assert!(plain
            .detectors
            .iter()
            .all(|d| d.config().levers == Levers::default()));
        let x = signal(RATE as usize * 4);
        let p = plain.push(&x, &|| 0.0).unwrap();
        let q = strict.push(&x, &|| 0.0).unwrap();
        // Same features and probabilities; only the decision differs.
        assert_eq!(p.hops.len(), q.hops.len());
        assert!(q.detections.len() < p.detections.len(), "{p:?}\n{q:?}");
    }

    #[test]
    fn bad_settings_and_files_are_specific_errors() {
        let b = bitgru::io::load_bundle(KWS4).unwrap();
        let mk = |variants: Vec<ListenVariant>, threshold, gate_dbfs| {
            Session::new(
                &b,
                ListenSettings {
                    model: "kws4".into(),
                    variants,
                    threshold,
                    refractory_ms: 0,
                    gate_dbfs,
                    fewer_speech_alarms: false,
                },
                RATE,
            )
            .err()
            .map(|e| e.to_string())
        };
        assert!(mk(vec![], Some(0.5), -50.0)
            .unwrap()
            .contains("at least one"));
        assert!(mk(vec![ListenVariant::Float], Some(1.5), -50.0)
            .unwrap()
            .contains("1.5"));
        assert!(mk(vec![ListenVariant::Float], Some(f64::NAN), -50.0)
            .unwrap()
            .contains("NaN"));
        assert!(mk(vec![ListenVariant::Float], Some(0.5), 3.0)
            .unwrap()
            .contains("dBFS"));
        assert!(mk(vec![ListenVariant::Float], Some(0.5), -50.0).is_none());
        assert!(mk(vec![ListenVariant::Float], None, -50.0).is_none());
        let e = decode_file("x.wav", b"RIFF1234WAVEnope").unwrap_err();
        assert!(e.to_string().starts_with("x.wav: "), "{e}");
        assert!(samples_of(&[0, 0, 0])
            .unwrap_err()
            .to_string()
            .contains("3 bytes"));
        let st = |rate| {
            Session::new(
                &b,
                ListenSettings {
                    model: "kws4".into(),
                    variants: vec![ListenVariant::Float],
                    threshold: Some(0.5),
                    refractory_ms: 0,
                    gate_dbfs: -50.0,
                    fewer_speech_alarms: false,
                },
                rate,
            )
        };
        assert!(st(7).err().unwrap().to_string().contains("7 Hz"));
        // A 48 kHz microphone: the detectors resample; one hop per 20 ms all the same.
        let mut s48 = st(48_000).unwrap();
        let x48: Vec<f32> = signal(48_000 * 3 / 2);
        let n = s48.push(&x48, &|| 0.0).unwrap().hops.len();
        assert!((72..=74).contains(&n), "{n}");
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
