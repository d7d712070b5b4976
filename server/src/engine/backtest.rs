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

use app::model::research::{BacktestReport, BacktestRequest, EquityPoint, Limits, Trade};

use super::data::Series;
use super::metrics::{self, TimeInfo};
use super::progress::{report, ProgressSink};
use super::strategy::{Action, IndicatorCache};
use super::EngineError;

/// backtesting.py's default order size `1 - sys.float_info.epsilon` ("all equity").
pub const FULL_EQUITY: f64 = 1.0 - f64::EPSILON;

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
}

/// The fill simulation over one window; run it to the end with [`Sim::run_to`].
pub struct Sim<'a> {
    open: &'a [f64],
    close: &'a [f64],
    actions: &'a [Action],
    rate: f64,
    cash: f64,
    pos: Option<Position>,
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
            next: start.min(n),
            dead: false,
            equity,
            trades,
        }
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
        self.pos = Some(Position {
            size: if long { units } else { -units },
            entry_bar: bar,
            entry_price: price,
        });
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

/// Derives the actions of one parameter set and sets up their simulation over `spec`'s window.
fn start_sim<'s>(
    spec: &RunSpec<'s>,
    prepared: &super::strategy::Prepared<'_>,
    scratch: &'s mut Scratch,
) -> (Sim<'s>, usize) {
    let start = prepared.actions(spec.long_only, spec.a, spec.b, &mut scratch.actions);
    let s = spec.series;
    let bars = SimBars {
        open: &s.open[spec.a..spec.b],
        close: &s.close[spec.a..spec.b],
        actions: &scratch.actions,
    };
    let sim = Sim::new(
        bars,
        start,
        spec.cash,
        spec.commission,
        &mut scratch.equity,
        &mut scratch.trades,
    );
    (sim, start)
}

/// Actions + simulation for one parameter set, into `scratch` (equity/trades window-relative).
/// No progress: a sweep counts runs, not bars.
pub fn simulate_run(
    spec: &RunSpec<'_>,
    prepared: &super::strategy::Prepared<'_>,
    scratch: &mut Scratch,
) -> SimOutcome {
    let (sim, start) = start_sim(spec, prepared, scratch);
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
    let (mut sim, start) = start_sim(spec, prepared, scratch);
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

/// Most points in an equity curve sent for display.
pub const MAX_EQUITY_POINTS: usize = 2000;

/// Equity curve for display: every `⌈n / 2000⌉`-th bar plus the last; drawdown from the running
/// peak of the *full* curve, so the deepest points are not lost to rounding of the peak.
pub fn equity_points(ts: &[i64], equity: &[f64]) -> Vec<EquityPoint> {
    let n = equity.len().min(ts.len());
    let stride = n.div_ceil(MAX_EQUITY_POINTS).max(1);
    let mut peak = f64::MIN;
    let mut out = Vec::with_capacity(n / stride + 2);
    for i in 0..n {
        peak = peak.max(equity[i]);
        if i % stride == 0 || i + 1 == n {
            let dd = if peak > 0.0 {
                (1.0 - equity[i] / peak) * 100.0
            } else {
                0.0
            };
            out.push(EquityPoint {
                t: ts[i],
                equity: equity[i],
                drawdown_pct: dd,
            });
        }
    }
    out
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
}
