//! The civil calendar on unix day numbers, shared by the engine (CSV times, metrics) and the
//! result views (dates in tables and on axes): chrono's proleptic Gregorian `NaiveDate`,
//! extended to every `i64` by whole 400-year cycles (after which the calendar repeats exactly).

use chrono::{Datelike, NaiveDate};

/// Days in the Gregorian calendar's 400-year cycle, after which it repeats exactly.
pub const DAYS_PER_400_YEARS: i64 = 146_097;
/// 1970-01-01 in chrono's `num_days_from_ce` count (0001-01-01 is day 1).
const UNIX_EPOCH_FROM_CE: i64 = 719_163;

/// Days since 1970-01-01 of the civil date `y-m-d` (`m` in 1..=12, `d` in 1..=31; a `d` past
/// the month's end counts on into the next). Any `y`: chrono covers ±262,143 years, so the year
/// is reduced modulo the 400-year cycle first. Saturates at the ends of `i64`.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let months = i128::from(y) * 12 + i128::from(m) - 1;
    let year = months.div_euclid(12);
    let month = months.rem_euclid(12) as u32 + 1; // 1..=12
    let cycles = year.div_euclid(400);
    let year_in_cycle = year.rem_euclid(400) as i32; // 0..400, well inside chrono's range
    let first = NaiveDate::from_ymd_opt(year_in_cycle, month, 1)
        .map_or(0, |date| i64::from(date.num_days_from_ce()));
    let days = cycles * i128::from(DAYS_PER_400_YEARS)
        + i128::from(first - UNIX_EPOCH_FROM_CE)
        + i128::from(d)
        - 1;
    days.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The civil date `(year, month, day)` of a day number since 1970-01-01 (any `i64`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    // 1970-01-01 + 0..146,097 days is 1970..2370, inside chrono's range; whole cycles go to the year.
    let cycles = z.div_euclid(DAYS_PER_400_YEARS);
    let rest = z.rem_euclid(DAYS_PER_400_YEARS);
    match NaiveDate::from_num_days_from_ce_opt((UNIX_EPOCH_FROM_CE + rest) as i32) {
        Some(date) => (
            i64::from(date.year()) + cycles * 400,
            date.month(),
            date.day(),
        ),
        None => (1970, 1, 1), // unreachable: the day lies in 1970..2370
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_is_chronos_and_repeats_every_400_years() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        // Every day from 1800 to 2300 agrees with chrono both ways.
        let (first, last) = (days_from_civil(1800, 1, 1), days_from_civil(2300, 1, 1));
        for z in first..last {
            let date = epoch + chrono::TimeDelta::days(z);
            let civil = (i64::from(date.year()), date.month(), date.day());
            assert_eq!(civil_from_days(z), civil);
            assert_eq!(days_from_civil(civil.0, civil.1, civil.2), z);
        }
        let cycle = 146_097;
        assert_eq!(civil_from_days(10_000_000 * cycle), (4_000_001_970, 1, 1));
        assert_eq!(days_from_civil(4_000_001_970, 1, 1), 10_000_000 * cycle);
        assert_eq!(days_from_civil(2024, 13, 1), days_from_civil(2025, 1, 1));
        assert_eq!(days_from_civil(i64::MAX, 12, 31), i64::MAX);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), i64::MIN);
    }
}
