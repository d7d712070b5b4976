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

/// An ISO-8601 UTC timestamp to the second (`2026-12-07T21:32:15Z`), the same on the server and
/// in the browser. Written here rather than with chrono's formatter, whose code would otherwise
/// ship in every island that shows a time.
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    let s = t.timestamp();
    let secs = s.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        results::format::fmt_date(s),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_chronos_rfc3339_to_the_second() {
        for secs in [
            0,
            1,
            59,
            86_399,
            86_400,
            951_782_400,
            1_765_143_135,
            4_102_444_799,
        ] {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            let chrono_text = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            assert_eq!(format_time(&t), chrono_text);
        }
        let before_1970 = chrono::DateTime::from_timestamp(-1, 0).unwrap();
        assert_eq!(format_time(&before_1970), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(format_duration(4.4), "4s");
        assert_eq!(format_duration(185.0), "3m 05s");
        assert_eq!(format_duration(7800.0), "2h 10m");
        assert_eq!(format_duration(f64::NAN), "—");
    }
}
