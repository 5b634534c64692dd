//! The genome: one bit width per GRU operator, 17 genes in a fixed order.
//!
//! The order is part of every file format. A genome prints as 17 digits, gene 0 first,
//! e.g. `88888888888888888`.
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Number of genes (operators of the GRU cell).
pub const N_GENES: usize = 17;

/// Operator class of a gene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpClass {
    Linear,
    Add,
    Mul,
    Act,
}

/// The genes, in genome order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(usize)]
pub enum Gene {
    LinIr = 0,
    LinIz = 1,
    LinIn = 2,
    LinHr = 3,
    LinHz = 4,
    LinHn = 5,
    AddR = 6,
    AddZ = 7,
    AddN = 8,
    SubZ = 9,
    AddH = 10,
    MulRh = 11,
    MulZn = 12,
    MulZh = 13,
    SigR = 14,
    SigZ = 15,
    TanhN = 16,
}

impl Gene {
    /// All genes in order.
    pub const ALL: [Gene; N_GENES] = [
        Gene::LinIr,
        Gene::LinIz,
        Gene::LinIn,
        Gene::LinHr,
        Gene::LinHz,
        Gene::LinHn,
        Gene::AddR,
        Gene::AddZ,
        Gene::AddN,
        Gene::SubZ,
        Gene::AddH,
        Gene::MulRh,
        Gene::MulZn,
        Gene::MulZh,
        Gene::SigR,
        Gene::SigZ,
        Gene::TanhN,
    ];

    /// Index in the genome.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Short name, as in the design (`lin_ir`, …).
    pub const fn name(self) -> &'static str {
        GENE_NAMES[self as usize]
    }

    /// Operator class.
    pub const fn class(self) -> OpClass {
        match self as usize {
            0..=5 => OpClass::Linear,
            6..=10 => OpClass::Add,
            11..=13 => OpClass::Mul,
            _ => OpClass::Act,
        }
    }

    /// What the gene's bit width applies to.
    pub const fn describe(self) -> &'static str {
        match self {
            Gene::LinIr => "W_ir and its output",
            Gene::LinIz => "W_iz and its output",
            Gene::LinIn => "W_in and its output",
            Gene::LinHr => "W_hr and its output",
            Gene::LinHz => "W_hz and its output",
            Gene::LinHn => "W_hn and its output",
            Gene::AddR => "lin_ir + lin_hr (sigmoid input)",
            Gene::AddZ => "lin_iz + lin_hz (sigmoid input)",
            Gene::AddN => "lin_in + mul_rh (tanh input)",
            Gene::SubZ => "1 - z",
            Gene::AddH => "the new state h_t",
            Gene::MulRh => "r * lin_hn",
            Gene::MulZn => "(1 - z) * n",
            Gene::MulZh => "z * h_{t-1}",
            Gene::SigR => "r (sigmoid output)",
            Gene::SigZ => "z (sigmoid output)",
            Gene::TanhN => "n (tanh output)",
        }
    }
}

/// Gene names in genome order.
pub const GENE_NAMES: [&str; N_GENES] = [
    "lin_ir", "lin_iz", "lin_in", "lin_hr", "lin_hz", "lin_hn", "add_r", "add_z", "add_n", "sub_z",
    "add_h", "mul_rh", "mul_zn", "mul_zh", "sig_r", "sig_z", "tanh_n",
];

/// Allowed bit widths per gene (inclusive). The integer kernel supports 2..=8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitRange {
    pub min: u8,
    pub max: u8,
}

impl BitRange {
    /// The full supported range, 2..=8.
    pub const FULL: BitRange = BitRange { min: 2, max: 8 };

    /// A range inside 2..=8.
    pub fn new(min: u8, max: u8) -> Result<Self> {
        if min < 2 || max > 8 || min > max {
            return Err(Error::invalid(
                "bit range",
                format!("{min}..={max} must satisfy 2 <= min <= max <= 8"),
            ));
        }
        Ok(BitRange { min, max })
    }

    /// Number of allowed values.
    pub fn len(self) -> usize {
        (self.max - self.min + 1) as usize
    }

    /// Always false (a range holds at least one value).
    pub fn is_empty(self) -> bool {
        false
    }

    pub fn contains(self, b: u8) -> bool {
        (self.min..=self.max).contains(&b)
    }
}

impl Default for BitRange {
    fn default() -> Self {
        BitRange::FULL
    }
}

/// One bit width per operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Genome([u8; N_GENES]);

impl Genome {
    /// A genome from 17 bit widths, checked against `range`.
    pub fn new(bits: [u8; N_GENES], range: BitRange) -> Result<Self> {
        for (index, &value) in bits.iter().enumerate() {
            if !range.contains(value) {
                return Err(Error::GeneRange {
                    index,
                    name: GENE_NAMES[index],
                    value,
                    min: range.min,
                    max: range.max,
                });
            }
        }
        Ok(Genome(bits))
    }

    /// Every gene at `bits` (homogeneous baseline).
    pub fn uniform(bits: u8) -> Result<Self> {
        Genome::new([bits; N_GENES], BitRange::FULL)
    }

    /// Parses 17 digits against a given range; errors name the offending gene.
    pub fn parse_with_range(s: &str, range: BitRange) -> Result<Self> {
        let s = s.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != N_GENES {
            return Err(Error::Genome(format!(
                "expected {N_GENES} digits (one per gene, {}..{}), got {} characters in {:?}",
                GENE_NAMES[0],
                GENE_NAMES[N_GENES - 1],
                chars.len(),
                crate::error::clip(s, 40)
            )));
        }
        let mut bits = [0u8; N_GENES];
        for (i, c) in chars.iter().enumerate() {
            let d = c.to_digit(10).ok_or_else(|| {
                Error::Genome(format!(
                    "gene {i} ({}) is {c:?}, expected a digit {}..={}",
                    GENE_NAMES[i], range.min, range.max
                ))
            })?;
            bits[i] = d as u8;
        }
        Genome::new(bits, range)
    }

    /// The bit widths.
    pub fn bits(&self) -> &[u8; N_GENES] {
        &self.0
    }

    /// Bit width of one gene.
    pub fn get(&self, g: Gene) -> u8 {
        self.0[g as usize]
    }

    /// Whether all genes are equal (a homogeneous genome).
    pub fn is_uniform(&self) -> bool {
        self.0.iter().all(|&b| b == self.0[0])
    }
}

impl std::ops::Index<Gene> for Genome {
    type Output = u8;
    fn index(&self, g: Gene) -> &u8 {
        &self.0[g as usize]
    }
}

impl FromStr for Genome {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Genome::parse_with_range(s, BitRange::FULL)
    }
}

impl fmt::Display for Genome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

impl Serialize for Genome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Genome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
