//! One module per subcommand.
mod bench;
mod calibrate;
mod demo;
mod detect;
mod eval;
mod export;
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

/// Size metrics of a genome as JSON fields.
pub(crate) fn size_json(genome: &bitgru::Genome, dims: bitgru::Dims) -> serde_json::Value {
    let r = bitgru::size::report(genome, dims);
    serde_json::json!({
        "size_bits": r.bits,
        "size_bytes": r.bytes,
        "size_normalized": r.normalized,
        "weight_bits": r.weight_bits,
        "bitops_per_step": r.bitops_per_step,
    })
}
