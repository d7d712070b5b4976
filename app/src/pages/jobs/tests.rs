//! Tests of `jobs.rs`.

use super::*;
use crate::model::job::JobContext;

fn context(v: serde_json::Value) -> JobContext {
    serde_json::from_value(v).unwrap()
}

#[test]
fn grids_and_params_read_as_short_summaries() {
    let grid = context(serde_json::json!({
        "strategy": "sma_cross",
        "grid": {
            "n2": {"start": 10, "stop": 80, "step": 10},
            "n1": {"start": 5, "stop": 30, "step": 5}
        }
    }));
    assert_eq!(params_summary(&grid), "n1 5..30/5, n2 10..80/10");
    let list = context(serde_json::json!({
        "grid": {"n1": {"count": 3, "first": 5, "last": 20}, "n2": {"count": 1, "first": 50, "last": 50}}
    }));
    assert_eq!(params_summary(&list), "n1 5…20 (3 values), n2 = 50");
    // The strategy's declared order (period, lower, upper), not the alphabet.
    let fixed = context(serde_json::json!({
        "strategy": "rsi_reversion",
        "params": {"upper": 70, "lower": 30, "period": 14.5}
    }));
    assert_eq!(
        params_summary(&fixed),
        "period = 14.5, lower = 30, upper = 70"
    );
    assert_eq!(params_summary(&JobContext::default()), "");
    let many: serde_json::Map<String, serde_json::Value> = (0..20)
        .map(|i| (format!("p{i:02}"), serde_json::json!(i)))
        .collect();
    let long = context(serde_json::json!({ "params": many }));
    assert!(params_summary(&long).ends_with(", …"));
}

#[test]
fn headline_figures_have_labels_and_units() {
    let c = context(serde_json::json!({
        "strategy": "sma_cross",
        "dataset": "SPY daily",
        "best": [
            {"name": "sharpe", "value": 1.23456},
            {"name": "return_pct", "value": 12.5},
            {"name": "val_accuracy", "value": 0.55},
            {"name": "best_sortino"},
            {"name": "best_max_drawdown_pct", "value": -10.0}
        ]
    }));
    assert_eq!(research_label(&c), "SMA crossover · SPY daily");
    assert_eq!(
        figures(&c),
        vec![
            ("Sharpe".to_string(), "1.235".to_string()),
            ("Return".to_string(), "12.50%".to_string()),
            ("Val. accuracy".to_string(), "55.00%".to_string()),
            ("Best Sortino Ratio".to_string(), "—".to_string()),
            ("Best Max. Drawdown [%]".to_string(), "-10.00%".to_string()),
        ]
    );
    let unknown = context(serde_json::json!({"dataset_id": "5a3b1e00-0000"}));
    assert_eq!(research_label(&unknown), "dataset 5a3b1e00");
}
