//! Tests of `metrics.rs`.

use super::*;
use crate::engine::data::days_from_civil;

const DAY: i64 = 86_400;

fn trade(entry: usize, exit: usize, pnl: f64, ret: f64) -> SimTrade {
    SimTrade {
        size: 1,
        entry_bar: entry,
        exit_bar: exit,
        entry_price: 1.0,
        exit_price: 1.0,
        pnl,
        return_frac: ret,
        commission: 0.0,
    }
}

fn close_to(a: Option<f64>, b: f64) {
    let a = a.unwrap_or(f64::NAN);
    assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
}

/// Five daily bars Mon 2024-01-01 … Fri 2024-01-05 (no weekends → D = 252).
fn weekdays(n: usize) -> Vec<i64> {
    let d0 = days_from_civil(2024, 1, 1);
    (0..n as i64).map(|i| (d0 + i) * DAY).collect()
}

#[test]
fn time_info_for_daily_weekday_data() {
    let t = TimeInfo::new(&weekdays(5));
    assert_eq!(t.annual_periods, 252.0);
    assert_eq!(t.period_last_bar, vec![0, 1, 2, 3, 4]);
    assert_eq!(t.resolution_secs, DAY);
    close_to(Some(t.years), 4.0 / 365.25);
    // Every day of the week → crypto-style 365.
    let all: Vec<i64> = (0..14).map(|i| i * DAY).collect();
    assert_eq!(TimeInfo::new(&all).annual_periods, 365.0);
    // Weekly bars → 52 and one period per bar.
    let weekly: Vec<i64> = (0..10).map(|i| (4 + 7 * i) * DAY).collect();
    let t = TimeInfo::new(&weekly);
    assert_eq!(t.annual_periods, 52.0);
    assert_eq!(t.period_last_bar.len(), 10);
    // Hourly bars → one period per calendar day, durations rounded to hours.
    let hourly: Vec<i64> = (0..48).map(|i| 4 * DAY + i * 3600).collect();
    let t = TimeInfo::new(&hourly);
    assert_eq!(t.period_last_bar, vec![23, 47]);
    assert_eq!(t.resolution_secs, 3600);
}

/// Equity 100, 110, 99, 121, 121 on Mon–Fri.
///
/// * Return = 21%. Period returns r = 0.1, -0.1, 2/9, 0.
/// * g = (1.1 · 0.9 · 11/9 · 1)^(1/4) - 1 = 1.21^(1/4) - 1 = 0.0488088…;
///   Return (Ann.) = 1.21^(252/4) - 1 = 1.21^63 - 1.
/// * mean r = 0.0555…, var(ddof 1) = Σ(r - mean)² / 3.
/// * Max drawdown = 1 - 99/110 = 10%; one period (bar 1 → bar 3, 2 days), peak 10%.
/// * Sortino denominator = sqrt(0.01 / 4) · sqrt(252).
/// * CAGR = (1.21^(365.25/4) - 1) · 100.
#[test]
fn equity_metrics_by_hand() {
    let ts = weekdays(5);
    let eq = [100.0, 110.0, 99.0, 121.0, 121.0];
    let close = [10.0, 11.0, 9.0, 12.0, 12.5];
    let t = TimeInfo::new(&ts);
    let s = compute_stats(&eq, &[], &ts, &close, 1, &t);
    close_to(s.return_pct, 21.0);
    close_to(s.equity_final, 121.0);
    close_to(s.equity_peak, 121.0);
    // Buy & hold from bar 1: (12.5 - 11) / 11.
    close_to(s.buy_hold_return_pct, 1.5 / 11.0 * 100.0);
    let ann = 1.21f64.powf(63.0) - 1.0;
    close_to(s.return_ann_pct, ann * 100.0);
    let r = [0.1, -0.1, 2.0 / 9.0, 0.0];
    let mean = r.iter().sum::<f64>() / 4.0;
    let var = r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0;
    let g1 = 1.21f64.powf(0.25);
    let vol = ((var + g1 * g1).powf(252.0) - g1.powf(504.0)).sqrt();
    close_to(s.volatility_ann_pct, vol * 100.0);
    close_to(s.sharpe, ann / vol);
    close_to(s.sortino, ann / ((0.01f64 / 4.0).sqrt() * 252f64.sqrt()));
    close_to(s.calmar, ann / 0.1);
    close_to(s.max_drawdown_pct, -10.0);
    close_to(s.avg_drawdown_pct, -10.0);
    assert_eq!(s.max_drawdown_duration_secs, Some(2 * DAY));
    assert_eq!(s.avg_drawdown_duration_secs, Some(2 * DAY));
    close_to(s.cagr_pct, (1.21f64.powf(365.25 / 4.0) - 1.0) * 100.0);
    assert_eq!(s.trades, 0);
    assert_eq!(s.win_rate_pct, None);
    assert_eq!(s.sqn, None);
    assert_eq!(s.exposure_time_pct, 0.0);
}

/// Trades with PnL 10, -5, 20 and returns 10%, -5%, 20%, over bars [1,2], [2,3], [5,6] of 8.
///
/// * Win rate 2/3 → 66.67%. Best 20%, worst -5%.
/// * Avg. trade = (1.1 · 0.95 · 1.2)^(1/3) - 1 = 1.254^(1/3) - 1.
/// * Profit factor = 0.30 / 0.05 = 6. Expectancy = 25% / 3.
/// * SQN: mean p = 25/3, std = sqrt(((10-25/3)² + (-5-25/3)² + (20-25/3)²)/2) = 12.583…,
///   SQN = sqrt(3) · 8.333… / 12.583… = 1.1470…
/// * Kelly = 2/3 - (1/3) / (15 / 5) = 5/9.
/// * Exposure: bars 1,2,3,5,6 → 5/8 = 62.5%. Durations 1 day each.
#[test]
fn trade_metrics_by_hand() {
    let ts = weekdays(8);
    let eq = [100.0; 8];
    let close = [1.0; 8];
    let trades = [
        trade(1, 2, 10.0, 0.10),
        trade(2, 3, -5.0, -0.05),
        trade(5, 6, 20.0, 0.20),
    ];
    let s = compute_stats(&eq, &trades, &ts, &close, 0, &TimeInfo::new(&ts));
    assert_eq!(s.trades, 3);
    close_to(s.win_rate_pct, 200.0 / 3.0);
    close_to(s.best_trade_pct, 20.0);
    close_to(s.worst_trade_pct, -5.0);
    close_to(s.avg_trade_pct, (1.254f64.powf(1.0 / 3.0) - 1.0) * 100.0);
    close_to(s.profit_factor, 6.0);
    close_to(s.expectancy_pct, 25.0 / 3.0);
    let m = 25.0 / 3.0;
    let sd = (((10.0 - m) * (10.0 - m) + (-5.0 - m) * (-5.0 - m) + (20.0 - m) * (20.0 - m))
        / 2.0f64)
        .sqrt();
    close_to(s.sqn, 3f64.sqrt() * m / sd);
    close_to(s.kelly, 5.0 / 9.0);
    assert_eq!(s.exposure_time_pct, 62.5);
    assert_eq!(s.max_trade_duration_secs, Some(DAY));
    assert_eq!(s.avg_trade_duration_secs, Some(DAY));
    // No drawdown at all: undefined drawdown stats, Calmar undefined.
    assert_eq!(s.max_drawdown_pct, Some(-0.0));
    assert_eq!(s.calmar, None);
    assert_eq!(s.avg_drawdown_duration_secs, None);
}

#[test]
fn ongoing_drawdown_counts_to_the_last_bar_and_durations_round_up() {
    // Peaks at bars 0 and 2; below peak on 1 and from 3 to the end (bars 3, 4).
    let ts = weekdays(5);
    let eq = [100.0, 50.0, 100.0, 75.0, 87.5];
    let p = drawdown_periods(&eq, &ts);
    assert_eq!(p, vec![(2 * DAY, 0.5), (2 * DAY, 0.25)]);
    let s = compute_stats(&eq, &[], &ts, &[1.0; 5], 0, &TimeInfo::new(&ts));
    close_to(s.avg_drawdown_pct, -37.5);
    close_to(s.max_drawdown_pct, -50.0);
    // Mean of 2 periods of 2 days → 2 days; a 1.5-day mean would round up to 2.
    assert_eq!(ceil_to(1.5 * DAY as f64, DAY), 2 * DAY);
}

#[test]
fn geometric_mean_edge_cases() {
    assert!(geometric_mean(&[]).is_nan());
    assert_eq!(geometric_mean(&[0.1, -1.0]), 0.0);
    close_to(Some(geometric_mean(&[0.21, 0.0])), 0.1);
    // Long series: chunked products equal per-term logs to noise.
    let r: Vec<f64> = (0..1000)
        .map(|i| ((i * 7919) % 200) as f64 / 1000.0 - 0.1)
        .collect();
    let exact = (r.iter().map(|x| (1.0 + x).ln()).sum::<f64>() / 1000.0).exp() - 1.0;
    assert!((geometric_mean(&r) - exact).abs() < 1e-14);
    // Products leaving the normal range fall back to per-term logs.
    let tiny = vec![-0.999_999; 300];
    let exact = (1e-6f64).ln().exp() - 1.0;
    assert!((geometric_mean(&tiny) - exact).abs() < 1e-12);
}
