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
mod tests;
