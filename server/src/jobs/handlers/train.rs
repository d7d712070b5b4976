//! The training handler: fits the model epoch by epoch ("Epoch e/E, loss x") and backtests it.

use app::model::research::TrainRequest;
use async_trait::async_trait;

use super::research::{compute, load, parse};
use super::{Handled, Handler, HandlerDeps};
use crate::engine;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// Runs `train` jobs.
pub struct TrainHandler;

#[async_trait]
impl Handler for TrainHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, mut reporter: Reporter) -> Handled {
        let req: TrainRequest = parse(&job.args)?;
        let series = load(deps, &req.dataset_id).await?;
        compute(move || engine::run_train(&series, &req, &mut reporter)).await
    }
}
