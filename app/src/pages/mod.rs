//! Pages: one route per file.

pub mod backtest;
pub mod compare;
pub mod datasets;
pub mod job;
pub mod job_chunks;
pub mod job_partial;
pub mod jobs;
pub mod not_found;
pub mod paging;
pub mod strategies;
