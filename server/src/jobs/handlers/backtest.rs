//! The backtest handler: one strategy with fixed parameters over a dataset ("Bar i/N"): a
//! built-in, or the rule-language program the job recorded (`rules`).

use app::model::research::BacktestRequest;
use async_trait::async_trait;

use super::research::{compute, load, parse};
use super::{Handled, Handler, HandlerDeps};
use crate::engine;
use crate::engine::rules::{run_rule_backtest, RuleBacktestRequest};
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;
use crate::strategies::load_program;

/// Runs `backtest` jobs.
pub struct BacktestHandler;

#[async_trait]
impl Handler for BacktestHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, mut reporter: Reporter) -> Handled {
        let req: BacktestRequest = parse(&job.args)?;
        let series = load(deps, &req.dataset_id).await?;
        if let Some(rules) = &req.rules {
            // A rule-language strategy: the program the job recorded.
            let program = load_program(deps.store.pool(), rules).await?;
            let rreq = RuleBacktestRequest::of(&req);
            return compute(move || run_rule_backtest(&series, &program, &rreq, &mut reporter))
                .await;
        }
        compute(move || engine::run_backtest(&series, &req, &mut reporter)).await
    }
}
