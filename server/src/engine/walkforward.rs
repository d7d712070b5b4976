//! Walk-forward analysis: for each fold, optimize over the in-sample window, then trade the
//! winning parameters on the following out-of-sample window.
//!
//! Indicators are computed once on the whole series (they are causal, so a window sees nothing
//! from its future) and shared by every fold and run; each window's simulation starts flat with
//! the request's cash. Progress "Param p/P, Fold f/F" as each in-sample run finishes (the sink
//! decides what is worth showing); a checkpoint (the best run of each finished fold) after
//! every fold, so a resumed job skips finished folds.
//!
//! Walk-forward efficiency = mean annualized out-of-sample return / mean annualized in-sample
//! return of the chosen parameters (Pardo's definition, averaged over folds); undefined when the
//! in-sample mean is not positive. The out-of-sample equity curves are chained: each fold's curve
//! is rescaled to start at the previous fold's final equity, i.e. returns compound across folds.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use app::model::research::{
    EquityPoint, FoldResult, FoldWindows, Limits, Robustness, WalkForwardRequest,
    WalkForwardResult, WalkForwardRobustness,
};

use super::backtest::equity_points;
use super::data::Series;
use super::metrics::TimeInfo;
use super::optimize::{best_index, ChunkJob, Resumed, SearchPlan, Sweep, CACHE_BUDGET_BYTES};
use super::progress::{Flow, ProgressSink};
use super::rules::Program;
use super::search_robustness::{bootstrap_figure, returns_of, search_robustness};
use super::EngineError;

/// Finished folds of an interrupted walk-forward job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardCheckpoint {
    /// Number of folds of the job (guards against resuming a different request).
    pub folds: usize,
    /// Runs per fold (guards against a different grid).
    pub runs_per_fold: u64,
    /// Best run (index in the grid's run order) of each finished fold.
    pub best_runs: Vec<u64>,
    /// Its in-sample metric, as IEEE-754 bits (exact JSON round trip, NaN kept).
    pub best_metric_bits: Vec<u64>,
    /// Robustness of each finished fold's in-sample search (when the request asks for it).
    #[serde(default)]
    pub robustness: Vec<Option<Robustness>>,
}

/// Runs a walk-forward analysis with the default [`Limits`]; see [`run_walkforward_resumable`].
pub fn run_walkforward(
    series: &Series,
    req: &WalkForwardRequest,
    resume: Option<WalkForwardCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<WalkForwardResult, EngineError> {
    run_walkforward_resumable(series, req, resume, sink, &Limits::default()).map(|r| r.result)
}

/// Runs a walk-forward analysis (see the module docs), and says where the run started: the
/// runs of the folds the checkpoint had finished (finished folds × runs per fold; 0 without a
/// checkpoint).
pub fn run_walkforward_resumable(
    series: &Series,
    req: &WalkForwardRequest,
    resume: Option<WalkForwardCheckpoint>,
    sink: &mut dyn ProgressSink,
    limits: &Limits,
) -> Result<Resumed<WalkForwardResult>, EngineError> {
    let plan = SearchPlan::check(series, ChunkJob::WalkForward(req), None, limits)?;
    walkforward_planned(series, req, None, &plan, resume, sink)
}

/// The walk-forward of `req` (of `program`, when it runs one) as checked into `plan`: what a
/// job's handler runs, having checked the job once. With `resume`, skips the checkpoint's
/// finished folds.
pub fn walkforward_planned(
    series: &Series,
    req: &WalkForwardRequest,
    program: Option<&Program>,
    plan: &SearchPlan,
    resume: Option<WalkForwardCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<Resumed<WalkForwardResult>, EngineError> {
    let job = ChunkJob::WalkForward(req);
    let sweep = plan.sweep(series, job, program, CACHE_BUDGET_BYTES)?;
    walkforward_sweep_with(series, &sweep, req, plan.folds(), resume, sink, None)
}

/// The walk-forward of a built sweep (a built-in's or a rule program's) over the checked
/// `windows` (the folds): the folds, their robustness, the stitched curve. Each fold's
/// in-sample metrics come from `known` (computed by a fanned-out job's chunks) when given,
/// instead of being evaluated.
pub(crate) fn walkforward_sweep_with(
    series: &Series,
    sweep: &Sweep<'_>,
    req: &WalkForwardRequest,
    windows: &[FoldWindows],
    resume: Option<WalkForwardCheckpoint>,
    sink: &mut dyn ProgressSink,
    known: Option<&[Vec<f64>]>,
) -> Result<Resumed<WalkForwardResult>, EngineError> {
    let p_total = sweep.len() as u64;
    let f_total = windows.len();

    let mut cp = match resume {
        None => WalkForwardCheckpoint {
            folds: f_total,
            runs_per_fold: p_total,
            best_runs: Vec::new(),
            best_metric_bits: Vec::new(),
            robustness: Vec::new(),
        },
        Some(cp) => {
            if cp.folds != f_total
                || cp.runs_per_fold != p_total
                || cp.best_runs.len() != cp.best_metric_bits.len()
                || cp.best_runs.len() > f_total
                || cp.best_runs.iter().any(|&r| r >= p_total)
                || (req.search.robustness.enabled && cp.robustness.len() != cp.best_runs.len())
            {
                return Err(EngineError::BadCheckpoint(format!(
                    "checkpoint is for {} folds of {} runs; this job has {f_total} folds of {p_total} runs",
                    cp.folds, cp.runs_per_fold
                )));
            }
            cp
        }
    };

    let sink: &dyn ProgressSink = sink;
    // With robustness, each fold's progress is its sweep (P units) then its robustness step
    // (scaled to another P units): one bar for the whole job, written at most the usual
    // number of times.
    let robust = req.search.robustness.enabled;
    let fold_units = if robust { 2 * p_total } else { p_total };
    let total_units = fold_units * f_total as u64;
    let resumed_from = cp.best_runs.len() as u64 * p_total;
    for (f, w) in windows.iter().enumerate().skip(cp.best_runs.len()) {
        let (a, b) = w.in_sample;
        let time = TimeInfo::new(&series.ts[a..b]);
        let (fold, before) = (f + 1, f as u64 * fold_units);
        let finished = AtomicU64::new(0);
        let on_run = || {
            let p = finished.fetch_add(1, Ordering::Relaxed) + 1;
            sink.report(
                before + p,
                total_units,
                format_args!("Param {p}/{p_total}, Fold {fold}/{f_total}"),
            )
        };
        let metrics = match known {
            None => sweep.evaluate(0..p_total as usize, a, b, &time, req.search.metric, &on_run)?,
            Some(known) => {
                let fold_metrics = known.get(f).filter(|m| m.len() as u64 == p_total);
                let Some(metrics) = fold_metrics else {
                    return Err(EngineError::BadCheckpoint(format!(
                        "fold {fold} has no metrics for its {p_total} runs"
                    )));
                };
                sink.report(
                    before + p_total,
                    total_units,
                    format_args!("Param {p_total}/{p_total}, Fold {fold}/{f_total}"),
                );
                metrics.clone()
            }
        };
        let best = best_index(&metrics);
        if robust {
            let report = |d: u64, t: u64| {
                let scaled = (d as u128 * p_total as u128 / t.max(1) as u128) as u64;
                sink.report(
                    before + p_total + scaled,
                    total_units,
                    format_args!("Robustness {d}/{t}, Fold {fold}/{f_total}"),
                )
            };
            let r = search_robustness(
                sweep,
                (a, b),
                &metrics,
                best,
                &req.search.robustness,
                &report,
            )?;
            cp.robustness.push(Some(r));
        }
        cp.best_runs.push(best as u64);
        cp.best_metric_bits.push(metrics[best].to_bits());
        if cp.best_runs.len() < f_total {
            if let Ok(v) = serde_json::to_value(&cp) {
                sink.checkpoint(v);
            }
        }
    }

    // Full statistics of each fold's winner, in and out of sample.
    let per_fold: Vec<(FoldResult, Vec<f64>)> = windows
        .par_iter()
        .enumerate()
        .map(|(f, w)| {
            let k = cp.best_runs[f] as usize;
            let (is_stats, _) = sweep.full(k, w.in_sample.0, w.in_sample.1);
            let (oos_stats, oos_equity) = sweep.full(k, w.out_of_sample.0, w.out_of_sample.1);
            let m = f64::from_bits(cp.best_metric_bits[f]);
            let t = |i: usize| series.ts[i.min(series.len() - 1)];
            (
                FoldResult {
                    fold: f + 1,
                    in_sample: w.in_sample,
                    out_of_sample: w.out_of_sample,
                    in_sample_time: (t(w.in_sample.0), t(w.in_sample.1 - 1)),
                    out_of_sample_time: (t(w.out_of_sample.0), t(w.out_of_sample.1 - 1)),
                    best_params: sweep.params(k),
                    in_sample_metric: m.is_finite().then_some(m),
                    in_sample_stats: is_stats,
                    out_of_sample_stats: oos_stats,
                    robustness: cp.robustness.get(f).cloned().flatten(),
                },
                oos_equity,
            )
        })
        .collect();

    // Chain the out-of-sample curves.
    let mut ts = Vec::new();
    let mut eq = Vec::new();
    let mut level = req.account.cash;
    for ((fold, curve), w) in per_fold.iter().zip(windows) {
        let _ = fold;
        let scale = level / req.account.cash;
        for (k, e) in curve.iter().enumerate() {
            ts.push(series.ts[w.out_of_sample.0 + k]);
            eq.push(e * scale);
        }
        if let Some(last) = eq.last() {
            level = *last;
        }
    }
    let oos_equity: Vec<EquityPoint> = equity_points(&ts, &eq);
    let mean = |v: Vec<f64>| {
        if v.is_empty() {
            None
        } else {
            Some(v.iter().sum::<f64>() / v.len() as f64)
        }
    };
    let pairs: Vec<(f64, f64)> = per_fold
        .iter()
        .filter_map(|(f, _)| {
            Some((
                f.in_sample_stats.return_ann_pct?,
                f.out_of_sample_stats.return_ann_pct?,
            ))
        })
        .collect();
    let is_mean = mean(pairs.iter().map(|p| p.0).collect());
    let oos_mean = mean(pairs.iter().map(|p| p.1).collect());
    let efficiency = match (is_mean, oos_mean) {
        (Some(i), Some(o)) if i > 0.0 => Some(o / i),
        _ => None,
    }
    // A tiny in-sample mean can overflow the ratio: not finite is undefined.
    .filter(|e| e.is_finite());
    let oos_return_pct = eq
        .last()
        .map(|l| (l / req.account.cash - 1.0) * 100.0)
        .filter(|v| v.is_finite());
    let folds: Vec<FoldResult> = per_fold.into_iter().map(|(f, _)| f).collect();
    let robustness = if req.search.robustness.enabled {
        Some(walk_forward_robustness(&folds, &eq, req, sink)?)
    } else {
        None
    };
    Ok(Resumed {
        result: WalkForwardResult {
            metric: req.search.metric,
            folds,
            oos_equity,
            oos_return_pct,
            efficiency,
            robustness,
        },
        resumed_from,
    })
}

/// The folds' robustness summed up (medians of PBO and DSR), and the bootstrap significance of
/// the stitched out-of-sample returns (the walk-forward's own test: nothing was selected on them).
fn walk_forward_robustness(
    folds: &[FoldResult],
    stitched_equity: &[f64],
    req: &WalkForwardRequest,
    sink: &dyn ProgressSink,
) -> Result<WalkForwardRobustness, EngineError> {
    let median = |mut v: Vec<f64>| -> Option<f64> {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let m = v.len() / 2;
        Some(if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        })
    };
    let figures = |f: &dyn Fn(&Robustness) -> Option<f64>| -> Vec<f64> {
        folds
            .iter()
            .filter_map(|fold| fold.robustness.as_ref().and_then(f))
            .collect()
    };
    let mut notes = Vec::new();
    let mut returns = Vec::new();
    returns_of(stitched_equity, &mut returns);
    sink.begin_phase();
    let total = req.search.robustness.draws as u64;
    let done = AtomicU64::new(0);
    let tick = |units: u64| {
        let d = done.fetch_add(units, Ordering::Relaxed) + units;
        sink.report(
            d,
            total,
            format_args!("Robustness {d}/{total}, out of sample"),
        ) == Flow::Continue
    };
    let oos_bootstrap = bootstrap_figure(&returns, &req.search.robustness, &tick, &mut notes)?;
    Ok(WalkForwardRobustness {
        median_pbo: median(figures(&|r| r.pbo.as_ref().map(|p| p.pbo))),
        median_dsr: median(figures(&|r| {
            r.deflated_sharpe.as_ref().map(|d| d.probability)
        })),
        oos_bootstrap,
        notes,
    })
}

#[cfg(test)]
mod tests;
