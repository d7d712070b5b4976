//! The robustness step of a grid search (issue 11): is the best run skill or luck?
//!
//! Run after a sweep (an optimization, or one walk-forward fold's in-sample search) on the
//! metrics it produced, with the pure statistics of [`super::robustness`]:
//!
//! 1. **Trials.** Up to `max_trials` runs (all of them, or an evenly spaced sample of the run
//!    order; the result says which) are simulated again over the search's bars; each trial's
//!    per-bar returns are reduced on the spot to its Sharpe ratio and its CSCV block sums, so
//!    memory is one return series per thread plus `2·S + 1` numbers per trial, whatever the
//!    grid or dataset size.
//! 2. **Deflated Sharpe Ratio** of the best run (by the searched metric): `N` is every run of
//!    the search, `V` the variance of the used trials' per-bar Sharpe ratios.
//! 3. **PBO** by CSCV over the used trials, `S` blocks.
//! 4. **Bootstrap** of the best run's mean return (stationary blocks, seeded).
//!
//! Progress is reported in the step's own units, "Robustness i/N", where N counts the trials
//! simulated, the CSCV splits and the bootstrap draws: an optimization shows it as a phase of
//! its own, a walk-forward as the second half of each fold. A figure that cannot be computed (too few bars, a
//! run that never trades, …) is left out with a note; only a stop request ends the step with
//! [`EngineError::Stopped`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use app::model::research::{
    BootstrapFigure, DeflatedSharpeFigure, PboFigure, Robustness, RobustnessConfig,
};

use super::backtest::Scratch;
use super::optimize::Sweep;
use super::progress::Flow;
use super::robustness::{
    bootstrap_significance, deflated_sharpe, sharpe_from_sums, sharpe_variance, BootstrapConfig,
    CscvAccumulator, ReturnMoments, RobustnessError, TrialSums,
};
use super::EngineError;

/// Per-bar simple returns of an equity curve: `e[t] / e[t−1] − 1`. After the equity has reached
/// zero or below (a blown account) the return is 0: nothing is left to gain or lose.
pub fn returns_of(equity: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(equity.windows(2).map(|w| {
        if w[0] > 0.0 && w[0].is_finite() && w[1].is_finite() {
            w[1] / w[0] - 1.0
        } else {
            0.0
        }
    }));
}

/// The runs used as trials: all `n` when `n <= max`, else `max` evenly spaced in run order
/// (`⌊i·n/max⌋`).
pub fn trial_sample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        (0..n).collect()
    } else {
        (0..max)
            .map(|i| (i as u128 * n as u128 / max as u128) as usize)
            .collect()
    }
}

/// What one used trial contributes.
struct Trial {
    sharpe: f64,
    sums: Result<TrialSums, RobustnessError>,
}

/// Computes the robustness figures of a finished search over bars `[a, b)`: `metrics[k]` is the
/// searched metric of run `k` of `sweep`, `best` the chosen run. Progress goes to
/// `report(done, total)` in the step's own units (trials simulated, CSCV splits, bootstrap
/// draws); the caller words and places it, and a [`Flow::Stop`] ends the step.
pub fn search_robustness(
    sweep: &Sweep<'_>,
    (a, b): (usize, usize),
    metrics: &[f64],
    best: usize,
    config: &RobustnessConfig,
    report: &(dyn Fn(u64, u64) -> Flow + Sync),
) -> Result<Robustness, EngineError> {
    let n = metrics.len();
    let mut notes = Vec::new();
    let sample = trial_sample(n, config.max_trials);
    let n_obs = (b - a).saturating_sub(1);
    let cscv = match CscvAccumulator::new(n_obs, config.blocks) {
        Ok(acc) => Some(acc),
        Err(e) => {
            notes.push(format!("PBO not computed: {e}"));
            None
        }
    };
    let splits = cscv.as_ref().map_or(0, |c| c.combinations());
    let total = sample.len() as u64 + splits + config.draws as u64;
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let tick = |units: u64| -> bool {
        let d = done.fetch_add(units, Ordering::Relaxed) + units;
        let go = report(d, total) == Flow::Continue;
        if !go {
            stop.store(true, Ordering::Relaxed);
        }
        go
    };

    // 1. The trials: simulate, reduce to a Sharpe ratio and block sums.
    let trials: Vec<Trial> = sample
        .par_iter()
        .with_min_len(4)
        .map_init(
            || (Scratch::default(), Vec::new(), Vec::new()),
            |(scratch, values, returns), &k| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                sweep.simulate(k, a, b, scratch, values);
                returns_of(&scratch.equity, returns);
                let (sum, sq) = returns
                    .iter()
                    .fold((0.0, 0.0), |(s, q), &r| (s + r, q + r * r));
                let trial = Trial {
                    sharpe: sharpe_from_sums(sum, sq, returns.len()),
                    sums: match &cscv {
                        Some(acc) => acc.trial_sums(returns),
                        None => Err(RobustnessError::Stopped),
                    },
                };
                tick(1);
                Some(trial)
            },
        )
        .collect::<Option<Vec<Trial>>>()
        .ok_or(EngineError::Stopped)?;
    if stop.load(Ordering::Relaxed) {
        return Err(EngineError::Stopped);
    }

    // 2. The Deflated Sharpe Ratio of the best run.
    let mut scratch = Scratch::default();
    let (mut values, mut best_returns) = (Vec::new(), Vec::new());
    sweep.simulate(best, a, b, &mut scratch, &mut values);
    returns_of(&scratch.equity, &mut best_returns);
    let sharpes: Vec<f64> = trials
        .iter()
        .map(|t| t.sharpe)
        .filter(|s| s.is_finite())
        .collect();
    let deflated = ReturnMoments::from_returns(&best_returns).and_then(|m| {
        // With one run there is no selection to deflate: V = 0 gives SR₀ = 0 (the PSR).
        let var = if n < 2 {
            Ok(0.0)
        } else {
            sharpe_variance(&sharpes)
        }?;
        deflated_sharpe(m.sharpe, m.n_obs, m.skew, m.kurtosis, n as u64, var)
    });
    let deflated_sharpe = match deflated {
        Ok(d) => Some(DeflatedSharpeFigure {
            probability: d.probability,
            observed_sharpe: d.observed_sharpe,
            expected_max_sharpe: d.expected_max_sharpe,
            trials: d.trials,
            var_trial_sharpes: d.var_trial_sharpes,
            skew: d.skew,
            kurtosis: d.kurtosis,
            n_obs: d.n_obs,
        }),
        Err(e) => {
            notes.push(format!("Deflated Sharpe Ratio not computed: {e}"));
            None
        }
    };
    if sharpes.len() < trials.len() {
        notes.push(format!(
            "{} of {} trials have an undefined Sharpe ratio (riskless equity) and were left out of V",
            trials.len() - sharpes.len(),
            trials.len()
        ));
    }

    // 3. PBO by CSCV over the used trials.
    let pbo = match cscv {
        None => None,
        Some(mut acc) => {
            let mut bad = None;
            for t in &trials {
                match &t.sums {
                    Ok(s) => acc.push(s),
                    Err(e) => bad = Some(e.clone()),
                }
            }
            if let Some(e) = bad {
                notes.push(format!("some trials were left out of the PBO: {e}"));
            }
            let mut last = 0u64;
            let result = acc.pbo(|d, _| {
                let step = d - last;
                last = d;
                tick(step)
            });
            match result {
                Ok(p) => Some(PboFigure {
                    pbo: p.pbo,
                    oos_loss_probability: p.oos_loss_probability,
                    blocks: p.blocks,
                    combinations: p.combinations,
                    trials: p.trials,
                    logit_min: p.histogram.min,
                    logit_bin_width: p.histogram.bin_width,
                    logit_counts: p.histogram.counts,
                }),
                Err(RobustnessError::Stopped) => return Err(EngineError::Stopped),
                Err(e) => {
                    notes.push(format!("PBO not computed: {e}"));
                    None
                }
            }
        }
    };

    // 4. Bootstrap of the best run's mean return.
    let bootstrap = bootstrap_figure(&best_returns, config, &tick, &mut notes)?;
    Ok(Robustness {
        deflated_sharpe,
        pbo,
        bootstrap,
        trials_total: n as u64,
        trials_used: trials.len() as u64,
        sampled: trials.len() < n,
        notes,
    })
}

/// The "robust best": the run with a defined metric whose plateau score is highest (ties: the
/// first in run order); `None` when no run has one.
pub fn robust_best_index(metrics: &[f64], plateau: impl Fn(usize) -> Option<f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (k, m) in metrics.iter().enumerate() {
        if !m.is_finite() {
            continue;
        }
        if let Some(p) = plateau(k).filter(|p| p.is_finite()) {
            if best.is_none_or(|(_, b)| p > b) {
                best = Some((k, p));
            }
        }
    }
    best.map(|(k, _)| k)
}

/// The bootstrap test of `returns`' mean (skipped with `draws = 0`); progress through `tick`.
pub fn bootstrap_figure(
    returns: &[f64],
    config: &RobustnessConfig,
    tick: &dyn Fn(u64) -> bool,
    notes: &mut Vec<String>,
) -> Result<Option<BootstrapFigure>, EngineError> {
    if config.draws == 0 {
        return Ok(None);
    }
    let cfg = BootstrapConfig {
        draws: config.draws,
        seed: config.seed,
        ..BootstrapConfig::default()
    };
    let mut last = 0u64;
    match bootstrap_significance(returns, &cfg, |d, _| {
        let step = d - last;
        last = d;
        tick(step)
    }) {
        Ok(r) => Ok(Some(BootstrapFigure {
            p_value: r.p_value,
            observed_mean: r.observed,
            draws: r.draws,
            expected_block_length: r.expected_block_length,
            seed: r.seed,
        })),
        Err(RobustnessError::Stopped) => Err(EngineError::Stopped),
        Err(e) => {
            notes.push(format!("Bootstrap not computed: {e}"));
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
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
    use app::model::research::{Metric, OptimizeRequest, ParamRange, StrategyKind};

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
            strategy: StrategyKind::SmaCross,
            rules: None,
            grid: [
                (
                    "n1".to_string(),
                    ParamRange::Range {
                        start: 2.0,
                        stop: 21.0,
                        step: 1.0,
                    },
                ),
                (
                    "n2".to_string(),
                    ParamRange::Range {
                        start: 25.0,
                        stop: 49.0,
                        step: 1.0,
                    },
                ),
            ]
            .into_iter()
            .collect(),
            constraint: None,
            metric: Metric::Sharpe,
            top_n: 5,
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
            robustness: RobustnessConfig::default(),
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
        req.robustness.blocks = 4;
        req.robustness.draws = 200;
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
        req.robustness.enabled = false;
        let res = run_optimize(&s, &req, None, &mut NoProgress).unwrap();
        assert_eq!(res.robustness, None);
    }
}
