//! The server's implementation of `app`'s [`JobBackend`] port: server functions call it.

use app::api::backend::{BackendError, JobBackend, ListFilter};
use app::model::{JobList, JobRequest, JobResult, JobStatus, LogTail};
use async_trait::async_trait;
use uuid::Uuid;

use super::joblog;
use super::store::{JobStore, ListQuery, NewJob, StoreError};
use crate::config::Config;

/// Maps a store error to what the client may see; the cause is logged under a reference.
pub fn to_backend_error(err: StoreError) -> BackendError {
    match err {
        StoreError::NotFound(id) => BackendError::NoSuchJob(id),
        StoreError::Finished { id, state } => {
            BackendError::Conflict(format!("job {id} has already finished ({state})"))
        }
        other => internal(&other),
    }
}

/// Logs an internal error and returns a reference the user can quote.
pub fn internal(err: &dyn std::fmt::Display) -> BackendError {
    let reference = Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::error!(%reference, error = %err, "internal error");
    BackendError::Internal(reference)
}

/// The job API over the store.
#[derive(Clone)]
pub struct StoreBackend {
    pub store: JobStore,
    pub max_grid: usize,
}

impl StoreBackend {
    pub fn new(store: JobStore, config: &Config) -> StoreBackend {
        StoreBackend {
            store,
            max_grid: config.max_grid,
        }
    }
}

/// The stored arguments of a request: the kind's own fields, without the tag.
pub fn request_args(request: &JobRequest) -> Result<serde_json::Value, serde_json::Error> {
    match request {
        JobRequest::Demo(d) => serde_json::to_value(d),
    }
}

#[async_trait]
impl JobBackend for StoreBackend {
    async fn submit_job(&self, request: JobRequest) -> Result<JobStatus, BackendError> {
        request.validate().map_err(|e| BackendError::Invalid {
            field: format!("request.{}", e.field),
            message: e.message,
        })?;
        let args = request_args(&request).map_err(|e| internal(&e))?;
        self.store
            .enqueue(NewJob::new(request.kind(), args))
            .await
            .map_err(to_backend_error)
    }

    async fn job_status(&self, id: Uuid) -> Result<JobStatus, BackendError> {
        self.store.status(id).await.map_err(to_backend_error)
    }

    async fn list_jobs(&self, filter: ListFilter) -> Result<JobList, BackendError> {
        let query = ListQuery {
            state: filter.state,
            kind: filter.kind,
            limit: filter.per_page as i64,
            offset: (filter.page as i64 - 1) * filter.per_page as i64,
        };
        let (jobs, total) = self.store.list(&query).await.map_err(to_backend_error)?;
        Ok(JobList {
            jobs,
            total,
            page: filter.page,
            per_page: filter.per_page,
        })
    }

    async fn cancel_job(&self, id: Uuid) -> Result<JobStatus, BackendError> {
        self.store
            .request_cancel(id)
            .await
            .map_err(to_backend_error)
    }

    async fn job_log(&self, id: Uuid, lines: usize) -> Result<LogTail, BackendError> {
        let status = self.store.status(id).await.map_err(to_backend_error)?;
        let file = self.store.log_file(id);
        let lines = tokio::task::spawn_blocking(move || joblog::tail(&file, lines))
            .await
            .map_err(|e| internal(&e))?
            .map_err(|e| internal(&e))?;
        Ok(LogTail {
            path: status.log_path,
            lines,
        })
    }

    async fn job_result(&self, id: Uuid) -> Result<JobResult, BackendError> {
        let status = self.store.status(id).await.map_err(to_backend_error)?;
        let (state, result) = self.store.result(id).await.map_err(to_backend_error)?;
        Ok(JobResult {
            id,
            kind: status.kind,
            state,
            result,
        })
    }
}
