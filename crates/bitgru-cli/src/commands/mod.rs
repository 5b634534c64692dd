//! One module per subcommand.
mod bench;
mod calibrate;
mod demo;
mod detect;
mod eval;
mod export;
mod features;
mod inspect;
mod plot;
mod search;
mod train;

use crate::cli::{Cli, Command};
use anyhow::Result;

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Calibrate(a) => calibrate::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Features(a) => features::run(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Size(a) => inspect::size(&a),
        Command::DemoModel(a) => demo::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Detect(a) => detect::run(&a),
        Command::Train(a) => train::run(&a),
        Command::Qat(a) => train::qat(&a),
        Command::BenchTrain(a) => train::bench(&a),
        Command::Search(a) => search::run(&a),
        Command::Report(a) => search::report(&a),
        Command::BenchSearch(a) => search::bench(&a),
    }
}
