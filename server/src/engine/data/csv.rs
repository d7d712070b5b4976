//! CSV import: [`parse_csv`] turns OHLCV text into a [`Series`], reporting every bad row with
//! its line and column ([`CsvIssue`]). The `csv` crate splits the text into records (quoted
//! fields, doubled quotes, CRLF), read through `records` (the byte order mark, line ends and
//! blank lines); this file finds the columns, checks each row and numbers the lines.

use std::io::Read;

use app::model::CsvIssue;

use super::time::{clip, parse_time};
use super::Series;

mod records;

use records::{read_error, Normalize, Records};

/// Most errors collected from one file before giving up.
pub const MAX_CSV_ERRORS: usize = 20;

/// Default row limit of [`parse_csv`].
pub const DEFAULT_MAX_ROWS: usize = 1_000_000;

/// Parses OHLCV CSV text with at most [`DEFAULT_MAX_ROWS`] rows; see [`parse_csv_with_limit`].
pub fn parse_csv(text: &str) -> Result<Series, Vec<CsvIssue>> {
    parse_csv_with_limit(text, DEFAULT_MAX_ROWS)
}

const TIME_NAMES: [&str; 5] = ["date", "datetime", "time", "timestamp", "date_time"];

/// Parses OHLCV CSV text.
///
/// The header row is required; column names are case-insensitive: one of
/// `date|datetime|time|timestamp`, then `open`, `high`, `low`, `close` and optionally `volume`
/// (missing → 0), in any order; other columns are ignored. The delimiter is `,` (or `;` / tab
/// when the header has no comma). Fields may be quoted (`"a, b"`, `""` for a quote); a UTF-8
/// BOM and CRLF line ends are accepted. Times may be `YYYY-MM-DD`, `YYYY/MM/DD`, either followed
/// by ` HH:MM[:SS[.f]]` or `THH:MM:SS[.f]` with an optional `Z` or `±HH:MM` offset, or integer
/// unix seconds. Naive times are UTC and must lie in 1900-01-01..2200-01-01 (UTC). Blank lines
/// are skipped.
///
/// Every bad row is reported with its line (header = line 1; a row is numbered by the line it
/// starts on) and column: missing field (also when the row is short), not a number, bad date,
/// high < low, open/close outside [low, high], negative volume, times not strictly increasing;
/// also an empty file and more than `max_rows` rows. At most [`MAX_CSV_ERRORS`] errors are
/// collected and each quotes at most 40 characters of a field. Nothing is returned unless the
/// whole file is valid.
pub fn parse_csv_with_limit(text: &str, max_rows: usize) -> Result<Series, Vec<CsvIssue>> {
    parse_csv_reader(text.as_bytes(), max_rows, &mut |_| true)
}

/// Rows between two calls of the progress callback of [`parse_csv_reader`].
pub const ROWS_PER_PROGRESS: usize = 1_000;

/// Longest first line read to choose the delimiter.
const MAX_HEADER_PEEK: usize = 64 * 1024;

/// [`parse_csv_with_limit`] over any reader, incrementally: the text is never held whole, only
/// the parsed columns. `progress(rows)` is called every [`ROWS_PER_PROGRESS`] rows; returning
/// `false` stops with an error. A read error (a cut-off upload, a body that is not gzip) is
/// reported at the line where it happened, with the reader's own message.
pub fn parse_csv_reader<R: Read>(
    input: R,
    max_rows: usize,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Result<Series, Vec<CsvIssue>> {
    let err = |line: usize, column: &str, message: String| CsvIssue {
        line,
        column: column.to_string(),
        message,
    };
    let mut input = Normalize::new(input);
    // The first non-blank line picks the delimiter: read up to it (at most 64 KiB).
    let mut head: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let has_line = head
            .iter()
            .position(|b: &u8| !b.is_ascii_whitespace())
            .is_some_and(|start| head[start..].contains(&b'\n'));
        if has_line || head.len() >= MAX_HEADER_PEEK {
            break;
        }
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(vec![err(1, "", read_error(&e))]),
        }
    }
    let first_line = String::from_utf8_lossy(&head)
        .split('\n')
        .find(|l| !l.trim().is_empty())
        .map(str::to_string);
    let Some(first_line) = first_line else {
        return Err(vec![err(1, "", "the file is empty".into())]);
    };
    let delim = if first_line.contains(',') {
        b','
    } else if first_line.contains(';') {
        b';'
    } else if first_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut records = Records::new(std::io::Cursor::new(head).chain(input), delim);
    let header_line = match records.next_record() {
        None => return Err(vec![err(1, "", "the file is empty".into())]),
        Some(Err((line, m))) => return Err(vec![err(line, "", m)]),
        Some(Ok(line)) => line,
    };
    let names: Vec<String> = records
        .record
        .iter()
        .map(clean)
        .map(str::to_string)
        .collect();
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
    while errors.len() < MAX_CSV_ERRORS {
        let line = match records.next_record() {
            None => break,
            Some(Ok(line)) => line,
            Some(Err((line, m))) => {
                errors.push(err(line, "", m));
                break;
            }
        };
        rows += 1;
        if rows.is_multiple_of(ROWS_PER_PROGRESS) && !progress(rows) {
            errors.push(err(line, "", "the import was stopped".into()));
            break;
        }
        if records.record.len() == 1 && names.len() > 1 {
            let field = &records.record[0];
            let other = [b',', b';', b'\t']
                .into_iter()
                .find(|d| *d != delim && field.as_bytes().contains(d));
            if let Some(d) = other {
                errors.push(err(
                    line,
                    "",
                    format!(
                        "mixed delimiters: this row is separated by {:?} but the header by {:?}",
                        d as char, delim as char
                    ),
                ));
                continue;
            }
        }
        if rows > max_rows {
            errors.push(err(
                line,
                "",
                format!("too many rows: the limit is {max_rows}"),
            ));
            break;
        }
        let record = &records.record;
        let get = |c: usize| record.get(c).map(clean).filter(|f| !f.is_empty());
        let missing = |c: usize| {
            if c < record.len() {
                "missing field".to_string()
            } else {
                format!(
                    "missing field (the row has {} fields, the header {})",
                    record.len(),
                    names.len()
                )
            }
        };
        let before = errors.len();
        let t = match get(time_col) {
            None => {
                errors.push(err(line, &names[time_col], missing(time_col)));
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
                None => errors.push(err(line, &names[c], missing(c))),
                Some(f) => match f.parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => px[k] = v,
                    Ok(v) if v.is_finite() => {
                        errors.push(err(
                            line,
                            &names[c],
                            format!("price must be > 0, got {}", clip(f)),
                        ));
                        px[k] = v;
                    }
                    _ => errors.push(err(line, &names[c], format!("not a number: {:?}", clip(f)))),
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
                    errors.push(err(line, &names[c], format!("not a number: {:?}", clip(f))));
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

/// A field without surrounding blanks or stray quotes (` "x" ` after a delimiter is not quoted
/// for CSV, but it is meant to be).
fn clean(f: &str) -> &str {
    f.trim().trim_matches('"').trim()
}

#[cfg(test)]
mod tests;
