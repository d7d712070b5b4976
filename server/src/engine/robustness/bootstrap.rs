//! The stationary block bootstrap (Politis & Romano, 1994) significance test of a return
//! series' mean or Sharpe ratio.

use super::moments::sharpe_from_sums;
use super::rng::SplitMix64;
use super::{
    check_finite, invalid, Result, RobustnessError, DEFAULT_DRAWS, MAX_DRAWS, PROGRESS_BATCH,
};

/// The statistic the bootstrap tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapStatistic {
    /// The mean return.
    Mean,
    /// The per-observation Sharpe ratio ([`sharpe_from_sums`]).
    Sharpe,
}

/// Settings of [`bootstrap_significance`].
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapConfig {
    /// `B`, the number of resamples: 1..=[`MAX_DRAWS`], default [`DEFAULT_DRAWS`].
    pub draws: usize,
    /// The expected block length `L` (blocks are geometric with mean `L`), in `1..=T`; `None`
    /// means `√T`.
    pub expected_block_length: Option<f64>,
    /// The seed: the same seed gives the same p-value.
    pub seed: u64,
    /// The tested statistic, default the mean.
    pub statistic: BootstrapStatistic,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            draws: DEFAULT_DRAWS,
            expected_block_length: None,
            seed: 0,
            statistic: BootstrapStatistic::Mean,
        }
    }
}

/// The result of [`bootstrap_significance`].
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapResult {
    /// `(1 + #{boot ≥ observed}) / (B + 1)`, one-sided: small means the observed statistic is
    /// unlikely under "no edge".
    pub p_value: f64,
    /// The statistic of the original series.
    pub observed: f64,
    /// `#{boot ≥ observed}`.
    pub exceedances: usize,
    /// `B`.
    pub draws: usize,
    /// `L` used.
    pub expected_block_length: f64,
    /// The seed used.
    pub seed: u64,
    /// The statistic tested.
    pub statistic: BootstrapStatistic,
}

/// A one-sided significance test of a return series by the stationary bootstrap (Politis &
/// Romano, 1994, "The Stationary Bootstrap", JASA 89(428)).
///
/// H0: the true mean return (or Sharpe ratio) is zero. The series is demeaned, `y = x − x̄`, so
/// it satisfies H0 while keeping its dependence and distribution shape. Each of `B` resamples of
/// length `T` is built from blocks: a block starts at a uniform random position and its length
/// is geometric with mean `L` (`P(len = l) = (1 − p)^(l−1) p`, `p = 1/L`), wrapping around the
/// end of the series. The p-value is
///
/// `p = (1 + #{b : stat(y*_b) ≥ stat(x)}) / (B + 1)`.
///
/// The test knows nothing of the selection: applied to the best of many trials it is
/// optimistic (the best of 500 pure-noise trials usually gets p < 0.01), so read it next to the
/// DSR.
///
/// Each resample costs O(T/L) through prefix sums of `y` (and `y²` for the Sharpe statistic).
/// Deterministic for a seed ([`SplitMix64`]). `progress(done, total)` is called every 100
/// draws and at the end; `false` stops with [`RobustnessError::Stopped`].
///
/// Errors: fewer than 2 returns, a non-finite return, `draws` outside 1..=[`MAX_DRAWS`], the
/// block length outside `1..=T`; `Stopped`.
pub fn bootstrap_significance<F: FnMut(u64, u64) -> bool>(
    returns: &[f64],
    config: &BootstrapConfig,
    mut progress: F,
) -> Result<BootstrapResult> {
    const WHAT: &str = "returns";
    let t = returns.len();
    if t < 2 {
        return Err(RobustnessError::TooFew {
            what: WHAT,
            needed: 2,
            got: t,
        });
    }
    check_finite(WHAT, returns)?;
    if !(1..=MAX_DRAWS).contains(&config.draws) {
        return Err(invalid(
            "draws",
            format!("must be in 1..={MAX_DRAWS}, got {}", config.draws),
        ));
    }
    let block_length = config
        .expected_block_length
        .unwrap_or_else(|| (t as f64).sqrt());
    if !(block_length.is_finite() && (1.0..=t as f64).contains(&block_length)) {
        return Err(invalid(
            "expected block length",
            format!("must be in 1..={t} (the number of returns), got {block_length}"),
        ));
    }
    let mean = returns.iter().sum::<f64>() / t as f64;
    let mut prefix = Vec::with_capacity(t + 1);
    let mut prefix_sq = Vec::with_capacity(t + 1);
    let (mut s, mut s2, mut raw_sq) = (0.0, 0.0, 0.0);
    prefix.push(0.0);
    prefix_sq.push(0.0);
    for &x in returns {
        let y = x - mean;
        s += y;
        s2 += y * y;
        raw_sq += x * x;
        prefix.push(s);
        prefix_sq.push(s2);
    }
    if !(raw_sq.is_finite() && s2.is_finite()) {
        let index = returns.iter().position(|x| x.abs() > 1e150).unwrap_or(0);
        return Err(RobustnessError::NonFinite { what: WHAT, index });
    }
    let observed = match config.statistic {
        BootstrapStatistic::Mean => mean,
        BootstrapStatistic::Sharpe => sharpe_from_sums(returns.iter().sum(), raw_sq, t),
    };
    let p = 1.0 / block_length;
    // ln(1 − p) < 0 for p < 1; p = 1 means every block has length 1.
    let log_continue = (-p).ln_1p();
    let mut rng = SplitMix64::new(config.seed);
    let segment = |prefix: &[f64], start: usize, len: usize| -> f64 {
        let end = start + len;
        if end <= t {
            prefix[end] - prefix[start]
        } else {
            (prefix[t] - prefix[start]) + prefix[end - t]
        }
    };
    let mut exceedances = 0;
    let total = config.draws as u64;
    for draw in 1..=total {
        let (mut filled, mut sum, mut sum_sq) = (0usize, 0.0, 0.0);
        while filled < t {
            let start = rng.below(t);
            let len = if p >= 1.0 {
                1
            } else {
                let extra = (rng.next_open01().ln() / log_continue).floor();
                // extra ≥ 0; cap before converting so huge draws cannot overflow.
                1 + extra.min(t as f64) as usize
            };
            let len = len.min(t - filled);
            sum += segment(&prefix, start, len);
            if config.statistic == BootstrapStatistic::Sharpe {
                sum_sq += segment(&prefix_sq, start, len);
            }
            filled += len;
        }
        let stat = match config.statistic {
            BootstrapStatistic::Mean => sum / t as f64,
            BootstrapStatistic::Sharpe => sharpe_from_sums(sum, sum_sq, t),
        };
        if stat >= observed {
            exceedances += 1;
        }
        if (draw.is_multiple_of(PROGRESS_BATCH) || draw == total) && !progress(draw, total) {
            return Err(RobustnessError::Stopped);
        }
    }
    Ok(BootstrapResult {
        p_value: (1 + exceedances) as f64 / (config.draws + 1) as f64,
        observed,
        exceedances,
        draws: config.draws,
        expected_block_length: block_length,
        seed: config.seed,
        statistic: config.statistic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::robustness::test_util::{close, never_stop, uniform};

    #[test]
    fn a_strong_drift_is_significant() {
        // Mean 0.002, noise ±0.01: t ≈ 0.002/(0.01/√3)·√1000 ≈ 11.
        let r: Vec<f64> = uniform(21, 1000).iter().map(|u| 0.002 + 0.01 * u).collect();
        for statistic in [BootstrapStatistic::Mean, BootstrapStatistic::Sharpe] {
            let cfg = BootstrapConfig {
                seed: 42,
                statistic,
                ..BootstrapConfig::default()
            };
            let res = bootstrap_significance(&r, &cfg, never_stop).unwrap();
            assert!(res.p_value < 0.01, "{statistic:?}: p = {}", res.p_value);
            assert_eq!(res.draws, 1000);
            assert!(close(res.expected_block_length, 1000f64.sqrt(), 1e-12));
        }
    }

    #[test]
    fn a_zero_mean_symmetric_series_is_not_significant_and_seeds_reproduce() {
        // Each value and its negative, interleaved: mean 0, symmetric.
        let u = uniform(8, 500);
        let r: Vec<f64> = u.iter().flat_map(|&x| [0.01 * x, -0.01 * x]).collect();
        let cfg = BootstrapConfig {
            seed: 7,
            ..BootstrapConfig::default()
        };
        let a = bootstrap_significance(&r, &cfg, never_stop).unwrap();
        assert!(a.p_value > 0.05, "p = {}", a.p_value);
        let b = bootstrap_significance(&r, &cfg, never_stop).unwrap();
        assert_eq!(a, b, "same seed, same result");
        let other = BootstrapConfig { seed: 8, ..cfg };
        let c = bootstrap_significance(&r, &other, never_stop).unwrap();
        assert_ne!(
            a.exceedances, c.exceedances,
            "another seed draws other resamples"
        );
    }

    #[test]
    fn bootstrap_p_value_formula_on_constant_series() {
        // Constant 0.01: demeaned it is all zeros, every resample mean is 0 < 0.01:
        // p = (1 + 0)/(B + 1).
        let cfg = BootstrapConfig {
            draws: 99,
            expected_block_length: Some(3.0),
            ..BootstrapConfig::default()
        };
        let res = bootstrap_significance(&[0.01; 30], &cfg, never_stop).unwrap();
        assert_eq!((res.exceedances, res.p_value), (0, 0.01));
        // Constant 0: every resample mean 0 ≥ 0: p = (1 + 99)/100 = 1.
        let res = bootstrap_significance(&[0.0; 30], &cfg, never_stop).unwrap();
        assert_eq!((res.exceedances, res.p_value), (99, 1.0));
        // L = 1 (iid bootstrap) and L = T are both accepted.
        for l in [1.0, 30.0] {
            let cfg = BootstrapConfig {
                expected_block_length: Some(l),
                ..cfg.clone()
            };
            assert!(bootstrap_significance(&uniform(3, 30), &cfg, never_stop).is_ok());
        }
    }

    #[test]
    fn bootstrap_validates_and_stops() {
        let r = uniform(2, 100);
        let with = |draws, l: Option<f64>| BootstrapConfig {
            draws,
            expected_block_length: l,
            ..BootstrapConfig::default()
        };
        for cfg in [
            with(0, None),
            with(MAX_DRAWS + 1, None),
            with(10, Some(0.5)),
            with(10, Some(101.0)),
            with(10, Some(f64::NAN)),
        ] {
            assert!(
                matches!(
                    bootstrap_significance(&r, &cfg, never_stop),
                    Err(RobustnessError::InvalidParameter { .. })
                ),
                "{cfg:?}"
            );
        }
        assert!(bootstrap_significance(&[1.0], &with(10, None), never_stop).is_err());
        assert!(bootstrap_significance(&[], &with(10, None), never_stop).is_err());
        assert!(matches!(
            bootstrap_significance(&[0.1, f64::NAN], &with(10, None), never_stop),
            Err(RobustnessError::NonFinite { index: 1, .. })
        ));
        let mut seen = Vec::new();
        bootstrap_significance(&r, &with(250, None), |d, t| {
            seen.push((d, t));
            true
        })
        .unwrap();
        assert_eq!(seen, vec![(100, 250), (200, 250), (250, 250)]);
        assert_eq!(
            bootstrap_significance(&r, &with(250, None), |_, _| false),
            Err(RobustnessError::Stopped)
        );
    }
}
