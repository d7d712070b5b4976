//! [`BacktestRequest`]: run one strategy with fixed parameters over a dataset.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::account::Account;
use super::limits::{check_dataset, check_warmup, Limits};
use super::rules::RuleRef;
use super::strategy::StrategyKind;
use crate::model::FieldError;

/// Run one strategy with fixed parameters over a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestRequest {
    /// Dataset id (a UUID as text).
    pub dataset_id: String,
    /// Built-in strategy to run (ignored, and may be left out, when `rules` is given).
    #[serde(default = "super::rules::rules_placeholder")]
    pub strategy: StrategyKind,
    /// A rule-language strategy to run instead of the built-in: `params` then name its
    /// declared parameters (checked by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RuleRef>,
    /// Parameter values by name; missing ones take the declared default.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// The simulated account: starting cash, commission rate, long-only mode.
    #[serde(flatten)]
    pub account: Account,
}

impl BacktestRequest {
    /// A request with the strategy's default parameters.
    pub fn new(dataset_id: impl Into<String>, strategy: StrategyKind) -> Self {
        Self {
            dataset_id: dataset_id.into(),
            strategy,
            rules: None,
            params: strategy.default_params(),
            account: Account::default(),
        }
    }

    /// Checks everything that does not need the data.
    pub fn validate(&self, _limits: &Limits) -> Result<(), FieldError> {
        check_dataset(&self.dataset_id)?;
        match &self.rules {
            // The program's parameters are checked by the server (the parser is server-only).
            Some(rules) => {
                self.account.validate()?;
                rules.validate("rules")
            }
            None => self.resolve(None).map(drop),
        }
    }

    /// The parameter values of a built-in's backtest after every check: the money, each value
    /// and, given `n_bars`, that the indicator windows fit in that many bars. The engine runs
    /// them as they are.
    pub fn resolve(&self, n_bars: Option<usize>) -> Result<Vec<f64>, FieldError> {
        self.account.validate()?;
        let values = self.strategy.resolve_params(&self.params, "params")?;
        if let Some(n) = n_bars {
            check_warmup(self.strategy, &values, n, "params", "the dataset")?;
        }
        Ok(values)
    }

    /// Checks that the indicator windows fit in `n_bars` bars (built-ins only: the server
    /// checks a rule program's warm-up).
    pub fn validate_against_bars(&self, n_bars: usize) -> Result<(), FieldError> {
        match self.rules {
            Some(_) => Ok(()),
            None => self.resolve(Some(n_bars)).map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtest_refuses_n1_not_below_n2() {
        let mut req = BacktestRequest::new("d", StrategyKind::SmaCross);
        req.params.insert("n1".into(), 30.0);
        let e = req.validate(&Limits::default()).unwrap_err();
        assert_eq!(e.field, "params.n1");
        req.params.insert("n1".into(), 10.5);
        assert_eq!(
            req.validate(&Limits::default()).unwrap_err().field,
            "params.n1"
        );
    }
}
