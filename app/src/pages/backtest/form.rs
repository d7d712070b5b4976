//! The form's model, free of any view: what the user typed ([`FormInput`], kept as text) and
//! its conversion to a validated [`JobRequest`], naming the first field that is wrong.

use std::collections::BTreeMap;

use crate::model::research::{
    Account, BacktestRequest, Limits, Metric, OptimizeRequest, ParamBounds, ParamRange, RuleRef,
    Search, StrategyKind, TrainRequest, WalkForwardMode, WalkForwardRequest,
};
use crate::model::strategies::StrategyParam;
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

/// A saved rule-language strategy chosen on the form: the version it runs and its declared
/// parameters (from `/api/get_strategy`).
#[derive(Clone, Debug, PartialEq)]
pub struct SavedChoice {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub params: Vec<StrategyParam>,
}

/// The strategy the form runs: a built-in or a saved rule-language program.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategyChoice {
    Builtin(StrategyKind),
    Saved(SavedChoice),
}

/// One parameter input the form shows, whichever kind of strategy declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct FormParam {
    pub name: String,
    pub label: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub integer: bool,
}

impl FormParam {
    /// The declared range, which the browser checks values against as the server does (the
    /// server checks everything again, with the program).
    fn bounds(&self) -> ParamBounds<'_> {
        ParamBounds {
            name: &self.name,
            integer: self.integer,
            min: self.min,
            max: self.max,
        }
    }
}

impl StrategyChoice {
    /// The `<option>` value: the built-in's name, or `saved:<id>`.
    pub fn value(&self) -> String {
        match self {
            StrategyChoice::Builtin(s) => s.name().to_string(),
            StrategyChoice::Saved(s) => format!("saved:{}", s.id),
        }
    }

    /// The parameters to show, in declaration order.
    pub fn params(&self) -> Vec<FormParam> {
        match self {
            StrategyChoice::Builtin(s) => s
                .params()
                .iter()
                .map(|p| FormParam {
                    name: p.name.into(),
                    label: p.label.into(),
                    min: p.min,
                    max: p.max,
                    default: p.default,
                    integer: p.integer,
                })
                .collect(),
            StrategyChoice::Saved(s) => s
                .params
                .iter()
                .map(|p| FormParam {
                    name: p.name.clone(),
                    label: p.name.clone(),
                    min: p.min,
                    max: p.max,
                    default: p.default,
                    integer: p.kind == "int",
                })
                .collect(),
        }
    }

    /// Sensible starting inputs: the defaults, and a range around each.
    pub fn default_inputs(&self) -> BTreeMap<String, ParamInput> {
        let builtin = match self {
            StrategyChoice::Builtin(s) => Some(*s),
            StrategyChoice::Saved(_) => None,
        };
        self.params()
            .into_iter()
            .map(|p| {
                let (start, stop, step) = match (builtin, p.name.as_str()) {
                    (Some(StrategyKind::SmaCross), "n1") => (5.0, 50.0, 5.0),
                    (Some(StrategyKind::SmaCross), "n2") => (20.0, 200.0, 10.0),
                    _ => default_range(&p),
                };
                let input = ParamInput {
                    value: fmt_num(p.default),
                    start: fmt_num(start),
                    stop: fmt_num(stop),
                    step: fmt_num(step),
                };
                (p.name, input)
            })
            .collect()
    }
}

/// Half to twice the default, within the declared range, in about 8 steps (whole for whole
/// parameters).
fn default_range(p: &FormParam) -> (f64, f64, f64) {
    let (mut start, mut stop) = ((p.default / 2.0).max(p.min), (p.default * 2.0).min(p.max));
    if stop <= start {
        (start, stop) = (p.min, p.max);
    }
    if p.integer {
        let (start, stop) = (start.round(), stop.round());
        return (start, stop, ((stop - start) / 8.0).round().max(1.0));
    }
    let step = (stop - start) / 8.0;
    // Round the step to two significant digits so the inputs read well.
    let scale = 10f64.powf(step.abs().log10().floor() - 1.0);
    let step = if step > 0.0 && scale.is_finite() && scale > 0.0 {
        (step / scale).round() * scale
    } else {
        1.0
    };
    (start, stop, step)
}

/// Sensible starting inputs for a built-in: its defaults, and a range around each.
pub fn default_inputs(strategy: StrategyKind) -> BTreeMap<String, ParamInput> {
    StrategyChoice::Builtin(strategy).default_inputs()
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        // Two significant digits' steps still print as 0.30000000000000004 without this.
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Everything on the form, as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct FormInput {
    pub job_type: JobType,
    pub dataset_id: String,
    pub strategy: StrategyChoice,
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
            strategy: StrategyChoice::Builtin(StrategyKind::SmaCross),
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
        let account = Account {
            cash: num("cash", &self.cash)?,
            commission: num("commission", &self.commission)?,
            long_only: self.long_only,
        };
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
        // A saved program runs in place of a built-in (whose field then only holds a
        // placeholder); the browser checks its values against the declared ranges.
        let (strategy, rules, declared) = match &self.strategy {
            StrategyChoice::Builtin(s) => (*s, None, Vec::new()),
            StrategyChoice::Saved(saved) => (
                StrategyKind::SmaCross,
                Some(RuleRef::saved(saved.id.clone(), Some(saved.version))),
                self.strategy.params(),
            ),
        };
        for p in &declared {
            let Some(input) = self.params.get(&p.name) else {
                continue;
            };
            if self.job_type == JobType::Backtest {
                let field = format!("params.{}", p.name);
                p.bounds().check(num(&field, &input.value)?, &field)?;
            } else if self.job_type != JobType::Train {
                for (part, text) in [("start", &input.start), ("stop", &input.stop)] {
                    let field = format!("grid.{}.{part}", p.name);
                    p.bounds().check(num(&field, text)?, &field)?;
                }
            }
        }
        let search = || -> Result<Search, FieldError> {
            Ok(Search {
                rules: rules.clone(),
                ..Search::new(strategy, grid()?, self.metric)
            })
        };
        let request = match self.job_type {
            JobType::Backtest => JobRequest::Backtest(BacktestRequest {
                dataset_id,
                strategy,
                rules: rules.clone(),
                params: values()?,
                account,
            }),
            JobType::Optimize => JobRequest::Optimize(OptimizeRequest {
                dataset_id,
                search: search()?,
                top_n: 10,
                account,
            }),
            JobType::WalkForward => JobRequest::WalkForward(WalkForwardRequest {
                dataset_id,
                search: search()?,
                folds: whole("folds", &self.folds)?,
                mode: self.mode,
                in_sample_fraction: num("in_sample_fraction", &self.in_sample_fraction)?,
                in_sample_bars: None,
                out_of_sample_bars: None,
                account,
            }),
            JobType::Train => JobRequest::Train(TrainRequest {
                dataset_id,
                lags: whole("lags", &self.lags)?,
                epochs: whole("epochs", &self.epochs)?,
                learning_rate: num("learning_rate", &self.learning_rate)?,
                l2: 0.0,
                validation_fraction: 0.3,
                account,
            }),
        };
        request.validate(limits)?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests;
