//! The optimize handler: a grid search ("Run i/N"), resumed from its checkpoint after a rescue.

use app::model::research::OptimizeRequest;
use async_trait::async_trait;
use serde_json::Value;

use super::research::{compute_resumable, limits, load, parse};
use super::{Handler, HandlerDeps, HandlerError};
use crate::engine::optimize::{run_optimize_resumable, OptimizeCheckpoint};
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

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
        compute_resumable(job, deps, move |resume: Option<OptimizeCheckpoint>| {
            run_optimize_resumable(&series, &req, resume, &mut reporter, &limits)
        })
        .await
    }
}
