//! Data loaders and the audio front end: IDX parsing (plain and gzip) with its errors, WAV/FLAC
//! decoding, resampling, MFCC against the librosa reference (tests/fixtures/mfcc_reference.json,
//! made by scripts/make_mfcc_fixture.py from synthetic signals), streaming == batch bit for bit,
//! augmentation, and the loaders on the real data of ../shared/data when it is present.
mod support;
use bitgru::audio::{
    decode, decode_flac, decode_wav, fit_length, resample, Clip, DecodeOptions, LengthFit, Mfcc,
    MfccConfig,
};
use bitgru::data::augment::{mix_at_snr, power, split_noise, time_shift, AugmentConfig, Augmenter};
use bitgru::data::features::mfcc_dataset;
use bitgru::data::mnist::{self, MnistSplit, MnistTask};
use bitgru::data::speech::{self, KwsTask, NoiseRecording, SpeechSplit};
use bitgru::data::Dataset;
use bitgru::Error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{Cursor, Write};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// helpers

fn idx_bytes(magic_type: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, magic_type, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn synthetic_mnist(n: usize, seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels: Vec<u8> = (0..n * 784).map(|_| rng.gen()).collect();
    let labels: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    let img = idx_bytes(0x08, &[n as u32, 28, 28], &pixels);
    let lbl = idx_bytes(0x08, &[n as u32], &labels);
    (img, lbl, pixels, labels)
}

fn wav_bytes(spec: hound::WavSpec, samples: &[i32]) -> Vec<u8> {
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for &s in samples {
            match spec.bits_per_sample {
                8 => w.write_sample(s as i8).unwrap(),
                16 => w.write_sample(s as i16).unwrap(),
                _ => w.write_sample(s).unwrap(),
            }
        }
        w.finalize().unwrap();
    }
    cursor.into_inner()
}

fn spec(channels: u16, rate: u32, bits: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    }
}

fn tone(freq: f64, rate: u32, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()) {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .expect("base64 character") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// MNIST / IDX

#[test]
fn idx_round_trip_plain_and_gzip() {
    let (img, lbl, pixels, labels) = synthetic_mnist(7, 1);
    for gz in [false, true] {
        let (img_b, lbl_b) = if gz {
            (gzip(&img), gzip(&lbl))
        } else {
            (img.clone(), lbl.clone())
        };
        assert_eq!(mnist::is_gzip(&img_b), gz);
        let images = mnist::parse_images(&img_b, None).unwrap();
        assert_eq!(images.dims, vec![7, 28, 28]);
        assert_eq!(images.header_items, 7);
        assert_eq!(images.data, pixels);
        assert_eq!(images.magic(), mnist::IMAGES_MAGIC);
        let parsed_labels = mnist::parse_labels(&lbl_b, None).unwrap();
        assert_eq!(parsed_labels, labels);

        let row = mnist::to_dataset(&images, &parsed_labels, MnistTask::Row).unwrap();
        row.validate().unwrap();
        assert_eq!((row.steps, row.input, row.len()), (28, 28, 7));
        assert_eq!(row.classes.len(), 10);
        for (seq, img) in row.sequences.iter().zip(pixels.chunks(784)) {
            for (&x, &p) in seq.iter().zip(img) {
                assert_eq!(x, f32::from(p) / 255.0);
            }
        }
        let pix = mnist::to_dataset(&images, &parsed_labels, MnistTask::Pixel).unwrap();
        pix.validate().unwrap();
        assert_eq!((pix.steps, pix.input), (784, 1));
        assert_eq!(pix.sequences, row.sequences, "same raster order");
        assert_eq!(
            pix.labels,
            labels.iter().map(|&l| l as usize).collect::<Vec<_>>()
        );

        // A limit reads only the first items.
        let head = mnist::parse_images(&img_b, Some(3)).unwrap();
        assert_eq!(head.dims, vec![3, 28, 28]);
        assert_eq!(head.header_items, 7);
        assert_eq!(head.data, pixels[..3 * 784]);
    }
    assert_eq!("row-mnist".parse::<MnistTask>().unwrap(), MnistTask::Row);
    assert_eq!(
        "pixel-mnist".parse::<MnistTask>().unwrap(),
        MnistTask::Pixel
    );
    assert!("col-mnist".parse::<MnistTask>().is_err());
}

#[test]
fn idx_errors_are_specific() {
    let (img, lbl, _, _) = synthetic_mnist(4, 2);
    let full = img.len();
    // Truncated: names expected and actual byte counts.
    let err = mnist::parse_images(&img[..full - 10], None).unwrap_err();
    match err {
        Error::Length { expected, got, .. } => assert_eq!((expected, got), (full, full - 10)),
        e => panic!("expected a Length error, got {e}"),
    }
    let err = mnist::parse_images(&gzip(&img[..full - 10]), None).unwrap_err();
    assert!(
        matches!(err, Error::Length { expected, got, .. } if expected == full && got == full - 10)
    );
    // Truncated header / dims.
    assert!(matches!(
        mnist::parse_images(&img[..3], None).unwrap_err(),
        Error::Length {
            expected: 4,
            got: 3,
            ..
        }
    ));
    assert!(matches!(
        mnist::parse_images(&img[..9], None).unwrap_err(),
        Error::Length {
            expected: 16,
            got: 9,
            ..
        }
    ));
    // Truncated gzip stream (cut inside the compressed data).
    let gz = gzip(&img);
    assert!(mnist::parse_images(&gz[..gz.len() / 2], None).is_err());
    // Trailing bytes.
    let mut long = img.clone();
    long.extend_from_slice(&[0, 0, 0]);
    assert!(matches!(
        mnist::parse_images(&long, None).unwrap_err(),
        Error::Length { expected, got, .. } if expected == full && got == full + 3
    ));
    // Bad magic.
    let mut bad = img.clone();
    bad[0] = 0x12;
    let msg = mnist::parse_images(&bad, None).unwrap_err().to_string();
    assert!(msg.contains("bad magic"), "{msg}");
    let mut bad_type = img.clone();
    bad_type[2] = 0x0d;
    assert!(matches!(
        mnist::parse_images(&bad_type, None).unwrap_err(),
        Error::Format { .. }
    ));
    // Labels where images are expected and vice versa.
    let msg = mnist::parse_images(&lbl, None).unwrap_err().to_string();
    assert!(
        msg.contains("0x00000801") && msg.contains("0x00000803"),
        "{msg}"
    );
    assert!(mnist::parse_labels(&img, None).is_err());
    // Label out of range.
    let bad_labels = idx_bytes(0x08, &[3], &[1, 10, 2]);
    assert!(matches!(
        mnist::parse_labels(&bad_labels, None).unwrap_err(),
        Error::Invalid { .. }
    ));
    // Label count mismatch, wrong image size.
    let images = mnist::parse_images(&img, None).unwrap();
    assert!(matches!(
        mnist::to_dataset(&images, &[1, 2], MnistTask::Row).unwrap_err(),
        Error::Length {
            expected: 4,
            got: 2,
            ..
        }
    ));
    let small = mnist::parse_images(&idx_bytes(0x08, &[1, 27, 28], &[0; 27 * 28]), None).unwrap();
    assert!(matches!(
        mnist::to_dataset(&small, &[1], MnistTask::Row).unwrap_err(),
        Error::Shape { .. }
    ));
}

#[test]
fn dataset_validate_and_holdout() {
    let (img, lbl, _, labels) = synthetic_mnist(10, 3);
    let images = mnist::parse_images(&img, None).unwrap();
    let ds = mnist::to_dataset(
        &images,
        &mnist::parse_labels(&lbl, None).unwrap(),
        MnistTask::Row,
    )
    .unwrap();
    let (train, val) = ds.clone().split_last(3).unwrap();
    assert_eq!((train.len(), val.len()), (7, 3));
    assert_eq!(val.sequences[..], ds.sequences[7..]);
    assert_eq!(
        val.labels,
        labels[7..].iter().map(|&l| l as usize).collect::<Vec<_>>()
    );
    assert!(ds.clone().split_last(11).is_err());
    assert_eq!(ds.class_counts().iter().sum::<usize>(), 10);

    let mut bad = ds.clone();
    bad.labels[2] = 10;
    assert!(matches!(bad.validate().unwrap_err(), Error::Invalid { .. }));
    let mut bad = ds.clone();
    bad.sequences[1].pop();
    assert!(matches!(
        bad.validate().unwrap_err(),
        Error::Length {
            expected: 784,
            got: 783,
            ..
        }
    ));
    let mut bad = ds.clone();
    bad.sequences[4][5] = f32::NAN;
    assert!(matches!(
        bad.validate().unwrap_err(),
        Error::NonFinite { index: 5, .. }
    ));
    let mut bad = ds;
    bad.labels.pop();
    assert!(matches!(bad.validate().unwrap_err(), Error::Length { .. }));

    let stats = Dataset {
        sequences: vec![vec![1.0, 10.0, 3.0, 10.0]],
        labels: vec![0],
        steps: 2,
        input: 2,
        classes: vec!["a".into()],
    }
    .input_stats();
    assert_eq!(stats, (vec![2.0, 10.0], vec![1.0, 0.0]));
}

// ---------------------------------------------------------------------------------------------
// decoding

#[test]
fn wav_decode_and_format_errors() {
    let pcm: Vec<i32> = vec![0, 1, -1, 32767, -32768, 1234, -20000];
    let bytes = wav_bytes(spec(1, 16000, 16), &pcm);
    let clip = decode_wav(&bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(clip.sample_rate, 16000);
    let expected: Vec<f32> = pcm.iter().map(|&s| s as f32 / 32768.0).collect();
    assert_eq!(clip.samples, expected);
    assert_eq!(decode(&bytes, &DecodeOptions::default()).unwrap(), clip);

    // Wrong rate: a clear error unless resampling is asked for.
    let bytes44 = wav_bytes(spec(1, 44100, 16), &pcm);
    let msg = decode_wav(&bytes44, &DecodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("44100 Hz") && msg.contains("16000 Hz"),
        "{msg}"
    );
    // Stereo: error unless mix_to_mono.
    let stereo: Vec<i32> = vec![1000, 3000, -2000, 2000, 0, 0];
    let bytes_st = wav_bytes(spec(2, 16000, 16), &stereo);
    let msg = decode_wav(&bytes_st, &DecodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("2 channels") && msg.contains("ffmpeg") && !msg.contains("DecodeOptions"),
        "{msg}"
    );
    let mono = decode_wav(
        &bytes_st,
        &DecodeOptions {
            mix_to_mono: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        mono.samples,
        vec![2000.0 / 32768.0, 0.0, 0.0],
        "channel average"
    );
    // 24-bit: error unless converting.
    let pcm24: Vec<i32> = vec![0, 4_194_304, -8_388_608];
    let bytes24 = wav_bytes(spec(1, 16000, 24), &pcm24);
    let msg = decode_wav(&bytes24, &DecodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("24-bit"), "{msg}");
    let c24 = decode_wav(&bytes24, &DecodeOptions::converting(16000)).unwrap();
    assert_eq!(c24.samples, vec![0.0, 0.5, -1.0]);
    // 8-bit (hound maps unsigned 8-bit to signed).
    let bytes8 = wav_bytes(spec(1, 16000, 8), &[0, 64, -128]);
    assert_eq!(
        decode_wav(&bytes8, &DecodeOptions::converting(16000))
            .unwrap()
            .samples,
        vec![0.0, 0.5, -1.0]
    );
    // Float WAV.
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(
            &mut cursor,
            hound::WavSpec {
                channels: 1,
                sample_rate: 16000,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
        )
        .unwrap();
        for s in [0.25f32, -0.5, 0.125] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }
    let fbytes = cursor.into_inner();
    assert!(decode_wav(&fbytes, &DecodeOptions::default()).is_err());
    assert_eq!(
        decode_wav(&fbytes, &DecodeOptions::converting(16000))
            .unwrap()
            .samples,
        vec![0.25, -0.5, 0.125]
    );
    // Garbage and truncation.
    assert!(matches!(
        decode(b"OggS....", &DecodeOptions::default()).unwrap_err(),
        Error::Format { .. }
    ));
    assert!(decode_wav(&bytes[..20], &DecodeOptions::default()).is_err());
    assert!(decode_flac(&bytes, &DecodeOptions::default()).is_err());
}

#[test]
fn resampling_is_explicit_and_band_limited() {
    // 0.25 s of a 440 Hz tone at 44.1 kHz → 16 kHz.
    let n = 11025;
    let pcm: Vec<i32> = tone(440.0, 44100, n, 0.5)
        .iter()
        .map(|x| (x * 32768.0).round() as i32)
        .collect();
    let bytes = wav_bytes(spec(1, 44100, 16), &pcm);
    let clip = decode_wav(
        &bytes,
        &DecodeOptions {
            resample: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(clip.sample_rate, 16000);
    assert_eq!(clip.samples.len(), 4000);
    let ideal = tone(440.0, 16000, 4000, 0.5);
    // Away from the zero-padded edges (32 zero crossings at the 16 kHz cutoff ≈ 36 samples).
    let err = clip.samples[100..3900]
        .iter()
        .zip(&ideal[100..3900])
        .map(|(&a, &b)| (f64::from(a) - b).abs())
        .fold(0.0, f64::max);
    println!("resample 44.1k→16k, 440 Hz: max abs error {err:.2e}");
    assert!(err < 1e-3, "{err}");
    // A 12 kHz tone is above the 16 kHz Nyquist: it must be (nearly) removed, not aliased.
    let high: Vec<f32> = tone(12000.0, 44100, n, 0.5)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let down = resample(&high, 44100, 16000);
    let rms = power(&down[100..3900]).sqrt();
    println!("resample 44.1k→16k, 12 kHz tone: residual rms {rms:.2e}");
    assert!(rms < 1e-3, "{rms}");
    // Upsampling keeps the tone too.
    let low: Vec<f32> = tone(440.0, 8000, 2000, 0.5)
        .iter()
        .map(|&x| x as f32)
        .collect();
    let up = resample(&low, 8000, 16000);
    assert_eq!(up.len(), 4000);
    let ideal = tone(440.0, 16000, 4000, 0.5);
    let err = up[200..3800]
        .iter()
        .zip(&ideal[200..3800])
        .map(|(&a, &b)| (f64::from(a) - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-3, "{err}");
    assert_eq!(resample(&low, 8000, 8000), low);
}

#[test]
fn fit_length_pads_and_trims_at_the_end() {
    let mut c = Clip {
        samples: vec![0.5; 10],
        sample_rate: 16000,
    };
    assert_eq!(fit_length(&mut c, 10), LengthFit::Exact);
    assert_eq!(fit_length(&mut c, 13), LengthFit::Padded { added: 3 });
    assert_eq!(&c.samples[9..], &[0.5, 0.0, 0.0, 0.0]);
    assert_eq!(fit_length(&mut c, 4), LengthFit::Trimmed { removed: 9 });
    assert_eq!(c.samples, vec![0.5; 4]);
}

#[test]
fn flac_real_clip() {
    let Some(data) = support::shared_data("flac_real_clip") else {
        return;
    };
    let dir = data.join("speech_commands");
    let rel = std::fs::read_to_string(dir.join("train_list.txt"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let bytes = std::fs::read(dir.join(&rel)).unwrap();
    let clip = decode_flac(&bytes, &DecodeOptions::default()).unwrap();
    assert_eq!(clip.sample_rate, 16000);
    assert_eq!(clip.samples.len(), 16000);
    assert!(clip.samples.iter().all(|x| (-1.0..1.0).contains(x)));
    assert!(power(&clip.samples) > 0.0);
    // 16-bit exactness: every sample is k / 32768.
    assert!(clip.samples.iter().all(|&x| (x * 32768.0).fract() == 0.0));
    assert_eq!(decode(&bytes, &DecodeOptions::default()).unwrap(), clip);
    // Asking for 8 kHz: a clear error, or a resampled clip when asked for.
    let opts = DecodeOptions {
        target_rate: 8000,
        ..Default::default()
    };
    let msg = decode_flac(&bytes, &opts).unwrap_err().to_string();
    assert!(msg.contains("16000 Hz") && msg.contains("8000 Hz"), "{msg}");
    let down = decode_flac(
        &bytes,
        &DecodeOptions {
            resample: true,
            ..opts
        },
    )
    .unwrap();
    assert_eq!((down.sample_rate, down.samples.len()), (8000, 8000));
    // Truncated FLAC.
    assert!(decode_flac(&bytes[..bytes.len() / 2], &DecodeOptions::default()).is_err());
}

// ---------------------------------------------------------------------------------------------
// MFCC

#[test]
fn mfcc_config_and_frames() {
    let cfg = MfccConfig::default();
    cfg.validate().unwrap();
    assert_eq!(cfg.frames(16000), 49);
    assert_eq!(cfg.frames(639), 0);
    assert_eq!(cfg.frames(640), 1);
    assert_eq!(cfg.frames(959), 1);
    assert_eq!(cfg.frames(960), 2);
    let m = Mfcc::default();
    assert_eq!(m.compute(&vec![0.0; 16000]).len(), 49 * 10);
    assert!(m.compute(&[0.0; 100]).is_empty());
    // Digital silence → every log-mel band at the floor: c0 = sqrt(40) · ln(1e-10), others 0.
    let silent = m.compute(&[0.0; 640]);
    let c0 = (40f64).sqrt() * (1e-10f64).ln();
    assert!((f64::from(silent[0]) - c0).abs() < 1e-4);
    assert!(silent[1..].iter().all(|c| c.abs() < 1e-4));
    // NaN propagates instead of hiding under the log floor.
    let mut nan = vec![0.1; 640];
    nan[3] = f32::NAN;
    assert!(m.compute(&nan).iter().any(|c| c.is_nan()));
    // Bad configurations.
    for bad in [
        MfccConfig {
            n_fft: 512,
            ..cfg.clone()
        },
        MfccConfig {
            n_mfcc: 41,
            ..cfg.clone()
        },
        MfccConfig {
            fmax: 9000.0,
            ..cfg.clone()
        },
        MfccConfig {
            hop_length: 0,
            ..cfg.clone()
        },
        // 128 bands between 0 and 300 Hz at 15.6 Hz resolution: empty filters.
        MfccConfig {
            n_mels: 128,
            fmin: 0.0,
            fmax: 300.0,
            ..cfg.clone()
        },
    ] {
        assert!(matches!(Mfcc::new(bad).unwrap_err(), Error::Invalid { .. }));
    }
    // The filterbank peaks at 1 and covers 20..4000 Hz only.
    let fb = cfg.mel_filterbank();
    assert_eq!(fb.len(), 40 * 513);
    let max = fb.iter().cloned().fold(0.0, f64::max);
    assert!(max <= 1.0 && max > 0.9);
    for k in 0..513 {
        let f = k as f64 * 15.625;
        let col: f64 = (0..40).map(|i| fb[i * 513 + k]).sum();
        if !(20.0..=4000.0).contains(&f) {
            assert_eq!(col, 0.0, "bin {k}");
        }
    }
}

#[test]
fn mfcc_matches_librosa_reference() {
    let path = format!(
        "{}/tests/fixtures/mfcc_reference.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let p = &doc["params"];
    let cfg = MfccConfig::default();
    assert_eq!(p["sample_rate"], cfg.sample_rate);
    assert_eq!(p["win_length"], cfg.win_length);
    assert_eq!(p["hop_length"], cfg.hop_length);
    assert_eq!(p["n_fft"], cfg.n_fft);
    assert_eq!(p["n_mels"], cfg.n_mels);
    assert_eq!(p["n_mfcc"], cfg.n_mfcc);
    assert_eq!(p["fmin"].as_f64().unwrap(), cfg.fmin);
    assert_eq!(p["fmax"].as_f64().unwrap(), cfg.fmax);
    assert_eq!(p["log_floor"].as_f64().unwrap(), cfg.log_floor);
    assert_eq!(p["center"], false);
    assert_eq!(p["mel_scale"], "htk");
    let mfcc = Mfcc::new(cfg).unwrap();
    const TOL: f64 = 1e-4;
    let mut worst = 0.0f64;
    let signals = doc["signals"].as_array().unwrap();
    assert!(signals.len() >= 3);
    for s in signals {
        let name = s["name"].as_str().unwrap();
        let bytes = base64_decode(s["pcm16_le_base64"].as_str().unwrap());
        let samples: Vec<f32> = bytes
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect();
        assert_eq!(samples.len(), s["num_samples"].as_u64().unwrap() as usize);
        let got = mfcc.compute(&samples);
        let want: Vec<f64> = s["mfcc"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
            .collect();
        assert_eq!(s["frames"], 49);
        assert_eq!(got.len(), want.len(), "{name}");
        let diff = got
            .iter()
            .zip(&want)
            .map(|(&g, &w)| (f64::from(g) - w).abs())
            .fold(0.0, f64::max);
        let peak = want.iter().map(|w| w.abs()).fold(0.0, f64::max);
        println!("MFCC vs librosa, {name}: max abs diff {diff:.2e} (|c| up to {peak:.1})");
        worst = worst.max(diff);
    }
    println!("MFCC vs librosa: worst max abs diff {worst:.2e}, tolerance {TOL:.0e}");
    assert!(worst < TOL, "{worst}");
}

#[test]
fn mfcc_stream_equals_batch_bit_for_bit() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let configs = [
        MfccConfig::default(),
        // hop > window: the stream must skip samples between frames.
        MfccConfig {
            win_length: 400,
            hop_length: 500,
            n_fft: 512,
            n_mels: 26,
            n_mfcc: 13,
            ..MfccConfig::default()
        },
    ];
    for cfg in configs {
        let mfcc = Mfcc::new(cfg).unwrap();
        for len in [0usize, 639, 640, 16000, 3 * 16000 + 123] {
            let signal: Vec<f32> = (0..len).map(|_| rng.gen_range(-0.5..0.5)).collect();
            let batch = mfcc.compute(&signal);
            assert_eq!(batch.len(), mfcc.frames(len) * mfcc.n_mfcc());
            for trial in 0..4 {
                let mut stream = mfcc.stream();
                let mut out = Vec::new();
                let mut at = 0;
                while at < len {
                    let n = match trial {
                        0 => 1,
                        _ => rng.gen_range(0..=2000).min(len - at),
                    };
                    stream.push(&signal[at..at + n]);
                    at += n;
                    // Pop some frames now, the rest later.
                    if rng.gen_bool(0.5) {
                        out.extend(stream.pop_all());
                    } else if let Some(f) = stream.pop() {
                        out.extend(f);
                    }
                }
                out.extend(stream.pop_all());
                assert_eq!(stream.frames_emitted() as usize, mfcc.frames(len));
                assert_eq!(out.len(), batch.len());
                assert!(
                    out.iter()
                        .zip(&batch)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "stream differs from batch (len {len}, trial {trial})"
                );
            }
        }
    }
    let mut s = Mfcc::default().stream();
    s.push(&[0.0; 700]);
    assert_eq!(s.available(), 1);
    assert!(matches!(
        s.pop_into(&mut [0.0; 3]).unwrap_err(),
        Error::Length {
            expected: 10,
            got: 3,
            ..
        }
    ));
    s.reset();
    assert_eq!(
        (s.available(), s.pending_samples(), s.frames_emitted()),
        (0, 0, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// features and augmentation

#[test]
fn features_dataset_shape() {
    let mfcc = Mfcc::default();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let clips: Vec<Clip> = (0..5)
        .map(|_| Clip {
            samples: (0..16000).map(|_| rng.gen_range(-0.1..0.1)).collect(),
            sample_rate: 16000,
        })
        .collect();
    let ds = mfcc_dataset(&clips, &[0, 1, 2, 3, 0], KwsTask::Kws4.classes(), &mfcc).unwrap();
    ds.validate().unwrap();
    assert_eq!((ds.steps, ds.input, ds.len()), (49, 10, 5));
    assert_eq!(ds.sequences[2], mfcc.compute(&clips[2].samples));
    let mut odd = clips.clone();
    odd[1].samples.pop();
    assert!(matches!(
        mfcc_dataset(&odd, &[0; 5], KwsTask::Kws4.classes(), &mfcc).unwrap_err(),
        Error::Length { .. }
    ));
    odd[1].sample_rate = 8000;
    assert!(mfcc_dataset(&odd, &[0; 5], KwsTask::Kws4.classes(), &mfcc).is_err());
    assert!(mfcc_dataset(&clips, &[0; 4], KwsTask::Kws4.classes(), &mfcc).is_err());
}

#[test]
fn class_maps_and_paths() {
    let k4 = KwsTask::Kws4;
    assert_eq!(
        k4.classes(),
        ["yes", "no", "up", "down", "_silence_", "_unknown_"]
    );
    assert_eq!(k4.label_of_folder("up"), Some(2));
    assert_eq!(k4.label_of_folder("left"), Some(5));
    assert_eq!(k4.label_of_folder("_unknown_"), Some(5));
    assert_eq!(k4.label_of_folder("_silence_"), Some(4));
    assert_eq!(k4.label_of_folder("_background_noise_"), None);
    let k10 = KwsTask::Kws10;
    assert_eq!(k10.n_classes(), 12);
    assert_eq!(k10.label_of_folder("go"), Some(9));
    assert_eq!(k10.label_of_folder("marvin"), Some(11));
    assert_eq!(k10.silence_label(), 10);
    assert_eq!("kws10".parse::<KwsTask>().unwrap(), k10);

    let i = speech::parse_clip_path("yes/03401e93_nohash_0.flac").unwrap();
    assert_eq!((i.folder.as_str(), i.speaker.as_str()), ("yes", "03401e93"));
    let i = speech::parse_clip_path("_unknown_/backward_0c540988_nohash_0.flac").unwrap();
    assert_eq!(i.speaker, "0c540988");
    let i = speech::parse_clip_path("_silence_/1024.flac").unwrap();
    assert_eq!(i.speaker, "silence_1024");
    assert!(speech::parse_clip_path("nofolder.flac").is_err());
    assert_eq!(
        speech::parse_list("a/b.wav\r\n\r\nc/d.flac\n").unwrap(),
        vec!["a/b.wav".to_string(), "c/d.flac".to_string()]
    );
    let items: Vec<usize> = (0..10).collect();
    assert_eq!(speech::evenly_spaced(&items, Some(4)), vec![0, 2, 5, 7]);
    assert_eq!(speech::evenly_spaced(&items, Some(20)), items);
}

fn ramp_recording(name: &str, n: usize) -> NoiseRecording {
    // Sample i encodes its position, i / n, so a segment tells where it came from.
    NoiseRecording {
        name: name.into(),
        clip: Clip {
            samples: (0..n).map(|i| i as f32 / n as f32).collect(),
            sample_rate: 16000,
        },
    }
}

#[test]
fn augmentation_is_seeded_and_keeps_held_out_noise_apart() {
    assert_eq!(
        time_shift(&[1.0, 2.0, 3.0, 4.0], 1),
        vec![0.0, 1.0, 2.0, 3.0]
    );
    assert_eq!(
        time_shift(&[1.0, 2.0, 3.0, 4.0], -2),
        vec![3.0, 4.0, 0.0, 0.0]
    );
    assert_eq!(time_shift(&[1.0, 2.0], 5), vec![0.0, 0.0]);

    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let sig: Vec<f32> = (0..16000).map(|_| rng.gen_range(-0.2..0.2)).collect();
    let noise: Vec<f32> = (0..16000).map(|_| rng.gen_range(-0.2..0.2)).collect();
    let mixed = mix_at_snr(&sig, &noise, 10.0).unwrap();
    let resid: Vec<f32> = mixed.iter().zip(&sig).map(|(m, s)| m - s).collect();
    let snr = 10.0 * (power(&sig) / power(&resid)).log10();
    assert!((snr - 10.0).abs() < 1e-3, "{snr}");
    assert_eq!(mix_at_snr(&[0.0; 4], &[0.5; 4], 0.0).unwrap(), vec![0.0; 4]);
    assert!(mix_at_snr(&sig, &noise[..10], 0.0).is_err());

    let recs = vec![ramp_recording("a", 60_000), ramp_recording("b", 100_000)];
    let (train, held) = split_noise(&recs, 0.8).unwrap();
    assert_eq!(train.parts[0].1.len(), 48_000);
    assert_eq!(held.parts[1].1.len(), 20_000);
    let aug = Augmenter::new(AugmentConfig::default(), train).unwrap();
    assert_eq!(aug.config().max_shift_samples(), 1600);
    for index in 0..50 {
        let mut r = Augmenter::rng_for(7, 0, index);
        let sil = aug.silence(16000, &mut r).unwrap();
        assert_eq!(sil.len(), 16000);
        // Every generated sample comes from the first 80 % of a recording.
        assert!(sil.iter().all(|&x| x < 0.8));
        let a = aug.augment(&sig, &mut r).unwrap();
        assert_eq!(a.len(), sig.len());
    }
    // Same (seed, epoch, index) → same result; another index → another result.
    let a1 = aug.augment(&sig, &mut Augmenter::rng_for(7, 1, 3)).unwrap();
    let a2 = aug.augment(&sig, &mut Augmenter::rng_for(7, 1, 3)).unwrap();
    let a3 = aug.augment(&sig, &mut Augmenter::rng_for(7, 1, 4)).unwrap();
    assert_eq!(a1, a2);
    assert_ne!(a1, a3);
    assert!(split_noise(&recs, 1.0).is_err());
    assert!(Augmenter::new(
        AugmentConfig {
            noise_prob: 1.5,
            ..Default::default()
        },
        Default::default()
    )
    .is_err());
    // Segments longer than every part are an error, not a panic.
    assert!(aug
        .silence(90_000, &mut Augmenter::rng_for(1, 0, 0))
        .is_err());
}

// ---------------------------------------------------------------------------------------------
// real data (skipped when ../shared/data is absent)

#[test]
fn mnist_real_data() {
    let Some(data) = support::shared_data("mnist_real_data") else {
        return;
    };
    let dir = data.join("mnist");
    let t = Instant::now();
    let test = mnist::load_split(&dir, MnistSplit::Test, MnistTask::Row, None).unwrap();
    test.validate().unwrap();
    assert_eq!(test.len(), 10_000);
    assert!(test.labels.iter().all(|&l| l < 10));
    assert!(test.class_counts().iter().all(|&c| c > 800));
    let train = mnist::load_split(&dir, MnistSplit::Train, MnistTask::Pixel, None).unwrap();
    assert_eq!((train.len(), train.steps, train.input), (60_000, 784, 1));
    assert!(train.labels.iter().all(|&l| l < 10));
    let px = train.sequences[0].iter().cloned().fold(0.0, f32::max);
    assert!(px <= 1.0 && px > 0.5);
    let (tr, val) = train.split_last(mnist::VALIDATION_HOLDOUT).unwrap();
    assert_eq!((tr.len(), val.len()), (55_000, 5_000));
    println!("MNIST: loaded 60000 + 10000 images in {:.2?}", t.elapsed());
    assert!(matches!(
        mnist::load_split(&data, MnistSplit::Test, MnistTask::Row, None).unwrap_err(),
        Error::Missing(_)
    ));
}

#[test]
fn speech_real_data() {
    let Some(data) = support::shared_data("speech_real_data") else {
        return;
    };
    let dir = data.join("speech_commands");
    let t = Instant::now();
    let train_list = speech::list_split(&dir, SpeechSplit::Train).unwrap();
    let val_list = speech::list_split(&dir, SpeechSplit::Validation).unwrap();
    assert_eq!((train_list.len(), val_list.len()), (8081, 483));
    assert!(matches!(
        speech::list_split(&dir, SpeechSplit::Test).unwrap_err(),
        Error::Missing(_)
    ));
    // Speaker-disjoint splits; per-label counts of the README.
    let speakers = |list: &[String]| -> std::collections::HashSet<String> {
        list.iter()
            .map(|p| speech::parse_clip_path(p).unwrap().speaker)
            .collect()
    };
    assert!(speakers(&train_list).is_disjoint(&speakers(&val_list)));
    let k10_counts = |list: &[String]| {
        let mut c = vec![0usize; 12];
        for p in list {
            let folder = speech::parse_clip_path(p).unwrap().folder;
            c[KwsTask::Kws10.label_of_folder(&folder).unwrap()] += 1;
        }
        c
    };
    assert_eq!(
        k10_counts(&train_list),
        [847, 837, 852, 849, 839, 836, 285, 293, 834, 832, 288, 489]
    );
    assert_eq!(
        k10_counts(&val_list),
        [45, 39, 32, 40, 43, 39, 45, 31, 35, 40, 37, 57]
    );

    // Decode an evenly spaced subset (keeps the test fast).
    let set = speech::load_split(&dir, KwsTask::Kws10, SpeechSplit::Train, Some(240)).unwrap();
    assert_eq!(set.len(), 240);
    assert!(
        set.class_counts().iter().all(|&c| c > 0),
        "{:?}",
        set.class_counts()
    );
    assert!(set
        .clips
        .iter()
        .all(|c| c.samples.len() == 16000 && c.sample_rate == 16000));
    assert!(set.speakers.iter().all(|s| !s.is_empty()));
    let k4 = speech::load_split(&dir, KwsTask::Kws4, SpeechSplit::Validation, Some(60)).unwrap();
    assert_eq!(k4.classes.len(), 6);
    assert!(
        k4.class_counts().iter().all(|&c| c > 0),
        "{:?}",
        k4.class_counts()
    );
    for (p, &l) in k4.paths.iter().zip(&k4.labels) {
        let folder = p.split('/').next().unwrap();
        let want = match folder {
            "yes" => 0,
            "no" => 1,
            "up" => 2,
            "down" => 3,
            "_silence_" => 4,
            _ => 5,
        };
        assert_eq!(l, want, "{p}");
    }
    let ds = bitgru::data::features::speech_dataset(&set, &Mfcc::default()).unwrap();
    assert_eq!((ds.steps, ds.input, ds.len()), (49, 10, 240));

    // Background noise: 6 recordings, split by time for training / held-out use.
    let noise = speech::load_background_noise(&dir, &DecodeOptions::default()).unwrap();
    let names: Vec<&str> = noise.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "doing_the_dishes",
            "dude_miaowing",
            "exercise_bike",
            "pink_noise",
            "running_tap",
            "white_noise"
        ]
    );
    assert!(noise.iter().all(|n| n.clip.duration_s() > 59.0));
    let (train_noise, _held) = split_noise(&noise, 0.8).unwrap();
    let aug = Augmenter::new(AugmentConfig::default(), train_noise).unwrap();
    let mut rng = Augmenter::rng_for(1, 0, 0);
    let noisy = aug.augment(&set.clips[0].samples, &mut rng).unwrap();
    assert_eq!(noisy.len(), 16000);
    println!(
        "speech: lists, 300 clips, features and noise in {:.2?}",
        t.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// hardening (issue 10)

#[test]
fn empty_recordings_are_errors() {
    let wav = wav_bytes(spec(1, 16000, 16), &[]);
    let e = decode_wav(&wav, &DecodeOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("WAV") && e.contains("no samples"), "{e}");
    let e = decode(&wav, &DecodeOptions::converting(16000))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no samples"), "{e}");
}

#[test]
fn upsampling_a_tiny_rate_is_bounded() {
    // 1 Hz → 16 kHz multiplies the length by 16000: 4000 samples would become 64 M.
    let wav = wav_bytes(spec(1, 1, 16), &vec![1000; 4000]);
    let e = decode_wav(&wav, &DecodeOptions::converting(16000))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sample limit"), "{e}");
}

#[test]
fn split_lists_cannot_leave_the_data_folder() {
    for bad in [
        "../x.flac",
        "yes/../../x.flac",
        "/etc/passwd",
        "yes//a.wav",
        "./yes/a.wav",
        "C:/x.wav",
        "yes\\..\\..\\x.wav",
    ] {
        let text = format!("yes/a.wav\n{bad}\n");
        let e = speech::parse_list(&text).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("relative path"),
            "{bad}: {e}"
        );
    }
    // Through the loader: the list file is named.
    let dir = std::env::temp_dir().join(format!("bitgru-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("validation_list.txt"), "../x.flac\n").unwrap();
    let e = speech::list_split(&dir, SpeechSplit::Validation)
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        e.contains("validation_list.txt") && e.contains("../x.flac"),
        "{e}"
    );
}

#[test]
fn truncated_mnist_labels_file_is_named() {
    let dir = std::env::temp_dir().join(format!("bitgru-mnist-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (img, lbl, _, _) = synthetic_mnist(6, 4);
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), &img).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &lbl[..lbl.len() - 2]).unwrap();
    let e = mnist::load_split(&dir, MnistSplit::Test, MnistTask::Row, None)
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        e.contains("MNIST labels file")
            && e.contains("t10k-labels-idx1-ubyte")
            && e.contains("truncated"),
        "{e}"
    );
}

/// SpecAugment: masks whole time steps and whole channels, the same for the same generator,
/// nothing (and no random draw) when off; the text form round-trips and bad forms are refused.
#[test]
fn spec_augment_masks_blocks_deterministically() {
    use bitgru::data::augment::SpecAugment;
    let sa: SpecAugment = "2,5,1,3".parse().unwrap();
    assert_eq!(sa.to_string(), "2,5,1,3");
    assert_eq!(
        (
            sa.time_masks,
            sa.max_time_width,
            sa.freq_masks,
            sa.max_freq_width
        ),
        (2, 5, 1, 3)
    );
    for bad in ["2,5,1", "2,5,1,x", "", "1,2,3,4,5", "-1,2,3,4"] {
        let e = bad.parse::<SpecAugment>().unwrap_err().to_string();
        assert!(e.contains("SpecAugment"), "{bad}: {e}");
    }
    let (steps, ch) = (49, 10);
    let mut masked_any = false;
    for seed in 0..40 {
        let mut x = vec![1.0f32; steps * ch];
        let mut y = x.clone();
        sa.apply(&mut x, steps, ch, &mut Augmenter::rng_for(seed, 0, 0))
            .unwrap();
        sa.apply(&mut y, steps, ch, &mut Augmenter::rng_for(seed, 0, 0))
            .unwrap();
        assert_eq!(x, y);
        // Zeros are unions of full rows (time) and full columns (channels).
        let zero_rows: Vec<bool> = x.chunks(ch).map(|r| r.iter().all(|&v| v == 0.0)).collect();
        let zero_cols: Vec<bool> = (0..ch)
            .map(|c| (0..steps).all(|t| x[t * ch + c] == 0.0))
            .collect();
        for t in 0..steps {
            for c in 0..ch {
                let z = x[t * ch + c] == 0.0;
                assert_eq!(z, zero_rows[t] || zero_cols[c], "seed {seed} ({t}, {c})");
            }
        }
        assert!(zero_rows.iter().filter(|&&z| z).count() <= 10);
        assert!(zero_cols.iter().filter(|&&z| z).count() <= 3 || zero_rows.iter().all(|&z| z));
        masked_any |= x.contains(&0.0);
    }
    assert!(masked_any);
    // Off: unchanged, and the generator is untouched.
    let off = SpecAugment::default();
    let mut x = vec![1.0f32; steps * ch];
    let mut r = Augmenter::rng_for(1, 0, 0);
    off.apply(&mut x, steps, ch, &mut r).unwrap();
    assert!(x.iter().all(|&v| v == 1.0));
    assert_eq!(r.gen::<u64>(), Augmenter::rng_for(1, 0, 0).gen::<u64>());
    // Widths beyond the sequence and wrong lengths are errors, not panics.
    let wide: SpecAugment = "1,50,0,0".parse().unwrap();
    let e = wide
        .apply(&mut x, steps, ch, &mut r)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_time_width") && e.contains("49"), "{e}");
    assert!(sa.apply(&mut x[..100], steps, ch, &mut r).is_err());
}

/// The KWS training source: extra generated `_silence_` examples after the clips, per-example
/// results that depend only on the example's generator, and settings checked up front.
#[test]
fn kws_source_adds_silence_and_is_seeded() {
    use bitgru::data::augment::KwsAugment;
    use bitgru::task::{default_mfcc, KwsTrainSource};
    use bitgru::train::BatchSource;
    let recs = vec![ramp_recording("a", 60_000)];
    let (train, _) = split_noise(&recs, 0.8).unwrap();
    let clips: Vec<Vec<f32>> = (0..10)
        .map(|k| {
            (0..16000)
                .map(|i| 0.2 * ((i * (k + 1)) as f32 * 0.01).sin())
                .collect()
        })
        .collect();
    let labels: Vec<usize> = (0..10).map(|k| k % 3).collect();
    let aug = KwsAugment {
        extra_silence: 0.3,
        spec: "2,4,1,2".parse().unwrap(),
        ..KwsAugment::default()
    };
    let make = |aug: &KwsAugment| {
        KwsTrainSource::new(
            clips.clone(),
            labels.clone(),
            1,
            2,
            aug,
            train.clone(),
            default_mfcc().unwrap(),
            None,
        )
    };
    let src = make(&aug).unwrap();
    assert_eq!((src.len(), src.extra_silence()), (13, 3));
    assert_eq!((src.label(3), src.label(10), src.label(12)), (0, 1, 1));
    for idx in [0, 4, 11] {
        let a = src
            .get(idx, &mut Augmenter::rng_for(3, 2, idx as u64))
            .unwrap();
        let b = src
            .get(idx, &mut Augmenter::rng_for(3, 2, idx as u64))
            .unwrap();
        let c = src.get(idx, &mut Augmenter::rng_for(3, 2, 99)).unwrap();
        assert_eq!(a.len(), 49 * 10);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
    let bad = |aug: KwsAugment| make(&aug).err().map(|e| e.to_string()).unwrap_or_default();
    let e = bad(KwsAugment {
        extra_silence: -1.0,
        ..KwsAugment::default()
    });
    assert!(e.contains("extra_silence"), "{e}");
    let e = bad(KwsAugment {
        spec: "1,2,1,11".parse().unwrap(),
        ..KwsAugment::default()
    });
    assert!(e.contains("max_freq_width"), "{e}");
    let e = bad(KwsAugment {
        unknown_cap: 0.0,
        ..KwsAugment::default()
    });
    assert!(e.contains("unknown_cap"), "{e}");
    let e = bad(KwsAugment {
        boundary_unknown: f64::NAN,
        ..KwsAugment::default()
    });
    assert!(e.contains("boundary_unknown"), "{e}");
    // Boundary windows: after the extra silence, labelled _unknown_ (2 here), seeded.
    let src = make(&KwsAugment {
        extra_silence: 0.3,
        boundary_unknown: 0.2,
        ..KwsAugment::default()
    })
    .unwrap();
    assert_eq!((src.len(), src.boundary_unknown()), (15, 2));
    assert_eq!((src.label(12), src.label(13), src.label(14)), (1, 2, 2));
    let a = src.get(13, &mut Augmenter::rng_for(3, 2, 13)).unwrap();
    assert_eq!(a, src.get(13, &mut Augmenter::rng_for(3, 2, 13)).unwrap());
    assert_ne!(a, src.get(14, &mut Augmenter::rng_for(3, 2, 14)).unwrap());
    // Only _silence_ clips: nothing to cut words from.
    let e = KwsTrainSource::new(
        clips[..2].to_vec(),
        vec![1, 1],
        1,
        2,
        &KwsAugment {
            boundary_unknown: 1.0,
            ..KwsAugment::default()
        },
        train.clone(),
        default_mfcc().unwrap(),
        None,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("spoken clips"), "{e}");
}

/// A boundary window holds the end of one clip and the start of the next, cut near the middle,
/// and redraws the cut until neither clip's energy is mostly inside.
#[test]
fn boundary_windows_cut_words() {
    use bitgru::data::augment::{boundary_window, BOUNDARY_MAX_SHARE};
    use rand::SeedableRng;
    let n = 1000;
    // Word energy in the middle of each clip (a burst over samples 300..700); a tiny ramp makes
    // every sample distinct, so that the cut can be read back.
    let word = |scale: f32| -> Vec<f32> {
        (0..n)
            .map(|i| if (300..700).contains(&i) { scale } else { 0.001 } + i as f32 * 1e-6)
            .collect()
    };
    let (a, b) = (word(0.5), word(-0.25));
    for seed in 0..20 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (w, ok) = boundary_window(&a, &b, &mut rng).unwrap();
        assert!(ok);
        assert_eq!(w.len(), n);
        // w = a[cut..] ++ b[..cut] with cut in 400..=600 (±10 % around the middle).
        let cut = (400..=600)
            .find(|&c| w[..n - c] == a[c..] && w[n - c..] == b[..c])
            .expect("a cut near the middle");
        let e = |x: &[f32]| x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
        assert!(e(&a[cut..]) / e(&a) <= BOUNDARY_MAX_SHARE);
    }
    // A word at the end of its clip cannot be cut out: reported, and still a window.
    let late: Vec<f32> = (0..n).map(|i| if i >= 900 { 0.5 } else { 0.0 }).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let (w, ok) = boundary_window(&late, &b, &mut rng).unwrap();
    assert!(!ok);
    assert_eq!(w.len(), n);
    assert!(boundary_window(&a, &b[..10], &mut rng).is_err());
}
