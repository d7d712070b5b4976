//! The walk-forward handler: per fold, optimize in sample and trade out of sample ("Param p/P,
//! Fold f/F"), resumed after its finished folds after a rescue.

use app::model::research::WalkForwardRequest;
use async_trait::async_trait;
use serde_json::Value;

use super::research::{compute_resumable, limits, load, parse};
use super::{Handler, HandlerDeps, HandlerError};
use crate::engine::walkforward::run_walkforward_resumable;
use crate::engine::WalkForwardCheckpoint;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// Runs `walk_forward` jobs.
pub struct WalkForwardHandler;

#[async_trait]
impl Handler for WalkForwardHandler {
    async fn run(
        &self,
        job: &ClaimedJob,
        deps: &HandlerDeps,
        mut reporter: Reporter,
    ) -> Result<Value, HandlerError> {
        let req: WalkForwardRequest = parse(&job.args)?;
        let series = load(deps, &req.dataset_id).await?;
        let limits = limits(deps.max_grid);
        compute_resumable(job, deps, move |resume: Option<WalkForwardCheckpoint>| {
            run_walkforward_resumable(&series, &req, resume, &mut reporter, &limits)
        })
        .await
    }
}
