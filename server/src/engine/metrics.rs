//! Backtest statistics, formula for formula as backtesting.py 0.6's `compute_stats` (risk-free
//! rate 0). Pure functions of the equity curve, the closed trades and the bar times.
//!
//! Notation: `E_0..E_{n-1}` equity per bar, `r_k` the period returns of the equity resampled to
//! the data's calendar frequency (below), `D` the annual number of such periods, `p_j` / `R_j`
//! trade PnL / return fraction. Sweeps evaluate single metrics through [`metric_value`], which
//! calls the very same functions as [`compute_stats`], so a sweep's metric equals the full
//! backtest's bit for bit.
//!
//! The calendar the formulas need (periods per year, period ends, the span) is [`TimeInfo`], in
//! `time`.

use app::model::research::{Metric, Stats};

use super::backtest::SimTrade;

mod time;

pub use time::TimeInfo;

fn some(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `x or NaN` in Python: zero becomes NaN (used as a divisor).
fn or_nan(x: f64) -> f64 {
    if x == 0.0 {
        f64::NAN
    } else {
        x
    }
}

/// Geometric mean of returns: `exp(Σ ln(1 + r) / m) - 1`; 0 if any `1 + r ≤ 0`, NaN if empty
/// (NaN returns count as 0).
///
/// For speed the logs are taken of products of up to 32 factors, in 4 independent lanes (equal
/// to the per-term sum of logs up to floating-point noise); if a partial product leaves the
/// normal range the exact per-term sum is used instead.
pub fn geometric_mean(r: &[f64]) -> f64 {
    let m = r.len();
    if m == 0 {
        return f64::NAN;
    }
    let factor = |x: f64| if x.is_nan() { 1.0 } else { x + 1.0 };
    let mut log_sum = 0.0_f64;
    let mut bad = false;
    let mut lanes = [1.0_f64; 4];
    let mut chunks = r.chunks_exact(4);
    let mut k = 0u32;
    for c in &mut chunks {
        let f = [factor(c[0]), factor(c[1]), factor(c[2]), factor(c[3])];
        if f[0] <= 0.0 || f[1] <= 0.0 || f[2] <= 0.0 || f[3] <= 0.0 {
            return 0.0;
        }
        for j in 0..4 {
            lanes[j] *= f[j];
        }
        k += 1;
        if k == 32 {
            for l in &mut lanes {
                bad |= !l.is_normal();
                log_sum += l.ln();
                *l = 1.0;
            }
            k = 0;
        }
    }
    let mut tail = 1.0_f64;
    for &x in chunks.remainder() {
        let f = factor(x);
        if f <= 0.0 {
            return 0.0;
        }
        tail *= f;
    }
    for l in lanes.iter().chain([&tail]) {
        bad |= !l.is_normal();
        log_sum += l.ln();
    }
    if bad {
        log_sum = r.iter().map(|&x| factor(x).ln()).sum();
    }
    (log_sum / m as f64).exp() - 1.0
}

/// `Σ f(x)` over a slice with 4 independent accumulators (lets the CPU pipeline the adds).
#[inline(always)]
fn sum4(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0_f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        acc[0] += f(c[0]);
        acc[1] += f(c[1]);
        acc[2] += f(c[2]);
        acc[3] += f(c[3]);
    }
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Period returns `r_k = E(k)/E(k-1) - 1` of the equity at each period's last bar, NaNs
/// (0/0 after going broke) dropped — pandas `resample().last().dropna().pct_change().dropna()`.
pub fn period_returns(equity: &[f64], time: &TimeInfo, out: &mut Vec<f64>) {
    out.clear();
    if time.period_last_bar.len() == equity.len() {
        // One bar per period (daily bars): no gather, and a branch-free (vectorizable) loop.
        if equity.len() < 2 {
            return;
        }
        out.resize(equity.len() - 1, 0.0);
        let mut any_nan = false;
        for ((r, &e0), &e1) in out.iter_mut().zip(equity).zip(&equity[1..]) {
            *r = e1 / e0 - 1.0;
            any_nan |= r.is_nan();
        }
        if any_nan {
            out.retain(|r| !r.is_nan());
        }
        return;
    }
    let mut prev = f64::NAN;
    for (k, &i) in time.period_last_bar.iter().enumerate() {
        let e = equity[i];
        if k > 0 {
            let r = e / prev - 1.0;
            if !r.is_nan() {
                out.push(r);
            }
        }
        prev = e;
    }
}

/// Annualized return and volatility from period returns.
#[derive(Clone, Copy, Debug)]
pub struct Annualized {
    /// `(1 + g)^D - 1` with `g` the geometric mean period return.
    pub ret: f64,
    /// `sqrt((var(r) + (1 + g)²)^D - (1 + g)^(2D))`, `var` with ddof 1 (the annualized
    /// volatility of compounded returns, backtesting.py / SSRN 3054517).
    pub vol: f64,
}

/// `Return (Ann.)` and `Volatility (Ann.)` as fractions; see [`Annualized`].
pub fn annualized(r: &[f64], d: f64) -> Annualized {
    let g = geometric_mean(r);
    let ret = (1.0 + g).powf(d) - 1.0;
    let m = r.len();
    let var = if m > 1 {
        let mean = sum4(r, |x| x) / m as f64;
        sum4(r, |x| (x - mean) * (x - mean)) / (m - 1) as f64
    } else {
        f64::NAN
    };
    let vol = ((var + (1.0 + g).powi(2)).powf(d) - (1.0 + g).powf(2.0 * d)).sqrt();
    Annualized { ret, vol }
}

/// Sharpe ratio: `Return (Ann.) [%] / Volatility (Ann.) [%]` (NaN if volatility is 0).
pub fn sharpe(a: &Annualized) -> f64 {
    (a.ret * 100.0) / or_nan(a.vol * 100.0)
}

/// Sortino ratio: `Return (Ann.) / (sqrt(mean(min(r, 0)²)) · sqrt(D))`.
pub fn sortino(a: &Annualized, r: &[f64], d: f64) -> f64 {
    let down = if r.is_empty() {
        f64::NAN
    } else {
        sum4(r, |x| x.min(0.0) * x.min(0.0)) / r.len() as f64
    };
    a.ret / (down.sqrt() * d.sqrt())
}

/// Largest drawdown as a fraction: `max_i (1 - E_i / max_{j≤i} E_j)` (0 when never below peak).
pub fn max_drawdown(equity: &[f64]) -> f64 {
    let (mut peak, mut worst) = (f64::MIN, 0.0_f64);
    for &e in equity {
        peak = peak.max(e);
        let dd = 1.0 - e / peak;
        if dd > worst {
            worst = dd;
        }
    }
    worst
}

/// Calmar ratio: `Return (Ann.) / max drawdown` (NaN without drawdown).
pub fn calmar(a: &Annualized, max_dd: f64) -> f64 {
    a.ret / or_nan(max_dd)
}

/// Return [%]: `(E_{n-1} - E_0) / E_0 · 100`.
pub fn return_pct(equity: &[f64]) -> f64 {
    match (equity.first(), equity.last()) {
        (Some(&f), Some(&l)) => (l - f) / f * 100.0,
        _ => f64::NAN,
    }
}

/// CAGR [%]: `((E_{n-1} / E_0)^(1 / years) - 1) · 100`, years = span / 365.25 days (NaN if 0).
pub fn cagr_pct(equity: &[f64], years: f64) -> f64 {
    match (equity.first(), equity.last()) {
        (Some(&f), Some(&l)) if years != 0.0 => ((l / f).powf(1.0 / years) - 1.0) * 100.0,
        _ => f64::NAN,
    }
}

/// Win Rate [%]: share of closed trades with `p_j > 0`, × 100 (NaN without trades).
pub fn win_rate_pct(t: &[SimTrade]) -> f64 {
    if t.is_empty() {
        return f64::NAN;
    }
    t.iter().filter(|t| t.pnl > 0.0).count() as f64 / t.len() as f64 * 100.0
}

/// Profit Factor: `Σ R_j>0 / |Σ R_j<0|` over trade *returns* (NaN without losing trades).
pub fn profit_factor(t: &[SimTrade]) -> f64 {
    let win: f64 = t.iter().map(|t| t.return_frac).filter(|r| *r > 0.0).sum();
    let loss: f64 = t.iter().map(|t| t.return_frac).filter(|r| *r < 0.0).sum();
    win / or_nan(loss.abs())
}

/// Expectancy [%]: arithmetic mean of trade returns × 100.
pub fn expectancy_pct(t: &[SimTrade]) -> f64 {
    if t.is_empty() {
        return f64::NAN;
    }
    t.iter().map(|t| t.return_frac).sum::<f64>() / t.len() as f64 * 100.0
}

/// SQN: `sqrt(N) · mean(p) / std(p)` (std with ddof 1; NaN if < 2 trades or std 0).
pub fn sqn(t: &[SimTrade]) -> f64 {
    let n = t.len();
    if n < 2 {
        return f64::NAN;
    }
    let mean = t.iter().map(|t| t.pnl).sum::<f64>() / n as f64;
    let var = t.iter().map(|t| (t.pnl - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (n as f64).sqrt() * mean / or_nan(var.sqrt())
}

/// Value of one metric for a simulated run; NaN when undefined (±∞ also counts as undefined,
/// so rankings and checkpoints stay finite). `buf` is working space.
pub fn metric_value(
    metric: Metric,
    equity: &[f64],
    trades: &[SimTrade],
    time: &TimeInfo,
    buf: &mut Vec<f64>,
) -> f64 {
    let annual = |buf: &mut Vec<f64>| {
        period_returns(equity, time, buf);
        annualized(buf, time.annual_periods)
    };
    let v = match metric {
        Metric::ReturnPct => return_pct(equity),
        Metric::EquityFinal => equity.last().copied().unwrap_or(f64::NAN),
        Metric::Sharpe => sharpe(&annual(buf)),
        Metric::Sortino => {
            let a = annual(buf);
            sortino(&a, buf, time.annual_periods)
        }
        Metric::Calmar => calmar(&annual(buf), max_drawdown(equity)),
        Metric::CagrPct => cagr_pct(equity, time.years),
        Metric::WinRatePct => win_rate_pct(trades),
        Metric::ProfitFactor => profit_factor(trades),
        Metric::ExpectancyPct => expectancy_pct(trades),
        Metric::Sqn => sqn(trades),
        Metric::MaxDrawdownPct => -max_drawdown(equity) * 100.0,
    };
    if v.is_finite() {
        v
    } else {
        f64::NAN
    }
}

fn ceil_to(secs: f64, unit: i64) -> i64 {
    let unit = unit.max(1) as f64;
    ((secs / unit).ceil() * unit) as i64
}

/// Drawdown periods: from each bar at a peak (drawdown 0) to the next bar at a peak or the last
/// bar, when at least one bar in between is below the peak. Returns `(duration in seconds, peak
/// drawdown fraction)` per period (`compute_drawdown_duration_peaks`).
pub fn drawdown_periods(equity: &[f64], ts: &[i64]) -> Vec<(i64, f64)> {
    let n = equity.len();
    let mut dd = Vec::with_capacity(n);
    let mut peak = f64::MIN;
    for &e in equity {
        peak = peak.max(e);
        dd.push(1.0 - e / peak);
    }
    let mut marks: Vec<usize> = (0..n).filter(|&i| dd[i] == 0.0).collect();
    if n > 0 && marks.last() != Some(&(n - 1)) {
        marks.push(n - 1);
    }
    marks
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| {
            let worst = dd[w[0]..=w[1]].iter().copied().fold(f64::NAN, f64::max);
            (ts[w[1]].saturating_sub(ts[w[0]]), worst)
        })
        .collect()
}

/// All statistics of a simulated window, as backtesting.py's `compute_stats`.
///
/// Besides the formulas on the helper functions:
/// * Exposure Time [%] = bars covered by some closed trade (entry to exit bar inclusive) / n.
/// * Buy & Hold Return [%] = `(C_{n-1} - C_w) / C_w · 100`, `w` the strategy's warm-up bar.
/// * Max./Avg. Drawdown [%] = `-max dd · 100` / `-mean(peak dd of each period) · 100`;
///   their durations are the max / mean period length rounded up to the data's resolution.
/// * Best/Worst Trade [%] = max/min `R_j · 100`; Avg. Trade [%] = geometric mean of `R_j` · 100.
/// * Trade durations = exit time - entry time (max / mean, rounded up like drawdowns).
/// * Kelly = `W - (1 - W) / (mean(p > 0) / mean(-p | p < 0))`, `W` the win rate fraction.
pub fn compute_stats(
    equity: &[f64],
    trades: &[SimTrade],
    ts: &[i64],
    close: &[f64],
    bh_first: usize,
    time: &TimeInfo,
) -> Stats {
    let n = equity.len().min(ts.len()).min(close.len());
    if n == 0 {
        return Stats::default();
    }
    let (equity, ts, close) = (&equity[..n], &ts[..n], &close[..n]);
    let mut buf = Vec::new();
    period_returns(equity, time, &mut buf);
    let ann = annualized(&buf, time.annual_periods);
    let max_dd = max_drawdown(equity);

    // Exposure: union of [entry, exit] over closed trades (sorted, at most touching).
    let mut covered = 0usize;
    let mut next_free = 0usize;
    for t in trades {
        let s = t.entry_bar.max(next_free);
        if t.exit_bar >= s {
            covered += t.exit_bar - s + 1;
            next_free = t.exit_bar + 1;
        }
    }

    let periods = drawdown_periods(equity, ts);
    let res = time.resolution_secs;
    let (max_dd_dur, avg_dd_dur, avg_dd) = if periods.is_empty() {
        (None, None, None)
    } else {
        let m = periods.len() as f64;
        let max_d = periods.iter().map(|p| p.0).max().unwrap_or(0);
        let mean_d = periods.iter().map(|p| p.0 as f64).sum::<f64>() / m;
        let mean_peak = periods.iter().map(|p| p.1).sum::<f64>() / m;
        (
            Some(ceil_to(max_d as f64, res)),
            Some(ceil_to(mean_d, res)),
            some(-mean_peak * 100.0),
        )
    };

    let nt = trades.len();
    let returns = || trades.iter().map(|t| t.return_frac);
    let trade_returns: Vec<f64> = returns().collect();
    let durations: Vec<i64> = trades
        .iter()
        .map(|t| ts[t.exit_bar.min(n - 1)].saturating_sub(ts[t.entry_bar.min(n - 1)]))
        .collect();
    let win_rate = win_rate_pct(trades);
    let kelly = {
        let w = win_rate / 100.0;
        let wins: Vec<f64> = trades.iter().map(|t| t.pnl).filter(|p| *p > 0.0).collect();
        let losses: Vec<f64> = trades.iter().map(|t| t.pnl).filter(|p| *p < 0.0).collect();
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        w - (1.0 - w) / (mean(&wins) / -mean(&losses))
    };
    let bh = close
        .get(bh_first)
        .map(|&c0| (close[n - 1] - c0) / c0 * 100.0)
        .unwrap_or(f64::NAN);
    let peak = equity.iter().copied().fold(f64::MIN, f64::max);

    Stats {
        start: ts[0],
        end: ts[n - 1],
        duration_secs: ts[n - 1].saturating_sub(ts[0]),
        exposure_time_pct: covered as f64 / n as f64 * 100.0,
        equity_final: some(equity[n - 1]),
        equity_peak: some(peak),
        commissions: some(trades.iter().map(|t| t.commission).sum()),
        return_pct: some(return_pct(equity)),
        buy_hold_return_pct: some(bh),
        return_ann_pct: some(ann.ret * 100.0),
        volatility_ann_pct: some(ann.vol * 100.0),
        cagr_pct: some(cagr_pct(equity, time.years)),
        sharpe: some(sharpe(&ann)),
        sortino: some(sortino(&ann, &buf, time.annual_periods)),
        calmar: some(calmar(&ann, max_dd)),
        max_drawdown_pct: some(-max_dd * 100.0),
        avg_drawdown_pct: avg_dd,
        max_drawdown_duration_secs: max_dd_dur,
        avg_drawdown_duration_secs: avg_dd_dur,
        trades: nt as u32,
        win_rate_pct: some(win_rate),
        best_trade_pct: some(returns().fold(f64::NAN, f64::max) * 100.0),
        worst_trade_pct: some(returns().fold(f64::NAN, f64::min) * 100.0),
        avg_trade_pct: some(geometric_mean(&trade_returns) * 100.0),
        max_trade_duration_secs: durations.iter().max().map(|&d| ceil_to(d as f64, res)),
        avg_trade_duration_secs: (!durations.is_empty()).then(|| {
            ceil_to(
                durations.iter().map(|&d| d as f64).sum::<f64>() / nt as f64,
                res,
            )
        }),
        profit_factor: some(profit_factor(trades)),
        expectancy_pct: some(expectancy_pct(trades)),
        sqn: some(sqn(trades)),
        kelly: some(kelly),
    }
}

#[cfg(test)]
mod tests;
