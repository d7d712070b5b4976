//! Running a checked program: one simulated run, the backtest job and the optimization job.

use std::collections::BTreeMap;

use app::model::research::{
    shortest_in_sample, Account, BacktestReport, FoldWindows, Limits, OptimizeRequest,
    OptimizeResult, WalkForwardRequest,
};
use app::model::FieldError;

use super::super::backtest::{
    full_report, report_bars, simulate_actions, simulate_actions_reporting, RunSpec, Scratch,
    SimOutcome,
};
use super::super::data::Series;
use super::super::optimize::{optimize_planned, ChunkJob, OptimizeCheckpoint, Resumed, SearchPlan};
use super::super::progress::ProgressSink;
use super::super::EngineError;
use super::{ColumnCache, Program, RuleGrid};

impl Program {
    /// A cache holding every column the run with `values` needs (for single runs; sweeps fill
    /// one cache for all their runs).
    pub fn cache_for(&self, series: &Series, values: &[f64]) -> ColumnCache {
        let mut c = ColumnCache::default();
        c.fill(&self.plan, series, [values]);
        c
    }

    /// Fills `scratch.actions` for the run with parameter `values` over `spec`'s window and
    /// simulates it (with the program's stops) into `scratch`. `cache` must hold the run's
    /// columns ([`Program::cache_for`], or a sweep's cache).
    pub fn simulate(
        &self,
        cache: &ColumnCache,
        values: &[f64],
        spec: &RunSpec<'_>,
        scratch: &mut Scratch,
    ) -> SimOutcome {
        let (start, stops) = self.plan.actions(
            spec.series,
            cache,
            values,
            spec.account.long_only,
            self.reenter,
            (spec.a, spec.b),
            &mut scratch.rules,
            &mut scratch.actions,
        );
        simulate_actions(spec, start, stops, scratch)
    }
}

fn invalid(e: FieldError) -> EngineError {
    e.into()
}

/// A backtest of a rule program (the program itself is passed beside it).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleBacktestRequest {
    /// Parameter values by name; missing ones take their default.
    pub params: BTreeMap<String, f64>,
    /// Starting cash, commission rate and long-only mode.
    pub account: Account,
}

impl RuleBacktestRequest {
    /// The rule backtest a [`BacktestRequest`](app::model::research::BacktestRequest) with
    /// `rules` asks for.
    pub fn of(req: &app::model::research::BacktestRequest) -> RuleBacktestRequest {
        RuleBacktestRequest {
            params: req.params.clone(),
            account: req.account,
        }
    }
}

/// Runs one backtest of `program`: as [`run_backtest`](super::super::run_backtest) for the
/// built-ins (progress "Bar i/N" every 1,024 bars and at the end; validation first).
pub fn run_rule_backtest(
    series: &Series,
    program: &Program,
    req: &RuleBacktestRequest,
    sink: &mut dyn ProgressSink,
) -> Result<BacktestReport, EngineError> {
    let sink: &dyn ProgressSink = sink;
    let (values, spec) = checked_rule_run(series, program, req)?;
    let cache = program.cache_for(series, &values);
    let n = series.len() as u64;
    report_bars(sink, 0, n)?;
    let mut scratch = Scratch::default();
    let (start, stops) = program.plan.actions(
        series,
        &cache,
        &values,
        req.account.long_only,
        program.reenter,
        (0, series.len()),
        &mut scratch.rules,
        &mut scratch.actions,
    );
    let outcome = simulate_actions_reporting(&spec, start, stops, &mut scratch, sink)?;
    let rep = full_report(&spec, &scratch, &outcome);
    report_bars(sink, n, n)?;
    Ok(rep)
}

/// The equity after every bar of the backtest [`run_rule_backtest`] runs (the full curve the
/// job's result downsamples), recomputed for the download.
pub fn rule_backtest_equity(
    series: &Series,
    program: &Program,
    req: &RuleBacktestRequest,
) -> Result<Vec<f64>, EngineError> {
    let (values, spec) = checked_rule_run(series, program, req)?;
    let cache = program.cache_for(series, &values);
    let mut scratch = Scratch::default();
    program.simulate(&cache, &values, &spec, &mut scratch);
    Ok(scratch.equity)
}

/// A rule backtest checked against its data: the parameter values and the run over every bar.
fn checked_rule_run<'a>(
    series: &'a Series,
    program: &Program,
    req: &RuleBacktestRequest,
) -> Result<(Vec<f64>, RunSpec<'a>), EngineError> {
    series.checked()?;
    req.account.validate().map_err(invalid)?;
    let values = program
        .resolve_params(&req.params, "params")
        .map_err(invalid)?;
    program
        .validate_against_bars(&values, series.len(), "params")
        .map_err(invalid)?;
    let spec = RunSpec::whole(series, req.account);
    Ok((values, spec))
}

/// Runs a grid search of `program` (`req.grid` names its parameters): as
/// `run_optimize_resumable` for the built-ins (same progress, checkpoints, ranking, heatmap,
/// full grid, plateaus, robustness).
pub fn run_rule_optimize(
    series: &Series,
    program: &Program,
    req: &OptimizeRequest,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
    limits: &Limits,
) -> Result<Resumed<OptimizeResult>, EngineError> {
    let plan = SearchPlan::check(series, ChunkJob::Optimize(req), Some(program), limits)?;
    optimize_planned(series, req, Some(program), &plan, resume, sink)
}

/// Checks a walk-forward of `program` (the request's `rules` name it): the settings, the grid
/// against the declared parameters, the total runs across folds and, given the dataset's
/// length, that the folds fit (returned) and the largest windows warm up within the shortest
/// in-sample window. The one check of both submit and run.
pub fn check_rule_walkforward(
    program: &Program,
    req: &WalkForwardRequest,
    n_bars: Option<usize>,
    limits: &Limits,
) -> Result<(RuleGrid, Vec<FoldWindows>), FieldError> {
    req.check_settings(limits)?;
    let grid = program.grid(&req.search.grid, req.search.constraint.as_ref(), limits)?;
    req.check_total_runs(grid.runs, limits)?;
    let mut folds = Vec::new();
    if let Some(n) = n_bars {
        folds = req.fit(None, n)?;
        grid.check_warmup(
            shortest_in_sample(&folds),
            "folds",
            "the first in-sample window",
        )?;
    }
    Ok((grid, folds))
}
