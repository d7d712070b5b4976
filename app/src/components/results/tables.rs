//! The result tables: `<StatsTable/>`, `<TradeTable/>`, `<TopRunsTable/>`, `<BestParams/>` and
//! `<FoldTable/>`. Plain server-rendered `<table>`s in the design system's `.table-wrap`; the
//! cell text comes from pure functions in [`super::format`].

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;

use super::format::{
    fmt_date, fmt_date_time, fmt_duration_days, fmt_metric, fmt_money, fmt_param, fmt_params,
    fmt_pct, fmt_price, fmt_ratio, fmt_share, fmt_thousands, opt, MISSING,
};
use crate::model::research::{FoldResult, RunSummary, Stats, Trade};

/// Most trade rows rendered; the rest are summarized in a note.
pub const MAX_TRADE_ROWS: usize = 200;

/// Every statistic as `(label, formatted value)`, in backtesting.py's order.
pub fn stats_rows(s: &Stats) -> Vec<(&'static str, String)> {
    let dur = |v: Option<i64>| v.map(fmt_duration_days).unwrap_or_else(|| MISSING.into());
    vec![
        ("Start", fmt_date_time(s.start)),
        ("End", fmt_date_time(s.end)),
        ("Duration", fmt_duration_days(s.duration_secs)),
        ("Exposure time", fmt_pct(s.exposure_time_pct)),
        ("Final equity", opt(s.equity_final, fmt_money)),
        ("Peak equity", opt(s.equity_peak, fmt_money)),
        ("Commissions", opt(s.commissions, fmt_money)),
        ("Return", opt(s.return_pct, fmt_pct)),
        ("Buy & hold return", opt(s.buy_hold_return_pct, fmt_pct)),
        ("Annualized return", opt(s.return_ann_pct, fmt_pct)),
        ("Annualized volatility", opt(s.volatility_ann_pct, fmt_pct)),
        ("CAGR", opt(s.cagr_pct, fmt_pct)),
        ("Sharpe ratio", opt(s.sharpe, fmt_ratio)),
        ("Sortino ratio", opt(s.sortino, fmt_ratio)),
        ("Calmar ratio", opt(s.calmar, fmt_ratio)),
        ("Max. drawdown", opt(s.max_drawdown_pct, fmt_pct)),
        ("Avg. drawdown", opt(s.avg_drawdown_pct, fmt_pct)),
        ("Max. drawdown duration", dur(s.max_drawdown_duration_secs)),
        ("Avg. drawdown duration", dur(s.avg_drawdown_duration_secs)),
        ("Trades", fmt_thousands(f64::from(s.trades), 0)),
        ("Win rate", opt(s.win_rate_pct, fmt_pct)),
        ("Best trade", opt(s.best_trade_pct, fmt_pct)),
        ("Worst trade", opt(s.worst_trade_pct, fmt_pct)),
        ("Avg. trade", opt(s.avg_trade_pct, fmt_pct)),
        ("Max. trade duration", dur(s.max_trade_duration_secs)),
        ("Avg. trade duration", dur(s.avg_trade_duration_secs)),
        ("Profit factor", opt(s.profit_factor, fmt_ratio)),
        ("Expectancy", opt(s.expectancy_pct, fmt_pct)),
        ("SQN", opt(s.sqn, fmt_ratio)),
        ("Kelly criterion", opt(s.kelly, fmt_ratio)),
    ]
}

/// Every backtest statistic with a human label.
#[component]
pub fn StatsTable(stats: Stats) -> impl IntoView {
    let rows = stats_rows(&stats)
        .into_iter()
        .map(|(label, value)| {
            view! {
                <tr>
                    <th scope="row">{label}</th>
                    <td class="num">{value}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stats-table" data-testid="stats-table">
                <caption class="results__sr-only">"Backtest statistics"</caption>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// CSS class for a signed amount: gains green, losses red.
fn sign_class(v: f64) -> &'static str {
    if v > 0.0 {
        "num pos"
    } else if v < 0.0 {
        "num neg"
    } else {
        "num"
    }
}

/// "Showing N of M trades" when rows were left out.
pub fn showing_note(shown: usize, total: usize, what: &str) -> Option<String> {
    (shown < total).then(|| {
        format!(
            "Showing the first {} of {} {what}.",
            fmt_thousands(shown as f64, 0),
            fmt_thousands(total as f64, 0)
        )
    })
}

/// Column headings, `(label, numeric)`: a numeric column is right-aligned.
pub(crate) fn head_cells(headings: &[(&'static str, bool)]) -> impl IntoView {
    headings
        .iter()
        .map(|&(label, numeric)| view! { <th class:num=numeric scope="col">{label}</th> })
        .collect_view()
}

/// Right-aligned column headings.
fn num_heads(labels: &[&'static str]) -> impl IntoView {
    labels
        .iter()
        .map(|&label| view! { <th class="num" scope="col">{label}</th> })
        .collect_view()
}

/// A results table in its scrolling wrapper: `head`'s cells over `rows`; `name` is its class
/// and its test id.
fn results_table(name: &'static str, head: impl IntoView, rows: impl IntoView) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=name data-testid=name>
                <thead>
                    <tr>{head}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

pub(crate) fn trade_row(n: usize, t: Trade, open: bool) -> impl IntoView {
    let side = if t.size < 0 { "Short" } else { "Long" };
    view! {
        <tr class=if open { "trade trade--open" } else { "trade" }>
            <td class="num">{n}</td>
            <td>
                <span class=if t.size < 0 { "side side--short" } else { "side side--long" }>
                    {side}
                </span>
                {open.then(|| view! { " " <span class="muted">"(open)"</span> })}
            </td>
            <td class="num">{fmt_thousands(t.size.unsigned_abs() as f64, 0)}</td>
            <td class="nowrap">{fmt_date_time(t.entry_time)}</td>
            <td class="num">{fmt_price(t.entry_price)}</td>
            <td class="nowrap">{fmt_date_time(t.exit_time)}</td>
            <td class="num">{fmt_price(t.exit_price)}</td>
            <td class=sign_class(t.pnl)>{fmt_money(t.pnl)}</td>
            <td class=sign_class(t.return_pct)>{fmt_pct(t.return_pct)}</td>
        </tr>
    }
}

/// The trade table around `body` (its rows; shared with the paged list).
pub(super) fn trade_table(body: impl IntoView) -> impl IntoView {
    let head = head_cells(&[
        ("#", true),
        ("Side", false),
        ("Size", true),
        ("Entry", false),
        ("Entry price", true),
        ("Exit", false),
        ("Exit price", true),
        ("PnL", true),
        ("Return", true),
    ]);
    results_table("trade-table", head, body)
}

/// The trade list, the first [`MAX_TRADE_ROWS`] rows, plus the trade still open at the end.
/// With `job_id` and a `total` beyond the rows given (a trimmed result), the list pages through
/// the job's trades instead ([`super::trade_pager::TradePager`]).
#[component]
pub fn TradeTable(
    trades: Vec<Trade>,
    /// A trade still open on the last bar (not in the statistics), shown last and marked.
    #[prop(optional_no_strip)]
    open_trade: Option<Trade>,
    /// The job the trades belong to (for paging and the CSV download).
    #[prop(optional_no_strip)]
    job_id: Option<String>,
    /// Closed trades in all, when `trades` is only the first page.
    #[prop(optional_no_strip)]
    total: Option<u64>,
) -> impl IntoView {
    if let (Some(job_id), Some(total)) = (job_id, total.filter(|t| *t > trades.len() as u64)) {
        return view! {
            <super::trade_pager::TradePager job_id first=trades total open_trade />
        }
        .into_any();
    }
    let total = trades.len();
    if total == 0 && open_trade.is_none() {
        return view! { <p class="muted" data-testid="trade-table">"No trades."</p> }.into_any();
    }
    let note = showing_note(total.min(MAX_TRADE_ROWS), total, "trades");
    let rows = trades
        .into_iter()
        .take(MAX_TRADE_ROWS)
        .enumerate()
        .map(|(i, t)| trade_row(i + 1, t, false))
        .collect_view();
    let open_row = open_trade.map(|t| trade_row(total + 1, t, true));
    view! {
        {trade_table(view! { {rows} {open_row} })}
        {note.map(|n| view! { <p class="muted table-note" data-testid="trade-table-note">{n}</p> })}
    }
    .into_any()
}

/// The best parameters as a definition list.
#[component]
pub fn BestParams(params: BTreeMap<String, f64>) -> impl IntoView {
    let items = params
        .into_iter()
        .map(|(k, v)| {
            view! {
                <div class="best-params__item">
                    <dt>{k}</dt>
                    <dd>{fmt_param(v)}</dd>
                </div>
            }
        })
        .collect_view();
    view! { <dl class="best-params" data-testid="best-params">{items}</dl> }
}

/// The best runs of an optimization, best first: rank, each parameter, the optimized metric and
/// the headline statistics (when the run carries them).
#[component]
pub fn TopRunsTable(top: Vec<RunSummary>, #[prop(into)] metric_label: String) -> impl IntoView {
    if top.is_empty() {
        return view! { <p class="muted" data-testid="top-runs">"No admissible runs."</p> }
            .into_any();
    }
    let names: Vec<String> = top
        .iter()
        .flat_map(|r| r.params.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let head = names
        .iter()
        .map(|n| view! { <th class="num" scope="col">{n.clone()}</th> })
        .collect_view();
    let rows = top
        .into_iter()
        .enumerate()
        .map(|(i, run)| {
            let params = names
                .iter()
                .map(|n| {
                    let v = run.params.get(n).map(|v| fmt_param(*v));
                    view! { <td class="num">{v.unwrap_or_else(|| MISSING.into())}</td> }
                })
                .collect_view();
            let s = run.stats.as_ref();
            let stat =
                |f: fn(&Stats) -> Option<f64>, fmt: fn(f64) -> String| opt(s.and_then(f), fmt);
            view! {
                <tr>
                    <td class="num">{i + 1}</td>
                    {params}
                    <td class="num metric">{opt(run.metric, fmt_metric)}</td>
                    <td class="num" data-testid="plateau">{opt(run.plateau, fmt_metric)}</td>
                    <td class="num">{stat(|s| s.return_pct, fmt_pct)}</td>
                    <td class="num">{stat(|s| s.sharpe, fmt_ratio)}</td>
                    <td class="num">{stat(|s| s.max_drawdown_pct, fmt_pct)}</td>
                    <td class="num">{stat(|s| s.win_rate_pct, fmt_pct)}</td>
                    <td class="num">
                        {s.map(|s| s.trades.to_string()).unwrap_or_else(|| MISSING.into())}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let head = view! {
        <th class="num" scope="col">"Rank"</th>
        {head}
        <th class="num" scope="col">{metric_label}</th>
        <th
            class="num"
            scope="col"
            title="The metric averaged over the run's ±1 grid neighbourhood"
        >
            "Plateau"
        </th>
        {num_heads(&["Return", "Sharpe", "Max. DD", "Win rate", "Trades"])}
    };
    results_table("top-runs", head, rows).into_any()
}

/// `2020-01-01` over `– 2020-06-30`, two short lines to keep the fold table narrow.
fn date_range((a, b): (i64, i64)) -> impl IntoView {
    view! { {fmt_date(a)} <br /> {format!("– {}", fmt_date(b))} }
}

/// Walk-forward folds: each fold's in-sample and out-of-sample period, the parameters chosen in
/// sample, and how they did in and out of sample.
#[component]
pub fn FoldTable(
    folds: Vec<FoldResult>,
    /// Name of the metric maximized in sample, for its column header.
    #[prop(optional, into)]
    metric_label: Option<String>,
) -> impl IntoView {
    if folds.is_empty() {
        return view! { <p class="muted" data-testid="fold-table">"No folds."</p> }.into_any();
    }
    let metric_head = metric_label
        .map(|m| format!("IS {m}"))
        .unwrap_or_else(|| "IS metric".into());
    let rows = folds
        .into_iter()
        .map(|f| {
            let (is, oos) = (&f.in_sample_stats, &f.out_of_sample_stats);
            let oos_ret = oos.return_pct;
            let r = f.robustness.as_ref();
            let dsr = opt(
                r.and_then(|r| r.deflated_sharpe.as_ref())
                    .map(|d| d.probability),
                fmt_share,
            );
            let pbo = opt(r.and_then(|r| r.pbo.as_ref()).map(|p| p.pbo), fmt_share);
            view! {
                <tr>
                    <td class="num">{f.fold}</td>
                    <td class="nowrap">{date_range(f.in_sample_time)}</td>
                    <td class="nowrap">{date_range(f.out_of_sample_time)}</td>
                    <td class="nowrap">{fmt_params(&f.best_params)}</td>
                    <td class="num">{opt(f.in_sample_metric, fmt_metric)}</td>
                    <td class="num">{opt(is.return_pct, fmt_pct)}</td>
                    <td class=oos_ret.map_or("num", sign_class)>{opt(oos_ret, fmt_pct)}</td>
                    <td class="num">{opt(is.sharpe, fmt_ratio)}</td>
                    <td class="num">{opt(oos.sharpe, fmt_ratio)}</td>
                    <td class="num">{is.trades}</td>
                    <td class="num">{oos.trades}</td>
                    <td class="num" data-testid="fold-dsr">{dsr}</td>
                    <td class="num" data-testid="fold-pbo">{pbo}</td>
                </tr>
            }
        })
        .collect_view();
    let head = view! {
        {head_cells(&[("Fold", true), ("In sample", false), ("Out of sample", false), ("Best params (IS)", false)])}
        <th class="num" scope="col">{metric_head}</th>
        {num_heads(&["IS return", "OOS return", "IS Sharpe", "OOS Sharpe", "IS trades", "OOS trades"])}
        <th class="num" scope="col" title="Deflated Sharpe Ratio of the fold's in-sample best">"IS DSR"</th>
        <th class="num" scope="col" title="Probability of backtest overfitting of the fold's in-sample search">"IS PBO"</th>
    };
    results_table("fold-table", head, rows).into_any()
}

#[cfg(test)]
mod tests;
