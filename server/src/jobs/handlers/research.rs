//! The research handlers: backtest, optimize, walk-forward and training jobs.
//!
//! Each loads its dataset (async, from Postgres), then runs the pure engine on the blocking
//! pool with the job's [`Reporter`] as its progress sink, resuming from the checkpoint a
//! rescued attempt left behind. Optimize and walk-forward results carry a [`Provenance`]: where
//! the attempt started, and whether a saved checkpoint had to be discarded.

use app::model::research::{
    BacktestRequest, Limits, OptimizeRequest, TrainRequest, WalkForwardRequest,
};
use app::model::JobKind;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{blocking, decode_checkpoint, CheckpointWarning, Handler, HandlerDeps, HandlerError};
use crate::datasets::DatasetError;
use crate::engine::optimize::Resumed;
use crate::engine::{self, EngineError, OptimizeCheckpoint, Series, WalkForwardCheckpoint};
use crate::jobs::progress::{Reporter, ReporterConfig};
use crate::jobs::store::ClaimedJob;

/// One handler for the four research kinds.
pub struct ResearchHandler {
    pub kind: JobKind,
}

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
}

/// A result with its provenance, as stored: the result's fields plus `provenance`.
#[derive(Serialize)]
struct WithProvenance<T> {
    #[serde(flatten)]
    result: T,
    provenance: Provenance,
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

#[async_trait]
impl Handler for ResearchHandler {
    fn reporter_config(&self) -> ReporterConfig {
        let max_updates = match self.kind {
            // The seed: walk-forward at most ~50 updates, optimize ~100.
            JobKind::WalkForward => 50,
            JobKind::Backtest => 20,
            _ => 100,
        };
        ReporterConfig {
            max_updates,
            ..ReporterConfig::default()
        }
    }

    async fn run(
        &self,
        job: &ClaimedJob,
        deps: &HandlerDeps,
        mut reporter: Reporter,
    ) -> Result<Value, HandlerError> {
        let limits = limits(deps.max_grid);
        match self.kind {
            JobKind::Backtest => {
                let req: BacktestRequest = parse(&job.args)?;
                let series = load(deps, &req.dataset_id).await?;
                compute(move || engine::run_backtest(&series, &req, &mut reporter)).await
            }
            JobKind::Optimize => {
                let req: OptimizeRequest = parse(&job.args)?;
                let series = load(deps, &req.dataset_id).await?;
                let warn = CheckpointWarning::new(job, deps);
                let resume = decode_checkpoint::<OptimizeCheckpoint>(job, &warn);
                let attempt = job.attempt;
                compute(move || {
                    resume_or_restart(attempt, resume, &warn, |resume| {
                        engine::optimize::run_optimize_resumable(
                            &series,
                            &req,
                            resume,
                            &mut reporter,
                            &limits,
                        )
                    })
                })
                .await
            }
            JobKind::WalkForward => {
                let req: WalkForwardRequest = parse(&job.args)?;
                let series = load(deps, &req.dataset_id).await?;
                let warn = CheckpointWarning::new(job, deps);
                let resume = decode_checkpoint::<WalkForwardCheckpoint>(job, &warn);
                let attempt = job.attempt;
                compute(move || {
                    resume_or_restart(attempt, resume, &warn, |resume| {
                        engine::walkforward::run_walkforward_resumable(
                            &series,
                            &req,
                            resume,
                            &mut reporter,
                            &limits,
                        )
                    })
                })
                .await
            }
            JobKind::Train => {
                let req: TrainRequest = parse(&job.args)?;
                let series = load(deps, &req.dataset_id).await?;
                compute(move || engine::run_train(&series, &req, &mut reporter)).await
            }
            JobKind::Demo => Err(HandlerError::Terminal(
                "the research handler does not run demo jobs".into(),
            )),
        }
    }
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
        },
    })
}

fn parse<T: DeserializeOwned>(args: &Value) -> Result<T, HandlerError> {
    serde_json::from_value(args.clone())
        .map_err(|e| HandlerError::Terminal(format!("invalid job arguments: {e}")))
}

async fn load(deps: &HandlerDeps, dataset_id: &str) -> Result<Series, HandlerError> {
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
async fn compute<T, F>(f: F) -> Result<Value, HandlerError>
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
