//! One view per job kind's result, and `<JobResultView/>`, which decodes a job's stored JSON
//! result into the right type and picks the view.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use super::charts::{EquityChart, LossChart};
use super::format::{fmt_metric, fmt_pct, fmt_ratio, fmt_share, fmt_thousands, opt, MISSING};
use super::robustness::{RobustnessPanel, WalkForwardRobustnessPanel};
use super::tables::{BestParams, FoldTable, StatsTable, TopRunsTable, TradeTable};
use crate::model::research::{BacktestReport, OptimizeResult, TrainResult, WalkForwardResult};
use crate::model::{ImportResult, JobKind};

/// One headline number: a label over a value.
fn summary_item(
    label: impl Into<String>,
    value: String,
    testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="result-summary__item">
            <dt>{label.into()}</dt>
            <dd data-testid=testid>{value}</dd>
        </div>
    }
}

/// One titled section of a result.
#[component]
fn Section(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="results__section">
            <h3>{title}</h3>
            {children()}
        </section>
    }
}

/// A backtest: statistics, the equity curve with drawdown, and the trades.
#[component]
pub fn BacktestResultView(
    report: BacktestReport,
    /// The job it belongs to: pages through its trades when the result was trimmed.
    #[prop(optional_no_strip)]
    job_id: Option<String>,
) -> impl IntoView {
    let BacktestReport {
        stats,
        equity,
        trades,
        open_trade,
        trades_total,
    } = report;
    let summary = view! {
        <dl class="result-summary">
            {summary_item("Return", opt(stats.return_pct, fmt_pct), None)}
            {summary_item("Buy & hold", opt(stats.buy_hold_return_pct, fmt_pct), None)}
            {summary_item("Sharpe ratio", opt(stats.sharpe, fmt_ratio), None)}
            {summary_item("Max. drawdown", opt(stats.max_drawdown_pct, fmt_pct), None)}
            {summary_item("Trades", stats.trades.to_string(), None)}
        </dl>
    };
    view! {
        <div class="results results--backtest" data-testid="backtest-result">
            {summary}
            <Section title="Equity and drawdown">
                <EquityChart points=equity />
            </Section>
            <Section title="Statistics">
                <StatsTable stats=stats />
            </Section>
            <Section title="Trades">
                <TradeTable trades=trades open_trade=open_trade job_id=job_id total=trades_total />
            </Section>
        </div>
    }
    .into_any()
}

/// An optimization: the best parameters and metric, the heatmap of the metric over the grid,
/// the top runs, and the best run's full statistics.
#[component]
pub fn OptimizeResultView(result: OptimizeResult) -> impl IntoView {
    let OptimizeResult {
        metric,
        best_params,
        best_stats,
        top,
        grid,
        total_runs,
        robust_best,
        robustness,
        ..
    } = result;
    let label = metric.label().to_string();
    let best_value = opt(metric.of(&best_stats), fmt_metric);
    view! {
        <div class="results results--optimize" data-testid="optimize-result">
            <dl class="result-summary">
                {summary_item(format!("Best {label}"), best_value, Some("best-metric"))}
                {summary_item("Runs", fmt_thousands(total_runs as f64, 0), Some("total-runs"))}
                {summary_item("Return", opt(best_stats.return_pct, fmt_pct), None)}
                {summary_item("Max. drawdown", opt(best_stats.max_drawdown_pct, fmt_pct), None)}
            </dl>
            <section class="results__section">
                <h3>"Best parameters"</h3>
                <BestParams params=best_params />
                {robust_best.map(|r| {
                    let value = opt(r.metric, fmt_metric);
                    let plateau = opt(r.plateau, fmt_metric);
                    view! {
                        <div class="robust-best" data-testid="robust-best">
                            <h4>"Robust best"</h4>
                            <p class="muted">
                                {format!(
                                    "Best average {label} over its ±1 grid neighbourhood: plateau {plateau}, own value {value}.",
                                )}
                            </p>
                            <BestParams params=r.params />
                        </div>
                    }
                })}
            </section>
            {robustness.map(|r| view! {
                <Section title="Is the optimum real?">
                    <RobustnessPanel robustness=r />
                </Section>
            })}
            <section class="results__section">
                <h3>"Heatmap"</h3>
                <super::GridExplorer heatmap=grid metric_label=label.clone() />
            </section>
            <Section title="Top runs">
                <TopRunsTable top=top metric_label=label />
            </Section>
            <details class="results__section">
                <summary>"Statistics of the best run"</summary>
                <StatsTable stats=best_stats />
            </details>
        </div>
    }
    .into_any()
}

/// What a walk-forward efficiency means, in words.
pub fn efficiency_note(efficiency: Option<f64>) -> &'static str {
    match efficiency {
        None => "undefined: the in-sample return was not positive",
        Some(e) if e >= 0.5 => "out of sample kept at least half of the in-sample return",
        Some(e) if e > 0.0 => "out of sample kept less than half of the in-sample return",
        Some(_) => "out of sample lost money while in sample made some",
    }
}

/// A walk-forward analysis: out-of-sample return, walk-forward efficiency, the stitched
/// out-of-sample equity curve and the fold table.
#[component]
pub fn WalkForwardResultView(result: WalkForwardResult) -> impl IntoView {
    let WalkForwardResult {
        metric,
        folds,
        oos_equity,
        oos_return_pct,
        efficiency,
        robustness,
    } = result;
    let n_folds = folds.len();
    let eff = efficiency
        .filter(|e| e.is_finite())
        .map(|e| fmt_thousands(e, 2))
        .unwrap_or_else(|| MISSING.into());
    view! {
        <div class="results results--walk-forward" data-testid="walk-forward-result">
            <dl class="result-summary">
                {summary_item(
                    "Out-of-sample return",
                    opt(oos_return_pct, fmt_pct),
                    Some("oos-return"),
                )}
                <div class="result-summary__item">
                    <dt>"Walk-forward efficiency"</dt>
                    <dd data-testid="wf-efficiency">{eff}</dd>
                    <dd class="result-summary__note">{efficiency_note(efficiency)}</dd>
                </div>
                {summary_item("Folds", n_folds.to_string(), None)}
                {summary_item("Optimized", metric.label().to_string(), None)}
            </dl>
            <Section title="Stitched out-of-sample equity">
                <EquityChart points=oos_equity />
            </Section>
            {robustness.map(|r| view! {
                <Section title="Is it real?">
                    <WalkForwardRobustnessPanel robustness=r />
                </Section>
            })}
            <Section title="Folds">
                <FoldTable folds=folds metric_label=metric.label() />
            </Section>
        </div>
    }
    .into_any()
}

/// How validation accuracy compares with always predicting the more common direction.
pub fn accuracy_verdict(accuracy: f64, up_share: f64) -> String {
    let baseline = up_share.max(1.0 - up_share);
    let diff = (accuracy - baseline) * 100.0;
    if !diff.is_finite() {
        return "cannot be compared with the naive baseline".into();
    }
    let pts = fmt_thousands(diff.abs(), 1);
    if diff.abs() < 0.05 {
        "matches the naive baseline".into()
    } else if diff > 0.0 {
        format!("{pts} points above the naive baseline")
    } else {
        format!("{pts} points below the naive baseline")
    }
}

/// Most model weights listed (a model has one per lag, at most 50 by default).
const MAX_WEIGHTS_SHOWN: usize = 100;

/// A model parameter with four decimals; [`MISSING`] where training diverged.
fn fmt_weight(w: f64) -> String {
    if w.is_finite() {
        fmt_thousands(w, 4)
    } else {
        MISSING.into()
    }
}

/// A training job: loss per epoch, validation accuracy against the naive baseline, and the
/// statistics of trading the model's signals over the validation period.
#[component]
pub fn TrainResultView(result: TrainResult) -> impl IntoView {
    let TrainResult {
        epochs,
        val_accuracy,
        val_up_share,
        weights,
        bias,
        validation_start_bar,
        backtest,
    } = result;
    let baseline = val_up_share.max(1.0 - val_up_share);
    let weights_text = weights
        .iter()
        .take(MAX_WEIGHTS_SHOWN)
        .map(|w| fmt_weight(*w))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div class="results results--train" data-testid="train-result">
            <dl class="result-summary">
                <div class="result-summary__item">
                    <dt>"Validation accuracy"</dt>
                    <dd data-testid="val-accuracy">{fmt_share(val_accuracy)}</dd>
                    <dd class="result-summary__note">
                        {accuracy_verdict(val_accuracy, val_up_share)}
                    </dd>
                </div>
                {summary_item("Up share (validation)", fmt_share(val_up_share), Some("val-up-share"))}
                {summary_item("Naive baseline", fmt_share(baseline), None)}
                {summary_item("Epochs", epochs.len().to_string(), None)}
            </dl>
            <p class="muted">
                "The naive baseline always predicts the more common direction in the validation \
                 period (from bar " {validation_start_bar} ")."
            </p>
            <Section title="Loss per epoch">
                <LossChart epochs=epochs />
            </Section>
            <Section title="Trading the model's signals (validation period)">
                <StatsTable stats=backtest />
            </Section>
            <details class="results__section">
                <summary>"Model parameters"</summary>
                <p>
                    "Weights (most recent lag first): " <code>{weights_text}</code> <br />
                    "Bias: " <code>{fmt_weight(bias)}</code>
                </p>
            </details>
        </div>
    }
    .into_any()
}

/// Decodes `value` as `T`, or says what did not fit.
fn decode<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// A job's result, whatever its kind: the stored JSON decoded into the kind's result type and
/// shown with its view; a result that does not decode shows an error box instead. Demo jobs
/// have no result type, so their JSON is shown as is.
#[component]
pub fn JobResultView(
    kind: JobKind,
    result: serde_json::Value,
    /// The job's id, for views that fetch more of the result (a backtest's trades).
    #[prop(optional_no_strip)]
    job_id: Option<String>,
) -> impl IntoView {
    let decoded = match kind {
        JobKind::Backtest => decode(result)
            .map(|report| view! { <BacktestResultView report job_id=job_id.clone() /> }.into_any()),
        JobKind::Optimize => {
            decode(result).map(|result| view! { <OptimizeResultView result /> }.into_any())
        }
        JobKind::WalkForward => {
            decode(result).map(|result| view! { <WalkForwardResultView result /> }.into_any())
        }
        JobKind::Train => {
            decode(result).map(|result| view! { <TrainResultView result /> }.into_any())
        }
        JobKind::Import => decode(result).map(|r: ImportResult| {
            let ImportResult {
                dataset,
                bytes,
                seconds,
            } = r;
            let rate = if seconds > 0.0 {
                format!(
                    "{} rows/s",
                    fmt_thousands(f64::from(dataset.bars) / seconds, 0)
                )
            } else {
                MISSING.into()
            };
            view! {
                <div class="results results--import" data-testid="import-result">
                    <dl class="result-summary">
                        {summary_item("Dataset", dataset.name.clone(), Some("import-name"))}
                        {summary_item(
                            "Bars",
                            fmt_thousands(f64::from(dataset.bars), 0),
                            Some("import-bars"),
                        )}
                        {summary_item(
                            "From",
                            super::format::fmt_date_time(dataset.start),
                            None,
                        )}
                        {summary_item("To", super::format::fmt_date_time(dataset.end), None)}
                        {summary_item(
                            "Upload",
                            format!("{} MB", fmt_thousands(bytes as f64 / 1e6, 1)),
                            None,
                        )}
                        {summary_item("Speed", rate, None)}
                    </dl>
                    <p class="muted">"Dataset id " <code>{dataset.id.to_string()}</code></p>
                </div>
            }
            .into_any()
        }),
        // A chunk's result is its runs' metrics, for its parent: say so, do not print them.
        JobKind::Chunk => Ok(view! {
            <p class="muted" data-testid="chunk-result">
                {format!(
                    "The metrics of {} runs, assembled by the parent optimization.",
                    result.get("metrics").and_then(|m| m.as_array()).map_or(0, Vec::len),
                )}
            </p>
        }
        .into_any()),
        JobKind::Demo => {
            let text = serde_json::to_string_pretty(&result).unwrap_or_else(|_| result.to_string());
            Ok(
                view! { <pre class="result-json" data-testid="result-json">{text}</pre> }
                    .into_any(),
            )
        }
    };
    match decoded {
        Ok(view) => view,
        Err(e) => view! {
            <div class="alert alert--error" role="alert" data-testid="result-error">
                <strong>{format!("This {} result could not be read.", kind.label().to_lowercase())}</strong>
                " " {e}
            </div>
        }
        .into_any(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
