//! Job results as people look at them: tables and SVG charts for backtests, optimizations,
//! walk-forward analyses and training runs, and `<JobResultView/>` to pick the right one.
//!
//! Everything here is presentational (owned props in, view out, no server calls, no JS): a
//! result never changes once its job has ended. Charts are SVG strings built by pure functions
//! (one file per chart, `equity_chart`, `heatmap` and `loss_chart`, re-exported by `charts`; on
//! the shared bits in `svg` and the helpers in `scale`, which also says why no plotting crate is
//! used), so the server and the browser render identical markup. Text formatting lives in
//! `format`.

pub mod charts;
mod equity_chart;
pub mod format;
pub mod grid_explorer;
mod heatmap;
mod line_chart;
mod loss_chart;
pub mod overlay_chart;
pub mod robustness;
pub mod scale;
mod svg;
pub mod tables;
mod trade_pager;
pub mod views;

pub use charts::{EquityChart, HeatmapChart, LossChart, PriceChart};
pub use grid_explorer::GridExplorer;
pub use line_chart::MetricLineChart;
pub use tables::{BestParams, FoldTable, StatsTable, TopRunsTable, TradeTable};
pub use views::{
    BacktestResultView, JobResultView, OptimizeResultView, TrainResultView, WalkForwardResultView,
};
