//! Float training: hand-written BPTT ([`grad`]) on a GEMM crate ([`gemm`]), Adam with gradient
//! clipping and a warmup + cosine schedule, class balancing, early stopping, checkpoints, and
//! data parallelism over a fixed number of shards (deterministic for a seed whatever the thread
//! count). Steppable: [`Trainer::step`] runs one mini-batch, so callers can report, pause,
//! cancel and checkpoint.
pub mod gemm;
pub mod grad;
pub mod qat;
mod trainer;

pub use grad::{batch_grad, check_label_smoothing, BatchStats, Grads, Loss, Workspace};
pub use qat::{qat_batch_grad, QatSpec, QatWorkspace};
pub use trainer::{
    check_ema, evaluate_float, evaluate_integer, BatchSource, EpochRecord, InMemory, QatConfig,
    Schedule, StepReport, TrainConfig, Trainer,
};
