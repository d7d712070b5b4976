//! Time: parsing a CSV time field into unix seconds (UTC), the calendar (chrono's proleptic
//! Gregorian `NaiveDate`) and the accepted range of bar times.

use chrono::{FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Utc};

/// Earliest bar time accepted: 1900-01-01T00:00:00Z, in unix seconds.
pub const MIN_TIMESTAMP: i64 = -2_208_988_800;
/// Latest bar time accepted: 2200-01-01T00:00:00Z, in unix seconds. Keeping times in
/// [`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`] keeps every difference of two times, and the charts'
/// time axes, far from `i64` overflow.
pub const MAX_TIMESTAMP: i64 = 7_258_118_400;
/// The accepted time range as the error messages name it.
pub const TIMESTAMP_RANGE: &str = "1900-01-01..2200-01-01";

pub use app::model::calendar::{civil_from_days, days_from_civil};

fn num<T: std::str::FromStr>(s: &str) -> Result<T, ()> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    s.parse().map_err(|_| ())
}

/// At most 40 characters of a pathological field, for quoting in a message.
pub(super) fn clip(field: &str) -> String {
    let mut shown: String = field.chars().take(40).collect();
    if shown.len() < field.len() {
        shown.push('…');
    }
    shown
}

/// Parses one time field into unix seconds (UTC); see [`parse_csv_with_limit`](super::parse_csv_with_limit) for formats.
pub fn parse_time(f: &str) -> Result<i64, String> {
    let f = f.trim();
    let bad = || {
        format!(
            "not a date: {:?} (expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], ISO 8601 or unix seconds)",
            clip(f)
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
    // A four-digit year is well inside chrono's range.
    let y: i32 = num(parts[0]).map_err(|_| bad())?;
    let m: u32 = num(parts[1]).map_err(|_| bad())?;
    let d: u32 = num(parts[2]).map_err(|_| bad())?;
    let date =
        NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("no such date: {:?}", clip(f)))?;
    let (clock, leap, offset) = match time {
        Some(t) => parse_clock(t).map_err(|_| bad())?,
        None => (NaiveTime::MIN, 0, Utc.fix()),
    };
    let secs = offset
        .from_local_datetime(&date.and_time(clock))
        .single()
        .ok_or_else(|| out_of_range(f))?
        .timestamp()
        + leap;
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
    format!(
        "timestamp {} is outside {TIMESTAMP_RANGE} (UTC)",
        clip(field)
    )
}

/// `HH:MM[:SS[.fff]][Z|±HH[:MM]]` → the wall-clock time, a leap second (`:60` counts as the
/// next minute's `:00`, so 1 or 0 seconds to add) and the UTC offset. Fractions are ignored.
fn parse_clock(t: &str) -> Result<(NaiveTime, i64, FixedOffset), ()> {
    let (clock, offset_secs) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = t.rfind(['+', '-']) {
        let (c, o) = t.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let o = &o[1..];
        let (oh, om) = o.split_once(':').unwrap_or((o, "0"));
        let oh: i32 = num(oh)?;
        let om: i32 = num(om)?;
        if oh > 23 || om > 59 {
            return Err(());
        }
        (c, sign * (oh * 3600 + om * 60))
    } else {
        (t, 0)
    };
    let offset = FixedOffset::east_opt(offset_secs).ok_or(())?;
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(());
    }
    let h: u32 = num(parts[0])?;
    let mi: u32 = num(parts[1])?;
    let s: u32 = match parts.get(2) {
        Some(s) => num(s.split('.').next().unwrap_or(""))?,
        None => 0,
    };
    if s > 60 {
        return Err(());
    }
    let clock = NaiveTime::from_hms_opt(h, mi, s.min(59)).ok_or(())?;
    Ok((clock, i64::from(s == 60), offset))
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
    fn calendar_agrees_with_chrono_and_extends_it_by_whole_cycles() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for (y, m, d) in [
            (1900, 1, 1),
            (1999, 12, 31),
            (2000, 2, 29),
            (2199, 12, 31),
            (-44, 3, 15),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let z = date.signed_duration_since(epoch).num_days();
            assert_eq!(days_from_civil(i64::from(y), m, d), z);
            assert_eq!(civil_from_days(z), (i64::from(y), m, d));
        }
        // Beyond chrono's ±262,143 years the calendar repeats every 400 years (146,097 days).
        let far = 1_000_000 * app::model::calendar::DAYS_PER_400_YEARS;
        assert_eq!(civil_from_days(far), (400_001_970, 1, 1));
        assert_eq!(days_from_civil(400_001_970, 1, 1), far);
        assert_eq!(civil_from_days(-far - 1), (-399_998_031, 12, 31));
        // Days and months past the end roll over as plain arithmetic would.
        assert_eq!(days_from_civil(2024, 2, 30), days_from_civil(2024, 3, 1));
        assert_eq!(days_from_civil(2024, 0, 1), days_from_civil(2023, 12, 1));
        assert_eq!(days_from_civil(2024, 13, 1), days_from_civil(2025, 1, 1));
        assert_eq!(days_from_civil(2024, 3, 0), days_from_civil(2024, 2, 29));
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
    fn keeps_the_accepted_formats_and_messages() {
        let day = 1_704_067_200; // 2024-01-01T00:00:00Z
                                 // Short and padded numbers, lower-case `t`/`z`, offsets without minutes, a leap second.
        assert_eq!(parse_time("2024-1-1"), Ok(day));
        assert_eq!(parse_time("2024-001-01"), Ok(day));
        assert_eq!(parse_time("2024-01-01t9:05z"), Ok(day + 9 * 3600 + 300));
        assert_eq!(parse_time("2024-01-01T01:00:00+01"), Ok(day));
        assert_eq!(parse_time("2024-01-01T00:00:00-00:30"), Ok(day + 1800));
        assert_eq!(parse_time("2023-12-31T23:59:60Z"), Ok(day));
        assert_eq!(parse_time(" 2024-01-01 "), Ok(day));
        assert_eq!(parse_time("-1"), Ok(-1));
        assert_eq!(
            parse_time("2023-02-29").unwrap_err(),
            "no such date: \"2023-02-29\""
        );
        assert_eq!(
            parse_time("2024-04-31").unwrap_err(),
            "no such date: \"2024-04-31\""
        );
        assert_eq!(
            parse_time("2024-00-10").unwrap_err(),
            "no such date: \"2024-00-10\""
        );
        assert_eq!(
            parse_time("yesterday").unwrap_err(),
            "not a date: \"yesterday\" (expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], ISO 8601 \
             or unix seconds)"
        );
        for bad in [
            "24-01-01",
            "2024-01",
            "2024-01-01-01",
            "2024-01-01T",
            "2024-01-01T09",
            "2024-01-01T24:00",
            "2024-01-01T09:60",
            "2024-01-01T09:30:61",
            "2024-01-01T09:30:00+0100",
            "2024-01-01 09:30 Z",
            "2024-01-01T09:30:00+01:60",
            "2024-01-01T+9:30",
            "2024.01.01",
            "2024-01-0a",
        ] {
            assert!(
                parse_time(bad).unwrap_err().starts_with("not a date"),
                "{bad}"
            );
        }
        // A pathological field is quoted short.
        let long = format!("x{}", "9".repeat(10_000));
        assert!(parse_time(&long).unwrap_err().len() < 200);
        let long = format!("2024-02-30T{}", "9".repeat(10_000));
        assert!(parse_time(&long).unwrap_err().len() < 200);
    }

    #[test]
    fn timestamps_outside_1900_to_2200_are_refused_with_line_and_column() {
        assert_eq!(MIN_TIMESTAMP, days_from_civil(1900, 1, 1) * 86_400);
        assert_eq!(MAX_TIMESTAMP, days_from_civil(2200, 1, 1) * 86_400);
        let utc = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp()
        };
        assert_eq!(MIN_TIMESTAMP, utc(1900, 1, 1));
        assert_eq!(MAX_TIMESTAMP, utc(2200, 1, 1));
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
        // Calendar arithmetic at the ends of i64: no panic, saturation.
        let _ = civil_from_days(i64::MAX);
        let _ = civil_from_days(i64::MIN);
        assert_eq!(days_from_civil(i64::MAX, 12, 31), i64::MAX);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), i64::MIN);
    }
}
