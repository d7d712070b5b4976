//! What a client submits: one request type per job kind, validated before anything is stored.

use serde::{Deserialize, Serialize};

use super::research::{
    BacktestRequest, Limits, OptimizeRequest, TrainRequest, ValidationError, WalkForwardRequest,
};
use super::JobKind;

/// Most steps a demo job may take.
pub const DEMO_MAX_STEPS: u64 = 100_000;
/// Longest sleep per demo step.
pub const DEMO_MAX_STEP_MS: u64 = 10_000;

/// A field that failed validation, named the way the client sent it (e.g. `grid.n1.step`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<ValidationError> for FieldError {
    fn from(e: ValidationError) -> Self {
        FieldError::new(e.field, e.message)
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A job to run, tagged by kind: `{"kind": "optimize", "dataset_id": "…", …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobRequest {
    Backtest(BacktestRequest),
    Optimize(OptimizeRequest),
    WalkForward(WalkForwardRequest),
    Train(TrainRequest),
    Demo(DemoRequest),
}

impl JobRequest {
    pub fn kind(&self) -> JobKind {
        match self {
            JobRequest::Backtest(_) => JobKind::Backtest,
            JobRequest::Optimize(_) => JobKind::Optimize,
            JobRequest::WalkForward(_) => JobKind::WalkForward,
            JobRequest::Train(_) => JobKind::Train,
            JobRequest::Demo(_) => JobKind::Demo,
        }
    }

    /// The dataset the job runs on, if it has one.
    pub fn dataset_id(&self) -> Option<&str> {
        match self {
            JobRequest::Backtest(r) => Some(&r.dataset_id),
            JobRequest::Optimize(r) => Some(&r.dataset_id),
            JobRequest::WalkForward(r) => Some(&r.dataset_id),
            JobRequest::Train(r) => Some(&r.dataset_id),
            JobRequest::Demo(_) => None,
        }
    }

    /// Checks every field that does not depend on the data; the first problem is returned
    /// with its field named. Cheap: the browser calls it as the user types.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
        match self {
            JobRequest::Backtest(r) => Ok(r.validate(limits)?),
            JobRequest::Optimize(r) => Ok(r.validate(limits)?),
            JobRequest::WalkForward(r) => Ok(r.validate(limits)?),
            JobRequest::Train(r) => Ok(r.validate(limits)?),
            JobRequest::Demo(d) => d.validate(),
        }
    }

    /// Checks what depends on the dataset's length (warm-up windows, folds that must fit).
    pub fn validate_against_bars(&self, n_bars: usize, limits: &Limits) -> Result<(), FieldError> {
        match self {
            JobRequest::Backtest(r) => Ok(r.validate_against_bars(n_bars)?),
            JobRequest::Optimize(r) => Ok(r.validate_against_bars(n_bars, limits)?),
            JobRequest::WalkForward(r) => Ok(r.validate_against_bars(n_bars, limits)?),
            JobRequest::Train(r) => Ok(r.validate_against_bars(n_bars)?),
            JobRequest::Demo(_) => Ok(()),
        }
    }
}

/// A job that only sleeps and reports: exercises the queue (progress, checkpoints, cancel,
/// rescue, retries) without the research engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoRequest {
    pub steps: u64,
    #[serde(default)]
    pub step_ms: u64,
    /// Fail with a retryable error at this step on the first attempt (tests retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_once_at: Option<u64>,
    /// Fail with a terminal error at this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_terminally_at: Option<u64>,
}

impl DemoRequest {
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.steps == 0 || self.steps > DEMO_MAX_STEPS {
            return Err(FieldError::new(
                "steps",
                format!("must be 1..={DEMO_MAX_STEPS}, got {}", self.steps),
            ));
        }
        if self.step_ms > DEMO_MAX_STEP_MS {
            return Err(FieldError::new(
                "step_ms",
                format!("must be at most {DEMO_MAX_STEP_MS}, got {}", self.step_ms),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_by_kind() {
        let r: JobRequest =
            serde_json::from_str(r#"{"kind":"demo","steps":3,"step_ms":10}"#).unwrap();
        assert_eq!(r.kind(), JobKind::Demo);
        assert!(r.validate(&Limits::default()).is_ok());
    }

    #[test]
    fn bad_demo_fields_are_named() {
        let r = DemoRequest {
            steps: 0,
            step_ms: 0,
            fail_once_at: None,
            fail_terminally_at: None,
        };
        assert_eq!(r.validate().unwrap_err().field, "steps");
    }
}
