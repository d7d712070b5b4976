//! How a run ended, written down: success, failure (retried with backoff or final), a hand-back
//! at shutdown, or a cancel; every write guarded by the run's lease and retried through brief
//! database outages (a run's result is never thrown away for a dropped connection).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::{
    retry_backoff, RunOutcome, Worker, DEFAULT_FINAL_WRITE_BACKOFF, MAX_FINAL_WRITE_BACKOFF,
};
use crate::jobs::handlers::HandlerError;
use crate::jobs::joblog::JobLog;
use crate::jobs::progress::RunFlags;
use crate::jobs::pulse::{Completed, Pulse};
use crate::jobs::store::{ClaimedJob, FailOutcome, JobStore, ReleaseOutcome, StoreError};

impl Worker {
    pub(super) async fn record_outcome(
        &self,
        job: &ClaimedJob,
        result: Result<Value, HandlerError>,
        message: Option<String>,
        flags: &RunFlags,
        log: &Mutex<JobLog>,
        pulse: &Pulse,
    ) -> RunOutcome {
        let say = |msg: &str| {
            if let Ok(mut l) = log.lock() {
                l.line(msg);
            }
        };
        let (id, lease) = (job.id, job.lease);
        match result {
            Ok(value) => {
                let outcome = match pulse.complete(id, lease, value, message).await {
                    Completed::Landed => Ok(()),
                    Completed::Stale => Err(StoreError::Stale { id, lease }),
                    // The batch failed: this run's completion is retried on its own.
                    Completed::Retry(value) => {
                        self.persist(|| self.store.complete(id, lease, &value))
                            .await
                    }
                    Completed::Lost => Err(StoreError::Db(sqlx::Error::WorkerCrashed)),
                };
                if outcome.is_ok() {
                    say("succeeded");
                }
                self.outcome_or_lease_lost(outcome, RunOutcome::Succeeded)
            }
            Err(HandlerError::Stopped) if flags.cancel_requested.load(Ordering::Relaxed) => {
                let outcome = self
                    .persist(|| self.store.finish_cancelled(id, lease))
                    .await;
                say("cancelled; partial progress kept");
                self.outcome_or_lease_lost(outcome, RunOutcome::Cancelled)
            }
            Err(HandlerError::Stopped) => {
                match self.persist(|| self.store.release(id, lease)).await {
                    Ok(ReleaseOutcome::Requeued) => {
                        say("shutting down: job returned to the queue with its checkpoint");
                        RunOutcome::Released
                    }
                    Ok(ReleaseOutcome::Cancelled) => {
                        say("cancelled (requested before the shutdown hand-back)");
                        RunOutcome::Cancelled
                    }
                    Err(e) => self.outcome_or_lease_lost(Err(e), RunOutcome::LeaseLost),
                }
            }
            Err(HandlerError::Retryable(msg)) => {
                let backoff = retry_backoff(self.config.retry_base, job.attempt);
                self.finish_failed(job, &msg, Some(backoff), log).await
            }
            Err(HandlerError::Terminal(msg)) => self.finish_failed(job, &msg, None, log).await,
        }
    }

    /// Runs a final write, retrying database errors with exponential back-off for up to
    /// `final_write_patience`. A `Stale` answer (the job is no longer ours) is final at once.
    async fn persist<T, F, Fut>(&self, write: F) -> Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let deadline = tokio::time::Instant::now() + self.config.final_write_patience;
        let mut wait = DEFAULT_FINAL_WRITE_BACKOFF;
        loop {
            match write().await {
                Err(StoreError::Db(e)) if tokio::time::Instant::now() + wait < deadline => {
                    self.final_write_retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, retry_in = ?wait, "final write failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_FINAL_WRITE_BACKOFF);
                }
                other => return other,
            }
        }
    }

    pub(super) async fn finish_failed(
        &self,
        job: &ClaimedJob,
        msg: &str,
        retry_after: Option<Duration>,
        log: &Mutex<JobLog>,
    ) -> RunOutcome {
        let (id, lease) = (job.id, job.lease);
        match self
            .persist(|| self.store.fail(id, lease, msg, retry_after))
            .await
        {
            Ok(FailOutcome::Retrying { run_after }) => {
                if let Ok(mut l) = log.lock() {
                    l.line(&format!("error (will retry at {run_after}): {msg}"));
                }
                RunOutcome::Retrying
            }
            Ok(FailOutcome::Failed) => {
                if let Ok(mut l) = log.lock() {
                    l.line(&format!("failed: {msg}"));
                }
                RunOutcome::Failed(msg.to_string())
            }
            Ok(FailOutcome::Cancelled) => {
                if let Ok(mut l) = log.lock() {
                    l.line(&format!("cancelled (requested before this error): {msg}"));
                }
                RunOutcome::Cancelled
            }
            Err(e) => self.outcome_or_lease_lost(Err(e), RunOutcome::LeaseLost),
        }
    }

    /// `ok` if the final write landed; otherwise [`RunOutcome::LeaseLost`]: the job is no
    /// longer ours (`Stale`), or its lease keeps it recoverable for the rescuer.
    fn outcome_or_lease_lost(&self, outcome: Result<(), StoreError>, ok: RunOutcome) -> RunOutcome {
        match outcome {
            Ok(()) => ok,
            Err(StoreError::Stale { id, .. }) => {
                tracing::warn!(job = %id, "final write refused: the job is no longer ours");
                RunOutcome::LeaseLost
            }
            Err(e) => {
                // The lease keeps the job recoverable: the rescuer will requeue it.
                tracing::error!(error = %e, "could not record the job's outcome");
                RunOutcome::LeaseLost
            }
        }
    }
}

/// Heartbeats a run every `every` until aborted (while its outcome is being written).
pub(crate) async fn keep_alive(
    store: JobStore,
    id: uuid::Uuid,
    lease: uuid::Uuid,
    every: Duration,
) {
    let every = every.max(Duration::from_millis(50));
    loop {
        tokio::time::sleep(every).await;
        match store.heartbeat(id, lease).await {
            Err(StoreError::Stale { .. }) => return,
            Err(e) => tracing::warn!(job = %id, error = %e, "heartbeat failed"),
            Ok(_) => {}
        }
    }
}
