//! The form's model, free of any view: what the user typed ([`FormInput`], kept as text) and
//! its conversion to a validated [`JobRequest`], naming the first field that is wrong.

use std::collections::BTreeMap;

use crate::model::research::{
    BacktestRequest, Limits, Metric, OptimizeRequest, ParamRange, StrategyKind, TrainRequest,
    WalkForwardMode, WalkForwardRequest,
};
use crate::model::{FieldError, JobRequest};

/// The job types the form offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobType {
    Backtest,
    Optimize,
    WalkForward,
    Train,
}

impl JobType {
    pub(super) const ALL: [JobType; 4] = [
        JobType::Backtest,
        JobType::Optimize,
        JobType::WalkForward,
        JobType::Train,
    ];

    pub(super) fn value(self) -> &'static str {
        match self {
            JobType::Backtest => "backtest",
            JobType::Optimize => "optimize",
            JobType::WalkForward => "walk_forward",
            JobType::Train => "train",
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            JobType::Backtest => "Backtest",
            JobType::Optimize => "Optimize (grid search)",
            JobType::WalkForward => "Walk-forward",
            JobType::Train => "Train a model",
        }
    }

    pub(super) fn parse(s: &str) -> JobType {
        JobType::ALL
            .into_iter()
            .find(|t| t.value() == s)
            .unwrap_or(JobType::Optimize)
    }
}

/// What the user typed for one strategy parameter (kept as text so nothing typed is lost).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInput {
    pub value: String,
    pub start: String,
    pub stop: String,
    pub step: String,
}

/// Sensible starting inputs for a strategy: its defaults, and a range around each.
pub fn default_inputs(strategy: StrategyKind) -> BTreeMap<String, ParamInput> {
    strategy
        .params()
        .iter()
        .map(|p| {
            let (start, stop, step) = match (strategy, p.name) {
                (StrategyKind::SmaCross, "n1") => (5.0, 50.0, 5.0),
                (StrategyKind::SmaCross, "n2") => (20.0, 200.0, 10.0),
                _ => {
                    let start = (p.default / 2.0).max(p.min).round();
                    let stop = (p.default * 2.0).min(p.max).round();
                    let step = ((stop - start) / 8.0).round().max(1.0);
                    (start, stop, step)
                }
            };
            (
                p.name.to_string(),
                ParamInput {
                    value: fmt_num(p.default),
                    start: fmt_num(start),
                    stop: fmt_num(stop),
                    step: fmt_num(step),
                },
            )
        })
        .collect()
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Everything on the form, as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct FormInput {
    pub job_type: JobType,
    pub dataset_id: String,
    pub strategy: StrategyKind,
    pub params: BTreeMap<String, ParamInput>,
    pub metric: Metric,
    pub folds: String,
    pub mode: WalkForwardMode,
    pub in_sample_fraction: String,
    pub cash: String,
    pub commission: String,
    pub long_only: bool,
    pub epochs: String,
    pub lags: String,
    pub learning_rate: String,
}

impl FormInput {
    pub(super) fn new() -> FormInput {
        FormInput {
            job_type: JobType::Optimize,
            dataset_id: String::new(),
            strategy: StrategyKind::SmaCross,
            params: default_inputs(StrategyKind::SmaCross),
            metric: Metric::Sharpe,
            folds: "5".into(),
            mode: WalkForwardMode::Rolling,
            in_sample_fraction: "0.7".into(),
            cash: "10000".into(),
            commission: "0.002".into(),
            long_only: false,
            epochs: "200".into(),
            lags: "5".into(),
            learning_rate: "0.1".into(),
        }
    }

    /// Builds and validates the request, naming the first field that is wrong.
    pub fn to_request(&self, limits: &Limits) -> Result<JobRequest, FieldError> {
        let num = |field: &str, text: &str| -> Result<f64, FieldError> {
            let t = text.trim();
            if t.is_empty() {
                return Err(FieldError::new(field, "required"));
            }
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| FieldError::new(field, format!("{t:?} is not a number")))
        };
        let whole = |field: &str, text: &str| -> Result<usize, FieldError> {
            let x = num(field, text)?;
            if x < 0.0 || x.fract() != 0.0 {
                return Err(FieldError::new(field, "must be a whole number, 0 or more"));
            }
            Ok(x as usize)
        };
        if self.dataset_id.is_empty() {
            return Err(FieldError::new("dataset_id", "choose a dataset"));
        }
        let dataset_id = self.dataset_id.clone();
        let cash = num("cash", &self.cash)?;
        let commission = num("commission", &self.commission)?;
        let values = || -> Result<BTreeMap<String, f64>, FieldError> {
            self.params
                .iter()
                .map(|(k, p)| Ok((k.clone(), num(&format!("params.{k}"), &p.value)?)))
                .collect()
        };
        let grid = || -> Result<BTreeMap<String, ParamRange>, FieldError> {
            self.params
                .iter()
                .map(|(k, p)| {
                    Ok((
                        k.clone(),
                        ParamRange::Range {
                            start: num(&format!("grid.{k}.start"), &p.start)?,
                            stop: num(&format!("grid.{k}.stop"), &p.stop)?,
                            step: num(&format!("grid.{k}.step"), &p.step)?,
                        },
                    ))
                })
                .collect()
        };
        let request = match self.job_type {
            JobType::Backtest => JobRequest::Backtest(BacktestRequest {
                dataset_id,
                strategy: self.strategy,
                rules: None,
                params: values()?,
                cash,
                commission,
                long_only: self.long_only,
            }),
            JobType::Optimize => JobRequest::Optimize(OptimizeRequest {
                dataset_id,
                strategy: self.strategy,
                rules: None,
                grid: grid()?,
                constraint: None,
                metric: self.metric,
                top_n: 10,
                cash,
                commission,
                long_only: self.long_only,
                robustness: Default::default(),
            }),
            JobType::WalkForward => JobRequest::WalkForward(WalkForwardRequest {
                dataset_id,
                strategy: self.strategy,
                rules: None,
                grid: grid()?,
                constraint: None,
                metric: self.metric,
                folds: whole("folds", &self.folds)?,
                mode: self.mode,
                in_sample_fraction: num("in_sample_fraction", &self.in_sample_fraction)?,
                in_sample_bars: None,
                out_of_sample_bars: None,
                cash,
                commission,
                long_only: self.long_only,
                robustness: Default::default(),
            }),
            JobType::Train => JobRequest::Train(TrainRequest {
                dataset_id,
                lags: whole("lags", &self.lags)?,
                epochs: whole("epochs", &self.epochs)?,
                learning_rate: num("learning_rate", &self.learning_rate)?,
                l2: 0.0,
                validation_fraction: 0.3,
                cash,
                commission,
                long_only: self.long_only,
            }),
        };
        request.validate(limits)?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FormInput {
        let mut f = FormInput::new();
        f.dataset_id = "5a3b1e00-0000-4000-8000-000000000001".into();
        f
    }

    #[test]
    fn the_default_form_is_a_valid_optimization() {
        let request = form().to_request(&Limits::default()).unwrap();
        assert!(matches!(request, JobRequest::Optimize(_)));
    }

    #[test]
    fn typing_mistakes_name_the_field() {
        let mut f = form();
        f.params.get_mut("n1").unwrap().step = "0".into();
        let e = f.to_request(&Limits::default()).unwrap_err();
        assert!(e.field.contains("n1") && e.field.contains("step"), "{e}");

        let mut f = form();
        f.cash = "lots".into();
        assert_eq!(f.to_request(&Limits::default()).unwrap_err().field, "cash");

        let mut f = form();
        f.job_type = JobType::Backtest;
        f.params.get_mut("n1").unwrap().value = "30".into();
        let e = f.to_request(&Limits::default()).unwrap_err();
        assert!(e.to_string().contains("n1"), "{e}");

        let mut f = form();
        f.dataset_id.clear();
        assert_eq!(
            f.to_request(&Limits::default()).unwrap_err().field,
            "dataset_id"
        );
    }
}
