//! Tests of `compare.rs`.

use super::*;
use serde_json::json;
use uuid::Uuid;

fn pt(t: i64, equity: f64) -> EquityPoint {
    EquityPoint {
        t,
        equity,
        drawdown_pct: 0.0,
    }
}

fn repro(kind: JobKind, state: JobState, request: Value) -> Reproducibility {
    Reproducibility {
        id: Uuid::from_u128(7),
        kind,
        state,
        request,
        program_version: None,
        dataset_hash: None,
        dataset_name: Some("SPY".into()),
    }
}

#[test]
fn curves_start_at_100_whatever_the_cash() {
    let curve = normalize_curve(&[pt(1, f64::NAN), pt(2, 0.0), pt(3, 5_000.0), pt(4, 7_500.0)]);
    assert_eq!(curve, vec![(2, 0.0), (3, 100.0), (4, 150.0)]);
    assert!(normalize_curve(&[pt(1, -5.0), pt(2, 0.0)]).is_empty());
    // Thinned, but the start (100) and the end are kept even when neither is an extreme.
    let long: Vec<EquityPoint> = (0..100_000)
        .map(|i| pt(i, 10.0 + (i as f64 / 50.0).sin()))
        .collect();
    let thin = normalize_curve(&long);
    assert!(thin.len() <= COMPARE_MAX_POINTS, "{}", thin.len());
    assert_eq!(thin[0], (0, 100.0));
    let end = long.last().unwrap();
    assert_eq!(*thin.last().unwrap(), (end.t, end.equity / 10.0 * 100.0));
}

#[test]
fn each_kind_contributes_its_own_statistics_and_curve() {
    let stats = serde_json::to_value(Stats {
        sharpe: Some(1.5),
        ..Stats::default()
    })
    .unwrap();
    let curve = json!([{"t": 1, "equity": 200.0, "drawdown_pct": 0.0},
                           {"t": 2, "equity": 220.0, "drawdown_pct": 0.0}]);
    let backtest = build_column(
        &repro(
            JobKind::Backtest,
            JobState::Succeeded,
            json!({"kind": "backtest", "strategy": "sma_cross", "params": {"n1": 10, "n2": 30}}),
        ),
        Some(&json!({"stats": stats, "equity": curve})),
    );
    assert_eq!(backtest.stats.as_ref().unwrap().sharpe, Some(1.5));
    assert_eq!(backtest.curve.len(), 2);
    assert_eq!(backtest.curve[0], (1, 100.0));
    assert_eq!(backtest.curve[1].0, 2);
    assert!((backtest.curve[1].1 - 110.0).abs() < 1e-9);
    assert_eq!(params_summary(&backtest.context), "n1 = 10, n2 = 30");
    assert_eq!(backtest.context.dataset.as_deref(), Some("SPY"));
    assert_eq!(backtest.note, None);

    let optimize = build_column(
        &repro(
            JobKind::Optimize,
            JobState::Succeeded,
            json!({"kind": "optimize",
                "grid": {"n1": {"range": {"start": 5, "stop": 30, "step": 5}}, "n2": {"list": [40, 60]}}}),
        ),
        Some(&json!({"best_stats": stats, "best_params": {"n1": 10.0}})),
    );
    assert_eq!(optimize.best_params.get("n1"), Some(&10.0));
    assert!(optimize.curve.is_empty());
    assert!(optimize
        .note
        .as_deref()
        .unwrap()
        .contains("No equity curve"));
    assert_eq!(
        params_summary(&optimize.context),
        "n1 5..30/5, n2 40…60 (2 values)"
    );
    let with_curve = build_column(
        &repro(
            JobKind::Optimize,
            JobState::Succeeded,
            json!({"kind": "optimize"}),
        ),
        Some(&json!({"best_stats": stats, "best_equity": curve})),
    );
    assert_eq!(with_curve.curve.len(), 2);
    assert_eq!(with_curve.note, None);

    let wf = build_column(
        &repro(
            JobKind::WalkForward,
            JobState::Succeeded,
            json!({"kind": "walk_forward"}),
        ),
        Some(&json!({
            "oos_equity": [{"t": 10, "equity": 100.0, "drawdown_pct": 0.0},
                           {"t": 20, "equity": 120.0, "drawdown_pct": 0.0},
                           {"t": 30, "equity": 90.0, "drawdown_pct": 25.0}],
            "oos_return_pct": -10.0,
            "folds": [{"out_of_sample_stats": serde_json::to_value(Stats { trades: 3, win_rate_pct: Some(100.0), ..Stats::default() }).unwrap()},
                      {"out_of_sample_stats": serde_json::to_value(Stats { trades: 1, win_rate_pct: Some(0.0), ..Stats::default() }).unwrap()}]
        })),
    );
    let s = wf.stats.unwrap();
    assert_eq!((s.start, s.end, s.duration_secs), (10, 30, 20));
    assert_eq!(s.return_pct, Some(-10.0));
    assert_eq!(s.equity_peak, Some(120.0));
    assert_eq!(s.max_drawdown_pct, Some(-25.0));
    assert_eq!((s.trades, s.win_rate_pct), (4, Some(75.0)));
    assert_eq!(wf.curve.len(), 3);

    let train = build_column(
        &repro(
            JobKind::Train,
            JobState::Succeeded,
            json!({"kind": "train", "lags": 5, "epochs": 20}),
        ),
        Some(&json!({"backtest": stats})),
    );
    assert!(train.stats.is_some() && train.curve.is_empty());
    assert_eq!(params_summary(&train.context), "epochs = 20, lags = 5");

    let running = build_column(
        &repro(
            JobKind::Backtest,
            JobState::Running,
            json!({"kind": "backtest"}),
        ),
        None,
    );
    assert_eq!(
        running.note.as_deref(),
        Some("No results: the job is RUNNING.")
    );
    let garbage = build_column(
        &repro(
            JobKind::Backtest,
            JobState::Succeeded,
            json!({"kind": "backtest"}),
        ),
        Some(&json!({"stats": "nope", "equity": 5})),
    );
    assert!(garbage.stats.is_none() && garbage.curve.is_empty());
    assert!(garbage.note.is_some());
}

#[test]
fn the_url_may_repeat_ids_or_list_them() {
    assert_eq!(ids_from_query(vec!["a,b".into()]), "a,b");
    assert_eq!(ids_from_query(vec!["a".into(), "b".into()]), "a,b");
    assert_eq!(ids_from_query(vec![]), "");
}
