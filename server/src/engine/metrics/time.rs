//! The calendar of a window of bars ([`TimeInfo`]): how many periods make a year, where each
//! calendar period ends, the resolution durations are rounded to, and the span in years.

/// Calendar facts about a window of bar times, computed once and shared by all runs on it.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeInfo {
    /// `D`: 52 for weekly data, 12 monthly, 1 yearly, else 365 if more than 60% of the 2/7
    /// weekend share of bars fall on weekends (crypto) and 252 otherwise (backtesting.py).
    pub annual_periods: f64,
    /// Index of the last bar of each calendar period (day, week ending Sunday, month or year,
    /// by the data's median spacing) — pandas `resample(freq).last()`.
    pub period_last_bar: Vec<usize>,
    /// Durations are rounded up to this many seconds (the data spacing's resolution: a day, an
    /// hour, a minute or a second), as backtesting.py's `_round_timedelta`.
    pub resolution_secs: i64,
    /// `(t_{n-1} - t_0)` in years of 365.25 days.
    pub years: f64,
}

impl TimeInfo {
    /// Derives the calendar facts from bar times (unix seconds, increasing).
    ///
    /// The spacing is the median of the last 100 bars' gaps (`_data_period`); `freq_days` is it
    /// in whole days.
    pub fn new(ts: &[i64]) -> Self {
        let n = ts.len();
        let tail = &ts[n.saturating_sub(100)..];
        let mut gaps: Vec<i64> = tail.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
        gaps.sort_unstable();
        let median = match gaps.len() {
            0 => None,
            m if m % 2 == 1 => Some(gaps[m / 2] as f64),
            m => Some((gaps[m / 2 - 1] as f64 + gaps[m / 2] as f64) / 2.0),
        };
        let freq_days = median.map(|s| (s / 86_400.0).floor() as i64);
        let weekend = ts
            .iter()
            .filter(|t| (t.div_euclid(86_400) + 3).rem_euclid(7) >= 5)
            .count();
        let have_weekends = n > 0 && (weekend as f64 / n as f64) > 2.0 / 7.0 * 0.6;
        let annual_periods = match freq_days {
            Some(7) => 52.0,
            Some(31) => 12.0,
            Some(365) => 1.0,
            _ if have_weekends => 365.0,
            _ => 252.0,
        };
        let key = |t: i64| -> i64 {
            let day = t.div_euclid(86_400);
            match freq_days {
                // Weeks ending Sunday: 1970-01-01 is a Thursday, so (day + 3) / 7 changes on Mondays.
                Some(7) => (day + 3).div_euclid(7),
                Some(31) => {
                    let (y, m, _) = crate::engine::data::civil_from_days(day);
                    y * 12 + m as i64
                }
                Some(365) => crate::engine::data::civil_from_days(day).0,
                _ => day,
            }
        };
        let mut period_last_bar = Vec::new();
        for i in 0..n {
            if i + 1 == n || key(ts[i]) != key(ts[i + 1]) {
                period_last_bar.push(i);
            }
        }
        let resolution_secs = match median {
            Some(s) if s >= 1.0 => {
                let s = s as i64;
                if s % 86_400 == 0 {
                    86_400
                } else if s % 3_600 == 0 {
                    3_600
                } else if s % 60 == 0 {
                    60
                } else {
                    1
                }
            }
            _ => 1,
        };
        let years = if n > 0 {
            ts[n - 1].saturating_sub(ts[0]) as f64 / 86_400.0 / 365.25
        } else {
            0.0
        };
        TimeInfo {
            annual_periods,
            period_last_bar,
            resolution_secs,
            years,
        }
    }
}
