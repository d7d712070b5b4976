//! What the engine reports: backtest [`Stats`], trades and equity points, and the result of
//! each job kind (backtest, optimization, walk-forward, training).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::metric::Metric;
use super::robustness::{Robustness, WalkForwardRobustness};
use super::serde_finite::{finite_or_null, finite_vec_or_null};

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
    /// Set when `trades` holds only the first page shown on a page: the number of closed trades
    /// in all (the rest page by page through `/api/job_trades`, or all as CSV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trades_total: Option<u64>,
}

/// Trades a page shows at once.
pub const TRADES_PER_PAGE: usize = 100;

/// One page of a backtest's closed trades (`/api/job_trades`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradePage {
    pub trades: Vec<Trade>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// Closed trades in all.
    pub total: u64,
}

/// A stored backtest result as a page receives it: only the first [`TRADES_PER_PAGE`] trades,
/// and `trades_total` when there were more (a million-bar backtest may have tens of thousands,
/// which would make the page megabytes). Other results are left as they are.
pub fn trim_for_page(result: &mut serde_json::Value) {
    let Some(trades) = result.get_mut("trades").and_then(|t| t.as_array_mut()) else {
        return;
    };
    let total = trades.len();
    if total > TRADES_PER_PAGE {
        trades.truncate(TRADES_PER_PAGE);
        result["trades_total"] = serde_json::Value::from(total as u64);
    }
}

/// Page `page` (1-based, clamped to the last) of a stored backtest result's trades.
pub fn trade_page(result: &serde_json::Value, page: u32) -> Result<TradePage, serde_json::Error> {
    let empty = Vec::new();
    let all = result
        .get("trades")
        .and_then(|t| t.as_array())
        .unwrap_or(&empty);
    let total = all.len();
    let pages = total.div_ceil(TRADES_PER_PAGE).max(1);
    let page = (page.max(1) as usize).min(pages);
    let trades = all
        .iter()
        .skip((page - 1) * TRADES_PER_PAGE)
        .take(TRADES_PER_PAGE)
        .map(|t| serde_json::from_value(t.clone()))
        .collect::<Result<Vec<Trade>, _>>()?;
    Ok(TradePage {
        trades,
        page: page as u32,
        per_page: TRADES_PER_PAGE as u32,
        total: total as u64,
    })
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
    /// Plateau score: the metric averaged over the run's ±1 grid neighbourhood (present for
    /// the top runs and the robust best).
    #[serde(default)]
    pub plateau: Option<f64>,
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

/// What a fanned-out optimization's finished chunks show while the others still run
/// (`/api/job_partial`): the heatmap and best runs so far. Once every chunk is done they are
/// the final heatmap and top runs (without the top runs' full statistics, which the result
/// adds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialOptimize {
    pub metric: Metric,
    pub chunks_done: u32,
    pub chunks: u32,
    /// Runs in the finished chunks, of `total_runs`.
    pub runs_done: u64,
    pub total_runs: u64,
    pub heatmap: Heatmap,
    pub top: Vec<RunSummary>,
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
    /// The best run's equity curve, downsampled to at most ~2,000 points.
    #[serde(default)]
    pub best_equity: Vec<EquityPoint>,
    /// The run with the best plateau score ("robust best"), with full statistics; `None` when
    /// no run has a plateau score.
    #[serde(default)]
    pub robust_best: Option<RunSummary>,
    /// Is the best run skill or luck? `None` when the request turned it off.
    #[serde(default)]
    pub robustness: Option<Robustness>,
    /// The metric of every grid combination, for views other than `grid` (other axes, other
    /// folds). Not part of the stored result JSON: the handler stores it on its own.
    #[serde(skip)]
    pub full_grid: Option<FullGrid>,
}

/// The metric of every combination of a grid, before constraints: `values[raw]` for
/// combination number `raw` (mixed radix over `axes`, the last parameter fastest), NaN where
/// the combination is not admissible or the metric undefined.
#[derive(Clone, Debug, Default)]
pub struct FullGrid {
    /// Parameter names, in declaration order.
    pub params: Vec<String>,
    /// Values per parameter.
    pub axes: Vec<Vec<f64>>,
    /// One value per combination.
    pub values: Vec<f64>,
}

/// Equal when the parameters, the axes and every value's bits agree (so NaN cells compare
/// equal: a resumed search must reproduce the grid exactly).
impl PartialEq for FullGrid {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
            && self.axes == other.axes
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
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
    /// Robustness of this fold's in-sample search.
    #[serde(default)]
    pub robustness: Option<Robustness>,
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
    /// The folds' robustness summed up, and the out-of-sample significance.
    #[serde(default)]
    pub robustness: Option<WalkForwardRobustness>,
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
mod tests;
