//! A run's own writes: progress (with its checkpoint), heartbeat, and its end (complete, fail,
//! cancelled, handed back). Each names the run it belongs to (`state = 'RUNNING' AND lease =
//! $n`), so a run that was rescued, cancelled or finished underneath its worker changes nothing
//! ([`StoreError::Stale`]).

use std::time::Duration;

use app::model::JobState;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{
    guarded, sql, Ack, FailOutcome, JobStore, ProgressUpdate, ReleaseOutcome, StoreError,
    MAX_MESSAGE_CHARS,
};

/// What `fail.sql` returns.
#[derive(sqlx::FromRow)]
struct FailedRow {
    state: JobState,
    run_after: DateTime<Utc>,
}

impl JobStore {
    /// The seed's `update_progress`: one atomic UPDATE of the progress fields (and optionally the
    /// checkpoint) that preserves every other field and applies only while the job is RUNNING
    /// under `lease`. It also counts as a heartbeat.
    pub async fn update_progress(
        &self,
        id: Uuid,
        lease: Uuid,
        update: &ProgressUpdate,
    ) -> Result<Ack, StoreError> {
        if !(0.0..=1.0).contains(&update.progress) {
            return Err(StoreError::InvalidProgress(update.progress));
        }
        let message = update
            .message
            .as_ref()
            .map(|m| m.chars().take(MAX_MESSAGE_CHARS).collect::<String>());
        let finite = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
        let cancel_requested: Option<bool> = sqlx::query_scalar(sql::UPDATE_PROGRESS)
            .bind(id)
            .bind(lease)
            .bind(update.progress)
            .bind(message)
            .bind(finite(update.eta_seconds))
            .bind(finite(update.rate_per_second))
            .bind(update.checkpoint.as_ref())
            .fetch_optional(&self.pool)
            .await?;
        cancel_requested
            .map(|cancel_requested| Ack { cancel_requested })
            .ok_or(StoreError::Stale { id, lease })
    }

    /// Proof of life for a running job.
    pub async fn heartbeat(&self, id: Uuid, lease: Uuid) -> Result<Ack, StoreError> {
        let cancel_requested: Option<bool> = sqlx::query_scalar(sql::HEARTBEAT)
            .bind(id)
            .bind(lease)
            .fetch_optional(&self.pool)
            .await?;
        cancel_requested
            .map(|cancel_requested| Ack { cancel_requested })
            .ok_or(StoreError::Stale { id, lease })
    }

    /// RUNNING → SUCCEEDED with the result.
    pub async fn complete(&self, id: Uuid, lease: Uuid, result: &Value) -> Result<(), StoreError> {
        let done = sqlx::query(sql::COMPLETE)
            .bind(id)
            .bind(lease)
            .bind(result)
            .execute(&self.pool)
            .await?;
        guarded(done.rows_affected(), id, lease)
    }

    /// RUNNING → QUEUED (retry after `retry_after`, if attempts remain) or FAILED; CANCELLED
    /// instead of a retry when a cancel was requested meanwhile (the cancel wins).
    pub async fn fail(
        &self,
        id: Uuid,
        lease: Uuid,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<FailOutcome, StoreError> {
        let row: Option<FailedRow> = sqlx::query_as(sql::FAIL)
            .bind(id)
            .bind(lease)
            .bind(error)
            .bind(retry_after.is_some())
            .bind(retry_after.unwrap_or_default().as_secs_f64())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(FailedRow {
                state: JobState::Queued,
                run_after,
            }) => Ok(FailOutcome::Retrying { run_after }),
            Some(FailedRow {
                state: JobState::Cancelled,
                ..
            }) => Ok(FailOutcome::Cancelled),
            Some(_) => Ok(FailOutcome::Failed),
            None => Err(StoreError::Stale { id, lease }),
        }
    }

    /// RUNNING → CANCELLED after the handler stopped on a cancel request. Progress is kept.
    pub async fn finish_cancelled(&self, id: Uuid, lease: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query(sql::FINISH_CANCELLED)
            .bind(id)
            .bind(lease)
            .execute(&self.pool)
            .await?;
        guarded(done.rows_affected(), id, lease)
    }

    /// RUNNING → QUEUED on a clean shutdown: the attempt is given back (the job did nothing
    /// wrong) and the saved checkpoint stays for the next claimer. A job whose cancel was
    /// requested ends CANCELLED instead: it must not run again.
    pub async fn release(&self, id: Uuid, lease: Uuid) -> Result<ReleaseOutcome, StoreError> {
        let state: Option<JobState> = sqlx::query_scalar(sql::RELEASE)
            .bind(id)
            .bind(lease)
            .fetch_optional(&self.pool)
            .await?;
        match state {
            Some(JobState::Cancelled) => Ok(ReleaseOutcome::Cancelled),
            Some(_) => Ok(ReleaseOutcome::Requeued),
            None => Err(StoreError::Stale { id, lease }),
        }
    }
}
