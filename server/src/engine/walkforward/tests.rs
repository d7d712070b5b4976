//! Tests of `walkforward.rs`.

use super::*;
use crate::engine::data::sample_series;
use crate::engine::progress::{NoProgress, Recorder};
use app::model::research::{Account, Metric, ParamRange, Search, StrategyKind, WalkForwardMode};

fn request(folds: usize, mode: WalkForwardMode) -> WalkForwardRequest {
    WalkForwardRequest {
        dataset_id: "d".into(),
        search: Search::new(
            StrategyKind::SmaCross,
            [
                ("n1".to_string(), ParamRange::range(5.0, 30.0, 1.0)),
                ("n2".to_string(), ParamRange::List(vec![40.0, 60.0, 80.0])),
            ]
            .into_iter()
            .collect(),
            Metric::ReturnPct,
        ),
        folds,
        mode,
        in_sample_fraction: 0.7,
        in_sample_bars: None,
        out_of_sample_bars: None,
        account: Account {
            cash: 10_000.0,
            commission: 0.001,
            long_only: false,
        },
    }
}

#[test]
fn a_walk_forward_from_its_chunks_metrics_equals_the_whole_run() {
    use crate::engine::optimize::{
        run_walkforward_from_metrics, with_chunk_eval, ChunkJob, SearchPlan,
    };
    let s = sample_series(1500, 21);
    let limits = Limits::default();
    for mode in [WalkForwardMode::Rolling, WalkForwardMode::Anchored] {
        let req = request(4, mode);
        let whole = run_walkforward(&s, &req, None, &mut NoProgress).unwrap();
        let job = ChunkJob::WalkForward(&req);
        // 4 folds × 78 runs; chunks of 50 units, most of them crossing into the next fold.
        let plan = SearchPlan::check(&s, job, None, &limits).unwrap();
        let n = plan.units();
        assert_eq!(n, 4 * 78);
        let metrics: Vec<f64> = with_chunk_eval(&s, job, None, &plan, |eval| {
            (0..n)
                .step_by(50)
                .flat_map(|a| eval(a..(a + 50).min(n), &NoProgress).unwrap().metrics)
                .collect()
        })
        .unwrap();
        let folds: Vec<Vec<f64>> = metrics.chunks(78).map(<[f64]>::to_vec).collect();
        let from =
            run_walkforward_from_metrics(&s, &req, None, &plan, &folds, &mut NoProgress).unwrap();
        let json = |r: &WalkForwardResult| serde_json::to_value(r).unwrap();
        assert_eq!(json(&from.result), json(&whole));
        assert!(
            whole.robustness.is_some(),
            "robustness is part of what must match"
        );
        // A fold without its metrics is refused, not guessed.
        let short =
            run_walkforward_from_metrics(&s, &req, None, &plan, &folds[..3], &mut NoProgress);
        assert!(
            matches!(short, Err(EngineError::BadCheckpoint(_))),
            "{short:?}"
        );
    }
}

#[test]
fn walk_forward_runs_folds_with_progress_messages() {
    let s = sample_series(1500, 21);
    let req = request(5, WalkForwardMode::Rolling);
    let mut rec = Recorder::default();
    let res = run_walkforward(&s, &req, None, &mut rec).unwrap();
    assert_eq!(res.folds.len(), 5);
    // 26 n1 values × 3 n2 values = 78 runs per fold, each reported once; each fold spans
    // 2 × 78 units: its runs, then its robustness step.
    let reports = rec.reports();
    assert!(reports
        .iter()
        .map(|r| r.0)
        .eq((0..5).flat_map(|f| (1..=78).map(move |p| f * 156 + p))));
    assert!(reports.iter().all(|r| r.1 == 5 * 156));
    assert_eq!(reports[0].2, "Param 1/78, Fold 1/5");
    assert_eq!(reports[78].2, "Param 1/78, Fold 2/5");
    assert_eq!(reports.last().unwrap().2, "Param 78/78, Fold 5/5");
    // The robustness steps fill the second half of each fold, ending at the job's total;
    // then the out-of-sample bootstrap is a phase of its own.
    let robust = rec.robustness_reports();
    let fold5_end = robust
        .iter()
        .filter(|r| r.2.ends_with("Fold 5/5"))
        .map(|r| r.0)
        .max();
    assert_eq!(fold5_end, Some(5 * 156));
    assert!(robust.last().unwrap().2.ends_with(", out of sample"));
    assert_eq!(rec.phases(), 1);
    assert!(res.folds.iter().all(|f| f.robustness.is_some()));
    let summary = res.robustness.as_ref().unwrap();
    assert!(summary.median_pbo.is_some() && summary.oos_bootstrap.is_some());

    // Without robustness a fold is just its runs.
    let mut plain = req.clone();
    plain.search.robustness.enabled = false;
    let mut rec = Recorder::default();
    let res = run_walkforward(&s, &plain, None, &mut rec).unwrap();
    assert!(rec.reports().iter().map(|r| r.0).eq(1..=5 * 78));
    assert!(rec.robustness_reports().is_empty());
    assert!(res.robustness.is_none() && res.folds.iter().all(|f| f.robustness.is_none()));
    for w in res.folds.windows(2) {
        assert_eq!(w[0].out_of_sample.1, w[1].out_of_sample.0);
        assert_eq!(
            w[1].in_sample.0 - w[0].in_sample.0,
            w[0].out_of_sample.1 - w[0].out_of_sample.0
        );
    }
    let f0 = &res.folds[0];
    assert_eq!(f0.in_sample_metric, f0.in_sample_stats.return_pct);
    // Stitched curve: one point per out-of-sample bar, starting at the cash.
    let oos_bars: usize = res
        .folds
        .iter()
        .map(|f| f.out_of_sample.1 - f.out_of_sample.0)
        .sum();
    assert_eq!(res.oos_equity.len(), oos_bars);
    assert_eq!(res.oos_equity[0].equity, 10_000.0);
    let compounded: f64 = res
        .folds
        .iter()
        .map(|f| 1.0 + f.out_of_sample_stats.return_pct.unwrap() / 100.0)
        .product();
    let got = res.oos_return_pct.unwrap();
    assert!((got - (compounded - 1.0) * 100.0).abs() < 1e-6);
}

#[test]
fn anchored_folds_start_at_zero_and_resume_is_identical() {
    let s = sample_series(1200, 8);
    let req = request(4, WalkForwardMode::Anchored);
    let full = run_walkforward(&s, &req, None, &mut NoProgress).unwrap();
    assert!(full.folds.iter().all(|f| f.in_sample.0 == 0));

    // Stop during fold 3 (78 runs per fold); resume from the checkpoint after fold 2.
    let mut rec = Recorder::stopping_at(2 * 78 + 30);
    assert_eq!(
        run_walkforward(&s, &req, None, &mut rec),
        Err(EngineError::Stopped)
    );
    let text = serde_json::to_string(rec.checkpoints().last().unwrap()).unwrap();
    let cp: WalkForwardCheckpoint = serde_json::from_str(&text).unwrap();
    assert_eq!(cp.best_runs.len(), 2);
    let mut rec2 = Recorder::default();
    let resumed =
        run_walkforward_resumable(&s, &req, Some(cp.clone()), &mut rec2, &Limits::default())
            .unwrap();
    assert_eq!(
        resumed.resumed_from,
        2 * cp.runs_per_fold,
        "two folds' runs restored, not recomputed"
    );
    let resumed = resumed.result;
    assert_eq!(resumed, full);
    let reports = rec2.reports();
    assert_eq!(reports[0].0, 2 * 156 + 1);
    assert_eq!(reports[0].2, "Param 1/78, Fold 3/4");
    assert_eq!(resumed.folds[0].robustness, full.folds[0].robustness);
}

#[test]
fn folds_that_do_not_fit_are_refused() {
    let s = sample_series(300, 1);
    let mut req = request(5, WalkForwardMode::Rolling);
    req.in_sample_bars = Some(200);
    req.out_of_sample_bars = Some(50);
    let e = run_walkforward(&s, &req, None, &mut NoProgress).unwrap_err();
    assert!(matches!(e, EngineError::InvalidInput { ref field, .. } if field == "folds"));
}
