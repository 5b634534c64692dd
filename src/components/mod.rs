//! Shared view components. They render what the worker computed; none of them computes.
pub mod bars;
pub mod chart;
pub mod genome;
pub mod heatmap;
pub mod report;
pub mod upload;
