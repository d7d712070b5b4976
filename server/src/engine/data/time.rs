//! Time: parsing a CSV time field into unix seconds (UTC), days-from-civil calendar arithmetic
//! (no date crate), and the accepted range of bar times.

/// Earliest bar time accepted: 1900-01-01T00:00:00Z, in unix seconds.
pub const MIN_TIMESTAMP: i64 = -2_208_988_800;
/// Latest bar time accepted: 2200-01-01T00:00:00Z, in unix seconds. Keeping times in
/// [`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`] keeps every difference of two times, and the charts'
/// time axes, far from `i64` overflow.
pub const MAX_TIMESTAMP: i64 = 7_258_118_400;
/// The accepted time range as the error messages name it.
pub const TIMESTAMP_RANGE: &str = "1900-01-01..2200-01-01";

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// Saturates instead of overflowing for years beyond any calendar use.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y.saturating_sub(1) } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = (m as i64 + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era.saturating_mul(146_097)
        .saturating_add(doe)
        .saturating_sub(719_468)
}

/// Inverse of [`days_from_civil`]: `(year, month, day)`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad {what} {s:?}"));
    }
    s.parse().map_err(|_| format!("bad {what} {s:?}"))
}

/// Parses one time field into unix seconds (UTC); see [`parse_csv_with_limit`](super::parse_csv_with_limit) for formats.
pub fn parse_time(f: &str) -> Result<i64, String> {
    let f = f.trim();
    let bad = || {
        format!(
            "not a date: {f:?} (expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], ISO 8601 or unix seconds)"
        )
    };
    let digits = f.strip_prefix('-').unwrap_or(f);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: a number too big for i64 is out of range too.
        return match f.parse::<i64>() {
            Ok(t) => in_range(t, f),
            Err(_) => Err(out_of_range(f)),
        };
    }
    let (date, time) = match f.find(['T', ' ', 't']) {
        Some(i) => (&f[..i], Some(f[i + 1..].trim())),
        None => (f, None),
    };
    let sep = if date.contains('-') { '-' } else { '/' };
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return Err(bad());
    }
    let y: i64 = num(parts[0], "year").map_err(|_| bad())?;
    let m: u32 = num(parts[1], "month").map_err(|_| bad())?;
    let d: u32 = num(parts[2], "day").map_err(|_| bad())?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(format!("no such date: {f:?}"));
    }
    // A four-digit year keeps this far from overflow; the range check comes after the offset.
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        secs += parse_clock(t).map_err(|_| bad())?;
    }
    in_range(secs, f)
}

/// `t` if it lies in [`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`], else an error quoting `field`.
fn in_range(t: i64, field: &str) -> Result<i64, String> {
    if (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&t) {
        Ok(t)
    } else {
        Err(out_of_range(field))
    }
}

fn out_of_range(field: &str) -> String {
    // Quote at most 40 characters of a pathological field.
    let shown: String = field.chars().take(40).collect();
    let more = if shown.len() < field.len() { "…" } else { "" };
    format!("timestamp {shown}{more} is outside {TIMESTAMP_RANGE} (UTC)")
}

/// `HH:MM[:SS[.fff]][Z|±HH:MM]` → seconds since midnight minus the UTC offset.
fn parse_clock(t: &str) -> Result<i64, ()> {
    let (clock, offset) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = t.rfind(['+', '-']) {
        let (c, o) = t.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let o = &o[1..];
        let (oh, om) = o.split_once(':').unwrap_or((o, "0"));
        let oh: i64 = num(oh, "offset").map_err(|_| ())?;
        let om: i64 = num(om, "offset").map_err(|_| ())?;
        if oh > 23 || om > 59 {
            return Err(());
        }
        (c, sign * (oh * 3600 + om * 60))
    } else {
        (t, 0)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(());
    }
    let h: i64 = num(parts[0], "hour").map_err(|_| ())?;
    let mi: i64 = num(parts[1], "minute").map_err(|_| ())?;
    let s: i64 = match parts.get(2) {
        Some(s) => num(s.split('.').next().unwrap_or(""), "second").map_err(|_| ())?,
        None => 0,
    };
    if h > 23 || mi > 59 || s > 60 {
        return Err(());
    }
    Ok(h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::{parse_csv, sample_series};

    #[test]
    fn civil_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for z in [-800_000, -1, 0, 59, 10_957, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn parses_common_time_formats() {
        let day = 1_704_067_200; // 2024-01-01T00:00:00Z
        assert_eq!(parse_time("2024-01-01"), Ok(day));
        assert_eq!(parse_time("2024/01/01"), Ok(day));
        assert_eq!(parse_time("2024-01-01 09:30"), Ok(day + 34_200));
        assert_eq!(parse_time("2024-01-01 09:30:15"), Ok(day + 34_215));
        assert_eq!(parse_time("2024-01-01T09:30:15Z"), Ok(day + 34_215));
        assert_eq!(parse_time("2024-01-01T09:30:15.250Z"), Ok(day + 34_215));
        assert_eq!(parse_time("2024-01-01T09:30:15+01:00"), Ok(day + 30_615));
        assert_eq!(parse_time("1704067200"), Ok(day));
        assert!(parse_time("2023-02-29").is_err());
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2024-13-01").is_err());
    }

    #[test]
    fn timestamps_outside_1900_to_2200_are_refused_with_line_and_column() {
        assert_eq!(MIN_TIMESTAMP, days_from_civil(1900, 1, 1) * 86_400);
        assert_eq!(MAX_TIMESTAMP, days_from_civil(2200, 1, 1) * 86_400);
        assert_eq!(parse_time("1900-01-01"), Ok(MIN_TIMESTAMP));
        assert_eq!(parse_time("2200-01-01T00:00:00Z"), Ok(MAX_TIMESTAMP));
        assert_eq!(parse_time("7258118400"), Ok(MAX_TIMESTAMP));
        for bad in [
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999999",
            "7258118401",
            "-2208988801",
            "1899-12-31",
            "2200-01-01 00:00:01",
            "9999-12-31T23:59:59Z",
            "0000-03-01",
            "1900-01-01T00:00:00+01:00",
        ] {
            let e = parse_time(bad).unwrap_err();
            assert!(
                e.contains("is outside 1900-01-01..2200-01-01 (UTC)"),
                "{bad}: {e}"
            );
        }
        // The file from the report: unix times 0..4, then i64::MAX on line 7.
        let mut csv = String::from("time,open,high,low,close\n");
        for t in ["0", "1", "2", "3", "4", "9223372036854775807"] {
            csv.push_str(&format!("{t},1,1,1,1\n"));
        }
        let errs = parse_csv(&csv).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].to_string(),
            "line 7, column time: timestamp 9223372036854775807 is outside \
             1900-01-01..2200-01-01 (UTC)"
        );
        // A stored series with such a time is refused by the engine's check as well.
        let mut s = sample_series(3, 1);
        s.ts[2] = i64::MAX;
        assert!(s.check().unwrap_err().contains("outside"));
    }

    #[test]
    fn absurd_utc_offsets_and_calendar_extremes_do_not_overflow() {
        assert!(parse_time("2024-01-01T00:00:00+99999999999999999:00").is_err());
        assert!(parse_time("2024-01-01T00:00:00+24:00").is_err());
        assert!(parse_time("2024-01-01T00:00:00-23:59").is_ok());
        // Saturating calendar arithmetic: no panic at the ends of i64.
        let _ = civil_from_days(i64::MAX);
        let _ = civil_from_days(i64::MIN);
        let _ = days_from_civil(i64::MAX, 12, 31);
        let _ = days_from_civil(i64::MIN, 1, 1);
    }
}
