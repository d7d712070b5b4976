//! Tests of `search_robustness.rs`.

use super::*;

#[test]
fn returns_follow_the_equity_and_stop_at_a_blown_account() {
    let mut out = Vec::new();
    returns_of(&[100.0, 110.0, 99.0, 0.0, 0.0, 5.0], &mut out);
    let want = [0.1, -0.1, -1.0, 0.0, 0.0];
    assert_eq!(out.len(), want.len());
    for (g, w) in out.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{out:?}");
    }
}

#[test]
fn sample_is_all_runs_or_evenly_spaced() {
    assert_eq!(trial_sample(3, 5), vec![0, 1, 2]);
    assert_eq!(trial_sample(10, 4), vec![0, 2, 5, 7]);
    let s = trial_sample(19_701, 400);
    assert_eq!(s.len(), 400);
    assert!(s.windows(2).all(|w| w[0] < w[1]) && *s.last().unwrap() < 19_701);
}

// Process tests (issue 11 §6): the whole optimization, robustness step included, on a
// series with no edge to find and on one with strong planted trends.
use crate::engine::data::{Series, SplitMix64};
use crate::engine::optimize::run_optimize;
use crate::engine::progress::{NoProgress, Recorder};
use app::model::research::{Account, Metric, OptimizeRequest, ParamRange, Search, StrategyKind};

/// `n` daily bars of a log random walk with per-bar volatility 1 % and drift `drift(t)`.
fn walk(n: usize, seed: u64, drift: impl Fn(usize) -> f64) -> Series {
    let mut rng = SplitMix64::new(seed);
    let mut s = Series::default();
    let mut close = 100.0_f64;
    for t in 0..n {
        let open = close;
        close = open * (drift(t) + 0.01 * rng.next_normal()).exp();
        s.ts.push(1_420_156_800 + t as i64 * 86_400);
        s.open.push(open);
        s.high.push(open.max(close) * 1.002);
        s.low.push(open.min(close) * 0.998);
        s.close.push(close);
        s.volume.push(1_000.0);
    }
    s
}

/// SMA cross, n1 in 2..=21 and n2 in 25..=49: 20 × 25 = 500 runs, all admissible.
fn sweep_500() -> OptimizeRequest {
    OptimizeRequest {
        dataset_id: "d".into(),
        search: Search::new(
            StrategyKind::SmaCross,
            [
                ("n1".to_string(), ParamRange::range(2.0, 21.0, 1.0)),
                ("n2".to_string(), ParamRange::range(25.0, 49.0, 1.0)),
            ]
            .into_iter()
            .collect(),
            Metric::Sharpe,
        ),
        top_n: 5,
        account: Account::default(),
    }
}

fn figures(series: &Series) -> (f64, f64, Robustness) {
    let res = run_optimize(series, &sweep_500(), None, &mut NoProgress).unwrap();
    assert_eq!(res.total_runs, 500);
    let r = res.robustness.unwrap();
    let dsr = r.deflated_sharpe.as_ref().unwrap().probability;
    let pbo = r.pbo.as_ref().unwrap().pbo;
    (dsr, pbo, r)
}

#[test]
fn a_random_walk_has_no_real_optimum_and_planted_trends_do() {
    for seed in [1, 2, 3] {
        let noise = walk(2_000, seed, |_| 0.0);
        let (dsr, pbo, r) = figures(&noise);
        assert!(dsr < 0.95, "seed {seed}: random walk DSR {dsr}");
        assert!(pbo >= 0.2, "seed {seed}: random walk PBO {pbo}");
        assert_eq!((r.trials_total, r.trials_used, r.sampled), (500, 400, true));
        assert_eq!(r.deflated_sharpe.unwrap().trials, 500);

        // Regimes of 100 bars, alternately up and down 0.5 % a bar: a trend follower's
        // edge is real, and the faster windows, which turn sooner, keep their lead in every
        // part of the history.
        let trends = walk(
            2_000,
            seed,
            |t| if (t / 100) % 2 == 0 { 0.005 } else { -0.005 },
        );
        let (dsr_t, pbo_t, _) = figures(&trends);
        eprintln!("seed {seed}: random walk DSR {dsr:.3} PBO {pbo:.3}; trends DSR {dsr_t:.3} PBO {pbo_t:.3}");
        assert!(dsr_t >= 0.95, "seed {seed}: trend DSR {dsr_t}");
        assert!(
            pbo_t < pbo,
            "seed {seed}: trend PBO {pbo_t} vs random walk {pbo}"
        );
    }
}

#[test]
fn robustness_reports_its_own_phase_and_stops_when_asked() {
    let s = walk(600, 4, |_| 0.0);
    let mut req = sweep_500();
    req.search.robustness.blocks = 4;
    req.search.robustness.draws = 200;
    let mut rec = Recorder::default();
    let res = run_optimize(&s, &req, None, &mut rec).unwrap();
    assert_eq!(rec.phases(), 1);
    let reports = rec.robustness_reports();
    // 400 trials + C(4, 2) = 6 splits + 200 draws.
    let total = 400 + 6 + 200;
    assert!(reports.iter().all(|r| r.1 == total));
    assert_eq!(reports.last().unwrap().0, total);
    assert_eq!(
        reports.last().unwrap().2,
        format!("Robustness {total}/{total}")
    );
    assert_eq!(res.robustness.unwrap().pbo.unwrap().combinations, 6);
    // A stop asked for during the robustness step ends the job as stopped.
    // Reports: one per trial (400), one for the 6 splits, one per 100 draws (2).
    for at in [1, 200, 401, 402] {
        let mut stopping = Recorder::stopping_in_robustness_at(at);
        assert_eq!(
            run_optimize(&s, &req, None, &mut stopping),
            Err(EngineError::Stopped),
            "stop at robustness report {at}"
        );
    }
}

#[test]
fn disabled_robustness_is_absent() {
    let s = walk(600, 5, |_| 0.0);
    let mut req = sweep_500();
    req.search.robustness.enabled = false;
    let res = run_optimize(&s, &req, None, &mut NoProgress).unwrap();
    assert_eq!(res.robustness, None);
}
