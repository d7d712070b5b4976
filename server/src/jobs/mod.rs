//! The job system: the store (the only writer of job rows), workers, the progress reporter,
//! the rescuer, per-job logs and the handlers.

pub mod backend;
pub mod chunks;
pub mod handlers;
pub mod import;
pub mod joblog;
pub mod progress;
pub mod pulse;
pub mod rescuer;
pub mod status_cache;
pub mod store;
pub mod worker;

pub use store::{JobStore, StoreError};
pub use worker::TaskPanicked;

/// A background task of the process: the worker pool or the rescuer.
pub type BackgroundTask = tokio::task::JoinHandle<Result<(), TaskPanicked>>;

/// Waits for every background task; a panic in any of them (caught inside the pool, or the
/// task itself) is logged and returned, so the process exits non-zero.
pub async fn join_background(tasks: Vec<BackgroundTask>) -> Result<(), TaskPanicked> {
    let mut first = Ok(());
    for task in tasks {
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(e) if e.is_panic() => {
                tracing::error!(error = %e, "a background task panicked");
                Err(TaskPanicked {
                    task: "background",
                    count: 1,
                })
            }
            Err(_) => Ok(()),
        };
        first = first.and(outcome);
    }
    first
}
