//! Writes the seed corpora of the fuzz targets (`fuzz/corpus/<target>/seed-*`): one small valid
//! file per reader (plus a few variants), made from synthetic models and signals, never from
//! real data. Run once when a format changes: `cargo run -p bitgru --example fuzz_seeds`.
use bitgru::io::qfile::save_quant;
use bitgru::io::{save_bundle, ModelBundle, ModelMeta};
use bitgru::synth::{random_model, random_sequences, SynthTask};
use bitgru::train::{InMemory, TrainConfig, Trainer};
use bitgru::{Calibration, Genome, QuantGru};
use std::io::Write;
use std::path::Path;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("seed-{name}")), bytes).unwrap();
}

fn npy(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 16 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend((h.len() as u16).to_le_bytes());
    v.extend(h.as_bytes());
    v.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    v
}

fn crc8(data: &[u8]) -> u8 {
    let mut c = 0u8;
    for &b in data {
        c ^= b;
        for _ in 0..8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0x07
            } else {
                c << 1
            };
        }
    }
    c
}

fn crc16(data: &[u8]) -> u16 {
    let mut c = 0u16;
    for &b in data {
        c ^= (b as u16) << 8;
        for _ in 0..8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x8005
            } else {
                c << 1
            };
        }
    }
    c
}

/// A mono 16-bit FLAC with one VERBATIM frame (a minimal encoder, for seeds only).
fn flac(samples: &[i16], rate: u32) -> Vec<u8> {
    let n = samples.len();
    let mut v = b"fLaC".to_vec();
    v.extend([0x80, 0, 0, 34]); // last block, STREAMINFO, 34 bytes
    v.extend((n as u16).to_be_bytes()); // min block size
    v.extend((n as u16).to_be_bytes()); // max block size
    v.extend([0u8; 6]); // min / max frame size unknown
                        // 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
    let packed: u64 = ((rate as u64) << 44) | (15u64 << 36) | n as u64;
    v.extend(packed.to_be_bytes());
    v.extend([0u8; 16]); // MD5 unknown
    let mut frame = vec![0xFF, 0xF8, 0x70, 0x08, 0x00];
    frame.extend(((n - 1) as u16).to_be_bytes());
    frame.push(crc8(&frame));
    frame.push(0x02); // VERBATIM subframe, no wasted bits
    for s in samples {
        frame.extend(s.to_be_bytes());
    }
    frame.extend(crc16(&frame).to_be_bytes());
    v.extend(frame);
    v
}

fn wav(samples: &[i16], rate: u32, channels: u16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut c = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    c.into_inner()
}

fn idx(magic_type: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, magic_type, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    // A tiny model: input 2, hidden 3, classes 2.
    let model = random_model(1, 2, 3, 2);
    let seqs = random_sequences(2, 4, 3, 2);
    let refs: Vec<&[f32]> = seqs.iter().map(|v| v.as_slice()).collect();
    let calibration = Calibration::compute(&model, &refs).unwrap();
    let b = ModelBundle {
        meta: ModelMeta {
            task: "synthetic".into(),
            classes: vec!["a".into(), "b".into()],
            ..Default::default()
        },
        model: model.clone(),
        calibration: calibration.clone(),
    };
    write(&dir, "bundle", "tiny", &save_bundle(&b).unwrap());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    write(
        &dir,
        "bundle",
        "torch",
        &std::fs::read(fixtures.join("torch_gru.safetensors")).unwrap(),
    );
    write(
        &dir,
        "npz",
        "keras",
        &std::fs::read(fixtures.join("keras_gru.npz")).unwrap(),
    );
    write(&dir, "npz", "npy", &npy(&[2, 3], &[0.5; 6]));
    for g in ["88888888888888888", "23456782345678234"] {
        let g: Genome = g.parse().unwrap();
        let q = QuantGru::prepare(&model, &calibration, &g).unwrap();
        write(
            &dir,
            "bitgru",
            &g.to_string(),
            &save_quant(&q, serde_json::json!({})).unwrap(),
        );
    }
    write(
        &dir,
        "inputs",
        "flat",
        br#"{"sequences": [[0.1, -0.3, 0.5], [1, 2, 3, 4, 5, 6]], "labels": [0, 1]}"#,
    );
    write(
        &dir,
        "inputs",
        "nested",
        br#"{"sequences": [[[0.1, 0.2, 0.3], [1, 2, 3]]], "steps": 2}"#,
    );
    // NumPy inputs: [N, T, I] and [N, T*I] arrays; the npz seed (sequences + labels) was
    // written by np.savez (a deflate-free stored archive) and is committed as seed-npz.
    write(&dir, "inputs", "npy3", &npy(&[2, 4, 3], &[0.25; 24]));
    write(&dir, "inputs", "npy2", &npy(&[2, 12], &[-0.5; 24]));
    // A checkpoint of a tiny trainer (8 samples, batch 4).
    let task = SynthTask::new(3, 2, 2, 1, 0.5);
    let (xs, ys) = task.sample(4, 8);
    let src = InMemory { xs: &xs, ys: &ys };
    let cfg = TrainConfig {
        epochs: 2,
        batch_size: 4,
        shards: 1,
        warmup_steps: 1,
        balance_classes: true,
        ..Default::default()
    };
    let mut t = Trainer::new(random_model(5, 1, 2, 2), cfg, &src).unwrap();
    for _ in 0..3 {
        if t.step(&src).unwrap().epoch_done {
            t.end_epoch(Some(&src)).unwrap();
        }
    }
    write(&dir, "checkpoint", "tiny", &t.checkpoint());
    let tone: Vec<i16> = (0..64)
        .map(|k| ((k as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    write(&dir, "wav", "mono16k", &wav(&tone, 16000, 1));
    write(&dir, "wav", "stereo8k", &wav(&tone, 8000, 2));
    write(&dir, "flac", "mono16k", &flac(&tone, 16000));
    write(&dir, "flac", "mono8k", &flac(&tone[..32], 8000));
    write(
        &dir,
        "idx",
        "images",
        &idx(0x08, &[2, 28, 28], &[7; 2 * 784]),
    );
    write(&dir, "idx", "labels", &idx(0x08, &[3], &[1, 2, 9]));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&idx(0x08, &[3], &[1, 2, 9])).unwrap();
    write(&dir, "idx", "labels-gz", &gz.finish().unwrap());
    write(
        &dir,
        "split_list",
        "list",
        b"yes/0a7c2a8d_nohash_0.flac\r\nno/0b09edd3_nohash_1.wav\n\n",
    );
    eprintln!("wrote seeds under {}", dir.display());
}
