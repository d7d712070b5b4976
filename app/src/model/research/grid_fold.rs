//! Views of an optimization's full grid: the metric over one or two chosen parameters, the
//! others folded away by their best value (max), mean, median, or held at fixed values (a slice).
//!
//! Pure: [`resolve`] checks a requested view (as named in the URL or the JSON API) against a
//! grid and says which field is wrong; [`fold`] computes it as a [`Heatmap`] (`y_param: None`
//! for a one-parameter view, drawn as a line). The server runs both on the stored
//! [`FullGrid`]; the grid itself never reaches the browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::results::{FullGrid, Heatmap};

/// Most cells a view may have (x values × y values). The grid of one optimization is bounded by
/// the grid limit, but two long axes could still make a view too big to send and draw.
pub const MAX_VIEW_CELLS: usize = 250_000;

/// The `y` that asks for a one-parameter view (a line over `x`).
pub const NO_Y: &str = "none";

/// How the parameters that are not on an axis are folded away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fold {
    /// The best (largest) value over them: the default view, as the stored heatmap.
    #[default]
    Max,
    /// Their mean.
    Mean,
    /// Their median (the mean of the two middle values for an even count).
    Median,
    /// Each held at one value (`at`): a slice through the grid.
    Slice,
}

impl Fold {
    pub const ALL: [Fold; 4] = [Fold::Max, Fold::Mean, Fold::Median, Fold::Slice];

    /// The machine name, as in `?fold=` and the JSON API.
    pub fn as_str(self) -> &'static str {
        match self {
            Fold::Max => "max",
            Fold::Mean => "mean",
            Fold::Median => "median",
            Fold::Slice => "slice",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Fold> {
        Fold::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// Human label for the controls.
    pub fn label(self) -> &'static str {
        match self {
            Fold::Max => "Best (max)",
            Fold::Mean => "Mean",
            Fold::Median => "Median",
            Fold::Slice => "Fixed values (slice)",
        }
    }
}

/// A request field that does not fit the grid: `field` is `x`, `y`, `fold` or `at.<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldError {
    pub field: String,
    pub message: String,
}

impl FoldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> FoldError {
        FoldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A requested view as named by the user; every field optional (`None` or empty: the default).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewRequest {
    /// The parameter along x (default: the first varying one).
    pub x: Option<String>,
    /// The parameter along y, or [`NO_Y`] for a line (default: the first other varying one).
    pub y: Option<String>,
    /// `max`, `mean`, `median` or `slice` (default `max`).
    pub fold: Option<String>,
    /// Fixed values of the other parameters, for a slice (default: the anchor's).
    pub at: BTreeMap<String, f64>,
}

/// A view checked against a grid, by parameter index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewSpec {
    pub x: usize,
    pub y: Option<usize>,
    pub fold: Fold,
    /// One axis index per parameter: where a slice holds it (ignored for `x` and `y`).
    pub at: Vec<usize>,
}

/// The parameters with more than one value, in order.
pub fn varying(axes: &[Vec<f64>]) -> Vec<usize> {
    (0..axes.len()).filter(|&d| axes[d].len() > 1).collect()
}

/// The default axes: the first two varying parameters (as the stored heatmap), one if only one
/// varies, the first parameter if none does.
pub fn default_axes(axes: &[Vec<f64>]) -> (usize, Option<usize>) {
    let v = varying(axes);
    (v.first().copied().unwrap_or(0), v.get(1).copied())
}

/// Where `v` is on `axis`: an exact match, else one within a relative 1e-9 (a value that went
/// through a decimal URL and back).
pub fn axis_index(axis: &[f64], v: f64) -> Option<usize> {
    if !v.is_finite() {
        return None;
    }
    axis.iter().position(|&a| a == v).or_else(|| {
        axis.iter()
            .position(|&a| (a - v).abs() <= 1e-9 * a.abs().max(v.abs()).max(1.0))
    })
}

/// At most the first 40 characters of a user-supplied name, for messages.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks `req` against the grid's `params` and `axes` (one axis per parameter). `anchor` gives
/// the slice position of parameters the request does not fix (the best run's values; a value
/// not on the axis, or a missing one, means its first value).
///
/// Refused, naming the field: an unknown parameter or one with a single value as `x` or `y`,
/// `y` equal to `x`, an unknown fold, an unknown parameter or a value not on its axis in `at`,
/// and a view of more than [`MAX_VIEW_CELLS`] cells. Entries of `at` for the parameters on the
/// axes are checked but do not matter.
pub fn resolve(
    params: &[String],
    axes: &[Vec<f64>],
    req: &ViewRequest,
    anchor: &BTreeMap<String, f64>,
) -> Result<ViewSpec, FoldError> {
    let varying = varying(axes);
    let choices = || {
        let names: Vec<&str> = varying.iter().map(|&d| params[d].as_str()).collect();
        if names.is_empty() {
            "no parameter varies in this grid".to_string()
        } else {
            format!("choose one of {}", names.join(", "))
        }
    };
    let find = |field: &str, name: &str| -> Result<usize, FoldError> {
        let d = params.iter().position(|p| p == name).ok_or_else(|| {
            FoldError::new(
                field,
                format!("no parameter {:?} in this grid; {}", clip(name), choices()),
            )
        })?;
        Ok(d)
    };
    let axis_param = |field: &str, name: &str| -> Result<usize, FoldError> {
        let d = find(field, name)?;
        if axes[d].len() < 2 {
            return Err(FoldError::new(
                field,
                format!(
                    "{} has a single value in this grid; {}",
                    params[d],
                    choices()
                ),
            ));
        }
        Ok(d)
    };
    let given = |s: &Option<String>| -> Option<String> {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };

    let (default_x, _) = default_axes(axes);
    let x = match given(&req.x) {
        Some(name) => axis_param("x", &name)?,
        None => default_x,
    };
    let y = match given(&req.y) {
        Some(name) if name == NO_Y => None,
        Some(name) => {
            let d = axis_param("y", &name)?;
            if d == x {
                return Err(FoldError::new(
                    "y",
                    format!("must differ from x ({}); {NO_Y:?} shows a line", params[x]),
                ));
            }
            Some(d)
        }
        None => varying.iter().copied().find(|&d| d != x),
    };
    let fold = match given(&req.fold) {
        Some(s) => Fold::parse(&s).ok_or_else(|| {
            FoldError::new(
                "fold",
                format!(
                    "unknown fold {:?}; expected one of max, mean, median, slice",
                    clip(&s)
                ),
            )
        })?,
        None => Fold::Max,
    };

    let mut at: Vec<usize> = (0..params.len())
        .map(|d| {
            anchor
                .get(&params[d])
                .and_then(|&v| axis_index(&axes[d], v))
                .unwrap_or(0)
        })
        .collect();
    for (name, &v) in &req.at {
        let field = format!("at.{}", clip(name));
        let d = find(&field, name)?;
        let i = axis_index(&axes[d], v).ok_or_else(|| {
            let shown: Vec<String> = axes[d].iter().take(10).map(|a| a.to_string()).collect();
            let more = if axes[d].len() > 10 { ", …" } else { "" };
            FoldError::new(
                &field,
                format!(
                    "{v} is not one of the values tried for {}: {}{more}",
                    params[d],
                    shown.join(", ")
                ),
            )
        })?;
        at[d] = i;
    }

    let cells = axes[x].len().saturating_mul(y.map_or(1, |d| axes[d].len()));
    if cells > MAX_VIEW_CELLS {
        return Err(FoldError::new(
            if y.is_some() { "y" } else { "x" },
            format!(
                "this view would have {cells} cells; at most {MAX_VIEW_CELLS} are shown: choose \
                 parameters with fewer values"
            ),
        ));
    }
    Ok(ViewSpec { x, y, fold, at })
}

/// Whether `spec` is the default view of a grid with these axes (the stored heatmap's).
pub fn is_default(axes: &[Vec<f64>], spec: &ViewSpec) -> bool {
    (spec.x, spec.y) == default_axes(axes) && spec.fold == Fold::Max
}

/// The view `spec` (from [`resolve`] for this grid) of `grid`: `cells[y][x]` holds the fold of
/// the finite values over the other parameters (`None` where there is none), or, for a slice,
/// the value at `spec.at`. A one-parameter view is one row with `y_param: None` and
/// `y_values: [0.0]`, like a one-parameter heatmap. A grid whose values do not fill its axes
/// reads the missing ones as undefined.
pub fn fold(grid: &FullGrid, spec: &ViewSpec) -> Heatmap {
    let lens: Vec<usize> = grid.axes.iter().map(Vec::len).collect();
    let mut strides = vec![1usize; lens.len()];
    for d in (0..lens.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1].saturating_mul(lens[d + 1]);
    }
    let total = lens.iter().try_fold(1usize, |a, &l| a.checked_mul(l));
    let n = total.unwrap_or(0).min(grid.values.len());
    let nx = lens.get(spec.x).copied().unwrap_or(0);
    let ny = spec.y.map_or(1, |d| lens.get(d).copied().unwrap_or(0));
    let value = |raw: usize| grid.values.get(raw).copied().filter(|v| v.is_finite());
    let digit = |raw: usize, d: usize| (raw / strides[d]) % lens[d];
    let cell_of = |raw: usize| digit(raw, spec.x) + spec.y.map_or(0, |d| digit(raw, d)) * nx;

    let mut out: Vec<Option<f64>> = vec![None; nx * ny];
    match spec.fold {
        Fold::Slice => {
            let base: usize = (0..lens.len())
                .filter(|&d| d != spec.x && Some(d) != spec.y)
                .map(|d| spec.at.get(d).copied().unwrap_or(0) * strides[d])
                .sum();
            for yi in 0..ny {
                for xi in 0..nx {
                    let raw = base + xi * strides[spec.x] + spec.y.map_or(0, |d| yi * strides[d]);
                    out[yi * nx + xi] = value(raw);
                }
            }
        }
        Fold::Max => {
            for raw in 0..n {
                if let Some(v) = value(raw) {
                    let c = &mut out[cell_of(raw)];
                    *c = Some(c.map_or(v, |b: f64| b.max(v)));
                }
            }
        }
        Fold::Mean => {
            let mut sum = vec![0.0f64; nx * ny];
            let mut count = vec![0u32; nx * ny];
            for raw in 0..n {
                if let Some(v) = value(raw) {
                    let c = cell_of(raw);
                    sum[c] += v;
                    count[c] += 1;
                }
            }
            for (c, o) in out.iter_mut().enumerate() {
                if count[c] > 0 {
                    // A sum of huge values may overflow; such a mean is undefined.
                    *o = Some(sum[c] / f64::from(count[c])).filter(|m| m.is_finite());
                }
            }
        }
        Fold::Median => {
            // Bucket the finite values by cell (counting sort), then select in each bucket.
            let cells = nx * ny;
            let mut start = vec![0usize; cells + 1];
            for raw in 0..n {
                if value(raw).is_some() {
                    start[cell_of(raw) + 1] += 1;
                }
            }
            for c in 0..cells {
                start[c + 1] += start[c];
            }
            let mut fill = start.clone();
            let mut buf = vec![0.0f64; start[cells]];
            for raw in 0..n {
                if let Some(v) = value(raw) {
                    let c = cell_of(raw);
                    buf[fill[c]] = v;
                    fill[c] += 1;
                }
            }
            for (c, o) in out.iter_mut().enumerate() {
                *o = median(&mut buf[start[c]..start[c + 1]]);
            }
        }
    }

    let name = |d: usize| grid.params.get(d).cloned().unwrap_or_default();
    let values = |d: usize| grid.axes.get(d).cloned().unwrap_or_default();
    Heatmap {
        x_param: name(spec.x),
        x_values: values(spec.x),
        y_param: spec.y.map(name),
        y_values: spec.y.map_or_else(|| vec![0.0], values),
        cells: if nx == 0 {
            vec![Vec::new(); ny]
        } else {
            out.chunks(nx).map(<[Option<f64>]>::to_vec).collect()
        },
    }
}

/// The median of finite values (reordered in place); `None` for none.
fn median(v: &mut [f64]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (_, &mut hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(hi);
    }
    // The lower middle is the largest of the values left of the upper middle.
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(lo / 2.0 + hi / 2.0)
}

#[cfg(test)]
mod tests;
