//! The rescuer: recovers RUNNING jobs whose worker stopped heartbeating.
//!
//! A maintenance service in River's style: [`Rescuer::run_once`] does one pass and returns a
//! report (tests call it directly and never sleep); [`Rescuer::run`] loops it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::store::{JobStore, RescueReport, StoreError};

/// How often the rescuer looks, as a fraction of the lease timeout.
pub const DEFAULT_INTERVAL_DIVISOR: u32 = 3;

#[derive(Clone, Debug)]
pub struct Rescuer {
    store: JobStore,
    lease_timeout: Duration,
}

impl Rescuer {
    pub fn new(store: JobStore, lease_timeout: Duration) -> Rescuer {
        Rescuer {
            store,
            lease_timeout,
        }
    }

    /// One pass: jobs silent for longer than the lease timeout go back to QUEUED (or FAILED
    /// when out of attempts, CANCELLED when a cancel was pending).
    pub async fn run_once(&self) -> Result<RescueReport, StoreError> {
        self.store.rescue_stuck(self.lease_timeout, None).await
    }

    /// At start-up: every run this node's previous process left RUNNING is dead (the process is
    /// gone), so recover those at once instead of waiting for the lease to expire.
    pub async fn recover_node(&self, node_id: &str) -> Result<RescueReport, StoreError> {
        self.store
            .rescue_stuck(self.lease_timeout, Some(node_id))
            .await
    }

    /// Loops [`Self::run_once`] until shutdown.
    pub async fn run(self, shutdown: CancellationToken) {
        let interval = (self.lease_timeout / DEFAULT_INTERVAL_DIVISOR).max(Duration::from_secs(1));
        loop {
            match self.run_once().await {
                Ok(r) if r != RescueReport::default() => tracing::warn!(
                    requeued = ?r.requeued, failed = ?r.failed, cancelled = ?r.cancelled,
                    "rescued jobs whose worker stopped heartbeating"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rescue pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}
