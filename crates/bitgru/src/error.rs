//! Typed errors of the core. Every error names what was expected and what was found.
use thiserror::Error;

/// Errors of the bitgru core.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A genome string or value is malformed.
    #[error("genome: {0}")]
    Genome(String),
    /// A gene is outside the allowed bit range.
    #[error("gene {index} ({name}) = {value} is outside the allowed range {min}..={max}")]
    GeneRange {
        index: usize,
        name: &'static str,
        value: u8,
        min: u8,
        max: u8,
    },
    /// A tensor or buffer has the wrong shape.
    #[error("{what}: wrong shape, expected {expected:?}, got {got:?}")]
    Shape {
        what: String,
        expected: Vec<usize>,
        got: Vec<usize>,
    },
    /// A length does not match (e.g. an input sequence of the wrong size).
    #[error("{what}: wrong length, expected {expected}, got {got}")]
    Length {
        what: String,
        expected: usize,
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}: non-finite value at index {index}")]
    NonFinite { what: String, index: usize },
    /// A required tensor or field is missing.
    #[error("missing {0}")]
    Missing(String),
    /// A tensor has an unsupported dtype.
    #[error("{what}: unsupported dtype {got}, expected {expected}")]
    Dtype {
        what: String,
        expected: String,
        got: String,
    },
    /// A file is malformed or truncated.
    #[error("malformed {format} file: {detail}")]
    Format {
        format: &'static str,
        detail: String,
    },
    /// A file of another framework's format, which bitgru does not read (with how to export).
    #[error("{format} file: {detail}")]
    Unsupported {
        format: &'static str,
        detail: String,
    },
    /// An argument is invalid.
    #[error("invalid {what}: {detail}")]
    Invalid { what: String, detail: String },
    /// A setting of the detector's decision stage is out of its range
    /// ([`crate::detect::DetectorConfig::validate`]).
    #[error("detector setting {field} = {got}: expected {expected}")]
    DetectorSetting {
        field: &'static str,
        expected: String,
        got: String,
    },
}

impl Error {
    pub(crate) fn format(format: &'static str, detail: impl Into<String>) -> Self {
        Error::Format {
            format,
            detail: detail.into(),
        }
    }
    pub(crate) fn invalid(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            detail: detail.into(),
        }
    }
    /// The same error, its subject prefixed with "sequence k: " (input errors of one sequence
    /// of a set).
    pub(crate) fn in_sequence(self, k: usize) -> Self {
        match self {
            Error::Invalid { what, detail } => Error::Invalid {
                what: format!("sequence {k}: {what}"),
                detail,
            },
            Error::NonFinite { what, index } => Error::NonFinite {
                what: format!("sequence {k}: {what}"),
                index,
            },
            e => e,
        }
    }
    pub(crate) fn length(what: impl Into<String>, expected: usize, got: usize) -> Self {
        Error::Length {
            what: what.into(),
            expected,
            got,
        }
    }
}

/// Result with the core's error type.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that every value is finite.
pub(crate) fn check_finite(what: &str, xs: &[f32]) -> Result<()> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

/// A user-supplied string shortened for an error message: at most `max` characters, with the
/// total length said when cut (a 100,000-character genome is not echoed back in full).
pub fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}… ({n} characters)")
    }
}
