//! Tests of `csv.rs`.

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

/// A reader that hands out at most `chunk` bytes a call, then fails after `fail_after`
/// bytes when set (a cut-off upload).
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
    fail_after: Option<usize>,
    at: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_after.is_some_and(|f| self.at >= f) {
            return Err(std::io::Error::other(format!(
                "the upload was cut off after {} bytes",
                self.at
            )));
        }
        let n = self.chunk.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn synthetic(rows: usize) -> String {
    let mut csv = String::from("\u{feff}date,open,high,low,close,volume\r\n");
    for i in 0..rows {
        let p = 100.0 + (i % 17) as f64;
        csv.push_str(&format!(
            "{},{p},{},{},{p},{}\r\n",
            1_600_000_000 + i * 60,
            p + 1.0,
            p - 1.0,
            i
        ));
        if i % 1_000 == 0 {
            csv.push_str("\r\n");
        }
    }
    csv
}

#[test]
fn a_stream_read_a_byte_at_a_time_parses_like_the_whole_text() {
    let csv = synthetic(2_500);
    let whole = parse_csv(&csv).unwrap();
    let mut calls = Vec::new();
    let streamed = parse_csv_reader(
        Trickle {
            data: csv.as_bytes(),
            chunk: 1,
            fail_after: None,
            at: 0,
        },
        DEFAULT_MAX_ROWS,
        &mut |rows| {
            calls.push(rows);
            true
        },
    )
    .unwrap();
    assert_eq!(streamed, whole);
    assert_eq!(streamed.len(), 2_500);
    assert_eq!(calls, vec![1_000, 2_000]);
    // Line numbers still count blank lines and CRLF: the bad row below is on line 5.
    let csv = "date,open,high,low,close\r\n2024-01-01,1,1,1,1\r\n\r\n\r\n2024-01-02,1,1,1,x\r\n";
    let e = parse_csv_reader(
        Trickle {
            data: csv.as_bytes(),
            chunk: 3,
            fail_after: None,
            at: 0,
        },
        10,
        &mut |_| true,
    )
    .unwrap_err();
    assert_eq!((e[0].line, e[0].column.as_str()), (5, "close"));
}

#[test]
fn a_cut_off_stream_names_its_line_and_a_stop_ends_the_parse() {
    let csv = synthetic(3_000);
    let e = parse_csv_reader(
        Trickle {
            data: csv.as_bytes(),
            chunk: 4096,
            fail_after: Some(50_000),
            at: 0,
        },
        DEFAULT_MAX_ROWS,
        &mut |_| true,
    )
    .unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message.starts_with("the upload was cut off after"),
        "{e:?}"
    );
    assert!(e[0].line > 100, "{e:?}");
    let e =
        parse_csv_reader(csv.as_bytes(), DEFAULT_MAX_ROWS, &mut |rows| rows < 2_000).unwrap_err();
    assert_eq!(e[0].message, "the import was stopped");
}

#[test]
fn mixed_delimiters_are_named() {
    let e = errors("date,open,high,low,close\n2024-01-01;1;1;1;1\n");
    assert_eq!(
        e,
        vec![(
            2,
            "".into(),
            "mixed delimiters: this row is separated by ';' but the header by ','".into()
        )]
    );
}
