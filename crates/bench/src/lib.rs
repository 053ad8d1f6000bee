//! What the benchmarks share: the synthetic year of a large center.

pub mod import;
pub mod year;
