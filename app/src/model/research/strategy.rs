//! The strategy catalog: [`StrategyKind`], its declared, range-checked parameters
//! ([`ParamSpec`]), resolving a `params` map against them, and each strategy's lookback.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use super::bounds::{ParamBounds, ParamOwner};
use super::constraint::Constraint;
use crate::model::FieldError;

/// The strategies the engine knows. Serialized in snake_case (`"sma_cross"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Fast/slow simple-moving-average crossover (backtesting.py's `SmaCross` example): long when
    /// the fast SMA crosses above the slow one, short (flat if long-only) when it crosses below.
    SmaCross,
    /// RSI mean reversion (Wilder's RSI): long when RSI drops below `lower`, short (flat if
    /// long-only) when it rises above `upper`.
    RsiReversion,
    /// Donchian channel breakout: long when the close breaks above the highest high of the
    /// previous `upper_n` bars, short (flat if long-only) when it breaks below the lowest low of
    /// the previous `lower_n` bars.
    DonchianBreakout,
}

/// One declared, typed, range-checked strategy parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamSpec {
    /// Key used in `params` maps and grids (`"n1"`).
    pub name: &'static str,
    /// Human label for forms.
    pub label: &'static str,
    /// Smallest allowed value (inclusive).
    pub min: f64,
    /// Largest allowed value (inclusive).
    pub max: f64,
    /// Value used when the request leaves the parameter out.
    pub default: f64,
    /// Whether only whole numbers are allowed (window lengths).
    pub integer: bool,
}

impl ParamSpec {
    /// What the parameter accepts.
    pub fn bounds(&self) -> ParamBounds<'static> {
        ParamBounds {
            name: self.name,
            integer: self.integer,
            min: self.min,
            max: self.max,
        }
    }
}

const SMA_PARAMS: [ParamSpec; 2] = [
    ParamSpec {
        name: "n1",
        label: "Fast SMA window",
        min: 2.0,
        max: 1000.0,
        default: 10.0,
        integer: true,
    },
    ParamSpec {
        name: "n2",
        label: "Slow SMA window",
        min: 2.0,
        max: 1000.0,
        default: 20.0,
        integer: true,
    },
];

const RSI_PARAMS: [ParamSpec; 3] = [
    ParamSpec {
        name: "period",
        label: "RSI period",
        min: 2.0,
        max: 500.0,
        default: 14.0,
        integer: true,
    },
    ParamSpec {
        name: "lower",
        label: "Oversold level (buy below)",
        min: 1.0,
        max: 99.0,
        default: 30.0,
        integer: false,
    },
    ParamSpec {
        name: "upper",
        label: "Overbought level (sell above)",
        min: 1.0,
        max: 99.0,
        default: 70.0,
        integer: false,
    },
];

const DONCHIAN_PARAMS: [ParamSpec; 2] = [
    ParamSpec {
        name: "upper_n",
        label: "Breakout window (highs)",
        min: 2.0,
        max: 1000.0,
        default: 20.0,
        integer: true,
    },
    ParamSpec {
        name: "lower_n",
        label: "Breakdown window (lows)",
        min: 2.0,
        max: 1000.0,
        default: 20.0,
        integer: true,
    },
];

impl StrategyKind {
    /// Every strategy, in display order.
    pub const ALL: [StrategyKind; 3] = [
        StrategyKind::SmaCross,
        StrategyKind::RsiReversion,
        StrategyKind::DonchianBreakout,
    ];

    /// Stable machine name (same as the serde name).
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::SmaCross => "sma_cross",
            StrategyKind::RsiReversion => "rsi_reversion",
            StrategyKind::DonchianBreakout => "donchian_breakout",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            StrategyKind::SmaCross => "SMA crossover",
            StrategyKind::RsiReversion => "RSI mean reversion",
            StrategyKind::DonchianBreakout => "Donchian breakout",
        }
    }

    /// Parses a machine name; `None` for an unknown strategy.
    pub fn from_name(name: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The declared parameters, in the order the engine reads them.
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            StrategyKind::SmaCross => &SMA_PARAMS,
            StrategyKind::RsiReversion => &RSI_PARAMS,
            StrategyKind::DonchianBreakout => &DONCHIAN_PARAMS,
        }
    }

    /// Looks up one parameter by name.
    pub fn param(self, name: &str) -> Option<&'static ParamSpec> {
        self.params().iter().find(|p| p.name == name)
    }

    /// The constraint the strategy itself requires (`n1 < n2`, `lower < upper`); parameter sets
    /// breaking it are refused by a backtest and skipped by an optimization.
    pub fn required_constraint(self) -> Option<Constraint> {
        match self {
            StrategyKind::SmaCross => Some(Constraint::LessThan {
                a: "n1".into(),
                b: "n2".into(),
            }),
            StrategyKind::RsiReversion => Some(Constraint::LessThan {
                a: "lower".into(),
                b: "upper".into(),
            }),
            StrategyKind::DonchianBreakout => None,
        }
    }

    /// The defaults as a `params` map.
    pub fn default_params(self) -> BTreeMap<String, f64> {
        self.params()
            .iter()
            .map(|p| (p.name.to_string(), p.default))
            .collect()
    }

    /// Resolves `params` into values in declaration order (missing → default) after checking
    /// names, ranges, whole numbers and the strategy's own constraint. `field` prefixes errors.
    pub fn resolve_params(
        self,
        params: &BTreeMap<String, f64>,
        field: &str,
    ) -> Result<Vec<f64>, FieldError> {
        self.owner().check_names(params.keys(), field)?;
        let mut values = Vec::with_capacity(self.params().len());
        for spec in self.params() {
            let v = params.get(spec.name).copied().unwrap_or(spec.default);
            spec.bounds().check(v, &format!("{field}.{}", spec.name))?;
            values.push(v);
        }
        if let Some(c) = self.required_constraint() {
            if !c.holds(self, &values) {
                return Err(FieldError::new(
                    format!("{field}.{}", c.a()),
                    format!("{} must be {} {}", c.a(), c.relation(), c.b()),
                ));
            }
        }
        Ok(values)
    }

    /// The strategy as the parameter checks name it.
    pub(super) fn owner(self) -> ParamOwner<'static> {
        ParamOwner {
            label: self.label(),
            names: self.params().iter().map(|p| p.name).collect(),
        }
    }

    pub(super) fn index_of(self, name: &str) -> Option<usize> {
        self.params().iter().position(|p| p.name == name)
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Bars an indicator needs before the strategy can act (its lookback), for the data checks.
pub fn strategy_lookback(kind: StrategyKind, values: &[f64]) -> usize {
    let max = values
        .iter()
        .zip(kind.params())
        .filter(|(_, s)| s.integer)
        .map(|(v, _)| *v as usize)
        .max()
        .unwrap_or(0);
    match kind {
        // SMA(n) is first defined on bar n-1; Donchian/RSI need n bars before bar n.
        StrategyKind::SmaCross => max.saturating_sub(1),
        StrategyKind::RsiReversion | StrategyKind::DonchianBreakout => max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_strategy_name_is_rejected() {
        assert_eq!(StrategyKind::from_name("macd"), None);
        for k in StrategyKind::ALL {
            assert_eq!(StrategyKind::from_name(k.name()), Some(k));
        }
    }
}
