//! Per-job run logs: `<runs>/<job id>/artifacts/run.log`, one timestamped line per event, each
//! line also shipped to Postgres (`job_logs`) by the process's [`LogShipper`], so the web
//! process shows the log of a job that ran on another machine ([`merge_tails`]).
//!
//! Paths derive from the job's UUID and the configured runs directory only, never from user
//! text: `JobStore::log_file` (built on `app::model::job::log_path_in`) gives the file, and the
//! job's stored `log_path` names the same file. A log that cannot be written is reported once in
//! the server log and otherwise ignored: logging must not fail a job.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::store::statement;

/// Lines waiting to be shipped, at most; beyond it lines stay in the local file only.
const SHIP_QUEUE: usize = 10_000;
/// Most lines per INSERT.
const SHIP_BATCH: usize = 500;
/// Longest line kept in Postgres (characters); the file keeps it whole.
const MAX_SHIPPED_CHARS: usize = 2_000;

const INSERT_LINES: &str = statement(include_str!("../../queries/jobs/logs_insert.sql"));
/// `logs_tail.sql`: a job's last shipped lines, newest first.
pub(crate) const TAIL_LINES: &str = statement(include_str!("../../queries/jobs/logs_tail.sql"));

/// Ships run-log lines to Postgres from a background task: each line is queued without
/// blocking (a full queue keeps the line in the file only, counted in `dropped`), and the task
/// inserts what has accumulated in one statement, in the order written. A graceful shutdown
/// calls [`flush`](LogShipper::flush) before closing the pool, so the last lines are kept.
#[derive(Clone, Debug)]
pub struct LogShipper {
    tx: mpsc::Sender<Shipped>,
    dropped: Arc<AtomicU64>,
}

/// What the shipping task receives: a line, or a request to answer once every line queued
/// before it is inserted.
#[derive(Debug)]
enum Shipped {
    Line(Uuid, String),
    Flush(oneshot::Sender<()>),
}

impl LogShipper {
    /// Starts the shipping task on the current Tokio runtime; `None` outside one.
    pub fn start(pool: PgPool) -> Option<LogShipper> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (tx, rx) = mpsc::channel(SHIP_QUEUE);
        runtime.spawn(ship(pool, rx));
        Some(LogShipper {
            tx,
            dropped: Arc::default(),
        })
    }

    fn send(&self, job: Uuid, line: &str) {
        let line: String = line.chars().take(MAX_SHIPPED_CHARS).collect();
        if self.tx.try_send(Shipped::Line(job, line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every line queued so far is inserted (or failed to be), at most `limit`;
    /// false if it took longer or the task is gone.
    pub async fn flush(&self, limit: Duration) -> bool {
        let (done, answer) = oneshot::channel();
        let asked =
            async { self.tx.send(Shipped::Flush(done)).await.is_ok() && answer.await.is_ok() };
        tokio::time::timeout(limit, asked).await.unwrap_or(false)
    }

    /// Lines not shipped because the queue was full (they are in the local file).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn ship(pool: PgPool, mut rx: mpsc::Receiver<Shipped>) {
    let mut batch = Vec::with_capacity(SHIP_BATCH);
    let (mut ids, mut lines) = (Vec::new(), Vec::new());
    while rx.recv_many(&mut batch, SHIP_BATCH).await > 0 {
        for item in batch.drain(..) {
            match item {
                Shipped::Line(id, line) => {
                    ids.push(id);
                    lines.push(line);
                }
                Shipped::Flush(done) => {
                    ship_batch(&pool, &mut ids, &mut lines).await;
                    let _ = done.send(());
                }
            }
        }
        ship_batch(&pool, &mut ids, &mut lines).await;
    }
}

/// Inserts `lines` (of jobs `ids`) in one statement, and empties both.
async fn ship_batch(pool: &PgPool, ids: &mut Vec<Uuid>, lines: &mut Vec<String>) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = insert(pool, ids, lines).await {
        // One bad line (its job deleted meanwhile) must not lose the others.
        tracing::debug!(error = %e, "shipping run-log lines failed; trying them one by one");
        for (id, line) in ids.iter().zip(lines.iter()) {
            if let Err(e) = insert(pool, std::slice::from_ref(id), std::slice::from_ref(line)).await
            {
                tracing::warn!(job = %id, error = %e, "a run-log line was not shipped");
            }
        }
    }
    ids.clear();
    lines.clear();
}

async fn insert(pool: &PgPool, ids: &[Uuid], lines: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(INSERT_LINES)
        .bind(ids)
        .bind(lines)
        .execute(pool)
        .await
        .map(|_| ())
}

/// The last `n` lines of a job's log from the local file and from Postgres (lines shipped by
/// every machine that ran it), without duplicates, in time order (each line starts with its
/// RFC 3339 time).
pub fn merge_tails(file: Vec<String>, shipped: Vec<String>, n: usize) -> Vec<String> {
    let mut all: Vec<String> = file;
    let known: std::collections::HashSet<String> = all.iter().cloned().collect();
    all.extend(shipped.into_iter().filter(|l| !known.contains(l)));
    // Stable: lines of the same millisecond keep their order within each source.
    all.sort_by(|a, b| a.get(..24).cmp(&b.get(..24)));
    let skip = all.len().saturating_sub(n.min(MAX_TAIL_LINES));
    all.split_off(skip)
}

/// The most lines a tail request may ask for.
pub const MAX_TAIL_LINES: usize = 1_000;
/// How far back from the end a tail reads at most.
const TAIL_WINDOW_BYTES: u64 = 256 * 1024;

/// An open run log.
#[derive(Debug)]
pub struct JobLog {
    path: PathBuf,
    file: Option<File>,
    /// Where lines are also shipped, for the job they belong to.
    ship: Option<(Uuid, LogShipper)>,
}

impl JobLog {
    /// Opens (creating directories as needed) the log at `path` for appending.
    pub fn open(path: PathBuf) -> JobLog {
        let file = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
        match file {
            Ok(file) => JobLog {
                path,
                file: Some(file),
                ship: None,
            },
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot open the job log");
                JobLog {
                    path,
                    file: None,
                    ship: None,
                }
            }
        }
    }

    /// Also ships every line to Postgres as job `id`'s.
    pub fn shipping(mut self, id: Uuid, shipper: Option<LogShipper>) -> JobLog {
        self.ship = shipper.map(|s| (id, s));
        self
    }

    /// Appends `2026-11-28T21:43:31.123Z  message`.
    pub fn line(&mut self, message: &str) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let line = format!("{now}  {}", message.replace('\n', " ⏎ "));
        if let Some((id, shipper)) = &self.ship {
            shipper.send(*id, &line);
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        if let Err(e) = writeln!(file, "{line}") {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the job log");
            self.file = None;
        }
    }
}

/// The last `n` lines of the log at `path` (empty if it does not exist yet).
pub fn tail(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_WINDOW_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // a partial first line
    }
    let skip = lines.len().saturating_sub(n.min(MAX_TAIL_LINES));
    Ok(lines[skip..].iter().map(|s| s.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_returns_the_last_lines_in_order() {
        let dir = std::env::temp_dir().join(format!("runboard-log-{}", uuid::Uuid::new_v4()));
        let path = dir.join("artifacts/run.log");
        let mut log = JobLog::open(path.clone());
        for i in 1..=5 {
            log.line(&format!("line {i}"));
        }
        let last = tail(&path, 2).unwrap();
        assert_eq!(last.len(), 2);
        assert!(last[0].ends_with("  line 4"), "{last:?}");
        assert!(last[1].ends_with("  line 5"), "{last:?}");
        assert!(tail(&dir.join("missing.log"), 3).unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
