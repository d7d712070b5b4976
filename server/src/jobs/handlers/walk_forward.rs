//! The walk-forward handler: per fold, optimize in sample and trade out of sample ("Param p/P,
//! Fold f/F"), of a built-in or of the rule-language program the job recorded (`rules`),
//! resumed after its finished folds after a rescue.
//!
//! Above the fan-out threshold the in-sample runs of every fold (folds × runs units, fold
//! after fold) are split into chunks that every worker process shares ([`fan_out`]); the
//! engine then chooses, trades and stitches each fold from the assembled metrics exactly as it
//! would from its own.

use std::sync::Arc;

use app::model::research::WalkForwardRequest;
use async_trait::async_trait;

use super::chunk::{fan_out, JobInput, ParentRequest, SharedReporter, Units};
use super::research::{compute, compute_resumable, parse, WithProvenance};
use super::{Handled, Handler, HandlerDeps};
use crate::engine::optimize::run_walkforward_from_metrics;
use crate::engine::walkforward::walkforward_planned;
use crate::engine::WalkForwardCheckpoint;
use crate::jobs::chunks::plan;
use crate::jobs::progress::Reporter;
use crate::jobs::store::ClaimedJob;

/// Runs `walk_forward` jobs.
pub struct WalkForwardHandler;

#[async_trait]
impl Handler for WalkForwardHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, reporter: Reporter) -> Handled {
        let req: WalkForwardRequest = parse(&job.args)?;
        // The job's one check: the grid and the folds serve the sweep, the chunks and the folds.
        let parent = Arc::new(ParentRequest::WalkForward(req.clone()));
        let (input, checked) = JobInput::checked(deps, &parent).await?;
        // Folds × runs, and the in-sample bars a run reads on average: the job's work.
        let units = checked.units();
        let folds = checked.folds().len() as u64;
        let bars: u64 = checked.windows().iter().map(|&(a, b)| (b - a) as u64).sum();
        let bars = bars / folds.max(1);
        let Some(ranges) = plan(units, bars, &deps.fanout) else {
            let mut reporter = reporter;
            return compute_resumable(job, deps, move |resume: Option<WalkForwardCheckpoint>| {
                let program = input.program.as_ref();
                walkforward_planned(
                    &input.series,
                    &req,
                    program,
                    &checked,
                    resume,
                    &mut reporter,
                )
            })
            .await;
        };
        let reporter = Arc::new(reporter);
        let runs = units / folds.max(1);
        let progress = (units, Units::Folds { runs, folds });
        let metrics = fan_out(
            job, deps, &reporter, &input, &parent, &ranges, progress, &checked,
        )
        .await?;
        // Every fold's in-sample metrics are known: the engine finishes each fold from them.
        let fold_metrics: Vec<Vec<f64>> = metrics
            .chunks(runs.max(1) as usize)
            .map(<[f64]>::to_vec)
            .collect();
        let (attempt, chunks) = (job.attempt, ranges.len() as u64);
        compute(move || {
            let mut sink = SharedReporter(reporter);
            let program = input.program.as_ref();
            let done = run_walkforward_from_metrics(
                &input.series,
                &req,
                program,
                &checked,
                &fold_metrics,
                &mut sink,
            )?;
            Ok(WithProvenance::fanned_out(done.result, attempt, chunks))
        })
        .await
    }
}
