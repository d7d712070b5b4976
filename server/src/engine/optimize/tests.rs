//! Tests of `optimize.rs`.

use super::sweep::Source;
use super::*;
use crate::engine::backtest::run_backtest;
use crate::engine::data::{sample_series, SplitMix64};
use crate::engine::progress::Flow;
use crate::engine::progress::{NoProgress, Recorder};
use app::model::research::{
    Account, BacktestRequest, GridSpec, Heatmap, ParamRange, Search, StrategyKind,
};
use std::collections::BTreeMap;

fn range(start: f64, stop: f64, step: f64) -> ParamRange {
    ParamRange::Range { start, stop, step }
}

fn sma_request(metric: Metric) -> OptimizeRequest {
    OptimizeRequest {
        dataset_id: "d".into(),
        search: Search::new(
            StrategyKind::SmaCross,
            [
                ("n1".to_string(), range(5.0, 30.0, 5.0)),
                ("n2".to_string(), range(10.0, 80.0, 10.0)),
            ]
            .into_iter()
            .collect(),
            metric,
        ),
        top_n: 3,
        account: Account {
            cash: 10_000.0,
            commission: 0.002,
            long_only: false,
        },
    }
}

fn same(a: f64, b: Option<f64>) -> bool {
    match b {
        Some(b) => a == b,
        None => a.is_nan(),
    }
}

#[test]
fn sweep_metric_equals_full_backtest_metric_for_random_params() {
    let s = sample_series(800, 42);
    let mut rng = SplitMix64::new(9);
    let time = TimeInfo::new(&s.ts);
    for case in 0..60 {
        let kind = StrategyKind::ALL[case % 3];
        let metric = Metric::ALL[case % Metric::ALL.len()];
        let long_only = case % 4 == 0;
        let commission = if case % 2 == 0 { 0.0 } else { 0.001 };
        let mut params = BTreeMap::new();
        let values: Vec<f64> = match kind {
            StrategyKind::SmaCross => {
                let a = 2 + (rng.next_u64() % 60) as usize;
                let b = a + 1 + (rng.next_u64() % 100) as usize;
                vec![a as f64, b as f64]
            }
            StrategyKind::RsiReversion => {
                let p = 2 + (rng.next_u64() % 30) as usize;
                let lo = 10.0 + (rng.next_u64() % 30) as f64;
                vec![p as f64, lo, lo + 10.0 + (rng.next_u64() % 40) as f64]
            }
            StrategyKind::DonchianBreakout => vec![
                (2 + rng.next_u64() % 80) as f64,
                (2 + rng.next_u64() % 80) as f64,
            ],
        };
        for (spec, v) in kind.params().iter().zip(&values) {
            params.insert(spec.name.to_string(), *v);
        }
        let account = Account {
            cash: 10_000.0,
            commission,
            long_only,
        };
        let req = BacktestRequest {
            params: params.clone(),
            account,
            ..BacktestRequest::new("d", kind)
        };
        let full = run_backtest(&s, &req, &mut NoProgress).unwrap();
        let grid = GridSpec::build(
            kind,
            &params
                .iter()
                .map(|(k, v)| (k.clone(), ParamRange::List(vec![*v])))
                .collect(),
            None,
            &Limits::default(),
        )
        .unwrap();
        let sweep = Sweep::new(&s, &grid, None, account);
        let fast = sweep
            .evaluate(0..1, 0, s.len(), &time, metric, &|| Flow::Continue)
            .unwrap()[0];
        assert!(
            same(fast, metric.of(&full.stats)),
            "{kind:?} {params:?} {metric:?}: sweep {fast} vs full {:?}",
            metric.of(&full.stats)
        );
    }
}

#[test]
fn optimize_ranks_reports_and_builds_heatmap() {
    let s = sample_series(600, 3);
    let req = sma_request(Metric::Sharpe);
    let mut rec = Recorder::default();
    let res = run_optimize(&s, &req, None, &mut rec).unwrap();
    // n1 in 5..=30 step 5 (6), n2 in 10..=80 step 10 (8), n1 < n2: 6·8 - pairs with n1 ≥ n2
    // (n2 = 10: n1 ∈ {10,15,20,25,30} → 5; n2 = 20: {20,25,30} → 3; n2 = 30: {30} → 1) = 39.
    assert_eq!(res.total_runs, 39);
    let reports = rec.reports();
    assert_eq!(reports.len(), 39);
    assert_eq!(reports.last().unwrap().2, "Run 39/39");
    assert_eq!(res.top.len(), 3);
    let ms: Vec<f64> = res.top.iter().map(|r| r.metric.unwrap()).collect();
    assert!(ms.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(res.best_stats.sharpe, res.top[0].metric);
    assert_eq!(res.grid.x_param, "n1");
    assert_eq!(res.grid.y_param.as_deref(), Some("n2"));
    assert_eq!(res.grid.cells.len(), 8);
    assert_eq!(res.grid.cells[0].len(), 6);
    // n1 = 10, n2 = 10 is not admissible.
    assert_eq!(res.grid.cells[0][1], None);
    let best = res.top[0].params.clone();
    let xi = res
        .grid
        .x_values
        .iter()
        .position(|v| *v == best["n1"])
        .unwrap();
    let yi = res
        .grid
        .y_values
        .iter()
        .position(|v| *v == best["n2"])
        .unwrap();
    assert_eq!(res.grid.cells[yi][xi], res.top[0].metric);
}

#[test]
fn every_run_is_reported_once_and_a_checkpoint_offered_after_each_block() {
    let s = sample_series(400, 5);
    let mut req = sma_request(Metric::ReturnPct);
    req.search.grid.insert("n1".into(), range(2.0, 60.0, 1.0));
    req.search.grid.insert("n2".into(), range(3.0, 120.0, 1.0));
    let mut rec = Recorder::default();
    let res = run_optimize(&s, &req, None, &mut rec).unwrap();
    let n = res.total_runs;
    let reports = rec.reports();
    // Reported from the worker threads, each finished run once: done = 1, 2, …, n.
    assert!(reports.iter().map(|r| r.0).eq(1..=n));
    assert!(reports
        .iter()
        .all(|r| r.1 == n && r.2 == format!("Run {}/{n}", r.0)));
    let checkpoints = rec.checkpoints();
    assert_eq!(checkpoints.len() as u64, BLOCKS - 1);
    let block = n.div_ceil(BLOCKS);
    for (i, cp) in checkpoints.iter().enumerate() {
        assert_eq!(cp["next_index"], (i as u64 + 1) * block);
    }
}

#[test]
fn resumed_run_ends_identical_to_uninterrupted_run() {
    let s = sample_series(500, 11);
    let mut req = sma_request(Metric::Sqn);
    req.search.grid.insert("n1".into(), range(2.0, 40.0, 1.0));
    req.search.grid.insert("n2".into(), range(5.0, 90.0, 1.0));
    let full = run_optimize(&s, &req, None, &mut NoProgress).unwrap();
    let n = full.total_runs;
    let block = n.div_ceil(BLOCKS);

    // Stop in the fourth block; keep the last checkpoint (offered after the third).
    let mut rec = Recorder::stopping_at((3 * block + block / 2) as usize);
    assert_eq!(
        run_optimize(&s, &req, None, &mut rec),
        Err(EngineError::Stopped)
    );
    // The runs already started finish; the rest of the block is skipped.
    assert!((rec.reports().len() as u64) < 4 * block);
    let saved = serde_json::to_string(rec.checkpoints().last().unwrap()).unwrap();
    let cp: OptimizeCheckpoint = serde_json::from_str(&saved).unwrap();
    assert_eq!(cp.next_index, 3 * block);
    let mut rec2 = Recorder::default();
    let resumed =
        run_optimize_resumable(&s, &req, Some(cp.clone()), &mut rec2, &Limits::default()).unwrap();
    assert_eq!(
        resumed.resumed_from, cp.next_index,
        "started at the checkpoint"
    );
    let resumed = resumed.result;
    assert_eq!(resumed.robustness, full.robustness);
    assert_eq!(resumed.top, full.top);
    assert_eq!(resumed.full_grid, full.full_grid);
    assert_eq!(resumed, full);
    let fresh =
        run_optimize_resumable(&s, &req, None, &mut NoProgress, &Limits::default()).unwrap();
    assert_eq!(fresh.resumed_from, 0);
    // Progress goes on from the checkpoint: runs next_index + 1 ..= n.
    assert!(rec2.reports().iter().map(|r| r.0).eq(cp.next_index + 1..=n));

    let mut wrong = cp;
    wrong.total_runs += 1;
    assert!(matches!(
        run_optimize(&s, &req, Some(wrong), &mut NoProgress),
        Err(EngineError::BadCheckpoint(_))
    ));
}

#[test]
fn refuses_bad_grids_with_field_names() {
    let s = sample_series(300, 1);
    let mut req = sma_request(Metric::Sharpe);
    req.search
        .grid
        .insert("n2".into(), range(10.0, 400.0, 10.0));
    let e = run_optimize(&s, &req, None, &mut NoProgress).unwrap_err();
    assert!(matches!(e, EngineError::InvalidInput { ref field, .. } if field == "grid.n2"));
    let limits = Limits {
        max_grid: 10,
        ..Limits::default()
    };
    let e = run_optimize_resumable(
        &s,
        &sma_request(Metric::Sharpe),
        None,
        &mut NoProgress,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(e, EngineError::InvalidInput { ref field, ref message }
        if field == "grid" && message.contains("39") && message.contains("10"))
    );
}

#[test]
fn a_sweep_whose_series_do_not_fit_runs_in_batches_with_identical_results() {
    let s = sample_series(700, 17);
    for (kind, grid) in [
        (
            StrategyKind::SmaCross,
            vec![("n1", range(2.0, 30.0, 1.0)), ("n2", range(5.0, 60.0, 1.0))],
        ),
        (
            StrategyKind::DonchianBreakout,
            vec![
                ("upper_n", range(2.0, 25.0, 1.0)),
                ("lower_n", range(2.0, 25.0, 1.0)),
            ],
        ),
    ] {
        let grid = GridSpec::build(
            kind,
            &grid.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            None,
            &Limits::default(),
        )
        .unwrap();
        let account = Account {
            commission: 0.001,
            ..Account::default()
        };
        let whole = Sweep::new(&s, &grid, None, account);
        // Room for 6 series of 700 bars: every batch recomputes its own.
        let batched = Sweep::with_cache_budget(&s, &grid, None, account, 6 * 700 * 8);
        assert!(matches!(
            batched.source,
            Source::Builtin {
                batch_keys: Some(6),
                ..
            }
        ));
        let time = TimeInfo::new(&s.ts);
        let n = whole.len();
        let reported = AtomicU64::new(0);
        let count = || {
            reported.fetch_add(1, Ordering::Relaxed);
            Flow::Continue
        };
        let a = whole
            .evaluate(0..n, 0, s.len(), &time, Metric::Sharpe, &|| Flow::Continue)
            .unwrap();
        // A block in the middle, as the optimizer asks for them.
        let b = batched
            .evaluate(0..n, 0, s.len(), &time, Metric::Sharpe, &count)
            .unwrap();
        assert_eq!(
            reported.load(Ordering::Relaxed),
            n as u64,
            "every run reported once"
        );
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{kind:?}"
        );
        let part = batched
            .evaluate(n / 3..n / 2, 100, 600, &time, Metric::ReturnPct, &|| {
                Flow::Continue
            })
            .unwrap();
        let same = whole
            .evaluate(n / 3..n / 2, 100, 600, &time, Metric::ReturnPct, &|| {
                Flow::Continue
            })
            .unwrap();
        assert!(part
            .iter()
            .zip(&same)
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(batched.full(5, 0, s.len()), whole.full(5, 0, s.len()));
    }
}

#[test]
fn rank_puts_nan_last_and_keeps_run_order_on_ties() {
    let m = [1.0, f64::NAN, 3.0, 3.0, -1.0];
    assert_eq!(rank(&m), vec![2, 3, 0, 4, 1]);
    assert_eq!(best_index(&m), 2);
    assert_eq!(best_index(&[f64::NAN, f64::NAN]), 0);
}

#[test]
fn merged_chunk_summaries_are_the_final_heatmap_and_top_runs() {
    let s = sample_series(1_500, 11);
    let mut req = sma_request(Metric::Sharpe);
    req.top_n = 5;
    let limits = Limits::default();
    let whole = run_optimize(&s, &req, None, &mut NoProgress).unwrap();
    let plan = SearchPlan::check(&s, ChunkJob::Optimize(&req), None, &limits).unwrap();
    let n = plan.units();
    // Uneven chunks, and the summaries merged in any order.
    let cuts = [0, 1, 7, 8, 20, n];
    let mut summaries: Vec<ChunkSummary> =
        with_chunk_eval(&s, ChunkJob::Optimize(&req), None, &plan, |eval| {
            cuts.windows(2)
                .map(|w| eval(w[0]..w[1], &NoProgress).unwrap().summary.unwrap())
                .collect()
        })
        .unwrap();
    summaries.reverse();
    let (heatmap, top) = merge_summaries(&summaries, req.top_n).unwrap();
    assert_eq!(heatmap, whole.grid);
    let pairs = |runs: &[RunSummary]| -> Vec<(BTreeMap<String, f64>, Option<f64>)> {
        runs.iter().map(|r| (r.params.clone(), r.metric)).collect()
    };
    assert_eq!(pairs(&top), pairs(&whole.top));
    // Part of the chunks: a heatmap with holes, each present cell at most the final one (the
    // best over fewer runs).
    let (part, _) = merge_summaries(&summaries[..2], req.top_n).unwrap();
    let cells = |h: &Heatmap| h.cells.iter().flatten().copied().collect::<Vec<_>>();
    let pairs_of_cells: Vec<(Option<f64>, Option<f64>)> =
        cells(&part).into_iter().zip(cells(&whole.grid)).collect();
    let filled = pairs_of_cells.iter().filter(|(p, _)| p.is_some()).count();
    assert!(filled > 0 && filled < pairs_of_cells.len(), "{filled}");
    for (p, w) in pairs_of_cells {
        if let Some(p) = p {
            assert!(w.is_some_and(|w| p <= w), "{p} > {w:?}");
        }
    }
    assert!(merge_summaries(&[], 3).is_none());
}

#[test]
fn checkpoint_metrics_round_trip_bit_for_bit_as_base64_and_read_the_older_arrays() {
    let metrics = vec![1.5, -0.0, f64::NAN, f64::INFINITY, -1e-300, 0.1 + 0.2];
    let cp = OptimizeCheckpoint {
        total_runs: 9,
        next_index: 6,
        metrics_so_far: metrics.clone(),
    };
    let json = serde_json::to_value(&cp).unwrap();
    let encoded = json["metrics_so_far"].as_str().expect("one base64 string");
    assert_eq!(encoded.len(), 64, "6 × 8 bytes in base64");
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let back: OptimizeCheckpoint = serde_json::from_value(json).unwrap();
    assert_eq!(bits(&back.metrics_so_far), bits(&metrics));
    // What earlier versions wrote: an array of bit patterns.
    let older = serde_json::json!({"total_runs": 9, "next_index": 6,
        "metrics_so_far": bits(&metrics)});
    let back: OptimizeCheckpoint = serde_json::from_value(older).unwrap();
    assert_eq!(bits(&back.metrics_so_far), bits(&metrics));
    for bad in [
        serde_json::json!("AAAA"),
        serde_json::json!("not base64!"),
        serde_json::json!(7),
    ] {
        let cp = serde_json::json!({"total_runs": 9, "next_index": 6, "metrics_so_far": bad});
        assert!(
            serde_json::from_value::<OptimizeCheckpoint>(cp).is_err(),
            "{bad}"
        );
    }
}
