//! The order-fill simulation and the backtest entry point.
//!
//! Conventions are backtesting.py 0.6's defaults (`Backtest(data, SmaCross, cash=…,
//! commission=…)`, no spread, margin 1, `trade_on_close=False`, `hedging=False`,
//! `exclusive_orders=False`, `finalize_trades=False`), so results compare one to one:
//!
//! * An action decided on bar `i`'s close is a market order filled at bar `i + 1`'s open.
//!   `Long`/`Short` first close the open trade (backtesting.py's `position.close()`, which is
//!   processed before the new order), then open a new one.
//! * Size = all available equity in whole units, as `_Broker._process_orders` computes it for
//!   the default `size = 1 - ε` (`_FULL_EQUITY`):
//!   `units = ⌊cash·(1-ε) / (price + commission(1-ε, price)/(1-ε))⌋` with Python's float
//!   floor division, `commission(q, p) = |q|·p·rate`. Zero units → the order is cancelled.
//! * Commission `|units|·price·rate` is charged on entry (from cash) and on exit.
//! * Equity on every bar = cash + open position marked at the close, no exit commission.
//!   Bars before the strategy's first bar carry the starting cash (backtesting.py back-fills).
//! * A trade still open after the last bar stays open (`finalize_trades=False`): its mark-to-
//!   market is in the final equity, but it is not a closed trade and does not count in the trade
//!   statistics or in exposure time. Actions on the last bar are never filled.
//! * If equity drops to ≤ 0 the open trade is closed at that bar's close, equity is 0 from then
//!   on and the simulation stops (backtesting.py's `_OutOfMoneyError`).
//!
//! Optional stops ([`StopRule`], set with [`Sim::with_stops`]; rule-language strategies use
//! them, the built-ins never do, and without them the simulation is exactly as above). For a
//! trade entered at price `E` (percentages as fractions `s`, `t`, `p`):
//!
//! * **Levels.** Long: stop-loss `E·(1 - s)`, take-profit `E·(1 + p)`, trailing stop starting at
//!   `E·(1 - t)` and raised after every bar's close `C` to `max(level, C·(1 - t))` (it tracks
//!   the best close; never lowered). Short: `E·(1 + s)`, `E·(1 - p)`, trailing from `E·(1 + t)`
//!   lowered to `min(level, C·(1 + t))`. The stop that applies is the tighter of stop-loss and
//!   trailing (the higher one for a long, the lower for a short).
//! * **Checks**, on every bar the trade is open, the entry bar included (as backtesting.py's
//!   `sl=`/`tp=` orders, which can fill on the bar the trade opens), after that bar's open has
//!   been processed: a long stops out when the bar's low ≤ the stop, at the stop price, or at the
//!   open when the bar opens at or beyond it (a gap); it takes profit when the high ≥ the target,
//!   at the target, or at the open when it gaps above. Shorts mirror this with high/low swapped.
//!   If both could fill in one bar the stop is taken (the pessimistic order backtesting.py uses).
//! * **Fill**: the trade closes like any exit (commission on the exit), the bar's equity is then
//!   the cash, and the trailing level is updated only while the trade is still open. Actions the
//!   strategy decided keep working as before: a later `Long`/`Short` opens a new trade.

use app::model::research::{BacktestReport, BacktestRequest, EquityPoint, Limits, Trade};

use super::data::Series;
use super::metrics::{self, TimeInfo};
use super::progress::{report, ProgressSink};
use super::strategy::{Action, IndicatorCache};
use super::EngineError;

/// backtesting.py's default order size `1 - sys.float_info.epsilon` ("all equity").
pub const FULL_EQUITY: f64 = 1.0 - f64::EPSILON;

/// Stops for every trade of a run, as fractions of the entry price (`0.02` = 2 %); `None` =
/// no such stop. See the module docs for the exact rule.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StopRule {
    /// Stop-loss distance from the entry price.
    pub stop_loss: Option<f64>,
    /// Take-profit distance from the entry price.
    pub take_profit: Option<f64>,
    /// Trailing-stop distance from the best close since entry.
    pub trailing: Option<f64>,
}

impl StopRule {
    /// No stops at all.
    pub const NONE: StopRule = StopRule {
        stop_loss: None,
        take_profit: None,
        trailing: None,
    };

    /// Whether any stop is set.
    pub fn is_some(&self) -> bool {
        self.stop_loss.is_some() || self.take_profit.is_some() || self.trailing.is_some()
    }
}

/// Python's float `a // b` (CPython `float_floor_div`), bit for bit, so unit counts match.
pub fn py_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b; // C fmod
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0.0_f64.copysign(a / b)
    }
}

/// A trade as the simulation records it (bar indices relative to the simulated window).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimTrade {
    /// Units, negative for short.
    pub size: i64,
    /// Entry bar.
    pub entry_bar: usize,
    /// Exit bar (for an open trade, the last bar).
    pub exit_bar: usize,
    /// Entry fill price.
    pub entry_price: f64,
    /// Exit fill price (for an open trade, the last close).
    pub exit_price: f64,
    /// `size·(exit - entry) - commissions`.
    pub pnl: f64,
    /// `sign(size)·(exit/entry - 1) - commissions / (|size|·entry)` as a fraction.
    pub return_frac: f64,
    /// Entry + exit commission.
    pub commission: f64,
}

#[derive(Clone, Copy, Debug)]
struct Position {
    size: i64,
    entry_bar: usize,
    entry_price: f64,
    /// Stop price (the tighter of stop-loss and trailing), ±∞ when there is none.
    stop: f64,
    /// Take-profit price, ±∞ when there is none.
    target: f64,
    /// Trailing-stop level, ±∞ when there is none.
    trail: f64,
}

/// Stops and the highs/lows they are checked against.
#[derive(Clone, Copy, Debug)]
struct Stops<'a> {
    high: &'a [f64],
    low: &'a [f64],
    rule: StopRule,
}

/// The fill simulation over one window; run it to the end with [`Sim::run_to`].
pub struct Sim<'a> {
    open: &'a [f64],
    close: &'a [f64],
    actions: &'a [Action],
    rate: f64,
    cash: f64,
    pos: Option<Position>,
    stops: Option<Stops<'a>>,
    next: usize,
    dead: bool,
    /// Equity per bar of the window.
    pub equity: &'a mut Vec<f64>,
    /// Closed trades in order.
    pub trades: &'a mut Vec<SimTrade>,
}

/// The inputs of a simulation: prices and the strategy's actions, bar for bar.
#[derive(Clone, Copy, Debug)]
pub struct SimBars<'a> {
    /// Open prices (fills).
    pub open: &'a [f64],
    /// Close prices (marking to market).
    pub close: &'a [f64],
    /// Action decided on each bar's close.
    pub actions: &'a [Action],
}

impl<'a> Sim<'a> {
    /// A simulation over `bars` (truncated to the shortest slice), trading from bar `start`.
    pub fn new(
        bars: SimBars<'a>,
        start: usize,
        cash: f64,
        rate: f64,
        equity: &'a mut Vec<f64>,
        trades: &'a mut Vec<SimTrade>,
    ) -> Self {
        let SimBars {
            open,
            close,
            actions,
        } = bars;
        let n = actions.len().min(open.len()).min(close.len());
        equity.clear();
        equity.resize(n, cash);
        trades.clear();
        Sim {
            open: &open[..n],
            close: &close[..n],
            actions: &actions[..n],
            rate,
            cash,
            pos: None,
            stops: None,
            next: start.min(n),
            dead: false,
            equity,
            trades,
        }
    }

    /// Adds stops checked against `high`/`low` (same window as the other slices). A rule with
    /// no stop set leaves the simulation exactly as without this call.
    pub fn with_stops(mut self, high: &'a [f64], low: &'a [f64], rule: StopRule) -> Self {
        let n = self.len().min(high.len()).min(low.len());
        self.stops = rule.is_some().then_some(Stops {
            high: &high[..n],
            low: &low[..n],
            rule,
        });
        self
    }

    /// Number of bars in the window.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn close_position(&mut self, price: f64, bar: usize) {
        if let Some(p) = self.pos.take() {
            let size = p.size as f64;
            let gross = size * (price - p.entry_price);
            let exit_comm = p.size.unsigned_abs() as f64 * price * self.rate;
            self.cash += gross - exit_comm;
            let entry_comm = p.size.unsigned_abs() as f64 * p.entry_price * self.rate;
            let commission = exit_comm + entry_comm;
            self.trades.push(SimTrade {
                size: p.size,
                entry_bar: p.entry_bar,
                exit_bar: bar,
                entry_price: p.entry_price,
                exit_price: price,
                pnl: gross - commission,
                return_frac: size.signum() * (price / p.entry_price - 1.0)
                    - commission / (p.size.unsigned_abs() as f64 * p.entry_price),
                commission,
            });
        }
    }

    fn open_position(&mut self, long: bool, price: f64, bar: usize) {
        // `_Broker._process_orders` for a relative-size market order, spread 0, margin 1.
        let commission_per_unit = (FULL_EQUITY * price * self.rate) / FULL_EQUITY;
        let adjusted = price + commission_per_unit;
        let margin_available = self.cash.max(0.0);
        let units = py_floordiv(margin_available * FULL_EQUITY, adjusted);
        if units.is_nan() || units < 1.0 || units * adjusted > margin_available {
            return; // cancelled: not enough cash for one unit
        }
        let units = units as i64;
        self.cash -= units as f64 * price * self.rate;
        let (mut stop, mut target, mut trail) = if long {
            (f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY)
        } else {
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY)
        };
        if let Some(st) = &self.stops {
            let dir = if long { 1.0 } else { -1.0 };
            if let Some(s) = st.rule.stop_loss {
                stop = price * (1.0 - dir * s);
            }
            if let Some(p) = st.rule.take_profit {
                target = price * (1.0 + dir * p);
            }
            if let Some(t) = st.rule.trailing {
                trail = price * (1.0 - dir * t);
            }
        }
        self.pos = Some(Position {
            size: if long { units } else { -units },
            entry_bar: bar,
            entry_price: price,
            stop,
            target,
            trail,
        });
    }

    /// Bars `[i, end)` with an open trade and stops set, bar by bar: stop/target checks on the
    /// high and low, equity at the close, the out-of-money rule, then the trailing update.
    fn run_with_stops(&mut self, i: usize, end: usize) {
        let Some(st) = self.stops else { return };
        for j in i..end {
            if let Some(p) = self.pos {
                let (o, h, l) = (self.open[j], st.high[j], st.low[j]);
                let exit = if p.size > 0 {
                    let stop = p.stop.max(p.trail);
                    if l <= stop {
                        Some(o.min(stop))
                    } else if h >= p.target {
                        Some(o.max(p.target))
                    } else {
                        None
                    }
                } else {
                    let stop = p.stop.min(p.trail);
                    if h >= stop {
                        Some(o.max(stop))
                    } else if l <= p.target {
                        Some(o.min(p.target))
                    } else {
                        None
                    }
                };
                if let Some(price) = exit {
                    self.close_position(price, j);
                }
            }
            let c = self.close[j];
            let e = match self.pos {
                Some(p) => {
                    let size = p.size as f64;
                    self.cash + (c * size - size * p.entry_price)
                }
                None => self.cash,
            };
            self.equity[j] = e;
            if e <= 0.0 {
                self.close_position(c, j);
                self.cash = 0.0;
                self.dead = true;
                self.equity[j..end].fill(0.0);
                return;
            }
            if let (Some(p), Some(t)) = (self.pos.as_mut(), st.rule.trailing) {
                p.trail = if p.size > 0 {
                    p.trail.max(c * (1.0 - t))
                } else {
                    p.trail.min(c * (1.0 + t))
                };
            }
        }
    }

    /// Simulates bars up to (not including) `to`.
    ///
    /// Works segment by segment: a fill (if any) at the segment's first bar, then bars with no
    /// fill, whose equity `cash + (C·size - size·entry)` is one branch-free, vectorizable loop.
    pub fn run_to(&mut self, to: usize) {
        let to = to.min(self.len());
        while self.next < to {
            let i = self.next;
            if self.dead {
                self.equity[i..to].fill(0.0);
                self.next = to;
                return;
            }
            if i > 0 {
                match self.actions[i - 1] {
                    Action::Hold => {}
                    Action::Flat => self.close_position(self.open[i], i),
                    Action::Long => {
                        self.close_position(self.open[i], i);
                        self.open_position(true, self.open[i], i);
                    }
                    Action::Short => {
                        self.close_position(self.open[i], i);
                        self.open_position(false, self.open[i], i);
                    }
                }
            }
            // Bars i..end share this position: the next fill is after the next non-Hold action.
            let end = self.actions[i..to]
                .iter()
                .position(|a| *a != Action::Hold)
                .map_or(to, |p| (i + p + 1).min(to));
            if self.stops.is_some() && self.pos.is_some() {
                self.run_with_stops(i, end);
                self.next = end;
                continue;
            }
            let cash = self.cash;
            let eq = &mut self.equity[i..end];
            let broke = match self.pos {
                Some(p) => {
                    let size = p.size as f64;
                    let entry = size * p.entry_price;
                    let mut broke = false;
                    for (e, &c) in eq.iter_mut().zip(&self.close[i..end]) {
                        *e = cash + (c * size - entry);
                        broke |= *e <= 0.0;
                    }
                    broke
                }
                None => {
                    eq.fill(cash);
                    cash <= 0.0
                }
            };
            if broke {
                // Out of money: close at that bar's close, equity 0 from there on.
                let m = i + eq.iter().position(|e| *e <= 0.0).unwrap_or(0);
                self.close_position(self.close[m], m);
                self.cash = 0.0;
                self.dead = true;
                self.equity[m..end].fill(0.0);
            }
            self.next = end;
        }
    }

    /// Runs to the end and returns the trade still open, if any (exit = last bar's close).
    pub fn finish(mut self) -> Option<SimTrade> {
        self.run_to(self.len());
        let last = self.len().checked_sub(1)?;
        let p = self.pos?;
        let size = p.size as f64;
        let price = self.close[last];
        let entry_comm = p.size.unsigned_abs() as f64 * p.entry_price * self.rate;
        Some(SimTrade {
            size: p.size,
            entry_bar: p.entry_bar,
            exit_bar: last,
            entry_price: p.entry_price,
            exit_price: price,
            pnl: size * (price - p.entry_price) - entry_comm,
            return_frac: size.signum() * (price / p.entry_price - 1.0)
                - entry_comm / (p.size.unsigned_abs() as f64 * p.entry_price),
            commission: entry_comm,
        })
    }
}

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

/// Where and how to simulate: bars `[a, b)` of a series, with money settings.
#[derive(Clone, Copy, Debug)]
pub struct RunSpec<'a> {
    /// The whole series (indicators look back before `a`).
    pub series: &'a Series,
    /// First bar of the window.
    pub a: usize,
    /// End of the window (exclusive).
    pub b: usize,
    /// Starting cash.
    pub cash: f64,
    /// Commission rate.
    pub commission: f64,
    /// Long-only mode.
    pub long_only: bool,
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
        spec.cash,
        spec.commission,
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
    let start = prepared.actions(spec.long_only, spec.a, spec.b, &mut scratch.actions);
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

/// [`simulate_run`], calling `on_bars(done, total)` after every [`BARS_PER_REPORT`] bars (not
/// after the last: the caller reports the end once its report is built).
pub fn simulate_run_reporting(
    spec: &RunSpec<'_>,
    prepared: &super::strategy::Prepared<'_>,
    scratch: &mut Scratch,
    on_bars: &mut dyn FnMut(usize, usize) -> Result<(), EngineError>,
) -> Result<SimOutcome, EngineError> {
    let start = prepared.actions(spec.long_only, spec.a, spec.b, &mut scratch.actions);
    simulate_actions_reporting(spec, start, StopRule::NONE, scratch, on_bars)
}

/// [`simulate_actions`] with the progress calls of [`simulate_run_reporting`].
pub fn simulate_actions_reporting(
    spec: &RunSpec<'_>,
    start: usize,
    stops: StopRule,
    scratch: &mut Scratch,
    on_bars: &mut dyn FnMut(usize, usize) -> Result<(), EngineError>,
) -> Result<SimOutcome, EngineError> {
    let mut sim = sim_of(spec, start, stops, scratch);
    let n = sim.len();
    let mut to = BARS_PER_REPORT;
    while to < n {
        sim.run_to(to);
        on_bars(to, n)?;
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
    series.check().map_err(|m| EngineError::InvalidInput {
        field: "dataset_id".into(),
        message: m,
    })?;
    req.validate(&Limits::default())?;
    req.validate_against_bars(series.len())?;
    let values = req.strategy.resolve_params(&req.params, "params")?;
    let cache = IndicatorCache::for_params(series, req.strategy, &values);
    let prepared = cache.prepare(series, req.strategy, &values);
    let spec = RunSpec {
        series,
        a: 0,
        b: series.len(),
        cash: req.cash,
        commission: req.commission,
        long_only: req.long_only,
    };
    let n = series.len() as u64;
    report(sink, 0, n, format_args!("Bar 0/{n}"))?;
    let mut scratch = Scratch::default();
    let outcome = simulate_run_reporting(&spec, &prepared, &mut scratch, &mut |done, total| {
        report(
            sink,
            done as u64,
            total as u64,
            format_args!("Bar {done}/{total}"),
        )
    })?;
    let report_ = full_report(&spec, &scratch, &outcome);
    report(sink, n, n, format_args!("Bar {n}/{n}"))?;
    Ok(report_)
}

/// The full equity curve of a backtest, one value per bar (what [`run_backtest`]'s report
/// downsamples for display), for downloads.
pub fn backtest_equity(series: &Series, req: &BacktestRequest) -> Result<Vec<f64>, EngineError> {
    series.check().map_err(|m| EngineError::InvalidInput {
        field: "dataset_id".into(),
        message: m,
    })?;
    req.validate(&Limits::default())?;
    req.validate_against_bars(series.len())?;
    let values = req.strategy.resolve_params(&req.params, "params")?;
    let cache = IndicatorCache::for_params(series, req.strategy, &values);
    let prepared = cache.prepare(series, req.strategy, &values);
    let spec = RunSpec {
        series,
        a: 0,
        b: series.len(),
        cash: req.cash,
        commission: req.commission,
        long_only: req.long_only,
    };
    let mut scratch = Scratch::default();
    simulate_run(&spec, &prepared, &mut scratch);
    Ok(scratch.equity)
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
mod tests {
    use super::*;
    use crate::engine::progress::{NoProgress, Recorder};
    use app::model::research::StrategyKind;

    fn bars<'a>(open: &'a [f64], close: &'a [f64], actions: &'a [Action]) -> SimBars<'a> {
        SimBars {
            open,
            close,
            actions,
        }
    }

    fn approx(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn py_floordiv_matches_python() {
        // Python: 10 // 3 = 3.0; 9999.999999999998 // 100.2 = 99.0; 1 // 0.1 = 9.0.
        assert_eq!(py_floordiv(10.0, 3.0), 3.0);
        assert_eq!(py_floordiv(10_000.0 * FULL_EQUITY, 100.2), 99.0);
        assert_eq!(py_floordiv(1.0, 0.1), 9.0);
        assert_eq!(py_floordiv(10_000.0 * FULL_EQUITY, 100.0), 99.0);
    }

    /// Hand-worked fills and commission on a 6-bar series.
    ///
    /// Actions: Long decided on bar 1, Short on bar 3. Cash 1000, commission 1%.
    /// * Bar 2 open 100: unit cost 100 + 1 = 101, units ⌊999.9999…/101⌋ = 9; entry commission
    ///   9·100·0.01 = 9 → cash 991. Equity bar 2 = 991 + 9·(104 - 100) = 1027.
    /// * Bar 3 close 108: equity 991 + 9·8 = 1063.
    /// * Bar 4 open 110: close long: gross 9·10 = 90, exit commission 9·110·0.01 = 9.9 →
    ///   cash 991 + 80.1 = 1071.1; trade pnl = 90 - 9.9 - 9 = 71.1, return
    ///   10% - 18.9/900 = 7.9%. Open short: unit cost 111.1, units ⌊1071.1/111.1⌋ = 9,
    ///   commission 9.9 → cash 1061.2. Equity bar 4 (close 105) = 1061.2 - 9·(105 - 110) = 1106.2.
    /// * Bar 5 close 100: equity 1061.2 + 9·10 = 1151.2; the short stays open.
    #[test]
    fn fills_and_commission_on_a_tiny_series() {
        let open = [100.0, 100.0, 100.0, 107.0, 110.0, 104.0];
        let close = [100.0, 100.0, 104.0, 108.0, 105.0, 100.0];
        let actions = [
            Action::Hold,
            Action::Long,
            Action::Hold,
            Action::Short,
            Action::Hold,
            Action::Hold,
        ];
        let (mut eq, mut tr) = (Vec::new(), Vec::new());
        let sim = Sim::new(
            bars(&open, &close, &actions),
            1,
            1000.0,
            0.01,
            &mut eq,
            &mut tr,
        );
        let open_trade = sim.finish().unwrap();
        assert_eq!(tr.len(), 1);
        let t = tr[0];
        assert_eq!((t.size, t.entry_bar, t.exit_bar), (9, 2, 4));
        approx(t.pnl, 71.1);
        approx(t.commission, 18.9);
        approx(t.return_frac, 0.079);
        assert_eq!(open_trade.size, -9);
        assert_eq!(open_trade.entry_bar, 4);
        approx(eq[0], 1000.0);
        approx(eq[1], 1000.0);
        approx(eq[2], 1027.0);
        approx(eq[3], 1063.0);
        approx(eq[4], 1106.2);
        approx(eq[5], 1151.2);
    }

    #[test]
    fn order_too_big_for_cash_is_cancelled() {
        let open = [100.0, 2000.0, 2000.0];
        let close = [100.0, 2000.0, 2000.0];
        let actions = [Action::Long, Action::Hold, Action::Hold];
        let (mut eq, mut tr) = (Vec::new(), Vec::new());
        let sim = Sim::new(
            bars(&open, &close, &actions),
            0,
            1000.0,
            0.0,
            &mut eq,
            &mut tr,
        );
        assert!(sim.finish().is_none());
        assert_eq!(eq, vec![1000.0; 3]);
    }

    #[test]
    fn going_broke_closes_and_zeroes_equity() {
        // Short 10 units at 100, price goes to 250: equity 1000 - 10·150 < 0 on bar 2.
        let open = [100.0, 100.0, 200.0, 300.0];
        let close = [100.0, 100.0, 250.0, 300.0];
        let actions = [Action::Short, Action::Hold, Action::Hold, Action::Hold];
        let (mut eq, mut tr) = (Vec::new(), Vec::new());
        let sim = Sim::new(
            bars(&open, &close, &actions),
            0,
            1000.0,
            0.0,
            &mut eq,
            &mut tr,
        );
        assert!(sim.finish().is_none());
        assert_eq!(eq, vec![1000.0, 1000.0, 0.0, 0.0]);
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].exit_bar, 2);
        approx(tr[0].exit_price, 250.0);
    }

    #[test]
    fn backtest_reports_bar_progress_and_stops_when_asked() {
        let s = crate::engine::data::sample_series(400, 1);
        let req = BacktestRequest::new("d", StrategyKind::SmaCross);
        let mut rec = Recorder::default();
        let rep = run_backtest(&s, &req, &mut rec).unwrap();
        assert!(rep.stats.trades > 0);
        // Shorter than a block of bars: the start and the end.
        let messages: Vec<String> = rec.reports().into_iter().map(|r| r.2).collect();
        assert_eq!(messages, ["Bar 0/400", "Bar 400/400"]);
        // Longer: every BARS_PER_REPORT bars in between.
        let long = crate::engine::data::sample_series(3000, 1);
        let mut rec = Recorder::default();
        run_backtest(&long, &req, &mut rec).unwrap();
        let done: Vec<u64> = rec.reports().into_iter().map(|r| r.0).collect();
        assert_eq!(done, [0, 1024, 2048, 3000]);
        let mut rec = Recorder::stopping_at(2);
        assert_eq!(
            run_backtest(&long, &req, &mut rec),
            Err(EngineError::Stopped)
        );
        assert_eq!(
            rec.reports().last().unwrap().0,
            1024,
            "stopped at the first block"
        );
        let mut bad = req.clone();
        bad.params.insert("n2".into(), 500.0);
        let e = run_backtest(&s, &bad, &mut NoProgress).unwrap_err();
        assert!(matches!(e, EngineError::InvalidInput { ref field, .. } if field == "params.n2"));
    }

    struct Bars {
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
    }

    /// Simulates `actions` over `b` with `rule` from bar 0: (equity, closed trades, open trade).
    fn with_stops(
        b: &Bars,
        actions: &[Action],
        rule: StopRule,
        rate: f64,
    ) -> (Vec<f64>, Vec<SimTrade>, Option<SimTrade>) {
        let (mut eq, mut tr) = (Vec::new(), Vec::new());
        let sim = Sim::new(
            bars(&b.open, &b.close, actions),
            0,
            1000.0,
            rate,
            &mut eq,
            &mut tr,
        )
        .with_stops(&b.high, &b.low, rule);
        let open = sim.finish();
        (eq, tr, open)
    }

    fn sl(x: f64) -> StopRule {
        StopRule {
            stop_loss: Some(x),
            ..StopRule::NONE
        }
    }

    fn long_then_hold(n: usize) -> Vec<Action> {
        let mut a = vec![Action::Hold; n];
        a[0] = Action::Long;
        a
    }

    /// A long stop-loss of 3 % from an entry at 100: stop 97.
    /// * Bar 1: entry at the open 100, 9 units (⌊999.99…/100⌋), cash stays 1000 (no commission);
    ///   low 99 > 97; equity 1000.
    /// * Bar 2: low 99.5; equity 1000 + 9·2 = 1018. Bar 3: low 98; equity 1000 − 9 = 991.
    /// * Bar 4 (intrabar): opens 99, low 96.5 ≤ 97 → filled at the stop 97: pnl 9·(97 − 100) =
    ///   −27, cash 973; equity 973 on bars 4–6.
    /// * The same with bar 4 opening at 96 (a gap through the stop) → filled at the open 96:
    ///   pnl −36, cash 964.
    #[test]
    fn stop_loss_fills_at_the_stop_or_at_a_gapped_open() {
        let mut b = Bars {
            open: vec![100.0, 100.0, 100.0, 101.0, 99.0, 95.0, 94.0],
            high: vec![100.0, 101.0, 103.0, 102.0, 100.0, 96.0, 95.0],
            low: vec![100.0, 99.0, 99.5, 98.0, 96.5, 93.0, 92.0],
            close: vec![100.0, 100.0, 102.0, 99.0, 97.0, 94.0, 93.0],
        };
        let (eq, tr, open) = with_stops(&b, &long_then_hold(7), sl(0.03), 0.0);
        assert!(open.is_none());
        assert_eq!(tr.len(), 1);
        assert_eq!((tr[0].size, tr[0].entry_bar, tr[0].exit_bar), (9, 1, 4));
        approx(tr[0].exit_price, 97.0);
        approx(tr[0].pnl, -27.0);
        for (e, want) in eq
            .iter()
            .zip([1000.0, 1000.0, 1018.0, 991.0, 973.0, 973.0, 973.0])
        {
            approx(*e, want);
        }
        b.open[4] = 96.0;
        let (eq, tr, _) = with_stops(&b, &long_then_hold(7), sl(0.03), 0.0);
        assert_eq!(tr[0].exit_bar, 4);
        approx(tr[0].exit_price, 96.0);
        approx(tr[0].pnl, -36.0);
        approx(eq[6], 964.0);
    }

    /// Take-profit 5 % from 100: target 105. Bar 2's high 104 misses; bar 3 (open 104, high
    /// 106) fills at 105: pnl 9·5 = 45. Opening at 106 instead (a gap above) fills at 106: 54.
    #[test]
    fn take_profit_fills_at_the_target_or_at_a_gapped_open() {
        let mut b = Bars {
            open: vec![100.0, 100.0, 102.0, 104.0, 107.0],
            high: vec![100.0, 101.0, 104.0, 106.0, 108.0],
            low: vec![100.0, 99.0, 101.0, 103.0, 106.0],
            close: vec![100.0, 100.0, 103.0, 105.5, 107.0],
        };
        let tp = StopRule {
            take_profit: Some(0.05),
            ..StopRule::NONE
        };
        let (eq, tr, _) = with_stops(&b, &long_then_hold(5), tp, 0.0);
        assert_eq!((tr[0].entry_bar, tr[0].exit_bar), (1, 3));
        approx(tr[0].exit_price, 105.0);
        approx(tr[0].pnl, 45.0);
        approx(eq[2], 1027.0);
        approx(eq[4], 1045.0);
        b.open[3] = 106.0;
        let (_, tr, _) = with_stops(&b, &long_then_hold(5), tp, 0.0);
        approx(tr[0].exit_price, 106.0);
        approx(tr[0].pnl, 54.0);
    }

    /// Trailing stop 5 % from an entry at 100: level 95 on the entry bar, then raised after
    /// each close to max(level, 0.95·close): close 104 → 98.8; 110 → 104.5; 108 → stays 104.5
    /// (0.95·108 = 102.6 is lower). Bar 4 opens 106 and its low 104 ≤ 104.5 → filled at
    /// 104.5: pnl 9·4.5 = 40.5. The plain 10 % stop-loss (90) beside it never matters.
    #[test]
    fn trailing_stop_follows_the_best_close() {
        let b = Bars {
            open: vec![100.0, 100.0, 104.0, 109.0, 106.0, 103.0],
            high: vec![100.0, 105.0, 111.0, 110.0, 107.0, 104.0],
            low: vec![100.0, 96.0, 99.0, 105.0, 104.0, 101.0],
            close: vec![100.0, 104.0, 110.0, 108.0, 105.0, 102.0],
        };
        let rule = StopRule {
            stop_loss: Some(0.10),
            trailing: Some(0.05),
            ..StopRule::NONE
        };
        let (eq, tr, open) = with_stops(&b, &long_then_hold(6), rule, 0.0);
        assert!(open.is_none());
        assert_eq!((tr[0].entry_bar, tr[0].exit_bar), (1, 4));
        approx(tr[0].exit_price, 104.5);
        approx(tr[0].pnl, 40.5);
        approx(eq[3], 1072.0);
        approx(eq[4], 1040.5);
        approx(eq[5], 1040.5);
        // Bar 1's low 96 is above the first level 95: no exit on the entry bar. At 4 % the
        // first level is 96 and the entry bar itself stops out, at 96.
        let rule = StopRule {
            trailing: Some(0.04),
            ..StopRule::NONE
        };
        let (_, tr, _) = with_stops(&b, &long_then_hold(6), rule, 0.0);
        assert_eq!((tr[0].entry_bar, tr[0].exit_bar), (1, 1));
        approx(tr[0].exit_price, 96.0);
    }

    /// A short from 100 (9 units), stop-loss 3 % (103), take-profit 4 % (96).
    /// * Bar 3: high 104 ≥ 103 → filled at max(open 101, 103) = 103: pnl −9·3 = −27.
    /// * Variant: bar 3 opens at 95 (gap below the target) → take-profit at the open 95: +45.
    /// * Variant: bar 3 reaches both 104 and 95 → the stop is taken first (pessimistic): −27.
    #[test]
    fn short_stops_mirror_the_long_ones() {
        let mut b = Bars {
            open: vec![100.0, 100.0, 99.0, 101.0, 100.0],
            high: vec![100.0, 101.0, 102.0, 104.0, 101.0],
            low: vec![100.0, 98.0, 97.0, 100.0, 99.0],
            close: vec![100.0, 99.0, 100.0, 102.0, 100.0],
        };
        let mut actions = vec![Action::Hold; 5];
        actions[0] = Action::Short;
        let rule = StopRule {
            stop_loss: Some(0.03),
            take_profit: Some(0.04),
            ..StopRule::NONE
        };
        let (eq, tr, _) = with_stops(&b, &actions, rule, 0.0);
        assert_eq!((tr[0].size, tr[0].exit_bar), (-9, 3));
        approx(tr[0].exit_price, 103.0);
        approx(tr[0].pnl, -27.0);
        approx(eq[2], 1000.0);
        approx(eq[3], 973.0);
        b.open[3] = 95.0;
        b.low[3] = 94.0;
        b.high[3] = 96.0;
        let (_, tr, _) = with_stops(&b, &actions, rule, 0.0);
        approx(tr[0].exit_price, 95.0);
        approx(tr[0].pnl, 45.0);
        b.open[3] = 100.0;
        b.high[3] = 104.0;
        b.low[3] = 95.0;
        let (_, tr, _) = with_stops(&b, &actions, rule, 0.0);
        approx(tr[0].exit_price, 103.0);
    }

    /// With commission 1 %: entry at 100 buys ⌊999.99…/101⌋ = 9 units for 9 commission (cash
    /// 991). The 3 % stop fills at 97 on bar 2: exit commission 9·97·0.01 = 8.73, cash
    /// 991 − 27 − 8.73 = 955.27, pnl −27 − 17.73 = −44.73. A later `Long` action (bar 3)
    /// opens a new trade at bar 4's open: stops do not block the strategy's own orders.
    #[test]
    fn stop_exits_pay_commission_and_later_actions_reopen() {
        let b = Bars {
            open: vec![100.0, 100.0, 99.0, 98.0, 98.0, 99.0],
            high: vec![100.0, 101.0, 99.5, 99.0, 99.0, 100.0],
            low: vec![100.0, 99.0, 96.0, 97.5, 97.5, 98.5],
            close: vec![100.0, 100.0, 98.0, 98.0, 98.5, 99.5],
        };
        let mut actions = long_then_hold(6);
        actions[3] = Action::Long;
        let (eq, tr, open) = with_stops(&b, &actions, sl(0.03), 0.01);
        assert_eq!(tr.len(), 1);
        assert_eq!((tr[0].entry_bar, tr[0].exit_bar), (1, 2));
        approx(tr[0].exit_price, 97.0);
        approx(tr[0].commission, 17.73);
        approx(tr[0].pnl, -44.73);
        approx(eq[2], 955.27);
        approx(eq[3], 955.27);
        let open = open.expect("the second trade is open");
        assert_eq!(open.entry_bar, 4);
    }

    #[test]
    fn no_stop_rule_changes_nothing() {
        let s = crate::engine::data::sample_series(500, 3);
        let actions: Vec<Action> = (0..s.len())
            .map(|i| match i % 17 {
                0 => Action::Long,
                5 => Action::Short,
                11 => Action::Flat,
                _ => Action::Hold,
            })
            .collect();
        let (mut e1, mut t1, mut e2, mut t2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let a = Sim::new(
            bars(&s.open, &s.close, &actions),
            3,
            1e4,
            0.002,
            &mut e1,
            &mut t1,
        )
        .finish();
        let b = Sim::new(
            bars(&s.open, &s.close, &actions),
            3,
            1e4,
            0.002,
            &mut e2,
            &mut t2,
        )
        .with_stops(&s.high, &s.low, StopRule::NONE)
        .finish();
        assert_eq!(a, b);
        assert_eq!(e1, e2);
        assert_eq!(t1, t2);
        // With a stop the path differs (there are stop exits on this data).
        let (mut e3, mut t3) = (Vec::new(), Vec::new());
        Sim::new(
            bars(&s.open, &s.close, &actions),
            3,
            1e4,
            0.002,
            &mut e3,
            &mut t3,
        )
        .with_stops(&s.high, &s.low, sl(0.01))
        .finish();
        assert_ne!(t1, t3);
    }
}
