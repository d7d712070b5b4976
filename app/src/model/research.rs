//! Research-engine types shared by the server and the browser: strategy catalog, job requests
//! (backtest, optimize, walk-forward, train), their validation, and the result types.
//!
//! Only `serde` and `std` are used so the module compiles to WASM; `validate` is pure and cheap
//! so the browser can call it on every keystroke. The engine (`server::engine`) runs the
//! requests; it re-validates them, so the browser's checks are a convenience, not the guard.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Strategies and their parameters
// ---------------------------------------------------------------------------------------------

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
    ) -> Result<Vec<f64>, ValidationError> {
        for name in params.keys() {
            if self.param(name).is_none() {
                return Err(ValidationError::new(
                    format!("{field}.{name}"),
                    format!(
                        "unknown parameter for {} (expected one of {})",
                        self.label(),
                        self.param_names()
                    ),
                ));
            }
        }
        let mut values = Vec::with_capacity(self.params().len());
        for spec in self.params() {
            let v = params.get(spec.name).copied().unwrap_or(spec.default);
            check_value(spec, v, &format!("{field}.{}", spec.name))?;
            values.push(v);
        }
        if let Some(c) = self.required_constraint() {
            if !c.holds(self, &values) {
                return Err(ValidationError::new(
                    format!("{field}.{}", c.a()),
                    format!("{} must be {} {}", c.a(), c.relation(), c.b()),
                ));
            }
        }
        Ok(values)
    }

    fn param_names(self) -> String {
        self.params()
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn index_of(self, name: &str) -> Option<usize> {
        self.params().iter().position(|p| p.name == name)
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A number as an error message quotes it: short scientific notation for huge or tiny
/// magnitudes (`1e300`, not 301 digits).
fn shown(v: f64) -> String {
    if v.is_finite() && v != 0.0 && (v.abs() >= 1e15 || v.abs() < 1e-6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn check_value(spec: &ParamSpec, v: f64, field: &str) -> Result<(), ValidationError> {
    if !v.is_finite() {
        return Err(ValidationError::new(field, "must be a finite number"));
    }
    if spec.integer && v.fract() != 0.0 {
        return Err(ValidationError::new(
            field,
            format!("must be a whole number, got {}", shown(v)),
        ));
    }
    if v < spec.min || v > spec.max {
        return Err(ValidationError::new(
            field,
            format!(
                "must be between {} and {}, got {}",
                spec.min,
                spec.max,
                shown(v)
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Validation plumbing
// ---------------------------------------------------------------------------------------------

/// A request field that failed validation, with a message meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Dotted path of the offending field (`"grid.n1.step"`).
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl ValidationError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Configurable limits that requests are checked against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest number of runs an optimization (or one walk-forward fold) may have.
    pub max_grid: u64,
    /// Largest total number of runs of a walk-forward analysis: folds × runs per fold
    /// (default 1,000,000, ten times the default `max_grid`). Each fold is also held to
    /// `max_grid` on its own.
    pub max_walk_forward_runs: u64,
    /// Largest number of bars in a dataset.
    pub max_bars: usize,
    /// Largest number of walk-forward folds.
    pub max_folds: usize,
    /// Largest `top_n`.
    pub max_top_n: usize,
    /// Largest number of training epochs.
    pub max_epochs: usize,
    /// Largest number of lagged features.
    pub max_lags: usize,
    /// Whether demo jobs may use their failure hooks (`fail_once_at`, `fail_terminally_at`).
    /// Off by default; the server turns it on with `RUNBOARD_TEST_HOOKS=1`.
    pub allow_test_hooks: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_grid: 100_000,
            max_walk_forward_runs: 1_000_000,
            max_bars: 1_000_000,
            max_folds: 50,
            max_top_n: 100,
            max_epochs: 10_000,
            max_lags: 50,
            allow_test_hooks: false,
        }
    }
}

fn default_cash() -> f64 {
    10_000.0
}
fn default_top_n() -> usize {
    10
}
fn default_folds() -> usize {
    5
}
fn default_is_fraction() -> f64 {
    0.75
}

/// Largest starting cash (one trillion): beyond it the simulation's sums lose their meaning.
pub const MAX_CASH: f64 = 1e12;
/// Commission rates must be below this (10%).
pub const MAX_COMMISSION: f64 = 0.1;
/// Largest training learning rate.
pub const MAX_LEARNING_RATE: f64 = 10.0;
/// Largest training L2 penalty.
pub const MAX_L2: f64 = 1e3;

fn check_money(cash: f64, commission: f64) -> Result<(), ValidationError> {
    // `!(a && b)` also refuses NaN, which fails every comparison.
    if !(cash.is_finite() && cash > 0.0 && cash <= MAX_CASH) {
        return Err(ValidationError::new(
            "cash",
            format!(
                "starting cash must be > 0 and at most 1e12, got {}",
                shown(cash)
            ),
        ));
    }
    if !(commission.is_finite() && (0.0..MAX_COMMISSION).contains(&commission)) {
        return Err(ValidationError::new(
            "commission",
            format!(
                "commission rate must be at least 0 and below 0.1 (10%), got {}",
                shown(commission)
            ),
        ));
    }
    Ok(())
}

fn check_dataset(dataset_id: &str) -> Result<(), ValidationError> {
    if dataset_id.trim().is_empty() {
        return Err(ValidationError::new("dataset_id", "choose a dataset"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Backtest
// ---------------------------------------------------------------------------------------------

/// Run one strategy with fixed parameters over a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestRequest {
    /// Dataset id (a UUID as text).
    pub dataset_id: String,
    /// Strategy to run.
    pub strategy: StrategyKind,
    /// Parameter values by name; missing ones take the declared default.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// Starting cash (default 10,000).
    #[serde(default = "default_cash")]
    pub cash: f64,
    /// Commission rate charged on the value of every fill, entry and exit (default 0).
    #[serde(default)]
    pub commission: f64,
    /// Never go short: the "short" signals only close a long position.
    #[serde(default)]
    pub long_only: bool,
}

impl BacktestRequest {
    /// A request with the strategy's default parameters.
    pub fn new(dataset_id: impl Into<String>, strategy: StrategyKind) -> Self {
        Self {
            dataset_id: dataset_id.into(),
            strategy,
            params: strategy.default_params(),
            cash: default_cash(),
            commission: 0.0,
            long_only: false,
        }
    }

    /// Checks everything that does not need the data.
    pub fn validate(&self, _limits: &Limits) -> Result<(), ValidationError> {
        check_dataset(&self.dataset_id)?;
        check_money(self.cash, self.commission)?;
        self.strategy.resolve_params(&self.params, "params")?;
        Ok(())
    }

    /// Checks that the indicator windows fit in `n_bars` bars.
    pub fn validate_against_bars(&self, n_bars: usize) -> Result<(), ValidationError> {
        let values = self.strategy.resolve_params(&self.params, "params")?;
        check_warmup(self.strategy, &values, n_bars, "params", "the dataset")
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

fn check_warmup(
    kind: StrategyKind,
    values: &[f64],
    n_bars: usize,
    field: &str,
    what: &str,
) -> Result<(), ValidationError> {
    let look = strategy_lookback(kind, values);
    // Need the warm-up, one bar to signal on and one bar to fill on.
    if look + 2 > n_bars {
        let (name, _) = values
            .iter()
            .zip(kind.params())
            .filter(|(_, s)| s.integer)
            .map(|(v, s)| (s.name, *v))
            .fold(("", 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        return Err(ValidationError::new(
            format!("{field}.{name}"),
            format!(
                "window needs at least {} bars but {what} has {n_bars}",
                look + 2
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Grids and constraints
// ---------------------------------------------------------------------------------------------

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

    fn validate(&self, spec: &ParamSpec, field: &str) -> Result<usize, ValidationError> {
        match self {
            ParamRange::Range { start, stop, step } => {
                for (name, v) in [("start", start), ("stop", stop), ("step", step)] {
                    if !v.is_finite() {
                        return Err(ValidationError::new(
                            format!("{field}.{name}"),
                            "must be a finite number",
                        ));
                    }
                }
                if *step <= 0.0 {
                    return Err(ValidationError::new(
                        format!("{field}.step"),
                        "step must be > 0",
                    ));
                }
                if spec.integer && step.fract() != 0.0 {
                    return Err(ValidationError::new(
                        format!("{field}.step"),
                        format!("must be a whole number for {}", spec.name),
                    ));
                }
                if stop < start {
                    return Err(ValidationError::new(
                        format!("{field}.stop"),
                        format!("stop ({stop}) must be ≥ start ({start})"),
                    ));
                }
                check_value(spec, *start, &format!("{field}.start"))?;
                let n = self.len();
                if n == usize::MAX {
                    return Err(ValidationError::new(
                        format!("{field}.step"),
                        "step is too small: more than 1,000,000 values",
                    ));
                }
                let last = start + (n - 1) as f64 * step;
                check_value(spec, last, &format!("{field}.stop"))?;
                Ok(n)
            }
            ParamRange::List(values) => {
                if values.is_empty() {
                    return Err(ValidationError::new(field, "list has no values"));
                }
                for (i, v) in values.iter().enumerate() {
                    check_value(spec, *v, &format!("{field}[{i}]"))?;
                }
                Ok(values.len())
            }
        }
    }
}

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
    fn relation(&self) -> &'static str {
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

    fn validate(&self, kind: StrategyKind) -> Result<(), ValidationError> {
        for name in [self.a(), self.b()] {
            if kind.param(name).is_none() {
                return Err(ValidationError::new(
                    "constraint",
                    format!("unknown parameter {name} for {}", kind.label()),
                ));
            }
        }
        if self.a() == self.b() {
            return Err(ValidationError::new(
                "constraint",
                "a constraint needs two different parameters",
            ));
        }
        Ok(())
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

/// Largest product of axis lengths enumerated when counting the runs a constraint admits
/// (a few milliseconds, also in the browser); larger grids are refused outright.
const MAX_ENUMERATED: u64 = 2_000_000;

impl GridSpec {
    /// Validates and expands a grid. Parameters the grid leaves out are fixed at their default.
    pub fn build(
        strategy: StrategyKind,
        grid: &BTreeMap<String, ParamRange>,
        constraint: Option<&Constraint>,
        limits: &Limits,
    ) -> Result<GridSpec, ValidationError> {
        if grid.is_empty() {
            return Err(ValidationError::new(
                "grid",
                "the grid is empty: give at least one parameter a range or list",
            ));
        }
        for name in grid.keys() {
            if strategy.param(name).is_none() {
                return Err(ValidationError::new(
                    format!("grid.{name}"),
                    format!(
                        "unknown parameter for {} (expected one of {})",
                        strategy.label(),
                        strategy.param_names()
                    ),
                ));
            }
        }
        if let Some(c) = constraint {
            c.validate(strategy)?;
        }
        let mut lens = Vec::new();
        let mut product: u64 = 1;
        for spec in strategy.params() {
            let n = match grid.get(spec.name) {
                Some(r) => r.validate(spec, &format!("grid.{}", spec.name))?,
                None => 1,
            };
            lens.push(n);
            product = product.saturating_mul(n as u64);
        }
        let too_many = |runs: u64| {
            ValidationError::new(
                "grid",
                format!(
                    "the grid has {runs} runs, more than the limit of {}",
                    limits.max_grid
                ),
            )
        };
        if product > MAX_ENUMERATED.max(limits.max_grid) {
            return Err(ValidationError::new(
                "grid",
                format!(
                    "the grid has {product} combinations, more than the limit of {}",
                    limits.max_grid
                ),
            ));
        }
        let axes: Vec<Vec<f64>> = strategy
            .params()
            .iter()
            .map(|spec| match grid.get(spec.name) {
                Some(r) => r.values(),
                None => vec![spec.default],
            })
            .collect();
        let mut spec = GridSpec {
            strategy,
            axes,
            product,
            runs: 0,
        };
        let constraints = spec.constraints(constraint);
        let runs = if constraints.is_empty() {
            product
        } else {
            let mut count = 0u64;
            spec.for_each_combination(|values| {
                if constraints.iter().all(|c| c.holds(strategy, values)) {
                    count += 1;
                }
            });
            count
        };
        if runs == 0 {
            let what = constraints
                .iter()
                .map(|c| format!("{} {} {}", c.a(), c.relation(), c.b()))
                .collect::<Vec<_>>()
                .join(" and ");
            return Err(ValidationError::new(
                "grid",
                format!("no combination in the grid satisfies {what}"),
            ));
        }
        if runs > limits.max_grid {
            return Err(too_many(runs));
        }
        spec.runs = runs;
        Ok(spec)
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

    /// Values as a name → value map.
    pub fn to_map(&self, values: &[f64]) -> BTreeMap<String, f64> {
        self.strategy
            .params()
            .iter()
            .zip(values)
            .map(|(s, v)| (s.name.to_string(), *v))
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

// ---------------------------------------------------------------------------------------------
// Optimize
// ---------------------------------------------------------------------------------------------

/// The statistic an optimization maximizes. Serialized in snake_case (`"sharpe"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Return [%].
    ReturnPct,
    /// Equity Final [$].
    EquityFinal,
    /// Sharpe ratio.
    #[default]
    Sharpe,
    /// Sortino ratio.
    Sortino,
    /// Calmar ratio.
    Calmar,
    /// CAGR [%].
    CagrPct,
    /// Win rate [%].
    WinRatePct,
    /// Profit factor.
    ProfitFactor,
    /// Expectancy [%].
    ExpectancyPct,
    /// System Quality Number (backtesting.py's default objective).
    Sqn,
    /// Max. drawdown [%] (negative; maximizing it prefers the shallowest drawdown).
    MaxDrawdownPct,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 11] = [
        Metric::ReturnPct,
        Metric::EquityFinal,
        Metric::Sharpe,
        Metric::Sortino,
        Metric::Calmar,
        Metric::CagrPct,
        Metric::WinRatePct,
        Metric::ProfitFactor,
        Metric::ExpectancyPct,
        Metric::Sqn,
        Metric::MaxDrawdownPct,
    ];

    /// Human label (backtesting.py's stat name).
    pub fn label(self) -> &'static str {
        match self {
            Metric::ReturnPct => "Return [%]",
            Metric::EquityFinal => "Equity Final [$]",
            Metric::Sharpe => "Sharpe Ratio",
            Metric::Sortino => "Sortino Ratio",
            Metric::Calmar => "Calmar Ratio",
            Metric::CagrPct => "CAGR [%]",
            Metric::WinRatePct => "Win Rate [%]",
            Metric::ProfitFactor => "Profit Factor",
            Metric::ExpectancyPct => "Expectancy [%]",
            Metric::Sqn => "SQN",
            Metric::MaxDrawdownPct => "Max. Drawdown [%]",
        }
    }

    /// Reads this metric from full stats.
    pub fn of(self, s: &Stats) -> Option<f64> {
        match self {
            Metric::ReturnPct => s.return_pct,
            Metric::EquityFinal => s.equity_final,
            Metric::Sharpe => s.sharpe,
            Metric::Sortino => s.sortino,
            Metric::Calmar => s.calmar,
            Metric::CagrPct => s.cagr_pct,
            Metric::WinRatePct => s.win_rate_pct,
            Metric::ProfitFactor => s.profit_factor,
            Metric::ExpectancyPct => s.expectancy_pct,
            Metric::Sqn => s.sqn,
            Metric::MaxDrawdownPct => s.max_drawdown_pct,
        }
    }
}

/// Grid search: run every admissible parameter combination and rank by `metric`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizeRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// Strategy to optimize.
    pub strategy: StrategyKind,
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
    /// Starting cash.
    #[serde(default = "default_cash")]
    pub cash: f64,
    /// Commission rate.
    #[serde(default)]
    pub commission: f64,
    /// Never go short.
    #[serde(default)]
    pub long_only: bool,
}

impl OptimizeRequest {
    /// Checks everything that does not need the data, including the grid-size limit.
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        self.grid_spec(limits).map(|_| ())
    }

    /// Validates and expands the grid.
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, ValidationError> {
        check_dataset(&self.dataset_id)?;
        check_money(self.cash, self.commission)?;
        check_top_n(self.top_n, limits)?;
        GridSpec::build(self.strategy, &self.grid, self.constraint.as_ref(), limits)
    }

    /// Checks that the largest windows in the grid fit in `n_bars` bars.
    pub fn validate_against_bars(
        &self,
        n_bars: usize,
        limits: &Limits,
    ) -> Result<(), ValidationError> {
        let spec = self.grid_spec(limits)?;
        check_grid_warmup(&spec, n_bars, "the dataset")
    }
}

fn check_top_n(top_n: usize, limits: &Limits) -> Result<(), ValidationError> {
    if top_n == 0 || top_n > limits.max_top_n {
        return Err(ValidationError::new(
            "top_n",
            format!("must be between 1 and {}", limits.max_top_n),
        ));
    }
    Ok(())
}

fn check_grid_warmup(spec: &GridSpec, n_bars: usize, what: &str) -> Result<(), ValidationError> {
    let maxes: Vec<f64> = spec
        .axes
        .iter()
        .map(|a| a.iter().copied().fold(f64::MIN, f64::max))
        .collect();
    check_warmup(spec.strategy, &maxes, n_bars, "grid", what)
}

// ---------------------------------------------------------------------------------------------
// Walk-forward
// ---------------------------------------------------------------------------------------------

/// How in-sample windows move from fold to fold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkForwardMode {
    /// Fixed-length in-sample window sliding forward by one out-of-sample length.
    #[default]
    Rolling,
    /// In-sample window always starts at the first bar and grows.
    Anchored,
}

/// Walk-forward analysis: optimize on each in-sample window, test the winner out of sample.
///
/// Window lengths: with `in_sample_bars` and `out_of_sample_bars` both given they are used as
/// is; otherwise the data is split so that `in_sample + folds × out_of_sample = n_bars` and
/// `in_sample / (in_sample + out_of_sample) = in_sample_fraction`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// Strategy to optimize.
    pub strategy: StrategyKind,
    /// Values per parameter.
    pub grid: BTreeMap<String, ParamRange>,
    /// Optional extra constraint.
    #[serde(default)]
    pub constraint: Option<Constraint>,
    /// Statistic maximized in sample.
    #[serde(default)]
    pub metric: Metric,
    /// Number of folds (default 5).
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// Rolling or anchored.
    #[serde(default)]
    pub mode: WalkForwardMode,
    /// Share of an in-sample + out-of-sample window that is in sample (default 0.75).
    #[serde(default = "default_is_fraction")]
    pub in_sample_fraction: f64,
    /// Explicit in-sample length in bars (with `out_of_sample_bars`).
    #[serde(default)]
    pub in_sample_bars: Option<usize>,
    /// Explicit out-of-sample length in bars (with `in_sample_bars`).
    #[serde(default)]
    pub out_of_sample_bars: Option<usize>,
    /// Starting cash of every window.
    #[serde(default = "default_cash")]
    pub cash: f64,
    /// Commission rate.
    #[serde(default)]
    pub commission: f64,
    /// Never go short.
    #[serde(default)]
    pub long_only: bool,
}

/// Bar ranges of one fold, half-open `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldWindows {
    /// In-sample range.
    pub in_sample: (usize, usize),
    /// Out-of-sample range.
    pub out_of_sample: (usize, usize),
}

impl WalkForwardRequest {
    /// Checks everything that does not need the data.
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        self.grid_spec(limits).map(|_| ())
    }

    /// Validates and expands the grid (and the fold settings).
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, ValidationError> {
        check_dataset(&self.dataset_id)?;
        check_money(self.cash, self.commission)?;
        if self.folds == 0 || self.folds > limits.max_folds {
            return Err(ValidationError::new(
                "folds",
                format!(
                    "must be between 1 and {}, got {}",
                    limits.max_folds, self.folds
                ),
            ));
        }
        match (self.in_sample_bars, self.out_of_sample_bars) {
            (Some(_), None) => {
                return Err(ValidationError::new(
                    "out_of_sample_bars",
                    "give both window lengths or neither",
                ))
            }
            (None, Some(_)) => {
                return Err(ValidationError::new(
                    "in_sample_bars",
                    "give both window lengths or neither",
                ))
            }
            _ => {}
        }
        if self.in_sample_bars.is_none()
            && !(self.in_sample_fraction > 0.0 && self.in_sample_fraction < 1.0)
        {
            return Err(ValidationError::new(
                "in_sample_fraction",
                format!(
                    "must be strictly between 0 and 1, got {}",
                    shown(self.in_sample_fraction)
                ),
            ));
        }
        let spec = GridSpec::build(self.strategy, &self.grid, self.constraint.as_ref(), limits)?;
        // The per-fold limit above is not enough: 50 folds of a full grid is 50 grids.
        let total = (self.folds as u64).saturating_mul(spec.runs);
        if total > limits.max_walk_forward_runs {
            return Err(ValidationError::new(
                "folds",
                format!(
                    "{} folds × {} runs per fold = {total} runs, more than the limit of {} \
                     for a walk-forward analysis",
                    self.folds, spec.runs, limits.max_walk_forward_runs
                ),
            ));
        }
        Ok(spec)
    }

    /// The fold windows for `n_bars` bars, or an error saying why the folds do not fit.
    pub fn windows(&self, n_bars: usize) -> Result<Vec<FoldWindows>, ValidationError> {
        let folds = self.folds.max(1);
        let (is_len, oos_len) = match (self.in_sample_bars, self.out_of_sample_bars) {
            (Some(i), Some(o)) => (i, o),
            _ => {
                let r = self.in_sample_fraction;
                // n = IS + F·OOS and IS = OOS·r/(1-r)  ⇒  OOS = n / (F + r/(1-r)).
                let oos = (n_bars as f64 / (folds as f64 + r / (1.0 - r))).floor();
                let oos = if oos.is_finite() && oos > 0.0 {
                    oos as usize
                } else {
                    0
                };
                (n_bars.saturating_sub(folds * oos), oos)
            }
        };
        if oos_len < 2 {
            return Err(ValidationError::new(
                "folds",
                format!(
                    "{folds} folds do not fit in {n_bars} bars: each out-of-sample window would have {oos_len} bars (need ≥ 2)"
                ),
            ));
        }
        let needed = is_len.saturating_add(folds.saturating_mul(oos_len));
        if needed > n_bars {
            return Err(ValidationError::new(
                "folds",
                format!(
                    "{folds} folds of {is_len} in-sample + {oos_len} out-of-sample bars need {needed} bars, the dataset has {n_bars}"
                ),
            ));
        }
        Ok((0..folds)
            .map(|f| {
                let is_end = is_len + f * oos_len;
                let is_start = match self.mode {
                    WalkForwardMode::Rolling => f * oos_len,
                    WalkForwardMode::Anchored => 0,
                };
                FoldWindows {
                    in_sample: (is_start, is_end),
                    out_of_sample: (is_end, is_end + oos_len),
                }
            })
            .collect())
    }

    /// Checks that the folds and the grid's windows fit in `n_bars` bars.
    pub fn validate_against_bars(
        &self,
        n_bars: usize,
        limits: &Limits,
    ) -> Result<(), ValidationError> {
        let spec = self.grid_spec(limits)?;
        let windows = self.windows(n_bars)?;
        let shortest = windows
            .iter()
            .map(|w| w.in_sample.1 - w.in_sample.0)
            .min()
            .unwrap_or(0);
        check_grid_warmup(&spec, shortest, "the first in-sample window")
            .map_err(|e| ValidationError::new("folds", e.to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// Train
// ---------------------------------------------------------------------------------------------

/// Train a logistic-regression model that predicts the next bar's direction from lagged
/// returns, then backtest its signals on the validation period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// Number of lagged close-to-close returns used as features (default 5).
    #[serde(default = "default_lags")]
    pub lags: usize,
    /// Full-batch gradient-descent epochs (default 200).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Learning rate (default 0.1).
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// L2 penalty on the weights (default 0).
    #[serde(default)]
    pub l2: f64,
    /// Share of samples (the most recent ones) kept for validation (default 0.3).
    #[serde(default = "default_val_fraction")]
    pub validation_fraction: f64,
    /// Starting cash for the validation backtest.
    #[serde(default = "default_cash")]
    pub cash: f64,
    /// Commission rate for the validation backtest.
    #[serde(default)]
    pub commission: f64,
    /// Never go short in the validation backtest.
    #[serde(default)]
    pub long_only: bool,
}

fn default_lags() -> usize {
    5
}
fn default_epochs() -> usize {
    200
}
fn default_lr() -> f64 {
    0.1
}
fn default_val_fraction() -> f64 {
    0.3
}

impl TrainRequest {
    /// Checks everything that does not need the data.
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        check_dataset(&self.dataset_id)?;
        check_money(self.cash, self.commission)?;
        if self.lags == 0 || self.lags > limits.max_lags {
            return Err(ValidationError::new(
                "lags",
                format!("must be between 1 and {}", limits.max_lags),
            ));
        }
        if self.epochs == 0 || self.epochs > limits.max_epochs {
            return Err(ValidationError::new(
                "epochs",
                format!("must be between 1 and {}", limits.max_epochs),
            ));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= MAX_LEARNING_RATE)
        {
            return Err(ValidationError::new(
                "learning_rate",
                format!("must be > 0 and ≤ 10, got {}", shown(self.learning_rate)),
            ));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0 && self.l2 <= MAX_L2) {
            return Err(ValidationError::new(
                "l2",
                format!("must be between 0 and 1000, got {}", shown(self.l2)),
            ));
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(ValidationError::new(
                "validation_fraction",
                format!(
                    "must be strictly between 0 and 1, got {}",
                    shown(self.validation_fraction)
                ),
            ));
        }
        Ok(())
    }

    /// Checks that both the training and the validation split get enough samples.
    pub fn validate_against_bars(&self, n_bars: usize) -> Result<(), ValidationError> {
        let samples = n_bars.saturating_sub(self.lags + 1);
        let val = (samples as f64 * self.validation_fraction).round() as usize;
        let train = samples.saturating_sub(val);
        if train < 10 || val < 10 {
            return Err(ValidationError::new(
                "validation_fraction",
                format!(
                    "{n_bars} bars give {train} training and {val} validation samples with {} lags (need ≥ 10 each)",
                    self.lags
                ),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// Serde for plain `f64` result fields. JSON has no NaN or ±∞ (serde_json writes them as
/// `null`), so a non-finite value is written as `null` and a `null` reads back as NaN, which
/// the views show as "—". Finite values round-trip unchanged, so a stored result can always be
/// read back.
pub mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v`, or `null` when it is not finite.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads a number, or NaN for `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// [`finite_or_null`] for every element of a `Vec<f64>`.
pub mod finite_vec_or_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes the values, `null` for the non-finite ones.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.is_finite().then_some(*x))
            .collect::<Vec<Option<f64>>>()
            .serialize(s)
    }

    /// Reads the values, NaN for each `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|x| x.unwrap_or(f64::NAN))
            .collect())
    }
}

/// Backtest statistics, named and computed as backtesting.py 0.6's `compute_stats`.
/// `None` where the statistic is undefined (no trades, zero volatility, …) or not finite.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// First bar's time (unix seconds).
    pub start: i64,
    /// Last bar's time (unix seconds).
    pub end: i64,
    /// `end - start` in seconds.
    pub duration_secs: i64,
    /// Exposure Time [%]: share of bars inside a closed trade.
    #[serde(with = "finite_or_null")]
    pub exposure_time_pct: f64,
    /// Equity Final [$].
    pub equity_final: Option<f64>,
    /// Equity Peak [$].
    pub equity_peak: Option<f64>,
    /// Commissions [$] of closed trades (`None` if not finite: absurd cash or prices).
    pub commissions: Option<f64>,
    /// Return [%].
    pub return_pct: Option<f64>,
    /// Buy & Hold Return [%] from the first bar the strategy can trade.
    pub buy_hold_return_pct: Option<f64>,
    /// Return (Ann.) [%].
    pub return_ann_pct: Option<f64>,
    /// Volatility (Ann.) [%].
    pub volatility_ann_pct: Option<f64>,
    /// CAGR [%].
    pub cagr_pct: Option<f64>,
    /// Sharpe Ratio (risk-free rate 0).
    pub sharpe: Option<f64>,
    /// Sortino Ratio.
    pub sortino: Option<f64>,
    /// Calmar Ratio.
    pub calmar: Option<f64>,
    /// Max. Drawdown [%] (≤ 0).
    pub max_drawdown_pct: Option<f64>,
    /// Avg. Drawdown [%] (≤ 0).
    pub avg_drawdown_pct: Option<f64>,
    /// Max. Drawdown Duration in seconds.
    pub max_drawdown_duration_secs: Option<i64>,
    /// Avg. Drawdown Duration in seconds.
    pub avg_drawdown_duration_secs: Option<i64>,
    /// # Trades (closed).
    pub trades: u32,
    /// Win Rate [%].
    pub win_rate_pct: Option<f64>,
    /// Best Trade [%].
    pub best_trade_pct: Option<f64>,
    /// Worst Trade [%].
    pub worst_trade_pct: Option<f64>,
    /// Avg. Trade [%] (geometric mean).
    pub avg_trade_pct: Option<f64>,
    /// Max. Trade Duration in seconds.
    pub max_trade_duration_secs: Option<i64>,
    /// Avg. Trade Duration in seconds.
    pub avg_trade_duration_secs: Option<i64>,
    /// Profit Factor.
    pub profit_factor: Option<f64>,
    /// Expectancy [%].
    pub expectancy_pct: Option<f64>,
    /// SQN.
    pub sqn: Option<f64>,
    /// Kelly Criterion.
    pub kelly: Option<f64>,
}

/// One trade (closed, or still open at the end of the data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// Bar index of the entry fill.
    pub entry_bar: usize,
    /// Bar index of the exit fill (for an open trade: the last bar).
    pub exit_bar: usize,
    /// Entry time (unix seconds).
    pub entry_time: i64,
    /// Exit time (unix seconds).
    pub exit_time: i64,
    /// Units, negative for a short.
    pub size: i64,
    /// Entry fill price.
    #[serde(with = "finite_or_null")]
    pub entry_price: f64,
    /// Exit fill price (for an open trade: the last close).
    #[serde(with = "finite_or_null")]
    pub exit_price: f64,
    /// Profit in cash after both commissions.
    #[serde(with = "finite_or_null")]
    pub pnl: f64,
    /// Return in percent of the entry value, after commissions.
    #[serde(with = "finite_or_null")]
    pub return_pct: f64,
    /// Commissions paid (entry + exit).
    #[serde(with = "finite_or_null")]
    pub commission: f64,
}

/// One point of an equity curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Bar time (unix seconds).
    pub t: i64,
    /// Account equity (cash + open position marked at the close).
    #[serde(with = "finite_or_null")]
    pub equity: f64,
    /// Drawdown from the running peak, in percent (≥ 0).
    #[serde(with = "finite_or_null")]
    pub drawdown_pct: f64,
}

/// A backtest's full report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    /// Statistics.
    pub stats: Stats,
    /// Equity curve, downsampled for display to at most ~2,000 points (first and last kept).
    pub equity: Vec<EquityPoint>,
    /// Closed trades, in order.
    pub trades: Vec<Trade>,
    /// A trade still open on the last bar. As in backtesting.py (`finalize_trades=False`), it
    /// is marked to market in the equity but not counted in the trade statistics.
    pub open_trade: Option<Trade>,
}

/// One run of an optimization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Parameter values.
    pub params: BTreeMap<String, f64>,
    /// Value of the optimized metric (`None` if undefined).
    pub metric: Option<f64>,
    /// Full statistics (present for the top runs).
    pub stats: Option<Stats>,
}

/// The metric over the grid, for a heatmap: `cells[y][x]`. With more than two varying
/// parameters each cell holds the best value over the others; `None` where no run was admissible
/// or the metric is undefined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Parameter on the x axis.
    pub x_param: String,
    /// Values along x.
    #[serde(with = "finite_vec_or_null")]
    pub x_values: Vec<f64>,
    /// Parameter on the y axis (`None` when only one parameter varies).
    pub y_param: Option<String>,
    /// Values along y (`[0.0]` when only one parameter varies).
    #[serde(with = "finite_vec_or_null")]
    pub y_values: Vec<f64>,
    /// Metric per cell, row-major by y.
    pub cells: Vec<Vec<Option<f64>>>,
}

/// Result of an optimization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizeResult {
    /// Metric that was maximized.
    pub metric: Metric,
    /// Parameters of the best run.
    pub best_params: BTreeMap<String, f64>,
    /// Full statistics of the best run.
    pub best_stats: Stats,
    /// The best runs, best first, with full statistics.
    pub top: Vec<RunSummary>,
    /// The metric over the whole grid.
    pub grid: Heatmap,
    /// Number of runs evaluated.
    pub total_runs: u64,
}

/// One walk-forward fold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold number, from 1.
    pub fold: usize,
    /// In-sample bars `[start, end)`.
    pub in_sample: (usize, usize),
    /// Out-of-sample bars `[start, end)`.
    pub out_of_sample: (usize, usize),
    /// In-sample time range (unix seconds, first and last bar).
    pub in_sample_time: (i64, i64),
    /// Out-of-sample time range (unix seconds, first and last bar).
    pub out_of_sample_time: (i64, i64),
    /// Best parameters in sample.
    pub best_params: BTreeMap<String, f64>,
    /// Metric value of the best in-sample run.
    pub in_sample_metric: Option<f64>,
    /// Statistics of the best parameters in sample.
    pub in_sample_stats: Stats,
    /// Statistics of the best parameters out of sample.
    pub out_of_sample_stats: Stats,
}

/// Result of a walk-forward analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardResult {
    /// Metric maximized in sample.
    pub metric: Metric,
    /// The folds in time order.
    pub folds: Vec<FoldResult>,
    /// Out-of-sample equity curves chained end to end (each fold's curve rescaled to start where
    /// the previous one ended), downsampled to at most ~2,000 points.
    pub oos_equity: Vec<EquityPoint>,
    /// Total compounded out-of-sample return [%] of the stitched curve.
    pub oos_return_pct: Option<f64>,
    /// Walk-forward efficiency: mean annualized out-of-sample return divided by mean annualized
    /// in-sample return (`None` when the in-sample mean is not positive).
    pub efficiency: Option<f64>,
}

/// Loss after one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean binary cross-entropy on the training split.
    #[serde(with = "finite_or_null")]
    pub train_loss: f64,
    /// Mean binary cross-entropy on the validation split.
    #[serde(with = "finite_or_null")]
    pub val_loss: f64,
}

/// Result of a training job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// Loss per epoch.
    pub epochs: Vec<EpochLoss>,
    /// Share of validation samples whose direction was predicted right, in [0, 1].
    #[serde(with = "finite_or_null")]
    pub val_accuracy: f64,
    /// Share of validation samples that went up (the naive baseline), in [0, 1].
    #[serde(with = "finite_or_null")]
    pub val_up_share: f64,
    /// Learned weights (one per lag, most recent lag first) on standardized features; NaN
    /// where training diverged (a huge learning rate or L2 penalty).
    #[serde(with = "finite_vec_or_null")]
    pub weights: Vec<f64>,
    /// Learned bias (NaN where training diverged).
    #[serde(with = "finite_or_null")]
    pub bias: f64,
    /// First bar of the validation period.
    pub validation_start_bar: usize,
    /// Statistics of trading the model's signals over the validation period.
    pub backtest: Stats,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sma_grid(n1: ParamRange, n2: ParamRange) -> OptimizeRequest {
        OptimizeRequest {
            dataset_id: "d".into(),
            strategy: StrategyKind::SmaCross,
            grid: [("n1".to_string(), n1), ("n2".to_string(), n2)]
                .into_iter()
                .collect(),
            constraint: Some(Constraint::LessThan {
                a: "n1".into(),
                b: "n2".into(),
            }),
            metric: Metric::Sharpe,
            top_n: 5,
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
        }
    }

    fn r(start: f64, stop: f64, step: f64) -> ParamRange {
        ParamRange::Range { start, stop, step }
    }

    #[test]
    fn range_includes_stop_on_step() {
        assert_eq!(r(2.0, 10.0, 2.0).values(), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(r(2.0, 9.0, 2.0).values(), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(r(0.1, 0.3, 0.1).len(), 3);
    }

    #[test]
    fn counts_the_benchmark_grid_after_constraint() {
        let spec = sma_grid(r(2.0, 200.0, 1.0), r(2.0, 200.0, 1.0))
            .grid_spec(&Limits::default())
            .unwrap();
        assert_eq!(spec.product, 199 * 199);
        assert_eq!(spec.runs, 19_701);
    }

    #[test]
    fn refuses_zero_step_naming_the_field() {
        let e = sma_grid(r(2.0, 20.0, 0.0), r(5.0, 50.0, 1.0))
            .validate(&Limits::default())
            .unwrap_err();
        assert_eq!(e.field, "grid.n1.step");
        assert!(e.message.contains("> 0"));
    }

    #[test]
    fn refuses_negative_window() {
        let e = sma_grid(r(-5.0, 20.0, 1.0), r(5.0, 50.0, 1.0))
            .validate(&Limits::default())
            .unwrap_err();
        assert_eq!(e.field, "grid.n1.start");
    }

    #[test]
    fn refuses_grid_over_the_limit_saying_how_many() {
        let limits = Limits {
            max_grid: 1000,
            ..Limits::default()
        };
        let e = sma_grid(r(2.0, 200.0, 1.0), r(2.0, 200.0, 1.0))
            .validate(&limits)
            .unwrap_err();
        assert_eq!(e.field, "grid");
        assert!(e.message.contains("19701"), "{}", e.message);
        assert!(e.message.contains("1000"), "{}", e.message);
    }

    #[test]
    fn refuses_empty_grid_and_unknown_param() {
        let mut req = sma_grid(r(2.0, 3.0, 1.0), r(5.0, 6.0, 1.0));
        req.grid.clear();
        assert_eq!(req.validate(&Limits::default()).unwrap_err().field, "grid");
        req.grid.insert("nX".into(), r(1.0, 2.0, 1.0));
        assert_eq!(
            req.validate(&Limits::default()).unwrap_err().field,
            "grid.nX"
        );
    }

    #[test]
    fn refuses_grid_where_no_run_satisfies_n1_lt_n2() {
        let e = sma_grid(r(50.0, 60.0, 1.0), r(10.0, 20.0, 1.0))
            .validate(&Limits::default())
            .unwrap_err();
        assert_eq!(e.field, "grid");
        assert!(e.message.contains("n1 less than n2"), "{}", e.message);
    }

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

    #[test]
    fn unknown_strategy_name_is_rejected() {
        assert_eq!(StrategyKind::from_name("macd"), None);
        for k in StrategyKind::ALL {
            assert_eq!(StrategyKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn folds_that_do_not_fit_are_refused() {
        let req = WalkForwardRequest {
            dataset_id: "d".into(),
            strategy: StrategyKind::SmaCross,
            grid: sma_grid(r(5.0, 10.0, 5.0), r(20.0, 40.0, 10.0)).grid,
            constraint: None,
            metric: Metric::Sharpe,
            folds: 10,
            mode: WalkForwardMode::Rolling,
            in_sample_fraction: 0.75,
            in_sample_bars: Some(500),
            out_of_sample_bars: Some(100),
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
        };
        assert!(req.validate(&Limits::default()).is_ok());
        let e = req
            .validate_against_bars(1000, &Limits::default())
            .unwrap_err();
        assert_eq!(e.field, "folds");
        assert!(e.message.contains("1500"), "{}", e.message);
        assert!(req.validate_against_bars(1500, &Limits::default()).is_ok());
        let w = req.windows(1500).unwrap();
        assert_eq!(w[0].in_sample, (0, 500));
        assert_eq!(w[9].out_of_sample, (1400, 1500));
    }

    #[test]
    fn fraction_split_covers_the_data() {
        let req = WalkForwardRequest {
            dataset_id: "d".into(),
            strategy: StrategyKind::SmaCross,
            grid: sma_grid(r(5.0, 10.0, 5.0), r(20.0, 40.0, 10.0)).grid,
            constraint: None,
            metric: Metric::Sharpe,
            folds: 4,
            mode: WalkForwardMode::Anchored,
            in_sample_fraction: 0.75,
            in_sample_bars: None,
            out_of_sample_bars: None,
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
        };
        // OOS = floor(1000 / (4 + 3)) = 142, IS = 1000 - 4·142 = 432.
        let w = req.windows(1000).unwrap();
        assert_eq!(w[0].in_sample, (0, 432));
        assert_eq!(w[0].out_of_sample, (432, 574));
        assert_eq!(w[3].in_sample, (0, 858));
        assert_eq!(w[3].out_of_sample, (858, 1000));
    }
    fn train_request() -> TrainRequest {
        TrainRequest {
            dataset_id: "d".into(),
            lags: 5,
            epochs: 200,
            learning_rate: 0.1,
            l2: 0.0,
            validation_fraction: 0.3,
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
        }
    }

    #[test]
    fn free_numbers_refuse_nan_infinity_and_absurd_values_naming_field_and_bound() {
        let limits = Limits::default();
        let bad_cash = [0.0, -1.0, 1.000_001e12, 1e300, f64::NAN, f64::INFINITY];
        for cash in bad_cash {
            let mut req = BacktestRequest::new("d", StrategyKind::SmaCross);
            req.cash = cash;
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, "cash", "{cash}");
            assert!(e.message.contains("1e12"), "{}", e.message);
        }
        let mut req = BacktestRequest::new("d", StrategyKind::SmaCross);
        req.cash = 1e300;
        assert_eq!(
            req.validate(&limits).unwrap_err().message,
            "starting cash must be > 0 and at most 1e12, got 1e300"
        );
        let mut ok = BacktestRequest::new("d", StrategyKind::SmaCross);
        ok.cash = MAX_CASH;
        assert!(ok.validate(&limits).is_ok());
        for commission in [-0.001, 0.1, 5.0, f64::NAN, f64::NEG_INFINITY] {
            let mut req = sma_grid(r(2.0, 3.0, 1.0), r(5.0, 6.0, 1.0));
            req.commission = commission;
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, "commission", "{commission}");
            assert!(e.message.contains("0.1"), "{}", e.message);
        }
        type Case = (&'static str, fn(&mut TrainRequest), &'static str);
        let train_cases: [Case; 9] = [
            ("l2", |t| t.l2 = 1e300, "1000"),
            ("l2", |t| t.l2 = -0.5, "1000"),
            ("l2", |t| t.l2 = f64::NAN, "1000"),
            ("learning_rate", |t| t.learning_rate = f64::INFINITY, "10"),
            ("learning_rate", |t| t.learning_rate = 0.0, "10"),
            ("learning_rate", |t| t.learning_rate = 11.0, "10"),
            (
                "validation_fraction",
                |t| t.validation_fraction = f64::NAN,
                "between 0 and 1",
            ),
            (
                "validation_fraction",
                |t| t.validation_fraction = 1.0,
                "between 0 and 1",
            ),
            ("cash", |t| t.cash = f64::MAX, "1e12"),
        ];
        for (field, set, bound) in train_cases {
            let mut req = train_request();
            set(&mut req);
            let e = req.validate(&limits).unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.message.contains(bound), "{field}: {}", e.message);
        }
        let mut req = train_request();
        req.l2 = MAX_L2;
        req.learning_rate = MAX_LEARNING_RATE;
        assert!(req.validate(&limits).is_ok());
    }

    #[test]
    fn walk_forward_total_runs_are_limited_across_folds() {
        let req = WalkForwardRequest {
            dataset_id: "d".into(),
            strategy: StrategyKind::SmaCross,
            // 100 × 100 values, 4,950 admissible runs per fold (n1 < n2).
            grid: sma_grid(r(2.0, 101.0, 1.0), r(2.0, 101.0, 1.0)).grid,
            constraint: None,
            metric: Metric::Sharpe,
            folds: 50,
            mode: WalkForwardMode::Rolling,
            in_sample_fraction: 0.75,
            in_sample_bars: None,
            out_of_sample_bars: None,
            cash: 10_000.0,
            commission: 0.0,
            long_only: false,
        };
        let limits = Limits {
            max_walk_forward_runs: 200_000,
            ..Limits::default()
        };
        let e = req.validate(&limits).unwrap_err();
        assert_eq!(e.field, "folds");
        assert!(e.message.contains("247500"), "{}", e.message);
        assert!(e.message.contains("200000"), "{}", e.message);
        // Within the total, and within the per-fold limit, it is accepted.
        let fewer = WalkForwardRequest { folds: 40, ..req };
        assert!(fewer.validate(&limits).is_ok());
        assert_eq!(Limits::default().max_walk_forward_runs, 1_000_000);
    }

    #[test]
    fn non_finite_results_round_trip_through_json_as_none() {
        let stats = Stats {
            equity_final: Some(f64::INFINITY),
            sharpe: Some(f64::NAN),
            commissions: Some(f64::NEG_INFINITY),
            exposure_time_pct: f64::NAN,
            ..Stats::default()
        };
        let report = BacktestReport {
            stats: stats.clone(),
            equity: vec![EquityPoint {
                t: 0,
                equity: f64::INFINITY,
                drawdown_pct: f64::NAN,
            }],
            trades: vec![Trade {
                entry_bar: 0,
                exit_bar: 1,
                entry_time: 0,
                exit_time: 1,
                size: i64::MAX,
                entry_price: 1.0,
                exit_price: f64::INFINITY,
                pnl: f64::INFINITY,
                return_pct: f64::NAN,
                commission: f64::INFINITY,
            }],
            open_trade: None,
        };
        let text = serde_json::to_string(&report).unwrap();
        assert!(!text.contains("inf") && !text.contains("NaN"), "{text}");
        let back: BacktestReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.stats.equity_final, None);
        assert_eq!(back.stats.sharpe, None);
        assert_eq!(back.stats.commissions, None);
        assert!(back.stats.exposure_time_pct.is_nan());
        assert!(back.equity[0].equity.is_nan());
        assert!(back.trades[0].pnl.is_nan());
        assert_eq!(back.trades[0].entry_price, 1.0);
        // Through serde_json::Value too, as the job store keeps results.
        let train = TrainResult {
            epochs: vec![EpochLoss {
                epoch: 1,
                train_loss: f64::INFINITY,
                val_loss: 0.5,
            }],
            val_accuracy: f64::NAN,
            val_up_share: 0.5,
            weights: vec![f64::NAN, 1.5, f64::NEG_INFINITY],
            bias: f64::INFINITY,
            validation_start_bar: 3,
            backtest: stats,
        };
        let value = serde_json::to_value(&train).unwrap();
        let back: TrainResult = serde_json::from_value(value).unwrap();
        assert!(back.epochs[0].train_loss.is_nan());
        assert_eq!(back.epochs[0].val_loss, 0.5);
        assert!(back.weights[0].is_nan() && back.weights[2].is_nan());
        assert_eq!(back.weights[1], 1.5);
        assert!(back.bias.is_nan());
        assert_eq!(back.backtest.sharpe, None);
    }
}
