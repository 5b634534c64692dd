//! The `bitgru` command line: calibrate float models, evaluate genomes with the integer-only
//! kernel, export quantized models (`.bitgru`, C source), inspect files, report sizes and
//! benchmark the kernel. See `bitgru --help`.
mod cli;
mod commands;
mod inputs;
mod models;
mod util;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    default_sigpipe();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Piped into `head` or a pager that quits, the CLI ends quietly, like other Unix tools, instead
/// of panicking in `println!` ("failed printing to stdout: Broken pipe"): Rust ignores SIGPIPE
/// by default, which turns a closed pipe into a write error.
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: sets one signal's disposition to its default at start-up, before any other thread
    // (the rayon pool, the Ctrl-C handler) exists; no handler function is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}
