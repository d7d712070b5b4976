//! The backtest entry point ([`run_backtest`]), the buffers and window of one simulated run,
//! and the report built from it. The order-fill simulation itself, and the conventions it
//! shares with backtesting.py, are in `sim`.

mod sim;

pub use sim::{py_floordiv, Sim, SimBars, SimTrade, StopRule, FULL_EQUITY};

use app::model::research::{Account, BacktestReport, BacktestRequest, EquityPoint, Trade};

use super::data::Series;
use super::metrics::{self, TimeInfo};
use super::progress::{report, ProgressSink};
use super::strategy::{Action, IndicatorCache};
use super::EngineError;

/// Reusable buffers for one simulated run (one per worker thread in sweeps).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Actions per bar.
    pub actions: Vec<Action>,
    /// Equity per bar.
    pub equity: Vec<f64>,
    /// Closed trades.
    pub trades: Vec<SimTrade>,
    /// Metric working space.
    pub buf: Vec<f64>,
    /// Working columns of rule-language strategies.
    pub rules: super::rules::RunBuffers,
}

/// Where and how to simulate: bars `[a, b)` of a series, with the account's settings.
#[derive(Clone, Copy, Debug)]
pub struct RunSpec<'a> {
    /// The whole series (indicators look back before `a`).
    pub series: &'a Series,
    /// First bar of the window.
    pub a: usize,
    /// End of the window (exclusive).
    pub b: usize,
    /// Starting cash, commission rate and long-only mode.
    pub account: Account,
}

impl<'a> RunSpec<'a> {
    /// A run over every bar of `series`.
    pub fn whole(series: &'a Series, account: Account) -> Self {
        RunSpec {
            series,
            a: 0,
            b: series.len(),
            account,
        }
    }
}

/// Output of a simulation besides the buffers.
#[derive(Clone, Copy, Debug)]
pub struct SimOutcome {
    /// First bar (window-relative) the strategy ran on.
    pub start: usize,
    /// Trade open at the end, if any.
    pub open_trade: Option<SimTrade>,
}

/// A single backtest reports its progress every this many bars. Not every bar: the simulation
/// works in vectorized segments between fills, and splitting them per bar would cost more than
/// the bar itself; a block of 1,024 bars takes a few microseconds, one `report` a few
/// nanoseconds.
pub const BARS_PER_REPORT: usize = 1024;

/// Sets up the simulation of `scratch.actions` (already derived, strategy acting from
/// window-relative bar `start`) over `spec`'s window, with `stops`.
fn sim_of<'s>(
    spec: &RunSpec<'s>,
    start: usize,
    stops: StopRule,
    scratch: &'s mut Scratch,
) -> Sim<'s> {
    let s = spec.series;
    let bars = SimBars {
        open: &s.open[spec.a..spec.b],
        close: &s.close[spec.a..spec.b],
        actions: &scratch.actions,
    };
    Sim::new(
        bars,
        start,
        spec.account.cash,
        spec.account.commission,
        &mut scratch.equity,
        &mut scratch.trades,
    )
    .with_stops(&s.high[spec.a..spec.b], &s.low[spec.a..spec.b], stops)
}

/// Actions + simulation for one parameter set, into `scratch` (equity/trades window-relative).
/// No progress: a sweep counts runs, not bars.
pub fn simulate_run(
    spec: &RunSpec<'_>,
    prepared: &super::strategy::Prepared<'_>,
    scratch: &mut Scratch,
) -> SimOutcome {
    let start = prepared.actions(spec.account.long_only, spec.a, spec.b, &mut scratch.actions);
    simulate_actions(spec, start, StopRule::NONE, scratch)
}

/// Simulates the actions already in `scratch.actions` (the strategy acting from window-relative
/// bar `start`) over `spec`'s window with `stops`, into `scratch`.
pub fn simulate_actions(
    spec: &RunSpec<'_>,
    start: usize,
    stops: StopRule,
    scratch: &mut Scratch,
) -> SimOutcome {
    let sim = sim_of(spec, start, stops, scratch);
    SimOutcome {
        start,
        open_trade: sim.finish(),
    }
}

/// [`simulate_run`], reporting "Bar i/N" to `sink` after every [`BARS_PER_REPORT`] bars (not
/// after the last: the caller reports the end once its report is built).
pub fn simulate_run_reporting(
    spec: &RunSpec<'_>,
    prepared: &super::strategy::Prepared<'_>,
    scratch: &mut Scratch,
    sink: &dyn ProgressSink,
) -> Result<SimOutcome, EngineError> {
    let start = prepared.actions(spec.account.long_only, spec.a, spec.b, &mut scratch.actions);
    simulate_actions_reporting(spec, start, StopRule::NONE, scratch, sink)
}

/// Reports "Bar done/total": a backtest's progress.
pub(crate) fn report_bars(
    sink: &dyn ProgressSink,
    done: u64,
    total: u64,
) -> Result<(), EngineError> {
    report(sink, done, total, format_args!("Bar {done}/{total}"))
}

/// [`simulate_actions`] with the progress calls of [`simulate_run_reporting`].
pub fn simulate_actions_reporting(
    spec: &RunSpec<'_>,
    start: usize,
    stops: StopRule,
    scratch: &mut Scratch,
    sink: &dyn ProgressSink,
) -> Result<SimOutcome, EngineError> {
    let mut sim = sim_of(spec, start, stops, scratch);
    let n = sim.len();
    let mut to = BARS_PER_REPORT;
    while to < n {
        sim.run_to(to);
        report_bars(sink, to as u64, n as u64)?;
        to += BARS_PER_REPORT;
    }
    Ok(SimOutcome {
        start,
        open_trade: sim.finish(),
    })
}

/// Converts a simulated trade to the DTO (bar indices made absolute with `offset`).
pub fn to_trade(t: &SimTrade, ts: &[i64], offset: usize) -> Trade {
    Trade {
        entry_bar: t.entry_bar + offset,
        exit_bar: t.exit_bar + offset,
        entry_time: ts.get(t.entry_bar).copied().unwrap_or_default(),
        exit_time: ts.get(t.exit_bar).copied().unwrap_or_default(),
        size: t.size,
        entry_price: t.entry_price,
        exit_price: t.exit_price,
        pnl: t.pnl,
        return_pct: t.return_frac * 100.0,
        commission: t.commission,
    }
}

/// Most points (about) in an equity curve sent for display.
pub use super::downsample::MAX_POINTS as MAX_EQUITY_POINTS;

/// Equity curve for display, at most about [`MAX_EQUITY_POINTS`] points whatever the number of
/// bars: min/max buckets of equity and drawdown (see [`super::downsample`]), so the deepest
/// drawdown and every spike survive; drawdown from the running peak of the *full* curve.
pub fn equity_points(ts: &[i64], equity: &[f64]) -> Vec<EquityPoint> {
    super::downsample::equity_points(ts, equity)
}

/// Runs one backtest. Progress: "Bar i/N" every [`BARS_PER_REPORT`] bars, and "Bar N/N" once
/// the report is built. Validates the request against the data.
pub fn run_backtest(
    series: &Series,
    req: &BacktestRequest,
    sink: &mut dyn ProgressSink,
) -> Result<BacktestReport, EngineError> {
    let sink: &dyn ProgressSink = sink;
    let (values, spec) = checked_run(series, req)?;
    let cache = IndicatorCache::for_params(series, req.strategy, &values);
    let prepared = cache.prepare(series, req.strategy, &values);
    let n = series.len() as u64;
    report_bars(sink, 0, n)?;
    let mut scratch = Scratch::default();
    let outcome = simulate_run_reporting(&spec, &prepared, &mut scratch, sink)?;
    let report_ = full_report(&spec, &scratch, &outcome);
    report_bars(sink, n, n)?;
    Ok(report_)
}

/// The full equity curve of a backtest, one value per bar (what [`run_backtest`]'s report
/// downsamples for display), for downloads.
pub fn backtest_equity(series: &Series, req: &BacktestRequest) -> Result<Vec<f64>, EngineError> {
    let (values, spec) = checked_run(series, req)?;
    let cache = IndicatorCache::for_params(series, req.strategy, &values);
    let prepared = cache.prepare(series, req.strategy, &values);
    let mut scratch = Scratch::default();
    simulate_run(&spec, &prepared, &mut scratch);
    Ok(scratch.equity)
}

/// A backtest request checked against its data: the parameter values and the run over every
/// bar.
fn checked_run<'a>(
    series: &'a Series,
    req: &BacktestRequest,
) -> Result<(Vec<f64>, RunSpec<'a>), EngineError> {
    series.checked()?;
    let values = req.resolve(Some(series.len()))?;
    let spec = RunSpec::whole(series, req.account);
    Ok((values, spec))
}

/// Builds the full report of a simulated window.
pub fn full_report(spec: &RunSpec<'_>, scratch: &Scratch, outcome: &SimOutcome) -> BacktestReport {
    let s = spec.series;
    let ts = &s.ts[spec.a..spec.b];
    let close = &s.close[spec.a..spec.b];
    let time = TimeInfo::new(ts);
    let bh_first = outcome.start.saturating_sub(1);
    let stats =
        metrics::compute_stats(&scratch.equity, &scratch.trades, ts, close, bh_first, &time);
    BacktestReport {
        stats,
        equity: equity_points(ts, &scratch.equity),
        trades: scratch
            .trades
            .iter()
            .map(|t| to_trade(t, ts, spec.a))
            .collect(),
        open_trade: outcome.open_trade.map(|t| to_trade(&t, ts, spec.a)),
        trades_total: None,
    }
}

#[cfg(test)]
mod tests;
