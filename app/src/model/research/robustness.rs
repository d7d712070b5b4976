//! Robustness of a parameter search (issue 11): the settings a request may carry
//! ([`RobustnessConfig`]), the figures a result carries ([`Robustness`]), and their one-line
//! plain-language readings, shared by the server (which computes them) and the page (which shows
//! them). The method write-up is `docs/robustness.md`; each figure links to its section.

use serde::{Deserialize, Serialize};

use super::serde_finite::finite_or_null;
use crate::model::FieldError;

/// Default number of CSCV blocks `S`.
pub const DEFAULT_BLOCKS: usize = 16;
/// Largest number of CSCV blocks: C(20, 10) = 184,756 splits.
pub const MAX_BLOCKS: usize = 20;
/// Default number of bootstrap draws.
pub const DEFAULT_DRAWS: usize = 1_000;
/// Largest number of bootstrap draws.
pub const MAX_DRAWS: usize = 100_000;
/// Default seed of the bootstrap.
pub const DEFAULT_SEED: u64 = 42;
/// Default largest number of trials re-simulated for the PBO and the trial-Sharpe variance.
/// Above it an evenly spaced sample of the grid's runs is used (the result says so): CSCV costs
/// O(C(S, S/2) · trials), about 35 µs a trial at S = 16.
pub const DEFAULT_MAX_TRIALS: usize = 400;
/// Largest accepted `max_trials`.
pub const MAX_TRIALS: usize = 5_000;

/// Where each figure's method is explained: the server renders `docs/robustness.md` here, one
/// anchor per section (`#deflated-sharpe-ratio`, `#probability-of-backtest-overfitting`, …).
pub const DOCS_URL: &str = "/docs/robustness";

/// Robustness settings of an optimize or walk-forward request. Every field has a default, so
/// a request without `robustness` gets the standard figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustnessConfig {
    /// Compute the figures at all (default true).
    pub enabled: bool,
    /// CSCV blocks `S`: even, 2..=20 (default 16).
    pub blocks: usize,
    /// Bootstrap draws: 0 (skip the bootstrap) ..= 100,000 (default 1,000).
    pub draws: usize,
    /// Bootstrap seed (default 42): the same seed gives the same p-value.
    pub seed: u64,
    /// Most trials re-simulated for the PBO and the trial-Sharpe variance: 2..=5,000
    /// (default 400). Larger grids are sampled evenly.
    pub max_trials: usize,
}

impl Default for RobustnessConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            blocks: DEFAULT_BLOCKS,
            draws: DEFAULT_DRAWS,
            seed: DEFAULT_SEED,
            max_trials: DEFAULT_MAX_TRIALS,
        }
    }
}

impl RobustnessConfig {
    /// Checks the settings; errors name the field (`robustness.blocks`, …).
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.blocks < 2 || !self.blocks.is_multiple_of(2) || self.blocks > MAX_BLOCKS {
            return Err(FieldError::new(
                "robustness.blocks",
                format!(
                    "must be an even number from 2 to {MAX_BLOCKS}, got {}",
                    self.blocks
                ),
            ));
        }
        if self.draws > MAX_DRAWS {
            return Err(FieldError::new(
                "robustness.draws",
                format!("must be at most {MAX_DRAWS}, got {}", self.draws),
            ));
        }
        if !(2..=MAX_TRIALS).contains(&self.max_trials) {
            return Err(FieldError::new(
                "robustness.max_trials",
                format!("must be from 2 to {MAX_TRIALS}, got {}", self.max_trials),
            ));
        }
        Ok(())
    }
}

/// The Deflated Sharpe Ratio of the best run (Bailey & López de Prado, 2014). Sharpe ratios are
/// per bar, not annualized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeflatedSharpeFigure {
    /// The DSR: probability in 0..1 that the best run's true Sharpe ratio beats the best of
    /// `trials` runs with no edge.
    #[serde(with = "finite_or_null")]
    pub probability: f64,
    /// The best run's observed per-bar Sharpe ratio.
    #[serde(with = "finite_or_null")]
    pub observed_sharpe: f64,
    /// The expected maximum per-bar Sharpe ratio of `trials` runs with no edge (SR₀).
    #[serde(with = "finite_or_null")]
    pub expected_max_sharpe: f64,
    /// Number of trials `N` (every run of the search).
    pub trials: u64,
    /// Variance of the trials' per-bar Sharpe ratios `V` (from the trials used).
    #[serde(with = "finite_or_null")]
    pub var_trial_sharpes: f64,
    /// Skew of the best run's returns.
    #[serde(with = "finite_or_null")]
    pub skew: f64,
    /// Kurtosis (raw, 3 for normal) of the best run's returns.
    #[serde(with = "finite_or_null")]
    pub kurtosis: f64,
    /// Number of returns `T`.
    pub n_obs: u64,
}

/// The Probability of Backtest Overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PboFigure {
    /// PBO in 0..1: the share of splits whose in-sample best ranked at or below the
    /// out-of-sample median.
    #[serde(with = "finite_or_null")]
    pub pbo: f64,
    /// Share of splits whose in-sample best lost money out of sample.
    #[serde(with = "finite_or_null")]
    pub oos_loss_probability: f64,
    /// `S`.
    pub blocks: usize,
    /// Number of splits C(S, S/2).
    pub combinations: u64,
    /// Trials the CSCV ranked.
    pub trials: usize,
    /// Lower edge of the first logit bin.
    pub logit_min: f64,
    /// Width of a logit bin.
    pub logit_bin_width: f64,
    /// Splits per logit bin (λ = ln(ω/(1−ω)) of the in-sample best's out-of-sample rank).
    pub logit_counts: Vec<u64>,
}

/// A stationary block bootstrap test of the best run's mean return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapFigure {
    /// One-sided p-value of "the mean return is zero".
    #[serde(with = "finite_or_null")]
    pub p_value: f64,
    /// Observed mean per-bar return.
    #[serde(with = "finite_or_null")]
    pub observed_mean: f64,
    /// Draws.
    pub draws: usize,
    /// Expected block length.
    #[serde(with = "finite_or_null")]
    pub expected_block_length: f64,
    /// Seed.
    pub seed: u64,
}

/// The robustness figures of one search (an optimization, or one walk-forward fold's in-sample
/// search). A figure that could not be computed is `None` and `notes` says why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Robustness {
    /// The Deflated Sharpe Ratio of the best run.
    pub deflated_sharpe: Option<DeflatedSharpeFigure>,
    /// The Probability of Backtest Overfitting.
    pub pbo: Option<PboFigure>,
    /// The bootstrap significance of the best run.
    pub bootstrap: Option<BootstrapFigure>,
    /// Runs in the search.
    pub trials_total: u64,
    /// Runs re-simulated for the PBO and the trial-Sharpe variance.
    pub trials_used: u64,
    /// Whether `trials_used < trials_total` (an evenly spaced sample of the runs).
    pub sampled: bool,
    /// Why a figure is missing, or what to keep in mind, in plain words.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The robustness of a walk-forward: each fold's in-sample search, and the out-of-sample
/// significance of the stitched curve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WalkForwardRobustness {
    /// Median of the folds' PBO.
    #[serde(default)]
    pub median_pbo: Option<f64>,
    /// Median of the folds' DSR probability.
    #[serde(default)]
    pub median_dsr: Option<f64>,
    /// Bootstrap test of the stitched out-of-sample returns' mean.
    #[serde(default)]
    pub oos_bootstrap: Option<BootstrapFigure>,
    /// Why a figure is missing.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// `12870` as `12,870`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn pct(p: f64) -> String {
    format!("{:.0} %", (p * 100.0).clamp(0.0, 100.0))
}

impl DeflatedSharpeFigure {
    /// One line in plain words.
    pub fn reading(&self) -> String {
        let p = self.probability;
        let n = self.trials;
        if !p.is_finite() {
            return "Undefined: the best run's returns do not allow the test.".into();
        }
        if p >= 0.95 {
            format!(
                "Likely real: a {} chance the best run's edge survives the luck of {n} tries.",
                pct(p)
            )
        } else if p >= 0.5 {
            format!(
                "Inconclusive: only a {} chance the best run beats the best of {n} tries by luck alone.",
                pct(p)
            )
        } else {
            format!(
                "Likely luck: the best of {n} tries with no edge would look this good; only a {} chance it is real.",
                pct(p)
            )
        }
    }
}

impl PboFigure {
    /// One line in plain words.
    pub fn reading(&self) -> String {
        let p = self.pbo;
        if !p.is_finite() {
            return "Undefined.".into();
        }
        let verdict = if p >= 0.5 {
            "Likely overfit"
        } else if p >= 0.2 {
            "Some overfitting"
        } else {
            "Little sign of overfitting"
        };
        format!(
            "{verdict}: in {} of {} splits the in-sample best ranked at or below the out-of-sample median.",
            pct(p),
            thousands(self.combinations)
        )
    }
}

impl BootstrapFigure {
    /// One line in plain words.
    pub fn reading(&self) -> String {
        let p = self.p_value;
        if !p.is_finite() {
            return "Undefined.".into();
        }
        let verdict = if p <= 0.05 {
            "Significant"
        } else {
            "Not significant"
        };
        format!(
            "{verdict}: p = {p:.3}; {} of resamples with no edge did as well. It ignores the selection, so read it next to the DSR.",
            pct(p)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_validation_name_the_field() {
        let c: RobustnessConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, RobustnessConfig::default());
        assert!(c.validate().is_ok());
        for (json, field) in [
            (r#"{"blocks": 15}"#, "robustness.blocks"),
            (r#"{"blocks": 0}"#, "robustness.blocks"),
            (r#"{"blocks": 22}"#, "robustness.blocks"),
            (r#"{"draws": 100001}"#, "robustness.draws"),
            (r#"{"max_trials": 1}"#, "robustness.max_trials"),
            (r#"{"max_trials": 5001}"#, "robustness.max_trials"),
        ] {
            let c: RobustnessConfig = serde_json::from_str(json).unwrap();
            assert_eq!(c.validate().unwrap_err().field, field, "{json}");
        }
        assert!(serde_json::from_str::<RobustnessConfig>(r#"{"blokcs": 16}"#).is_err());
    }

    #[test]
    fn readings_follow_the_figures() {
        let dsr = |p| DeflatedSharpeFigure {
            probability: p,
            observed_sharpe: 0.1,
            expected_max_sharpe: 0.05,
            trials: 500,
            var_trial_sharpes: 0.001,
            skew: 0.0,
            kurtosis: 3.0,
            n_obs: 1000,
        };
        assert!(dsr(0.97).reading().starts_with("Likely real: a 97 %"));
        assert!(dsr(0.6).reading().starts_with("Inconclusive"));
        assert!(dsr(0.1).reading().contains("500 tries"));
        let pbo = PboFigure {
            pbo: 0.62,
            oos_loss_probability: 0.3,
            blocks: 16,
            combinations: 12_870,
            trials: 100,
            logit_min: -6.0,
            logit_bin_width: 0.5,
            logit_counts: vec![],
        };
        assert_eq!(
            pbo.reading(),
            "Likely overfit: in 62 % of 12,870 splits the in-sample best ranked at or below the out-of-sample median."
        );
    }
}
