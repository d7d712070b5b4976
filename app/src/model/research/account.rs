//! [`Account`]: the simulated account every research request trades with (starting cash,
//! commission rate, long-only mode), and its one check.

use serde::{Deserialize, Serialize};

use super::limits::{shown, MAX_CASH, MAX_COMMISSION};
use crate::model::FieldError;

/// The simulated account of a backtest, of every run of a search and of a model's validation
/// backtest. Requests flatten it (`#[serde(flatten)]`), so the JSON keeps `cash`,
/// `commission` and `long_only` at the top level of the request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Starting cash (default 10,000).
    #[serde(default = "default_cash")]
    pub cash: f64,
    /// Commission rate charged on the value of every fill, entry and exit (default 0).
    #[serde(default)]
    pub commission: f64,
    /// Never go short: the "short" signals only close a long position.
    #[serde(default)]
    pub long_only: bool,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            cash: default_cash(),
            commission: 0.0,
            long_only: false,
        }
    }
}

impl Account {
    /// Checks the cash (`0 < cash ≤ MAX_CASH`) and the commission rate
    /// (`0 ≤ rate < MAX_COMMISSION`), naming the field that is off.
    pub fn validate(&self) -> Result<(), FieldError> {
        let Account {
            cash, commission, ..
        } = *self;
        // `!(a && b)` also refuses NaN, which fails every comparison.
        if !(cash.is_finite() && cash > 0.0 && cash <= MAX_CASH) {
            return Err(FieldError::new(
                "cash",
                format!(
                    "starting cash must be > 0 and at most 1e12, got {}",
                    shown(cash)
                ),
            ));
        }
        if !(commission.is_finite() && (0.0..MAX_COMMISSION).contains(&commission)) {
            return Err(FieldError::new(
                "commission",
                format!(
                    "commission rate must be at least 0 and below 0.1 (10%), got {}",
                    shown(commission)
                ),
            ));
        }
        Ok(())
    }
}

fn default_cash() -> f64 {
    10_000.0
}
