//! Tests of `export.rs`.

use super::*;
use serde_json::json;

fn lines(text: &str) -> Vec<&str> {
    text.split("\r\n").filter(|l| !l.is_empty()).collect()
}

#[test]
fn export_paths_are_recognized_exactly() {
    assert!(is_export_path("/api/jobs/abc/result.json"));
    assert!(is_export_path("/api/jobs/abc/result.csv"));
    assert!(!is_export_path("/api/jobs//result.csv"));
    assert!(!is_export_path("/api/jobs/a/b/result.csv"));
    assert!(!is_export_path("/api/jobs/abc/result.xml"));
    assert!(!is_export_path("/api/submit_job"));
}

#[test]
fn fields_are_quoted_and_formulas_defused() {
    let mut csv = Csv::default();
    csv.row(
        [
            "a,b",
            "say \"hi\"",
            "=SUM(A1)",
            "-1.5",
            "-x",
            "line\nbreak",
            "@me",
        ]
        .map(String::from),
    );
    assert_eq!(
        csv.text,
        "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-1.5,'-x,\"line\nbreak\",'@me\r\n"
    );
}

#[test]
fn a_backtest_exports_its_trades_with_the_open_one_last() {
    let trade = |size: i64, pnl: f64| {
        json!({"entry_bar": 1, "exit_bar": 5, "entry_time": 86_400, "exit_time": 432_000,
                   "size": size, "entry_price": 10.0, "exit_price": 11.5, "pnl": pnl,
                   "return_pct": 15.0, "commission": 0.0})
    };
    let result =
        json!({"trades": [trade(10, 15.0), trade(-3, f64::NAN)], "open_trade": trade(2, 1.0)});
    let text = result_csv_text(JobKind::Backtest, &result);
    let l = lines(&text);
    assert_eq!(l.len(), 4, "{text}");
    assert!(l[0].starts_with("n,side,size,entry_bar"));
    assert_eq!(
        l[1],
        "1,long,10,1,5,1970-01-02T00:00:00Z,1970-01-06T00:00:00Z,10,11.5,15,15,0,false"
    );
    assert!(l[2].starts_with("2,short,3,"), "{}", l[2]);
    // NaN is stored as null and exported empty.
    assert!(l[2].contains(",11.5,,15,"), "{}", l[2]);
    assert!(l[3].ends_with(",true"));
}

#[test]
fn an_optimization_exports_its_top_runs_with_their_parameters() {
    let stats = serde_json::to_value(Stats {
        return_pct: Some(12.5),
        sharpe: Some(1.25),
        trades: 7,
        ..Stats::default()
    })
    .unwrap();
    let result = json!({
        "metric": "sharpe",
        "top": [
            {"params": {"n1": 10.0, "n2": 30.0}, "metric": 1.25, "stats": stats},
            {"params": {"n1": 5.0, "n2": 40.0}, "metric": null, "stats": null}
        ]
    });
    let text = result_csv_text(JobKind::Optimize, &result);
    let l = lines(&text);
    assert_eq!(
            l[0],
            "rank,n1,n2,metric_sharpe,return_pct,sharpe,max_drawdown_pct,trades,win_rate_pct,equity_final"
        );
    assert_eq!(l[1], "1,10,30,1.25,12.5,1.25,,7,,");
    assert_eq!(l[2], "2,5,40,,,,,,,");
}

#[test]
fn training_exports_epochs_and_odd_results_give_a_header_only() {
    let text = result_csv_text(
        JobKind::Train,
        &json!({"epochs": [{"epoch": 1, "train_loss": 0.7, "val_loss": 0.69}]}),
    );
    assert_eq!(
        lines(&text),
        vec!["epoch,train_loss,val_loss", "1,0.7,0.69"]
    );
    let odd = result_csv_text(JobKind::WalkForward, &json!({"folds": "nope"}));
    assert_eq!(lines(&odd).len(), 1);
    assert!(odd.starts_with("fold,in_sample_start"));
    let demo = result_csv_text(JobKind::Demo, &json!({"steps": 5, "note": "a,b"}));
    assert_eq!(lines(&demo), vec!["key,value", "note,\"a,b\"", "steps,5"]);
}
