//! Generic multi-objective search, independent of GRUs.
//!
//! - [`nsga2`]: an ask/tell NSGA-II (Deb et al. 2002) over bounded integer genes, with a
//!   serializable, resumable state and a fitness cache;
//! - [`hv`]: the exact hypervolume indicator (minimization).
//!
//! The rank, crowding-distance and hypervolume conventions follow pymoo (checked against it by
//! `tests/nsga2.rs` on fixtures from `scripts/make_pymoo_fixtures.py`).
pub mod hv;
pub mod nsga2;

pub use hv::hypervolume;
pub use nsga2::{
    crowding_distance, fast_non_dominated_sort, FitnessCache, Individual, Nsga2, Nsga2Config,
};
