//! Number, date and duration formatting for the result views: pure functions, identical on the
//! server and in the browser (no locale, no JS `Intl`), so hydration always sees the same text.
//!
//! Dates are UTC in chrono's proleptic Gregorian calendar; the text is written here (not with
//! chrono's `format`), so it stays the same for every `i64` second, even years past 9999.

use std::collections::BTreeMap;

/// What a missing or undefined value shows.
pub const MISSING: &str = "—";

const SECS_PER_DAY: i64 = 86_400;

pub use crate::model::calendar::{civil_from_days, days_from_civil};

/// Unix seconds → `YYYY-MM-DD` (UTC).
pub fn fmt_date(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(SECS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix seconds → `YYYY-MM-DD`, plus ` HH:MM` when the time is not midnight (intraday bars).
pub fn fmt_date_time(t: i64) -> String {
    let secs = t.rem_euclid(SECS_PER_DAY);
    if secs == 0 {
        fmt_date(t)
    } else {
        format!(
            "{} {:02}:{:02}",
            fmt_date(t),
            secs / 3600,
            (secs % 3600) / 60
        )
    }
}

/// Unix seconds → `MM-DD HH:MM`, the short label of sub-day axis ticks.
pub fn fmt_short_date_time(t: i64) -> String {
    let (_, m, d) = civil_from_days(t.div_euclid(SECS_PER_DAY));
    let secs = t.rem_euclid(SECS_PER_DAY);
    format!("{m:02}-{d:02} {:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// From this magnitude on, numbers are written in scientific notation (`1.234e15`), so no
/// number renders as hundreds of digits.
pub const SCIENTIFIC_FROM: f64 = 1e15;

/// Most decimals [`fmt_thousands`] writes.
const MAX_DECIMALS: usize = 12;

/// `v` with `decimals` decimals (at most 12) and `,` between thousands: `-1234567.891, 2` →
/// `-1,234,567.89`. Not-finite values show as [`MISSING`]; magnitudes from 10¹⁵ on as
/// `1.235e15`.
pub fn fmt_thousands(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    if v.abs() >= SCIENTIFIC_FROM {
        return format!("{v:.3e}");
    }
    let decimals = decimals.min(MAX_DECIMALS);
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3 + 1);
    // "-0.00" reads badly: only show the sign when the rounded value is not zero.
    if v < 0.0 && s.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Cash amounts: two decimals with thousands separators (`12,345.68`).
pub fn fmt_money(v: f64) -> String {
    fmt_thousands(v, 2)
}

/// Percent values already in percent units: `12.345` → `12.35%`.
pub fn fmt_pct(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    format!("{}%", fmt_thousands(v, 2))
}

/// Shares in `[0, 1]` as percent: `0.5432` → `54.32%`.
pub fn fmt_share(v: f64) -> String {
    fmt_pct(v * 100.0)
}

/// Dimensionless ratios (Sharpe, Sortino, Calmar, SQN, Kelly, profit factor): three decimals.
pub fn fmt_ratio(v: f64) -> String {
    fmt_thousands(v, 3)
}

/// A metric value whose unit varies (heatmap cells, top runs): precision shrinks as it grows.
pub fn fmt_metric(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        fmt_thousands(v, 0)
    } else if a >= 10.0 {
        fmt_thousands(v, 2)
    } else {
        fmt_thousands(v, 3)
    }
}

/// A parameter value: whole numbers without decimals (`10`), others with at most four,
/// trailing zeros trimmed (`0.25`).
pub fn fmt_param(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    if v.abs() >= SCIENTIFIC_FROM {
        return format!("{v:e}");
    }
    if v.fract() == 0.0 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Parameters as `n1 = 10, n2 = 30` (in the map's, i.e. name, order).
pub fn fmt_params(params: &BTreeMap<String, f64>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k} = {}", fmt_param(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A price: two decimals with separators from 1 up, up to six significant decimals below
/// (penny stocks and crypto pairs), trailing zeros trimmed there.
pub fn fmt_price(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.into();
    }
    if v.abs() >= 1.0 || v == 0.0 {
        return fmt_thousands(v, 2);
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').into()
}

/// A duration in seconds, in days when it is at least one (`1 day`, `12.5 days`), else in
/// hours (`6 h`) or minutes (`45 min`). Negative durations are [`MISSING`].
pub fn fmt_duration_days(secs: i64) -> String {
    if secs < 0 {
        return MISSING.into();
    }
    let trim = |x: f64| {
        let s = format!("{x:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if secs >= SECS_PER_DAY {
        let days = secs as f64 / SECS_PER_DAY as f64;
        let n = trim(days);
        if n == "1" {
            "1 day".into()
        } else {
            format!("{} days", fmt_thousands_str(&n))
        }
    } else if secs >= 3600 {
        format!("{} h", trim(secs as f64 / 3600.0))
    } else {
        format!("{} min", trim(secs as f64 / 60.0))
    }
}

/// Adds thousands separators to an already formatted non-negative decimal string.
fn fmt_thousands_str(s: &str) -> String {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// An optional value through `f`, [`MISSING`] for `None`.
pub fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| MISSING.into())
}

/// The tick label of `v` on an axis whose ticks are `step` apart: as many decimals as the step
/// needs (`step = 0.05` → 2), thousands separators for large values.
pub fn fmt_tick(v: f64, step: f64) -> String {
    let mut decimals = 0usize;
    if step > 0.0 && step.is_finite() {
        decimals = (-step.log10().floor()).max(0.0) as usize;
        // A step like 0.25 or 2.5 needs more decimals than its magnitude says.
        while decimals < 8 {
            let scaled = step * 10f64.powi(decimals as i32);
            if (scaled - scaled.round()).abs() <= 1e-6 * scaled {
                break;
            }
            decimals += 1;
        }
    }
    fmt_thousands(v, decimals.min(8))
}

/// Escapes text for SVG/XML content and attribute values.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
}
