//! OHLCV bars in memory: the [`Series`] struct of arrays, CSV import with per-line errors, and
//! the deterministic synthetic sample dataset.
//!
//! Dates are parsed here (days-from-civil arithmetic, no date crate) and kept as unix seconds,
//! UTC; naive date-times are taken as UTC.

use std::fmt;

/// Bars as a struct of arrays (all the same length, times strictly increasing).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Bar time, unix seconds (UTC).
    pub ts: Vec<i64>,
    /// Open prices.
    pub open: Vec<f64>,
    /// High prices.
    pub high: Vec<f64>,
    /// Low prices.
    pub low: Vec<f64>,
    /// Close prices.
    pub close: Vec<f64>,
    /// Volume (0 when the file has none).
    pub volume: Vec<f64>,
}

impl Series {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// Bars `[start, end)` as a new series (used for walk-forward windows and tests).
    pub fn slice(&self, start: usize, end: usize) -> Series {
        let end = end.min(self.len());
        let start = start.min(end);
        Series {
            ts: self.ts[start..end].to_vec(),
            open: self.open[start..end].to_vec(),
            high: self.high[start..end].to_vec(),
            low: self.low[start..end].to_vec(),
            close: self.close[start..end].to_vec(),
            volume: self.volume[start..end].to_vec(),
        }
    }

    /// Checks the invariants the engine relies on (equal lengths, finite positive prices,
    /// increasing times between [`MIN_TIMESTAMP`] and [`MAX_TIMESTAMP`]). Data from
    /// [`parse_csv`] always passes, and so does [`sample_series`] up to ~40,000 bars.
    pub fn check(&self) -> Result<(), String> {
        let n = self.len();
        if [
            self.ts.len(),
            self.open.len(),
            self.high.len(),
            self.low.len(),
            self.volume.len(),
        ]
        .iter()
        .any(|&l| l != n)
        {
            return Err("columns have different lengths".into());
        }
        if n == 0 {
            return Err("the dataset has no bars".into());
        }
        for i in 0..n {
            for p in [self.open[i], self.high[i], self.low[i], self.close[i]] {
                if !(p.is_finite() && p > 0.0) {
                    return Err(format!("bar {i}: prices must be finite and > 0"));
                }
            }
            if !(MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&self.ts[i]) {
                return Err(format!(
                    "bar {i}: time {} is outside {TIMESTAMP_RANGE} (UTC)",
                    self.ts[i]
                ));
            }
            if i > 0 && self.ts[i] <= self.ts[i - 1] {
                return Err(format!("bar {i}: times are not strictly increasing"));
            }
        }
        Ok(())
    }
}

/// One problem in an imported CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based line number; the header is line 1.
    pub line: usize,
    /// Column name as written in the header (or the expected name when it is missing).
    pub column: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Earliest bar time accepted: 1900-01-01T00:00:00Z, in unix seconds.
pub const MIN_TIMESTAMP: i64 = -2_208_988_800;
/// Latest bar time accepted: 2200-01-01T00:00:00Z, in unix seconds. Keeping times in
/// [`MIN_TIMESTAMP`]..=[`MAX_TIMESTAMP`] keeps every difference of two times, and the charts'
/// time axes, far from `i64` overflow.
pub const MAX_TIMESTAMP: i64 = 7_258_118_400;
/// The accepted time range as the error messages name it.
pub const TIMESTAMP_RANGE: &str = "1900-01-01..2200-01-01";

/// Most errors collected from one file before giving up.
pub const MAX_CSV_ERRORS: usize = 20;

/// Default row limit of [`parse_csv`].
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;

/// Parses OHLCV CSV text with at most [`DEFAULT_MAX_ROWS`] rows; see [`parse_csv_with_limit`].
pub fn parse_csv(text: &str) -> Result<Series, Vec<CsvError>> {
    parse_csv_with_limit(text, DEFAULT_MAX_ROWS)
}

const TIME_NAMES: [&str; 5] = ["date", "datetime", "time", "timestamp", "date_time"];

/// Parses OHLCV CSV text.
///
/// The header row is required; column names are case-insensitive: one of
/// `date|datetime|time|timestamp`, then `open`, `high`, `low`, `close` and optionally `volume`
/// (missing → 0); other columns are ignored. The delimiter is `,` (or `;` / tab when the header
/// has no comma). Times may be `YYYY-MM-DD`, `YYYY/MM/DD`, either followed by ` HH:MM[:SS[.f]]`
/// or `THH:MM:SS[.f]` with an optional `Z` or `±HH:MM` offset, or integer unix seconds.
/// Naive times are UTC and must lie in 1900-01-01..2200-01-01 (UTC). Blank lines are skipped.
///
/// Every bad row is reported with its line (header = line 1) and column: missing field, not a
/// number, bad date, high < low, open/close outside [low, high], negative volume, times not
/// strictly increasing; also an empty file and more than `max_rows` rows. At most
/// [`MAX_CSV_ERRORS`] errors are collected. Nothing is returned unless the whole file is valid.
pub fn parse_csv_with_limit(text: &str, max_rows: usize) -> Result<Series, Vec<CsvError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let err = |line: usize, column: &str, message: String| CsvError {
        line,
        column: column.to_string(),
        message,
    };
    let Some((header_line, header)) = lines.next() else {
        return Err(vec![err(1, "", "the file is empty".into())]);
    };
    let delim = if header.contains(',') {
        ','
    } else if header.contains(';') {
        ';'
    } else if header.contains('\t') {
        '\t'
    } else {
        ','
    };
    let names: Vec<String> = header.split(delim).map(clean).map(str::to_string).collect();
    let find = |wanted: &[&str]| {
        names
            .iter()
            .position(|n| wanted.iter().any(|w| n.eq_ignore_ascii_case(w)))
    };
    let mut errors = Vec::new();
    let time_col = find(&TIME_NAMES);
    if time_col.is_none() {
        errors.push(err(
            header_line,
            "date",
            "no date/time column (expected one named date, datetime, time or timestamp)".into(),
        ));
    }
    let mut price_cols = [0usize; 4];
    for (k, name) in ["open", "high", "low", "close"].iter().enumerate() {
        match find(&[name]) {
            Some(c) => price_cols[k] = c,
            None => errors.push(err(header_line, name, format!("no {name} column"))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let time_col = time_col.unwrap_or(0);
    let vol_col = find(&["volume", "vol"]);

    let mut s = Series::default();
    let mut last_ts: Option<i64> = None;
    let mut rows = 0usize;
    for (line, raw) in lines {
        if errors.len() >= MAX_CSV_ERRORS {
            break;
        }
        rows += 1;
        if rows > max_rows {
            errors.push(err(
                line,
                "",
                format!("too many rows: the limit is {max_rows}"),
            ));
            break;
        }
        let fields: Vec<&str> = raw.split(delim).map(clean).collect();
        let get = |c: usize| fields.get(c).copied().filter(|f| !f.is_empty());
        let before = errors.len();
        let t = match get(time_col) {
            None => {
                errors.push(err(line, &names[time_col], "missing field".into()));
                None
            }
            Some(f) => match parse_time(f) {
                Ok(t) => Some(t),
                Err(m) => {
                    errors.push(err(line, &names[time_col], m));
                    None
                }
            },
        };
        let mut px = [f64::NAN; 4];
        for (k, &c) in price_cols.iter().enumerate() {
            match get(c) {
                None => errors.push(err(line, &names[c], "missing field".into())),
                Some(f) => match f.parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => px[k] = v,
                    Ok(v) if v.is_finite() => {
                        errors.push(err(line, &names[c], format!("price must be > 0, got {f}")));
                        px[k] = v;
                    }
                    _ => errors.push(err(line, &names[c], format!("not a number: {f:?}"))),
                },
            }
        }
        let vol = match vol_col.map(|c| (c, get(c))) {
            None | Some((_, None)) => 0.0,
            Some((c, Some(f))) => match f.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                Ok(v) if v.is_finite() => {
                    errors.push(err(line, &names[c], format!("negative volume {v}")));
                    0.0
                }
                _ => {
                    errors.push(err(line, &names[c], format!("not a number: {f:?}")));
                    0.0
                }
            },
        };
        let [o, h, l, c] = px;
        if px.iter().all(|p| p.is_finite()) {
            if h < l {
                errors.push(err(
                    line,
                    &names[price_cols[1]],
                    format!("high {h} is below low {l}"),
                ));
            } else {
                if !(l..=h).contains(&o) {
                    errors.push(err(
                        line,
                        &names[price_cols[0]],
                        format!("open {o} is outside [low {l}, high {h}]"),
                    ));
                }
                if !(l..=h).contains(&c) {
                    errors.push(err(
                        line,
                        &names[price_cols[3]],
                        format!("close {c} is outside [low {l}, high {h}]"),
                    ));
                }
            }
        }
        if let Some(t) = t {
            if let Some(prev) = last_ts {
                if t <= prev {
                    errors.push(err(
                        line,
                        &names[time_col],
                        "dates are not strictly increasing (equal to or before the previous row)"
                            .into(),
                    ));
                }
            }
            last_ts = Some(t);
        }
        if errors.len() == before {
            s.ts.push(t.unwrap_or_default());
            s.open.push(o);
            s.high.push(h);
            s.low.push(l);
            s.close.push(c);
            s.volume.push(vol);
        }
    }
    if errors.is_empty() && s.is_empty() {
        errors.push(err(header_line + 1, "", "the file has no data rows".into()));
    }
    errors.truncate(MAX_CSV_ERRORS);
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(errors)
    }
}

fn clean(f: &str) -> &str {
    f.trim().trim_matches('"').trim()
}

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

/// Parses one time field into unix seconds (UTC); see [`parse_csv_with_limit`] for formats.
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

/// splitmix64: a tiny, high-quality 64-bit generator; deterministic for a given seed.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A **synthetic** daily dataset: a geometric random walk (drift 0.03%/day, volatility 1.5%/day)
/// starting at 100 on Friday 2015-01-02, weekdays only, prices rounded to cents. Same `seed`, same
/// bars, on every machine. It is for demos and benchmarks, not market data.
pub fn sample_series(n_bars: usize, seed: u64) -> Series {
    let mut rng = SplitMix64::new(seed);
    let mut s = Series::default();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut day = days_from_civil(2015, 1, 2);
    let mut prev_close = 100.0_f64;
    for _ in 0..n_bars {
        let open = round(prev_close * (0.002 * rng.next_normal()).exp()).max(0.01);
        let close = round(open * (0.0003 + 0.015 * rng.next_normal()).exp()).max(0.01);
        let high = round(open.max(close) * (1.0 + 0.006 * rng.next_normal().abs()));
        let low = round(open.min(close) * (1.0 - 0.006 * rng.next_normal().abs())).max(0.01);
        s.ts.push(day * 86_400);
        s.open.push(open);
        s.high.push(high.max(open).max(close));
        s.low.push(low.min(open).min(close));
        s.close.push(close);
        s.volume
            .push((1_000_000.0 * (0.5 + rng.next_f64())).round());
        prev_close = close;
        // Next weekday: 1970-01-01 was a Thursday, so (day + 3) mod 7 is 0 on Mondays.
        day += match (day + 3).rem_euclid(7) {
            4 => 3, // Friday → Monday
            5 => 2,
            _ => 1,
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn parses_a_good_file_with_optional_volume() {
        let csv = "Date,Open,High,Low,Close\n2024-01-01,10,11,9,10.5\n\n2024-01-02,10.5,12,10,11\n";
        let s = parse_csv(csv).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.close, vec![10.5, 11.0]);
        assert_eq!(s.volume, vec![0.0, 0.0]);
        assert!(s.check().is_ok());
    }

    #[test]
    fn reports_each_bad_row_with_line_and_column() {
        let csv = "time,open,high,low,close,volume\n\
                   2024-01-01,10,11,9,10,100\n\
                   2024-01-02,10,abc,9,10,100\n\
                   2024-01-03,10,8,9,10,100\n\
                   2024-01-04,10,11,9,,100\n\
                   2024-01-04,10,11,9,10,100\n\
                   2024-01-06,12,11,9,10,-5\n\
                   2024-02-30,10,11,9,10,1\n";
        let errs = parse_csv(csv).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "high"),
                (4, "high"),
                (5, "close"),
                (6, "time"),
                (7, "volume"),
                (7, "open"),
                (8, "time"),
            ]
        );
        assert!(errs[0].message.contains("not a number"));
        assert!(errs[1].message.contains("below low"));
        assert!(errs[2].message.contains("missing"));
        assert!(errs[3].message.contains("increasing"));
    }

    #[test]
    fn rejects_empty_headerless_and_too_long_files() {
        assert_eq!(parse_csv("").unwrap_err()[0].message, "the file is empty");
        let e = parse_csv("a,b,c\n1,2,3\n").unwrap_err();
        assert!(e.iter().any(|e| e.column == "date"));
        assert!(e.iter().any(|e| e.column == "close"));
        let e = parse_csv("date,open,high,low,close\n").unwrap_err();
        assert!(e[0].message.contains("no data rows"));
        let csv = "date,open,high,low,close\n2024-01-01,1,1,1,1\n2024-01-02,1,1,1,1\n";
        let e = parse_csv_with_limit(csv, 1).unwrap_err();
        assert!(e[0].message.contains("too many rows"));
    }

    #[test]
    fn stops_after_twenty_errors() {
        let mut csv = String::from("date,open,high,low,close\n");
        for i in 0..100 {
            csv.push_str(&format!("2024-01-01,x{i},1,1,1\n"));
        }
        assert_eq!(parse_csv(&csv).unwrap_err().len(), MAX_CSV_ERRORS);
    }

    #[test]
    fn sample_series_is_deterministic_and_valid() {
        let a = sample_series(500, 7);
        assert_eq!(a, sample_series(500, 7));
        assert_ne!(a.close, sample_series(500, 8).close);
        assert!(a.check().is_ok());
        for i in 0..a.len() {
            assert!(a.low[i] <= a.open[i].min(a.close[i]));
            assert!(a.high[i] >= a.open[i].max(a.close[i]));
            let dow = (a.ts[i] / 86_400 + 3).rem_euclid(7);
            assert!(dow < 5, "weekend bar at {i}");
        }
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
