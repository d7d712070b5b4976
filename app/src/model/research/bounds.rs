//! What a parameter accepts, the same for a built-in strategy's ([`ParamSpec`]
//! (super::ParamSpec)) and a rule-language program's: [`ParamBounds`], and the checks of
//! parameter names, values and grid sizes that both make with it.

use std::collections::BTreeMap;

use super::grid::ParamRange;
use super::limits::{shown, Limits};
use crate::model::FieldError;

/// Largest product of axis lengths enumerated when counting the runs a constraint admits (a few
/// milliseconds, also in the browser); larger grids are refused outright.
pub const MAX_ENUMERATED: u64 = 2_000_000;

/// What one parameter accepts.
#[derive(Clone, Copy, Debug)]
pub struct ParamBounds<'a> {
    /// The parameter's name.
    pub name: &'a str,
    /// Whole numbers only.
    pub integer: bool,
    /// Smallest allowed value (inclusive).
    pub min: f64,
    /// Largest allowed value (inclusive).
    pub max: f64,
}

impl ParamBounds<'_> {
    /// Checks one value; `field` names it in the error.
    pub fn check(&self, v: f64, field: &str) -> Result<(), FieldError> {
        if !v.is_finite() {
            return Err(FieldError::new(field, "must be a finite number"));
        }
        if self.integer && v.fract() != 0.0 {
            return Err(FieldError::new(
                field,
                format!("must be a whole number, got {}", shown(v)),
            ));
        }
        if v < self.min || v > self.max {
            return Err(FieldError::new(
                field,
                format!(
                    "must be between {} and {}, got {}",
                    self.min,
                    self.max,
                    shown(v)
                ),
            ));
        }
        Ok(())
    }
}

/// Whose parameters a request names: the strategy's label and its parameters' names.
#[derive(Clone, Debug)]
pub struct ParamOwner<'a> {
    /// The strategy's label (a built-in's, or the program's name).
    pub label: &'a str,
    /// Its parameters' names, in declaration order.
    pub names: Vec<&'a str>,
}

impl ParamOwner<'_> {
    /// Checks that every name in `given` is one of the owner's parameters; an error names the
    /// field `{field}.{name}` and lists the parameters there are.
    pub fn check_names<'n>(
        &self,
        given: impl IntoIterator<Item = &'n String>,
        field: &str,
    ) -> Result<(), FieldError> {
        match given
            .into_iter()
            .find(|name| !self.names.contains(&name.as_str()))
        {
            Some(name) => Err(FieldError::new(
                format!("{field}.{name}"),
                format!(
                    "unknown parameter for {} (expected one of {})",
                    self.label,
                    self.names.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// Checks that a grid gives at least one parameter values, and names only the owner's.
    pub fn check_grid(&self, grid: &BTreeMap<String, ParamRange>) -> Result<(), FieldError> {
        if grid.is_empty() {
            return Err(FieldError::new(
                "grid",
                "the grid is empty: give at least one parameter a range or list",
            ));
        }
        self.check_names(grid.keys(), "grid")
    }
}

/// The axes of `grid` over `params` (each parameter's bounds and default, in declaration
/// order), and their product (the combinations before constraints): each range checked against
/// its parameter's bounds, parameters the grid leaves out fixed at their default, the product
/// checked against `limits` before any axis is expanded.
pub fn grid_axes<'a>(
    params: impl Iterator<Item = (ParamBounds<'a>, f64)> + Clone,
    grid: &BTreeMap<String, ParamRange>,
    limits: &Limits,
) -> Result<(Vec<Vec<f64>>, u64), FieldError> {
    let mut product: u64 = 1;
    for (bounds, _) in params.clone() {
        if let Some(range) = grid.get(bounds.name) {
            let n = range.validate(&bounds, &format!("grid.{}", bounds.name))?;
            product = product.saturating_mul(n as u64);
        }
    }
    check_grid_product(product, limits)?;
    let axes = params
        .map(|(bounds, default)| match grid.get(bounds.name) {
            Some(range) => range.values(),
            None => vec![default],
        })
        .collect();
    Ok((axes, product))
}

/// Refuses a grid whose combinations (`product`, before constraints) are too many to count.
fn check_grid_product(product: u64, limits: &Limits) -> Result<(), FieldError> {
    if product > MAX_ENUMERATED.max(limits.max_grid) {
        return Err(FieldError::new(
            "grid",
            format!(
                "the grid has {product} combinations, more than the limit of {}",
                limits.max_grid
            ),
        ));
    }
    Ok(())
}

/// Refuses a grid with more `runs` (combinations its constraints admit) than the limit.
pub fn check_grid_runs(runs: u64, limits: &Limits) -> Result<(), FieldError> {
    if runs > limits.max_grid {
        return Err(FieldError::new(
            "grid",
            format!(
                "the grid has {runs} runs, more than the limit of {}",
                limits.max_grid
            ),
        ));
    }
    Ok(())
}
