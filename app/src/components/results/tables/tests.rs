//! Tests of `tables.rs`.

use super::*;

#[test]
fn stats_rows_label_and_format_every_statistic() {
    let s = Stats {
        start: 1_577_836_800,
        end: 1_609_372_800,
        duration_secs: 365 * 86_400,
        exposure_time_pct: 87.654,
        equity_final: Some(12_345.678),
        return_pct: Some(23.456_78),
        sharpe: Some(1.234_56),
        max_drawdown_duration_secs: Some(36 * 3600),
        trades: 1234,
        ..Stats::default()
    };
    let rows: BTreeMap<&str, String> = stats_rows(&s).into_iter().collect();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows["Start"], "2020-01-01");
    assert_eq!(rows["End"], "2020-12-31");
    assert_eq!(rows["Duration"], "365 days");
    assert_eq!(rows["Exposure time"], "87.65%");
    assert_eq!(rows["Final equity"], "12,345.68");
    assert_eq!(rows["Return"], "23.46%");
    assert_eq!(rows["Sharpe ratio"], "1.235");
    assert_eq!(rows["Max. drawdown duration"], "1.5 days");
    assert_eq!(rows["Trades"], "1,234");
    assert_eq!(rows["Sortino ratio"], MISSING);
    assert_eq!(rows["Avg. trade duration"], MISSING);
}

#[test]
fn notes_only_when_rows_were_cut() {
    assert_eq!(showing_note(5, 5, "trades"), None);
    assert_eq!(
        showing_note(200, 1234, "trades").as_deref(),
        Some("Showing the first 200 of 1,234 trades.")
    );
}
