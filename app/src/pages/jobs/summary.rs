//! A job's research context as text, for the jobs list and the comparison: what it ran
//! (strategy on dataset), its parameters or grid, and its headline figures.

use crate::components::results::format::{
    fmt_metric, fmt_param, fmt_pct, fmt_share, fmt_thousands, MISSING,
};
use crate::model::job::JobContext;
use crate::model::research::{Metric, StrategyKind};

/// Most values a parameter summary shows per parameter before "…" (bounds the text whatever
/// the request).
const MAX_SUMMARY_PARAMS: usize = 8;

/// A stored number as a parameter value (`10`, `0.25`); other values as short text.
fn param_text(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(n) => fmt_param(n),
        None => {
            let text = v.to_string();
            if text.chars().count() > 16 {
                format!("{}…", text.chars().take(15).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// The parameter names in the strategy's declared order (others after, by name).
fn ordered_keys<'a>(
    context: &JobContext,
    keys: impl Iterator<Item = &'a String>,
) -> Vec<&'a String> {
    let specs = context
        .strategy
        .as_deref()
        .and_then(StrategyKind::from_name)
        .map(|k| k.params())
        .unwrap_or_default();
    let mut keys: Vec<&String> = keys.collect();
    keys.sort_by_key(|k| {
        (
            specs
                .iter()
                .position(|p| p.name == k.as_str())
                .unwrap_or(usize::MAX),
            (*k).clone(),
        )
    });
    keys
}

/// The key parameters in words: a grid as `n1 5..30/5, n2 10..80/10` (a list as
/// `n1 5…20 (3 values)`), fixed values as `n1 = 10, n2 = 30`; empty when there are none.
pub fn params_summary(context: &JobContext) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !context.grid.is_empty() {
        for key in ordered_keys(context, context.grid.keys()) {
            let v = &context.grid[key];
            let text = if let (Some(start), Some(stop), Some(step)) =
                (v.get("start"), v.get("stop"), v.get("step"))
            {
                format!(
                    "{key} {}..{}/{}",
                    param_text(start),
                    param_text(stop),
                    param_text(step)
                )
            } else if let Some(count) = v.get("count").and_then(|c| c.as_u64()) {
                let first = v.get("first").map(param_text).unwrap_or_default();
                let last = v.get("last").map(param_text).unwrap_or_default();
                match count {
                    0 => format!("{key} (no values)"),
                    1 => format!("{key} = {first}"),
                    n => format!("{key} {first}…{last} ({n} values)"),
                }
            } else {
                format!("{key} {}", param_text(v))
            };
            parts.push(text);
        }
    } else {
        for key in ordered_keys(context, context.params.keys()) {
            parts.push(format!("{key} = {}", param_text(&context.params[key])));
        }
    }
    if parts.len() > MAX_SUMMARY_PARAMS {
        parts.truncate(MAX_SUMMARY_PARAMS);
        parts.push("…".into());
    }
    parts.join(", ")
}

/// Strategy and dataset in words: `SMA crossover · Sample: …`; empty when neither is known.
pub fn research_label(context: &JobContext) -> String {
    let strategy = context.strategy.as_deref().map(|s| {
        StrategyKind::from_name(s)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|| s.to_string())
    });
    let dataset = context.dataset.clone().or_else(|| {
        context
            .dataset_id
            .as_deref()
            .map(|id| format!("dataset {}", id.chars().take(8).collect::<String>()))
    });
    [strategy, dataset]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The headline figures as `(label, value)`: `("Sharpe ratio", "1.234")`, `("Return", "12.50%")`.
pub fn figures(context: &JobContext) -> Vec<(String, String)> {
    context
        .best
        .iter()
        .map(|f| {
            let (label, value) = match f.name.as_str() {
                "sharpe" => ("Sharpe".to_string(), f.value.map(fmt_ratio3)),
                "return_pct" => ("Return".to_string(), f.value.map(fmt_pct)),
                "oos_return_pct" => ("OOS return".to_string(), f.value.map(fmt_pct)),
                "val_accuracy" => ("Val. accuracy".to_string(), f.value.map(fmt_share)),
                other => {
                    // An optimization's `best_<metric>`.
                    let name = other.strip_prefix("best_").unwrap_or(other);
                    let metric: Option<Metric> =
                        serde_json::from_value(serde_json::Value::String(name.to_string())).ok();
                    let label = metric.map_or_else(
                        || other.chars().take(30).collect(),
                        |m| format!("Best {}", m.label()),
                    );
                    let value = f.value.map(|v| {
                        if other.ends_with("_pct") {
                            fmt_pct(v)
                        } else {
                            fmt_metric(v)
                        }
                    });
                    (label, value)
                }
            };
            (label, value.unwrap_or_else(|| MISSING.into()))
        })
        .collect()
}

fn fmt_ratio3(v: f64) -> String {
    fmt_thousands(v, 3)
}
