//! The mixed-precision search: a generic NSGA-II ([`nsga2`], [`hv`]) that knows nothing about
//! GRUs, the quantization problem that maps a genome to a typed evaluation ([`problem`]), the
//! generation loop with its checkpoint and `result.json` formats ([`run`]), and the analysis of
//! a front ([`analysis`]).
pub mod analysis;
pub mod hv;
pub mod nsga2;
pub mod problem;
pub mod run;

pub use problem::{Evaluation, Objective, QuantProblem};
pub use run::{Search, SearchConfig, SearchResult};
