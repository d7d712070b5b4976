//! [`Search`]: what a grid search explores and how it ranks and judges the runs, the part an
//! optimization and a walk-forward analysis share, and its checks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::constraint::Constraint;
use super::grid::{GridSpec, ParamRange};
use super::limits::Limits;
use super::metric::Metric;
use super::robustness::RobustnessConfig;
use super::rules::RuleRef;
use super::strategy::StrategyKind;
use crate::model::FieldError;

/// The strategy, the parameter grid and the ranking of a search. The requests flatten it
/// (`#[serde(flatten)]`), so its fields stand at the top level of the request's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// Built-in strategy to search (ignored, and may be left out, when `rules` is given).
    #[serde(default = "super::rules::rules_placeholder")]
    pub strategy: StrategyKind,
    /// A rule-language strategy to search instead of the built-in: `grid` and `constraint`
    /// then name its declared parameters (checked by the server, against the program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RuleRef>,
    /// Values per parameter; parameters left out are fixed at their default.
    pub grid: BTreeMap<String, ParamRange>,
    /// Optional extra constraint (the strategy's own, e.g. `n1 < n2`, always applies).
    #[serde(default)]
    pub constraint: Option<Constraint>,
    /// Statistic to maximize (in sample, for a walk-forward analysis).
    #[serde(default)]
    pub metric: Metric,
    /// Robustness settings (defaults: the standard figures).
    #[serde(default)]
    pub robustness: RobustnessConfig,
}

impl Search {
    /// A search of built-in `strategy` over `grid`, ranked by `metric`, with no extra
    /// constraint and the standard robustness settings (set `rules` to search a program).
    pub fn new(strategy: StrategyKind, grid: BTreeMap<String, ParamRange>, metric: Metric) -> Self {
        Search {
            strategy,
            rules: None,
            grid,
            constraint: None,
            metric,
            robustness: RobustnessConfig::default(),
        }
    }

    /// Checks the strategy and the grid without the data: a rule program's reference (its grid
    /// is expanded and checked by the server, against the program), or a built-in's grid,
    /// expanded. (The robustness settings are checked with the request's other settings.)
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        match &self.rules {
            Some(rules) => rules.validate("rules"),
            None => self.grid_spec(limits).map(|_| ()),
        }
    }

    /// A built-in's grid, expanded and checked (a rule program's is refused: the server
    /// expands it against the program).
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, FieldError> {
        if self.rules.is_some() {
            return Err(FieldError::new(
                "rules",
                "a rule-language strategy's grid is expanded by the server, against its program",
            ));
        }
        GridSpec::build(self.strategy, &self.grid, self.constraint.as_ref(), limits)
    }
}
