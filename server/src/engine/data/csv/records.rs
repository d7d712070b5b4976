//! Reading a CSV stream record by record: a byte order mark dropped, every line end made one
//! `\n`, blank lines skipped, and each record with the line it starts on.

use std::io::Read;

use crate::engine::data::time::clip;

/// The non-blank records of a CSV stream, read one at a time, each with the line it starts on.
pub(super) struct Records<R: Read> {
    reader: csv::Reader<R>,
    /// The record [`Records::next_record`] read last.
    pub(super) record: csv::StringRecord,
}

impl<R: Read> Records<R> {
    pub(super) fn new(input: R, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Short and long rows are not parse errors: missing fields are reported per column.
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(input);
        Records {
            reader,
            record: csv::StringRecord::new(),
        }
    }

    /// Reads the next record that is not a blank line into `self.record` and returns the line
    /// it starts on; `None` at the end; an error (with its line) if the text cannot be read.
    pub(super) fn next_record(&mut self) -> Option<Result<usize, (usize, String)>> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                // Whitespace-only lines are blank too.
                Ok(true) if self.record.len() == 1 && self.record[0].trim().is_empty() => continue,
                Ok(true) => {
                    let line = self.record.position().map_or(0, |p| p.line()) as usize;
                    return Some(Ok(line));
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line()) as usize;
                    let line = if line == 0 {
                        self.reader.position().line() as usize
                    } else {
                        line
                    };
                    let message = match e.kind() {
                        csv::ErrorKind::Io(io) => read_error(io),
                        _ => format!("unreadable CSV: {}", clip(&e.to_string())),
                    };
                    return Some(Err((line, message)));
                }
            }
        }
    }
}

/// A read error in words: the reader's own message (e.g. "the upload was cut off after
/// 1,024 bytes"), or "not valid UTF-8".
pub(super) fn read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::InvalidData if e.get_ref().is_none() => "not valid UTF-8 text".into(),
        _ => e.to_string().chars().take(200).collect(),
    }
}

/// The input as the CSV reader should see it: without a leading UTF-8 byte order mark, with
/// every line end (`\r\n`, a lone `\r`, `\n`) a single `\n` (so the reader's line numbers
/// count old Mac files right), and with a space on every empty line (the reader skips empty
/// lines, which would put a record's line number on the blank line before it; a line holding
/// only a space is read as a blank record, which [`Records`] skips).
pub(super) struct Normalize<R> {
    inner: R,
    /// Still to check for the BOM (until the first read).
    at_start: bool,
    /// The last byte read was a `\r` (so a `\n` right after it is dropped).
    after_cr: bool,
    /// The last byte passed on ended a line (true at the start).
    line_start: bool,
    /// Raw bytes read, and the transformed bytes not yet handed out.
    raw: Vec<u8>,
    out: std::collections::VecDeque<u8>,
}

impl<R: Read> Normalize<R> {
    pub(super) fn new(inner: R) -> Self {
        Normalize {
            inner,
            at_start: true,
            after_cr: false,
            line_start: true,
            raw: vec![0; 16 * 1024],
            out: std::collections::VecDeque::new(),
        }
    }

    fn push(&mut self, b: u8) {
        if b == b'\n' && self.line_start {
            self.out.push_back(b' ');
        }
        self.out.push_back(b);
        self.line_start = b == b'\n';
    }
}

impl<R: Read> Read for Normalize<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out.is_empty() {
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                return Ok(0);
            }
            let mut start = 0;
            if self.at_start {
                self.at_start = false;
                if self.raw[..n].starts_with(&[0xEF, 0xBB, 0xBF]) {
                    start = 3;
                }
            }
            for i in start..n {
                let b = self.raw[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                self.push(if b == b'\r' { b'\n' } else { b });
            }
        }
        let n = buf.len().min(self.out.len());
        for (slot, b) in buf.iter_mut().zip(self.out.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}
