//! What a client submits: one request type per job kind, validated before anything is stored.

use serde::{Deserialize, Serialize};

use super::research::{
    BacktestRequest, GridSpec, Limits, OptimizeRequest, TrainRequest, WalkForwardRequest,
};
use super::JobKind;

/// Most steps a demo job may take.
pub const DEMO_MAX_STEPS: u64 = 100_000;
/// Longest sleep per demo step.
pub const DEMO_MAX_STEP_MS: u64 = 10_000;
/// Longest total sleep of a demo job (`steps × step_ms`): one hour.
pub const DEMO_MAX_TOTAL_MS: u64 = 3_600_000;
/// Why a demo job's failure hooks are refused when test hooks are off.
pub const TEST_HOOKS_DISABLED: &str =
    "test hooks are disabled (set RUNBOARD_TEST_HOOKS=1 to enable)";

/// A request field that failed validation, named the way the client sent it, with a message
/// meant for the user. Every request check (demo and research alike) reports this one type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path of the offending field (`"grid.n1.step"`).
    pub field: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// Builds an error for `field`.
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

impl std::error::Error for FieldError {}

/// A job to run, tagged by kind: `{"kind": "optimize", "dataset_id": "…", …}`.
///
/// A backtest, optimization or walk-forward runs a built-in (`"strategy": "sma_cross"`) or a
/// rule-language program, named either as `"strategy": {"id": "…", "version": 2}` /
/// `"strategy": {"source": "…"}` or as `"rules": {…}` (the form jobs are stored in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    try_from = "serde_json::Value"
)]
pub enum JobRequest {
    Backtest(BacktestRequest),
    Optimize(OptimizeRequest),
    WalkForward(WalkForwardRequest),
    Train(TrainRequest),
    Demo(DemoRequest),
}

/// [`JobRequest`]'s wire form, read after a `strategy` object has moved to `rules`.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TaggedRequest {
    Backtest(BacktestRequest),
    Optimize(OptimizeRequest),
    WalkForward(WalkForwardRequest),
    Train(TrainRequest),
    Demo(DemoRequest),
}

impl TryFrom<serde_json::Value> for JobRequest {
    type Error = String;

    fn try_from(mut value: serde_json::Value) -> Result<JobRequest, String> {
        if let Some(fields) = value.as_object_mut() {
            if fields.get("strategy").is_some_and(|s| s.is_object()) {
                if fields.get("rules").is_some_and(|r| !r.is_null()) {
                    return Err("strategy: give the rule-language strategy once, as \
                                \"strategy\": {…} or as \"rules\": {…}, not both"
                        .into());
                }
                if let Some(strategy) = fields.remove("strategy") {
                    fields.insert("rules".into(), strategy);
                }
            }
        }
        let tagged: TaggedRequest = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok(match tagged {
            TaggedRequest::Backtest(r) => JobRequest::Backtest(r),
            TaggedRequest::Optimize(r) => JobRequest::Optimize(r),
            TaggedRequest::WalkForward(r) => JobRequest::WalkForward(r),
            TaggedRequest::Train(r) => JobRequest::Train(r),
            TaggedRequest::Demo(r) => JobRequest::Demo(r),
        })
    }
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
        self.check(limits).map(drop)
    }

    /// [`validate`](Self::validate), keeping what the checks built for the checks against the
    /// data ([`CheckedRequest::against_bars`]): a built-in search's grid is expanded once.
    pub fn check(&self, limits: &Limits) -> Result<CheckedRequest<'_>, FieldError> {
        let grid = match self {
            JobRequest::Optimize(r) if r.search.rules.is_none() => Some(r.grid_spec(limits)?),
            JobRequest::WalkForward(r) if r.search.rules.is_none() => Some(r.grid_spec(limits)?),
            JobRequest::Backtest(r) => r.validate(limits).map(|()| None)?,
            JobRequest::Optimize(r) => r.validate(limits).map(|()| None)?,
            JobRequest::WalkForward(r) => r.validate(limits).map(|()| None)?,
            JobRequest::Train(r) => r.validate(limits).map(|()| None)?,
            JobRequest::Demo(d) => d.validate(limits).map(|()| None)?,
        };
        Ok(CheckedRequest {
            request: self,
            grid,
        })
    }
}

/// A request that passed the checks needing no data ([`JobRequest::check`]), with the grid a
/// built-in search expanded to, so the checks against the dataset do not build it again.
#[derive(Debug)]
pub struct CheckedRequest<'r> {
    request: &'r JobRequest,
    grid: Option<GridSpec>,
}

impl CheckedRequest<'_> {
    /// Checks what depends on the dataset's length (warm-up windows, folds that must fit).
    pub fn against_bars(&self, n_bars: usize) -> Result<(), FieldError> {
        let grid = self.grid.as_ref();
        match self.request {
            JobRequest::Backtest(r) => r.validate_against_bars(n_bars),
            JobRequest::Optimize(r) => grid.map_or(Ok(()), |g| r.check_warmup(g, n_bars)),
            JobRequest::WalkForward(r) => r.fit(grid, n_bars).map(drop),
            JobRequest::Train(r) => r.validate_against_bars(n_bars),
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
    /// Checks the step count, the sleep per step and in total, and that the failure hooks are
    /// only used when `limits.allow_test_hooks` is on.
    pub fn validate(&self, limits: &Limits) -> Result<(), FieldError> {
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
        let total = self.steps.saturating_mul(self.step_ms);
        if total > DEMO_MAX_TOTAL_MS {
            return Err(FieldError::new(
                "step_ms",
                format!(
                    "steps × step_ms must be at most {DEMO_MAX_TOTAL_MS} ms (1 hour), got {} × {} = {total} ms",
                    self.steps, self.step_ms
                ),
            ));
        }
        if !limits.allow_test_hooks {
            if self.fail_once_at.is_some() {
                return Err(FieldError::new("fail_once_at", TEST_HOOKS_DISABLED));
            }
            if self.fail_terminally_at.is_some() {
                return Err(FieldError::new("fail_terminally_at", TEST_HOOKS_DISABLED));
            }
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
    fn a_strategy_object_names_a_rule_program() {
        let id = "3f1c0000-0000-4000-8000-000000000001";
        let saved: JobRequest = serde_json::from_value(serde_json::json!({
            "kind": "optimize", "dataset_id": id,
            "strategy": {"id": id, "version": 2},
            "grid": {"n1": {"list": [5, 10]}},
        }))
        .unwrap();
        let JobRequest::Optimize(r) = saved else {
            panic!("not an optimization")
        };
        assert_eq!(
            r.search.rules,
            Some(super::super::research::RuleRef::saved(id, Some(2)))
        );
        let inline: JobRequest = serde_json::from_value(serde_json::json!({
            "kind": "backtest", "dataset_id": id, "strategy": {"source": "strategy \"x\""},
        }))
        .unwrap();
        let JobRequest::Backtest(r) = inline else {
            panic!("not a backtest")
        };
        assert_eq!(
            r.rules.and_then(|r| r.source).as_deref(),
            Some("strategy \"x\"")
        );
        // A built-in name stays a built-in; both forms at once are refused.
        let builtin: JobRequest = serde_json::from_value(serde_json::json!({
            "kind": "backtest", "dataset_id": id, "strategy": "rsi_reversion",
        }))
        .unwrap();
        assert!(matches!(builtin, JobRequest::Backtest(ref r) if r.rules.is_none()));
        let both = serde_json::from_value::<JobRequest>(serde_json::json!({
            "kind": "backtest", "dataset_id": id,
            "strategy": {"id": id}, "rules": {"source": "x"},
        }))
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        // The stored form (rules) reads back as it was written.
        let again: JobRequest =
            serde_json::from_value(serde_json::to_value(&builtin).unwrap()).unwrap();
        assert_eq!(again, builtin);
    }

    #[test]
    fn the_account_and_the_search_stay_at_the_top_level_of_every_request() {
        // `Account` and `Search` are flattened: `cash`, `commission`, `long_only`, `grid`,
        // `metric`, … sit beside the other fields, in what clients send and in what is
        // stored, for every kind.
        let flat = serde_json::json!({"cash": 5000, "commission": 0.002, "long_only": true});
        let grid = serde_json::json!({"n1": {"list": [5.0]}, "n2": {"list": [20.0]}});
        for mut body in [
            serde_json::json!({"kind": "backtest", "dataset_id": "d"}),
            serde_json::json!({"kind": "optimize", "dataset_id": "d", "grid": grid}),
            serde_json::json!({"kind": "walk_forward", "dataset_id": "d", "grid": grid}),
            serde_json::json!({"kind": "train", "dataset_id": "d"}),
        ] {
            let defaults: JobRequest = serde_json::from_value(body.clone()).unwrap();
            let stored = serde_json::to_value(&defaults).unwrap();
            assert_eq!(stored["cash"], 10_000.0, "{body}");
            assert_eq!(stored["long_only"], false, "{body}");
            assert!(stored.get("account").is_none(), "{stored}");
            assert!(stored.get("search").is_none(), "{stored}");
            if body.get("grid").is_some() {
                assert_eq!(stored["grid"], grid, "{stored}");
                assert_eq!(stored["metric"], "sharpe", "{stored}");
                assert_eq!(stored["strategy"], "sma_cross", "{stored}");
            }
            for (k, v) in flat.as_object().unwrap() {
                body[k] = v.clone();
            }
            let given: JobRequest = serde_json::from_value(body.clone()).unwrap();
            let stored = serde_json::to_value(&given).unwrap();
            for (k, v) in flat.as_object().unwrap() {
                assert_eq!(stored[k].as_f64(), v.as_f64(), "{k} in {stored}");
            }
            assert_eq!(stored["long_only"], true);
            let again: JobRequest = serde_json::from_value(stored).unwrap();
            assert_eq!(again, given);
        }
    }

    #[test]
    fn bad_demo_fields_are_named() {
        let r = DemoRequest {
            steps: 0,
            step_ms: 0,
            fail_once_at: None,
            fail_terminally_at: None,
        };
        assert_eq!(r.validate(&Limits::default()).unwrap_err().field, "steps");
    }

    fn demo(steps: u64, step_ms: u64) -> DemoRequest {
        DemoRequest {
            steps,
            step_ms,
            fail_once_at: None,
            fail_terminally_at: None,
        }
    }

    #[test]
    fn demo_jobs_sleep_at_most_an_hour_in_total() {
        let limits = Limits::default();
        // 100,000 steps × 10 s each was 11.6 days of a worker.
        let e = demo(DEMO_MAX_STEPS, DEMO_MAX_STEP_MS)
            .validate(&limits)
            .unwrap_err();
        assert_eq!(e.field, "step_ms");
        assert!(e.message.contains("3600000"), "{}", e.message);
        assert!(e.message.contains("1000000000"), "{}", e.message);
        assert!(demo(360, 10_000).validate(&limits).is_ok());
        assert_eq!(
            demo(361, 10_000).validate(&limits).unwrap_err().field,
            "step_ms"
        );
        assert!(demo(DEMO_MAX_STEPS, 36).validate(&limits).is_ok());
    }

    #[test]
    fn failure_hooks_need_test_hooks_enabled() {
        let off = Limits::default();
        let on = Limits {
            allow_test_hooks: true,
            ..Limits::default()
        };
        let once = DemoRequest {
            fail_once_at: Some(3),
            ..demo(5, 0)
        };
        let e = JobRequest::Demo(once.clone()).validate(&off).unwrap_err();
        assert_eq!(e.field, "fail_once_at");
        assert_eq!(
            e.message,
            "test hooks are disabled (set RUNBOARD_TEST_HOOKS=1 to enable)"
        );
        assert!(JobRequest::Demo(once).validate(&on).is_ok());
        let terminal = DemoRequest {
            fail_terminally_at: Some(2),
            ..demo(5, 0)
        };
        let e = terminal.validate(&off).unwrap_err();
        assert_eq!(e.field, "fail_terminally_at");
        assert!(terminal.validate(&on).is_ok());
    }

    #[test]
    fn a_checked_request_checks_the_dataset_length_with_the_grid_it_expanded() {
        let grid = serde_json::json!({
            "n1": {"range": {"start": 5, "stop": 10, "step": 5}},
            "n2": {"list": [20, 60]}
        });
        let optimize: JobRequest = serde_json::from_value(serde_json::json!({
            "kind": "optimize", "dataset_id": "d", "strategy": "sma_cross", "grid": grid
        }))
        .unwrap();
        let checked = optimize.check(&Limits::default()).unwrap();
        let e = checked.against_bars(40).unwrap_err();
        assert_eq!(e.field, "grid.n2", "{e}");
        assert!(e.message.contains("61 bars"), "{e}");
        assert!(checked.against_bars(400).is_ok());

        let walk_forward: JobRequest = serde_json::from_value(serde_json::json!({
            "kind": "walk_forward", "dataset_id": "d", "strategy": "sma_cross", "grid": grid,
            "folds": 4, "in_sample_bars": 300, "out_of_sample_bars": 50
        }))
        .unwrap();
        let checked = walk_forward.check(&Limits::default()).unwrap();
        // 300 + 4 × 50 = 500 bars: the folds do not fit in fewer.
        let e = checked.against_bars(499).unwrap_err();
        assert_eq!(e.field, "folds", "{e}");
        assert!(e.message.contains("500"), "{e}");
        assert!(checked.against_bars(500).is_ok());
        // What the checks need no data for fails before any dataset is looked at.
        let mut bad = walk_forward;
        if let JobRequest::WalkForward(r) = &mut bad {
            r.folds = 0;
        }
        assert_eq!(bad.check(&Limits::default()).unwrap_err().field, "folds");
    }
}
