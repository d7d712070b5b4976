//! The demo handler: sleeps through `steps` steps, reporting "Step i/N" and checkpointing after
//! each. It exercises the queue itself (progress, checkpoints, rescue, cancel, retries) without
//! the research engine, and its result proves a resumed run equals an uninterrupted one.

use std::time::Duration;

use app::model::DemoRequest;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    blocking, decode_checkpoint, CheckpointWarning, Handled, Handler, HandlerDeps, HandlerError,
};
use crate::jobs::progress::{Flow, Reporter};
use crate::jobs::store::ClaimedJob;

/// What the demo saves after each step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DemoCheckpoint {
    pub next_step: u64,
    /// Σ i² over the steps done: the result an uninterrupted run would reach.
    pub sum_of_squares: u64,
}

/// The demo job's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DemoResult {
    pub steps: u64,
    pub sum_of_squares: u64,
    /// The step this attempt started from (0 unless resumed from a checkpoint).
    pub resumed_from: u64,
    /// A saved checkpoint was found but could not be used (undecodable, or beyond the job's
    /// steps): it was discarded with a warning and the run started from step 0.
    #[serde(default)]
    pub checkpoint_discarded: bool,
}

/// Runs `demo` jobs.
pub struct DemoHandler;

#[async_trait]
impl Handler for DemoHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, reporter: Reporter) -> Handled {
        let args: DemoRequest = serde_json::from_value(job.args.clone())
            .map_err(|e| HandlerError::Terminal(format!("invalid demo arguments: {e}")))?;
        let warn = CheckpointWarning::new(job, deps);
        let (saved, mut checkpoint_discarded) = decode_checkpoint::<DemoCheckpoint>(job, &warn);
        let mut state = match saved {
            Some(cp) if cp.next_step > args.steps => {
                warn.discarded(&format!(
                    "it is at step {} of a {}-step job",
                    cp.next_step, args.steps
                ));
                checkpoint_discarded = true;
                DemoCheckpoint::default()
            }
            saved => saved.unwrap_or_default(),
        };
        let attempt = job.attempt;
        blocking(move || {
            let resumed_from = state.next_step;
            while state.next_step < args.steps {
                let step = state.next_step + 1;
                if args.fail_once_at == Some(step) && attempt == 1 {
                    return Err(HandlerError::Retryable(format!(
                        "simulated transient failure at step {step}"
                    )));
                }
                if args.fail_terminally_at == Some(step) {
                    return Err(HandlerError::Terminal(format!(
                        "simulated terminal failure at step {step}"
                    )));
                }
                std::thread::sleep(Duration::from_millis(args.step_ms));
                state.sum_of_squares += step * step;
                state.next_step = step;
                reporter.checkpoint(serde_json::to_value(&state).unwrap_or(Value::Null));
                let steps = args.steps;
                if reporter.report(step, steps, format_args!("Step {step}/{steps}")) == Flow::Stop {
                    return Err(HandlerError::Stopped);
                }
            }
            serde_json::to_value(DemoResult {
                steps: args.steps,
                sum_of_squares: state.sum_of_squares,
                resumed_from,
                checkpoint_discarded,
            })
            .map_err(|e| HandlerError::Terminal(e.to_string()))
        })
        .await
    }
}
