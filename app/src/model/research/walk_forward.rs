//! Walk-forward analysis: [`WalkForwardRequest`], its validation (including the total-runs
//! limit across folds) and the fold window arithmetic ([`FoldWindows`]).

use serde::{Deserialize, Serialize};

use super::account::Account;
use super::grid::{check_grid_warmup, GridSpec};
use super::limits::{check_dataset, shown, Limits};
use super::search::Search;
use crate::model::FieldError;

/// How in-sample windows move from fold to fold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkForwardMode {
    /// Fixed-length in-sample window sliding forward by one out-of-sample length.
    #[default]
    Rolling,
    /// In-sample window always starts at the first bar and grows.
    Anchored,
}

/// Walk-forward analysis: optimize on each in-sample window, test the winner out of sample.
///
/// Window lengths: with `in_sample_bars` and `out_of_sample_bars` both given they are used as
/// is; otherwise the data is split so that `in_sample + folds × out_of_sample = n_bars` and
/// `in_sample / (in_sample + out_of_sample) = in_sample_fraction`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardRequest {
    /// Dataset id.
    pub dataset_id: String,
    /// The strategy, the grid, the metric maximized in sample and the robustness settings.
    #[serde(flatten)]
    pub search: Search,
    /// Number of folds (default 5).
    #[serde(default = "default_folds")]
    pub folds: usize,
    /// Rolling or anchored.
    #[serde(default)]
    pub mode: WalkForwardMode,
    /// Share of an in-sample + out-of-sample window that is in sample (default 0.75).
    #[serde(default = "default_is_fraction")]
    pub in_sample_fraction: f64,
    /// Explicit in-sample length in bars (with `out_of_sample_bars`).
    #[serde(default)]
    pub in_sample_bars: Option<usize>,
    /// Explicit out-of-sample length in bars (with `in_sample_bars`).
    #[serde(default)]
    pub out_of_sample_bars: Option<usize>,
    /// The account every window starts with.
    #[serde(flatten)]
    pub account: Account,
}

/// Bar ranges of one fold, half-open `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldWindows {
    /// In-sample range.
    pub in_sample: (usize, usize),
    /// Out-of-sample range.
    pub out_of_sample: (usize, usize),
}

impl WalkForwardRequest {
    /// Checks everything that does not need the data.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        if self.search.rules.is_some() {
            // The grid names the program's parameters: the server expands and checks it.
            self.check_settings(limits)?;
            return self.search.validate(limits);
        }
        self.grid_spec(limits).map(|_| ())
    }

    /// Validates and expands a built-in's grid (and the fold settings).
    pub fn grid_spec(&self, limits: &Limits) -> Result<GridSpec, FieldError> {
        self.check_settings(limits)?;
        let spec = self.search.grid_spec(limits)?;
        self.check_total_runs(spec.runs, limits)?;
        Ok(spec)
    }

    /// Checks that `folds` grids of `runs_per_fold` runs stay within the walk-forward limit
    /// (the per-grid limit is not enough: 50 folds of a full grid is 50 grids).
    pub fn check_total_runs(&self, runs_per_fold: u64, limits: &Limits) -> Result<(), FieldError> {
        let total = (self.folds as u64).saturating_mul(runs_per_fold);
        if total > limits.max_walk_forward_runs {
            return Err(FieldError::new(
                "folds",
                format!(
                    "{} folds × {runs_per_fold} runs per fold = {total} runs, more than the \
                     limit of {} for a walk-forward analysis",
                    self.folds, limits.max_walk_forward_runs
                ),
            ));
        }
        Ok(())
    }

    /// Checks the dataset id, money, robustness and fold settings (not the grid).
    pub fn check_settings(&self, limits: &Limits) -> Result<(), FieldError> {
        check_dataset(&self.dataset_id)?;
        self.account.validate()?;
        self.search.robustness.validate()?;
        if self.folds == 0 || self.folds > limits.max_folds {
            return Err(FieldError::new(
                "folds",
                format!(
                    "must be between 1 and {}, got {}",
                    limits.max_folds, self.folds
                ),
            ));
        }
        match (self.in_sample_bars, self.out_of_sample_bars) {
            (Some(_), None) => {
                return Err(FieldError::new(
                    "out_of_sample_bars",
                    "give both window lengths or neither",
                ))
            }
            (None, Some(_)) => {
                return Err(FieldError::new(
                    "in_sample_bars",
                    "give both window lengths or neither",
                ))
            }
            _ => {}
        }
        if self.in_sample_bars.is_none()
            && !(self.in_sample_fraction > 0.0 && self.in_sample_fraction < 1.0)
        {
            return Err(FieldError::new(
                "in_sample_fraction",
                format!(
                    "must be strictly between 0 and 1, got {}",
                    shown(self.in_sample_fraction)
                ),
            ));
        }
        Ok(())
    }

    /// The fold windows for `n_bars` bars, or an error saying why the folds do not fit.
    pub fn windows(&self, n_bars: usize) -> Result<Vec<FoldWindows>, FieldError> {
        let folds = self.folds.max(1);
        let (is_len, oos_len) = match (self.in_sample_bars, self.out_of_sample_bars) {
            (Some(i), Some(o)) => (i, o),
            _ => {
                let r = self.in_sample_fraction;
                // n = IS + F·OOS and IS = OOS·r/(1-r)  ⇒  OOS = n / (F + r/(1-r)).
                let oos = (n_bars as f64 / (folds as f64 + r / (1.0 - r))).floor();
                let oos = if oos.is_finite() && oos > 0.0 {
                    oos as usize
                } else {
                    0
                };
                (n_bars.saturating_sub(folds * oos), oos)
            }
        };
        if oos_len < 2 {
            return Err(FieldError::new(
                "folds",
                format!(
                    "{folds} folds do not fit in {n_bars} bars: each out-of-sample window would have {oos_len} bars (need ≥ 2)"
                ),
            ));
        }
        let needed = is_len.saturating_add(folds.saturating_mul(oos_len));
        if needed > n_bars {
            return Err(FieldError::new(
                "folds",
                format!(
                    "{folds} folds of {is_len} in-sample + {oos_len} out-of-sample bars need {needed} bars, the dataset has {n_bars}"
                ),
            ));
        }
        Ok((0..folds)
            .map(|f| {
                let is_end = is_len + f * oos_len;
                let is_start = match self.mode {
                    WalkForwardMode::Rolling => f * oos_len,
                    WalkForwardMode::Anchored => 0,
                };
                FoldWindows {
                    in_sample: (is_start, is_end),
                    out_of_sample: (is_end, is_end + oos_len),
                }
            })
            .collect())
    }

    /// The fold windows over `n_bars` bars, checked: the folds fit and, given `spec` (this
    /// request's expanded built-in grid, from [`grid_spec`](Self::grid_spec)), the grid's
    /// largest windows warm up within the shortest in-sample window. A rule program's warm-up
    /// is checked by the server, against [`shortest_in_sample`].
    pub fn fit(
        &self,
        spec: Option<&GridSpec>,
        n_bars: usize,
    ) -> Result<Vec<FoldWindows>, FieldError> {
        let folds = self.windows(n_bars)?;
        if let Some(spec) = spec {
            check_grid_warmup(
                spec,
                shortest_in_sample(&folds),
                "the first in-sample window",
            )
            .map_err(|e| FieldError::new("folds", e.to_string()))?;
        }
        Ok(folds)
    }
}

/// Bars in the shortest in-sample window of `folds` (0 without folds).
pub fn shortest_in_sample(folds: &[FoldWindows]) -> usize {
    folds
        .iter()
        .map(|w| w.in_sample.1 - w.in_sample.0)
        .min()
        .unwrap_or(0)
}

fn default_folds() -> usize {
    5
}
fn default_is_fraction() -> f64 {
    0.75
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::research::test_support::{r, sma_grid};
    use crate::model::research::{Metric, ParamRange, StrategyKind};
    use std::collections::BTreeMap;

    /// A rolling 5-fold SMA-cross request over `grid` (n1, n2), windows split 3:1.
    fn sma_request(grid: BTreeMap<String, ParamRange>) -> WalkForwardRequest {
        WalkForwardRequest {
            dataset_id: "d".into(),
            search: Search::new(StrategyKind::SmaCross, grid, Metric::Sharpe),
            folds: 5,
            mode: WalkForwardMode::Rolling,
            in_sample_fraction: 0.75,
            in_sample_bars: None,
            out_of_sample_bars: None,
            account: Account::default(),
        }
    }

    #[test]
    fn folds_that_do_not_fit_are_refused() {
        let req = WalkForwardRequest {
            folds: 10,
            in_sample_bars: Some(500),
            out_of_sample_bars: Some(100),
            ..sma_request(sma_grid(r(5.0, 10.0, 5.0), r(20.0, 40.0, 10.0)).search.grid)
        };
        let spec = req.grid_spec(&Limits::default()).unwrap();
        let e = req.fit(Some(&spec), 1000).unwrap_err();
        assert_eq!(e.field, "folds");
        assert!(e.message.contains("1500"), "{}", e.message);
        assert!(req.fit(Some(&spec), 1500).is_ok());
        let w = req.windows(1500).unwrap();
        assert_eq!(w[0].in_sample, (0, 500));
        assert_eq!(w[9].out_of_sample, (1400, 1500));
    }

    #[test]
    fn fraction_split_covers_the_data() {
        let req = WalkForwardRequest {
            folds: 4,
            mode: WalkForwardMode::Anchored,
            ..sma_request(sma_grid(r(5.0, 10.0, 5.0), r(20.0, 40.0, 10.0)).search.grid)
        };
        // OOS = floor(1000 / (4 + 3)) = 142, IS = 1000 - 4·142 = 432.
        let w = req.windows(1000).unwrap();
        assert_eq!(w[0].in_sample, (0, 432));
        assert_eq!(w[0].out_of_sample, (432, 574));
        assert_eq!(w[3].in_sample, (0, 858));
        assert_eq!(w[3].out_of_sample, (858, 1000));
    }

    #[test]
    fn walk_forward_total_runs_are_limited_across_folds() {
        // 100 × 100 values, 4,950 admissible runs per fold (n1 < n2).
        let req = WalkForwardRequest {
            folds: 50,
            ..sma_request(sma_grid(r(2.0, 101.0, 1.0), r(2.0, 101.0, 1.0)).search.grid)
        };
        let limits = Limits {
            max_walk_forward_runs: 200_000,
            ..Limits::default()
        };
        let e = req.validate(&limits).unwrap_err();
        assert_eq!(e.field, "folds");
        assert!(e.message.contains("247500"), "{}", e.message);
        assert!(e.message.contains("200000"), "{}", e.message);
        // Within the total, and within the per-fold limit, it is accepted.
        let fewer = WalkForwardRequest { folds: 40, ..req };
        assert!(fewer.validate(&limits).is_ok());
        assert_eq!(Limits::default().max_walk_forward_runs, 1_000_000);
    }
}
