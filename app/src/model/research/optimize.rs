//! [`OptimizeRequest`]: grid search over a strategy's parameters (a [`Search`]), ranked by its
//! metric.

use serde::{Deserialize, Serialize};

use super::account::Account;
use super::grid::{check_grid_warmup, GridSpec};
use super::limits::{check_dataset, Limits};
use super::search::Search;
use crate::model::FieldError;

/// Grid search: run every admissible parameter combination and rank by the search's metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizeRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// The strategy, the grid, the metric to maximize and the robustness settings.
    #[serde(flatten)]
    pub search: Search,
    /// How many of the best runs get full stats in the result (default 10).
    #[serde(default = "default_top_n")]
    pub top_n: usize,
    /// The account every run trades with.
    #[serde(flatten)]
    pub account: Account,
}

impl OptimizeRequest {
    /// Checks everything that does not need the data, including the grid-size limit.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        self.check_settings(limits)?;
        self.search.validate(limits)
    }

    /// Validates and expands a built-in's grid (and the settings).
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, FieldError> {
        self.check_settings(limits)?;
        self.search.grid_spec(limits)
    }

    /// Checks the dataset id, the account, the robustness settings and `top_n` (not the grid).
    pub fn check_settings(&self, limits: &Limits) -> Result<(), FieldError> {
        check_dataset(&self.dataset_id)?;
        self.account.validate()?;
        self.search.robustness.validate()?;
        check_top_n(self.top_n, limits)
    }

    /// Checks that the largest windows of `spec`, this request's expanded grid (from
    /// [`grid_spec`](Self::grid_spec)), fit in `n_bars` bars.
    pub fn check_warmup(&self, spec: &GridSpec, n_bars: usize) -> Result<(), FieldError> {
        check_grid_warmup(spec, n_bars, "the dataset")
    }
}

fn check_top_n(top_n: usize, limits: &Limits) -> Result<(), FieldError> {
    if top_n == 0 || top_n > limits.max_top_n {
        return Err(FieldError::new(
            "top_n",
            format!("must be between 1 and {}", limits.max_top_n),
        ));
    }
    Ok(())
}

fn default_top_n() -> usize {
    10
}
