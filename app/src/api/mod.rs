//! Server functions: the JSON API under `/api/*` that the pages and curl both use.
//!
//! They are thin: parse and validate the input, call the [`backend::JobBackend`] that the server
//! provides as context, and map its errors to user-safe [`ApiError`]s.

#[cfg(feature = "ssr")]
pub mod backend;
mod datasets;
pub mod error;
mod grid;
mod jobs;
mod strategies;

pub use datasets::*;
pub use error::{parse_job_id, with_status, ApiError};
pub use grid::*;
pub use jobs::*;
pub use strategies::*;
