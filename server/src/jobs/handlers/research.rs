//! The research handlers: backtest, optimize, walk-forward and training jobs.
//!
//! Each loads its dataset (async, from Postgres), then runs the pure engine on the blocking
//! pool with the job's [`Reporter`] as its progress sink, resuming from the checkpoint a
//! rescued attempt left behind.

use app::model::research::{
    BacktestRequest, Limits, OptimizeRequest, TrainRequest, WalkForwardRequest,
};
use app::model::JobKind;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{blocking, Handler, HandlerDeps, HandlerError};
use crate::datasets::DatasetError;
use crate::engine::{self, EngineError, OptimizeCheckpoint, Series, WalkForwardCheckpoint};
use crate::jobs::progress::{Reporter, ReporterConfig};
use crate::jobs::store::ClaimedJob;

/// One handler for the four research kinds.
pub struct ResearchHandler {
    pub kind: JobKind,
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
                let resume: Option<OptimizeCheckpoint> = checkpoint(job);
                compute(move || {
                    resume_or_restart(resume, |resume| {
                        engine::optimize::run_optimize_with_limits(
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
                let resume: Option<WalkForwardCheckpoint> = checkpoint(job);
                compute(move || {
                    resume_or_restart(resume, |resume| {
                        engine::walkforward::run_walkforward_with_limits(
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

/// Runs from the checkpoint; one from a different request or data is dropped and the run
/// starts over.
fn resume_or_restart<C, T>(
    resume: Option<C>,
    mut run: impl FnMut(Option<C>) -> Result<T, EngineError>,
) -> Result<T, EngineError> {
    match run(resume) {
        Err(EngineError::BadCheckpoint(_)) => run(None),
        other => other,
    }
}

fn parse<T: DeserializeOwned>(args: &Value) -> Result<T, HandlerError> {
    serde_json::from_value(args.clone())
        .map_err(|e| HandlerError::Terminal(format!("invalid job arguments: {e}")))
}

fn checkpoint<T: DeserializeOwned>(job: &ClaimedJob) -> Option<T> {
    job.checkpoint
        .clone()
        .and_then(|c| serde_json::from_value(c).ok())
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
