//! The walk-forward handler: per fold, optimize in sample and trade out of sample ("Param p/P,
//! Fold f/F"), of a built-in or of the rule-language program the job recorded (`rules`),
//! resumed after its finished folds after a rescue.

use app::model::research::WalkForwardRequest;
use async_trait::async_trait;
use serde_json::Value;

use super::research::{compute_resumable, limits, load, parse};
use super::{Handler, HandlerDeps, HandlerError};
use crate::engine::rules::run_rule_walkforward;
use crate::engine::walkforward::run_walkforward_resumable;
use crate::engine::WalkForwardCheckpoint;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;
use crate::strategies::load_program;

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
        // A rule-language strategy: the program the job recorded, over the same folds.
        let program = match &req.rules {
            Some(rules) => Some(load_program(deps.store.pool(), rules).await?),
            None => None,
        };
        compute_resumable(
            job,
            deps,
            move |resume: Option<WalkForwardCheckpoint>| match &program {
                Some(program) => {
                    run_rule_walkforward(&series, program, &req, resume, &mut reporter, &limits)
                }
                None => run_walkforward_resumable(&series, &req, resume, &mut reporter, &limits),
            },
        )
        .await
    }
}
