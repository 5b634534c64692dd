//! The mixed-precision search.
//!
//! Generic, independent of GRUs:
//! - [`nsga2`]: an ask/tell NSGA-II (Deb et al. 2002) over bounded integer genes, with a
//!   serializable, resumable state and a fitness cache;
//! - [`hv`]: the exact hypervolume indicator (minimization).
//!
//! The rank, crowding-distance and hypervolume conventions follow pymoo (checked against it by
//! `tests/nsga2.rs` on fixtures from `scripts/make_pymoo_fixtures.py`).
//!
//! The quantization problem on top:
//! - [`problem`]: genome → prepared integer model → typed [`Evaluation`] on a fitness set whose
//!   input codes are quantized once;
//! - [`run`]: the generation loop ([`Search`]) with its checkpoint and the `result.json` format
//!   ([`SearchResult`], docs/SEARCH.md);
//! - [`analysis`]: per-gene sensitivity and clustering of a front.
pub mod analysis;
pub mod hv;
pub mod nsga2;
pub mod problem;
pub mod run;

pub use hv::hypervolume;
pub use nsga2::{
    crowding_distance, fast_non_dominated_sort, FitnessCache, Individual, Nsga2, Nsga2Config,
};
pub use problem::{Evaluation, Objective, QuantProblem};
pub use run::{Search, SearchConfig, SearchResult};
