//! The job's status as the server stores it and the browser shows it (the seed's `JobStatus`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a job is in its life.
///
/// Who moves a job into and out of each state:
/// - `Queued`: `enqueue` creates it here; the rescuer moves a crashed or stuck `Running` job back
///   here for another attempt (and a retryable failure waits here for its back-off).
///   Leaves by `claim` (a worker) or `request_cancel` (→ `Cancelled`).
/// - `Running`: entered by `claim`, which hands out a fresh lease. Progress is metadata inside
///   this state and never changes it. Leaves by `complete`, `fail`, `cancel` (the handler saw a
///   cancel request) or `rescue_stuck`.
/// - `Succeeded`, `Failed`, `Cancelled`: terminal; `finished_at` is set exactly here.
///
/// On the server (feature `ssr`) it is a `sqlx` type stored as `text` under its
/// [`as_str`](Self::as_str) name (`'QUEUED'`, …), so rows decode to it directly; an unknown
/// stored name is a decode error, not a silent default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(
    feature = "ssr",
    sqlx(type_name = "text", rename_all = "SCREAMING_SNAKE_CASE")
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The name stored in Postgres and shown on the badge.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "QUEUED",
            JobState::Running => "RUNNING",
            JobState::Succeeded => "SUCCEEDED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
        }
    }

    /// Parses a stored or user-given name (case-insensitive).
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// No transition leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    /// A live job may still change, so the browser keeps polling it.
    pub fn is_live(self) -> bool {
        !self.is_terminal()
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job does; each kind has one handler on the server.
///
/// On the server (feature `ssr`) it is a `sqlx` type stored as `text` under its
/// [`as_str`](Self::as_str) name (`'backtest'`, `'walk_forward'`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Backtest,
    Optimize,
    WalkForward,
    Train,
    /// A handler that only sleeps and reports progress: for tests and demos of the queue itself.
    Demo,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::Backtest,
        JobKind::Optimize,
        JobKind::WalkForward,
        JobKind::Train,
        JobKind::Demo,
    ];

    /// The name stored in Postgres.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backtest => "backtest",
            JobKind::Optimize => "optimize",
            JobKind::WalkForward => "walk_forward",
            JobKind::Train => "train",
            JobKind::Demo => "demo",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// A human label for tables and headings.
    pub fn label(self) -> &'static str {
        match self {
            JobKind::Backtest => "Backtest",
            JobKind::Optimize => "Optimization",
            JobKind::WalkForward => "Walk-forward",
            JobKind::Train => "Training",
            JobKind::Demo => "Demo",
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of one job: what `/api/job_status` returns and the progress panel renders.
///
/// On the server (feature `ssr`) a row of `jobs` decodes to it by column name; the store's
/// status queries select exactly these columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct JobStatus {
    pub id: Uuid,
    pub kind: JobKind,
    pub state: JobState,
    /// Fraction done, 0.0..=1.0; `None` until the handler first reports.
    pub progress: Option<f64>,
    /// The handler's words for where it is, e.g. "Run 45/100".
    pub progress_message: Option<String>,
    /// Seconds left at the current rate; `None` until there is enough signal.
    pub eta_seconds: Option<f64>,
    /// Units of work per second (runs, folds, epochs, bars), smoothed.
    pub rate_per_second: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Last sign of life from the worker running it.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Why it failed (user-safe text), or the last retryable error.
    pub error: Option<String>,
    /// 1 for the first run, counting rescues and retries.
    pub attempt: i32,
    pub max_attempts: i32,
    /// A cancel was asked for; a running handler stops at its next progress report.
    pub cancel_requested: bool,
    /// Where the server writes the run log: `<runs dir>/<id>/artifacts/run.log`, the runs
    /// directory as configured (`RUNBOARD_RUNS_DIR`, default `runs`, so e.g.
    /// `runs/<id>/artifacts/run.log`; a relative directory stays relative).
    pub log_path: String,
}

impl JobStatus {
    /// Progress as a whole percentage for display (e.g. 45 for 0.45).
    pub fn percent(&self) -> Option<u32> {
        self.progress.map(progress_percent)
    }

    /// Wall time from start to finish (or to now, given `now`, while running).
    pub fn duration_seconds(&self, now: DateTime<Utc>) -> Option<f64> {
        let start = self.started_at?;
        let end = self.finished_at.unwrap_or(now);
        Some((end - start).num_milliseconds().max(0) as f64 / 1000.0)
    }
}

/// Converts a fraction to a whole percentage, rounded down so "100 %" means done.
pub fn progress_percent(progress: f64) -> u32 {
    (progress.clamp(0.0, 1.0) * 100.0).floor() as u32
}

/// The runs directory when none is configured (`RUNBOARD_RUNS_DIR`).
pub const DEFAULT_RUNS_DIR: &str = "runs";

/// A job's run log under the runs directory `runs_dir`: `<runs_dir>/<id>/artifacts/run.log`.
/// Derived from the id and the configured directory alone, so no user text reaches a path;
/// a relative `runs_dir` gives a relative path.
pub fn log_path_in(runs_dir: &Path, id: Uuid) -> PathBuf {
    runs_dir
        .join(id.to_string())
        .join("artifacts")
        .join("run.log")
}

/// The run log's path under the default runs directory ([`DEFAULT_RUNS_DIR`]), as text.
pub fn log_path_for(id: Uuid) -> String {
    log_path_in(Path::new(DEFAULT_RUNS_DIR), id)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_round_trip_through_parse_and_serde() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert_eq!(JobState::parse("running"), Some(JobState::Running));
        assert_eq!(JobState::parse("DONE"), None);
    }

    #[test]
    fn only_succeeded_failed_cancelled_are_terminal() {
        let terminal: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            vec![JobState::Succeeded, JobState::Failed, JobState::Cancelled]
        );
    }

    #[test]
    fn percent_rounds_down_and_clamps() {
        assert_eq!(progress_percent(0.455), 45);
        assert_eq!(progress_percent(0.999), 99);
        assert_eq!(progress_percent(1.0), 100);
        assert_eq!(progress_percent(1.5), 100);
        assert_eq!(progress_percent(-0.1), 0);
    }

    #[test]
    fn log_path_derives_from_the_uuid_only() {
        let id = Uuid::nil();
        assert_eq!(
            log_path_for(id),
            "runs/00000000-0000-0000-0000-000000000000/artifacts/run.log"
        );
    }

    #[test]
    fn log_path_follows_the_configured_runs_dir() {
        let id = Uuid::nil();
        assert_eq!(
            log_path_in(Path::new("/srv/runboard/runs"), id),
            Path::new("/srv/runboard/runs/00000000-0000-0000-0000-000000000000/artifacts/run.log")
        );
        assert_eq!(
            log_path_in(Path::new("data/runs/"), id),
            Path::new("data/runs/00000000-0000-0000-0000-000000000000/artifacts/run.log"),
            "a relative directory stays relative"
        );
        assert_eq!(
            log_path_in(Path::new(DEFAULT_RUNS_DIR), id).to_str(),
            Some(log_path_for(id).as_str())
        );
    }
}
