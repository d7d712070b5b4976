//! The optimize handler: a grid search ("Run i/N") of a built-in or of the rule-language
//! program the job recorded (`rules`), resumed from its checkpoint after a rescue. Above the
//! fan-out threshold the runs are split into chunks that every worker process shares
//! ([`fan_out`]); the engine then ranks the assembled metrics exactly as it would its own.
//!
//! The engine's result carries the metric of every grid combination (`full_grid`, skipped by
//! serde): the handler takes it out of the result and stores it in `job_grids`
//! ([`GridStore`]) before returning, so the results page can show other axes and folds. The
//! grid never enters the result JSON.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::model::research::{FullGrid, OptimizeRequest, OptimizeResult};
use async_trait::async_trait;

use super::chunk::{fan_out, JobInput, ParentRequest, SharedReporter, Units};
use super::research::{compute, compute_resumable, parse, WithProvenance};
use super::{Handled, Handler, HandlerDeps};
use crate::engine::optimize::{optimize_planned, OptimizeCheckpoint, Resumed, SearchPlan};
use crate::engine::progress::ProgressSink;
use crate::engine::EngineError;
use crate::grids::{GridError, GridStore};
use crate::jobs::chunks::plan;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// How long the handler keeps retrying a grid write that hits a database error.
const GRID_WRITE_PATIENCE: Duration = Duration::from_secs(10);
/// First wait before retrying a grid write; doubles up to [`GRID_WRITE_MAX_BACKOFF`].
const GRID_WRITE_BACKOFF: Duration = Duration::from_millis(100);
const GRID_WRITE_MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs `optimize` jobs.
pub struct OptimizeHandler;

#[async_trait]
impl Handler for OptimizeHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, reporter: Reporter) -> Handled {
        let req: OptimizeRequest = parse(&job.args)?;
        // The job's one check: the grid, expanded once, serves the sweep and the chunks.
        let parent = Arc::new(ParentRequest::Optimize(req.clone()));
        let (input, checked) = JobInput::checked(deps, &parent).await?;
        // The engine's full grid, taken out of its result (the last run's, should the run start
        // over from a discarded checkpoint).
        let slot: Arc<Mutex<Option<FullGrid>>> = Arc::default();
        let taken = slot.clone();
        // Large enough to share: split into chunks that every worker process runs.
        let runs = checked.units();
        let ranges = plan(runs, input.series.len() as u64, &deps.fanout);
        let result = match ranges {
            None => {
                let mut reporter = reporter;
                compute_resumable(job, deps, move |resume: Option<OptimizeCheckpoint>| {
                    let done = optimize(&input, &req, &checked, resume, &mut reporter)?;
                    Ok(take_grid(done, &taken))
                })
                .await?
            }
            Some(ranges) => {
                let reporter = Arc::new(reporter);
                let units = (runs, Units::Runs);
                let metrics = fan_out(
                    job, deps, &reporter, &input, &parent, &ranges, units, &checked,
                )
                .await?;
                // Every run's metric is known: the engine ranks and finishes as a resumed run.
                let full = OptimizeCheckpoint {
                    total_runs: runs,
                    next_index: runs,
                    metrics_so_far: metrics,
                };
                let (attempt, chunks) = (job.attempt, ranges.len() as u64);
                compute(move || {
                    let mut sink = SharedReporter(reporter);
                    let done = optimize(&input, &req, &checked, Some(full), &mut sink)?;
                    let result = take_grid(done, &taken).result;
                    Ok(WithProvenance::fanned_out(result, attempt, chunks))
                })
                .await?
            }
        };
        let grid = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(grid) = grid {
            store_grid(job, deps, &grid).await;
        }
        Ok(result)
    }
}

/// The optimization of `input` (a built-in's, or the rule-language program the job recorded) as
/// checked into `plan`.
fn optimize(
    input: &JobInput,
    req: &OptimizeRequest,
    plan: &SearchPlan,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<Resumed<OptimizeResult>, EngineError> {
    optimize_planned(
        &input.series,
        req,
        input.program.as_ref(),
        plan,
        resume,
        sink,
    )
}

/// Takes the full grid out of the result into `slot` (it is stored beside the result).
fn take_grid(
    mut done: Resumed<OptimizeResult>,
    slot: &Mutex<Option<FullGrid>>,
) -> Resumed<OptimizeResult> {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = done.result.full_grid.take();
    done
}

/// Stores the job's full grid (replacing a retried run's), retrying database errors for up to
/// [`GRID_WRITE_PATIENCE`]. The grid only adds views: when it cannot be stored the job still
/// succeeds with its default heatmap, and the run log says why the other views are missing. A
/// stale run (the job is no longer ours) writes nothing; its completion will be refused too.
async fn store_grid(job: &ClaimedJob, deps: &HandlerDeps, grid: &FullGrid) {
    let grids = GridStore::new(deps.store.pool().clone());
    let deadline = tokio::time::Instant::now() + GRID_WRITE_PATIENCE;
    let mut wait = GRID_WRITE_BACKOFF;
    let failure = loop {
        match grids.upsert(job.id, job.lease, grid).await {
            Ok(true) => return,
            Ok(false) => {
                tracing::debug!(job = %job.id, "stale run: the grid was not stored");
                return;
            }
            Err(GridError::Db(e)) if tokio::time::Instant::now() + wait < deadline => {
                tracing::warn!(job = %job.id, error = %e, retry_in = ?wait, "storing the grid failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(GRID_WRITE_MAX_BACKOFF);
            }
            Err(e) => break e,
        }
    };
    tracing::warn!(job = %job.id, error = %failure, "the optimization grid was not stored");
    deps.store.log(job.id).line(&format!(
        "warning: the full grid could not be stored ({failure}); the results show the default \
         heatmap only"
    ));
}
