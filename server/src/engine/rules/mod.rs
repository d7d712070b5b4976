//! The rule language (issue 13): users' own strategies as small checked programs, compiled to
//! column operations and simulated by the engine's own fill loop.
//!
//! The language reference, with complete examples, is `docs/rules.md`. In short:
//!
//! ```text
//! strategy "SMA cross"
//! param n1: int 2..1000 = 10          # name: int|float min..max = default
//! param n2: int 2..1000 = 20
//! constraint n1 < n2                  # runs breaking it are skipped / refused
//! long entry:  crosses_above(sma(close, n1), sma(close, n2))
//! long exit:   crosses_below(sma(close, n1), sma(close, n2))
//! short entry: crosses_below(sma(close, n1), sma(close, n2))   # optional, with short exit
//! short exit:  crosses_above(sma(close, n1), sma(close, n2))
//! stop_loss_pct: 2                    # optional; also take_profit_pct, trailing_stop_pct
//! reenter: true                       # optional, see below
//! ```
//!
//! # Public API
//!
//! * [`check`]`(source) -> Result<`[`Program`]`, Vec<`[`RuleError`]`>>`: lexes, parses and
//!   checks everything before anything runs (names, arity, types, windows, parameter ranges,
//!   required sections, stops, caps). Errors are sorted by position, each with a 1-based
//!   `line` and `column` (in characters) and a message saying what was expected; their
//!   `Display` is `line 3, column 17: expected …, found ')'`.
//! * [`Program`]: `name`, `params` ([`ParamDecl`]: name, kind, min, max, default, in
//!   declaration order: parameter values are always passed in this order), `constraints`
//!   ([`ConstraintDecl`]), `has_short`, `reenter`; [`Program::defaults`],
//!   [`Program::lookback`]`(values)` (warm-up bars, as `strategy_lookback` is for the
//!   built-ins), [`Program::resolve_params`] (a `params` map → values, checked),
//!   [`Program::validate_against_bars`], [`Program::grid`] (a `grid` map → [`RuleGrid`]).
//! * [`run_rule_backtest`] and [`run_rule_optimize`]: the backtest and optimization jobs for a
//!   program; a walk-forward of one runs as the built-ins' does, given the program
//!   (`walkforward_planned`; [`check_rule_walkforward`]: its checks, shared with submit), with
//!   the same progress, checkpoints
//!   ([`OptimizeCheckpoint`](super::optimize::OptimizeCheckpoint)), ranking, heatmap, full grid,
//!   plateau and robustness results as [`run_backtest`](super::run_backtest) /
//!   [`run_optimize`](super::run_optimize). The optimization goes through the same
//!   [`Sweep`](super::optimize::Sweep) as the built-ins
//!   ([`Sweep::for_rules`](super::optimize::Sweep::for_rules)), so walk-forward and robustness
//!   code can use rule programs too.
//!
//! # Semantics
//!
//! Every expression is a column over the bars (or a single number when it uses only parameters
//! and numbers). On bar `i`'s close the four rules are read; an action is filled at bar
//! `i + 1`'s open by the engine's simulator, exactly as for the built-in strategies:
//!
//! * The strategy first acts on bar `lookback + 1` (backtesting.py's "indicators warm, and two
//!   bars available", as the built-ins do), where `lookback` is computed from the expressions:
//!   `sma/ema/wma/stdev/zscore/highest/lowest(x, n)` add `n - 1` bars to `x`'s, `rsi` and `roc`
//!   add `n`, `atr(n)` is `n`, `x[k]` adds `k`; everything else takes the largest of its inputs.
//! * The rules keep a *state*, the position they asked for: flat at the start of the window.
//!   On each bar, in this order: if `long entry` is true the rules want **long**; else if
//!   `short entry` is true they want **short** (**flat** in long-only mode, as the built-ins map
//!   their "down" signal); else if they are long and `long exit` is true, or short and
//!   `short exit` is true, they want **flat**; else nothing. The wanted position is sent as an
//!   action (`Long`, `Short`, `Flat`) when it differs from the state, which then becomes it.
//! * `reenter: true` also sends an entry that equals the state: the open trade is closed and a
//!   new one opened at the next open, as backtesting.py's `position.close(); self.buy()` does on
//!   every signal (the built-in SMA cross behaves so). Default `false`.
//! * A condition that reads an undefined value (NaN: before warm-up, `0 / 0`) is false;
//!   `not` of it is true.
//! * Stops (`stop_loss_pct`, `take_profit_pct`, `trailing_stop_pct`: percentages, expressions
//!   of parameters, checked to lie in (0, 100) — take-profit only above 0 — for every value in
//!   the parameters' ranges) are applied by the simulator to every trade; see
//!   [`backtest`](super::backtest) for the exact rule. A stop closes the trade but does not change
//!   the rules' state: after a stop-out the rules enter again on their next entry signal that
//!   differs from the state (or on any entry signal with `reenter: true`).
//!
//! # Evaluation and cost
//!
//! The checked program is a DAG of column operations (see `plan`). Windowed functions with
//! concrete arguments (`sma(close, 37)`) are computed once per dataset and job into a
//! [`ColumnCache`] shared by every run; a run then evaluates only its elementwise operations and
//! crossings over the bars it acts on, derives the actions and runs the engine's simulation.
//! There are no loops or recursion in the language; a program has at most [`MAX_NODES`]
//! expression nodes, nesting at most [`MAX_DEPTH`] deep, [`MAX_PARAMS`] parameters and
//! [`MAX_SOURCE_BYTES`] bytes, so a run costs O(bars × nodes).

mod check;
pub mod examples;
mod grid;
mod plan;
mod run;
mod syntax;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use app::model::research::{Constraint, ParamBounds, ParamOwner};
use app::model::FieldError;

pub(crate) use grid::for_each_combination;
pub use grid::RuleGrid;
pub use plan::{ColumnCache, RunBuffers};
pub use run::{
    check_rule_walkforward, rule_backtest_equity, run_rule_backtest, run_rule_optimize,
    RuleBacktestRequest,
};

/// Largest source, in bytes (64 KiB).
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;
/// Most parameters a program may declare.
pub const MAX_PARAMS: usize = 64;
/// Most expression nodes in a whole program.
pub const MAX_NODES: usize = 2000;
/// Deepest nesting of parentheses, calls and `[k]`.
pub const MAX_DEPTH: usize = 64;
/// Largest window, shift or int parameter magnitude.
pub const MAX_WINDOW: u32 = 1_000_000_000;

/// An error in a program, at a 1-based line and column (characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for RuleError {}

/// Whether a parameter takes whole numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Whole numbers (windows, shifts).
    Int,
    /// Any number.
    Float,
}

/// A declared parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// Name used in the program, in `params` maps and grids.
    pub name: String,
    /// Int or float.
    pub kind: ParamKind,
    /// Smallest allowed value (inclusive).
    pub min: f64,
    /// Largest allowed value (inclusive).
    pub max: f64,
    /// Value used when a request leaves the parameter out.
    pub default: f64,
}

impl ParamDecl {
    /// What the parameter accepts.
    pub fn bounds(&self) -> ParamBounds<'_> {
        ParamBounds {
            name: &self.name,
            integer: self.kind == ParamKind::Int,
            min: self.min,
            max: self.max,
        }
    }
}

/// A declared constraint, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintDecl {
    /// The condition's source text (`n1 < n2`).
    pub text: String,
    /// Its line.
    pub line: usize,
}

/// A checked program, ready to run.
#[derive(Clone, Debug)]
pub struct Program {
    /// The strategy's name.
    pub name: String,
    /// Parameters in declaration order.
    pub params: Vec<ParamDecl>,
    /// Constraints every run's parameter values must satisfy.
    pub constraints: Vec<ConstraintDecl>,
    /// Whether the program has short rules.
    pub has_short: bool,
    /// `reenter: true` (see the module docs).
    pub reenter: bool,
    /// Which of stop_loss_pct, take_profit_pct, trailing_stop_pct are given.
    pub stops: [bool; 3],
    pub(crate) plan: plan::Plan,
}

/// Byte offset → (line, column), both from 1, columns in characters.
fn position(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let at = (0..=at)
        .rev()
        .find(|&k| src.is_char_boundary(k))
        .unwrap_or(0);
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, src[line_start..at].chars().count() + 1)
}

/// Lexes, parses and checks a program. On failure, every error found (one per bad line, and
/// every checking error), sorted by position.
pub fn check(source: &str) -> Result<Program, Vec<RuleError>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![RuleError {
            line: 1,
            column: 1,
            message: format!(
                "the program has {} bytes; the limit is {MAX_SOURCE_BYTES} (64 KiB)",
                source.len()
            ),
        }]);
    }
    let (tokens, lex_errs) = syntax::lex(source);
    let parsed = syntax::parse(source, &tokens);
    let mut errs: Vec<(usize, String)> = lex_errs.into_iter().chain(parsed.errors).collect();
    let checked = check::check_lines(source, &parsed.lines, &parsed.broken_params, &mut errs);
    // Errors that only follow from an error already reported carry no message.
    errs.retain(|e| !e.1.is_empty());
    match checked {
        Some(program) if errs.is_empty() => Ok(program),
        _ => {
            errs.sort_by_key(|e| e.0);
            errs.dedup();
            Err(errs
                .into_iter()
                .map(|(at, message)| {
                    let (line, column) = position(source, at);
                    RuleError {
                        line,
                        column,
                        message,
                    }
                })
                .collect())
        }
    }
}

impl Program {
    /// The parameters' defaults, in declaration order.
    pub fn defaults(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.default).collect()
    }

    /// Index of a parameter by name.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Bars of warm-up for parameter values `values` (declaration order): the strategy first
    /// acts on bar `lookback + 1`.
    pub fn lookback(&self, values: &[f64]) -> usize {
        self.plan.lookback(values, &mut Vec::new())
    }

    /// Whether `values` satisfy every declared constraint.
    pub fn admits(&self, values: &[f64]) -> bool {
        self.plan
            .constraints
            .iter()
            .all(|&c| self.plan.scalar(c, values) != 0.0)
    }

    fn user_holds(&self, c: &Constraint, values: &[f64]) -> bool {
        let (Some(a), Some(b)) = (self.param_index(c.a()), self.param_index(c.b())) else {
            return true;
        };
        match c {
            Constraint::LessThan { .. } => values[a] < values[b],
            Constraint::LessOrEqual { .. } => values[a] <= values[b],
        }
    }

    /// The program as the parameter checks name it.
    fn owner(&self) -> ParamOwner<'_> {
        ParamOwner {
            label: &self.name,
            names: self.params.iter().map(|p| p.name.as_str()).collect(),
        }
    }

    /// Resolves a `params` map into values in declaration order (missing → default), checking
    /// names, ranges, whole numbers and the constraints. `field` prefixes errors.
    pub fn resolve_params(
        &self,
        params: &BTreeMap<String, f64>,
        field: &str,
    ) -> Result<Vec<f64>, FieldError> {
        self.owner().check_names(params.keys(), field)?;
        let mut values = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let v = params.get(&p.name).copied().unwrap_or(p.default);
            p.bounds().check(v, &format!("{field}.{}", p.name))?;
            values.push(v);
        }
        if let Some(c) = self
            .plan
            .constraints
            .iter()
            .position(|&c| self.plan.scalar(c, &values) == 0.0)
        {
            return Err(FieldError::new(
                field,
                format!(
                    "the values break the constraint {}",
                    self.constraints[c].text
                ),
            ));
        }
        Ok(values)
    }

    /// Checks that `values` leave room in `n_bars` bars for the warm-up, one bar to signal on
    /// and one to fill on (as the built-ins' check).
    pub fn validate_against_bars(
        &self,
        values: &[f64],
        n_bars: usize,
        field: &str,
    ) -> Result<(), FieldError> {
        let look = self.lookback(values);
        if look.saturating_add(2) > n_bars {
            return Err(FieldError::new(
                field,
                format!(
                    "the strategy needs at least {} bars of data but the dataset has {n_bars}",
                    look.saturating_add(2)
                ),
            ));
        }
        Ok(())
    }
}
