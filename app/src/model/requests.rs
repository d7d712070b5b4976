//! What a client submits: one request type per job kind, validated before anything is stored.

use serde::{Deserialize, Serialize};

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

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A job to run, tagged by kind: `{"kind": "demo", "steps": 20, "step_ms": 100}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobRequest {
    Demo(DemoRequest),
}

impl JobRequest {
    pub fn kind(&self) -> JobKind {
        match self {
            JobRequest::Demo(_) => JobKind::Demo,
        }
    }

    /// Checks every field; the first problem is returned with its field named.
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            JobRequest::Demo(d) => d.validate(),
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
        assert!(r.validate().is_ok());
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
