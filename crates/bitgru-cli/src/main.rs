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
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
