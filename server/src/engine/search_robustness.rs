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
mod tests;
