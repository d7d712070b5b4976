//! [`Constraint`]: a relation between two strategy parameters (`n1 < n2`) that a run must
//! satisfy, whether the strategy requires it or the user adds it to a grid.

use serde::{Deserialize, Serialize};

use super::strategy::StrategyKind;
use crate::model::FieldError;

/// A relation between two parameters that a run must satisfy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// `a < b`.
    LessThan {
        /// Left parameter name.
        a: String,
        /// Right parameter name.
        b: String,
    },
    /// `a ≤ b`.
    LessOrEqual {
        /// Left parameter name.
        a: String,
        /// Right parameter name.
        b: String,
    },
}

impl Constraint {
    /// Left parameter name.
    pub fn a(&self) -> &str {
        match self {
            Constraint::LessThan { a, .. } | Constraint::LessOrEqual { a, .. } => a,
        }
    }
    /// Right parameter name.
    pub fn b(&self) -> &str {
        match self {
            Constraint::LessThan { b, .. } | Constraint::LessOrEqual { b, .. } => b,
        }
    }
    pub(super) fn relation(&self) -> &'static str {
        match self {
            Constraint::LessThan { .. } => "less than",
            Constraint::LessOrEqual { .. } => "at most",
        }
    }

    /// Whether `values` (in the strategy's declaration order) satisfy the constraint; a
    /// constraint naming unknown parameters holds vacuously (validation rejects it first).
    pub fn holds(&self, kind: StrategyKind, values: &[f64]) -> bool {
        let (Some(ia), Some(ib)) = (kind.index_of(self.a()), kind.index_of(self.b())) else {
            return true;
        };
        let (Some(x), Some(y)) = (values.get(ia), values.get(ib)) else {
            return true;
        };
        match self {
            Constraint::LessThan { .. } => x < y,
            Constraint::LessOrEqual { .. } => x <= y,
        }
    }

    pub(super) fn validate(&self, kind: StrategyKind) -> Result<(), FieldError> {
        for name in [self.a(), self.b()] {
            if kind.param(name).is_none() {
                return Err(FieldError::new(
                    "constraint",
                    format!("unknown parameter {name} for {}", kind.label()),
                ));
            }
        }
        if self.a() == self.b() {
            return Err(FieldError::new(
                "constraint",
                "a constraint needs two different parameters",
            ));
        }
        Ok(())
    }
}
