//! A program's grid: the values of each parameter ([`Program::grid`] validates and expands a
//! `grid` map), the runs its constraints admit ([`RuleGrid`]), and the walk over them.

use std::collections::BTreeMap;

use app::model::research::{check_grid_runs, grid_axes, Constraint, Limits, ParamRange};
use app::model::FieldError;

use super::Program;

/// A validated grid of a program: values per parameter (declaration order) and run counts.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleGrid {
    /// Values per parameter, in declaration order (fixed parameters have one value).
    pub axes: Vec<Vec<f64>>,
    /// Combinations before constraints.
    pub product: u64,
    /// Runs: combinations satisfying the program's constraints and the user's.
    pub runs: u64,
    /// Largest lookback of any run.
    pub max_lookback: usize,
    /// The user's constraint, if any.
    pub constraint: Option<Constraint>,
}

impl RuleGrid {
    /// Checks that the grid's largest windows warm up within `n_bars` bars (`what`: "the
    /// dataset", "the first in-sample window"), naming `field` when they do not.
    pub fn check_warmup(&self, n_bars: usize, field: &str, what: &str) -> Result<(), FieldError> {
        let needed = self.max_lookback.saturating_add(2);
        if needed > n_bars {
            return Err(FieldError::new(
                field,
                format!("the largest windows need at least {needed} bars but {what} has {n_bars}"),
            ));
        }
        Ok(())
    }
}

impl Program {
    /// Validates and expands a grid (as `GridSpec::build` does for the built-ins): parameters
    /// left out are fixed at their default; runs are the combinations (last parameter fastest)
    /// that satisfy the program's constraints and `constraint`.
    pub fn grid(
        &self,
        grid: &BTreeMap<String, ParamRange>,
        constraint: Option<&Constraint>,
        limits: &Limits,
    ) -> Result<RuleGrid, FieldError> {
        self.owner().check_grid(grid)?;
        if let Some(c) = constraint {
            for name in [c.a(), c.b()] {
                if self.param_index(name).is_none() {
                    return Err(FieldError::new(
                        "constraint",
                        format!("unknown parameter {name} for {}", self.name),
                    ));
                }
            }
            if c.a() == c.b() {
                return Err(FieldError::new(
                    "constraint",
                    "a constraint needs two different parameters",
                ));
            }
        }
        let params = self.params.iter().map(|p| (p.bounds(), p.default));
        let (axes, product) = grid_axes(params, grid, limits)?;
        let mut runs = 0u64;
        let mut max_lookback = 0usize;
        let mut lb = Vec::new();
        for_each_combination(&axes, |values| {
            if self.admits(values) && constraint.is_none_or(|c| self.user_holds(c, values)) {
                runs += 1;
                max_lookback = max_lookback.max(self.plan.lookback(values, &mut lb));
            }
        });
        if runs == 0 {
            return Err(FieldError::new(
                "grid",
                "no combination in the grid satisfies the constraints",
            ));
        }
        check_grid_runs(runs, limits)?;
        Ok(RuleGrid {
            axes,
            product,
            runs,
            max_lookback,
            constraint: constraint.cloned(),
        })
    }

    /// Whether run values `values` belong to `grid` (the program's and the user's constraints).
    pub(crate) fn in_grid(&self, grid: &RuleGrid, values: &[f64]) -> bool {
        self.admits(values)
            && grid
                .constraint
                .as_ref()
                .is_none_or(|c| self.user_holds(c, values))
    }
}

/// Calls `f` with every combination of `axes`, last axis fastest.
pub(crate) fn for_each_combination(axes: &[Vec<f64>], mut f: impl FnMut(&[f64])) {
    if axes.iter().any(|a| a.is_empty()) {
        return;
    }
    let mut idx = vec![0usize; axes.len()];
    let mut values: Vec<f64> = axes.iter().map(|a| a[0]).collect();
    loop {
        f(&values);
        let mut d = axes.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < axes[d].len() {
                values[d] = axes[d][idx[d]];
                break;
            }
            idx[d] = 0;
            values[d] = axes[d][0];
        }
    }
}
