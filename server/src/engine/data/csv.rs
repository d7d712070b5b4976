//! CSV import: [`parse_csv`] turns OHLCV text into a [`Series`], reporting every bad row with
//! its line and column ([`CsvError`]).

use std::fmt;

use super::time::parse_time;
use super::Series;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
