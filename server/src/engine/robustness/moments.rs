//! Sample statistics of a return series: the Sharpe ratio from running sums, the moments the
//! DSR needs ([`ReturnMoments`]) and the variance of the trials' Sharpe ratios.

use super::{check_finite, Result, RobustnessError, ZERO_VARIANCE_RELATIVE};

/// The per-observation Sharpe ratio `mean / sd` (sd with the `n − 1` divisor) from the sums
/// `Σx`, `Σx²` and the count `n`; the common definition for CSCV and the bootstrap.
///
/// **Zero variance.** When `n < 2` or `Σ(x − x̄)² ≤` [`ZERO_VARIANCE_RELATIVE`]`·Σx²`, the
/// series is riskless and its Sharpe ratio is `+∞` for a positive mean, `−∞` for a negative one
/// and `0` for a zero mean (a trial that never trades). Never NaN for finite inputs.
pub fn sharpe_from_sums(sum: f64, sum_sq: f64, n: usize) -> f64 {
    let nf = n as f64;
    let mean = if n == 0 { 0.0 } else { sum / nf };
    let ss = sum_sq - sum * mean;
    if n < 2 || ss <= ZERO_VARIANCE_RELATIVE * sum_sq {
        return if mean > 0.0 {
            f64::INFINITY
        } else if mean < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        };
    }
    mean / (ss / (nf - 1.0)).sqrt()
}

/// The moments of a return series that the DSR needs, all per observation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnMoments {
    /// `T`, the number of returns.
    pub n_obs: u64,
    /// The mean return.
    pub mean: f64,
    /// The sample standard deviation (divisor `T − 1`).
    pub std_dev: f64,
    /// `mean / std_dev`, the per-observation Sharpe ratio.
    pub sharpe: f64,
    /// `m₃ / m₂^{3/2}` with the central moments `mₖ = Σ(x − x̄)ᵏ / T` (the biased estimator, as
    /// `scipy.stats.skew`).
    pub skew: f64,
    /// `m₄ / m₂²`, raw (non-excess) kurtosis: 3 for normal returns (as
    /// `scipy.stats.kurtosis(fisher=False)`).
    pub kurtosis: f64,
}

impl ReturnMoments {
    /// Computes the moments in two passes (the mean, then the central moments).
    ///
    /// Errors: fewer than 2 returns, a non-finite return, or zero variance.
    pub fn from_returns(returns: &[f64]) -> Result<Self> {
        const WHAT: &str = "returns";
        let (n, mean) = sample_mean(WHAT, returns)?;
        let (mut m2, mut m3, mut m4, mut sq) = (0.0, 0.0, 0.0, 0.0);
        for &x in returns {
            let d = x - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
            sq += x * x;
        }
        if !(m4.is_finite() && sq.is_finite()) {
            let index = returns.iter().position(|x| x.abs() > 1e75).unwrap_or(0);
            return Err(RobustnessError::NonFinite { what: WHAT, index });
        }
        if m2 <= ZERO_VARIANCE_RELATIVE * sq {
            return Err(RobustnessError::ZeroVariance { what: WHAT });
        }
        let std_dev = (m2 / (n - 1.0)).sqrt();
        let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
        Ok(Self {
            n_obs: returns.len() as u64,
            mean,
            std_dev,
            sharpe: mean / std_dev,
            skew: m3 / m2.powf(1.5),
            kurtosis: m4 / (m2 * m2),
        })
    }
}

/// The count (as `f64`) and the mean of `xs`, a sample of at least 2 finite values (`what`
/// names it in the error).
fn sample_mean(what: &'static str, xs: &[f64]) -> Result<(f64, f64)> {
    if xs.len() < 2 {
        return Err(RobustnessError::TooFew {
            what,
            needed: 2,
            got: xs.len(),
        });
    }
    check_finite(what, xs)?;
    let n = xs.len() as f64;
    Ok((n, xs.iter().sum::<f64>() / n))
}

/// The sample variance (divisor `N − 1`) of the trials' per-observation Sharpe ratios: the `V`
/// of [`expected_max_sharpe`](super::expected_max_sharpe).
///
/// Errors: fewer than 2 values or a non-finite value.
pub fn sharpe_variance(trial_sharpes: &[f64]) -> Result<f64> {
    const WHAT: &str = "trial Sharpe ratios";
    let (n, mean) = sample_mean(WHAT, trial_sharpes)?;
    let ss: f64 = trial_sharpes.iter().map(|s| (s - mean) * (s - mean)).sum();
    if !ss.is_finite() {
        return Err(RobustnessError::NonFinite {
            what: WHAT,
            index: 0,
        });
    }
    Ok(ss / (n - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::robustness::test_util::close;

    #[test]
    fn moments_by_hand() {
        // x = [1, 2, 3, 4, 10]: mean 4, deviations [−3, −2, −1, 0, 6];
        // Σd² = 50, Σd³ = −27 − 8 − 1 + 216 = 180, Σd⁴ = 81 + 16 + 1 + 1296 = 1394.
        // m₂ = 10, m₃ = 36, m₄ = 278.8; skew = 36/10^1.5 = 1.138420, kurtosis = 2.788;
        // sd = √(50/4) = 3.535534, Sharpe = 4/3.535534 = 1.131371.
        let m = ReturnMoments::from_returns(&[1.0, 2.0, 3.0, 4.0, 10.0]).unwrap();
        assert_eq!(m.n_obs, 5);
        assert_eq!(m.mean, 4.0);
        assert!(close(m.std_dev, 12.5f64.sqrt(), 1e-15));
        assert!(close(m.sharpe, 4.0 / 12.5f64.sqrt(), 1e-15));
        assert!(close(m.skew, 36.0 / 10f64.powf(1.5), 1e-15));
        assert!(close(m.kurtosis, 2.788, 1e-15));
        assert!(matches!(
            ReturnMoments::from_returns(&[0.01; 50]),
            Err(RobustnessError::ZeroVariance { .. })
        ));
        assert!(matches!(
            ReturnMoments::from_returns(&[1.0]),
            Err(RobustnessError::TooFew { .. })
        ));
        assert!(matches!(
            ReturnMoments::from_returns(&[1.0, f64::NAN, 2.0]),
            Err(RobustnessError::NonFinite { index: 1, .. })
        ));
        assert!(ReturnMoments::from_returns(&[1e200, -1e200, 3.0]).is_err());
    }

    #[test]
    fn sharpe_from_sums_zero_variance_rule() {
        assert_eq!(sharpe_from_sums(0.0, 0.0, 10), 0.0);
        assert_eq!(sharpe_from_sums(0.1 * 10.0, 0.01 * 10.0, 10), f64::INFINITY);
        assert_eq!(sharpe_from_sums(-1.0, 0.1, 10), f64::NEG_INFINITY);
        assert_eq!(sharpe_from_sums(3.0, 9.0, 1), f64::INFINITY);
        // [1, 3]: mean 2, sd √2 → √2.
        assert!(close(sharpe_from_sums(4.0, 10.0, 2), 2f64.sqrt(), 1e-15));
    }
}
