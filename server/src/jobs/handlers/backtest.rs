//! The backtest handler: one strategy with fixed parameters over a dataset ("Bar i/N").

use app::model::research::BacktestRequest;
use async_trait::async_trait;
use serde_json::Value;

use super::research::{compute, load, parse};
use super::{Handler, HandlerDeps, HandlerError};
use crate::engine;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// Runs `backtest` jobs.
pub struct BacktestHandler;

#[async_trait]
impl Handler for BacktestHandler {
    async fn run(
        &self,
        job: &ClaimedJob,
        deps: &HandlerDeps,
        mut reporter: Reporter,
    ) -> Result<Value, HandlerError> {
        let req: BacktestRequest = parse(&job.args)?;
        let series = load(deps, &req.dataset_id).await?;
        compute(move || engine::run_backtest(&series, &req, &mut reporter)).await
    }
}
