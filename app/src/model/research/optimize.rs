//! [`OptimizeRequest`]: grid search over a strategy's parameters, ranked by a [`Metric`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::account::Account;
use super::constraint::Constraint;
use super::grid::{check_grid_warmup, GridSpec, ParamRange};
use super::limits::{check_dataset, Limits};
use super::metric::Metric;
use super::robustness::RobustnessConfig;
use super::rules::RuleRef;
use super::strategy::StrategyKind;
use crate::model::FieldError;

/// Grid search: run every admissible parameter combination and rank by `metric`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizeRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// Built-in strategy to optimize (ignored, and may be left out, when `rules` is given).
    #[serde(default = "super::rules::rules_placeholder")]
    pub strategy: StrategyKind,
    /// A rule-language strategy to optimize instead of the built-in: `grid` and `constraint`
    /// then name its declared parameters (checked by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RuleRef>,
    /// Values per parameter; parameters left out are fixed at their default.
    pub grid: BTreeMap<String, ParamRange>,
    /// Optional extra constraint (the strategy's own, e.g. `n1 < n2`, always applies).
    #[serde(default)]
    pub constraint: Option<Constraint>,
    /// Statistic to maximize.
    #[serde(default)]
    pub metric: Metric,
    /// How many of the best runs get full stats in the result (default 10).
    #[serde(default = "default_top_n")]
    pub top_n: usize,
    /// The account every run trades with.
    #[serde(flatten)]
    pub account: Account,
    /// Robustness settings (defaults: the standard figures).
    #[serde(default)]
    pub robustness: RobustnessConfig,
}

impl OptimizeRequest {
    /// Checks everything that does not need the data, including the grid-size limit.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        if let Some(rules) = &self.rules {
            // The grid names the program's parameters: the server expands and checks it.
            self.check_settings(limits)?;
            return rules.validate("rules");
        }
        self.grid_spec(limits).map(|_| ())
    }

    /// Validates and expands a built-in's grid (and the settings).
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, FieldError> {
        self.check_settings(limits)?;
        GridSpec::build(self.strategy, &self.grid, self.constraint.as_ref(), limits)
    }

    /// Checks the dataset id, money, robustness and `top_n` (not the grid).
    pub fn check_settings(&self, limits: &Limits) -> Result<(), FieldError> {
        check_dataset(&self.dataset_id)?;
        self.account.validate()?;
        self.robustness.validate()?;
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
