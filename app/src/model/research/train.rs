//! [`TrainRequest`]: train a logistic-regression direction model on lagged returns, with its
//! defaults and validation.

use serde::{Deserialize, Serialize};

use super::account::Account;
use super::limits::{check_dataset, shown, Limits, MAX_L2, MAX_LEARNING_RATE};
use crate::model::FieldError;

/// Train a logistic-regression model that predicts the next bar's direction from lagged
/// returns, then backtest its signals on the validation period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// Number of lagged close-to-close returns used as features (default 5).
    #[serde(default = "default_lags")]
    pub lags: usize,
    /// Full-batch gradient-descent epochs (default 200).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Learning rate (default 0.1).
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// L2 penalty on the weights (default 0).
    #[serde(default)]
    pub l2: f64,
    /// Share of samples (the most recent ones) kept for validation (default 0.3).
    #[serde(default = "default_val_fraction")]
    pub validation_fraction: f64,
    /// The account of the validation backtest.
    #[serde(flatten)]
    pub account: Account,
}

fn default_lags() -> usize {
    5
}
fn default_epochs() -> usize {
    200
}
fn default_lr() -> f64 {
    0.1
}
fn default_val_fraction() -> f64 {
    0.3
}

impl TrainRequest {
    /// A request with every setting at its default (5 lags, 200 epochs, rate 0.1, no L2, 30 %
    /// validation).
    pub fn new(dataset_id: impl Into<String>) -> Self {
        TrainRequest {
            dataset_id: dataset_id.into(),
            lags: default_lags(),
            epochs: default_epochs(),
            learning_rate: default_lr(),
            l2: 0.0,
            validation_fraction: default_val_fraction(),
            account: Account::default(),
        }
    }

    /// Checks everything that does not need the data.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        check_dataset(&self.dataset_id)?;
        self.account.validate()?;
        if self.lags == 0 || self.lags > limits.max_lags {
            return Err(FieldError::new(
                "lags",
                format!("must be between 1 and {}", limits.max_lags),
            ));
        }
        if self.epochs == 0 || self.epochs > limits.max_epochs {
            return Err(FieldError::new(
                "epochs",
                format!("must be between 1 and {}", limits.max_epochs),
            ));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= MAX_LEARNING_RATE)
        {
            return Err(FieldError::new(
                "learning_rate",
                format!("must be > 0 and ≤ 10, got {}", shown(self.learning_rate)),
            ));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0 && self.l2 <= MAX_L2) {
            return Err(FieldError::new(
                "l2",
                format!("must be between 0 and 1000, got {}", shown(self.l2)),
            ));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(FieldError::new(
                "validation_fraction",
                format!(
                    "must be strictly between 0 and 1, got {}",
                    shown(self.validation_fraction)
                ),
            ));
        }
        Ok(())
    }

    /// Checks that both the training and the validation split get enough samples.
    pub fn validate_against_bars(&self, n_bars: usize) -> Result<(), FieldError> {
        let samples = n_bars.saturating_sub(self.lags + 1);
        let val = (samples as f64 * self.validation_fraction).round() as usize;
        let train = samples.saturating_sub(val);
        if train < 10 || val < 10 {
            return Err(FieldError::new(
                "validation_fraction",
                format!(
                    "{n_bars} bars give {train} training and {val} validation samples with {} lags (need ≥ 10 each)",
                    self.lags
                ),
            ));
        }
        Ok(())
    }
}
