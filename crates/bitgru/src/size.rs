//! Model size and bit-operation metrics of a genome.
//!
//! Size in bits (DESIGN §4):
//! `Σ_linear (|W|·b + |bias|·32) + Σ_act 2^(b_in)·b_out (LUTs) + H·b_state + head`
//! with the head at 8-bit weights and 32-bit biases. The input scales and the
//! multipliers are a few words per tensor and are not counted. `normalized` divides by the same
//! count for the all-8 genome.
//!
//! Bit-operations per step: `Σ_linear MACs·b_w·b_in + Σ_elementwise H·b_a·b_b` (+ head per
//! sequence is not included), where the input codes are 8-bit and h has gene 10's bits; the
//! subtraction 1 − z counts as `H·b_z` (one operand is a constant).
use crate::calibrate::{HEAD_BITS, INPUT_BITS};
use crate::genome::{Gene, Genome};
use serde::{Deserialize, Serialize};

/// Shape of a model, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dims {
    pub input: usize,
    pub hidden: usize,
    pub classes: usize,
}

/// Size of a genome on a model shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    pub bits: u64,
    pub bytes: u64,
    /// `bits / bits(all-8)`.
    pub normalized: f64,
    /// Weight bits only (linear weights + head weights), for comparison.
    pub weight_bits: u64,
    pub bitops_per_step: u64,
}

/// Model size in bits.
pub fn size_bits(g: &Genome, d: Dims) -> u64 {
    let (i, h, c) = (d.input as u64, d.hidden as u64, d.classes as u64);
    let b = |x: Gene| g.get(x) as u64;
    let mut bits = 0u64;
    for (k, gene) in Gene::ALL[..6].iter().enumerate() {
        let cols = if k < 3 { i } else { h };
        bits += h * cols * b(*gene) + h * 32;
    }
    bits += (1u64 << b(Gene::AddR)) * b(Gene::SigR);
    bits += (1u64 << b(Gene::AddZ)) * b(Gene::SigZ);
    bits += (1u64 << b(Gene::AddN)) * b(Gene::TanhN);
    bits += h * b(Gene::AddH);
    bits += c * h * HEAD_BITS as u64 + c * 32;
    bits
}

/// Weight-only bits (linear + head weights).
pub fn weight_bits(g: &Genome, d: Dims) -> u64 {
    let (i, h, c) = (d.input as u64, d.hidden as u64, d.classes as u64);
    let mut bits = c * h * HEAD_BITS as u64;
    for (k, gene) in Gene::ALL[..6].iter().enumerate() {
        let cols = if k < 3 { i } else { h };
        bits += h * cols * g.get(*gene) as u64;
    }
    bits
}

/// Bit-operations per time step.
pub fn bitops_per_step(g: &Genome, d: Dims) -> u64 {
    let (i, h) = (d.input as u64, d.hidden as u64);
    let b = |x: Gene| g.get(x) as u64;
    let bh = b(Gene::AddH);
    let mut ops = 0;
    for gene in &Gene::ALL[..3] {
        ops += h * i * b(*gene) * INPUT_BITS as u64;
    }
    for gene in &Gene::ALL[3..6] {
        ops += h * h * b(*gene) * bh;
    }
    let pairs = [
        (Gene::LinIr, Gene::LinHr), // add_r
        (Gene::LinIz, Gene::LinHz), // add_z
        (Gene::LinIn, Gene::MulRh), // add_n
        (Gene::MulZn, Gene::MulZh), // add_h
        (Gene::SigR, Gene::LinHn),  // mul_rh
        (Gene::SubZ, Gene::TanhN),  // mul_zn
        (Gene::SigZ, Gene::AddH),   // mul_zh
    ];
    for (a, c) in pairs {
        ops += h * b(a) * b(c);
    }
    ops += h * b(Gene::SigZ); // sub_z
    ops
}

/// All metrics of a genome.
pub fn report(g: &Genome, d: Dims) -> SizeReport {
    let bits = size_bits(g, d);
    let all8 = size_bits(&Genome::uniform(8).expect("8 is in range"), d);
    SizeReport {
        bits,
        bytes: bits.div_ceil(8),
        normalized: bits as f64 / all8 as f64,
        weight_bits: weight_bits(g, d),
        bitops_per_step: bitops_per_step(g, d),
    }
}

/// Bytes of the C export's constants besides the tensors: the six requantization multipliers
/// (`{int32, uint8}`, 8 bytes each with padding), the four dual multipliers of the additions
/// (`{int64, int64, uint8}`, 24 bytes), the four other multipliers (8 bytes) and the genome
/// string (17 digits + NUL). Checked against the compiled object by `tests/c_export.rs`.
pub const C_CONSTANT_BYTES: u64 = 6 * 8 + 4 * 24 + 4 * 8 + 18;

/// Storage of a genome's model: what the `.bitgru` file (format 2) and the C export hold, next
/// to the size metric. Every tensor is stored at its gene's bit width in its own bit stream
/// ([`crate::io::pack`]); the 8-bit head and the 32-bit biases are stored as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageReport {
    /// The size metric in bits ([`size_bits`]).
    pub metric_bits: u64,
    /// The part of the metric that is run-time state, not stored: `H · b_add_h` bits (the C
    /// export keeps the state in `H` bytes of RAM).
    pub state_bits: u64,
    /// `⌈(metric_bits − state_bits) / 8⌉`: the stored part of the metric in bytes.
    pub metric_stored_bytes: u64,
    /// Tensor bytes at packed storage: `Σ ⌈n·b / 8⌉` over the 15 tensors (the `.bitgru` file's
    /// tensor data and the packed C arrays).
    pub packed_tensor_bytes: u64,
    /// `packed_tensor_bytes − metric_stored_bytes`: the byte padding at the end of each bit
    /// stream (at most 1 byte per packed tensor).
    pub padding_bytes: u64,
    /// Read-only data of the packed C export: `packed_tensor_bytes + C_CONSTANT_BYTES`.
    pub c_rodata_packed: u64,
    /// Read-only data of the unpacked C export (one byte per weight and LUT code).
    pub c_rodata_unpacked: u64,
    /// `c_rodata_packed − metric_stored_bytes`: padding plus [`C_CONSTANT_BYTES`].
    pub c_overhead_packed: u64,
}

/// Per-tensor (number of codes, bits per stored code) of a genome's model, in file order:
/// six (weights, bias) pairs, the three LUTs, head weights, head bias.
pub fn tensors(g: &Genome, d: Dims) -> Vec<(u64, u8)> {
    let (i, h, c) = (d.input as u64, d.hidden as u64, d.classes as u64);
    let mut t = Vec::with_capacity(15);
    for (k, gene) in Gene::ALL[..6].iter().enumerate() {
        let cols = if k < 3 { i } else { h };
        t.push((h * cols, g.get(*gene)));
        t.push((h, 32));
    }
    t.push((1 << g.get(Gene::AddR), g.get(Gene::SigR)));
    t.push((1 << g.get(Gene::AddZ), g.get(Gene::SigZ)));
    t.push((1 << g.get(Gene::AddN), g.get(Gene::TanhN)));
    t.push((c * h, HEAD_BITS));
    t.push((c, 32));
    t
}

/// Storage report of a genome on a model shape.
pub fn storage(g: &Genome, d: Dims) -> StorageReport {
    let metric_bits = size_bits(g, d);
    let state_bits = d.hidden as u64 * g.get(Gene::AddH) as u64;
    let metric_stored_bytes = (metric_bits - state_bits).div_ceil(8);
    let ts = tensors(g, d);
    let packed_tensor_bytes: u64 = ts.iter().map(|&(n, b)| (n * b as u64).div_ceil(8)).sum();
    let unpacked: u64 = ts.iter().map(|&(n, b)| n * (b as u64).div_ceil(8)).sum();
    let c_rodata_packed = packed_tensor_bytes + C_CONSTANT_BYTES;
    StorageReport {
        metric_bits,
        state_bits,
        metric_stored_bytes,
        packed_tensor_bytes,
        padding_bytes: packed_tensor_bytes - metric_stored_bytes,
        c_rodata_packed,
        c_rodata_unpacked: unpacked + C_CONSTANT_BYTES,
        c_overhead_packed: c_rodata_packed - metric_stored_bytes,
    }
}
