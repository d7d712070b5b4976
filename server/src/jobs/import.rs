//! A CSV upload streamed into a new dataset, run as a job of kind `import` inside its upload
//! request (issue 9): the job row exists from the first byte, so the Active Job panel, `watch`
//! and `/jobs` show it live ("Row 450,000 · 24.1 MB read"), and it ends SUCCEEDED with the
//! dataset's info or FAILED with the first problem, its line and column.
//!
//! The body is parsed as it arrives ([`parse_csv_reader`] on the blocking pool, reading from
//! the upload through an optional gzip decoder); only the parsed columns are held, at most
//! `max_bars` rows. Nothing is stored unless the whole file is valid: the dataset is inserted in
//! one statement at the end. The job is RUNNING under this process's lease with one attempt, so
//! if the process dies the rescuer ends it FAILED (nobody else has the upload to read).

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::api::backend::{BackendError, ImportUpload};
use app::components::results::format::fmt_thousands;
use app::model::{ImportResult, JobKind, JobStatus};
use serde_json::json;

use super::backend::internal;
use super::store::{JobStore, NewJob, ProgressUpdate, StoreError};
use crate::datasets::{DatasetError, DatasetStore};
use crate::engine::data::parse_csv_reader;

/// How often the import's progress is written while it runs.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Longest dataset name.
pub const MAX_NAME_CHARS: usize = 100;

/// What an import needs from the server.
pub struct Importer<'a> {
    pub store: &'a JobStore,
    pub datasets: &'a DatasetStore,
    /// Most rows a dataset may have.
    pub max_bars: usize,
    /// Most decompressed bytes a gzip upload may expand to.
    pub max_text_bytes: u64,
    /// `<instance>:import`, recorded as the job's worker.
    pub worker_id: String,
    pub node_id: String,
}

/// Checks a dataset name: 1..=100 characters after trimming, no control characters.
pub fn check_name(name: &str) -> Result<String, BackendError> {
    let name = name.trim();
    let invalid = |m: &str| BackendError::invalid("name", m);
    if name.is_empty() {
        return Err(invalid("give the dataset a name (?name=…)"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid("at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("no control characters"));
    }
    Ok(name.to_string())
}

/// A reader that stops a gzip bomb: an error once more than `limit` bytes came out.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the decompressed file is larger than the limit of {} bytes",
                self.limit
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A gzip stream's errors in words ("not gzip data" for a body that is not gzip).
struct GzipWords<R>(R);

impl<R: Read> Read for GzipWords<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let text = e.to_string();
            if text.contains("invalid gzip header") {
                std::io::Error::other(
                    "content-encoding gzip: the body is not gzip data (invalid gzip header)",
                )
            } else if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof) {
                std::io::Error::other("content-encoding gzip: the compressed data ends early")
            } else {
                e
            }
        })
    }
}

/// "Row 450,000 · 24.1 MB read".
fn message(rows: u64, bytes: u64) -> String {
    let rows = fmt_thousands(rows as f64, 0);
    format!("Row {rows} · {:.1} MB read", bytes as f64 / 1e6)
}

impl Importer<'_> {
    /// Runs one upload as an `import` job and returns the job's final status (SUCCEEDED), or
    /// the reason it was refused (the job, if one was started, ends FAILED with it).
    pub async fn run(&self, upload: ImportUpload) -> Result<JobStatus, BackendError> {
        let started = Instant::now();
        let name = check_name(&upload.name)?;
        if self
            .datasets
            .name_taken(&name)
            .await
            .map_err(|e| internal(&e))?
        {
            return Err(name_taken(&name));
        }
        let job = NewJob {
            max_attempts: 1,
            ..NewJob::new(
                JobKind::Import,
                json!({"name": name, "gzip": upload.gzip, "size_hint": upload.size_hint}),
            )
        };
        let (status, lease) = self
            .store
            .start_inline(&job, &self.worker_id, &self.node_id)
            .await
            .map_err(|e| internal(&e))?;
        let id = status.id;
        let mut log = self.store.log(id);
        log.line(&format!("import of {name:?} started"));

        // Parse on the blocking pool while this task writes progress.
        let rows = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (max_bars, limit) = (self.max_bars, self.max_text_bytes);
        let gzip = upload.gzip;
        let parse = {
            let (rows, stop) = (rows.clone(), stop.clone());
            let body = upload.body;
            tokio::task::spawn_blocking(move || {
                let mut progress = |n: usize| {
                    rows.store(n as u64, Ordering::Relaxed);
                    !stop.load(Ordering::Relaxed)
                };
                if gzip {
                    let text = Bounded {
                        inner: GzipWords(flate2::read::MultiGzDecoder::new(body)),
                        left: limit,
                        limit,
                    };
                    parse_csv_reader(text, max_bars, &mut progress)
                } else {
                    parse_csv_reader(body, max_bars, &mut progress)
                }
            })
        };
        tokio::pin!(parse);
        let parsed = loop {
            tokio::select! {
                done = &mut parse => break done,
                _ = tokio::time::sleep(PROGRESS_EVERY) => {
                    let (r, b) = (rows.load(Ordering::Relaxed), upload.bytes.load(Ordering::Relaxed));
                    let update = progress_update(r, b, upload.size_hint, started.elapsed());
                    match self.store.update_progress(id, lease, &update).await {
                        Ok(ack) if ack.cancel_requested => stop.store(true, Ordering::Relaxed),
                        Ok(_) => {}
                        // Rescued (the lease was lost): stop reading.
                        Err(StoreError::Stale { .. }) => stop.store(true, Ordering::Relaxed),
                        Err(e) => tracing::warn!(%id, "import progress not saved: {e}"),
                    }
                }
            }
        };
        let bytes = upload.bytes.load(Ordering::Relaxed);
        let parsed = parsed.map_err(|e| internal(&e))?;
        let series = match parsed {
            Ok(series) => series,
            Err(errors) => {
                if stop.load(Ordering::Relaxed) {
                    // Cancelled (or rescued) while it ran: end CANCELLED, keep the progress.
                    let _ = self.store.finish_cancelled(id, lease).await;
                    log.line("import cancelled; nothing stored");
                    return Err(BackendError::Conflict(format!(
                        "import {id} was cancelled; nothing was stored"
                    )));
                }
                let issues = errors;
                let first = issues.first().map(ToString::to_string).unwrap_or_default();
                let more = issues.len().saturating_sub(1);
                let error = if more > 0 {
                    format!("{first} (and {more} more problems); nothing was stored")
                } else {
                    format!("{first}; nothing was stored")
                };
                log.line(&error);
                let _ = self.store.fail(id, lease, &error, None).await;
                return Err(BackendError::InvalidCsv(issues));
            }
        };
        let n_rows = series.len() as u64;
        let info = match self.datasets.insert(&name, None, &series).await {
            Ok(info) => info,
            Err(e) => {
                let refused = match e {
                    DatasetError::NameTaken(n) => name_taken(&n),
                    DatasetError::TooShort => {
                        BackendError::invalid("csv", "a dataset needs at least 2 bars")
                    }
                    other => internal(&other),
                };
                let _ = self.store.fail(id, lease, &refused.to_string(), None).await;
                return Err(refused);
            }
        };
        let result = ImportResult {
            dataset: info,
            bytes,
            seconds: started.elapsed().as_secs_f64(),
        };
        let last = progress_update(n_rows, bytes, Some(bytes), started.elapsed());
        let _ = self
            .store
            .update_progress(
                id,
                lease,
                &ProgressUpdate {
                    progress: 1.0,
                    ..last
                },
            )
            .await;
        let value = serde_json::to_value(&result).map_err(|e| internal(&e))?;
        self.store
            .complete(id, lease, &value)
            .await
            .map_err(|e| internal(&e))?;
        log.line(&format!(
            "imported {n_rows} rows ({bytes} bytes) in {:.2} s as dataset {}",
            result.seconds, result.dataset.id
        ));
        self.store.status(id).await.map_err(|e| internal(&e))
    }
}

fn name_taken(name: &str) -> BackendError {
    BackendError::Conflict(format!(
        "a dataset named {name:?} already exists; choose another name"
    ))
}

/// The progress of an import: the share of the bytes read (when the size is known), "Row N ·
/// M MB read", and the ETA at the mean byte rate so far.
fn progress_update(rows: u64, bytes: u64, size: Option<u64>, elapsed: Duration) -> ProgressUpdate {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let share = size
        .filter(|s| *s > 0)
        .map(|s| (bytes as f64 / s as f64).clamp(0.0, 0.99));
    let eta = size.and_then(|s| {
        let rate = bytes as f64 / secs;
        (rate > 0.0 && s > bytes).then(|| (s - bytes) as f64 / rate)
    });
    ProgressUpdate {
        progress: share.unwrap_or(0.0),
        message: Some(message(rows, bytes)),
        eta_seconds: eta,
        rate_per_second: Some(rows as f64 / secs),
        checkpoint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  SPY 1m ").unwrap(), "SPY 1m");
        for bad in ["", "   ", "a\u{7}b"] {
            assert!(
                matches!(check_name(bad), Err(BackendError::Invalid { .. })),
                "{bad:?}"
            );
        }
        assert!(check_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn progress_reads_rows_and_megabytes() {
        assert_eq!(message(450_000, 24_100_000), "Row 450,000 · 24.1 MB read");
        assert_eq!(message(999, 0), "Row 999 · 0.0 MB read");
        let u = progress_update(1_000, 50, Some(100), Duration::from_secs(2));
        assert_eq!(u.progress, 0.5);
        assert_eq!(u.eta_seconds, Some(2.0));
        assert_eq!(u.rate_per_second, Some(500.0));
        let u = progress_update(10, 50, None, Duration::from_secs(1));
        assert_eq!((u.progress, u.eta_seconds), (0.0, None));
    }

    #[test]
    fn a_gzip_bomb_is_stopped_at_the_limit() {
        let mut r = Bounded {
            inner: std::io::repeat(b'a'),
            left: 10,
            limit: 10,
        };
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        let e = r.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("limit of 10 bytes"));
    }
}
