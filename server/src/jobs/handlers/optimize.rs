//! The optimize handler: a grid search ("Run i/N") of a built-in or of the rule-language
//! program the job recorded (`rules`), resumed from its checkpoint after a rescue.
//!
//! The engine's result carries the metric of every grid combination (`full_grid`, skipped by
//! serde): the handler takes it out of the result and stores it in `job_grids`
//! ([`GridStore`]) before returning, so the results page can show other axes and folds. The
//! grid never enters the result JSON.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::model::research::{FullGrid, OptimizeRequest};
use async_trait::async_trait;
use serde_json::Value;

use super::research::{compute_resumable, limits, load, parse};
use super::{Handler, HandlerDeps, HandlerError};
use crate::engine::optimize::{run_optimize_resumable, OptimizeCheckpoint};
use crate::engine::rules::{run_rule_optimize, RuleOptimizeRequest};
use crate::grids::{GridError, GridStore};
use crate::jobs::joblog::JobLog;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;
use crate::strategies::load_program;

/// How long the handler keeps retrying a grid write that hits a database error.
const GRID_WRITE_PATIENCE: Duration = Duration::from_secs(10);
/// First wait before retrying a grid write; doubles up to [`GRID_WRITE_MAX_BACKOFF`].
const GRID_WRITE_BACKOFF: Duration = Duration::from_millis(100);
const GRID_WRITE_MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs `optimize` jobs.
pub struct OptimizeHandler;

#[async_trait]
impl Handler for OptimizeHandler {
    async fn run(
        &self,
        job: &ClaimedJob,
        deps: &HandlerDeps,
        mut reporter: Reporter,
    ) -> Result<Value, HandlerError> {
        let req: OptimizeRequest = parse(&job.args)?;
        let series = load(deps, &req.dataset_id).await?;
        let limits = limits(deps.max_grid);
        // A rule-language strategy: the program the job recorded, swept by the same engine.
        let program = match &req.rules {
            Some(rules) => Some(load_program(deps.store.pool(), rules).await?),
            None => None,
        };
        let rule_req = program.as_ref().map(|_| RuleOptimizeRequest {
            grid: req.grid.clone(),
            constraint: req.constraint.clone(),
            metric: req.metric,
            top_n: req.top_n,
            cash: req.cash,
            commission: req.commission,
            long_only: req.long_only,
            robustness: req.robustness.clone(),
        });
        // The engine's full grid, taken out of its result (the last run's, should the run start
        // over from a discarded checkpoint).
        let slot: Arc<Mutex<Option<FullGrid>>> = Arc::default();
        let taken = slot.clone();
        let result = compute_resumable(job, deps, move |resume: Option<OptimizeCheckpoint>| {
            let mut done = match (&program, &rule_req) {
                (Some(program), Some(rreq)) => {
                    run_rule_optimize(&series, program, rreq, resume, &mut reporter, &limits)?
                }
                _ => run_optimize_resumable(&series, &req, resume, &mut reporter, &limits)?,
            };
            *taken.lock().unwrap_or_else(PoisonError::into_inner) = done.result.full_grid.take();
            Ok(done)
        })
        .await?;
        let grid = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(grid) = grid {
            store_grid(job, deps, &grid).await;
        }
        Ok(result)
    }
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
    JobLog::open(deps.store.log_file(job.id)).line(&format!(
        "warning: the full grid could not be stored ({failure}); the results show the default \
         heatmap only"
    ));
}
