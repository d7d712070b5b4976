//! Job results as people look at them: tables and SVG charts for backtests, optimizations,
//! walk-forward analyses and training runs, and `<JobResultView/>` to pick the right one.
//!
//! Everything here is presentational (owned props in, view out, no server calls, no JS): a
//! result never changes once its job has ended. Charts are SVG strings built by pure functions
//! (`charts`, on the helpers in `scale`, which also says why no plotting crate is used), so the
//! server and the browser render identical markup. Text formatting lives in `format`.

pub mod charts;
pub mod format;
pub mod scale;
pub mod tables;
pub mod views;

pub use charts::{EquityChart, HeatmapChart, LossChart};
pub use tables::{BestParams, FoldTable, StatsTable, TopRunsTable, TradeTable};
pub use views::{
    BacktestResultView, JobResultView, OptimizeResultView, TrainResultView, WalkForwardResultView,
};
