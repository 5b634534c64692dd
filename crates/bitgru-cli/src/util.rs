//! Small helpers: file access with errors that name the file, the recorded command line,
//! progress bars.
use anyhow::{Context, Result};
use indicatif::ProgressStyle;
use std::path::Path;
use std::time::Duration;

/// The style of every progress bar: elapsed time, a 30-column bar, then `template_tail`
/// (indicatif keys such as `{pos}/{len} steps  eta {eta}  {msg}`).
pub fn bar_style(template_tail: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:30}}] {template_tail}"))
        .expect("valid progress template")
        .progress_chars("=> ")
}

/// How long an evaluation runs before its progress bar appears: one second, or
/// `BITGRU_PROGRESS_DELAY_MS` milliseconds (0 shows it at once; the CLI tests use that).
pub fn progress_delay() -> Duration {
    std::env::var("BITGRU_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

/// Reads a whole file of at most [`bitgru::io::MAX_FILE_BYTES`]; the error names the file and
/// what it was meant to be.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    read_limited(path, what, bitgru::io::MAX_FILE_BYTES)
}

/// Reads a whole file of at most `limit` bytes (never more: `/dev/zero` or a huge file is an
/// error, not an unbounded read).
pub fn read_limited(path: &Path, what: &str, limit: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut v = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut v)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if v.len() > limit {
        anyhow::bail!(
            "{what} {} is larger than the {limit} byte limit",
            path.display()
        );
    }
    Ok(v)
}

/// Writes a file, creating its parent directories.
/// Checks that `path` can be written (its directory is created if needed), without changing an
/// existing file; `what` names the option in the error.
pub fn check_writable(path: &Path, what: &str) -> Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "{what} {} is a directory, expected a file path",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "{what} {}: cannot create directory {}",
                path.display(),
                dir.display()
            )
        })?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("{what} {} is not writable", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// The command line as typed (program name normalized to `bitgru`), shell-quoted where needed.
pub fn command_line() -> String {
    std::iter::once("bitgru".to_string())
        .chain(std::env::args().skip(1).map(|a| shell_quote(&a)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn shell_quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,/=:+@%".contains(c));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--hidden"), "--hidden");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
