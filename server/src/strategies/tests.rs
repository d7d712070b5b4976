//! Tests of `strategies.rs`.

use super::*;

#[test]
fn every_strategies_sql_file_documents_its_parameters_and_index_and_sends_only_the_statement() {
    for (name, file) in crate::jobs::store::sql_files("strategies") {
        crate::jobs::store::check_sql_header(&name, &file, "StrategyStore::");
        let header = &file[..file.len() - statement(&file).len()];
        assert!(
            header.contains("\n-- Returns "),
            "{name}.sql returns nothing"
        );
    }
}

#[test]
fn the_api_source_limit_is_the_engines() {
    assert_eq!(
        app::model::research::MAX_RULE_SOURCE_BYTES,
        MAX_SOURCE_BYTES
    );
}

#[test]
fn the_content_hash_is_the_sha256_of_the_source() {
    assert_eq!(
        content_hash(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn a_check_reports_params_and_lookback_or_errors_at_their_line() {
    let ok = check_report(
        "strategy \"SMA\"\nparam n1: int 2..100 = 10\nparam n2: int 2..100 = 20\n\
             constraint n1 < n2\nlong entry: crosses_above(sma(close, n1), sma(close, n2))\n\
             long exit: crosses_below(sma(close, n1), sma(close, n2))\n",
    );
    assert!(ok.ok, "{ok:?}");
    assert_eq!(ok.name.as_deref(), Some("SMA"));
    assert_eq!(ok.params.len(), 2);
    assert_eq!(ok.params[0].kind, "int");
    assert_eq!(ok.lookback, Some(19));
    let bad = check_report("strategy \"x\"\nlong entry: close > smaa(close, 3)\n");
    assert!(!bad.ok);
    assert!(bad.errors.iter().any(|e| e.line == 2), "{bad:?}");
}

#[test]
fn rule_args_drop_the_placeholder_strategy_only_with_rules() {
    let mut with = serde_json::json!({"strategy": "sma_cross", "rules": {"source": "x"}});
    rule_args(&mut with);
    assert!(with.get("strategy").is_none());
    let mut without = serde_json::json!({"strategy": "sma_cross"});
    rule_args(&mut without);
    assert_eq!(without["strategy"], "sma_cross");
}
