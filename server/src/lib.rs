#![recursion_limit = "256"]
//! Runboard's server: configuration, database, job store, workers, handlers, the compute engine
//! and the web layer. `main.rs` wires them together; tests and benches use them directly.

pub mod config;
pub mod datasets;
pub mod db;
pub mod engine;
pub mod grids;
pub mod jobs;
pub mod strategies;
pub mod web;
