//! `runboard watch ID`: follows a job until it ends, as an indicatif bar on a terminal ("Run
//! i/N", ETA, rate) or as plain lines elsewhere, and turns its end state into the exit status.

use std::io::IsTerminal;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::client::Client;

/// Exit status of a job that ended SUCCEEDED.
pub const EXIT_SUCCEEDED: i32 = 0;
/// Exit status of a job that ended FAILED (and of any error of the client itself).
pub const EXIT_FAILED: i32 = 1;
/// Exit status of a job that ended CANCELLED.
pub const EXIT_CANCELLED: i32 = 3;

/// How often the status is asked for.
const POLL: Duration = Duration::from_secs(1);
/// The bar's resolution.
const BAR_LEN: u64 = 1_000;
/// Without a terminal, a line at most this often (and whenever the state changes).
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// The exit status for a terminal state, `None` while the job is live.
pub fn exit_code(state: &str) -> Option<i32> {
    match state {
        "SUCCEEDED" => Some(EXIT_SUCCEEDED),
        "FAILED" => Some(EXIT_FAILED),
        "CANCELLED" => Some(EXIT_CANCELLED),
        _ => None,
    }
}

/// `1h 02m`, `3m 07s`, `12s`.
pub fn fmt_eta(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "—".into();
    }
    let s = secs.round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

/// One status as a line: `RUNNING 45% Run 45/100 · ETA 12s · 8.1/s`.
pub fn status_line(status: &Value) -> String {
    let state = status["state"].as_str().unwrap_or("?");
    let mut line = state.to_string();
    if let Some(p) = status["progress"].as_f64() {
        line.push_str(&format!(" {:.0}%", (p * 100.0).floor()));
    }
    if let Some(m) = status["progress_message"].as_str() {
        line.push_str(&format!(" {m}"));
    }
    if let Some(e) = status["eta_seconds"].as_f64() {
        line.push_str(&format!(" · ETA {}", fmt_eta(e)));
    }
    if let Some(r) = status["rate_per_second"].as_f64() {
        line.push_str(&format!(" · {r:.1}/s"));
    }
    if let Some(e) = status["error"].as_str() {
        line.push_str(&format!(" · error: {e}"));
    }
    line
}

/// Follows job `id` until it ends (or `timeout` passes) and returns the exit status.
pub fn watch(client: &Client, id: &str, timeout: Option<Duration>) -> Result<i32> {
    let started = Instant::now();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(BAR_LEN);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {percent:>3}% {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut last_plain: Option<(String, Instant)> = None;
    loop {
        let status = client.call("job_status", json!({ "id": id }))?;
        let state = status["state"].as_str().unwrap_or("?").to_string();
        let line = status_line(&status);
        match &bar {
            Some(bar) => {
                let p = status["progress"].as_f64().unwrap_or(0.0).clamp(0.0, 1.0);
                bar.set_position((p * BAR_LEN as f64) as u64);
                bar.set_message(line.clone());
            }
            None => {
                let due = match &last_plain {
                    None => true,
                    Some((prev, at)) => !prev.starts_with(&state) || at.elapsed() >= PLAIN_EVERY,
                };
                if due || exit_code(&state).is_some() {
                    eprintln!("{line}");
                    last_plain = Some((line.clone(), Instant::now()));
                }
            }
        }
        if let Some(code) = exit_code(&state) {
            if let Some(bar) = bar {
                bar.finish_with_message(line);
            }
            println!("{id} {state}");
            return Ok(code);
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            if let Some(bar) = bar {
                bar.abandon();
            }
            bail!("job {id} is still {state} after the --timeout");
        }
        sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_states_map_to_exit_codes() {
        assert_eq!(exit_code("SUCCEEDED"), Some(0));
        assert_eq!(exit_code("FAILED"), Some(1));
        assert_eq!(exit_code("CANCELLED"), Some(3));
        assert_eq!(exit_code("RUNNING"), None);
        assert_eq!(exit_code("QUEUED"), None);
    }

    #[test]
    fn lines_read_like_the_active_job_panel() {
        let s = json!({"state": "RUNNING", "progress": 0.456, "progress_message": "Run 45/100",
                       "eta_seconds": 125.2, "rate_per_second": 8.14});
        assert_eq!(
            status_line(&s),
            "RUNNING 45% Run 45/100 · ETA 2m 05s · 8.1/s"
        );
        assert_eq!(
            status_line(&json!({"state": "FAILED", "error": "boom"})),
            "FAILED · error: boom"
        );
        assert_eq!(fmt_eta(3725.0), "1h 02m");
        assert_eq!(fmt_eta(f64::NAN), "—");
    }
}
