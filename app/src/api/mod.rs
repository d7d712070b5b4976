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

/// Runs a backend call, mapping its error and setting the response status.
#[cfg(feature = "ssr")]
async fn call<T, F, Fut>(f: F) -> Result<T, ApiError>
where
    F: FnOnce(backend::SharedBackend) -> Fut,
    Fut: std::future::Future<Output = Result<T, backend::BackendError>>,
{
    let backend = backend::backend().map_err(with_status)?;
    f(backend).await.map_err(|e| with_status(e.into()))
}

pub use datasets::*;
pub use error::{parse_job_id, with_status, ApiError};
pub use grid::*;
pub use jobs::*;
pub use strategies::*;
