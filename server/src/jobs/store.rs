//! The job store: the only code that writes job rows.
//!
//! Every transition is one guarded SQL statement. Writes from a worker name the run they belong
//! to (`state = 'RUNNING' AND lease = $n`) and check `rows_affected()`, so a worker whose job
//! was rescued, cancelled or finished cannot overwrite the newer state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::model::job::log_path_for;
use app::model::{JobKind, JobState, JobStatus};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The NOTIFY channel on which a newly runnable job is announced (see the migrations).
pub const QUEUE_CHANNEL: &str = "runboard_jobs";
/// Default attempts before a crashing or retrying job is failed for good.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;
/// Longest progress message kept (the database refuses longer).
pub const MAX_MESSAGE_CHARS: usize = 500;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such job: {0}")]
    NotFound(Uuid),
    /// The write named a run that is no longer current: the job ended, was rescued or
    /// cancelled. Nothing was changed.
    #[error("job {id} is not running under lease {lease}; nothing was changed")]
    Stale { id: Uuid, lease: Uuid },
    #[error("progress must be a number in 0..=1, got {0}")]
    InvalidProgress(f64),
    #[error("job {id} is already {state}")]
    Finished { id: Uuid, state: JobState },
    #[error("stored job row is corrupt: {0}")]
    Corrupt(String),
    /// The cap on QUEUED + RUNNING jobs is reached; nothing was added.
    #[error("{active} jobs are queued or running, the limit is {limit}")]
    QueueFull { active: i64, limit: u64 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A job to add to the queue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: JobKind,
    pub args: Value,
    pub priority: i16,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: JobKind, args: Value) -> NewJob {
        NewJob {
            kind,
            args,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// A job a worker has claimed: what it needs to run it.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: JobKind,
    pub args: Value,
    /// The run token every write from this worker must carry.
    pub lease: Uuid,
    pub attempt: i32,
    pub max_attempts: i32,
    /// What an earlier attempt saved, to resume from.
    pub checkpoint: Option<Value>,
}

/// A progress write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressUpdate {
    pub progress: f64,
    pub message: Option<String>,
    pub eta_seconds: Option<f64>,
    pub rate_per_second: Option<f64>,
    /// Saved atomically with the progress, when present.
    pub checkpoint: Option<Value>,
}

/// What the store says back to a running worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// Someone asked to cancel this job: the handler should stop.
    pub cancel_requested: bool,
}

/// How a failed run ends.
#[derive(Clone, Debug, PartialEq)]
pub enum FailOutcome {
    /// Back to QUEUED, runnable again after the back-off.
    Retrying {
        run_after: DateTime<Utc>,
    },
    Failed,
    /// A cancel was requested while it ran: the cancel wins over a retry.
    Cancelled,
}

/// How a run handed back at shutdown ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// Back to QUEUED with its checkpoint, for the next claimer.
    Requeued,
    /// A cancel was requested while it ran: the cancel wins over the hand-back.
    Cancelled,
}

/// What one pass of the rescuer did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RescueReport {
    /// Back to QUEUED for another attempt.
    pub requeued: Vec<Uuid>,
    /// Out of attempts: FAILED.
    pub failed: Vec<Uuid>,
    /// Had a cancel request: CANCELLED.
    pub cancelled: Vec<Uuid>,
}

/// Filter and page for listing jobs.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub state: Option<JobState>,
    pub kind: Option<JobKind>,
    pub limit: i64,
    pub offset: i64,
}

/// The job table's row, as stored.
#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    kind: String,
    state: String,
    progress: Option<f64>,
    progress_message: Option<String>,
    eta_seconds: Option<f64>,
    rate_per_second: Option<f64>,
    error: Option<String>,
    attempt: i32,
    max_attempts: i32,
    cancel_requested: bool,
    log_path: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    heartbeat_at: Option<DateTime<Utc>>,
}

/// What `claim` returns: id, kind, args, lease, attempt, max_attempts, checkpoint.
type ClaimRow = (Uuid, String, Value, Uuid, i32, i32, Option<Value>);

/// The columns of [`JobRow`], for `RETURNING`.
const STATUS_COLUMNS: &str = "id, kind, state, progress, progress_message, eta_seconds, \
     rate_per_second, error, attempt, max_attempts, cancel_requested, log_path, created_at, \
     started_at, finished_at, heartbeat_at";

impl TryFrom<JobRow> for JobStatus {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<JobStatus, StoreError> {
        Ok(JobStatus {
            id: row.id,
            kind: JobKind::parse(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown kind {:?}", row.kind)))?,
            state: JobState::parse(&row.state)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown state {:?}", row.state)))?,
            progress: row.progress,
            progress_message: row.progress_message,
            eta_seconds: row.eta_seconds,
            rate_per_second: row.rate_per_second,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            heartbeat_at: row.heartbeat_at,
            error: row.error,
            attempt: row.attempt,
            max_attempts: row.max_attempts,
            cancel_requested: row.cancel_requested,
            log_path: row.log_path,
        })
    }
}

/// Postgres-backed job store.
#[derive(Clone, Debug)]
pub struct JobStore {
    pool: PgPool,
    runs_dir: PathBuf,
}

impl JobStore {
    pub fn new(pool: PgPool, runs_dir: impl Into<PathBuf>) -> JobStore {
        JobStore {
            pool,
            runs_dir: runs_dir.into(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The directory under which each job's `artifacts/run.log` lives.
    pub fn runs_dir(&self) -> &Path {
        &self.runs_dir
    }

    /// The file a job's log is written to (derived from the UUID only).
    pub fn log_file(&self, id: Uuid) -> PathBuf {
        self.runs_dir
            .join(id.to_string())
            .join("artifacts")
            .join("run.log")
    }

    /// Adds a job in QUEUED; the insert trigger wakes a worker. No cap: for internal callers
    /// (tests, benches); the API uses [`Self::enqueue_capped`].
    pub async fn enqueue(&self, job: NewJob) -> Result<JobStatus, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_job(&mut conn, &job).await
    }

    /// Adds a job unless `limit` jobs are already QUEUED or RUNNING ([`StoreError::QueueFull`]).
    ///
    /// Exact under concurrency: the count and the insert run in one transaction holding a
    /// transaction-scoped advisory lock, so two submitters cannot both take the last place.
    pub async fn enqueue_capped(&self, job: NewJob, limit: u64) -> Result<JobStatus, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ENQUEUE_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        let (active,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')")
                .fetch_one(&mut *tx)
                .await?;
        if active >= i64::try_from(limit).unwrap_or(i64::MAX) {
            return Err(StoreError::QueueFull { active, limit });
        }
        let status = insert_job(&mut tx, &job).await?;
        tx.commit().await?;
        Ok(status)
    }

    /// Claims the next runnable job (highest priority, then oldest) for `worker_id`.
    ///
    /// `FOR UPDATE SKIP LOCKED` in a CTE: concurrent claimers never get the same row, and the
    /// planner cannot update more rows than the `LIMIT`. A fresh lease is issued per claim.
    ///
    /// `worker_id` is `<instance>:<n>` (unique per process); `node_id` is the configured node
    /// name that start-up recovery matches exactly. A job whose cancel was requested is never
    /// claimed.
    pub async fn claim(
        &self,
        worker_id: &str,
        node_id: &str,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let row: Option<ClaimRow> = sqlx::query_as(
            "WITH next AS ( \
                 SELECT id FROM jobs \
                 WHERE state = 'QUEUED' AND run_after <= now() AND NOT cancel_requested \
                 ORDER BY priority DESC, run_after, created_at \
                 LIMIT 1 \
                 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs j SET state = 'RUNNING', lease = gen_random_uuid(), worker_id = $1, \
                 node_id = $2, \
                 attempt = j.attempt + 1, started_at = COALESCE(j.started_at, now()), \
                 heartbeat_at = now(), eta_seconds = NULL, rate_per_second = NULL \
             FROM next WHERE j.id = next.id \
             RETURNING j.id, j.kind, j.args, j.lease, j.attempt, j.max_attempts, j.checkpoint",
        )
        .bind(worker_id)
        .bind(node_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(
            |(id, kind, args, lease, attempt, max_attempts, checkpoint)| {
                Ok(ClaimedJob {
                    id,
                    kind: JobKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown kind {kind:?}")))?,
                    args,
                    lease,
                    attempt,
                    max_attempts,
                    checkpoint,
                })
            },
        )
        .transpose()
    }

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
        let row: Option<(bool,)> = sqlx::query_as(
            "UPDATE jobs SET progress = $3, progress_message = $4, eta_seconds = $5, \
                 rate_per_second = $6, checkpoint = COALESCE($7, checkpoint), heartbeat_at = now() \
             WHERE id = $1 AND state = 'RUNNING' AND lease = $2 \
             RETURNING cancel_requested",
        )
        .bind(id)
        .bind(lease)
        .bind(update.progress)
        .bind(message)
        .bind(finite(update.eta_seconds))
        .bind(finite(update.rate_per_second))
        .bind(update.checkpoint.as_ref())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(cancel_requested,)| Ack { cancel_requested })
            .ok_or(StoreError::Stale { id, lease })
    }

    /// Proof of life for a running job.
    pub async fn heartbeat(&self, id: Uuid, lease: Uuid) -> Result<Ack, StoreError> {
        let row: Option<(bool,)> = sqlx::query_as(
            "UPDATE jobs SET heartbeat_at = now() \
             WHERE id = $1 AND state = 'RUNNING' AND lease = $2 RETURNING cancel_requested",
        )
        .bind(id)
        .bind(lease)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(cancel_requested,)| Ack { cancel_requested })
            .ok_or(StoreError::Stale { id, lease })
    }

    /// RUNNING → SUCCEEDED with the result.
    pub async fn complete(&self, id: Uuid, lease: Uuid, result: &Value) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'SUCCEEDED', result = $3, progress = 1.0, finished_at = now(), \
                 lease = NULL, eta_seconds = NULL, rate_per_second = NULL, checkpoint = NULL \
             WHERE id = $1 AND state = 'RUNNING' AND lease = $2",
        )
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
        let row: Option<(String, DateTime<Utc>)> = sqlx::query_as(
            "WITH next AS ( \
                 SELECT id, CASE WHEN cancel_requested AND $4 THEN 'CANCELLED' \
                     WHEN $4 AND attempt < max_attempts THEN 'QUEUED' ELSE 'FAILED' END AS state \
                 FROM jobs WHERE id = $1 AND state = 'RUNNING' AND lease = $2) \
             UPDATE jobs j SET state = next.state, \
                 run_after = CASE WHEN next.state = 'QUEUED' \
                     THEN now() + make_interval(secs => $5) ELSE j.run_after END, \
                 finished_at = CASE WHEN next.state = 'QUEUED' THEN NULL ELSE now() END, \
                 error = $3, lease = NULL, worker_id = NULL, eta_seconds = NULL, \
                 rate_per_second = NULL \
             FROM next WHERE j.id = next.id AND j.state = 'RUNNING' AND j.lease = $2 \
             RETURNING j.state, j.run_after",
        )
        .bind(id)
        .bind(lease)
        .bind(error)
        .bind(retry_after.is_some())
        .bind(retry_after.unwrap_or_default().as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((state, run_after)) if state == "QUEUED" => {
                Ok(FailOutcome::Retrying { run_after })
            }
            Some((state, _)) if state == "CANCELLED" => Ok(FailOutcome::Cancelled),
            Some(_) => Ok(FailOutcome::Failed),
            None => Err(StoreError::Stale { id, lease }),
        }
    }

    /// RUNNING → CANCELLED after the handler stopped on a cancel request. Progress is kept.
    pub async fn finish_cancelled(&self, id: Uuid, lease: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'CANCELLED', finished_at = now(), lease = NULL, \
                 eta_seconds = NULL, rate_per_second = NULL \
             WHERE id = $1 AND state = 'RUNNING' AND lease = $2",
        )
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
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE jobs SET \
                 state = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'QUEUED' END, \
                 finished_at = CASE WHEN cancel_requested THEN now() ELSE NULL END, \
                 lease = NULL, worker_id = NULL, \
                 attempt = CASE WHEN cancel_requested THEN attempt ELSE GREATEST(attempt - 1, 0) END, \
                 run_after = now(), eta_seconds = NULL, rate_per_second = NULL \
             WHERE id = $1 AND state = 'RUNNING' AND lease = $2 \
             RETURNING state",
        )
        .bind(id)
        .bind(lease)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((state,)) if state == "CANCELLED" => Ok(ReleaseOutcome::Cancelled),
            Some(_) => Ok(ReleaseOutcome::Requeued),
            None => Err(StoreError::Stale { id, lease }),
        }
    }

    /// Cancels a job: QUEUED → CANCELLED at once; RUNNING → flagged, and the handler stops at
    /// its next progress report. Returns the status after the request.
    ///
    /// Cancelling a job that is already CANCELLED is a no-op; one that SUCCEEDED or FAILED is
    /// refused with [`StoreError::Finished`].
    pub async fn request_cancel(&self, id: Uuid) -> Result<JobStatus, StoreError> {
        let row: Option<JobRow> = sqlx::query_as(&format!(
            "UPDATE jobs SET \
                 cancel_requested = true, \
                 state = CASE WHEN state = 'QUEUED' THEN 'CANCELLED' ELSE state END, \
                 finished_at = CASE WHEN state = 'QUEUED' THEN now() ELSE finished_at END \
             WHERE id = $1 AND state IN ('QUEUED', 'RUNNING') \
             RETURNING {STATUS_COLUMNS}"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => row.try_into(),
            None => {
                let status = self.status(id).await?;
                if status.state == JobState::Cancelled {
                    Ok(status)
                } else {
                    Err(StoreError::Finished {
                        id,
                        state: status.state,
                    })
                }
            }
        }
    }

    /// Rescues RUNNING jobs whose heartbeat is older than `lease_timeout`, or (at start-up) every
    /// run left behind by the node named exactly `dead_node`: back to QUEUED while attempts
    /// remain, else FAILED with a clear error; a job with a pending cancel request ends
    /// CANCELLED.
    pub async fn rescue_stuck(
        &self,
        lease_timeout: Duration,
        dead_node: Option<&str>,
    ) -> Result<RescueReport, StoreError> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "WITH stuck AS ( \
                 SELECT id FROM jobs \
                 WHERE state = 'RUNNING' AND (heartbeat_at < now() - make_interval(secs => $1) \
                     OR node_id = $2::text) \
                 FOR UPDATE SKIP LOCKED), \
             decided AS ( \
                 SELECT j.id, CASE WHEN j.cancel_requested THEN 'CANCELLED' \
                     WHEN j.attempt < j.max_attempts THEN 'QUEUED' ELSE 'FAILED' END AS next \
                 FROM jobs j JOIN stuck USING (id)) \
             UPDATE jobs j SET state = d.next, lease = NULL, worker_id = NULL, run_after = now(), \
                 eta_seconds = NULL, rate_per_second = NULL, \
                 finished_at = CASE WHEN d.next = 'QUEUED' THEN NULL ELSE now() END, \
                 error = CASE WHEN d.next = 'FAILED' THEN format( \
                     'the worker stopped responding (no heartbeat for over %s s) on attempt %s of %s; giving up', \
                     $1, j.attempt, j.max_attempts) ELSE j.error END \
             FROM decided d WHERE j.id = d.id \
             RETURNING j.id, j.state",
        )
        .bind(lease_timeout.as_secs_f64())
        .bind(dead_node)
        .fetch_all(&self.pool)
        .await?;
        let mut report = RescueReport::default();
        for (id, state) in rows {
            match state.as_str() {
                "QUEUED" => report.requeued.push(id),
                "CANCELLED" => report.cancelled.push(id),
                _ => report.failed.push(id),
            }
        }
        Ok(report)
    }

    /// One job's status.
    pub async fn status(&self, id: Uuid) -> Result<JobStatus, StoreError> {
        let row: Option<JobRow> =
            sqlx::query_as(&format!("SELECT {STATUS_COLUMNS} FROM jobs WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or(StoreError::NotFound(id))?.try_into()
    }

    /// Jobs newest first, filtered by state and kind, one page; with the total matching count.
    pub async fn list(&self, query: &ListQuery) -> Result<(Vec<JobStatus>, i64), StoreError> {
        let state = query.state.map(|s| s.as_str());
        let kind = query.kind.map(|k| k.as_str());
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {STATUS_COLUMNS} FROM jobs \
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(state)
        .bind(kind)
        .bind(query.limit)
        .bind(query.offset)
        .fetch_all(&self.pool)
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM jobs \
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)",
        )
        .bind(state)
        .bind(kind)
        .fetch_one(&self.pool)
        .await?;
        let jobs = rows
            .into_iter()
            .map(JobStatus::try_from)
            .collect::<Result<_, _>>()?;
        Ok((jobs, total))
    }

    /// A job's state and result (`None` until it SUCCEEDED).
    pub async fn result(&self, id: Uuid) -> Result<(JobState, Option<Value>), StoreError> {
        let row: Option<(String, Option<Value>)> =
            sqlx::query_as("SELECT state, result FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let (state, result) = row.ok_or(StoreError::NotFound(id))?;
        let state = JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown state {state:?}")))?;
        Ok((state, result))
    }

    /// A job's arguments as submitted.
    pub async fn args(&self, id: Uuid) -> Result<Value, StoreError> {
        let row: Option<(Value,)> = sqlx::query_as("SELECT args FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.ok_or(StoreError::NotFound(id))?.0)
    }
}

/// Key of the advisory lock that serializes capped enqueues ("runboard" in ASCII).
const ENQUEUE_LOCK_KEY: i64 = 0x7275_6e62_6f61_7264;

/// The INSERT of a new QUEUED job, on any connection or transaction.
async fn insert_job(conn: &mut sqlx::PgConnection, job: &NewJob) -> Result<JobStatus, StoreError> {
    let id = Uuid::new_v4();
    let row: JobRow = sqlx::query_as(&format!(
        "INSERT INTO jobs (id, kind, args, priority, max_attempts, log_path) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {STATUS_COLUMNS}"
    ))
    .bind(id)
    .bind(job.kind.as_str())
    .bind(&job.args)
    .bind(job.priority)
    .bind(job.max_attempts.max(1))
    .bind(log_path_for(id))
    .fetch_one(conn)
    .await?;
    row.try_into()
}

fn guarded(rows: u64, id: Uuid, lease: Uuid) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { id, lease })
    }
}
