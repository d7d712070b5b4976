//! Tests of `results.rs`.

use super::*;

#[test]
fn non_finite_results_round_trip_through_json_as_none() {
    let stats = Stats {
        equity_final: Some(f64::INFINITY),
        sharpe: Some(f64::NAN),
        commissions: Some(f64::NEG_INFINITY),
        exposure_time_pct: f64::NAN,
        ..Stats::default()
    };
    let report = BacktestReport {
        stats: stats.clone(),
        equity: vec![EquityPoint {
            t: 0,
            equity: f64::INFINITY,
            drawdown_pct: f64::NAN,
        }],
        trades: vec![Trade {
            entry_bar: 0,
            exit_bar: 1,
            entry_time: 0,
            exit_time: 1,
            size: i64::MAX,
            entry_price: 1.0,
            exit_price: f64::INFINITY,
            pnl: f64::INFINITY,
            return_pct: f64::NAN,
            commission: f64::INFINITY,
        }],
        open_trade: None,
        trades_total: None,
    };
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("inf") && !text.contains("NaN"), "{text}");
    let back: BacktestReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.stats.equity_final, None);
    assert_eq!(back.stats.sharpe, None);
    assert_eq!(back.stats.commissions, None);
    assert!(back.stats.exposure_time_pct.is_nan());
    assert!(back.equity[0].equity.is_nan());
    assert!(back.trades[0].pnl.is_nan());
    assert_eq!(back.trades[0].entry_price, 1.0);
    // Through serde_json::Value too, as the job store keeps results.
    let train = TrainResult {
        epochs: vec![EpochLoss {
            epoch: 1,
            train_loss: f64::INFINITY,
            val_loss: 0.5,
        }],
        val_accuracy: f64::NAN,
        val_up_share: 0.5,
        weights: vec![f64::NAN, 1.5, f64::NEG_INFINITY],
        bias: f64::INFINITY,
        validation_start_bar: 3,
        backtest: stats,
    };
    let value = serde_json::to_value(&train).unwrap();
    let back: TrainResult = serde_json::from_value(value).unwrap();
    assert!(back.epochs[0].train_loss.is_nan());
    assert_eq!(back.epochs[0].val_loss, 0.5);
    assert!(back.weights[0].is_nan() && back.weights[2].is_nan());
    assert_eq!(back.weights[1], 1.5);
    assert!(back.bias.is_nan());
    assert_eq!(back.backtest.sharpe, None);
}
