//! Job server functions under `/api/*`: JSON in, JSON out, typed errors with 4xx statuses.
//! The README documents each with a curl example.
//!
//! A function that reads one job is `get_job_<what>` at `/api/job_<what>`: the macro names a
//! struct after the function, and `job_status` would make one that clashes with the
//! `JobStatus` type, so every reader takes the `get_` (the URLs keep their short names).

use leptos::prelude::*;
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::call;
use super::ApiError;
use crate::model::job::{Comparison, Reproducibility};
use crate::model::research::PartialOptimize;
use crate::model::{JobChunk, JobList, JobRequest, JobResult, JobStatus, LogTail};

/// Most jobs per page of the list.
pub const MAX_PER_PAGE: u32 = 200;
/// Default lines of log returned.
pub const DEFAULT_LOG_LINES: u32 = 200;
/// Most lines of log returned.
pub const MAX_LOG_LINES: u32 = 1_000;

#[cfg(feature = "ssr")]
fn job_id(input: &str) -> Result<uuid::Uuid, ApiError> {
    super::parse_job_id(input).map_err(super::with_status)
}

/// Queues a job: `{"request": {"kind": "optimize", "dataset_id": "…", …}}`; see the README.
#[server(prefix = "/api", endpoint = "submit_job", input = Json, output = Json)]
pub async fn submit_job(request: JobRequest) -> Result<JobStatus, ApiError> {
    // Validated by the backend, which knows the configured limits and the dataset.
    call(|b| async move { b.submit_job(request).await }).await
}

/// The status of one job: `{"id": "<uuid>"}`.
#[server(prefix = "/api", endpoint = "job_status", input = Json, output = Json)]
pub async fn get_job_status(id: String) -> Result<JobStatus, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.job_status(id).await }).await
}

/// Jobs newest first: `{"state": "RUNNING", "kind": "optimize", "page": 1, "per_page": 20}`
/// (every field optional).
#[server(prefix = "/api", endpoint = "list_jobs", input = Json, output = Json)]
pub async fn list_jobs(
    #[server(default)] state: Option<String>,
    #[server(default)] kind: Option<String>,
    #[server(default)] page: Option<u32>,
    #[server(default)] per_page: Option<u32>,
) -> Result<JobList, ApiError> {
    use crate::model::{JobKind, JobState};
    let bad = |field: &str, message: String| super::with_status(ApiError::invalid(field, message));
    let state = match state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(JobState::parse(s).ok_or_else(|| {
            bad("state", format!("unknown state {s:?}; expected one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED"))
        })?),
    };
    let kind = match kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(JobKind::parse(k).ok_or_else(|| {
            bad("kind", format!("unknown kind {k:?}; expected one of backtest, optimize, walk_forward, train, demo"))
        })?),
    };
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(bad("page", "pages count from 1".into()));
    }
    // Far beyond the last page is simply empty; saturate rather than compute huge offsets.
    let page = page.min(crate::pages::paging::MAX_PAGE);
    let per_page = per_page.unwrap_or(20);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(bad(
            "per_page",
            format!("must be 1..={MAX_PER_PAGE}, got {per_page}"),
        ));
    }
    let filter = super::backend::ListFilter {
        state,
        kind,
        page,
        per_page,
    };
    call(|b| async move { b.list_jobs(filter).await }).await
}

/// Cancels a job: `{"id": "<uuid>"}`. A queued job ends CANCELLED at once; a running one stops
/// at its next progress report.
#[server(prefix = "/api", endpoint = "cancel_job", input = Json, output = Json)]
pub async fn cancel_job(id: String) -> Result<JobStatus, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.cancel_job(id).await }).await
}

/// A fanned-out optimization's chunks (`{"id": "<uuid>"}`), in grid order, each with its state,
/// runs, attempt and node; empty for a job that was not split.
#[server(prefix = "/api", endpoint = "job_chunks", input = Json, output = Json)]
pub async fn job_chunks(id: String) -> Result<Vec<JobChunk>, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.job_chunks(id).await }).await
}

/// A fanned-out optimization's heatmap and best runs so far (`{"id": "<uuid>"}`), merged over
/// its finished chunks; `null` for a job that was not split or before a chunk has finished.
#[server(prefix = "/api", endpoint = "job_partial", input = Json, output = Json)]
pub async fn job_partial(id: String) -> Result<Option<PartialOptimize>, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.job_partial(id).await }).await
}

/// The last lines of a job's run log: `{"id": "<uuid>", "lines": 50}`.
#[server(prefix = "/api", endpoint = "job_log", input = Json, output = Json)]
pub async fn get_job_log(
    id: String,
    #[server(default)] lines: Option<u32>,
) -> Result<LogTail, ApiError> {
    let id = job_id(&id)?;
    let lines = lines.unwrap_or(DEFAULT_LOG_LINES);
    if lines == 0 || lines > MAX_LOG_LINES {
        return Err(super::with_status(ApiError::invalid(
            "lines",
            format!("must be 1..={MAX_LOG_LINES}, got {lines}"),
        )));
    }
    call(|b| async move { b.job_log(id, lines as usize).await }).await
}

/// A job's result: `{"id": "<uuid>"}`; `result` is null until the job succeeded. A backtest's
/// trades are cut to the first page (`trades_total` says how many there are; the rest come
/// from `/api/job_trades`, or all at once from `/api/jobs/<id>/result.csv`).
#[server(prefix = "/api", endpoint = "job_result", input = Json, output = Json)]
pub async fn get_job_result(id: String) -> Result<JobResult, ApiError> {
    let id = job_id(&id)?;
    let mut result = call(|b| async move { b.job_result(id).await }).await?;
    if result.kind == crate::model::JobKind::Backtest {
        if let Some(value) = result.result.as_mut() {
            crate::model::research::trim_for_page(value);
        }
    }
    Ok(result)
}

/// One page of a backtest's closed trades: `{"id": "<uuid>", "page": 2}` (100 a page; a page
/// past the last gives the last).
#[server(prefix = "/api", endpoint = "job_trades", input = Json, output = Json)]
pub async fn get_job_trades(
    id: String,
    #[server(default)] page: Option<u32>,
) -> Result<crate::model::research::TradePage, ApiError> {
    let id = job_id(&id)?;
    let result = call(|b| async move { b.job_result(id).await }).await?;
    if result.kind != crate::model::JobKind::Backtest {
        return Err(super::with_status(ApiError::invalid(
            "id",
            format!("job {id} is a {}, not a backtest", result.kind),
        )));
    }
    let Some(value) = result.result else {
        return Err(super::with_status(ApiError::Conflict {
            message: format!("job {id} has no result yet"),
        }));
    };
    crate::model::research::trade_page(&value, page.unwrap_or(1)).map_err(|e| {
        super::with_status(ApiError::Conflict {
            message: format!("the stored trades could not be read: {e}"),
        })
    })
}

/// A job's reproducibility record: `{"id": "<uuid>"}` → its full request (with `kind`, ready
/// for `/api/submit_job`), the program version that accepted it and its dataset's content hash.
#[server(prefix = "/api", endpoint = "job_repro", input = Json, output = Json)]
pub async fn get_job_repro(id: String) -> Result<Reproducibility, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.job_repro(id).await }).await
}

/// Runs a job again: `{"id": "<uuid>"}` queues the same request as a new job, through the same
/// validation and active-job cap as `submit_job`, and returns the new job's status.
#[server(prefix = "/api", endpoint = "rerun_job", input = Json, output = Json)]
pub async fn rerun_job(id: String) -> Result<JobStatus, ApiError> {
    let id = job_id(&id)?;
    call(|b| async move { b.rerun_job(id).await }).await
}

/// Jobs side by side: `{"ids": "<uuid>,<uuid>[,…]"}` (2 to 4 distinct ids, comma-separated).
/// Every problem with the list, an unknown job included, is a `400` naming the field `ids`.
#[server(prefix = "/api", endpoint = "compare_jobs", input = Json, output = Json)]
pub async fn compare_jobs(ids: String) -> Result<Comparison, ApiError> {
    use super::backend::BackendError;
    use crate::model::JobState;
    let bad = |message: String| super::with_status(ApiError::invalid("ids", message));
    let ids = crate::model::job::parse_compare_ids(&ids).map_err(bad)?;
    let backend = super::backend::backend().map_err(super::with_status)?;
    let mut columns = Vec::with_capacity(ids.len());
    for id in ids {
        let repro = backend.job_repro(id).await.map_err(|e| match e {
            BackendError::NoSuchJob(id) => bad(format!("no such job: {id}")),
            other => super::with_status(other.into()),
        })?;
        let result = if repro.state == JobState::Succeeded {
            backend
                .job_result(id)
                .await
                .map_err(|e| super::with_status(e.into()))?
                .result
        } else {
            None
        };
        columns.push(crate::pages::compare::build_column(&repro, result.as_ref()));
    }
    Ok(Comparison { columns })
}
