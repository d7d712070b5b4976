//! Configurable [`Limits`] that requests are checked against, the fixed bounds on free numbers
//! (`MAX_CASH`, …), and the field checks the requests share (parameter values, money, dataset,
//! indicator warm-up), each returning a [`FieldError`] that names the field.

use serde::{Deserialize, Serialize};

use super::strategy::{strategy_lookback, StrategyKind};
use crate::model::FieldError;

/// Configurable limits that requests are checked against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest number of runs an optimization (or one walk-forward fold) may have.
    pub max_grid: u64,
    /// Largest total number of runs of a walk-forward analysis: folds × runs per fold
    /// (default 1,000,000, ten times the default `max_grid`). Each fold is also held to
    /// `max_grid` on its own.
    pub max_walk_forward_runs: u64,
    /// Largest number of bars in a dataset.
    pub max_bars: usize,
    /// Largest number of walk-forward folds.
    pub max_folds: usize,
    /// Largest `top_n`.
    pub max_top_n: usize,
    /// Largest number of training epochs.
    pub max_epochs: usize,
    /// Largest number of lagged features.
    pub max_lags: usize,
    /// Whether demo jobs may use their failure hooks (`fail_once_at`, `fail_terminally_at`).
    /// Off by default; the server turns it on with `RUNBOARD_TEST_HOOKS=1`.
    pub allow_test_hooks: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_grid: 100_000,
            max_walk_forward_runs: 1_000_000,
            max_bars: 1_000_000,
            max_folds: 50,
            max_top_n: 100,
            max_epochs: 10_000,
            max_lags: 50,
            allow_test_hooks: false,
        }
    }
}

/// Largest starting cash (one trillion): beyond it the simulation's sums lose their meaning.
pub const MAX_CASH: f64 = 1e12;
/// Commission rates must be below this (10%).
pub const MAX_COMMISSION: f64 = 0.1;
/// Largest training learning rate.
pub const MAX_LEARNING_RATE: f64 = 10.0;
/// Largest training L2 penalty.
pub const MAX_L2: f64 = 1e3;

pub(super) fn check_dataset(dataset_id: &str) -> Result<(), FieldError> {
    if dataset_id.trim().is_empty() {
        return Err(FieldError::new("dataset_id", "choose a dataset"));
    }
    Ok(())
}

/// A number as an error message quotes it: short scientific notation for huge or tiny
/// magnitudes (`1e300`, not 301 digits).
pub(super) fn shown(v: f64) -> String {
    if v.is_finite() && v != 0.0 && (v.abs() >= 1e15 || v.abs() < 1e-6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

pub(super) fn check_warmup(
    kind: StrategyKind,
    values: &[f64],
    n_bars: usize,
    field: &str,
    what: &str,
) -> Result<(), FieldError> {
    let look = strategy_lookback(kind, values);
    // Need the warm-up, one bar to signal on and one bar to fill on.
    if look + 2 > n_bars {
        let (name, _) = values
            .iter()
            .zip(kind.params())
            .filter(|(_, s)| s.integer)
            .map(|(v, s)| (s.name, *v))
            .fold(("", 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        return Err(FieldError::new(
            format!("{field}.{name}"),
            format!(
                "window needs at least {} bars but {what} has {n_bars}",
                look + 2
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::research::test_support::{r, sma_grid};
    use crate::model::research::{BacktestRequest, TrainRequest};

    fn train_request() -> TrainRequest {
        TrainRequest::new("d")
    }

    #[test]
    fn free_numbers_refuse_nan_infinity_and_absurd_values_naming_field_and_bound() {
        let limits = Limits::default();
        let bad_cash = [0.0, -1.0, 1.000_001e12, 1e300, f64::NAN, f64::INFINITY];
        for cash in bad_cash {
            let mut req = BacktestRequest::new("d", StrategyKind::SmaCross);
            req.account.cash = cash;
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, "cash", "{cash}");
            assert!(e.message.contains("1e12"), "{}", e.message);
        }
        let mut req = BacktestRequest::new("d", StrategyKind::SmaCross);
        req.account.cash = 1e300;
        assert_eq!(
            req.validate(&limits).unwrap_err().message,
            "starting cash must be > 0 and at most 1e12, got 1e300"
        );
        let mut ok = BacktestRequest::new("d", StrategyKind::SmaCross);
        ok.account.cash = MAX_CASH;
        assert!(ok.validate(&limits).is_ok());
        for commission in [-0.001, 0.1, 5.0, f64::NAN, f64::NEG_INFINITY] {
            let mut req = sma_grid(r(2.0, 3.0, 1.0), r(5.0, 6.0, 1.0));
            req.account.commission = commission;
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, "commission", "{commission}");
            assert!(e.message.contains("0.1"), "{}", e.message);
        }
        type Case = (&'static str, fn(&mut TrainRequest), &'static str);
        let train_cases: [Case; 9] = [
            ("l2", |t| t.l2 = 1e300, "1000"),
            ("l2", |t| t.l2 = -0.5, "1000"),
            ("l2", |t| t.l2 = f64::NAN, "1000"),
            ("learning_rate", |t| t.learning_rate = f64::INFINITY, "10"),
            ("learning_rate", |t| t.learning_rate = 0.0, "10"),
            ("learning_rate", |t| t.learning_rate = 11.0, "10"),
            (
                "validation_fraction",
                |t| t.validation_fraction = f64::NAN,
                "between 0 and 1",
            ),
            (
                "validation_fraction",
                |t| t.validation_fraction = 1.0,
                "between 0 and 1",
            ),
            ("cash", |t| t.account.cash = f64::MAX, "1e12"),
        ];
        for (field, set, bound) in train_cases {
            let mut req = train_request();
            set(&mut req);
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.message.contains(bound), "{field}: {}", e.message);
        }
        let mut req = train_request();
        req.l2 = MAX_L2;
        req.learning_rate = MAX_LEARNING_RATE;
        assert!(req.validate(&limits).is_ok());
    }
}
