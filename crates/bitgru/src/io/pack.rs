//! Packed storage of b-bit codes (b = 1..=8), shared by the `.bitgru` file (format version 2)
//! and the packed C export.
//!
//! **Layout: one little-endian bit stream per tensor.** Code `k` (row-major) occupies stream
//! bits `[k·b, (k+1)·b)`, where stream bit `n` is bit `n mod 8` of byte `n / 8`; a code is stored
//! as its low `b` bits (two's complement for signed codes). The last byte is zero-padded, so a
//! tensor of `n` codes takes `⌈n·b / 8⌉` bytes: at most 7 bits more than the size metric counts.
//!
//! Why a bit stream rather than word-aligned groups (10×3, 6×5, 5×6, 4×7 bits per 32-bit word):
//! the groups waste 2, 2, 2 and 4 bits per word (6–12 %), which would break "the stored size is
//! the size metric"; the stream wastes nothing but the tail. Decoding costs one shift, one mask
//! and one refill per byte — sequentially (a dot product over a row) a 16-bit window
//! `byte[i] | byte[i+1] << 8` is never needed, and random access (a LUT entry) reads at most
//! two bytes because `b ≤ 8`.
use crate::error::{Error, Result};

/// Bytes of `n` packed `bits`-bit codes: `⌈n·bits / 8⌉`.
pub fn packed_len(n: usize, bits: u8) -> usize {
    (n * bits as usize).div_ceil(8)
}

fn pack_raw(codes: impl ExactSizeIterator<Item = u32>, bits: u8) -> Vec<u8> {
    let mut out = vec![0u8; packed_len(codes.len(), bits)];
    let mask = (1u32 << bits) - 1;
    for (k, v) in codes.enumerate() {
        let bit = k * bits as usize;
        let (i, sh) = (bit / 8, bit % 8);
        let v = (v & mask) << sh;
        out[i] |= v as u8;
        if sh + bits as usize > 8 {
            out[i + 1] |= (v >> 8) as u8;
        }
    }
    out
}

/// The `bits`-bit field number `k` of a packed stream (`bits ≤ 8`, in bounds).
fn field(bytes: &[u8], k: usize, bits: u8) -> u32 {
    let bit = k * bits as usize;
    let (i, sh) = (bit / 8, bit % 8);
    let mut v = (bytes[i] as u32) >> sh;
    if sh + bits as usize > 8 {
        v |= (bytes[i + 1] as u32) << (8 - sh);
    }
    v & ((1u32 << bits) - 1)
}

fn check(what: &str, bytes: &[u8], n: usize, bits: u8) -> Result<()> {
    if !(1..=8).contains(&bits) {
        return Err(Error::invalid(
            what.to_string(),
            format!("{bits} bits per code, expected 1..=8"),
        ));
    }
    let want = packed_len(n, bits);
    if bytes.len() != want {
        return Err(Error::length(
            format!("{what} (packed {n} × {bits}-bit codes)"),
            want,
            bytes.len(),
        ));
    }
    // The padding bits of the last byte must be zero: a file is either canonical or refused.
    let used = n * bits as usize;
    if !used.is_multiple_of(8) && bytes[want - 1] >> (used % 8) != 0 {
        return Err(Error::invalid(
            what.to_string(),
            "non-zero padding bits after the last code".to_string(),
        ));
    }
    Ok(())
}

/// Packs signed codes (each in `[-2^(bits-1), 2^(bits-1) - 1]`) into a bit stream.
pub fn pack_signed(codes: &[i8], bits: u8) -> Vec<u8> {
    pack_raw(codes.iter().map(|&c| c as i32 as u32), bits)
}

/// Packs unsigned codes (each below `2^bits`) into a bit stream.
pub fn pack_unsigned(codes: &[u8], bits: u8) -> Vec<u8> {
    pack_raw(codes.iter().map(|&c| c as u32), bits)
}

/// Unpacks `n` signed `bits`-bit codes; `bytes` must be exactly [`packed_len`] long.
pub fn unpack_signed(what: &str, bytes: &[u8], n: usize, bits: u8) -> Result<Vec<i8>> {
    check(what, bytes, n, bits)?;
    let half = 1i32 << (bits - 1);
    Ok((0..n)
        .map(|k| ((field(bytes, k, bits) as i32 ^ half) - half) as i8)
        .collect())
}

/// Unpacks `n` unsigned `bits`-bit codes; `bytes` must be exactly [`packed_len`] long.
pub fn unpack_unsigned(what: &str, bytes: &[u8], n: usize, bits: u8) -> Result<Vec<u8>> {
    check(what, bytes, n, bits)?;
    Ok((0..n).map(|k| field(bytes, k, bits) as u8).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_width_and_length() {
        for bits in 1..=8u8 {
            let lo = -(1i32 << (bits - 1));
            let hi = (1i32 << (bits - 1)) - 1;
            for n in 0..40usize {
                let s: Vec<i8> = (0..n)
                    .map(|k| (lo + (k as i32 * 7 + 3) % (hi - lo + 1)) as i8)
                    .collect();
                let p = pack_signed(&s, bits);
                assert_eq!(p.len(), packed_len(n, bits));
                assert_eq!(unpack_signed("t", &p, n, bits).unwrap(), s, "{bits} {n}");
                let u: Vec<u8> = (0..n).map(|k| ((k * 5 + 1) % (1 << bits)) as u8).collect();
                let p = pack_unsigned(&u, bits);
                assert_eq!(unpack_unsigned("t", &p, n, bits).unwrap(), u, "{bits} {n}");
            }
        }
    }

    #[test]
    fn layout_is_lsb_first() {
        // 3-bit codes 1, 2, 3, -1 (= 7): bits 001 010 011 111 → 0b11_010_001, 0b0000_1110.
        assert_eq!(
            pack_signed(&[1, 2, 3, -1], 3),
            vec![0b1101_0001, 0b0000_1110]
        );
        assert_eq!(pack_unsigned(&[0xA, 0x5], 4), vec![0x5A]);
    }

    #[test]
    fn bad_lengths_and_padding_are_refused() {
        let p = pack_signed(&[1, 2, 3], 3); // 9 bits → 2 bytes
        assert!(unpack_signed("w", &p[..1], 3, 3).is_err());
        let mut q = p.clone();
        q[1] |= 0x80;
        let e = unpack_signed("w", &q, 3, 3).unwrap_err().to_string();
        assert!(e.contains("padding"), "{e}");
        assert!(unpack_unsigned("w", &p, 3, 9).is_err());
    }
}
