//! The order-fill simulation ([`Sim`]): orders, fills, commission, stops and equity, bar by bar.
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

use crate::engine::strategy::Action;

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
