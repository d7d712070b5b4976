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
    Constraint, GridSpec, Heatmap, Limits, Metric, OptimizeRequest, RunSummary, WalkForwardRequest,
    WalkForwardResult,
};
use serde::{Deserialize, Serialize};

use super::super::data::Series;
use super::super::metrics::TimeInfo;
use super::super::progress::ProgressSink;
use super::super::rules::{check_rule_walkforward, Program, RuleGrid};
use super::super::walkforward::{money_of, walkforward_sweep_with};
use super::super::EngineError;
use super::{Money, Resumed, Sweep};

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
    fn money(self) -> Money {
        match self {
            ChunkJob::Optimize(r) => Money {
                cash: r.cash,
                commission: r.commission,
                long_only: r.long_only,
            },
            ChunkJob::WalkForward(r) => money_of(r),
        }
    }

    fn metric(self) -> Metric {
        match self {
            ChunkJob::Optimize(r) => r.metric,
            ChunkJob::WalkForward(r) => r.metric,
        }
    }

    fn constraint(self) -> Option<&'r Constraint> {
        match self {
            ChunkJob::Optimize(r) => r.constraint.as_ref(),
            ChunkJob::WalkForward(r) => r.constraint.as_ref(),
        }
    }
}

/// A job's grid after the checks the job itself makes: a built-in's or a program's.
enum CheckedGrid {
    Builtin(GridSpec),
    Rules(RuleGrid),
}

impl CheckedGrid {
    fn of(
        series: &Series,
        job: ChunkJob<'_>,
        program: Option<&Program>,
        limits: &Limits,
    ) -> Result<CheckedGrid, EngineError> {
        check_series(series)?;
        Ok(match (job, program) {
            (ChunkJob::Optimize(req), None) => {
                let grid = req.grid_spec(limits)?;
                req.validate_against_bars(series.len(), limits)?;
                CheckedGrid::Builtin(grid)
            }
            (ChunkJob::Optimize(req), Some(program)) => {
                req.validate(limits)?;
                let grid = program.grid(&req.grid, req.constraint.as_ref(), limits)?;
                grid.check_warmup(series.len(), "grid", "the dataset")?;
                CheckedGrid::Rules(grid)
            }
            (ChunkJob::WalkForward(req), None) => {
                let grid = req.grid_spec(limits)?;
                req.validate_against_bars(series.len(), limits)?;
                CheckedGrid::Builtin(grid)
            }
            (ChunkJob::WalkForward(req), Some(program)) => CheckedGrid::Rules(
                check_rule_walkforward(program, req, Some(series.len()), limits)?,
            ),
        })
    }

    fn runs(&self) -> u64 {
        match self {
            CheckedGrid::Builtin(g) => g.runs,
            CheckedGrid::Rules(g) => g.runs,
        }
    }
}

/// The windows a job's runs are evaluated over: the whole dataset, or each fold's in-sample.
fn windows_of(series: &Series, job: ChunkJob<'_>) -> Result<Vec<(usize, usize)>, EngineError> {
    Ok(match job {
        ChunkJob::Optimize(_) => vec![(0, series.len())],
        ChunkJob::WalkForward(req) => req
            .windows(series.len())?
            .iter()
            .map(|w| w.in_sample)
            .collect(),
    })
}

/// The number of units of `job` (of `program` when it runs one), after the same checks the
/// job makes: what the parent splits into chunks.
pub fn chunk_run_count(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    limits: &Limits,
) -> Result<u64, EngineError> {
    let grid = CheckedGrid::of(series, job, program, limits)?;
    Ok(grid.runs() * windows_of(series, job)?.len() as u64)
}

/// Checks `job`, builds its sweep (its runs and indicator cache) and hands it to `body`.
fn with_sweep<R>(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    limits: &Limits,
    body: impl FnOnce(&Sweep<'_>) -> R,
) -> Result<R, EngineError> {
    let grid = CheckedGrid::of(series, job, program, limits)?;
    let sweep = match (&grid, program) {
        (CheckedGrid::Builtin(spec), _) => Sweep::new(series, spec, job.constraint(), job.money()),
        (CheckedGrid::Rules(g), Some(program)) => Sweep::for_rules(series, program, g, job.money()),
        (CheckedGrid::Rules(_), None) => unreachable!("a rule grid comes from a program"),
    };
    Ok(body(&sweep))
}

/// Builds the job's sweep once and hands `body` an evaluator for any ranges of its units: a
/// process that runs several chunks of one job pays for the sweep once. The values are exactly
/// those a single-process optimization or walk-forward computes.
pub fn with_chunk_eval<R>(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    limits: &Limits,
    body: impl FnOnce(&ChunkEval<'_>) -> R,
) -> Result<R, EngineError> {
    let windows = windows_of(series, job)?;
    with_sweep(series, job, program, limits, |sweep| {
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
                    job.metric(),
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
        body(&eval)
    })
}

/// Units `range` of `job`, reporting "Run i/m" for the chunk's `m` units: one chunk, as a
/// worker runs it.
pub fn run_chunk(
    series: &Series,
    job: ChunkJob<'_>,
    program: Option<&Program>,
    range: Range<u64>,
    limits: &Limits,
    sink: &mut dyn ProgressSink,
) -> Result<ChunkOutput, EngineError> {
    let sink: &dyn ProgressSink = sink;
    with_chunk_eval(series, job, program, limits, |eval| eval(range, sink))?
}

/// A walk-forward whose in-sample metrics are known (`fold_metrics[f]`: fold `f`'s runs in
/// grid order, from its chunks): each fold's choice, robustness, out-of-sample trading and the
/// stitched curve, exactly as the job computes them itself.
pub fn run_walkforward_from_metrics(
    series: &Series,
    req: &WalkForwardRequest,
    program: Option<&Program>,
    fold_metrics: &[Vec<f64>],
    sink: &mut dyn ProgressSink,
    limits: &Limits,
) -> Result<Resumed<WalkForwardResult>, EngineError> {
    let job = ChunkJob::WalkForward(req);
    with_sweep(series, job, program, limits, |sweep| {
        walkforward_sweep_with(series, sweep, req, None, sink, Some(fold_metrics))
    })?
}

fn check_series(series: &Series) -> Result<(), EngineError> {
    series.check().map_err(|m| EngineError::InvalidInput {
        field: "dataset_id".into(),
        message: m,
    })
}
