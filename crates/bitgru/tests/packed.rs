//! Issue 11 item 1 without a C compiler: the `.bitgru` file (format 2) stores the weights and
//! LUTs packed at their gene's bit width, round-trips bit-exactly for every width, still reads
//! format 1, and its tensor data and the C export's read-only data track the size metric.
//! Issue 10: the Rust kernel refuses a zero-length sequence (as the C `_run` does, see
//! `tests/c_export.rs`).
use bitgru::io::c_export::{export_c_with, CExportOptions, Storage};
use bitgru::io::qfile::{load_quant, save_quant, FORMAT_VERSION};
use bitgru::io::stfile;
use bitgru::size::{storage, C_CONSTANT_BYTES};
use bitgru::synth::{random_model, random_sequences};
use bitgru::{BitRange, Calibration, Genome, QuantGru, Scratch, N_GENES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn prepared(seed: u64, i: usize, h: usize, c: usize, g: &Genome) -> QuantGru {
    let m = random_model(seed, i, h, c);
    let cal_seqs = random_sequences(seed ^ 0xCA1, 24, 12, i);
    let refs: Vec<&[f32]> = cal_seqs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs).unwrap();
    QuantGru::prepare(&m, &cal, g).unwrap()
}

/// all-2 … all-8 and random genomes (every gene at every width over the Latin square).
fn genomes() -> Vec<Genome> {
    let mut v: Vec<Genome> = (2..=8).map(|b| Genome::uniform(b).unwrap()).collect();
    for r in 0..7u8 {
        let mut bits = [0u8; N_GENES];
        for (k, b) in bits.iter_mut().enumerate() {
            *b = 2 + (k as u8 + r) % 7;
        }
        v.push(Genome::new(bits, BitRange::FULL).unwrap());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0xB175);
    for _ in 0..6 {
        let mut bits = [0u8; N_GENES];
        for b in &mut bits {
            *b = rng.gen_range(2..=8);
        }
        v.push(Genome::new(bits, BitRange::FULL).unwrap());
    }
    v
}

#[test]
fn bitgru_file_is_packed_and_round_trips_every_width() {
    for (k, g) in genomes().iter().enumerate() {
        let (i, h, c) = [(7, 13, 5), (10, 32, 12), (3, 5, 2)][k % 3];
        let q = prepared(k as u64 + 1, i, h, c, g);
        let bytes = save_quant(&q, serde_json::json!({"k": k})).unwrap();
        let (back, prov) = load_quant(&bytes).unwrap();
        assert_eq!(back, q, "genome {g}");
        assert_eq!(prov["k"], k);
        // The tensor data is exactly the packed size, which is the size metric's stored part
        // plus at most one padding byte per bit stream.
        let st = storage(g, q.dims());
        let parsed = stfile::parse("bitgru", &bytes).unwrap();
        let data: usize = parsed.tensors.values().map(|t| t.data.len()).sum();
        assert_eq!(data as u64, st.packed_tensor_bytes, "genome {g}");
        assert!(st.padding_bytes <= 9, "genome {g}: {}", st.padding_bytes);
        let header = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        assert_eq!(bytes.len() as u64, 8 + header + st.packed_tensor_bytes);
        // Same predictions as the model that was written.
        let mut s = Scratch::for_model(&q);
        for x in random_sequences(k as u64, 4, 6, i) {
            let codes = q.quantize_input(&x).unwrap();
            assert_eq!(
                q.run(&codes, &mut s).unwrap(),
                back.run(&codes, &mut s).unwrap()
            );
        }
    }
}

#[test]
fn storage_tracks_the_size_metric() {
    for (k, g) in genomes().iter().enumerate() {
        for d in [
            bitgru::Dims {
                input: 13,
                hidden: 64,
                classes: 12,
            },
            bitgru::Dims {
                input: 1,
                hidden: 1,
                classes: 1,
            },
            bitgru::Dims {
                input: 28,
                hidden: 128,
                classes: 10,
            },
        ] {
            let st = storage(g, d);
            let r = bitgru::size::report(g, d);
            assert_eq!(st.metric_bits, r.bits);
            assert_eq!(
                st.state_bits,
                d.hidden as u64 * g.get(bitgru::Gene::AddH) as u64
            );
            assert_eq!(st.metric_stored_bytes, (r.bits - st.state_bits).div_ceil(8));
            // The stated overhead: the constants plus at most one padding byte per stream.
            assert_eq!(
                st.c_overhead_packed,
                C_CONSTANT_BYTES + st.padding_bytes,
                "{k}"
            );
            assert!(st.padding_bytes <= 9);
            assert!(st.c_rodata_unpacked >= st.c_rodata_packed);
        }
    }
    // All-8: packed = unpacked (nothing to pack). All-4 on kws10's shape: about half the bytes.
    let d = bitgru::Dims {
        input: 13,
        hidden: 64,
        classes: 12,
    };
    let s8 = storage(&Genome::uniform(8).unwrap(), d);
    assert_eq!(s8.c_rodata_packed, s8.c_rodata_unpacked);
    let s4 = storage(&Genome::uniform(4).unwrap(), d);
    assert!(s4.packed_tensor_bytes * 10 < s8.packed_tensor_bytes * 6);
}

/// The C export's header states the storage numbers.
#[test]
fn c_header_states_the_overhead() {
    let g: Genome = "37528364728364725".parse().unwrap();
    let q = prepared(9, 6, 10, 3, &g);
    let st = storage(&g, q.dims());
    for (kind, ro) in [
        (Storage::Packed, st.c_rodata_packed),
        (Storage::Unpacked, st.c_rodata_unpacked),
    ] {
        let opt = CExportOptions {
            storage: kind,
            class_names: vec![],
        };
        let c = export_c_with(&q, "m", &opt).unwrap();
        assert!(
            c.header.contains(&format!("#define M_RODATA_BYTES {ro}")),
            "{kind:?}"
        );
        assert!(c
            .header
            .contains(&format!("overhead {} bytes", st.c_overhead_packed)));
        assert_eq!(c.storage, st);
    }
}

/// Format 1 files (one byte per code) are still read: the committed fuzz seed is one.
#[test]
fn format_1_files_are_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/bitgru/seed-23456782345678234"
    );
    let bytes = std::fs::read(path).unwrap();
    let js = &stfile::parse("bitgru", &bytes).unwrap().metadata["bitgru.quant"];
    let v: serde_json::Value = serde_json::from_str(js).unwrap();
    assert_eq!(v["version"], 1);
    let (q, prov) = load_quant(&bytes).unwrap();
    // Re-written as format 2: the same model, smaller.
    let again = save_quant(&q, prov).unwrap();
    assert_eq!(FORMAT_VERSION, 2);
    assert!(again.len() < bytes.len());
    assert_eq!(load_quant(&again).unwrap().0, q);
    // A future version is refused with a clear message.
    let mut future = bytes.clone();
    let at = future
        .windows(11)
        .position(|w| w == b"version\\\":1")
        .expect("the version field (a JSON string inside the safetensors header)");
    future[at + 10] = b'3';
    let e = load_quant(&future).unwrap_err().to_string();
    assert!(
        e.contains("format version Some(3)") && e.contains("[1, 2]"),
        "{e}"
    );
}

/// A corrupted packed tensor (wrong length, non-zero padding) is refused, naming the tensor.
#[test]
fn bad_packed_tensors_are_refused() {
    let g: Genome = "33333333333333333".parse().unwrap();
    let q = prepared(3, 5, 7, 2, &g);
    let bytes = save_quant(&q, serde_json::json!({})).unwrap();
    let st = stfile::parse("bitgru", &bytes).unwrap();
    // lin_ir: 7 × 5 × 3 bits = 105 bits → 14 bytes, 7 padding bits in the last one.
    let t = &st.tensors["lin_ir.weight"];
    assert_eq!(t.data.len(), 14);
    let off = t.data.as_ptr() as usize - bytes.as_ptr() as usize;
    let mut bad = bytes.clone();
    bad[off + 13] |= 0x80;
    let e = load_quant(&bad).unwrap_err().to_string();
    assert!(e.contains("lin_ir.weight") && e.contains("padding"), "{e}");
}

/// Issue 10: a zero-length sequence is an error in Rust (the C `_run` returns -1); the zero
/// state's logits are available explicitly in both (reset + logits / `head_logits`).
#[test]
fn zero_length_sequences_are_refused() {
    let q = prepared(4, 3, 6, 2, &Genome::uniform(6).unwrap());
    let mut s = Scratch::for_model(&q);
    let e = q.run(&[], &mut s).unwrap_err().to_string();
    assert!(
        e.contains("length 0 is not a positive multiple of the input size 3"),
        "{e}"
    );
    assert!(q.quantize_input(&[]).is_err());
    q.reset(&mut s);
    assert_eq!(q.head_logits(q.state(&s)), q.head.bias);
}
