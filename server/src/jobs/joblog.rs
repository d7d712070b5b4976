//! Per-job run logs: `<runs>/<job id>/artifacts/run.log`, one timestamped line per event.
//!
//! Paths derive from the job's UUID and the configured runs directory only, never from user
//! text: `JobStore::log_file` (built on `app::model::job::log_path_in`) gives the file, and the
//! job's stored `log_path` names the same file. A log that cannot be written is reported once in
//! the server log and otherwise ignored: logging must not fail a job.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The most lines a tail request may ask for.
pub const MAX_TAIL_LINES: usize = 1_000;
/// How far back from the end a tail reads at most.
const TAIL_WINDOW_BYTES: u64 = 256 * 1024;

/// An open run log.
#[derive(Debug)]
pub struct JobLog {
    path: PathBuf,
    file: Option<File>,
}

impl JobLog {
    /// Opens (creating directories as needed) the log at `path` for appending.
    pub fn open(path: PathBuf) -> JobLog {
        let file = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
        match file {
            Ok(file) => JobLog {
                path,
                file: Some(file),
            },
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot open the job log");
                JobLog { path, file: None }
            }
        }
    }

    /// Appends `2026-11-28T21:43:31.123Z  message`.
    pub fn line(&mut self, message: &str) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let one_line = message.replace('\n', " ⏎ ");
        if let Err(e) = writeln!(file, "{now}  {one_line}") {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the job log");
            self.file = None;
        }
    }
}

/// The last `n` lines of the log at `path` (empty if it does not exist yet).
pub fn tail(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_WINDOW_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // a partial first line
    }
    let skip = lines.len().saturating_sub(n.min(MAX_TAIL_LINES));
    Ok(lines[skip..].iter().map(|s| s.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_returns_the_last_lines_in_order() {
        let dir = std::env::temp_dir().join(format!("runboard-log-{}", uuid::Uuid::new_v4()));
        let path = dir.join("artifacts/run.log");
        let mut log = JobLog::open(path.clone());
        for i in 1..=5 {
            log.line(&format!("line {i}"));
        }
        let last = tail(&path, 2).unwrap();
        assert_eq!(last.len(), 2);
        assert!(last[0].ends_with("  line 4"), "{last:?}");
        assert!(last[1].ends_with("  line 5"), "{last:?}");
        assert!(tail(&dir.join("missing.log"), 3).unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
