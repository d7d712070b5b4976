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

use app::model::research::{Heatmap, Limits, OptimizeRequest, RunSummary};
use serde::{Deserialize, Serialize};

use super::super::data::Series;
use super::super::metrics::TimeInfo;
use super::super::progress::ProgressSink;
use super::super::rules::Program;
use super::super::EngineError;
use super::{Money, Sweep};

/// The number of runs of the optimization `req` (of `program` when it runs one), after the
/// same checks the job makes: what the parent splits into chunks.
pub fn optimize_run_count(
    series: &Series,
    req: &OptimizeRequest,
    program: Option<&Program>,
    limits: &Limits,
) -> Result<u64, EngineError> {
    check_series(series)?;
    match program {
        None => {
            let grid = req.grid_spec(limits)?;
            req.validate_against_bars(series.len(), limits)?;
            Ok(grid.runs)
        }
        Some(program) => {
            req.validate(limits)?;
            let grid = program.grid(&req.grid, req.constraint.as_ref(), limits)?;
            grid.check_warmup(series.len(), "grid", "the dataset")?;
            Ok(grid.runs)
        }
    }
}

/// Evaluates ranges of one optimization's runs: `eval(range, sink)` gives the metric of runs
/// `range` (in the grid's run order, over the whole dataset, reporting "Run i/m" for the
/// range's `m` runs to `sink`) and their [`ChunkSummary`].
pub type ChunkEval<'e> =
    dyn Fn(Range<u64>, &dyn ProgressSink) -> Result<ChunkOutput, EngineError> + 'e;

/// One evaluated range of runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkOutput {
    pub metrics: Vec<f64>,
    pub summary: ChunkSummary,
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

/// Builds the optimization's sweep once (its runs and indicator cache) and hands `body` an
/// evaluator for any ranges of its runs: a process that runs several chunks of one job pays
/// for the sweep once. The values are exactly those a single-process optimization computes.
pub fn with_chunk_eval<R>(
    series: &Series,
    req: &OptimizeRequest,
    program: Option<&Program>,
    limits: &Limits,
    body: impl FnOnce(&ChunkEval<'_>) -> R,
) -> Result<R, EngineError> {
    let n = optimize_run_count(series, req, program, limits)?;
    let money = Money {
        cash: req.cash,
        commission: req.commission,
        long_only: req.long_only,
    };
    let (spec, rule_grid);
    let sweep = match program {
        None => {
            spec = req.grid_spec(limits)?;
            Sweep::new(series, &spec, req.constraint.as_ref(), money)
        }
        Some(program) => {
            rule_grid = program.grid(&req.grid, req.constraint.as_ref(), limits)?;
            Sweep::for_rules(series, program, &rule_grid, money)
        }
    };
    let time = TimeInfo::new(&series.ts);
    let eval = |range: Range<u64>, sink: &dyn ProgressSink| {
        if range.start > range.end || range.end > n {
            return Err(EngineError::InvalidInput {
                field: "chunk".into(),
                message: format!(
                    "runs {}..{} are not within the optimization's {n} runs",
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
        let range = range.start as usize..range.end as usize;
        let start = range.start;
        let metrics = sweep.evaluate(range, 0, series.len(), &time, req.metric, &on_run)?;
        let summary = sweep.chunk_summary(start, &metrics, req.top_n);
        Ok(ChunkOutput { metrics, summary })
    };
    Ok(body(&eval))
}

/// The metric of runs `range` (in the grid's run order) of the optimization `req`, over the
/// whole dataset, reporting "Run i/m" for the chunk's `m` runs: one chunk, as a worker runs it.
pub fn optimize_chunk(
    series: &Series,
    req: &OptimizeRequest,
    program: Option<&Program>,
    range: Range<u64>,
    limits: &Limits,
    sink: &mut dyn ProgressSink,
) -> Result<ChunkOutput, EngineError> {
    let sink: &dyn ProgressSink = sink;
    with_chunk_eval(series, req, program, limits, |eval| eval(range, sink))?
}

fn check_series(series: &Series) -> Result<(), EngineError> {
    series.check().map_err(|m| EngineError::InvalidInput {
        field: "dataset_id".into(),
        message: m,
    })
}
