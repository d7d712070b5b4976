//! The job system: the store (the only writer of job rows), workers, the progress reporter,
//! the rescuer, per-job logs and the handlers.

pub mod backend;
pub mod handlers;
pub mod joblog;
pub mod progress;
pub mod rescuer;
pub mod store;
pub mod worker;

pub use store::{JobStore, StoreError};
