//! What the research handlers (backtest, optimize, walk-forward, training; one file each
//! beside this one) share.
//!
//! Each parses its arguments, loads its dataset (async, from Postgres), then runs the pure
//! engine on the blocking pool with the job's [`Reporter`](crate::jobs::progress::Reporter) as
//! its progress sink ([`compute`]). Optimize and walk-forward resume from the checkpoint a
//! rescued attempt left behind ([`compute_resumable`]), and their results carry a
//! [`Provenance`]: where the attempt started, and whether a saved checkpoint had to be
//! discarded.

use app::model::research::Limits;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{blocking, decode_checkpoint, CheckpointWarning, Handled, HandlerDeps, HandlerError};
use crate::datasets::DatasetError;
use crate::engine::optimize::Resumed;
use crate::engine::{EngineError, Series};
use crate::jobs::store::ClaimedJob;

/// Where a resumable result (optimize, walk-forward) came from; stored beside the result's
/// own fields as `provenance`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The attempt that computed the result (1 for the first).
    pub attempt: i32,
    /// Runs already done when this attempt started, restored from the checkpoint an earlier
    /// attempt saved (a walk-forward counts the runs of its finished folds); 0 when it started
    /// fresh.
    pub resumed_from: u64,
    /// A saved checkpoint was found but could not be used (it did not decode, or belongs to a
    /// different request or data): it was discarded with a warning and the run started over.
    pub checkpoint_discarded: bool,
    /// The chunks the runs were split into, when the optimization was fanned out over the
    /// worker processes (absent when one process ran it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u64>,
}

/// A result with its provenance, as stored: the result's fields plus `provenance`.
#[derive(Serialize)]
pub struct WithProvenance<T> {
    #[serde(flatten)]
    pub result: T,
    pub provenance: Provenance,
}

impl<T> WithProvenance<T> {
    /// `result`, computed by attempt `attempt` from the metrics of `chunks` chunks that the
    /// worker processes shared.
    pub fn fanned_out(result: T, attempt: i32, chunks: u64) -> Self {
        let provenance = Provenance {
            attempt,
            chunks: Some(chunks),
            ..Provenance::default()
        };
        WithProvenance { result, provenance }
    }
}

/// The engine limits that follow from the server's configuration.
pub fn limits(max_grid: usize) -> Limits {
    Limits {
        max_grid: max_grid as u64,
        // A walk-forward may run ten full grids in all (folds × grid).
        max_walk_forward_runs: (max_grid as u64).saturating_mul(10),
        ..Limits::default()
    }
}

/// Runs a resumable engine entry point (`run(checkpoint)`) on the blocking pool, like
/// [`compute`], from the job's saved checkpoint when there is one that fits: see
/// [`resume_or_restart`]. The stored result carries its [`Provenance`].
pub async fn compute_resumable<C, T, F>(job: &ClaimedJob, deps: &HandlerDeps, run: F) -> Handled
where
    C: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
    F: FnMut(Option<C>) -> Result<Resumed<T>, EngineError> + Send + 'static,
{
    let warn = CheckpointWarning::new(job, deps);
    let resume = decode_checkpoint::<C>(job, &warn);
    let attempt = job.attempt;
    compute(move || resume_or_restart(attempt, resume, &warn, run)).await
}

/// Runs from the checkpoint (`resume`: the decoded checkpoint, and whether an undecodable one
/// was already discarded); one from a different request or data is discarded with a warning
/// and the run starts over. The result carries its [`Provenance`].
fn resume_or_restart<C, T>(
    attempt: i32,
    resume: (Option<C>, bool),
    warn: &CheckpointWarning,
    mut run: impl FnMut(Option<C>) -> Result<Resumed<T>, EngineError>,
) -> Result<WithProvenance<T>, EngineError> {
    let (checkpoint, mut discarded) = resume;
    let done = match run(checkpoint) {
        Err(EngineError::BadCheckpoint(why)) => {
            warn.discarded(&why);
            discarded = true;
            run(None)
        }
        other => other,
    }?;
    Ok(WithProvenance {
        result: done.result,
        provenance: Provenance {
            attempt,
            resumed_from: done.resumed_from,
            checkpoint_discarded: discarded,
            chunks: None,
        },
    })
}

/// The job's arguments as the kind's request; a mismatch is terminal.
pub fn parse<T: DeserializeOwned>(args: &Value) -> Result<T, HandlerError> {
    serde_json::from_value(args.clone())
        .map_err(|e| HandlerError::Terminal(format!("invalid job arguments: {e}")))
}

/// The request's dataset: a bad or unknown id is terminal, a database error worth a retry.
pub async fn load(deps: &HandlerDeps, dataset_id: &str) -> Result<Series, HandlerError> {
    let id = Uuid::parse_str(dataset_id.trim()).map_err(|_| {
        HandlerError::Terminal(format!(
            "dataset_id: not a valid dataset id: {dataset_id:?}"
        ))
    })?;
    deps.datasets.load(id).await.map_err(|e| match e {
        DatasetError::NotFound(id) => {
            HandlerError::Terminal(format!("dataset_id: no such dataset: {id}"))
        }
        // The database may be briefly unavailable: worth another attempt.
        other => HandlerError::Retryable(format!("could not load the dataset: {other}")),
    })
}

/// Runs the engine on the blocking pool and maps its outcome.
pub async fn compute<T, F>(f: F) -> Handled
where
    T: Serialize + Send + 'static,
    F: FnOnce() -> Result<T, EngineError> + Send + 'static,
{
    blocking(move || match f() {
        Ok(result) => serde_json::to_value(result)
            .map_err(|e| HandlerError::Terminal(format!("could not encode the result: {e}"))),
        Err(EngineError::Stopped) => Err(HandlerError::Stopped),
        Err(e @ EngineError::InvalidInput { .. }) => Err(HandlerError::Terminal(e.to_string())),
        Err(e @ EngineError::BadCheckpoint(_)) => Err(HandlerError::Terminal(e.to_string())),
    })
    .await
}
