//! One range of an optimization's runs, for fan-out (issue 10): a large optimize job is split
//! into chunks that worker processes on any machine evaluate ([`optimize_chunk`]); the parent
//! assembles their metrics, in grid order, into a complete [`OptimizeCheckpoint`] and finishes
//! as a resumed optimization would (ranking, top runs, heatmap, robustness). A run's metric
//! depends on that run alone, so the result is bit-identical to a single-process run.
//!
//! [`OptimizeCheckpoint`]: super::OptimizeCheckpoint

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use app::model::research::{
    Account, Heatmap, Limits, OptimizeRequest, RunSummary, Search, WalkForwardRequest,
    WalkForwardResult,
};
use serde::{Deserialize, Serialize};

use super::super::data::Series;
use super::super::metrics::TimeInfo;
use super::super::progress::ProgressSink;
use super::super::rules::Program;
use super::super::walkforward::walkforward_sweep_with;
use super::super::EngineError;
use super::{Resumed, SearchPlan, CACHE_BUDGET_BYTES};

/// Evaluates ranges of one optimization's runs: `eval(range, sink)` gives the metric of runs
/// `range` (in the grid's run order, over the whole dataset, reporting "Run i/m" for the
/// range's `m` runs to `sink`) and their [`ChunkSummary`].
pub type ChunkEval<'e> =
    dyn Fn(Range<u64>, &dyn ProgressSink) -> Result<ChunkOutput, EngineError> + 'e;

/// One evaluated range of runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkOutput {
    pub metrics: Vec<f64>,
    /// An optimization's chunk: what it adds to the live heatmap and top runs.
    pub summary: Option<ChunkSummary>,
}

/// What one chunk adds to the live view of its optimization: its best metric per heatmap cell
/// (sparse: only the cells its runs fall in) and its best runs. Merged over the finished chunks
/// by [`merge_summaries`]; over every chunk, that is the final heatmap and top runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkSummary {
    pub x_param: String,
    pub x_values: Vec<f64>,
    pub y_param: Option<String>,
    pub y_values: Vec<f64>,
    /// `(x index, y index, best metric)`.
    pub cells: Vec<(u32, u32, f64)>,
    /// Its best runs, best first (defined metrics only).
    pub top: Vec<ChunkTop>,
}

/// One of a chunk's best runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkTop {
    /// Its index in the grid's run order (ties go to the earlier run, as in the final ranking).
    pub run: u64,
    pub metric: f64,
    pub params: BTreeMap<String, f64>,
}

/// The heatmap and the `top_n` best runs over the finished chunks' summaries (the axes of the
/// first). Cells outside the axes are ignored. `None` without summaries.
pub fn merge_summaries(
    summaries: &[ChunkSummary],
    top_n: usize,
) -> Option<(Heatmap, Vec<RunSummary>)> {
    let first = summaries.first()?;
    let (w, h) = (first.x_values.len(), first.y_values.len());
    let mut cells = vec![vec![None::<f64>; w]; h];
    let mut top: Vec<&ChunkTop> = Vec::new();
    for s in summaries {
        for &(x, y, m) in &s.cells {
            if let Some(c) = cells
                .get_mut(y as usize)
                .and_then(|row| row.get_mut(x as usize))
            {
                if m.is_finite() && c.is_none_or(|v| m > v) {
                    *c = Some(m);
                }
            }
        }
        top.extend(s.top.iter().filter(|t| t.metric.is_finite()));
    }
    top.sort_by(|a, b| b.metric.total_cmp(&a.metric).then(a.run.cmp(&b.run)));
    let top = top
        .into_iter()
        .take(top_n.max(1))
        .map(|t| RunSummary {
            params: t.params.clone(),
            metric: Some(t.metric),
            stats: None,
            plateau: None,
        })
        .collect();
    let heatmap = Heatmap {
        x_param: first.x_param.clone(),
        x_values: first.x_values.clone(),
        y_param: first.y_param.clone(),
        y_values: first.y_values.clone(),
        cells,
    };
    Some((heatmap, top))
}

/// What a chunk is part of, and what its units are.
#[derive(Clone, Copy, Debug)]
pub enum ChunkJob<'r> {
    /// Unit `v` is run `v` in the grid's run order, over the whole dataset.
    Optimize(&'r OptimizeRequest),
    /// Folds × runs: unit `v` is run `v % P` of fold `v / P` (P runs per fold), over the
    /// fold's in-sample window: every in-sample run of the walk-forward.
    WalkForward(&'r WalkForwardRequest),
}

impl<'r> ChunkJob<'r> {
    /// The job's search and its account.
    pub(super) fn parts(self) -> (&'r Search, Account) {
        match self {
            ChunkJob::Optimize(r) => (&r.search, r.account),
            ChunkJob::WalkForward(r) => (&r.search, r.account),
        }
    }
}

/// Builds the sweep of `job` (checked into `plan`) once and hands `body` an evaluator for any
/// ranges of its units: a process that runs several chunks of one job pays for the sweep once.
/// The values are exactly those a single-process optimization or walk-forward computes.
pub fn with_chunk_eval<R>(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    plan: &SearchPlan,
    body: impl FnOnce(&ChunkEval<'_>) -> R,
) -> Result<R, EngineError> {
    let windows = plan.windows();
    let sweep = plan.sweep(series, job, program, CACHE_BUDGET_BYTES)?;
    {
        let per_window = sweep.len() as u64;
        let n = per_window * windows.len() as u64;
        let times: Vec<TimeInfo> = windows
            .iter()
            .map(|&(a, b)| TimeInfo::new(&series.ts[a..b]))
            .collect();
        let eval = |range: Range<u64>, sink: &dyn ProgressSink| {
            if range.start > range.end || range.end > n {
                return Err(EngineError::InvalidInput {
                    field: "chunk".into(),
                    message: format!(
                        "units {}..{} are not within the job's {n} units",
                        range.start, range.end
                    ),
                });
            }
            let m = range.end - range.start;
            let finished = AtomicU64::new(0);
            let on_run = || {
                let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
                sink.report(done, m, format_args!("Run {done}/{m}"))
            };
            // A range may cross from one window (fold) into the next.
            let mut metrics = Vec::with_capacity(m as usize);
            let mut v = range.start;
            while v < range.end {
                let w = (v / per_window) as usize;
                let k0 = v % per_window;
                let k1 = per_window.min(k0 + (range.end - v));
                let (a, b) = windows[w];
                let part = sweep.evaluate(
                    k0 as usize..k1 as usize,
                    a,
                    b,
                    &times[w],
                    job.parts().0.metric,
                    &on_run,
                )?;
                metrics.extend(part);
                v += k1 - k0;
            }
            let summary = match job {
                ChunkJob::Optimize(req) => {
                    Some(sweep.chunk_summary(range.start as usize, &metrics, req.top_n))
                }
                ChunkJob::WalkForward(_) => None,
            };
            Ok(ChunkOutput { metrics, summary })
        };
        Ok(body(&eval))
    }
}

/// Units `range` of `job`, reporting "Run i/m" for the chunk's `m` units: one chunk, as a
/// worker runs it (the job is checked first, as its parent was).
pub fn run_chunk(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    range: Range<u64>,
    limits: &Limits,
    sink: &mut dyn ProgressSink,
) -> Result<ChunkOutput, EngineError> {
    let sink: &dyn ProgressSink = sink;
    let plan = SearchPlan::check(series, job, program, limits)?;
    with_chunk_eval(series, job, program, &plan, |eval| eval(range, sink))?
}

/// A walk-forward whose in-sample metrics are known (`fold_metrics[f]`: fold `f`'s runs in
/// grid order, from its chunks), checked into `plan`: each fold's choice, robustness,
/// out-of-sample trading and the stitched curve, exactly as the job computes them itself.
pub fn run_walkforward_from_metrics(
    series: &Series,
    req: &WalkForwardRequest,
    program: Option<&Program>,
    plan: &SearchPlan,
    fold_metrics: &[Vec<f64>],
    sink: &mut dyn ProgressSink,
) -> Result<Resumed<WalkForwardResult>, EngineError> {
    let job = ChunkJob::WalkForward(req);
    let sweep = plan.sweep(series, job, program, CACHE_BUDGET_BYTES)?;
    walkforward_sweep_with(
        series,
        &sweep,
        req,
        plan.folds(),
        None,
        sink,
        Some(fold_metrics),
    )
}
