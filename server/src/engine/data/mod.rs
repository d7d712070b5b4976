//! OHLCV bars in memory: the [`Series`] struct of arrays, CSV import with per-line errors, and
//! the deterministic synthetic sample dataset.
//!
//! Dates are parsed here (the calendar is chrono's) and kept as unix seconds, UTC; naive
//! date-times are taken as UTC.
//!
//! One concern per file, all re-exported here: `csv` (import with per-line errors; the `csv`
//! crate tokenizes), `time` (date parsing, calendar arithmetic and the accepted time range) and
//! `sample` (the seeded generator and the synthetic dataset).

mod csv;
mod sample;
mod time;

pub use csv::{
    parse_csv, parse_csv_reader, parse_csv_with_limit, DEFAULT_MAX_ROWS, MAX_CSV_ERRORS,
};
pub use sample::{sample_series, SplitMix64};
pub use time::{
    civil_from_days, days_from_civil, parse_time, MAX_TIMESTAMP, MIN_TIMESTAMP, TIMESTAMP_RANGE,
};

/// Bars as a struct of arrays (all the same length, times strictly increasing).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Bar time, unix seconds (UTC).
    pub ts: Vec<i64>,
    /// Open prices.
    pub open: Vec<f64>,
    /// High prices.
    pub high: Vec<f64>,
    /// Low prices.
    pub low: Vec<f64>,
    /// Close prices.
    pub close: Vec<f64>,
    /// Volume (0 when the file has none).
    pub volume: Vec<f64>,
}

impl Series {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.close.len()
    }

    /// Whether there are no bars.
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// Bars `[start, end)` as a new series (used for walk-forward windows and tests).
    pub fn slice(&self, start: usize, end: usize) -> Series {
        let end = end.min(self.len());
        let start = start.min(end);
        Series {
            ts: self.ts[start..end].to_vec(),
            open: self.open[start..end].to_vec(),
            high: self.high[start..end].to_vec(),
            low: self.low[start..end].to_vec(),
            close: self.close[start..end].to_vec(),
            volume: self.volume[start..end].to_vec(),
        }
    }

    /// [`check`](Self::check), as the engine reports it: an invalid `dataset_id`.
    pub fn checked(&self) -> Result<(), super::EngineError> {
        self.check().map_err(|m| super::EngineError::InvalidInput {
            field: "dataset_id".into(),
            message: m,
        })
    }

    /// Checks the invariants the engine relies on (equal lengths, finite positive prices,
    /// increasing times between [`MIN_TIMESTAMP`] and [`MAX_TIMESTAMP`]). Data from
    /// [`parse_csv`] always passes, and so does [`sample_series`] up to ~40,000 bars.
    pub fn check(&self) -> Result<(), String> {
        let n = self.len();
        if [
            self.ts.len(),
            self.open.len(),
            self.high.len(),
            self.low.len(),
            self.volume.len(),
        ]
        .iter()
        .any(|&l| l != n)
        {
            return Err("columns have different lengths".into());
        }
        if n == 0 {
            return Err("the dataset has no bars".into());
        }
        for i in 0..n {
            for p in [self.open[i], self.high[i], self.low[i], self.close[i]] {
                if !(p.is_finite() && p > 0.0) {
                    return Err(format!("bar {i}: prices must be finite and > 0"));
                }
            }
            if !(MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&self.ts[i]) {
                return Err(format!(
                    "bar {i}: time {} is outside {TIMESTAMP_RANGE} (UTC)",
                    self.ts[i]
                ));
            }
            if i > 0 && self.ts[i] <= self.ts[i - 1] {
                return Err(format!("bar {i}: times are not strictly increasing"));
            }
        }
        Ok(())
    }
}
