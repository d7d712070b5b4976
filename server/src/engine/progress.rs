//! The progress sink the engine reports to: the one seam between pure compute and the job
//! system, which persists progress and checkpoints and decides when a job must stop.

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
pub trait ProgressSink {
    /// `done`/`total` in the job's units; `message` is already formatted ("Run 197/19701").
    /// Called at most ~100 times per job, so formatting cost is fine.
    fn report(&mut self, done: u64, total: u64, message: &str) -> Flow;

    /// Offers a checkpoint to persist; a later run given it resumes where this one was and
    /// produces the same result. The sink decides whether to store it.
    fn checkpoint(&mut self, _checkpoint: &serde_json::Value) {}
}

/// A sink that ignores everything and never stops (benchmarks, tests, one-off calls).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn report(&mut self, _done: u64, _total: u64, _message: &str) -> Flow {
        Flow::Continue
    }
}

/// Reports `done/total` through `sink`, turning `Flow::Stop` into `EngineError::Stopped`.
pub(crate) fn report(
    sink: &mut dyn ProgressSink,
    done: u64,
    total: u64,
    message: &str,
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
    pub reports: Vec<(u64, u64, String)>,
    pub checkpoints: Vec<serde_json::Value>,
    /// Return `Stop` on this (1-based) report.
    pub stop_at: Option<usize>,
}

#[cfg(test)]
impl ProgressSink for Recorder {
    fn report(&mut self, done: u64, total: u64, message: &str) -> Flow {
        self.reports.push((done, total, message.to_string()));
        if Some(self.reports.len()) == self.stop_at {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
    fn checkpoint(&mut self, checkpoint: &serde_json::Value) {
        self.checkpoints.push(checkpoint.clone());
    }
}
