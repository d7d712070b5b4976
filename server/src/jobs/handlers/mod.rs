//! Job handlers, one per [`JobKind`], each in its own file and registered once in
//! [`Registry::standard`]. A handler says what failure means: [`HandlerError`]. What the
//! research handlers share (loading the dataset, running the engine, resuming from a checkpoint,
//! provenance) is in [`research`]; how often a kind's progress is written is not a handler's
//! business (see `jobs::progress::max_updates`).

pub mod backtest;
pub mod chunk;
pub mod demo;
pub mod import;
pub mod optimize;
pub mod research;
pub mod train;
pub mod walk_forward;

use std::sync::Arc;

use app::model::JobKind;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::progress::Reporter;
use super::store::{ClaimedJob, JobStore};
use crate::datasets::DatasetStore;
use crate::jobs::chunks::FanOut;

/// How a handler run ended, if not with a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HandlerError {
    /// Worth another attempt (after a back-off), e.g. a resource briefly unavailable.
    #[error("{0}")]
    Retryable(String),
    /// Retrying cannot help (bad input, a bug): fail now, keep the message.
    #[error("{0}")]
    Terminal(String),
    /// The reporter said stop (cancel, shutdown or a lost lease); the worker decides the state.
    #[error("stopped")]
    Stopped,
}

/// What a handler gets besides its job.
#[derive(Clone)]
pub struct HandlerDeps {
    pub store: JobStore,
    pub datasets: DatasetStore,
    pub max_grid: usize,
    /// When optimizations are split into chunks for other processes (`jobs::chunks`).
    pub fanout: FanOut,
    /// The running worker's node name and process instance (set by `Worker::new`), for the
    /// chunks a fanned-out parent claims itself.
    pub node_id: String,
    pub instance_id: String,
}

impl HandlerDeps {
    /// The dependencies of the standard handlers over `store`, with the default fan-out.
    pub fn new(store: &JobStore, max_grid: usize) -> HandlerDeps {
        HandlerDeps {
            store: store.clone(),
            datasets: DatasetStore::new(store.pool().clone()),
            max_grid,
            fanout: FanOut::default(),
            node_id: String::new(),
            instance_id: String::new(),
        }
    }
}

/// What a handler returns: the job's result, or why it has none.
pub type Handled = Result<Value, HandlerError>;

/// Runs one kind of job.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Runs the job, resuming from `job.checkpoint` if present. Compute-heavy work must run off
    /// the async runtime (`spawn_blocking`), taking the reporter with it.
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, reporter: Reporter) -> Handled;
}

/// The handler for each kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: Vec<(JobKind, Arc<dyn Handler>)>,
}

impl Registry {
    /// Every handler Runboard ships: one per kind.
    pub fn standard() -> Registry {
        let mut r = Registry::default();
        r.register(JobKind::Backtest, backtest::BacktestHandler);
        r.register(JobKind::Optimize, optimize::OptimizeHandler);
        r.register(JobKind::WalkForward, walk_forward::WalkForwardHandler);
        r.register(JobKind::Train, train::TrainHandler);
        r.register(JobKind::Demo, demo::DemoHandler);
        r.register(JobKind::Import, import::ImportHandler);
        r.register(JobKind::Chunk, chunk::ChunkHandler::default());
        r
    }

    /// Makes `handler` run the jobs of `kind` (replacing any handler it had).
    pub fn register(&mut self, kind: JobKind, handler: impl Handler) {
        self.handlers.retain(|(k, _)| *k != kind);
        self.handlers.push((kind, Arc::new(handler)));
    }

    pub fn get(&self, kind: JobKind) -> Option<Arc<dyn Handler>> {
        self.handlers
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, h)| h.clone())
    }
}

/// Runs a blocking closure on the blocking pool; a panic becomes a terminal error.
pub async fn blocking<T, F>(f: F) -> Result<T, HandlerError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, HandlerError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "handler panicked");
        Err(HandlerError::Terminal(
            "the handler crashed (an internal error); see the server log".into(),
        ))
    })
}

/// Says that a job's saved checkpoint was discarded: a warning in the server log and a line in
/// the job's run log. Cheap to clone and `Send`, so a compute closure can carry it.
#[derive(Clone, Debug)]
pub struct CheckpointWarning {
    job: Uuid,
    store: JobStore,
}

impl CheckpointWarning {
    pub fn new(job: &ClaimedJob, deps: &HandlerDeps) -> CheckpointWarning {
        CheckpointWarning {
            job: job.id,
            store: deps.store.clone(),
        }
    }

    /// Records that the checkpoint was dropped for `reason` and the run starts from zero.
    pub fn discarded(&self, reason: &str) {
        tracing::warn!(job = %self.job, reason, "checkpoint discarded; starting from zero");
        self.store.log(self.job).line(&format!(
            "warning: the saved checkpoint was discarded ({reason}); starting from zero"
        ));
    }
}

/// The job's saved checkpoint, decoded as `C`, and whether one was found but discarded.
///
/// A checkpoint that does not decode (another version's, or damaged) is never used and never
/// dropped silently: it is reported through `warn` and the flag is set, so the result can say so.
pub fn decode_checkpoint<C: DeserializeOwned>(
    job: &ClaimedJob,
    warn: &CheckpointWarning,
) -> (Option<C>, bool) {
    let Some(saved) = job.checkpoint.clone() else {
        return (None, false);
    };
    match serde_json::from_value(saved) {
        Ok(checkpoint) => (Some(checkpoint), false),
        Err(e) => {
            warn.discarded(&format!("it cannot be decoded: {e}"));
            (None, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_registry_has_a_handler_for_every_kind() {
        let registry = Registry::standard();
        for kind in JobKind::ALL {
            assert!(registry.get(kind).is_some(), "{kind:?}");
        }
        assert_eq!(registry.handlers.len(), JobKind::ALL.len());
    }
}
