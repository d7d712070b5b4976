//! The job's status as the server stores it and the browser shows it (the seed's `JobStatus`).

use std::collections::BTreeMap;
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
    /// A CSV upload streamed into a new dataset (`POST /api/datasets`); it runs inside its
    /// upload request, never on a worker.
    Import,
    /// A range of a large optimization's runs, run by any worker process on any machine: a
    /// child of its optimize job, which assembles the chunks' metrics (never submitted).
    Chunk,
}

impl JobKind {
    pub const ALL: [JobKind; 7] = [
        JobKind::Backtest,
        JobKind::Optimize,
        JobKind::WalkForward,
        JobKind::Train,
        JobKind::Demo,
        JobKind::Import,
        JobKind::Chunk,
    ];

    /// The name stored in Postgres.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Backtest => "backtest",
            JobKind::Optimize => "optimize",
            JobKind::WalkForward => "walk_forward",
            JobKind::Train => "train",
            JobKind::Demo => "demo",
            JobKind::Import => "import",
            JobKind::Chunk => "chunk",
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
            JobKind::Import => "Import",
            JobKind::Chunk => "Chunk",
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
    /// What the job is about (strategy, dataset, parameters, headline result): filled in by the
    /// jobs list only, `None` (and left out of the JSON) everywhere else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", sqlx(default, json(nullable)))]
    pub context: Option<JobContext>,
}

/// A job's research context for the jobs list, computed by the list query from the request and
/// (for a SUCCEEDED job) a few values of the result: never the whole of either.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobContext {
    /// The strategy's name (`"sma_cross"`), for kinds that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The dataset's name, when the request names a stored dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The dataset id as requested, when no stored dataset has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    /// Fixed parameters by name (backtest: the strategy's; train: `lags`, `epochs`; demo:
    /// `steps`). Values as stored: numbers, normally.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
    /// The grid of an optimization or walk-forward per parameter: a range as
    /// `{"start", "stop", "step"}`, a list as `{"count", "first", "last"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grid: BTreeMap<String, serde_json::Value>,
    /// The headline figures of a SUCCEEDED job (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub best: Vec<Figure>,
}

/// One headline figure: a statistic's name (`"sharpe"`, `"return_pct"`, `"oos_return_pct"`,
/// `"val_accuracy"`, or an optimization's `"best_<metric>"`) and its value (`None` when
/// undefined).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "lenient_number")]
    pub value: Option<f64>,
}

/// A number, or `None` for anything else (null, a string, an object): a context is a display
/// aid, so one odd stored value must not make the whole list unreadable.
fn lenient_number<'de, D>(deserializer: D) -> Result<Option<f64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(value.as_f64().filter(|v| v.is_finite()))
}

/// How to rerun a job and check what it ran on: what `/api/job_repro` returns and the export
/// JSON embeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reproducibility {
    pub id: Uuid,
    pub kind: JobKind,
    pub state: JobState,
    /// The full request as submitted, with its `kind` tag (it can be posted to
    /// `/api/submit_job` as `{"request": …}`).
    pub request: serde_json::Value,
    /// The program that accepted the job: `0.1.0 (abc123def456)`, or the crate version alone
    /// when it was built without git; `None` for jobs from before versions were recorded.
    pub program_version: Option<String>,
    /// The dataset's content hash (sha256 hex of its bars) when the job was queued; `None` for
    /// kinds without a dataset and for jobs from before hashes were recorded.
    pub dataset_hash: Option<String>,
    /// The dataset's name, when it is stored.
    pub dataset_name: Option<String>,
}

/// Fewest jobs a comparison takes.
pub const COMPARE_MIN: usize = 2;
/// Most jobs a comparison takes.
pub const COMPARE_MAX: usize = 4;
/// Most points of each normalized equity curve in a comparison.
pub const COMPARE_MAX_POINTS: usize = 600;

/// Jobs side by side: what `/api/compare_jobs` returns, one column per job in the order asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub columns: Vec<CompareColumn>,
}

/// One job of a [`Comparison`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareColumn {
    pub id: Uuid,
    pub kind: JobKind,
    pub state: JobState,
    /// Strategy, dataset and parameters (or grid), as in the jobs list.
    pub context: JobContext,
    /// An optimization's best parameters (empty for other kinds).
    pub best_params: BTreeMap<String, f64>,
    /// Where the statistics come from ("best run", "stitched out-of-sample", …).
    pub source: String,
    /// The statistics, when the job succeeded and its kind has them.
    pub stats: Option<crate::model::research::Stats>,
    /// The equity curve as `(time, value)`, rescaled to start at 100, thinned to at most
    /// [`COMPARE_MAX_POINTS`] points; empty when there is none.
    pub curve: Vec<(i64, f64)>,
    /// Why something is missing, in words (e.g. "no results: the job is RUNNING").
    pub note: Option<String>,
}

/// Longest `ids` text a comparison accepts (four UUIDs with room for spaces).
pub const COMPARE_IDS_MAX_CHARS: usize = 400;

/// The job ids of a comparison from `"a,b,c"` (spaces around ids and empty items are ignored):
/// 2 to 4 distinct UUIDs, in the order given. The error is a message for the field `ids`.
pub fn parse_compare_ids(raw: &str) -> Result<Vec<Uuid>, String> {
    if raw.len() > COMPARE_IDS_MAX_CHARS {
        return Err(format!(
            "too long ({} characters); give {COMPARE_MIN} to {COMPARE_MAX} job ids separated by commas",
            raw.len()
        ));
    }
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.len() < COMPARE_MIN {
        return Err(format!(
            "pick at least {COMPARE_MIN} jobs to compare (got {})",
            items.len()
        ));
    }
    if items.len() > COMPARE_MAX {
        return Err(format!(
            "at most {COMPARE_MAX} jobs can be compared at once (got {})",
            items.len()
        ));
    }
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = Uuid::parse_str(item).map_err(|_| {
            let shown: String = item.chars().take(40).collect();
            format!("not a valid job id: {shown:?} (expected a UUID)")
        })?;
        if ids.contains(&id) {
            return Err(format!("job {id} is listed twice"));
        }
        ids.push(id);
    }
    Ok(ids)
}

impl JobStatus {
    /// Progress as a whole percentage for display (e.g. 45 for 0.45).
    pub fn percent(&self) -> Option<u32> {
        self.progress.map(progress_percent)
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
mod tests;
