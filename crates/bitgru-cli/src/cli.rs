//! Command-line definitions (clap derive). The work is done in [`crate::commands`].
use bitgru::Genome;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The inputs file format, shown in the help of every command that reads inputs.
pub const INPUTS_HELP: &str = "\
INPUTS FILE (--inputs, --calib):
  A JSON object
    {\"sequences\": [[f32, ...], ...], \"labels\": [usize, ...], \"steps\": T}
  - sequences: one flat row-major array [T*I] per sequence (T time steps of I features,
    I = the model's input size); required, at least one.
  - labels: optional, one class index per sequence; when present, accuracy is reported.
  - steps: optional; when present every sequence must hold exactly T*I values, otherwise
    any positive multiple of I is accepted (sequences may differ in length).
  Each sequence may also be nested, [[f32; I]; T] (one array per time step).
  NumPy: a .npy float32/float64 array [N, T, I] or [N, T*I] (no labels), or a .npz
  (np.savez(f, sequences=X, labels=y.astype(np.float64))) with optional labels [N].
  Instead of a file, --random N [--steps T] [--seed S] generates N seeded N(0,1) sequences
  (bitgru::synth::random_sequences), without labels.";

const MODEL_HELP: &str = "\
MODEL FILES (--model), recognized by extension or content:
  - bundle (.safetensors written by `bitgru calibrate` / `bitgru demo-model`): float weights
    with PyTorch names plus calibration and metadata;
  - float weights (.safetensors, PyTorch names gru.weight_ih_l0 ... fc.bias, or Keras .npz
    with kernel, recurrent_kernel, bias [2,3H], dense_kernel, dense_bias): need --calib
    to be calibrated on the fly where a genome is prepared;
  - quantized model (.bitgru, written by `bitgru export --format bitgru`): prepared for one
    genome.";

const GENOME_HELP: &str = "\
GENOME: 17 digits 2..=8, one bit width per operator, in the order
  lin_ir lin_iz lin_in lin_hr lin_hz lin_hn add_r add_z add_n sub_z add_h
  mul_rh mul_zn mul_zh sig_r sig_z tanh_n
  e.g. 88888888888888888 (all 8 bits) or 64576888548886757.";

#[derive(Debug, Parser)]
#[command(
    name = "bitgru",
    version,
    about = "Mixed-precision integer-only GRU: calibrate, evaluate, export, inspect, benchmark",
    long_about = "Mixed-precision integer-only GRU (one bit width 2..=8 per operator, 17 operators).\n\n\
        Typical flow on a task's data: `bitgru train` a float model into a bundle, `bitgru \
        search` the Pareto front of accuracy against size, `bitgru eval` the chosen genomes \
        (several at once), `bitgru qat` fine-tune the chosen genome, `bitgru export` it as a \
        .bitgru file or C source. For your own model: `bitgru calibrate` float weights on \
        representative inputs into a bundle, then eval, search and export as above.",
    after_help = "Run `bitgru <COMMAND> --help` for the details of a command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Calibrate float weights on inputs and write a model bundle (weights + calibration + meta).
    #[command(
        long_about = "Runs the float model over the inputs, records per-operator clipping ranges \
            for every bit width 2..=8 (histogram MSE) and per-channel input scales, and writes a \
            bundle: the float weights with PyTorch names plus the calibration and the metadata \
            (task, classes, seed, this command line) in the safetensors header.",
        after_help = sections(&[MODEL_HELP, INPUTS_HELP])
    )]
    Calibrate(CalibrateArgs),

    /// Evaluate genomes (integer kernel) and the float reference on inputs.
    #[command(
        long_about = "Prepares the integer model for each genome, quantizes the inputs to 8-bit \
            codes and runs the integer-only kernel on every sequence, and runs the float model \
            too (unless --no-float). Prints a summary: accuracy of each integer model next to \
            the float model's, agreement with the float model, size, per-class accuracy and the \
            confusion matrix (with labels); --predictions lists every prediction. With --task, \
            the model's task, classes and feature front end must be the task's. A bundle written \
            by `bitgru qat` is evaluated at its QAT genome by default. With --json one JSON \
            object per genome (an array for several): genome, n, accuracy (null without \
            labels), float_accuracy, agreement_with_float (null with --no-float or a .bitgru \
            model), predictions, per_class, confusion (m[label][prediction]), size {bits, \
            bytes, normalized, weight_bits, bitops_per_step} (the `bitgru size` report), seed \
            (random inputs only), elapsed_ms (prepare + quantize + integer kernel + float model, \
            without file loading), float_ms; with --logits also float_logits, logits \
            (dequantized) and logits_codes. For --float the size is that of 32-bit float \
            parameters and bitops_per_step is null.",
        after_help = sections(&[MODEL_HELP, INPUTS_HELP, GENOME_HELP])
    )]
    Eval(EvalArgs),

    /// Export a prepared genome as a .bitgru file or as C source.
    #[command(
        long_about = "Prepares the genome and writes DIR/model.bitgru (integer tensors + JSON \
            metadata with provenance: model meta, genome, command line; re-importable \
            bit-exactly) or, with --format c, a C99 header and source of the integer kernel. \
            DIR is created if needed.",
        after_help = sections(&[MODEL_HELP, GENOME_HELP])
    )]
    Export(ExportArgs),

    /// Write a task's features (and their 8-bit codes) to an inputs file.
    #[command(
        long_about = "Loads a task's evaluation split exactly as `bitgru eval --task` does and writes \
            an inputs file (readable by `eval --inputs` and `calibrate --inputs`): task, split, \
            classes, steps, sequences (flat [T*I] f32 features), labels and, with --model, the \
            model's input_scales and codes (the 8-bit codes the integer kernel and the exported \
            C take, from QuantGru::quantize_input), so that a firmware front end can be \
            cross-checked feature by feature and code by code."
    )]
    Features(FeaturesArgs),

    /// Print what a model file holds: dimensions, metadata, calibration, genome and size.
    #[command(after_help = MODEL_HELP)]
    Inspect(InspectArgs),

    /// Size and bit-operation report of a genome on a model shape, as JSON.
    #[command(
        long_about = "Prints a JSON object: genome, dims, bits (total model size: weights at \
            their genes' bits, 32-bit biases, LUTs, state, 8-bit head), bytes, normalized \
            (bits / bits of the all-8 genome), weight_bits, bitops_per_step and storage: what \
            the files hold (state_bits: the metric's run-time state; metric_stored_bytes; \
            packed_tensor_bytes: the .bitgru tensor data and the packed C arrays; padding_bytes; \
            c_rodata_packed / c_rodata_unpacked: the C export's read-only data; \
            c_overhead_packed: packed C read-only data minus the metric's stored part).",
        after_help = GENOME_HELP
    )]
    Size(SizeArgs),

    /// Write a seeded synthetic model bundle (for demos and tests).
    #[command(
        long_about = "Draws a random GRU + head with bitgru::synth::random_model(SEED, INPUT, \
            HIDDEN, CLASSES), calibrates it on N_CALIB random sequences of STEPS steps drawn with \
            seed SEED + 1, and writes a bundle with task \"synthetic-demo\", classes c0..c{C-1}, \
            the seed and this command line in its metadata. The output is deterministic.",
        after_help = "Example: bitgru demo-model --seed 7 --input 10 --hidden 32 --classes 6 \
            --out assets/models/demo.safetensors"
    )]
    DemoModel(DemoModelArgs),

    /// Time the integer kernels (reference, batch variants, streaming) against the float reference.
    #[command(
        long_about = "For every hidden size and genome, builds a seeded synthetic model and \
            inputs, then measures: QuantGru::prepare and PackedGru::pack (the cost of a GA \
            fitness evaluation besides the kernel), the scalar reference kernel on one thread, \
            the batch kernel of every available variant on one thread, the fastest variant on \
            all threads (bitgru::eval::logits_packed), the streaming step (one sequence, one \
            step), and the float reference FloatGru::forward on one thread. Prints sequences/s \
            and ratios, with the machine's available parallelism; --json for scripts \
            (bench/kernel_vs_torch.py). Build with --release for meaningful numbers.",
        after_help = GENOME_HELP
    )]
    Bench(BenchArgs),

    /// Spot keywords in a WAV/FLAC file, measure the streaming detector, or time it per hop.
    #[command(
        long_about = "The streaming keyword detector (bitgru::detect; docs/DETECTOR.md): audio \
            → MFCC per 20 ms hop → the GRU re-run over the last 1 s window → smoothing, \
            per-keyword thresholds, refractory time, energy gate.\n\n\
            --wav FILE prints the detections of a file (any sample rate, mixed to mono): \
            keyword, time (s, when the deciding frame was complete) and score; with --json a \
            list of {keyword, time_s, score, class, frame}.\n\n\
            --eval builds seeded streams from the task's validation keyword clips placed into \
            the held-out last 20 % of each background-noise recording and into runs of \
            _unknown_ words, plus keyword-free noise and unknown-speech streams, runs the \
            detector once, replays the decision stage for every threshold, and writes \
            OUT/detect.json (detection rate per keyword and overall, false alarms per hour on \
            noise and on unknown speech, for every threshold; the operating point of the \
            configured threshold; the stream and detector settings and the seed) and \
            OUT/det.svg (detection rate against false alarms per hour). The --sweep-* lists \
            replay the decision stage (no GRU re-run) over every combination of margin, margin \
            reference, hold and unknown weight with every threshold, and report per setting the \
            best detection rate at ≤ 10 and ≤ 30 false alarms per hour of unknown speech (JSON \
            \"sweep\").\n\n\
            --bench times MFCC + GRU + decision per hop on a seeded signal (integer and float).",
        after_help = "Examples:\n  bitgru detect --wav my.wav --json\n  bitgru detect --task kws10 \
            --model assets/models/kws10.safetensors --data ../shared/data --eval --out \
            results/detect-kws10\n  bitgru detect --task kws4 --model \
            assets/models/kws4.safetensors --data ../shared/data --eval --out /tmp/det-kws4 \
            --sweep-margin 0,0.4,0.8 --sweep-unknown-weight 1,2 --sweep-hold 1,3\n  bitgru \
            detect --bench --model assets/models/kws10.safetensors"
    )]
    Detect(DetectArgs),

    /// Train a float model on a task (BPTT, Adam, checkpoints, resumable).
    #[command(
        long_about = "Loads the task's training data (MNIST: the first 55,000 training images, the \
            last 5,000 are the validation split; Speech Commands: train_list.txt with on-the-fly \
            augmentation: time shift, training-noise mixing, generated silence; kws4 caps \
            _unknown_ at the mean keyword count), trains on normalized features with Adam, \
            gradient clipping and a warmup + cosine schedule, keeps the model with the best \
            validation accuracy, folds the normalization into the input weights, calibrates it \
            and writes a bundle whose metadata records the task, classes, feature front end, \
            hidden size, seed, command and measured accuracies. With --checkpoint the full \
            trainer state is saved every --checkpoint-every steps and at every epoch; --resume \
            continues from it bit-identically. --max-minutes stops early with a checkpoint. \
            --ema DECAY validates and keeps an exponential moving average of the weights \
            instead of the raw weights.",
        after_help = "Example: bitgru train --task row-mnist --data ../shared/data --out row.safetensors --epochs 20"
    )]
    Train(TrainArgs),

    /// Quantization-aware fine-tuning of a bundle for one genome.
    #[command(
        long_about = "Fine-tunes a trained bundle through the fake-quant model of GENOME (the same \
            17 quantization points and scales as the integer kernel; straight-through \
            estimator), re-calibrating the scales after every epoch, and keeps the epoch whose \
            integer model is most accurate on the validation split. Writes a bundle (weights + \
            the calibration that goes with them); `bitgru eval --genome GENOME` on it runs the \
            trained integer model.",
        after_help = GENOME_HELP
    )]
    Qat(QatArgs),

    /// Time float training steps (for comparisons with other frameworks).
    BenchTrain(BenchTrainArgs),

    /// NSGA-II search of per-operator bit widths: the Pareto front of accuracy against size.
    #[command(
        long_about = "Searches the 17 per-operator bit widths with NSGA-II for the Pareto front of \
            error against normalized model size (optionally bit-operations too). Each genome is \
            prepared from the model's stored calibration and scored with the integer kernel on a \
            fixed, stratified fitness subset of the validation split (quantized once). The \
            homogeneous genomes all-2 … all-8 are evaluated as the baseline and placed in the \
            first population. After the last generation the front and the baselines are \
            re-scored on the whole split (and on MNIST's test set), the per-gene sensitivity and \
            a clustering of the front are computed, and optionally every front genome is \
            fine-tuned with QAT (--qat-epochs). Writes DIR/result.json (docs/SEARCH.md), \
            DIR/evaluations.csv (every evaluation), DIR/front.svg and DIR/checkpoint.json \
            (after every generation). Ctrl-C stops after the current generation; --resume DIR \
            continues exactly where it stopped (same result as an uninterrupted run).",
        after_help = sections(&[MODEL_HELP, INPUTS_HELP, "Example: bitgru search --task kws10 \
            --model assets/models/kws10.safetensors --data ../shared/data --pop 48 --gens 40 \
            --seed 1 --out results/kws10"])
    )]
    Search(SearchArgs),

    /// Print the summary of a search result directory (or result.json).
    Report(ReportArgs),

    /// Time fitness evaluations (prepare + integer kernel on the fitness subset), cache off.
    #[command(
        long_about = "Builds the search's fitness problem exactly as `bitgru search` does (same \
            data, same stratified subset), then evaluates --genomes distinct seeded random \
            genomes (each genome once: no cache) on one thread and on all threads, and prints \
            evaluations per second and each genome's accuracy. --dump-inputs writes the fitness \
            subset as an inputs file, so that another implementation (bench/search_vs_torch.py) \
            can score the same genomes on the same sequences.",
        after_help = sections(&[MODEL_HELP, INPUTS_HELP])
    )]
    BenchSearch(BenchSearchArgs),
}

#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    #[command(flatten)]
    pub fit: FitnessArgs,
    /// Number of random genomes timed.
    #[arg(long, default_value_t = 32)]
    pub genomes: usize,
    /// Seed of the random genomes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the fitness subset (features and labels) as an inputs file.
    #[arg(long, value_name = "FILE")]
    pub dump_inputs: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Where a search's fitness data comes from (shared by `search` and `bench-search`).
#[derive(Debug, Clone, Args)]
pub struct FitnessArgs {
    /// Task whose validation split scores the genomes (with --data); or use --inputs for your
    /// own labelled inputs.
    #[arg(long, value_parser = parse_task, requires = "data", conflicts_with = "inputs")]
    pub task: Option<bitgru::task::Task>,
    /// Data root (../shared/data layout: mnist/, speech_commands/).
    #[arg(long, value_name = "DIR", requires = "task")]
    pub data: Option<PathBuf>,
    /// Labelled inputs file (JSON, see below) instead of a task's data.
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    /// Model: a bundle, or float weights with --calib.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,
    /// Fitness subset size (stratified by class). Default: row-mnist 1000, pixel-mnist 256
    /// (784 steps per image), kws4/kws10 the whole validation split (483), inputs file: up to 1000.
    #[arg(long, value_name = "N")]
    pub subset: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub fit: FitnessArgs,
    /// Calibration inputs for float weights (or to override a bundle's calibration).
    #[arg(long, value_name = "X2")]
    pub calib: Option<PathBuf>,
    /// Population size (even, 4..=4096).
    #[arg(long, default_value_t = 48)]
    pub pop: usize,
    /// Generations in total, the initial population being the first (1..=10000).
    #[arg(long, default_value_t = 40)]
    pub gens: usize,
    /// Seed of the GA (and of the clustering).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Objectives, all minimized: error,size or error,size,bitops.
    #[arg(long, default_value = "error,size")]
    pub objectives: String,
    /// Probability that a pair of parents is recombined (uniform crossover).
    #[arg(long, default_value_t = 0.9)]
    pub crossover: f64,
    /// Per-gene mutation probability (default 1/17).
    #[arg(long)]
    pub mutation: Option<f64>,
    /// Smallest bit width searched.
    #[arg(long, default_value_t = 2)]
    pub min_bits: u8,
    /// Largest bit width searched.
    #[arg(long, default_value_t = 8)]
    pub max_bits: u8,
    /// Continue the search checkpointed in DIR (DIR/checkpoint.json); the configuration must
    /// match (--gens may grow).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Output directory (created).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Overwrite an existing search in --out instead of refusing.
    #[arg(long)]
    pub force: bool,
    /// QAT epochs per front genome after the search (0: no QAT refinement; needs --task).
    #[arg(long, default_value_t = 0)]
    pub qat_epochs: usize,
    /// Training samples for the QAT refinement (evenly spaced subset of the training split);
    /// a quarter as many validation samples (MNIST; KWS: a quarter + 1) pick each genome's
    /// epoch, and the kept model is scored on the whole search split.
    #[arg(long, default_value_t = 4000)]
    pub qat_limit: usize,
    /// Refine at most this many front genomes, evenly spaced along the front by size (0: all).
    #[arg(long, default_value_t = 0)]
    pub qat_max: usize,
    /// Learning rate of the QAT refinement.
    #[arg(long, default_value_t = 5e-4)]
    pub qat_lr: f32,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A search output directory or its result.json.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Print the result as JSON (validated) instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn parse_task(s: &str) -> Result<bitgru::task::Task, String> {
    s.parse().map_err(|e: bitgru::Error| e.to_string())
}

pub(crate) fn parse_split(s: &str) -> Result<bitgru::task::EvalSplit, String> {
    s.parse().map_err(|e: bitgru::Error| e.to_string())
}

/// Joins help sections (clap evaluates the attribute expression when it builds the command).
fn sections(parts: &[&str]) -> String {
    parts.join("\n\n")
}

/// Where the inputs come from: a file or seeded random sequences.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Inputs file (JSON; format below).
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,

    /// Generate N seeded random sequences instead of reading --inputs.
    #[arg(long, value_name = "N", conflicts_with = "inputs", value_parser = clap::value_parser!(u64).range(1..))]
    pub random: Option<u64>,

    /// Time steps of each random sequence (with --random).
    #[arg(long, value_name = "T", default_value_t = 49, requires = "random", value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,

    /// Seed of the random sequences (with --random).
    #[arg(long, value_name = "S", default_value_t = 0, requires = "random")]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Float weights: PyTorch-named .safetensors (or a bundle, to recalibrate) or Keras .npz.
    #[arg(long, value_name = "W")]
    pub model: PathBuf,

    #[command(flatten)]
    pub inputs: InputArgs,

    /// Output bundle (.safetensors). Parent directories are created.
    #[arg(long, value_name = "B")]
    pub out: PathBuf,

    /// Task name stored in the metadata [default: the input file's task, else "unspecified"].
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,

    /// Class names in logit order, comma separated (must match the model's class count)
    /// [default: the input file's names, else c0,c1,...].
    #[arg(long, value_name = "a,b,c", value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct TaskInputArgs {
    /// Evaluate on a task's data instead of an inputs file (needs --data).
    #[arg(long = "task", id = "data_task", value_name = "T", conflicts_with_all = ["inputs", "random"], requires = "data", value_parser = parse_task)]
    pub task: Option<bitgru::task::Task>,

    /// Data root for --task: holds mnist/ and speech_commands/ (or is one of them).
    #[arg(long, value_name = "DIR", requires = "data_task")]
    pub data: Option<PathBuf>,

    /// Split for --task: validation (MNIST: last 5,000 training images; Speech Commands:
    /// validation_list.txt) or test (MNIST's 10k test set; testing_list.txt).
    #[arg(long, value_name = "SPLIT", default_value = "validation", value_parser = parse_split)]
    pub split: bitgru::task::EvalSplit,

    /// With --task: use only this many examples, evenly spaced (quick runs).
    #[arg(long, value_name = "N", requires = "data_task")]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub task: TaskInputArgs,

    /// Model: a bundle, a .bitgru file, or float weights together with --calib.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,

    /// Calibrate on this inputs file first (needed for plain float weights; overrides a
    /// bundle's calibration).
    #[arg(long, value_name = "X2")]
    pub calib: Option<PathBuf>,

    /// Genome(s) to evaluate: repeat the option or separate by commas to compare several in one
    /// run [default: a .bitgru file's genome, or the QAT genome a `bitgru qat` bundle records].
    #[arg(long, value_name = "G", value_parser = parse_genome, value_delimiter = ',')]
    pub genome: Vec<Genome>,

    /// Evaluate the float reference only, no genome.
    #[arg(long, conflicts_with = "genome")]
    pub float: bool,

    /// Skip the float model (no float accuracy, no agreement): saves its time on large sets.
    #[arg(long, conflicts_with = "float")]
    pub no_float: bool,

    /// Evaluate a genome other than the QAT genome a bundle was fine-tuned for (warns instead
    /// of refusing).
    #[arg(long)]
    pub force: bool,

    /// Text output: also list the prediction of every sequence (the summary is always printed).
    #[arg(long)]
    pub predictions: bool,

    /// JSON output: also include the logits of every sequence, the float model's
    /// (float_logits) and the integer model's dequantized to real units (logits; raw i32 codes
    /// in logits_codes), to check an imported model numerically.
    #[arg(long, requires = "json")]
    pub logits: bool,

    #[command(flatten)]
    pub inputs: InputArgs,

    /// Print JSON instead of text: one object, or an array of objects for several genomes.
    #[arg(long)]
    pub json: bool,

    /// No progress bar (it is drawn on a terminal only, for evaluations longer than a second).
    #[arg(long)]
    pub quiet: bool,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// DIR/model.bitgru: integer tensors + JSON metadata (re-importable, bit-exact).
    Bitgru,
    /// C99 header and source of the integer kernel with the model's constants.
    C,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Model: a bundle, a .bitgru file, or float weights together with --calib.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,

    /// Calibrate on this inputs file first (needed for plain float weights).
    #[arg(long, value_name = "X2")]
    pub calib: Option<PathBuf>,

    /// Genome to export [default: a .bitgru file's genome, or the QAT genome a `bitgru qat`
    /// bundle records].
    #[arg(long, value_name = "G", value_parser = parse_genome)]
    pub genome: Option<Genome>,

    /// Export a genome other than the QAT genome a bundle was fine-tuned for (warns instead of
    /// refusing).
    #[arg(long)]
    pub force: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Bitgru)]
    pub format: ExportFormat,

    /// Output directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Prefix of the C identifiers and file names (--format c).
    #[arg(long, value_name = "NAME", default_value = "bitgru_model")]
    pub prefix: String,

    /// Weight and LUT storage of the C export: packed (each gene's bit width, bit streams;
    /// read-only data = the size metric + a small stated overhead) or unpacked (one byte per
    /// code; faster where ROM is not the constraint).
    #[arg(long, value_enum, default_value_t = CStorage::Packed)]
    pub storage: CStorage,
}

/// C export storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CStorage {
    Packed,
    Unpacked,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Task whose evaluation split is written.
    #[arg(long, value_name = "T", value_parser = parse_task)]
    pub task: bitgru::task::Task,

    /// Data root: holds mnist/ and speech_commands/ (or is one of them).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// Split: validation or test.
    #[arg(long, value_name = "SPLIT", default_value = "validation", value_parser = parse_split)]
    pub split: bitgru::task::EvalSplit,

    /// Use only this many examples, evenly spaced.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Also write the 8-bit codes of this model (a bundle or a .bitgru file).
    #[arg(long, value_name = "M")]
    pub model: Option<PathBuf>,

    /// Output inputs file (JSON). Parent directories are created.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Model file: bundle, float weights (.safetensors / .npz) or .bitgru.
    #[arg(long, value_name = "M")]
    pub model: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Text output: print everything (training history, notes, provenance, feature front
    /// end) instead of a summary.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// Model shape: input size, hidden size, classes.
    #[arg(long, value_name = "I,H,C", value_parser = parse_dims)]
    pub dims: bitgru::Dims,

    /// Genome.
    #[arg(long, value_name = "G", value_parser = parse_genome)]
    pub genome: Genome,
}

#[derive(Debug, Args)]
pub struct DemoModelArgs {
    /// Seed of the model weights (the calibration sequences use SEED + 1).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,

    /// Input size (features per step).
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub input: usize,

    /// Hidden size.
    #[arg(long, default_value_t = 32, value_parser = positive)]
    pub hidden: usize,

    /// Number of classes.
    #[arg(long, default_value_t = 6, value_parser = positive)]
    pub classes: usize,

    /// Time steps of the calibration sequences.
    #[arg(long, default_value_t = 49, value_parser = positive)]
    pub steps: usize,

    /// Number of calibration sequences.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub n_calib: usize,

    /// Output bundle. Parent directories are created.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// How the detector runs the GRU (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectMode {
    /// Re-run over the last window every --every frames.
    Window,
    /// One step per frame on a decaying state (--decay).
    Stateful,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// WAV or FLAC file to scan (any sample rate; multi-channel audio is mixed to mono).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["eval", "bench"])]
    pub wav: Option<PathBuf>,

    /// Measure the detector on seeded streams (needs --task, --data, --out).
    #[arg(long, requires_all = ["task", "data", "out"], conflicts_with = "bench")]
    pub eval: bool,

    /// Time MFCC + GRU + decision per 20 ms hop.
    #[arg(long)]
    pub bench: bool,

    /// Task of --eval: kws4 or kws10 (the model's classes must be the task's).
    #[arg(long, value_parser = parse_task)]
    pub task: Option<bitgru::task::Task>,

    /// Data root of --eval (holding speech_commands/).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Output directory of --eval (detect.json, det.svg).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Model: a bundle with an mfcc front end, or a .bitgru file exported from one
    /// [default: the kws10 model built into this binary].
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Genome of the integer model [default: 88888888888888888; a .bitgru file's own genome].
    #[arg(long, value_parser = parse_genome, conflicts_with = "float")]
    pub genome: Option<Genome>,

    /// Run the float reference model instead of the integer kernel.
    #[arg(long)]
    pub float: bool,

    /// Detector settings as JSON (bitgru::detect::DetectorConfig; absent fields keep their
    /// defaults, the threshold the model's own). The flags below override it. Decision levers
    /// (off by default): "margin" (keyword − reference ≥ margin, 0–1), "margin_against"
    /// ("unknown" or "rest": the highest other class), "hold_frames" (consecutive qualifying
    /// frames before firing, ≥ 1), "unknown_weight" (factor on the _unknown_ probability, ≥ 0).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Probability threshold of every keyword [default: the model's own, stored in its bundle
    /// by --write-model, else 0.8].
    #[arg(long)]
    pub threshold: Option<f32>,

    /// Fewer false alarms on speech: a keyword must also beat five times the _unknown_
    /// probability by 0.75 (bitgru::detect::Levers::FEWER_SPEECH_ALARMS, the Listen page's
    /// switch; replaces the config file's levers). Needs a model with an _unknown_ class.
    #[arg(long)]
    pub fewer_speech_alarms: bool,

    /// --eval: also write the model bundle with the measured threshold (--threshold, or the
    /// configured one) stored as its default (meta `detect_threshold`), for the CLI and the
    /// Listen page. Needs a bundle (not a .bitgru file); FILE may be the model itself.
    #[arg(long, value_name = "FILE", requires = "eval")]
    pub write_model: Option<PathBuf>,

    /// How the GRU meets the stream [default: window].
    #[arg(long, value_enum)]
    pub mode: Option<DetectMode>,

    /// Window mode: frames between re-runs [default: 2].
    #[arg(long, value_parser = positive)]
    pub every: Option<usize>,

    /// Stateful mode: state decay per frame in (0, 1] [default: 1].
    #[arg(long)]
    pub decay: Option<f32>,

    /// Seed of the --eval streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// --eval: use at most N keyword clips (evenly spaced) and fewer keyword-free streams.
    #[arg(long, value_parser = positive)]
    pub limit: Option<usize>,

    /// --eval: a detection up to this long after a clip's end still hits it (s).
    #[arg(long, default_value_t = 0.25)]
    pub tolerance: f64,

    /// --eval: margins to sweep (DetectorConfig "margin", each in [0, 1]) [default: the
    /// configured one].
    #[arg(long, value_name = "M,...", value_delimiter = ',', requires = "eval")]
    pub sweep_margin: Vec<f32>,

    /// --eval: margin references to sweep: unknown, rest [default: the configured one].
    #[arg(long, value_name = "R,...", value_delimiter = ',', requires = "eval")]
    pub sweep_margin_against: Vec<bitgru::detect::MarginAgainst>,

    /// --eval: hold lengths to sweep (DetectorConfig "hold_frames", consecutive frames ≥ 1)
    /// [default: the configured one].
    #[arg(long, value_name = "N,...", value_delimiter = ',', requires = "eval")]
    pub sweep_hold: Vec<usize>,

    /// --eval: _unknown_ weights to sweep (DetectorConfig "unknown_weight", ≥ 0) [default: the
    /// configured one].
    #[arg(long, value_name = "W,...", value_delimiter = ',', requires = "eval")]
    pub sweep_unknown_weight: Vec<f32>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Hidden sizes, comma separated.
    #[arg(long, value_name = "H,...", value_delimiter = ',', default_value = "32,64,128", value_parser = positive)]
    pub hidden: Vec<usize>,

    /// Time steps per sequence.
    #[arg(long, default_value_t = 49, value_parser = positive)]
    pub steps: usize,

    /// Input size.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub input: usize,

    /// Number of classes.
    #[arg(long, default_value_t = 6, value_parser = positive)]
    pub classes: usize,

    /// Sequences per batch.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub batch: usize,

    /// Genomes to time (repeat the flag) [default: 88888888888888888 and 64576888548886757].
    #[arg(long, value_name = "G", value_parser = parse_genome)]
    pub genome: Vec<Genome>,

    /// Seed of the synthetic models and inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Minimum measuring time per case, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 300)]
    pub min_time_ms: u64,

    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Threads of the "all threads" batch-kernel case [default: all cores].
    #[arg(long, value_parser = positive)]
    pub threads: Option<usize>,

    /// Skip the float reference and the scalar reference kernel (slow on long sequences).
    #[arg(long)]
    pub kernel_only: bool,

    /// Batch-kernel variants to time, comma separated (scalar, avx2, avx512-vnni, simd128)
    /// [default: every variant available here].
    #[arg(long, value_delimiter = ',', value_parser = parse_variant)]
    pub variants: Vec<bitgru::kernel::Variant>,
}

fn parse_variant(s: &str) -> Result<bitgru::kernel::Variant, String> {
    bitgru::kernel::Variant::from_name(s)
        .ok_or_else(|| format!("unknown kernel variant {s:?} (scalar, avx2, avx512-vnni, simd128)"))
}

/// Parses a genome; the core's error names the offending gene.
pub fn parse_genome(s: &str) -> Result<Genome, String> {
    s.parse::<Genome>().map_err(|e| e.to_string())
}

fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be positive".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(format!("{s:?} is not a number: {e}")),
    }
}

/// Parses `I,H,C`.
pub fn parse_dims(s: &str) -> Result<bitgru::Dims, String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return Err(format!(
            "{s:?}: expected three comma-separated sizes input,hidden,classes (e.g. 10,32,6)"
        ));
    }
    let mut v = [0usize; 3];
    for (k, (p, name)) in parts.iter().zip(["input", "hidden", "classes"]).enumerate() {
        v[k] = positive(p).map_err(|e| format!("{name} size {p:?}: {e}"))?;
        if v[k] > bitgru::io::MAX_DIM {
            return Err(format!(
                "{name} size {}: at most {} is supported",
                v[k],
                bitgru::io::MAX_DIM
            ));
        }
    }
    Ok(bitgru::Dims {
        input: v[0],
        hidden: v[1],
        classes: v[2],
    })
}

fn parse_spec_augment(s: &str) -> Result<bitgru::data::augment::SpecAugment, String> {
    s.parse().map_err(|e: bitgru::Error| e.to_string())
}

/// `LO,HI` in dB with LO <= HI.
fn parse_snr(s: &str) -> Result<(f64, f64), String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{s:?}: {e}"))?;
    match v[..] {
        [lo, hi] if lo.is_finite() && hi.is_finite() && lo <= hi => Ok((lo, hi)),
        _ => Err(format!(
            "{s:?}: expected LO,HI in dB with LO <= HI (e.g. 0,15)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Task: row-mnist, pixel-mnist, kws4, kws10.
    #[arg(long, value_parser = parse_task)]
    pub task: bitgru::task::Task,
    /// Data root (holds mnist/ and speech_commands/, or is one of them).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Output bundle (.safetensors); checked to be writable before training starts.
    #[arg(long, value_name = "M")]
    pub out: PathBuf,
    /// Hidden size [default: 128 for row-mnist, 64 otherwise].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Epochs in total (with --resume: may grow or shrink; the cosine schedule is re-planned).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Sequences per optimizer step [default: 128].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Peak learning rate of Adam [default: 3e-3].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Final learning rate of the cosine schedule [default: 1e-5].
    #[arg(long)]
    pub min_lr: Option<f32>,
    /// Linear warmup steps before the cosine schedule [default: 200].
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Global gradient-norm clip, 0 = off [default: 1.0].
    #[arg(long)]
    pub clip: Option<f32>,
    /// Decoupled (AdamW) weight decay [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f32>,
    /// Seed of initialization, shuffling and augmentation [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Early stopping: epochs without validation improvement, 0 = off [default: 0].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Truncated BPTT: back-propagate through the last K steps only [default: full BPTT].
    #[arg(long, value_name = "K")]
    pub tbptt: Option<usize>,
    /// Data-parallel shards per batch (fixed: results do not depend on the core count)
    /// [default: 4].
    #[arg(long)]
    pub shards: Option<usize>,
    /// Use only this many training examples, evenly spaced (quick runs); the validation split
    /// is not shrunk (see --val-limit).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub limit: Option<usize>,
    /// Use only this many validation examples, evenly spaced [default: the whole split].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub val_limit: Option<usize>,
    /// Checkpoint file (full trainer state, JSON), written every --checkpoint-every steps, at
    /// every epoch and on Ctrl-C [default on Ctrl-C: OUT with extension .ckpt.json].
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Continue from --checkpoint (bit-identically). Settings given again must equal the
    /// checkpoint's (only --epochs may change); settings left out are taken from it.
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Start over even though --checkpoint exists (it is overwritten).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 200)]
    pub checkpoint_every: u64,
    /// Stop (with a checkpoint) after this many minutes; resume later with --resume.
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Write per-epoch metrics as CSV (epoch, step, train/validation loss and accuracy, lr,
    /// seconds, improved), rewritten after every epoch.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// No progress bar (log lines only).
    #[arg(long)]
    pub quiet: bool,
    /// Label smoothing ε of the training loss: the target is (1 − ε)·one-hot + ε/classes
    /// (0 = plain cross-entropy).
    #[arg(long, default_value_t = 0.0, value_name = "EPS")]
    pub label_smoothing: f32,
    /// Exponential moving average of the weights with decay DECAY (0 < DECAY < 1, e.g. 0.999;
    /// warm-up form d_t = min(DECAY, t/(t + 9)) at optimizer step t). Each epoch's validation
    /// scores the averaged weights, and the written model is the best epoch's average; the
    /// average is part of the checkpoint [default: off].
    #[arg(long, value_name = "DECAY")]
    pub ema: Option<f32>,
    /// KWS: MFCC coefficients per frame, c0 included (1..=--n-mels); the model's input size.
    /// Recorded in the model's front end, so eval, detect and the app compute the same
    /// features [default: 10].
    #[arg(long, value_name = "N", help_heading = "Keyword-spotting features")]
    pub n_mfcc: Option<usize>,
    /// KWS: mel bands the MFCC are the DCT of [default: 40].
    #[arg(long, value_name = "M", help_heading = "Keyword-spotting features")]
    pub n_mels: Option<usize>,
    /// KWS: upper edge of the mel filterbank in Hz (at most 8000, half the sample rate)
    /// [default: 4000].
    #[arg(long, value_name = "HZ", help_heading = "Keyword-spotting features")]
    pub fmax: Option<f64>,
    #[command(flatten)]
    pub augment: KwsAugmentArgs,
}

/// Keyword-spotting augmentation (kws4, kws10 only; recorded in the checkpoint and the model).
#[derive(Debug, Args)]
pub struct KwsAugmentArgs {
    /// KWS: largest random time shift of a clip either way, in ms (zero fill). Larger shifts
    /// train for streaming, where a word starts anywhere in the window.
    #[arg(
        long,
        default_value_t = 100.0,
        value_name = "MS",
        help_heading = "Keyword-spotting augmentation"
    )]
    pub shift_ms: f64,
    /// KWS: probability that a clip gets a background-noise segment.
    #[arg(
        long,
        default_value_t = 0.8,
        value_name = "P",
        help_heading = "Keyword-spotting augmentation"
    )]
    pub noise_prob: f64,
    /// KWS: signal-to-noise range of the mixed background noise, LO,HI in dB (uniform).
    #[arg(long, default_value = "5,20", value_parser = parse_snr, value_name = "LO,HI", help_heading = "Keyword-spotting augmentation")]
    pub snr: (f64, f64),
    /// KWS: SpecAugment masking of the (normalized) MFCC features,
    /// TIME_MASKS,MAX_TIME_WIDTH,FREQ_MASKS,MAX_FREQ_WIDTH in frames / coefficients, e.g. 2,5,1,2
    /// (masked values become the channel mean). Default: off.
    #[arg(long, value_parser = parse_spec_augment, value_name = "T,TW,F,FW", help_heading = "Keyword-spotting augmentation")]
    pub spec_augment: Option<bitgru::data::augment::SpecAugment>,
    /// KWS: extra generated `_silence_` examples per epoch (training-noise segments at a random
    /// gain), as a fraction of the training clips, e.g. 0.1 (0 = none).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Keyword-spotting augmentation"
    )]
    pub silence_fraction: f64,
    /// kws4: keep up to K × the mean keyword count of `_unknown_` clips (other words), e.g. 2
    /// for more unknown speech.
    #[arg(
        long,
        default_value_t = 1.0,
        value_name = "K",
        help_heading = "Keyword-spotting augmentation"
    )]
    pub unknown_cap: f64,
    /// KWS: extra `_unknown_` examples per epoch, as a fraction of the training clips: 1 s
    /// windows across the boundary of two spoken clips laid end to end (the end of one word, the
    /// start of the next, neither mostly whole), what a streaming detector sees between words.
    /// 0 = none.
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "F",
        help_heading = "Keyword-spotting augmentation"
    )]
    pub boundary_unknown: f64,
}

#[derive(Debug, Args)]
pub struct QatArgs {
    /// Task whose training split fine-tunes the model and whose validation split picks the
    /// epoch: row-mnist, pixel-mnist, kws4, kws10 (must be the bundle's task).
    #[arg(long, value_parser = parse_task)]
    pub task: bitgru::task::Task,
    /// Trained bundle (from `bitgru train`).
    #[arg(long, value_name = "M")]
    pub model: PathBuf,
    /// The genome whose 17 quantizers the fine-tuning trains through; recorded in the output
    /// bundle, where `bitgru eval` and `bitgru export` use it by default.
    #[arg(long, value_name = "G", value_parser = parse_genome)]
    pub genome: Genome,
    /// Data root (holds mnist/ and speech_commands/, or is one of them).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Output bundle (.safetensors).
    #[arg(long, value_name = "Q")]
    pub out: PathBuf,
    /// Fine-tuning epochs.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Sequences per optimizer step.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Peak learning rate (cosine decay to 5 % of it).
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f32,
    /// Seed of shuffling and augmentation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training samples used to re-calibrate after each epoch.
    #[arg(long, default_value_t = 512)]
    pub recalibrate: usize,
    /// Data-parallel shards per batch.
    #[arg(long, default_value_t = 4)]
    pub shards: usize,
    /// Use only this many training examples, evenly spaced (quick runs); the validation split
    /// is not shrunk (see --val-limit).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub limit: Option<usize>,
    /// Use only this many validation examples, evenly spaced [default: the whole split].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub val_limit: Option<usize>,
    /// No progress bar (log lines only).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Input size of the synthetic model.
    #[arg(long, default_value_t = 10)]
    pub input: usize,
    /// Hidden size.
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Number of classes.
    #[arg(long, default_value_t = 12)]
    pub classes: usize,
    /// Time steps per sequence.
    #[arg(long, default_value_t = 49)]
    pub steps: usize,
    /// Sequences per optimizer step.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Timed optimizer steps (after one warm-up step).
    #[arg(long, default_value_t = 20)]
    pub batches: usize,
    /// Data-parallel shards per batch.
    #[arg(long, default_value_t = 4)]
    pub shards: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}
