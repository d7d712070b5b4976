//! Research-engine types shared by the server and the browser: strategy catalog, job requests
//! (backtest, optimize, walk-forward, train), their validation, and the result types.
//!
//! Only `serde` and `std` are used so the module compiles to WASM; `validate` is pure and cheap
//! so the browser can call it on every keystroke. The engine (`server::engine`) runs the
//! requests; it re-validates them, so the browser's checks are a convenience, not the guard.
//! A request field that fails validation is reported as a [`FieldError`](crate::model::FieldError).
//!
//! One concern per file, all re-exported here: `strategy` (the catalog and its parameters),
//! `account` (the simulated account: cash, commission, long-only), `limits` (configurable limits and the shared field checks), `bounds` (what a parameter accepts, for built-ins and programs alike), `constraint` and `grid`
//! (parameter ranges, constraints, grid expansion), `metric` (what an optimization maximizes),
//! `search` (what an optimization and a walk-forward explore and rank), the four requests (`backtest`, `optimize`, `walk_forward`, `train`), `results` (what the
//! engine reports), `robustness` (is the optimum real: settings, figures, readings) and `serde_finite` (JSON for non-finite numbers).

mod account;
mod backtest;
mod bounds;
mod constraint;
mod grid;
pub mod grid_fold;
mod limits;
mod metric;
mod optimize;
mod results;
mod robustness;
mod rules;
mod search;
mod serde_finite;
mod strategy;
#[cfg(test)]
mod test_support;
mod train;
mod walk_forward;

pub use account::Account;
pub use backtest::BacktestRequest;
pub use bounds::{check_grid_runs, grid_axes, ParamBounds, ParamOwner, MAX_ENUMERATED};
pub use constraint::Constraint;
pub use grid::{GridSpec, ParamRange};
pub use limits::{Limits, MAX_CASH, MAX_COMMISSION, MAX_L2, MAX_LEARNING_RATE};
pub use metric::Metric;
pub use optimize::OptimizeRequest;
pub use results::{
    trade_page, trim_for_page, BacktestReport, EpochLoss, EquityPoint, FoldResult, FullGrid,
    Heatmap, OptimizeResult, PartialOptimize, RunSummary, Stats, Trade, TradePage, TrainResult,
    WalkForwardResult, TRADES_PER_PAGE,
};
pub use robustness::{
    BootstrapFigure, DeflatedSharpeFigure, PboFigure, Robustness, RobustnessConfig,
    WalkForwardRobustness, DEFAULT_BLOCKS, DEFAULT_DRAWS, DOCS_URL as ROBUSTNESS_DOCS_URL,
    MAX_BLOCKS, MAX_DRAWS,
};
pub use rules::{RuleRef, MAX_RULE_SOURCE_BYTES, RULE_FUNCTIONS};
pub use search::Search;
pub use serde_finite::{finite_or_null, finite_vec_or_null};
pub use strategy::{strategy_lookback, ParamSpec, StrategyKind};
pub use train::TrainRequest;
pub use walk_forward::{shortest_in_sample, FoldWindows, WalkForwardMode, WalkForwardRequest};
