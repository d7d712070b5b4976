//! Optimization grids: the values to try per parameter ([`ParamRange`]) and the expanded,
//! constraint-filtered grid ([`GridSpec`]) with its enumeration, run decoding and warm-up check.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::bounds::{check_grid_runs, grid_axes, ParamBounds};
use super::constraint::Constraint;
use super::limits::{check_warmup, Limits};
use super::strategy::{strategy_lookback, StrategyKind};
use crate::model::FieldError;

/// Values to try for one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamRange {
    /// `start, start+step, …` up to and including `stop` when `stop` is on the step.
    Range {
        /// First value.
        start: f64,
        /// Last value (inclusive when on the step).
        stop: f64,
        /// Increment, > 0.
        step: f64,
    },
    /// Explicit values, tried in the given order.
    List(Vec<f64>),
}

/// Cap on values per parameter, so a typo like step 1e-9 cannot allocate a huge list.
const MAX_VALUES_PER_PARAM: f64 = 1_000_000.0;

impl ParamRange {
    /// `start, start + step, …` up to `stop`.
    pub fn range(start: f64, stop: f64, step: f64) -> ParamRange {
        ParamRange::Range { start, stop, step }
    }

    /// Number of values; 0 for an invalid range.
    pub fn len(&self) -> usize {
        match self {
            ParamRange::Range { start, stop, step } => {
                if !(step.is_finite() && *step > 0.0 && start.is_finite() && stop.is_finite())
                    || stop < start
                {
                    return 0;
                }
                let n = ((stop - start) / step + 1e-9).floor() + 1.0;
                if n > MAX_VALUES_PER_PARAM {
                    usize::MAX
                } else {
                    n as usize
                }
            }
            ParamRange::List(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values (`start + k·step`, computed without accumulating rounding error).
    pub fn values(&self) -> Vec<f64> {
        match self {
            ParamRange::Range { start, step, .. } => {
                let n = self.len();
                if n == usize::MAX {
                    return Vec::new();
                }
                (0..n).map(|k| start + k as f64 * step).collect()
            }
            ParamRange::List(v) => v.clone(),
        }
    }

    /// Checks the range against what its parameter accepts (every value within bounds, whole
    /// steps for whole numbers, at most 1,000,000 values) and returns how many values it has.
    /// `field` (`grid.n1`) prefixes the errors.
    pub fn validate(&self, spec: &ParamBounds, field: &str) -> Result<usize, FieldError> {
        match self {
            ParamRange::Range { start, stop, step } => {
                for (name, v) in [("start", start), ("stop", stop), ("step", step)] {
                    if !v.is_finite() {
                        return Err(FieldError::new(
                            format!("{field}.{name}"),
                            "must be a finite number",
                        ));
                    }
                }
                if *step <= 0.0 {
                    return Err(FieldError::new(format!("{field}.step"), "step must be > 0"));
                }
                if spec.integer && step.fract() != 0.0 {
                    return Err(FieldError::new(
                        format!("{field}.step"),
                        format!("must be a whole number for {}", spec.name),
                    ));
                }
                if stop < start {
                    return Err(FieldError::new(
                        format!("{field}.stop"),
                        format!("stop ({stop}) must be ≥ start ({start})"),
                    ));
                }
                spec.check(*start, &format!("{field}.start"))?;
                let n = self.len();
                if n == usize::MAX {
                    return Err(FieldError::new(
                        format!("{field}.step"),
                        "step is too small: more than 1,000,000 values",
                    ));
                }
                let last = start + (n - 1) as f64 * step;
                spec.check(last, &format!("{field}.stop"))?;
                Ok(n)
            }
            ParamRange::List(values) => {
                if values.is_empty() {
                    return Err(FieldError::new(field, "list has no values"));
                }
                for (i, v) in values.iter().enumerate() {
                    spec.check(*v, &format!("{field}[{i}]"))?;
                }
                Ok(values.len())
            }
        }
    }
}

/// The parameter grid of an optimization, expanded and filtered; built by [`GridSpec::build`].
///
/// Runs are the cartesian product of the parameters' values in declaration order (the last
/// parameter varies fastest), keeping those that satisfy the user's constraint and the
/// strategy's own. Run `i` of the job is the `i`-th kept combination.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSpec {
    /// Strategy the grid is for.
    pub strategy: StrategyKind,
    /// Values per parameter, in declaration order (fixed parameters have one value).
    pub axes: Vec<Vec<f64>>,
    /// Number of combinations before constraints.
    pub product: u64,
    /// Number of runs (combinations satisfying the constraints).
    pub runs: u64,
}

impl GridSpec {
    /// Validates and expands a grid. Parameters the grid leaves out are fixed at their default.
    pub fn build(
        strategy: StrategyKind,
        grid: &BTreeMap<String, ParamRange>,
        constraint: Option<&Constraint>,
        limits: &Limits,
    ) -> Result<GridSpec, FieldError> {
        strategy.owner().check_grid(grid)?;
        if let Some(c) = constraint {
            c.validate(strategy)?;
        }
        let params = strategy.params().iter().map(|p| (p.bounds(), p.default));
        let (axes, product) = grid_axes(params, grid, limits)?;
        let mut spec = GridSpec {
            strategy,
            axes,
            product,
            runs: 0,
        };
        let constraints = spec.constraints(constraint);
        let runs = spec.count_admissible(&constraints);
        if runs == 0 {
            let what = constraints
                .iter()
                .map(|c| format!("{} {} {}", c.a(), c.relation(), c.b()))
                .collect::<Vec<_>>()
                .join(" and ");
            return Err(FieldError::new(
                "grid",
                format!("no combination in the grid satisfies {what}"),
            ));
        }
        check_grid_runs(runs, limits)?;
        spec.runs = runs;
        Ok(spec)
    }

    /// The combinations that satisfy every constraint. When the constraints all relate the same
    /// two parameters (a built-in's own, with or without the user's on that pair), they are
    /// counted from the sorted axis without enumerating the grid: cheap enough for the browser
    /// on every keystroke. Otherwise the combinations are enumerated (the product is capped by
    /// [`MAX_ENUMERATED`](super::bounds::MAX_ENUMERATED) before this is called).
    fn count_admissible(&self, constraints: &[Constraint]) -> u64 {
        let kind = self.strategy;
        let pair = |c: &Constraint| (kind.index_of(c.a()), kind.index_of(c.b()));
        let Some(first) = constraints.first() else {
            return self.product;
        };
        if let (Some(ia), Some(ib)) = pair(first) {
            if ia != ib && constraints.iter().all(|c| pair(c) == (Some(ia), Some(ib))) {
                let strict = constraints
                    .iter()
                    .any(|c| matches!(c, Constraint::LessThan { .. }));
                let mut ys = self.axes[ib].clone();
                ys.sort_by(f64::total_cmp);
                // For each value x of `a`, the values y of `b` with x < y (or x ≤ y).
                let pairs: u64 = self.axes[ia]
                    .iter()
                    .map(|&x| {
                        let not_above =
                            ys.partition_point(|&y| if strict { y <= x } else { y < x });
                        (ys.len() - not_above) as u64
                    })
                    .sum();
                let others: u64 = (0..self.axes.len())
                    .filter(|&d| d != ia && d != ib)
                    .map(|d| self.axes[d].len() as u64)
                    .product();
                return pairs.saturating_mul(others);
            }
        }
        let mut count = 0u64;
        self.for_each_combination(|values| {
            if constraints.iter().all(|c| c.holds(kind, values)) {
                count += 1;
            }
        });
        count
    }

    /// The user's constraint plus the strategy's own.
    pub fn constraints(&self, user: Option<&Constraint>) -> Vec<Constraint> {
        let mut out: Vec<Constraint> = user.cloned().into_iter().collect();
        if let Some(c) = self.strategy.required_constraint() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Calls `f` with every combination (before constraints), last parameter fastest.
    pub fn for_each_combination(&self, mut f: impl FnMut(&[f64])) {
        if self.axes.iter().any(|a| a.is_empty()) {
            return;
        }
        let mut idx = vec![0usize; self.axes.len()];
        let mut values: Vec<f64> = self.axes.iter().map(|a| a[0]).collect();
        loop {
            f(&values);
            let mut d = self.axes.len();
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.axes[d].len() {
                    values[d] = self.axes[d][idx[d]];
                    break;
                }
                idx[d] = 0;
                values[d] = self.axes[d][0];
            }
        }
    }

    /// Decodes combination number `raw` (0-based, before constraints) into values.
    pub fn combination(&self, raw: u64, out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.axes.len(), 0.0);
        let mut r = raw;
        for d in (0..self.axes.len()).rev() {
            let len = self.axes[d].len() as u64;
            out[d] = self.axes[d][(r % len) as usize];
            r /= len;
        }
    }

    /// Names of the parameters that vary (more than one value), in declaration order.
    pub fn varying(&self) -> Vec<usize> {
        (0..self.axes.len())
            .filter(|&d| self.axes[d].len() > 1)
            .collect()
    }

    /// Largest lookback of any run, for the data-length checks.
    pub fn max_lookback(&self) -> usize {
        let maxes: Vec<f64> = self
            .axes
            .iter()
            .map(|a| a.iter().copied().fold(f64::MIN, f64::max))
            .collect();
        strategy_lookback(self.strategy, &maxes)
    }
}

pub(super) fn check_grid_warmup(
    spec: &GridSpec,
    n_bars: usize,
    what: &str,
) -> Result<(), FieldError> {
    let maxes: Vec<f64> = spec
        .axes
        .iter()
        .map(|a| a.iter().copied().fold(f64::MIN, f64::max))
        .collect();
    check_warmup(spec.strategy, &maxes, n_bars, "grid", what)
}

#[cfg(test)]
mod tests;
