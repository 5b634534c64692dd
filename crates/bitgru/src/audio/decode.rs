//! WAV and FLAC decoding to mono f32 clips.
//!
//! The keyword-spotting pipeline expects Speech Commands audio: **mono, 16-bit integer PCM,
//! 16 kHz**. Anything else is an error that says what was found and which option would convert
//! it, unless the caller opts in explicitly:
//!
//! - `DecodeOptions::mix_to_mono`: average all channels into one;
//! - `DecodeOptions::resample`: accept any sample rate and sample format (8/24/32-bit integer or
//!   32-bit float WAV, 8–32-bit FLAC) and convert: the rate to `target_rate` with the windowed-sinc
//!   resampler of [`crate::audio::resample`], the samples to f32.
//!
//! Sample scaling: an integer sample `s` of `b` bits becomes `s / 2^(b-1)`, so 16-bit PCM maps
//! exactly (no rounding) onto `[-1, 1 - 2^-15]`; float WAV samples are taken as they are (they must
//! be finite).
use crate::audio::resample::resample;
use crate::error::{check_finite, Error, Result};
use std::io::Cursor;

/// Sample rate of Speech Commands and of the MFCC front end (Hz).
pub const SPEECH_COMMANDS_RATE: u32 = 16_000;
/// Samples of a Speech Commands clip (1 s at 16 kHz).
pub const CLIP_SAMPLES: usize = 16_000;

/// A decoded mono clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Samples in `[-1, 1]`.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub sample_rate: u32,
}

impl Clip {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate.max(1) as f64
    }
}

/// What the decoder accepts and how it converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The sample rate the clip must have (or is resampled to when `resample` is set).
    pub target_rate: u32,
    /// Opt in to conversion: resample any rate to `target_rate` and accept any integer bit
    /// depth or 32-bit float samples. Off by default: a non-16 kHz or non-16-bit file is an error.
    pub resample: bool,
    /// Opt in to averaging multi-channel audio into mono. Off by default: stereo is an error.
    pub mix_to_mono: bool,
}

impl Default for DecodeOptions {
    /// 16 kHz mono 16-bit, no conversion.
    fn default() -> Self {
        DecodeOptions {
            target_rate: SPEECH_COMMANDS_RATE,
            resample: false,
            mix_to_mono: false,
        }
    }
}

impl DecodeOptions {
    /// Accept anything and convert it to mono at `target_rate` (the upload / microphone path).
    pub fn converting(target_rate: u32) -> Self {
        DecodeOptions {
            target_rate,
            resample: true,
            mix_to_mono: true,
        }
    }
}

/// The sample format found in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SampleFormat {
    Int(u16),
    Float32,
}

impl std::fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleFormat::Int(b) => write!(f, "{b}-bit integer"),
            SampleFormat::Float32 => write!(f, "32-bit float"),
        }
    }
}

/// Checks the stream parameters against the options, before any sample is decoded.
fn check_stream(
    container: &'static str,
    channels: u32,
    rate: u32,
    format: SampleFormat,
    opts: &DecodeOptions,
) -> Result<()> {
    if opts.target_rate == 0 {
        return Err(Error::invalid("target sample rate", "0 Hz"));
    }
    if channels == 0 {
        return Err(Error::format(container, "0 channels"));
    }
    if rate == 0 {
        return Err(Error::format(container, "sample rate 0 Hz"));
    }
    if channels != 1 && !opts.mix_to_mono {
        return Err(Error::invalid(
            format!("{container} channel count"),
            format!("{channels} channels, expected 1 (mono); {CONVERT_HINT}"),
        ));
    }
    if format != SampleFormat::Int(16) && !opts.resample {
        return Err(Error::invalid(
            format!("{container} sample format"),
            format!("{format}, expected 16-bit integer PCM; {CONVERT_HINT}"),
        ));
    }
    if rate != opts.target_rate && !opts.resample {
        return Err(Error::invalid(
            format!("{container} sample rate"),
            format!(
                "{rate} Hz, expected {} Hz; {CONVERT_HINT}",
                opts.target_rate
            ),
        ));
    }
    Ok(())
}

/// How a user converts a recording to what the default options read.
const CONVERT_HINT: &str = "convert the recording to mono 16-bit PCM at the expected rate first \
    (e.g. `ffmpeg -i in.wav -ac 1 -ar 16000 -sample_fmt s16 out.wav`)";

/// Most samples (all channels, before and after resampling) a clip may have: 2^25, about 35
/// minutes of 16 kHz mono. A highly compressed FLAC (constant blocks) or a tiny sample rate
/// resampled up cannot make the decoder allocate without bound.
pub const MAX_SAMPLES: usize = 1 << 25;

fn too_long(container: &'static str, what: &str, n: u128) -> Error {
    Error::format(
        container,
        format!("{what} {n} samples, over the {MAX_SAMPLES} sample limit"),
    )
}

/// Interleaved samples → mono clip at the target rate (down-mix, then resample if asked).
/// An empty recording is an error (it would otherwise be padded to a clip of silence).
fn finish(
    container: &'static str,
    interleaved: Vec<f32>,
    channels: usize,
    rate: u32,
    opts: &DecodeOptions,
) -> Result<Clip> {
    if interleaved.len() < channels.max(1) {
        return Err(Error::format(container, "no samples (an empty recording)"));
    }
    let out_len = (interleaved.len() / channels.max(1)) as u128 * u128::from(opts.target_rate)
        / u128::from(rate.max(1));
    if out_len > MAX_SAMPLES as u128 {
        return Err(too_long(container, "resampled to", out_len));
    }
    let mono = if channels == 1 {
        interleaved
    } else {
        let inv = 1.0 / channels as f32;
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * inv)
            .collect()
    };
    let samples = if rate != opts.target_rate {
        resample(&mono, rate, opts.target_rate)
    } else {
        mono
    };
    Ok(Clip {
        samples,
        sample_rate: opts.target_rate,
    })
}

/// Decodes a RIFF/WAVE file (PCM integer 8–32 bit or IEEE float 32 bit).
pub fn decode_wav(bytes: &[u8], opts: &DecodeOptions) -> Result<Clip> {
    let reader = hound::WavReader::new(Cursor::new(bytes))
        .map_err(|e| Error::format("WAV", e.to_string()))?;
    let spec = reader.spec();
    let format = match spec.sample_format {
        hound::SampleFormat::Int => SampleFormat::Int(spec.bits_per_sample),
        hound::SampleFormat::Float if spec.bits_per_sample == 32 => SampleFormat::Float32,
        hound::SampleFormat::Float => {
            return Err(Error::format(
                "WAV",
                format!("{}-bit float samples", spec.bits_per_sample),
            ))
        }
    };
    check_stream(
        "WAV",
        u32::from(spec.channels),
        spec.sample_rate,
        format,
        opts,
    )?;
    if reader.len() as usize > MAX_SAMPLES {
        return Err(too_long("WAV", "declares", u128::from(reader.len())));
    }
    let interleaved: Vec<f32> = match format {
        SampleFormat::Int(bits) => {
            if !(1..=32).contains(&bits) {
                return Err(Error::format("WAV", format!("{bits}-bit integer samples")));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| (f64::from(s) * scale) as f32))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::format("WAV", e.to_string()))?
        }
        SampleFormat::Float32 => {
            let v: Vec<f32> = reader
                .into_samples::<f32>()
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::format("WAV", e.to_string()))?;
            check_finite("WAV samples", &v)?;
            v
        }
    };
    finish(
        "WAV",
        interleaved,
        usize::from(spec.channels),
        spec.sample_rate,
        opts,
    )
}

/// Decodes a FLAC file (any integer bit depth claxon supports).
pub fn decode_flac(bytes: &[u8], opts: &DecodeOptions) -> Result<Clip> {
    let mut reader = claxon::FlacReader::new(Cursor::new(bytes))
        .map_err(|e| Error::format("FLAC", e.to_string()))?;
    let info = reader.streaminfo();
    let bits = info.bits_per_sample;
    check_stream(
        "FLAC",
        info.channels,
        info.sample_rate,
        SampleFormat::Int(bits as u16),
        opts,
    )?;
    if !(1..=32).contains(&bits) {
        return Err(Error::format("FLAC", format!("{bits}-bit samples")));
    }
    let channels = info.channels as usize;
    let scale = 1.0 / (1u64 << (bits - 1)) as f64;
    let mut interleaved: Vec<f32> = Vec::with_capacity(
        info.samples
            .map_or(0, |n| (n as usize).saturating_mul(channels))
            .min(1 << 20),
    );
    let mut blocks = reader.blocks();
    let mut block = claxon::Block::empty();
    loop {
        match blocks.read_next_or_eof(block.into_buffer()) {
            Ok(Some(next)) => block = next,
            Ok(None) => break,
            Err(e) => return Err(Error::format("FLAC", e.to_string())),
        }
        // A frame may declare other channels than STREAMINFO (claxon does not check): indexing
        // its samples by the stream's channel count would read past the block.
        if block.channels() as usize != channels {
            return Err(Error::format(
                "FLAC",
                format!(
                    "a frame has {} channels, STREAMINFO says {channels}",
                    block.channels()
                ),
            ));
        }
        if interleaved.len() + block.duration() as usize * channels > MAX_SAMPLES {
            return Err(too_long(
                "FLAC",
                "decodes to more than",
                interleaved.len() as u128,
            ));
        }
        for i in 0..block.duration() {
            for ch in 0..channels as u32 {
                interleaved.push((f64::from(block.sample(ch, i)) * scale) as f32);
            }
        }
    }
    let frames = interleaved.len() / channels;
    if let Some(expected) = info.samples {
        if expected as usize != frames {
            return Err(Error::length(
                "FLAC samples per channel (STREAMINFO vs decoded)",
                expected as usize,
                frames,
            ));
        }
    }
    finish("FLAC", interleaved, channels, info.sample_rate, opts)
}

/// Decodes WAV or FLAC, chosen by the magic bytes (`RIFF` or `fLaC`).
pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Clip> {
    if bytes.starts_with(b"fLaC") {
        decode_flac(bytes, opts)
    } else if bytes.starts_with(b"RIFF") {
        decode_wav(bytes, opts)
    } else {
        let head: Vec<u8> = bytes.iter().copied().take(4).collect();
        Err(Error::format(
            "audio",
            format!("unknown container: expected magic \"RIFF\" (WAV) or \"fLaC\" (FLAC), got {head:02x?}"),
        ))
    }
}

/// What [`fit_length`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthFit {
    /// The clip already had the requested length.
    Exact,
    /// `added` zeros were appended at the end.
    Padded { added: usize },
    /// `removed` samples were cut from the end.
    Trimmed { removed: usize },
}

/// Brings a clip to exactly `len` samples: zero-pads at the end (as the Speech Commands release
/// pads short utterances) or trims the end. Returns what was done, so callers can count or
/// reject.
pub fn fit_length(clip: &mut Clip, len: usize) -> LengthFit {
    let n = clip.samples.len();
    if n < len {
        clip.samples.resize(len, 0.0);
        LengthFit::Padded { added: len - n }
    } else if n > len {
        clip.samples.truncate(len);
        LengthFit::Trimmed { removed: n - len }
    } else {
        LengthFit::Exact
    }
}
