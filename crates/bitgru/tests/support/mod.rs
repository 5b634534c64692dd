//! Shared by the integration tests of `bitgru` and `bitgru-cli` (the CLI includes this file with
//! `#[path]`): the one way a test skips for a missing prerequisite.
//!
//! A skipped test must not look like a passing one. [`skip`]:
//! - fails the test when `CI=true` (CI installs gcc and provides `../shared`, so a missing
//!   prerequisite there is a broken setup, not a reason to skip);
//! - otherwise prints `SKIPPED: <test>: <reason>` on stderr and appends the same line to the file
//!   named by `BITGRU_SKIP_LOG` (set by `scripts/test.sh`, which counts the lines as skipped
//!   tests and subtracts them from cargo's passed count; cargo hides a passing test's output).
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// Environment variable naming the file that collects skip records.
pub const SKIP_LOG_ENV: &str = "BITGRU_SKIP_LOG";

/// Whether this run is CI (`CI=true`, as GitHub Actions and most CI systems set it).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Records that `test` was skipped because of `reason`; panics under `CI=true`.
pub fn skip(test: &str, reason: &str) {
    if is_ci() {
        panic!("{test}: prerequisite missing under CI=true: {reason}");
    }
    let line = format!("SKIPPED: {test}: {reason}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os(SKIP_LOG_ENV) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{SKIP_LOG_ENV}={path:?}: {e}"));
        // One write per line: appends from parallel tests do not interleave.
        f.write_all(format!("{line}\n").as_bytes())
            .unwrap_or_else(|e| panic!("{SKIP_LOG_ENV}={path:?}: {e}"));
    }
}

/// `../shared/data` (next to the repository checkout), if present; otherwise records the skip.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        skip(test, "../shared/data not found");
        None
    }
}

/// Whether `gcc` runs; otherwise records the skip.
pub fn require_gcc(test: &str) -> bool {
    let ok = std::process::Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(
            test,
            "gcc not found on PATH; the C export was not compiled or run",
        );
    }
    ok
}
