//! CSV import: [`parse_csv`] turns OHLCV text into a [`Series`], reporting every bad row with
//! its line and column ([`CsvError`]). The `csv` crate splits the text into records (quoted
//! fields, doubled quotes, CRLF); this file finds the columns, checks each row and numbers the
//! lines.

use std::fmt;

use super::time::{clip, parse_time};
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
pub fn parse_csv_with_limit(text: &str, max_rows: usize) -> Result<Series, Vec<CsvError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let err = |line: usize, column: &str, message: String| CsvError {
        line,
        column: column.to_string(),
        message,
    };
    let Some(first_line) = text.split(['\n', '\r']).find(|l| !l.trim().is_empty()) else {
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
    let mut records = Records::new(text, delim);
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

/// The non-blank records of a CSV text, read one at a time, each with the line it starts on.
struct Records<'a> {
    text: &'a str,
    reader: csv::Reader<&'a [u8]>,
    /// The record [`Records::next_record`] read last.
    record: csv::StringRecord,
    /// Line breaks are counted up to this byte offset of `text`…
    counted: usize,
    /// …where this 1-based line starts.
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Short and long rows are not parse errors: missing fields are reported per column.
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        Records {
            text,
            reader,
            record: csv::StringRecord::new(),
            counted: 0,
            line: 1,
        }
    }

    /// Reads the next record that is not a blank line into `self.record` and returns the line
    /// it starts on; `None` at the end; an error (with its line) if the text cannot be read.
    fn next_record(&mut self) -> Option<Result<usize, (usize, String)>> {
        loop {
            let start = self.offset();
            let read = self.reader.read_record(&mut self.record);
            let raw = self.text.get(start..self.offset()).unwrap_or_default();
            // The reader skips empty lines before a record; the record starts after them.
            let lead = raw.len() - raw.trim_start_matches(['\r', '\n']).len();
            let line = self.line_at(start + lead);
            match read {
                Ok(false) => return None,
                // Whitespace-only lines are blank too.
                Ok(true) if raw.trim().is_empty() => continue,
                Ok(true) => return Some(Ok(line)),
                Err(e) => {
                    return Some(Err((
                        line,
                        format!("unreadable CSV: {}", clip(&e.to_string())),
                    )))
                }
            }
        }
    }

    fn offset(&self) -> usize {
        usize::try_from(self.reader.position().byte()).unwrap_or(usize::MAX)
    }

    /// The 1-based line of byte offset `pos` (not before the last one asked): `\n`, `\r\n` and
    /// a lone `\r` each end a line.
    fn line_at(&mut self, pos: usize) -> usize {
        let bytes = self.text.as_bytes();
        let pos = pos.min(bytes.len());
        for i in self.counted..pos {
            match bytes[i] {
                b'\n' => self.line += 1,
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.counted = self.counted.max(pos);
        self.line
    }
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

    /// `(line, column, message)` of every error.
    fn errors(csv: &str) -> Vec<(usize, String, String)> {
        parse_csv(csv)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.column, e.message))
            .collect()
    }

    #[test]
    fn a_quoted_field_may_hold_the_delimiter() {
        // An ignored column with commas and doubled quotes, a quoted date and quoted prices.
        let csv = "date,note,open,high,low,close\n\
                   \"2024-01-01\",\"split 2:1, \"\"adjusted\"\"\",\"10\",11,9,10.5\n\
                   2024-01-02,\"a, b, c\",10.5,12,10,11\n";
        let s = parse_csv(csv).unwrap();
        assert_eq!(s.ts, vec![1_704_067_200, 1_704_153_600]);
        assert_eq!(s.open, vec![10.0, 10.5]);
        assert_eq!(s.close, vec![10.5, 11.0]);
        // A quoted "1,234" is one field: the volume column is named, the others stay aligned
        // (thousands separators are not a number format).
        let csv = "date,open,high,low,close,volume\n2024-01-01,10,11,9,10,\"1,234\"\n";
        assert_eq!(
            errors(csv),
            vec![(2, "volume".into(), "not a number: \"1,234\"".into())]
        );
        // With `;` the quotes work the same.
        let csv = "Date;Open;High;Low;Close;Note\n2024-01-01;10;11;9;10;\"x; y\"\n";
        assert_eq!(parse_csv(csv).unwrap().len(), 1);
    }

    #[test]
    fn accepts_a_bom_crlf_extra_columns_and_any_column_order() {
        let csv = "\u{feff}Symbol,Close,Volume,Low,Date,High,Open,Adj Close\r\n\
                   ABC,10.5,100,9,2024-01-01,11,10,10.4\r\n\
                   \r\n\
                   ABC,11,200,10,2024-01-02,12,10.5,10.9\r\n";
        let s = parse_csv(csv).unwrap();
        assert_eq!(s.ts, vec![1_704_067_200, 1_704_153_600]);
        assert_eq!(s.open, vec![10.0, 10.5]);
        assert_eq!(s.high, vec![11.0, 12.0]);
        assert_eq!(s.low, vec![9.0, 10.0]);
        assert_eq!(s.close, vec![10.5, 11.0]);
        assert_eq!(s.volume, vec![100.0, 200.0]);
        // Line numbers count CRLF, blank and whitespace-only lines; the header name is kept as
        // written (after the BOM).
        let csv = "\u{feff}DATE,Open,High,Low,Close\r\n\
                   2024-01-01,10,11,9,10\r\n\
                   \r\n   \r\n\
                   2024-01-02,10,8,9,10\r\n";
        assert_eq!(
            errors(csv),
            vec![(5, "High".into(), "high 8 is below low 9".into())]
        );
        let e = errors("\u{feff}open,high,low,close\r\n1,1,1,1\r\n");
        assert_eq!(e[0].0, 1);
        assert_eq!(e[0].1, "date");
    }

    #[test]
    fn a_short_row_names_its_line_and_missing_columns() {
        let csv = "date,open,high,low,close,volume\n\
                   2024-01-01,10,11,9,10,5\n\
                   2024-01-02,10,11\n\
                   2024-01-03,10,11,9,10\n\
                   2024-01-04,10,11,9,10,5,extra,fields\n";
        let missing = "missing field (the row has 3 fields, the header 6)";
        assert_eq!(
            errors(csv),
            vec![
                (3, "low".into(), missing.into()),
                (3, "close".into(), missing.into()),
            ]
        );
        // A row with only a date.
        let e = errors("date,open,high,low,close\n2024-01-01\n");
        assert_eq!(e.len(), 4);
        assert!(e
            .iter()
            .all(|(line, _, m)| *line == 2 && m.contains("the row has 1 fields")));
    }

    #[test]
    fn rows_are_numbered_by_the_line_they_start_on() {
        // A quoted field spanning two lines: the next row is on line 4.
        let csv = "date,open,high,low,close,note\n\
                   2024-01-01,10,11,9,10,\"two\nlines\"\n\
                   2024-01-02,10,11,9,x,\n";
        assert_eq!(
            errors(csv),
            vec![(4, "close".into(), "not a number: \"x\"".into())]
        );
        // Old Mac line ends (a lone CR) end lines too.
        let csv = "date,open,high,low,close\r2024-01-01,10,11,9,10\r2024-01-01,10,11,9,10\r";
        assert_eq!(errors(csv)[0].0, 3);
    }

    #[test]
    fn an_unclosed_quote_gives_a_short_error() {
        let mut csv = String::from("date,open,high,low,close\n2024-01-01,\"10,11,9,10\n");
        for i in 0..10_000 {
            csv.push_str(&format!("2024-01-01,{i},{i},{i},{i}\n"));
        }
        let errs = parse_csv(&csv).unwrap_err();
        assert!(!errs.is_empty() && errs.len() <= MAX_CSV_ERRORS);
        assert_eq!(errs[0].line, 2);
        for e in &errs {
            assert!(e.to_string().len() < 200, "{e}");
        }
    }

    #[test]
    fn the_row_limit_counts_records_not_lines() {
        let csv = "date,open,high,low,close,note\n\
                   2024-01-01,1,1,1,1,\"a\nb\nc\"\n\n\
                   2024-01-02,1,1,1,1,\n";
        assert_eq!(parse_csv_with_limit(csv, 2).unwrap().len(), 2);
        let e = parse_csv_with_limit(csv, 1).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].line, e[0].message.as_str()),
            (6, "too many rows: the limit is 1")
        );
    }
}
