//! Tests of `format.rs`.

use super::*;

#[test]
fn dates_round_trip_through_the_civil_calendar() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    // 2000 is a leap year (divisible by 400): Jan 31 + Feb 29 = 60 days into the year;
    // 30 years * 365 + 7 leap days (72..96) = 10,957 days to 2000-01-01.
    assert_eq!(days_from_civil(2000, 3, 1), 10_957 + 60);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    for z in [-800_000, -1, 0, 59, 10_957, 11_016, 19_782, 2_932_896] {
        let (y, m, d) = civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
    }
}

#[test]
fn formats_unix_seconds_as_utc_dates() {
    assert_eq!(fmt_date(0), "1970-01-01");
    assert_eq!(fmt_date(-1), "1969-12-31");
    // 2024-03-01 is day 19,783 → 1,709,251,200 s; one second earlier is the leap day.
    assert_eq!(fmt_date(1_709_251_200), "2024-03-01");
    assert_eq!(fmt_date(1_709_251_199), "2024-02-29");
    // 2020-01-01 = 18,262 days * 86,400.
    assert_eq!(fmt_date(1_577_836_800), "2020-01-01");
    assert_eq!(fmt_date_time(1_577_836_800), "2020-01-01");
    assert_eq!(
        fmt_date_time(1_577_836_800 + 9 * 3600 + 30 * 60),
        "2020-01-01 09:30"
    );
    assert_eq!(fmt_short_date_time(1_577_836_800 + 3600), "01-01 01:00");
}

#[test]
fn date_text_is_pinned_for_every_i64_second() {
    // The exact strings the hand-written calendar produced: server and browser render these
    // into the same markup (hydration), so they must never change.
    for (t, date, date_time, short) in [
        (
            i64::MAX,
            "292277026596-12-04",
            "292277026596-12-04 15:30",
            "12-04 15:30",
        ),
        (
            i64::MIN,
            "-292277022657-01-27",
            "-292277022657-01-27 08:29",
            "01-27 08:29",
        ),
        (-62_135_596_800, "0001-01-01", "0001-01-01", "01-01 00:00"),
        (
            -62_135_596_801,
            "0000-12-31",
            "0000-12-31 23:59",
            "12-31 23:59",
        ),
        (
            -62_198_755_201,
            "-002-12-31",
            "-002-12-31 23:59",
            "12-31 23:59",
        ),
        (
            253_402_300_799,
            "9999-12-31",
            "9999-12-31 23:59",
            "12-31 23:59",
        ),
        (253_402_300_800, "10000-01-01", "10000-01-01", "01-01 00:00"),
        (-2_208_988_800, "1900-01-01", "1900-01-01", "01-01 00:00"),
        (
            7_258_118_399,
            "2199-12-31",
            "2199-12-31 23:59",
            "12-31 23:59",
        ),
        (951_827_696, "2000-02-29", "2000-02-29 12:34", "02-29 12:34"),
    ] {
        assert_eq!(fmt_date(t), date, "{t}");
        assert_eq!(fmt_date_time(t), date_time, "{t}");
        assert_eq!(fmt_short_date_time(t), short, "{t}");
    }
}

#[test]
fn separates_thousands_and_rounds() {
    assert_eq!(fmt_thousands(0.0, 2), "0.00");
    assert_eq!(fmt_thousands(999.994, 2), "999.99");
    assert_eq!(fmt_thousands(999.995_1, 2), "1,000.00");
    assert_eq!(fmt_thousands(1_234_567.891, 2), "1,234,567.89");
    assert_eq!(fmt_thousands(-1_234.5, 1), "-1,234.5");
    assert_eq!(fmt_thousands(-0.001, 2), "0.00");
    assert_eq!(fmt_thousands(123_456.0, 0), "123,456");
    assert_eq!(fmt_thousands(f64::NAN, 2), MISSING);
    assert_eq!(fmt_money(10_000.0), "10,000.00");
}

#[test]
fn formats_percent_ratio_and_metric() {
    assert_eq!(fmt_pct(12.345_6), "12.35%");
    assert_eq!(fmt_pct(-3.0), "-3.00%");
    assert_eq!(fmt_share(0.543_21), "54.32%");
    assert_eq!(fmt_ratio(1.234_56), "1.235");
    assert_eq!(fmt_metric(0.123_45), "0.123");
    assert_eq!(fmt_metric(-42.567), "-42.57");
    assert_eq!(fmt_metric(12_345.6), "12,346");
    assert_eq!(opt(None, fmt_pct), MISSING);
    assert_eq!(opt(Some(1.0), fmt_ratio), "1.000");
}

#[test]
fn formats_params_and_prices() {
    assert_eq!(fmt_param(10.0), "10");
    assert_eq!(fmt_param(0.25), "0.25");
    assert_eq!(fmt_param(1.0 / 3.0), "0.3333");
    assert_eq!(fmt_param(-0.000_01), "0");
    let p: BTreeMap<String, f64> = [("n2".to_string(), 30.0), ("n1".to_string(), 10.0)]
        .into_iter()
        .collect();
    assert_eq!(fmt_params(&p), "n1 = 10, n2 = 30");
    assert_eq!(fmt_price(1234.5), "1,234.50");
    assert_eq!(fmt_price(0.001_234_5), "0.001234");
}

#[test]
fn durations_read_in_days() {
    assert_eq!(fmt_duration_days(86_400), "1 day");
    assert_eq!(fmt_duration_days(12 * 86_400 + 43_200), "12.5 days");
    assert_eq!(fmt_duration_days(1_000 * 86_400), "1,000 days");
    assert_eq!(fmt_duration_days(6 * 3600), "6 h");
    assert_eq!(fmt_duration_days(45 * 60), "45 min");
    assert_eq!(fmt_duration_days(-5), MISSING);
}

#[test]
fn tick_labels_use_the_decimals_the_step_needs() {
    assert_eq!(fmt_tick(12_000.0, 1000.0), "12,000");
    assert_eq!(fmt_tick(0.65, 0.05), "0.65");
    assert_eq!(fmt_tick(0.30000000000000004, 0.1), "0.3");
    assert_eq!(fmt_tick(0.75, 0.25), "0.75");
    assert_eq!(fmt_tick(2.5, 2.5), "2.5");
}

#[test]
fn escapes_markup_in_user_text() {
    assert_eq!(
        escape_xml(r#"<b a="1">&'"#),
        "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"
    );
}

#[test]
fn absurd_numbers_and_times_format_short_without_panicking() {
    assert_eq!(fmt_thousands(1e308, 2), "1.000e308");
    assert_eq!(fmt_thousands(-2.5e15, 0), "-2.500e15");
    assert_eq!(
        fmt_thousands(999_999_999_999_999.0, 0),
        "999,999,999,999,999"
    );
    assert_eq!(fmt_money(f64::MAX), "1.798e308");
    assert_eq!(fmt_pct(1e300), "1.000e300%");
    assert_eq!(fmt_param(1e300), "1e300");
    assert_eq!(fmt_param(-1.5e20), "-1.5e20");
    assert_eq!(fmt_param(123_456.0), "123456");
    assert_eq!(fmt_thousands(1.0, usize::MAX), "1.000000000000");
    for s in [
        fmt_tick(1e300, 1e299),
        fmt_tick(1.0, 1e-320),
        fmt_tick(1.0, f64::NAN),
        fmt_metric(-1e308),
        fmt_price(1e-300),
        fmt_ratio(f64::MAX),
        fmt_date(i64::MAX),
        fmt_date(i64::MIN),
        fmt_date_time(i64::MAX),
        fmt_date_time(i64::MIN + 1),
        fmt_short_date_time(i64::MIN),
        fmt_duration_days(i64::MAX),
    ] {
        assert!(!s.is_empty() && s.len() < 40, "{s}");
    }
    let _ = civil_from_days(i64::MAX);
    let _ = civil_from_days(i64::MIN);
    let _ = days_from_civil(i64::MIN, 1, 1);
    let _ = days_from_civil(i64::MAX, 12, 31);
}
