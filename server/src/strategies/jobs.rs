//! What jobs that run a rule program need from the strategies: at submit, [`prepare_request`]
//! checks the program against the request and the data and records what it runs; at run time,
//! [`load_program`] loads that program again and checks it is the one recorded.

use std::collections::BTreeMap;

use app::api::backend::BackendError;
use app::model::research::{Limits, RuleRef};
use app::model::{FieldError, JobRequest};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{content_hash, error_text, get_api, StrategyStore};
use crate::engine::rules::{check, check_rule_walkforward, Program};
use crate::jobs::backend::internal;
use crate::jobs::handlers::HandlerError;

/// The rules of a research request (backtest, optimize, walk-forward), if it runs a program.
pub fn rules_of(request: &JobRequest) -> Option<&RuleRef> {
    match request {
        JobRequest::Backtest(r) => r.rules.as_ref(),
        JobRequest::Optimize(r) => r.search.rules.as_ref(),
        JobRequest::WalkForward(r) => r.search.rules.as_ref(),
        JobRequest::Train(_) | JobRequest::Demo(_) => None,
    }
}

fn rules_mut(request: &mut JobRequest) -> Option<&mut RuleRef> {
    match request {
        JobRequest::Backtest(r) => r.rules.as_mut(),
        JobRequest::Optimize(r) => r.search.rules.as_mut(),
        JobRequest::WalkForward(r) => r.search.rules.as_mut(),
        JobRequest::Train(_) | JobRequest::Demo(_) => None,
    }
}

/// What the program is checked against at submit.
enum Use {
    Backtest(BTreeMap<String, f64>),
    Optimize {
        grid: BTreeMap<String, app::model::research::ParamRange>,
        constraint: Option<app::model::research::Constraint>,
    },
    WalkForward(Box<app::model::research::WalkForwardRequest>),
}

/// At submit, for a request that runs a rule program (others pass untouched): resolves the
/// source (a saved version, the newest when no version is given), checks the program, the
/// `params` (backtest) or `grid` and `constraint` (optimize) against its declared parameters,
/// and the warm-up against `n_bars`; then records `version`, `content_hash` and `name` in the
/// request's `rules`. Every refusal is a `400` naming the field (`request.grid.n3`, …), before
/// any job row exists.
pub async fn prepare_request(
    store: &StrategyStore,
    request: &mut JobRequest,
    n_bars: Option<usize>,
    limits: &Limits,
) -> Result<(), BackendError> {
    let Some(rules) = rules_of(request).cloned() else {
        return Ok(());
    };
    let field = |e: FieldError| BackendError::invalid(format!("request.{}", e.field), e.message);
    rules.validate("rules").map_err(field)?;
    let usage = match &*request {
        JobRequest::Backtest(r) => Use::Backtest(r.params.clone()),
        JobRequest::Optimize(r) => Use::Optimize {
            grid: r.search.grid.clone(),
            constraint: r.search.constraint.clone(),
        },
        JobRequest::WalkForward(r) => Use::WalkForward(Box::new(r.clone())),
        // Never: trains and demos carry no rules.
        _ => return Err(BackendError::invalid(
            "request.rules",
            "only backtests, optimizations and walk-forward analyses run rule-language strategies",
        )),
    };
    let (source, id, version, source_field) = match (&rules.id, &rules.source) {
        (Some(id), _) => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| {
                BackendError::invalid("request.rules.id", "not a valid strategy id")
            })?;
            let version = rules.version.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
            let saved = get_api(store, id, version).await.map_err(|e| match e {
                BackendError::Invalid { field, message } => {
                    BackendError::invalid(format!("request.rules.{field}"), message)
                }
                other => other,
            })?;
            (saved.source, Some(id), Some(saved.version), "request.rules")
        }
        (None, Some(source)) => (source.clone(), None, None, "request.rules.source"),
        // `validate` refuses this first; kept an error, never a panic, should that change.
        (None, None) => {
            return Err(BackendError::invalid(
                "request.rules",
                "give the strategy's id or its source",
            ))
        }
    };
    let hash = content_hash(&source);
    if let Some(given) = &rules.content_hash {
        if *given != hash {
            return Err(BackendError::invalid(
                "request.rules.content_hash",
                format!("the strategy's source has hash {hash}, not {given}"),
            ));
        }
    }
    let limits = limits.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<String, BackendError> {
        let program = check(&source).map_err(|errors| {
            BackendError::invalid(
                source_field,
                format!("the program does not check:\n{}", error_text(&errors)),
            )
        })?;
        match usage {
            Use::Backtest(params) => {
                let values = program.resolve_params(&params, "params").map_err(field)?;
                if let Some(n) = n_bars {
                    program
                        .validate_against_bars(&values, n, "params")
                        .map_err(field)?;
                }
            }
            Use::Optimize { grid, constraint } => {
                let grid = program
                    .grid(&grid, constraint.as_ref(), &limits)
                    .map_err(field)?;
                if let Some(n) = n_bars {
                    grid.check_warmup(n, "grid", "the dataset").map_err(field)?;
                }
            }
            Use::WalkForward(req) => {
                check_rule_walkforward(&program, &req, n_bars, &limits).map_err(field)?;
            }
        }
        Ok(program.name)
    })
    .await
    .map_err(|e| internal(&e))??;
    let recorded = rules_mut(request).expect("the request has rules");
    recorded.id = id.map(|id| id.to_string());
    recorded.version = version.map(|v| v as u32);
    recorded.content_hash = Some(hash);
    recorded.name = Some(checked);
    Ok(())
}

/// A rule job's stored arguments: without the built-in `strategy` (a placeholder the rules
/// replace), so job lists and comparisons do not show a built-in the job never ran.
pub fn rule_args(args: &mut Value) {
    if let Value::Object(fields) = args {
        if fields.get("rules").is_some_and(|r| !r.is_null()) {
            fields.remove("strategy");
        }
    }
}

/// At run time: the program a job recorded (inline, or id + version from the store), its hash
/// checked against the recorded one, checked again. A missing version or a changed hash is
/// terminal; a database error worth a retry.
pub async fn load_program(pool: &PgPool, rules: &RuleRef) -> Result<Program, HandlerError> {
    let source = match (&rules.id, &rules.source) {
        (Some(id), _) => {
            let id = Uuid::parse_str(id.trim()).map_err(|_| {
                HandlerError::Terminal(format!("rules.id: not a valid strategy id: {id:?}"))
            })?;
            let version = rules.version.ok_or_else(|| {
                HandlerError::Terminal("rules.version: the job recorded no version".into())
            })?;
            let version = i32::try_from(version).unwrap_or(i32::MAX);
            StrategyStore::new(pool.clone())
                .get(id, Some(version))
                .await
                .map_err(|e| HandlerError::Retryable(format!("could not load the strategy: {e}")))?
                .ok_or_else(|| {
                    HandlerError::Terminal(format!(
                        "strategy {id} version {version} was deleted after the job was queued"
                    ))
                })?
                .source
        }
        (None, Some(source)) => source.clone(),
        (None, None) => {
            return Err(HandlerError::Terminal(
                "rules: neither a strategy id nor a source".into(),
            ))
        }
    };
    if let Some(recorded) = &rules.content_hash {
        let hash = content_hash(&source);
        if *recorded != hash {
            return Err(HandlerError::Terminal(format!(
                "the strategy's source has hash {hash}, but the job recorded {recorded}"
            )));
        }
    }
    crate::jobs::handlers::blocking(move || {
        check(&source).map_err(|errors| {
            HandlerError::Terminal(format!(
                "the program does not check:\n{}",
                error_text(&errors)
            ))
        })
    })
    .await
}
