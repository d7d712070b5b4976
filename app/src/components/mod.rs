//! Presentational components: props in, view out, no server calls.

pub mod delete_button;
pub mod job_panel;
pub mod pager;
pub mod progress_bar;
pub mod results;
pub mod status_badge;

pub use job_panel::JobPanel;
pub use pager::Pager;
pub use progress_bar::ProgressBar;
pub use status_badge::StatusBadge;

/// Formats a number of seconds as a short human duration ("45s", "3m 05s", "2h 10m").
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".into();
    }
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// An ISO-8601 UTC timestamp to the second, the same on the server and in the browser.
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(format_duration(4.4), "4s");
        assert_eq!(format_duration(185.0), "3m 05s");
        assert_eq!(format_duration(7800.0), "2h 10m");
        assert_eq!(format_duration(f64::NAN), "—");
    }
}
