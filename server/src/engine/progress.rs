//! The progress sink the engine reports to: the one seam between pure compute and the job
//! system, which persists progress and checkpoints and decides when a job must stop.
//!
//! The engine reports every natural unit of its work (each run of a sweep, each epoch, each
//! block of [`BARS_PER_REPORT`](super::backtest::BARS_PER_REPORT) bars) and never decides how
//! often progress is worth showing: the sink does (the job system's throttle, in
//! `jobs/progress.rs`). So a report must be cheap when the sink ignores it: the message is
//! passed unformatted (`format_args!`) and only formatted if the sink keeps the report.

use std::fmt;

/// What the engine should do after a progress report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Stop promptly (cancellation, shutdown, lost lease); the entry point returns
    /// `EngineError::Stopped`.
    Stop,
}

/// Receives progress and checkpoints from a running engine job.
///
/// `Sync`: a parallel sweep reports each run from the thread that finished it, so reports may
/// arrive concurrently and slightly out of order (`done` still counts finished units exactly).
pub trait ProgressSink: Sync {
    /// `done`/`total` in the job's units; `message` ("Run 197/19701") is formatted only if the
    /// sink keeps this report. Called once per unit of work: keep the ignoring path to a few
    /// nanoseconds (no allocation, no lock).
    fn report(&self, done: u64, total: u64, message: fmt::Arguments<'_>) -> Flow;

    /// Offers a checkpoint to persist (handed over: the sink keeps it without a copy); a later
    /// run given it resumes where this one was and produces the same result. The sink decides
    /// whether to store it.
    fn checkpoint(&self, _checkpoint: serde_json::Value) {}

    /// A new step of the job starts (e.g. "Robustness i/N" after "Run i/N"): its reports count
    /// from 0 again, in their own units, and the sink starts a fresh rate and ETA for them.
    fn begin_phase(&self) {}
}

/// A sink that ignores everything and never stops (benchmarks, tests, one-off calls).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&self, _done: u64, _total: u64, _message: fmt::Arguments<'_>) -> Flow {
        Flow::Continue
    }
}

/// Reports `done/total` through `sink`, turning `Flow::Stop` into `EngineError::Stopped`.
pub(crate) fn report(
    sink: &dyn ProgressSink,
    done: u64,
    total: u64,
    message: fmt::Arguments<'_>,
) -> Result<(), super::EngineError> {
    match sink.report(done, total, message) {
        Flow::Continue => Ok(()),
        Flow::Stop => Err(super::EngineError::Stopped),
    }
}

/// A sink that records everything, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    reports: std::sync::Mutex<Vec<(u64, u64, String)>>,
    checkpoints: std::sync::Mutex<Vec<serde_json::Value>>,
    phases: std::sync::Mutex<usize>,
    /// Return `Stop` from this (1-based) report of the main work (not counting the "Robustness"
    /// steps) on, as the job system does once a stop is requested.
    pub stop_at: Option<usize>,
    /// Return `Stop` from this (1-based) "Robustness" report on.
    pub stop_in_robustness_at: Option<usize>,
}

#[cfg(test)]
impl Recorder {
    /// A recorder that says stop from its `n`-th "Robustness" report on.
    pub fn stopping_in_robustness_at(n: usize) -> Recorder {
        Recorder {
            stop_in_robustness_at: Some(n),
            ..Recorder::default()
        }
    }

    /// A recorder that says stop from its `n`-th report on.
    pub fn stopping_at(n: usize) -> Recorder {
        Recorder {
            stop_at: Some(n),
            ..Recorder::default()
        }
    }

    /// Every report of the main work (all but the "Robustness …" steps), ordered by `done`
    /// (arrival order is not meaningful when a parallel sweep reports from several threads).
    pub fn reports(&self) -> Vec<(u64, u64, String)> {
        let mut reports: Vec<_> = self
            .reports
            .lock()
            .unwrap()
            .iter()
            .filter(|r| !r.2.starts_with("Robustness"))
            .cloned()
            .collect();
        reports.sort_by_key(|r| r.0);
        reports
    }

    /// The "Robustness …" reports, in arrival order.
    pub fn robustness_reports(&self) -> Vec<(u64, u64, String)> {
        let reports = self.reports.lock().unwrap();
        reports
            .iter()
            .filter(|r| r.2.starts_with("Robustness"))
            .cloned()
            .collect()
    }

    /// How many phases were begun.
    pub fn phases(&self) -> usize {
        *self.phases.lock().unwrap()
    }

    /// Every checkpoint offered, in order.
    pub fn checkpoints(&self) -> Vec<serde_json::Value> {
        self.checkpoints.lock().unwrap().clone()
    }
}

#[cfg(test)]
impl ProgressSink for Recorder {
    fn report(&self, done: u64, total: u64, message: fmt::Arguments<'_>) -> Flow {
        let mut reports = self.reports.lock().unwrap();
        reports.push((done, total, message.to_string()));
        // `stop_at` counts the main work's reports; a stop asked for there also stops the
        // robustness steps after it.
        let main = reports
            .iter()
            .filter(|r| !r.2.starts_with("Robustness"))
            .count();
        let robust = reports.len() - main;
        match (self.stop_at, self.stop_in_robustness_at) {
            (Some(n), _) if main >= n => Flow::Stop,
            (_, Some(n)) if robust >= n => Flow::Stop,
            _ => Flow::Continue,
        }
    }
    fn checkpoint(&self, checkpoint: serde_json::Value) {
        self.checkpoints.lock().unwrap().push(checkpoint);
    }
    fn begin_phase(&self) {
        *self.phases.lock().unwrap() += 1;
    }
}
