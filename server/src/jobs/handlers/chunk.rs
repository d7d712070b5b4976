//! Fan-out's two sides (see [`chunks`](crate::jobs::chunks)): the `chunk` handler any worker
//! runs ([`ChunkHandler`]: one range of a parent's units: an optimization's runs, or a
//! walk-forward's in-sample runs of every fold, fold after fold), and the parent's side
//! ([`fan_out`]: create the chunks, run its own queued ones, show the summed progress, then
//! hand back every unit's metric in order).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use app::model::research::{OptimizeRequest, RuleRef, WalkForwardRequest};
use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::research::{compute, limits, load, parse};
use super::{blocking, Handled, Handler, HandlerDeps, HandlerError};
use crate::engine::optimize::{run_chunk, with_chunk_eval, ChunkJob, SearchPlan};
use crate::engine::progress::{Flow, ProgressSink};
use crate::engine::rules::Program;
use crate::engine::{EngineError, Series};
use crate::jobs::chunks::{ChunkArgs, ChunkResult};
use crate::jobs::progress::{Reporter, ReporterConfig};
use crate::jobs::store::{ClaimedJob, StoreError, PROGRAM_VERSION};
use crate::jobs::worker::keep_alive;
use crate::strategies::load_program;
use app::model::JobKind;

/// A chunk's end being written.
type Pending = tokio::task::JoinHandle<Result<(), StoreError>>;

/// How often a parent with nothing of its own to run looks at its chunks again (one indexed
/// aggregate; the wait after the last chunk ends is part of every fanned-out job's time: 200 ms
/// cost the 2-process fan-out bench 0.23 s).
const WAIT: Duration = Duration::from_millis(25);

/// What an optimization or walk-forward runs on: its dataset and, for a rule-language
/// strategy, the program.
pub struct JobInput {
    pub series: Series,
    pub program: Option<Program>,
}

impl JobInput {
    /// Loads a request's dataset and the program it recorded.
    pub async fn load(
        deps: &HandlerDeps,
        dataset_id: &str,
        rules: Option<&RuleRef>,
    ) -> Result<Self, HandlerError> {
        let series = load(deps, dataset_id).await?;
        let program = match rules {
            Some(rules) => Some(load_program(deps.store.pool(), rules).await?),
            None => None,
        };
        Ok(JobInput { series, program })
    }

    /// Loads `req`'s dataset and program, and makes the job's one check
    /// ([`SearchPlan::check`], on the blocking pool): the plan its sweep, chunks and folds then
    /// take. A search its data refuses fails terminally.
    pub async fn checked(
        deps: &HandlerDeps,
        req: &Arc<ParentRequest>,
    ) -> Result<(Arc<Self>, Arc<SearchPlan>), HandlerError> {
        let (dataset_id, rules) = req.input_of();
        let input = Arc::new(JobInput::load(deps, dataset_id, rules).await?);
        let limits = limits(deps.max_grid);
        let (checking, req) = (input.clone(), req.clone());
        let plan = blocking(move || {
            let (series, program) = (&checking.series, checking.program.as_ref());
            SearchPlan::check(series, req.job(), program, &limits)
                .map(Arc::new)
                .map_err(|e| HandlerError::Terminal(e.to_string()))
        })
        .await?;
        Ok((input, plan))
    }
}

/// The request of a job that fans out, as it was stored.
#[derive(Clone, Debug)]
pub enum ParentRequest {
    Optimize(OptimizeRequest),
    WalkForward(WalkForwardRequest),
}

impl ParentRequest {
    /// What its chunks are.
    pub fn job(&self) -> ChunkJob<'_> {
        match self {
            ParentRequest::Optimize(r) => ChunkJob::Optimize(r),
            ParentRequest::WalkForward(r) => ChunkJob::WalkForward(r),
        }
    }

    fn input_of(&self) -> (&str, Option<&RuleRef>) {
        match self {
            ParentRequest::Optimize(r) => (&r.dataset_id, r.search.rules.as_ref()),
            ParentRequest::WalkForward(r) => (&r.dataset_id, r.search.rules.as_ref()),
        }
    }
}

/// How a parent's progress reads: "Run i/N", or for a walk-forward of `folds` folds of `runs`
/// runs, "Param p/P, Fold f/F".
#[derive(Clone, Copy, Debug)]
pub enum Units {
    Runs,
    Folds { runs: u64, folds: u64 },
}

impl Units {
    /// Reports `done` of `total` units to `reporter` in these words.
    fn report(self, reporter: &Reporter, done: u64, total: u64) -> Flow {
        match self {
            Units::Runs => reporter.report(done, total, format_args!("Run {done}/{total}")),
            Units::Folds { runs, folds } => {
                let fold = (done.saturating_sub(1) / runs.max(1) + 1).min(folds);
                let param = done - (fold - 1) * runs;
                reporter.report(
                    done,
                    total,
                    format_args!("Param {param}/{runs}, Fold {fold}/{folds}"),
                )
            }
        }
    }
}

/// Runs `chunk` jobs: reads the parent's request, loads its dataset (from Postgres: no shared
/// disk), and computes the chunk's runs ("Run i/m"). The last parent's dataset and program stay
/// loaded, so a process that runs several chunks of one job loads them once.
#[derive(Default)]
pub struct ChunkHandler {
    last: Mutex<Option<(Uuid, Arc<JobInput>)>>,
}

impl ChunkHandler {
    async fn input(
        &self,
        deps: &HandlerDeps,
        parent: Uuid,
        req: &ParentRequest,
    ) -> Result<Arc<JobInput>, HandlerError> {
        let cached = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some((_, input)) = cached.filter(|(id, _)| *id == parent) {
            return Ok(input);
        }
        let (dataset_id, rules) = req.input_of();
        let input = Arc::new(JobInput::load(deps, dataset_id, rules).await?);
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((parent, input.clone()));
        Ok(input)
    }
}

#[async_trait]
impl Handler for ChunkHandler {
    async fn run(&self, job: &ClaimedJob, deps: &HandlerDeps, mut reporter: Reporter) -> Handled {
        let args: ChunkArgs = parse(&job.args)?;
        let req = parent_request(deps, &args).await?;
        let input = self.input(deps, args.parent_id, &req).await?;
        let limits = limits(deps.max_grid);
        compute(move || {
            let (series, program) = (&input.series, input.program.as_ref());
            let range = args.start..args.end;
            let out = run_chunk(series, req.job(), program, range, &limits, &mut reporter)?;
            Ok(ChunkResult::of(args.start, out))
        })
        .await
    }
}

/// The parent's request, as it was stored.
async fn parent_request(
    deps: &HandlerDeps,
    args: &ChunkArgs,
) -> Result<ParentRequest, HandlerError> {
    let read = |e: StoreError| match e {
        StoreError::NotFound(id) => HandlerError::Terminal(format!("no parent job {id}")),
        other => HandlerError::Retryable(format!("could not read the parent job: {other}")),
    };
    let kind = deps.store.status(args.parent_id).await.map_err(read)?.kind;
    let parent = deps.store.args(args.parent_id).await.map_err(read)?;
    match kind {
        JobKind::Optimize => Ok(ParentRequest::Optimize(parse(&parent)?)),
        JobKind::WalkForward => Ok(ParentRequest::WalkForward(parse(&parent)?)),
        other => Err(HandlerError::Terminal(format!(
            "a {other} job does not fan out into chunks"
        ))),
    }
}

/// The job's reporter, shared between the fan-out's chunks and the final step.
pub struct SharedReporter(pub Arc<Reporter>);

impl ProgressSink for SharedReporter {
    fn report(&self, done: u64, total: u64, message: std::fmt::Arguments<'_>) -> Flow {
        self.0.report(done, total, message)
    }

    fn checkpoint(&self, checkpoint: Value) {
        self.0.checkpoint(checkpoint)
    }

    fn begin_phase(&self) {
        self.0.begin_phase()
    }
}

/// Reports a chunk run in the parent's process as progress of the parent: the runs its chunks
/// had done when the chunk started, plus the chunk's.
struct ParentSink {
    parent: Arc<Reporter>,
    before: u64,
    runs: u64,
    units: Units,
}

impl ProgressSink for ParentSink {
    fn report(&self, done: u64, _total: u64, _message: std::fmt::Arguments<'_>) -> Flow {
        let done = (self.before + done).min(self.runs);
        self.units.report(&self.parent, done, self.runs)
    }

    fn checkpoint(&self, _checkpoint: Value) {}

    fn begin_phase(&self) {}
}

/// The parent's side of a fanned-out job of `runs` units split into `ranges`: creates the
/// chunks (once: a rescued parent finds them), then until every chunk has succeeded runs its
/// own queued chunks and shows the chunks' summed progress in `units`' words. Returns every
/// unit's metric in order.
///
/// A failed chunk (out of attempts) fails the parent and cancels the rest; a cancel of the
/// parent reaches every chunk in the same statement (`request_cancel.sql`); on shutdown the
/// parent stops and its chunks stay for other workers.
#[allow(clippy::too_many_arguments)]
pub async fn fan_out(
    job: &ClaimedJob,
    deps: &HandlerDeps,
    reporter: &Arc<Reporter>,
    input: &Arc<JobInput>,
    req: &Arc<ParentRequest>,
    ranges: &[(u64, u64)],
    (runs, units): (u64, Units),
    plan: &Arc<SearchPlan>,
) -> Result<Vec<f64>, HandlerError> {
    let db = |e: StoreError| HandlerError::Retryable(format!("the chunks' database: {e}"));
    let added = deps
        .store
        .create_chunks(job.id, 0, Some(PROGRAM_VERSION), ranges)
        .await
        .map_err(db)?;
    deps.store.log(job.id).line(&format!(
        "fanned out: {runs} {} in {} chunks of up to {} runs{}",
        match units {
            Units::Runs => "runs",
            Units::Folds { .. } => "in-sample runs (folds × runs)",
        },
        ranges.len(),
        ranges.iter().map(|r| r.1 - r.0).max().unwrap_or(0),
        if added == 0 {
            " (created by an earlier attempt)"
        } else {
            ""
        }
    ));
    // The results of the chunks run here: not read back.
    let mut own = BTreeMap::new();
    loop {
        if reporter.flow() == Flow::Stop {
            return Err(HandlerError::Stopped);
        }
        let p = deps.store.chunk_progress(job.id).await.map_err(db)?;
        let done = (p.runs_done.max(0) as u64).min(runs);
        if units.report(reporter, done, runs) == Flow::Stop {
            return Err(HandlerError::Stopped);
        }
        if p.failed > 0 || p.cancelled > 0 {
            deps.store.cancel_chunks(job.id).await.map_err(db)?;
            return Err(HandlerError::Terminal(match p.error {
                Some(e) => format!("a chunk failed: {e}"),
                None => "a chunk was cancelled on its own; the job cannot finish".into(),
            }));
        }
        if p.succeeded == p.chunks {
            break;
        }
        // Every queued chunk of ours, run here with one built sweep; then wait for the others.
        let ran = run_own_chunks(job, deps, reporter, input, req, (runs, units), plan).await?;
        if ran.is_empty() {
            tokio::time::sleep(WAIT).await;
        }
        own.extend(ran);
    }
    deps.store
        .chunk_metrics(job.id, runs, own)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            HandlerError::Terminal(format!("the chunks' results do not cover the {runs} runs"))
        })
}

/// Runs the parent's queued chunks in the parent's process, one after another, with one sweep
/// built for all of them (one blocking task); each chunk is heartbeated while it runs and its
/// end recorded under its lease, as a worker would. A chunk's result is written while the next
/// one computes. Returns the results of the chunks it ran, by chunk index.
async fn run_own_chunks(
    job: &ClaimedJob,
    deps: &HandlerDeps,
    reporter: &Arc<Reporter>,
    input: &Arc<JobInput>,
    req: &Arc<ParentRequest>,
    (runs, units): (u64, Units),
    plan: &Arc<SearchPlan>,
) -> Result<BTreeMap<u32, ChunkResult>, HandlerError> {
    let runtime = tokio::runtime::Handle::current();
    let (store, parent) = (deps.store.clone(), job.id);
    let worker_id = format!("{}:fan-out", deps.instance_id);
    let node_id = deps.node_id.clone();
    let every = ReporterConfig::for_kind(JobKind::Chunk).heartbeat_interval;
    let (input, req, plan, reporter) = (input.clone(), req.clone(), plan.clone(), reporter.clone());
    blocking(move || {
        let claim = || match runtime.block_on(store.claim_chunk(parent, &worker_id, &node_id)) {
            Ok(chunk) => chunk,
            Err(e) => {
                tracing::warn!(job = %parent, error = %e, "claiming a chunk failed");
                None
            }
        };
        // Nothing queued: no sweep to build.
        let Some(first) = claim() else {
            return Ok(BTreeMap::new());
        };
        let recorded = |written: Result<(), StoreError>| match written {
            // Rescued or cancelled meanwhile: the chunk's current run decides.
            Ok(()) | Err(StoreError::Stale { .. }) => Ok(()),
            Err(e) => Err(HandlerError::Retryable(format!(
                "recording a chunk failed: {e}"
            ))),
        };
        // Waits for the write of the last chunk's end, still in flight.
        let settle = |pending: Option<Pending>| match pending.map(|p| runtime.block_on(p)) {
            None => Ok(()),
            Some(Ok(written)) => recorded(written),
            Some(Err(e)) => Err(HandlerError::Retryable(format!(
                "recording a chunk failed: {e}"
            ))),
        };
        let series = &input.series;
        let program = input.program.as_ref();
        let ran = with_chunk_eval(series, req.job(), program, &plan, |eval| {
            let mut ran = BTreeMap::new();
            let mut pending: Option<Pending> = None;
            // Runs done by the time the last chunk here ended (its end may not be written yet).
            let mut floor = 0;
            let mut next = Some(first);
            while let Some(chunk) = next.take().or_else(claim) {
                let args: ChunkArgs = parse(&chunk.args)?;
                let before = runtime
                    .block_on(store.chunk_progress(parent))
                    .map_or(0, |p| p.runs_done.max(0) as u64)
                    .max(floor);
                let heartbeat =
                    runtime.spawn(keep_alive(store.clone(), chunk.id, chunk.lease, every));
                let sink = ParentSink {
                    parent: reporter.clone(),
                    before,
                    runs,
                    units,
                };
                let outcome = eval(args.start..args.end, &sink);
                heartbeat.abort();
                settle(pending.take())?;
                match outcome {
                    Ok(out) => {
                        let result = ChunkResult::of(args.start, out);
                        let value = serde_json::to_value(&result).map_err(|e| {
                            HandlerError::Terminal(format!(
                                "could not encode a chunk's result: {e}"
                            ))
                        })?;
                        let store = store.clone();
                        pending = Some(runtime.spawn(async move {
                            store.complete(chunk.id, chunk.lease, &value).await
                        }));
                        ran.insert(args.index, result);
                        floor = before + (args.end - args.start);
                    }
                    Err(EngineError::Stopped) => {
                        // Shutting down: the chunk goes back to the queue for other workers;
                        // cancelled with the parent: the hand-back ends it CANCELLED.
                        let _ = runtime.block_on(store.release(chunk.id, chunk.lease));
                        return Err(HandlerError::Stopped);
                    }
                    Err(e) => recorded(
                        runtime
                            .block_on(store.fail(chunk.id, chunk.lease, &e.to_string(), None))
                            .map(|_| ()),
                    )?,
                }
            }
            settle(pending.take())?;
            Ok(ran)
        });
        match ran {
            Ok(inner) => inner,
            Err(EngineError::Stopped) => Err(HandlerError::Stopped),
            Err(e) => Err(HandlerError::Terminal(e.to_string())),
        }
    })
    .await
}
