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
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn pt(t: i64, equity: f64) -> EquityPoint {
        EquityPoint {
            t,
            equity,
            drawdown_pct: 0.0,
        }
    }

    fn repro(kind: JobKind, state: JobState, request: Value) -> Reproducibility {
        Reproducibility {
            id: Uuid::from_u128(7),
            kind,
            state,
            request,
            program_version: None,
            dataset_hash: None,
            dataset_name: Some("SPY".into()),
        }
    }

    #[test]
    fn curves_start_at_100_whatever_the_cash() {
        let curve = normalize_curve(&[pt(1, f64::NAN), pt(2, 0.0), pt(3, 5_000.0), pt(4, 7_500.0)]);
        assert_eq!(curve, vec![(2, 0.0), (3, 100.0), (4, 150.0)]);
        assert!(normalize_curve(&[pt(1, -5.0), pt(2, 0.0)]).is_empty());
        // Thinned, but the start (100) and the end are kept even when neither is an extreme.
        let long: Vec<EquityPoint> = (0..100_000)
            .map(|i| pt(i, 10.0 + (i as f64 / 50.0).sin()))
            .collect();
        let thin = normalize_curve(&long);
        assert!(thin.len() <= COMPARE_MAX_POINTS, "{}", thin.len());
        assert_eq!(thin[0], (0, 100.0));
        let end = long.last().unwrap();
        assert_eq!(*thin.last().unwrap(), (end.t, end.equity / 10.0 * 100.0));
    }

    #[test]
    fn each_kind_contributes_its_own_statistics_and_curve() {
        let stats = serde_json::to_value(Stats {
            sharpe: Some(1.5),
            ..Stats::default()
        })
        .unwrap();
        let curve = json!([{"t": 1, "equity": 200.0, "drawdown_pct": 0.0},
                           {"t": 2, "equity": 220.0, "drawdown_pct": 0.0}]);
        let backtest = build_column(
            &repro(
                JobKind::Backtest,
                JobState::Succeeded,
                json!({"kind": "backtest", "strategy": "sma_cross", "params": {"n1": 10, "n2": 30}}),
            ),
            Some(&json!({"stats": stats, "equity": curve})),
        );
        assert_eq!(backtest.stats.as_ref().unwrap().sharpe, Some(1.5));
        assert_eq!(backtest.curve.len(), 2);
        assert_eq!(backtest.curve[0], (1, 100.0));
        assert_eq!(backtest.curve[1].0, 2);
        assert!((backtest.curve[1].1 - 110.0).abs() < 1e-9);
        assert_eq!(params_summary(&backtest.context), "n1 = 10, n2 = 30");
        assert_eq!(backtest.context.dataset.as_deref(), Some("SPY"));
        assert_eq!(backtest.note, None);

        let optimize = build_column(
            &repro(
                JobKind::Optimize,
                JobState::Succeeded,
                json!({"kind": "optimize",
                "grid": {"n1": {"range": {"start": 5, "stop": 30, "step": 5}}, "n2": {"list": [40, 60]}}}),
            ),
            Some(&json!({"best_stats": stats, "best_params": {"n1": 10.0}})),
        );
        assert_eq!(optimize.best_params.get("n1"), Some(&10.0));
        assert!(optimize.curve.is_empty());
        assert!(optimize
            .note
            .as_deref()
            .unwrap()
            .contains("No equity curve"));
        assert_eq!(
            params_summary(&optimize.context),
            "n1 5..30/5, n2 40…60 (2 values)"
        );
        let with_curve = build_column(
            &repro(
                JobKind::Optimize,
                JobState::Succeeded,
                json!({"kind": "optimize"}),
            ),
            Some(&json!({"best_stats": stats, "best_equity": curve})),
        );
        assert_eq!(with_curve.curve.len(), 2);
        assert_eq!(with_curve.note, None);

        let wf = build_column(
            &repro(
                JobKind::WalkForward,
                JobState::Succeeded,
                json!({"kind": "walk_forward"}),
            ),
            Some(&json!({
                "oos_equity": [{"t": 10, "equity": 100.0, "drawdown_pct": 0.0},
                               {"t": 20, "equity": 120.0, "drawdown_pct": 0.0},
                               {"t": 30, "equity": 90.0, "drawdown_pct": 25.0}],
                "oos_return_pct": -10.0,
                "folds": [{"out_of_sample_stats": serde_json::to_value(Stats { trades: 3, win_rate_pct: Some(100.0), ..Stats::default() }).unwrap()},
                          {"out_of_sample_stats": serde_json::to_value(Stats { trades: 1, win_rate_pct: Some(0.0), ..Stats::default() }).unwrap()}]
            })),
        );
        let s = wf.stats.unwrap();
        assert_eq!((s.start, s.end, s.duration_secs), (10, 30, 20));
        assert_eq!(s.return_pct, Some(-10.0));
        assert_eq!(s.equity_peak, Some(120.0));
        assert_eq!(s.max_drawdown_pct, Some(-25.0));
        assert_eq!((s.trades, s.win_rate_pct), (4, Some(75.0)));
        assert_eq!(wf.curve.len(), 3);

        let train = build_column(
            &repro(
                JobKind::Train,
                JobState::Succeeded,
                json!({"kind": "train", "lags": 5, "epochs": 20}),
            ),
            Some(&json!({"backtest": stats})),
        );
        assert!(train.stats.is_some() && train.curve.is_empty());
        assert_eq!(params_summary(&train.context), "epochs = 20, lags = 5");

        let running = build_column(
            &repro(
                JobKind::Backtest,
                JobState::Running,
                json!({"kind": "backtest"}),
            ),
            None,
        );
        assert_eq!(
            running.note.as_deref(),
            Some("No results: the job is RUNNING.")
        );
        let garbage = build_column(
            &repro(
                JobKind::Backtest,
                JobState::Succeeded,
                json!({"kind": "backtest"}),
            ),
            Some(&json!({"stats": "nope", "equity": 5})),
        );
        assert!(garbage.stats.is_none() && garbage.curve.is_empty());
        assert!(garbage.note.is_some());
    }

    #[test]
    fn the_url_may_repeat_ids_or_list_them() {
        assert_eq!(ids_from_query(vec!["a,b".into()]), "a,b");
        assert_eq!(ids_from_query(vec!["a".into(), "b".into()]), "a,b");
        assert_eq!(ids_from_query(vec![]), "");
    }
}
