//! Robustness statistics for a parameter search: is the best of many trials skill or luck?
//!
//! Pure functions over numbers, no IO and no dependencies beyond `std` (issue 11, first slice):
//!
//! - [`deflated_sharpe`]: the Deflated Sharpe Ratio (Bailey & López de Prado, 2014), built from
//!   [`expected_max_sharpe`] and [`probabilistic_sharpe`];
//! - [`CscvAccumulator`]: the Probability of Backtest Overfitting by combinatorially symmetric
//!   cross-validation (Bailey, Borwein, López de Prado & Zhu, 2015), fed one trial at a time;
//! - [`bootstrap_significance`]: a stationary block bootstrap (Politis & Romano, 1994) test of the
//!   best run's mean return (or Sharpe ratio);
//! - [`plateau_scores`]: each grid cell's metric averaged over its grid neighbourhood.
//!
//! **Units.** Every Sharpe ratio here is per observation (per bar) and not annualized:
//! `SR = mean / sd` of the per-bar returns, `sd` with the `n - 1` divisor. The trial-Sharpe
//! variance `V` is in the same units. To convert from annualized figures with `P` periods a year:
//! `SR = SR_ann / √P` but `V = V_ann / P`.
//!
//! **Kurtosis** is the raw (non-excess) fourth standardized moment: 3 for normal returns.
//!
//! Nothing here panics on NaN, infinite or empty input: every entry point validates and returns a
//! [`RobustnessError`]. Work is bounded: at most [`MAX_BLOCKS`] CSCV blocks, [`MAX_DRAWS`]
//! bootstrap draws, [`MAX_PLATEAU_DIMS`] grid dimensions, and the long loops report progress to
//! a callback `FnMut(done, total) -> bool` that stops the work by returning `false`.
//!
//! The method write-up for users is `docs/robustness.md`.
//!
//! Layout: `normal` (Φ, Φ⁻¹), `moments` (return moments, Sharpe helpers), `dsr`, `pbo` (the
//! CSCV accumulator and results) with `cscv` (the split enumeration), `rng` ([`SplitMix64`]),
//! `bootstrap` and `plateau`; this file holds the constants, the error type and the shared
//! validation helpers, and re-exports everything public.

use std::fmt;

mod bootstrap;
mod cscv;
mod dsr;
mod moments;
mod normal;
mod pbo;
mod plateau;
mod rng;

pub use bootstrap::{bootstrap_significance, BootstrapConfig, BootstrapResult, BootstrapStatistic};
pub use dsr::{
    deflated_sharpe, deflated_sharpe_of_returns, expected_max_sharpe, probabilistic_sharpe,
    DeflatedSharpe,
};
pub use moments::{sharpe_from_sums, sharpe_variance, ReturnMoments};
pub use normal::{norm_cdf, norm_pdf, norm_ppf};
pub use pbo::{pbo_of_trials, CscvAccumulator, LogitHistogram, PboResult, TrialSums};
pub use plateau::{best_plateau_index, plateau_score_at, plateau_scores};
pub use rng::SplitMix64;

/// The Euler–Mascheroni constant γ = 0.5772156649015329….
pub const EULER_MASCHERONI: f64 = 0.577_215_664_901_532_9;

/// The CSCV blocks `S` (default 16, as Bailey et al., 2015) and the bootstrap draws: the
/// request's limits, written once in the shared model.
pub use app::model::research::{DEFAULT_BLOCKS, DEFAULT_DRAWS, MAX_BLOCKS, MAX_DRAWS};

/// Largest accepted number of grid dimensions for the plateau score (3^12 = 531,441 neighbours
/// for a single cell).
pub const MAX_PLATEAU_DIMS: usize = 12;

/// A variance below this fraction of the mean square counts as zero (a per-bar Sharpe ratio
/// beyond about 10⁶): such a series is treated as riskless, see [`sharpe_from_sums`].
pub const ZERO_VARIANCE_RELATIVE: f64 = 1e-12;

/// The CSCV logit histogram spans `[-LOGIT_HISTOGRAM_LIMIT, LOGIT_HISTOGRAM_LIMIT)`.
pub const LOGIT_HISTOGRAM_LIMIT: f64 = 6.0;

/// Width of one CSCV logit histogram bin.
pub const LOGIT_HISTOGRAM_BIN_WIDTH: f64 = 0.5;

/// How many CSCV splits (or bootstrap draws) run between two progress reports.
const PROGRESS_BATCH: u64 = 100;

/// Why a robustness statistic could not be computed. Every variant is safe to show to a user.
#[derive(Debug, Clone, PartialEq)]
pub enum RobustnessError {
    /// Too few values: `what` needs at least `needed`, got `got`.
    TooFew {
        /// The input.
        what: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        got: usize,
    },
    /// A value is NaN or infinite (or so large that its square overflows).
    NonFinite {
        /// The input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
    },
    /// An input does not have the declared length.
    LengthMismatch {
        /// The input.
        what: &'static str,
        /// The declared length.
        expected: usize,
        /// The actual length.
        got: usize,
    },
    /// A parameter is out of its allowed range.
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The returns have no variance, so Sharpe ratio, skew and kurtosis are undefined.
    ZeroVariance {
        /// The input.
        what: &'static str,
    },
    /// The progress callback returned `false`.
    Stopped,
}

impl fmt::Display for RobustnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFew { what, needed, got } => {
                write!(f, "{what}: at least {needed} needed, got {got}")
            }
            Self::NonFinite { what, index } => {
                write!(
                    f,
                    "{what}: value at position {index} is not a finite number"
                )
            }
            Self::LengthMismatch {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected {expected} values, got {got}"),
            Self::InvalidParameter { name, message } => write!(f, "{name}: {message}"),
            Self::ZeroVariance { what } => write!(f, "{what}: the values do not vary"),
            Self::Stopped => write!(f, "stopped before completion"),
        }
    }
}

impl std::error::Error for RobustnessError {}

type Result<T> = std::result::Result<T, RobustnessError>;

fn invalid(name: &'static str, message: impl Into<String>) -> RobustnessError {
    RobustnessError::InvalidParameter {
        name,
        message: message.into(),
    }
}

fn check_finite(what: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(RobustnessError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Small helpers shared by the tests of every submodule.
#[cfg(test)]
mod test_util {
    use super::SplitMix64;

    pub(super) fn close(got: f64, want: f64, tol: f64) -> bool {
        (got - want).abs() <= tol
    }

    pub(super) fn rel_close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    pub(super) fn never_stop(_: u64, _: u64) -> bool {
        true
    }

    /// Uniform numbers in [−1, 1) from a seed: deterministic test data.
    pub(super) fn uniform(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
            .collect()
    }
}
