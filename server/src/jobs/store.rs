//! The job store: the only code that writes job rows.
//!
//! Every transition is one guarded SQL statement. Writes from a worker name the run they belong
//! to (`state = 'RUNNING' AND lease = $n`) and check `rows_affected()`, so a worker whose job
//! was rescued, cancelled or finished cannot overwrite the newer state.
//!
//! The statements live in `server/queries/jobs/*.sql`, one per file, each with a header that
//! names its parameters, what it guards and the index it uses; they are compiled in with
//! `include_str!` (no database is needed to build). Rows decode with `sqlx::FromRow` into typed
//! structs: `JobState` and `JobKind` are `sqlx` types stored as `text`, so nothing here parses
//! a state or kind by hand.
//!
//! This file holds the types, enqueue, claim, cancel and rescue; a run's own writes (progress,
//! heartbeat, its end) are in `run`, the reads in `read`, the batched claim and completions in
//! `batch`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::joblog::{JobLog, LogShipper};
use app::model::job::log_path_in;
use app::model::{JobKind, JobState, JobStatus};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The NOTIFY channel on which a newly runnable job is announced. The trigger in the migration
/// `20261128000002_notify_queued_jobs.sql` spells it out too; a test keeps the two equal.
pub const QUEUE_CHANNEL: &str = "runboard_jobs";
/// Default attempts before a crashing or retrying job is failed for good.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;
/// Longest progress message kept (the database refuses longer).
pub const MAX_MESSAGE_CHARS: usize = 500;
/// This program's version as every job records it: the crate version and, when the build knew
/// it, the git commit, e.g. `0.1.0 (abc123def456)` (set by `server/build.rs`).
pub const PROGRAM_VERSION: &str = env!("RUNBOARD_VERSION");
/// The git commit this program was built from (12 hex digits), when the build knew it.
pub const GIT_COMMIT: Option<&str> = option_env!("RUNBOARD_GIT_COMMIT");

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
    /// No longer produced: states and kinds are decoded by `sqlx`, and a stored value outside
    /// them surfaces as [`StoreError::Db`] (a column decode error). Kept so that code matching
    /// on it still compiles.
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
    /// The program accepting it ([`PROGRAM_VERSION`] unless changed).
    pub program_version: Option<String>,
    /// The content hash of the dataset it runs on, for kinds that have one.
    pub dataset_hash: Option<String>,
}

impl NewJob {
    pub fn new(kind: JobKind, args: Value) -> NewJob {
        NewJob {
            kind,
            args,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            program_version: Some(PROGRAM_VERSION.to_string()),
            dataset_hash: None,
        }
    }
}

/// A job a worker has claimed: what it needs to run it (the row `claim.sql` returns).
#[derive(Clone, Debug, sqlx::FromRow)]
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

/// The store's statements, one per file in `server/queries/jobs/`; see each file's header.
mod sql {
    use super::statement;

    pub const ENQUEUE_LOCK: &str = statement(include_str!("../../queries/jobs/enqueue_lock.sql"));
    pub const COUNT_ACTIVE: &str = statement(include_str!("../../queries/jobs/count_active.sql"));
    pub const ENQUEUE: &str = statement(include_str!("../../queries/jobs/enqueue.sql"));
    pub const CLAIM: &str = statement(include_str!("../../queries/jobs/claim.sql"));
    pub const UPDATE_PROGRESS: &str =
        statement(include_str!("../../queries/jobs/update_progress.sql"));
    pub const HEARTBEAT: &str = statement(include_str!("../../queries/jobs/heartbeat.sql"));
    pub const COMPLETE: &str = statement(include_str!("../../queries/jobs/complete.sql"));
    pub const FAIL: &str = statement(include_str!("../../queries/jobs/fail.sql"));
    pub const FINISH_CANCELLED: &str =
        statement(include_str!("../../queries/jobs/finish_cancelled.sql"));
    pub const RELEASE: &str = statement(include_str!("../../queries/jobs/release.sql"));
    pub const REQUEST_CANCEL: &str =
        statement(include_str!("../../queries/jobs/request_cancel.sql"));
    pub const RESCUE_STUCK: &str = statement(include_str!("../../queries/jobs/rescue_stuck.sql"));
    pub const STATUS: &str = statement(include_str!("../../queries/jobs/status.sql"));
    pub const LIST: &str = statement(include_str!("../../queries/jobs/list.sql"));
    pub const COUNT: &str = statement(include_str!("../../queries/jobs/count.sql"));
    pub const RESULT: &str = statement(include_str!("../../queries/jobs/result.sql"));
    pub const ARGS: &str = statement(include_str!("../../queries/jobs/args.sql"));
    pub const REPRO: &str = statement(include_str!("../../queries/jobs/repro.sql"));
    pub const START_INLINE: &str = statement(include_str!("../../queries/jobs/start_inline.sql"));
}

/// The folders of `server/queries/` (one a store: `jobs`, `strategies`, …), by name.
#[cfg(test)]
pub(crate) fn sql_dirs() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{root:?}: {e}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// Every query file of `queries/<dir>`, as (name, text), by name; at least one.
#[cfg(test)]
pub(crate) fn sql_files(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries")
        .join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .map(|entry| {
            let path = entry.unwrap().path();
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("sql"),
                "{path:?}"
            );
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{dir:?} holds no .sql file");
    files
}

/// Checks the header of query file `name` (for the tests of each store's files): it starts
/// `-- {name}: {owner}`, names the index it uses and what it guards, documents every `$n` (or
/// says "No parameters."), and the statement sent holds no comment.
#[cfg(test)]
pub(crate) fn check_sql_header(name: &str, file: &str, owner: &str) {
    let body = statement(file);
    let header = &file[..file.len() - body.len()];
    assert!(
        header.starts_with(&format!("-- {name}: {owner}")),
        "{name}.sql: {header}"
    );
    assert!(header.contains("\n-- Index: "), "{name}.sql names no index");
    assert!(
        header.contains("\n-- Guards: "),
        "{name}.sql says nothing it guards"
    );
    assert!(
        !body.starts_with("--") && !body.contains("\n--"),
        "{name}.sql: {body}"
    );
    match (1..=20).filter(|n| body.contains(&format!("${n}"))).max() {
        None => assert!(header.contains("No parameters."), "{name}.sql"),
        Some(last) => {
            for n in 1..=last {
                // `-- $n = …`, spaces before the `=` allowed (aligned columns).
                let documented = header.lines().any(|line| {
                    line.strip_prefix(&format!("-- ${n}"))
                        .is_some_and(|rest| rest.trim_start().starts_with("= "))
                });
                assert!(documented, "{name}.sql does not document ${n}");
            }
        }
    }
}

/// The statement of a `.sql` file without its header: the leading `--` comment lines (and blank
/// lines) document the statement for readers; Postgres receives, and `pg_stat_activity` shows,
/// the statement itself (e.g. the claim as `WITH next AS (…`). Evaluated at compile time; a file
/// with no statement fails the build.
pub(crate) const fn statement(file: &str) -> &str {
    let bytes = file.as_bytes();
    let mut line = 0;
    loop {
        let mut i = line;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'\n' {
            line = i + 1;
        } else if i + 1 < bytes.len() && bytes[i] == b'-' && bytes[i + 1] == b'-' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            line = i + 1;
        } else if i < bytes.len() {
            break;
        } else {
            panic!("a .sql file holds no statement");
        }
    }
    match std::str::from_utf8(bytes.split_at(line).1) {
        Ok(body) => body,
        Err(_) => panic!("a .sql file is not UTF-8"),
    }
}

/// What `rescue_stuck.sql` returns for each rescued job.
#[derive(sqlx::FromRow)]
struct RescuedRow {
    id: Uuid,
    state: JobState,
}

/// Postgres-backed job store.
#[derive(Clone, Debug)]
pub struct JobStore {
    pool: PgPool,
    runs_dir: PathBuf,
    /// Ships run-log lines to Postgres (none outside a Tokio runtime).
    shipper: Option<LogShipper>,
}

impl JobStore {
    pub fn new(pool: PgPool, runs_dir: impl Into<PathBuf>) -> JobStore {
        JobStore {
            shipper: LogShipper::start(pool.clone()),
            pool,
            runs_dir: runs_dir.into(),
        }
    }

    /// Job `id`'s run log: the local file, its lines also shipped to Postgres.
    pub fn log(&self, id: Uuid) -> JobLog {
        JobLog::open(self.log_file(id)).shipping(id, self.shipper.clone())
    }

    /// Waits (at most `limit`) until the run-log lines written so far are in Postgres: a
    /// graceful shutdown calls it after the workers stop and before the pool closes.
    pub async fn flush_logs(&self, limit: Duration) -> bool {
        match &self.shipper {
            Some(shipper) => shipper.flush(limit).await,
            None => true,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The directory under which each job's `artifacts/run.log` lives.
    pub fn runs_dir(&self) -> &Path {
        &self.runs_dir
    }

    /// The file a job's log is written to: `<runs_dir>/<id>/artifacts/run.log` (derived from the
    /// UUID and the configured directory only). It is also what a job's `log_path` says.
    pub fn log_file(&self, id: Uuid) -> PathBuf {
        log_path_in(&self.runs_dir, id)
    }

    /// Adds a job in QUEUED; the insert trigger wakes a worker. No cap: for internal callers
    /// (tests, benches); the API uses [`Self::enqueue_capped`].
    pub async fn enqueue(&self, job: NewJob) -> Result<JobStatus, StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.insert_job(&mut conn, &job).await
    }

    /// Adds a job unless `limit` jobs are already QUEUED or RUNNING ([`StoreError::QueueFull`]).
    ///
    /// Exact under concurrency: the count and the insert run in one transaction holding a
    /// transaction-scoped advisory lock, so two submitters cannot both take the last place.
    pub async fn enqueue_capped(&self, job: NewJob, limit: u64) -> Result<JobStatus, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql::ENQUEUE_LOCK)
            .bind(ENQUEUE_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        let active: i64 = sqlx::query_scalar(sql::COUNT_ACTIVE)
            .fetch_one(&mut *tx)
            .await?;
        if active >= i64::try_from(limit).unwrap_or(i64::MAX) {
            return Err(StoreError::QueueFull { active, limit });
        }
        let status = self.insert_job(&mut tx, &job).await?;
        tx.commit().await?;
        Ok(status)
    }

    /// The INSERT of a new QUEUED job, on any connection or transaction. Its `log_path` is
    /// [`Self::log_file`] (a runs directory that is not UTF-8 is stored lossily).
    async fn insert_job(
        &self,
        conn: &mut sqlx::PgConnection,
        job: &NewJob,
    ) -> Result<JobStatus, StoreError> {
        let id = Uuid::new_v4();
        let log_path = self.log_file(id);
        let status = sqlx::query_as(sql::ENQUEUE)
            .bind(id)
            .bind(job.kind)
            .bind(&job.args)
            .bind(job.priority)
            .bind(job.max_attempts.max(1))
            .bind(log_path.to_string_lossy())
            .bind(job.program_version.as_deref())
            .bind(job.dataset_hash.as_deref())
            .fetch_one(conn)
            .await?;
        Ok(status)
    }

    /// Adds a job that the calling process runs itself (an import inside its upload): RUNNING
    /// at once under a fresh lease, attempt 1 of 1, never queued. Returns its status and the
    /// lease for the run's guarded writes ([`Self::update_progress`], [`Self::complete`], …).
    pub async fn start_inline(
        &self,
        job: &NewJob,
        worker_id: &str,
        node_id: &str,
    ) -> Result<(JobStatus, Uuid), StoreError> {
        let id = Uuid::new_v4();
        let lease = Uuid::new_v4();
        let status = sqlx::query_as(sql::START_INLINE)
            .bind(id)
            .bind(job.kind)
            .bind(&job.args)
            .bind(self.log_file(id).to_string_lossy())
            .bind(job.program_version.as_deref())
            .bind(lease)
            .bind(worker_id)
            .bind(node_id)
            .fetch_one(&self.pool)
            .await?;
        Ok((status, lease))
    }

    /// Claims the next runnable job (highest priority, then oldest) for `worker_id`.
    ///
    /// `FOR NO KEY UPDATE SKIP LOCKED` in a CTE: concurrent claimers never get the same row, and the
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
        let job = sqlx::query_as(sql::CLAIM)
            .bind(worker_id)
            .bind(node_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(job)
    }

    /// Cancels a job: QUEUED → CANCELLED at once; RUNNING → flagged, and the handler stops at
    /// its next progress report. Returns the status after the request.
    ///
    /// Cancelling a job that is already CANCELLED is a no-op; one that SUCCEEDED or FAILED is
    /// refused with [`StoreError::Finished`].
    pub async fn request_cancel(&self, id: Uuid) -> Result<JobStatus, StoreError> {
        let row: Option<JobStatus> = sqlx::query_as(sql::REQUEST_CANCEL)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(status) => Ok(status),
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
        let rows: Vec<RescuedRow> = sqlx::query_as(sql::RESCUE_STUCK)
            .bind(lease_timeout.as_secs_f64())
            .bind(dead_node)
            .fetch_all(&self.pool)
            .await?;
        let mut report = RescueReport::default();
        for RescuedRow { id, state } in rows {
            match state {
                JobState::Queued => report.requeued.push(id),
                JobState::Cancelled => report.cancelled.push(id),
                _ => report.failed.push(id),
            }
        }
        Ok(report)
    }
}

/// Key of the advisory lock that serializes capped enqueues ("runboard" in ASCII).
const ENQUEUE_LOCK_KEY: i64 = 0x7275_6e62_6f61_7264;

fn guarded(rows: u64, id: Uuid, lease: Uuid) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Stale { id, lease })
    }
}

mod batch;
mod read;
mod run;
pub use batch::PulseWrite;
pub use read::ReproRow;

#[cfg(test)]
mod tests;
