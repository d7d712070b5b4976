//! `/compare?ids=a,b[,c,d]`: two to four jobs side by side: their statistics in one table (a
//! column per job) and their equity curves overlaid on one time axis, each rescaled to start at
//! 100. `?ids=a&ids=b` (what the jobs list's form sends without the WASM) works too.
//!
//! Which statistics and curve a job contributes depends on its kind: a backtest its own, an
//! optimization its best run's, a walk-forward the stitched out-of-sample figures, a training
//! run the backtest of its validation period (no curve). [`build_column`] picks them on the
//! server, so only the few numbers shown travel to the browser.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use crate::api::{compare_jobs, ApiError};
use crate::components::results::format::fmt_params;
use crate::components::results::overlay_chart::{OverlayChart, OverlaySeries};
use crate::components::results::scale::thin_points;
use crate::components::results::tables::stats_rows;
use crate::components::StatusBadge;
use crate::model::job::{
    CompareColumn, Comparison, JobContext, Reproducibility, COMPARE_MAX_POINTS,
};
use crate::model::research::{EquityPoint, Stats};
use crate::model::{JobKind, JobState};
use crate::pages::jobs::{params_summary, research_label};

/// Longest text kept from a request's strategy or dataset id.
const MAX_TEXT: usize = 40;

/// The ids in the URL as one comma-separated list: `?ids=a,b` and `?ids=a&ids=b` alike.
fn ids_from_query(values: Vec<String>) -> String {
    values.join(",")
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let ids = Memo::new(move |_| ids_from_query(query.read().get_all("ids").unwrap_or_default()));
    let comparison = Resource::new(move || ids.get(), compare_jobs);
    view! {
        <Title text="Compare · Runboard" />
        <section class="panel" data-testid="compare-page">
            <h1>"Compare jobs"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading the jobs…"</p> }>
                {move || Suspend::new(async move {
                    match comparison.await {
                        Ok(c) => view! { <CompareView comparison=c /> }.into_any(),
                        Err(err) => view! { <CompareError err=err /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Why nothing can be compared, and the way back.
#[component]
fn CompareError(err: ApiError) -> impl IntoView {
    let message = match &err {
        ApiError::InvalidRequest { field, message } if field == "ids" => message.clone(),
        other => other.to_string(),
    };
    view! {
        <p class="alert alert--error" role="alert" data-testid="compare-error">
            "Cannot compare: " {message}
        </p>
        <p>
            <a href="/jobs">"Back to the jobs"</a>
            " — tick 2 to 4 jobs there and press Compare selected."
        </p>
    }
}

/// The heading of a column: the job (linked), its kind and state, what it ran.
fn column_title(c: &CompareColumn) -> String {
    format!("{} {}", &c.id.to_string()[..8], c.kind.label())
}

#[component]
fn CompareView(comparison: Comparison) -> impl IntoView {
    let columns = comparison.columns;
    let series: Vec<OverlaySeries> = columns
        .iter()
        .map(|c| OverlaySeries {
            label: column_title(c),
            points: c.curve.clone(),
        })
        .collect();
    let curves = columns.iter().filter(|c| !c.curve.is_empty()).count();
    // Every column's statistics as text, row by row (the labels are the same for all).
    let labels: Vec<&'static str> = stats_rows(&Stats::default())
        .into_iter()
        .map(|(label, _)| label)
        .collect();
    let values: Vec<Option<Vec<String>>> = columns
        .iter()
        .map(|c| {
            c.stats
                .as_ref()
                .map(|s| stats_rows(s).into_iter().map(|(_, v)| v).collect())
        })
        .collect();
    let headers = columns
        .iter()
        .map(|c| {
            let research = research_label(&c.context);
            let params = params_summary(&c.context);
            let best = (!c.best_params.is_empty())
                .then(|| format!("best: {}", fmt_params(&c.best_params)));
            view! {
                <th scope="col" class="compare__column" data-testid="compare-column" data-id=c.id.to_string()>
                    <a href=format!("/jobs/{}", c.id)><code>{c.id.to_string()[..8].to_string()}</code></a>
                    " " {c.kind.label()} " " <StatusBadge state=c.state />
                    {(!research.is_empty()).then(|| view! { <span class="compare__meta">{research}</span> })}
                    {(!params.is_empty()).then(|| view! { <span class="compare__meta muted">{params}</span> })}
                    {best.map(|b| view! { <span class="compare__meta muted">{b}</span> })}
                    {(!c.source.is_empty()).then(|| view! { <span class="compare__meta muted">{format!("Statistics: {}", c.source)}</span> })}
                    {c.note.clone().map(|n| view! { <span class="compare__meta compare__note">{n}</span> })}
                </th>
            }
        })
        .collect_view();
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let cells = values
                .iter()
                .map(|v| {
                    let text = v
                        .as_ref()
                        .and_then(|v| v.get(i).cloned())
                        .unwrap_or_else(|| "—".into());
                    view! { <td class="num">{text}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{*label}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="stats-table compare-table" data-testid="compare-table">
                <caption class="results__sr-only">"Statistics of the compared jobs, one column per job"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Statistic"</th>
                        {headers}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <section class="results__section">
            <h2>"Equity curves"</h2>
            <p class="muted">
                {format!(
                    "{curves} of {} job(s) have a curve; each is rescaled to start at 100, so different starting cash compares.",
                    columns.len()
                )}
            </p>
            <OverlayChart series=series />
        </section>
    }
}

/// A job's context from its stored request (the jobs list computes the same in SQL).
pub fn context_from_request(request: &Value, dataset_name: Option<&str>) -> JobContext {
    let text = |v: &Value| {
        v.as_str()
            .map(|s| s.chars().take(MAX_TEXT).collect::<String>())
    };
    let kind = request.get("kind").and_then(Value::as_str).unwrap_or("");
    let object = |v: Option<&Value>| -> BTreeMap<String, Value> {
        v.and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let pick = |keys: &[&str]| -> BTreeMap<String, Value> {
        keys.iter()
            .filter_map(|k| request.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect()
    };
    let params = match kind {
        "backtest" => object(request.get("params")),
        "train" => pick(&["lags", "epochs"]),
        "demo" => pick(&["steps"]),
        _ => BTreeMap::new(),
    };
    let grid = match kind {
        "optimize" | "walk_forward" => object(request.get("grid"))
            .into_iter()
            .filter_map(|(k, v)| {
                if let Some(range) = v.get("range").filter(|r| r.is_object()) {
                    return Some((k, range.clone()));
                }
                let list = v.get("list")?.as_array()?;
                let summary = serde_json::json!({
                    "count": list.len(),
                    "first": list.first(),
                    "last": list.last(),
                });
                Some((k, summary))
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    let dataset = dataset_name.map(str::to_string);
    JobContext {
        // A built-in's name, or a rule-language strategy's declared name.
        strategy: request.get("strategy").and_then(text).or_else(|| {
            request
                .get("rules")
                .and_then(|r| r.get("name"))
                .and_then(text)
        }),
        dataset_id: if dataset.is_none() {
            request.get("dataset_id").and_then(text)
        } else {
            None
        },
        dataset,
        params,
        grid,
        best: Vec::new(),
    }
}

/// The curve rescaled so its first positive finite value is 100, thinned to at most
/// [`COMPARE_MAX_POINTS`] points (keeping spikes, and always the first and last point, so the
/// start at 100 and the end show); empty without such a value.
pub fn normalize_curve(points: &[EquityPoint]) -> Vec<(i64, f64)> {
    let Some(base) = points
        .iter()
        .map(|p| p.equity)
        .find(|e| e.is_finite() && *e > 0.0)
    else {
        return Vec::new();
    };
    let scaled = |p: &EquityPoint| (p.t as f64, p.equity / base * 100.0);
    let finite = |(t, v): &(f64, f64)| t.is_finite() && v.is_finite();
    let mut out = thin_points(points.iter().map(scaled), COMPARE_MAX_POINTS - 2);
    if let Some(first) = points.iter().map(scaled).find(finite) {
        if out.first() != Some(&first) {
            out.insert(0, first);
        }
    }
    if let Some(last) = points.iter().rev().map(scaled).find(finite) {
        if out.last() != Some(&last) {
            out.push(last);
        }
    }
    out.into_iter().map(|(t, v)| (t as i64, v)).collect()
}

/// The figures of a stitched out-of-sample curve that can be known from it and the folds: time
/// span, final and peak equity, return, maximum drawdown, trades and win rate. The rest stay
/// undefined.
pub fn walk_forward_stats(equity: &[EquityPoint], result: &Value) -> Stats {
    let finite: Vec<&EquityPoint> = equity.iter().filter(|p| p.equity.is_finite()).collect();
    let (start, end) = match (finite.first(), finite.last()) {
        (Some(a), Some(b)) => (a.t, b.t),
        _ => (0, 0),
    };
    let mut peak = f64::NEG_INFINITY;
    let mut max_dd = 0.0f64;
    for p in &finite {
        peak = peak.max(p.equity);
        if peak > 0.0 {
            max_dd = max_dd.max((1.0 - p.equity / peak) * 100.0);
        }
    }
    let folds: Vec<Stats> = result
        .get("folds")
        .and_then(Value::as_array)
        .map(|folds| {
            folds
                .iter()
                .filter_map(|f| serde_json::from_value(f.get("out_of_sample_stats")?.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let trades: u32 = folds.iter().map(|s| s.trades).fold(0, u32::saturating_add);
    let wins: f64 = folds
        .iter()
        .filter_map(|s| Some(s.win_rate_pct? / 100.0 * f64::from(s.trades)))
        .sum();
    let return_pct = result
        .get("oos_return_pct")
        .and_then(Value::as_f64)
        .or_else(|| match (finite.first(), finite.last()) {
            (Some(a), Some(b)) if a.equity > 0.0 => Some((b.equity / a.equity - 1.0) * 100.0),
            _ => None,
        });
    Stats {
        start,
        end,
        duration_secs: end.saturating_sub(start),
        exposure_time_pct: f64::NAN,
        equity_final: finite.last().map(|p| p.equity),
        equity_peak: peak.is_finite().then_some(peak),
        return_pct,
        max_drawdown_pct: (!finite.is_empty()).then_some(-max_dd),
        trades,
        win_rate_pct: (trades > 0).then(|| wins / f64::from(trades) * 100.0),
        ..Stats::default()
    }
}

/// One column of a comparison: the statistics and curve the job's kind contributes (see the
/// module docs), from its reproducibility record and its result (`None` unless it succeeded).
pub fn build_column(repro: &Reproducibility, result: Option<&Value>) -> CompareColumn {
    let mut column = CompareColumn {
        id: repro.id,
        kind: repro.kind,
        state: repro.state,
        context: context_from_request(&repro.request, repro.dataset_name.as_deref()),
        best_params: BTreeMap::new(),
        source: String::new(),
        stats: None,
        curve: Vec::new(),
        note: None,
    };
    if repro.state != JobState::Succeeded {
        column.note = Some(format!("No results: the job is {}.", repro.state));
        return column;
    }
    let Some(result) = result else {
        column.note = Some("No result is stored.".into());
        return column;
    };
    let stats =
        |key: &str| -> Option<Stats> { serde_json::from_value(result.get(key)?.clone()).ok() };
    let equity = |key: &str| -> Vec<EquityPoint> {
        result
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    };
    match repro.kind {
        JobKind::Backtest => {
            column.source = "the backtest".into();
            column.stats = stats("stats");
            column.curve = normalize_curve(&equity("equity"));
        }
        JobKind::Optimize => {
            column.source = "the best run".into();
            column.stats = stats("best_stats");
            column.best_params = result
                .get("best_params")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            column.curve = normalize_curve(&equity("best_equity"));
            if column.curve.is_empty() {
                column.note =
                    Some("No equity curve: this optimization kept none for its best run.".into());
            }
        }
        JobKind::WalkForward => {
            column.source = "the stitched out-of-sample periods".into();
            let oos = equity("oos_equity");
            column.stats = Some(walk_forward_stats(&oos, result));
            column.curve = normalize_curve(&oos);
        }
        JobKind::Train => {
            column.source = "the validation-period backtest".into();
            column.stats = stats("backtest");
            column.note = Some("No equity curve: training runs keep none.".into());
        }
        JobKind::Demo => {
            column.note = Some("Demo jobs have no statistics.".into());
        }
        JobKind::Import => {
            column.note = Some("An import has no statistics: compare jobs that used it.".into());
        }
        JobKind::Chunk => {
            column.note =
                Some("A chunk is part of an optimization: compare the optimization.".into());
        }
    }
    if column.stats.is_none() && column.note.is_none() {
        column.note = Some("The result has no readable statistics.".into());
    }
    column
}

#[cfg(test)]
mod tests;
