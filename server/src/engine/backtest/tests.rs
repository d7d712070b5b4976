//! Tests of `backtest.rs`.

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

/// Simulates `actions` from bar `start` with 1000 in cash and commission `rate`: (equity,
/// closed trades, the trade still open).
fn simulate(
    open: &[f64],
    close: &[f64],
    actions: &[Action],
    start: usize,
    rate: f64,
) -> (Vec<f64>, Vec<SimTrade>, Option<SimTrade>) {
    simulate_with(bars(open, close, actions), start, rate, None)
}

/// [`simulate`] of `bars`, with the stops of `stops` (high, low, rule) when given.
fn simulate_with(
    bars: SimBars<'_>,
    start: usize,
    rate: f64,
    stops: Option<(&[f64], &[f64], StopRule)>,
) -> (Vec<f64>, Vec<SimTrade>, Option<SimTrade>) {
    let (mut eq, mut tr) = (Vec::new(), Vec::new());
    let mut sim = Sim::new(bars, start, 1000.0, rate, &mut eq, &mut tr);
    if let Some((high, low, rule)) = stops {
        sim = sim.with_stops(high, low, rule);
    }
    let open = sim.finish();
    (eq, tr, open)
}

/// Checks a trade's exit price and its profit.
fn exits_at(trade: &SimTrade, price: f64, pnl: f64) {
    approx(trade.exit_price, price);
    approx(trade.pnl, pnl);
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
    let (eq, tr, finished) = simulate(&open, &close, &actions, 1, 0.01);
    let open_trade = finished.unwrap();
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
    let (eq, _, finished) = simulate(&open, &close, &actions, 0, 0.0);
    assert!(finished.is_none());
    assert_eq!(eq, vec![1000.0; 3]);
}

#[test]
fn going_broke_closes_and_zeroes_equity() {
    // Short 10 units at 100, price goes to 250: equity 1000 - 10·150 < 0 on bar 2.
    let open = [100.0, 100.0, 200.0, 300.0];
    let close = [100.0, 100.0, 250.0, 300.0];
    let actions = [Action::Short, Action::Hold, Action::Hold, Action::Hold];
    let (eq, tr, finished) = simulate(&open, &close, &actions, 0, 0.0);
    assert!(finished.is_none());
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
    let stops = Some((&b.high[..], &b.low[..], rule));
    simulate_with(bars(&b.open, &b.close, actions), 0, rate, stops)
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
    exits_at(&tr[0], 97.0, -27.0);
    for (e, want) in eq
        .iter()
        .zip([1000.0, 1000.0, 1018.0, 991.0, 973.0, 973.0, 973.0])
    {
        approx(*e, want);
    }
    b.open[4] = 96.0;
    let (eq, tr, _) = with_stops(&b, &long_then_hold(7), sl(0.03), 0.0);
    assert_eq!(tr[0].exit_bar, 4);
    exits_at(&tr[0], 96.0, -36.0);
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
    exits_at(&tr[0], 105.0, 45.0);
    approx(eq[2], 1027.0);
    approx(eq[4], 1045.0);
    b.open[3] = 106.0;
    let (_, tr, _) = with_stops(&b, &long_then_hold(5), tp, 0.0);
    exits_at(&tr[0], 106.0, 54.0);
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
    exits_at(&tr[0], 104.5, 40.5);
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
    exits_at(&tr[0], 103.0, -27.0);
    approx(eq[2], 1000.0);
    approx(eq[3], 973.0);
    b.open[3] = 95.0;
    b.low[3] = 94.0;
    b.high[3] = 96.0;
    let (_, tr, _) = with_stops(&b, &actions, rule, 0.0);
    exits_at(&tr[0], 95.0, 45.0);
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
