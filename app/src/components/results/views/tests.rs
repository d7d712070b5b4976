//! Tests of `views.rs`.

use super::*;
use crate::model::research::{
    BootstrapFigure, DeflatedSharpeFigure, EpochLoss, EquityPoint, FoldResult, Heatmap, Metric,
    PboFigure, Robustness, RunSummary, Stats, Trade, WalkForwardRobustness,
};
use std::collections::BTreeMap;

const DAY: i64 = 86_400;
const T0: i64 = 1_577_836_800; // 2020-01-01

fn stats(ret: f64) -> Stats {
    Stats {
        start: T0,
        end: T0 + 365 * DAY,
        duration_secs: 365 * DAY,
        exposure_time_pct: 64.2,
        equity_final: Some(10_000.0 * (1.0 + ret / 100.0)),
        equity_peak: Some(13_100.0),
        return_pct: Some(ret),
        buy_hold_return_pct: Some(8.4),
        sharpe: Some(ret / 20.0),
        max_drawdown_pct: Some(-12.3),
        max_drawdown_duration_secs: Some(40 * DAY),
        trades: 12,
        win_rate_pct: Some(58.3),
        ..Stats::default()
    }
}

fn equity() -> Vec<EquityPoint> {
    let mut peak = 0.0f64;
    (0..366)
        .map(|d| {
            let x = f64::from(d);
            let equity = 10_000.0 + 8.0 * x + 700.0 * (x / 23.0).sin();
            peak = peak.max(equity);
            EquityPoint {
                t: T0 + i64::from(d) * DAY,
                equity,
                drawdown_pct: (1.0 - equity / peak) * 100.0,
            }
        })
        .collect()
}

fn params(n1: f64, n2: f64) -> BTreeMap<String, f64> {
    [("n1".to_string(), n1), ("n2".to_string(), n2)]
        .into_iter()
        .collect()
}

fn robustness() -> Robustness {
    Robustness {
        deflated_sharpe: Some(DeflatedSharpeFigure {
            probability: 0.97,
            observed_sharpe: 0.11,
            expected_max_sharpe: 0.06,
            trials: 41,
            var_trial_sharpes: 0.0004,
            skew: -0.2,
            kurtosis: 4.1,
            n_obs: 365,
        }),
        pbo: Some(PboFigure {
            pbo: 0.12,
            oos_loss_probability: 0.05,
            blocks: 16,
            combinations: 12_870,
            trials: 41,
            logit_min: -6.0,
            logit_bin_width: 0.5,
            logit_counts: (0..24).map(|i| (i * 37) % 11).collect(),
        }),
        bootstrap: Some(BootstrapFigure {
            p_value: 0.004,
            observed_mean: 0.0008,
            draws: 1_000,
            expected_block_length: 19.1,
            seed: 42,
        }),
        trials_total: 41,
        trials_used: 41,
        sampled: false,
        notes: vec![],
    }
}

/// One result of every kind, as the server stores them.
pub(crate) fn samples() -> Vec<(JobKind, serde_json::Value)> {
    let trade = |i: i64, size: i64, pnl: f64| Trade {
        entry_bar: (i * 20) as usize,
        exit_bar: (i * 20 + 9) as usize,
        entry_time: T0 + i * 20 * DAY,
        exit_time: T0 + (i * 20 + 9) * DAY,
        size,
        entry_price: 101.25 + i as f64,
        exit_price: 101.25 + i as f64 + pnl / size as f64,
        pnl,
        return_pct: pnl / 100.0,
        commission: 1.5,
    };
    let backtest = BacktestReport {
        stats: stats(31.2),
        equity: equity(),
        trades: (0..12)
            .map(|i| {
                trade(
                    i,
                    if i % 3 == 0 { -50 } else { 50 },
                    120.0 - 25.0 * (i % 5) as f64,
                )
            })
            .collect(),
        open_trade: Some(trade(12, 50, 42.0)),
        trades_total: None,
    };
    let xs: Vec<f64> = (0..8).map(|i| 5.0 + 5.0 * f64::from(i)).collect();
    let ys: Vec<f64> = (0..6).map(|i| 20.0 + 20.0 * f64::from(i)).collect();
    let cells = ys
        .iter()
        .map(|y| {
            xs.iter()
                .map(|x| (x < y).then(|| ((x / 10.0).sin() + y / 100.0) * 1.3))
                .collect()
        })
        .collect();
    let optimize = OptimizeResult {
        metric: Metric::Sharpe,
        best_params: params(10.0, 40.0),
        best_stats: stats(31.2),
        top: (0..5)
            .map(|i| RunSummary {
                params: params(10.0 + 5.0 * f64::from(i), 40.0),
                metric: Some(1.9 - 0.1 * f64::from(i)),
                stats: Some(stats(31.2 - 2.0 * f64::from(i))),
                plateau: Some(1.2 - 0.1 * f64::from(i)),
            })
            .collect(),
        grid: Heatmap {
            x_param: "n1".into(),
            x_values: xs,
            y_param: Some("n2".into()),
            y_values: ys,
            cells,
        },
        total_runs: 41,
        best_equity: equity(),
        robust_best: Some(RunSummary {
            params: params(15.0, 60.0),
            metric: Some(1.5),
            stats: Some(stats(20.0)),
            plateau: Some(1.3),
        }),
        robustness: Some(robustness()),
        full_grid: None,
    };
    let fold = |f: usize| FoldResult {
        fold: f,
        in_sample: (0, 100),
        out_of_sample: (100, 130),
        in_sample_time: (
            T0 + (f as i64 - 1) * 60 * DAY,
            T0 + (f as i64 + 2) * 60 * DAY,
        ),
        out_of_sample_time: (
            T0 + (f as i64 + 2) * 60 * DAY,
            T0 + (f as i64 + 3) * 60 * DAY,
        ),
        best_params: params(10.0, 30.0 + 10.0 * f as f64),
        in_sample_metric: Some(1.4),
        in_sample_stats: stats(12.0),
        out_of_sample_stats: stats(if f == 2 { -3.0 } else { 4.5 }),
        robustness: Some(robustness()),
    };
    let walk_forward = WalkForwardResult {
        metric: Metric::Sharpe,
        folds: (1..=3).map(fold).collect(),
        oos_equity: equity(),
        oos_return_pct: Some(6.1),
        efficiency: Some(0.62),
        robustness: Some(WalkForwardRobustness {
            median_pbo: Some(0.4),
            median_dsr: Some(0.7),
            oos_bootstrap: robustness().bootstrap,
            notes: vec![],
        }),
    };
    let train = TrainResult {
        epochs: (1..=30)
            .map(|e| EpochLoss {
                epoch: e,
                train_loss: 0.69 - 0.02 * (1.0 - (-(e as f64) / 8.0).exp()),
                val_loss: 0.695 - 0.012 * (1.0 - (-(e as f64) / 6.0).exp()),
            })
            .collect(),
        val_accuracy: 0.547,
        val_up_share: 0.521,
        weights: vec![0.12, -0.05, 0.03],
        bias: 0.01,
        validation_start_bar: 800,
        backtest: stats(5.5),
    };
    vec![
        (JobKind::Backtest, serde_json::to_value(backtest).unwrap()),
        (JobKind::Optimize, serde_json::to_value(optimize).unwrap()),
        (
            JobKind::WalkForward,
            serde_json::to_value(walk_forward).unwrap(),
        ),
        (JobKind::Train, serde_json::to_value(train).unwrap()),
        (
            JobKind::Demo,
            serde_json::json!({"slept_ms": 1500, "steps": 10}),
        ),
    ]
}

fn render(kind: JobKind, result: serde_json::Value) -> String {
    let owner = Owner::new();
    owner.with(|| view! { <JobResultView kind result /> }.to_html())
}

#[test]
fn renders_every_result_kind_with_its_test_ids() {
    let expected: [(JobKind, &[&str]); 5] = [
        (
            JobKind::Backtest,
            &["equity-chart", "stats-table", "trade-table"],
        ),
        (
            JobKind::Optimize,
            &[
                "heatmap",
                "top-runs",
                "best-params",
                "stats-table",
                "robust-best",
                "robustness-dsr",
                "robustness-pbo",
                "robustness-bootstrap",
                "plateau",
            ],
        ),
        (
            JobKind::WalkForward,
            &[
                "fold-table",
                "equity-chart",
                "wf-efficiency",
                "fold-dsr",
                "robustness-median-pbo",
                "robustness-oos-bootstrap",
            ],
        ),
        (
            JobKind::Train,
            &["loss-chart", "val-accuracy", "stats-table"],
        ),
        (JobKind::Demo, &["result-json"]),
    ];
    let samples = samples();
    for ((kind, result), (k, ids)) in samples.into_iter().zip(expected) {
        assert_eq!(kind, k);
        let html = render(kind, result);
        for id in ids {
            assert!(
                html.contains(&format!(r#"data-testid="{id}""#)),
                "{kind:?} lacks {id}: {html}"
            );
        }
        assert!(!html.contains("result-error"), "{kind:?}: {html}");
    }
}

#[test]
fn a_result_that_does_not_decode_shows_an_error_box() {
    let html = render(JobKind::Optimize, serde_json::json!({"metric": "nope"}));
    assert!(html.contains(r#"data-testid="result-error""#), "{html}");
    assert!(
        html.contains("This optimization result could not be read."),
        "{html}"
    );
}

#[test]
fn charts_are_labelled_images_with_a_view_box() {
    let (kind, result) = samples().remove(0);
    let html = render(kind, result);
    assert!(html.contains(r#"role="img""#), "{html}");
    assert!(html.contains(r#"viewBox="0 0 720 330""#), "{html}");
    assert!(
        html.contains("aria-label=\"Equity curve from 2020-01-01"),
        "{html}"
    );
}

#[test]
fn accuracy_is_compared_with_the_majority_direction() {
    // 55 % up → the naive baseline is 55 %; 58 % accuracy is 3 points above it.
    assert_eq!(
        accuracy_verdict(0.58, 0.55),
        "3.0 points above the naive baseline"
    );
    // 40 % up → the baseline predicts down: 60 %; 52 % accuracy is 8 points below it.
    assert_eq!(
        accuracy_verdict(0.52, 0.40),
        "8.0 points below the naive baseline"
    );
    assert_eq!(accuracy_verdict(0.5, 0.5), "matches the naive baseline");
}

#[test]
fn efficiency_note_explains_the_missing_case() {
    assert!(efficiency_note(None).contains("not positive"));
    assert!(efficiency_note(Some(0.8)).contains("at least half"));
    assert!(efficiency_note(Some(-0.2)).contains("lost money"));
}

#[test]
fn decoding_reports_what_did_not_fit() {
    let err = decode::<BacktestReport>(serde_json::json!({"stats": 1})).unwrap_err();
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn results_with_non_finite_numbers_stored_as_null_still_render() {
    // serde_json writes NaN and ±∞ as null; such a result must read back and show "—".
    let mut samples = samples();
    let (kind, mut backtest) = samples.remove(0);
    backtest["stats"]["sharpe"] = serde_json::Value::Null;
    backtest["stats"]["commissions"] = serde_json::Value::Null;
    backtest["stats"]["exposure_time_pct"] = serde_json::Value::Null;
    backtest["equity"][3]["equity"] = serde_json::Value::Null;
    backtest["trades"][0]["pnl"] = serde_json::Value::Null;
    let html = render(kind, backtest);
    assert!(!html.contains("result-error"), "{html}");
    assert!(html.contains(MISSING), "{html}");
    let (kind, mut train) = samples.remove(2);
    assert_eq!(kind, JobKind::Train);
    train["weights"][1] = serde_json::Value::Null;
    train["bias"] = serde_json::Value::Null;
    train["epochs"][0]["train_loss"] = serde_json::Value::Null;
    train["val_accuracy"] = serde_json::Value::Null;
    let html = render(kind, train);
    assert!(!html.contains("result-error"), "{html}");
    assert!(html.contains("cannot be compared"), "{html}");
}
