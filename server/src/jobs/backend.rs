//! The server's implementation of `app`'s [`JobBackend`] port: server functions call it. Most
//! calls are one store call; the longer ones live beside it: the dataset calls in `datasets`,
//! a backtest's full equity curve in `equity`.

use app::api::backend::{BackendError, JobBackend, ListFilter};
use app::model::job::Reproducibility;
use app::model::research::Limits;
use app::model::{DatasetInfo, JobKind, JobList, JobRequest, JobResult, JobStatus, LogTail};
use async_trait::async_trait;
use uuid::Uuid;

use std::sync::Arc;
use std::time::Duration;

use super::handlers::research::limits;
use super::status_cache::{StatusCache, DEFAULT_STATUS_TTL};
use super::store::{JobStore, NewJob, StoreError};
use crate::config::Config;
use crate::datasets::{DatasetError, DatasetStore};
use crate::engine::optimize::merge_summaries;
use crate::strategies::{self, StrategyStore};
use app::model::strategies::{
    DeletedStrategy, SavedStrategy, StrategyCheck, StrategyList, StrategySource,
};

mod datasets;
mod equity;

/// Maps a store error to what the client may see; the cause is logged under a reference.
pub fn to_backend_error(err: StoreError) -> BackendError {
    match err {
        StoreError::NotFound(id) => BackendError::NoSuchJob(id),
        StoreError::Finished { id, state } => {
            BackendError::Conflict(format!("job {id} has already finished ({state})"))
        }
        StoreError::QueueFull { active, limit } => BackendError::TooManyJobs {
            message: format!(
                "{active} jobs are already queued or running, the limit is {limit} \
                 (RUNBOARD_MAX_ACTIVE_JOBS); wait for some to finish or cancel some"
            ),
            limit,
        },
        other => internal(&other),
    }
}

/// Logs an internal error and returns a reference the user can quote.
pub fn internal(err: &dyn std::fmt::Display) -> BackendError {
    let reference = Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::error!(%reference, error = %err, "internal error");
    BackendError::Internal(reference)
}

/// The job API over the stores.
#[derive(Clone)]
pub struct StoreBackend {
    pub store: JobStore,
    pub datasets: DatasetStore,
    pub limits: Limits,
    /// Most QUEUED + RUNNING jobs; a submit beyond it gets `429`.
    pub max_active_jobs: u64,
    /// Most bytes a gzip upload may decompress to.
    pub max_upload_bytes: u64,
    /// This process's node and instance (recorded on the imports it runs).
    pub node_id: String,
    pub instance_id: String,
    /// Recent statuses, shared by every poller of a job (off unless set: see [`StoreBackend::new`]).
    pub status_cache: Arc<StatusCache>,
}

impl StoreBackend {
    pub fn new(store: JobStore, config: &Config) -> StoreBackend {
        let mut backend = StoreBackend::with_max_grid(store, config.max_grid);
        backend.limits.allow_test_hooks = config.test_hooks;
        backend.max_active_jobs = config.max_active_jobs;
        backend.max_upload_bytes = config.max_upload_bytes;
        backend.node_id = config.node_id.clone();
        backend.instance_id = config.instance_id.clone();
        backend.status_cache = Arc::new(StatusCache::new(DEFAULT_STATUS_TTL));
        backend
    }

    pub fn with_max_grid(store: JobStore, max_grid: usize) -> StoreBackend {
        StoreBackend {
            datasets: DatasetStore::new(store.pool().clone()),
            store,
            limits: limits(max_grid),
            max_active_jobs: crate::config::DEFAULT_MAX_ACTIVE_JOBS,
            max_upload_bytes: crate::config::DEFAULT_MAX_UPLOAD_BYTES,
            node_id: "local".into(),
            instance_id: "local-import".into(),
            status_cache: Arc::new(StatusCache::new(Duration::ZERO)),
        }
    }
}

/// The request a job's stored arguments came from: the arguments with the kind's tag put back
/// (`{"kind": "backtest", …}`), as `/api/submit_job` takes it. Arguments that are not an object
/// (never stored by the API) come back as `{"kind": …, "args": …}`.
pub fn tagged_request(kind: JobKind, args: serde_json::Value) -> serde_json::Value {
    match args {
        serde_json::Value::Object(mut fields) => {
            fields.insert("kind".into(), kind.as_str().into());
            serde_json::Value::Object(fields)
        }
        other => serde_json::json!({"kind": kind.as_str(), "args": other}),
    }
}

/// The stored arguments of a request: the kind's own fields, without the tag.
pub fn request_args(request: &JobRequest) -> Result<serde_json::Value, serde_json::Error> {
    match request {
        JobRequest::Backtest(r) => serde_json::to_value(r),
        JobRequest::Optimize(r) => serde_json::to_value(r),
        JobRequest::WalkForward(r) => serde_json::to_value(r),
        JobRequest::Train(r) => serde_json::to_value(r),
        JobRequest::Demo(r) => serde_json::to_value(r),
    }
}

#[async_trait]
impl JobBackend for StoreBackend {
    async fn submit_job(&self, mut request: JobRequest) -> Result<JobStatus, BackendError> {
        let field = |e: app::model::FieldError| {
            BackendError::invalid(format!("request.{}", e.field), e.message)
        };
        // Checked once: the checks against the dataset reuse what these built (the grid).
        let checked = request.check(&self.limits).map_err(field)?;
        let mut dataset_hash = None;
        let mut n_bars = None;
        if let Some(dataset_id) = request.dataset_id() {
            let id = Uuid::parse_str(dataset_id.trim()).map_err(|_| {
                BackendError::invalid(
                    "request.dataset_id",
                    format!("not a valid dataset id: {dataset_id:?}"),
                )
            })?;
            let info = self.datasets.info(id).await.map_err(|e| match e {
                DatasetError::NotFound(id) => {
                    BackendError::invalid("request.dataset_id", format!("no such dataset: {id}"))
                }
                other => internal(&other),
            })?;
            checked.against_bars(info.bars as usize).map_err(field)?;
            n_bars = Some(info.bars as usize);
            // Recorded with the job: what exactly it ran on (computed now for a dataset
            // imported before hashes were kept).
            dataset_hash = Some(self.datasets.content_hash(id).await.map_err(|e| match e {
                DatasetError::NotFound(id) => {
                    BackendError::invalid("request.dataset_id", format!("no such dataset: {id}"))
                }
                other => internal(&other),
            })?);
        }
        // A rule-language strategy: checked against the request and the data, and recorded.
        let strategies = StrategyStore::new(self.store.pool().clone());
        strategies::prepare_request(&strategies, &mut request, n_bars, &self.limits).await?;
        let mut args = request_args(&request).map_err(|e| internal(&e))?;
        strategies::rule_args(&mut args);
        let mut job = NewJob::new(request.kind(), args);
        job.dataset_hash = dataset_hash;
        self.store
            .enqueue_capped(job, self.max_active_jobs)
            .await
            .map_err(to_backend_error)
    }

    async fn job_status(&self, id: Uuid) -> Result<JobStatus, BackendError> {
        self.status_cache
            .get(id, || self.store.status(id))
            .await
            .map_err(to_backend_error)
    }

    async fn list_jobs(&self, filter: ListFilter) -> Result<JobList, BackendError> {
        let (jobs, total) = self.store.list(&filter).await.map_err(to_backend_error)?;
        Ok(JobList {
            jobs,
            total,
            page: filter.page,
            per_page: filter.per_page,
        })
    }

    async fn cancel_job(&self, id: Uuid) -> Result<JobStatus, BackendError> {
        let status = self.store.request_cancel(id).await;
        self.status_cache.forget(id);
        status.map_err(to_backend_error)
    }

    async fn job_chunks(&self, id: Uuid) -> Result<Vec<app::model::JobChunk>, BackendError> {
        // An unknown job is a 404, as for its status.
        self.store.status(id).await.map_err(to_backend_error)?;
        let rows = self.store.list_chunks(id).await.map_err(to_backend_error)?;
        Ok(rows
            .into_iter()
            .map(|c| app::model::JobChunk {
                index: c.chunk_index.max(0) as u32,
                state: c.state,
                start: c.start.max(0) as u64,
                end: c.end.max(0) as u64,
                attempt: c.attempt.max(0) as u32,
                node: c.node_id,
                progress: c.progress,
            })
            .collect())
    }

    async fn job_partial(
        &self,
        id: Uuid,
    ) -> Result<Option<app::model::research::PartialOptimize>, BackendError> {
        let status = self.store.status(id).await.map_err(to_backend_error)?;
        if status.kind != app::model::JobKind::Optimize {
            return Ok(None);
        }
        let summaries = self
            .store
            .chunk_summaries(id)
            .await
            .map_err(to_backend_error)?;
        if summaries.is_empty() {
            return Ok(None);
        }
        let args = self.store.args(id).await.map_err(to_backend_error)?;
        let Ok(req) = serde_json::from_value::<app::model::research::OptimizeRequest>(args) else {
            return Ok(None);
        };
        let chunks = self.store.list_chunks(id).await.map_err(to_backend_error)?;
        let done: Vec<_> = chunks
            .iter()
            .filter(|c| c.state == app::model::JobState::Succeeded)
            .collect();
        let Some((heatmap, top)) = merge_summaries(&summaries, req.top_n) else {
            return Ok(None);
        };
        Ok(Some(app::model::research::PartialOptimize {
            metric: req.search.metric,
            chunks_done: done.len() as u32,
            chunks: chunks.len() as u32,
            runs_done: done.iter().map(|c| (c.end - c.start).max(0) as u64).sum(),
            total_runs: chunks.last().map_or(0, |c| c.end.max(0) as u64),
            heatmap,
            top,
        }))
    }

    async fn job_log(&self, id: Uuid, lines: usize) -> Result<LogTail, BackendError> {
        let status = self.store.status(id).await.map_err(to_backend_error)?;
        let lines = self
            .store
            .log_tail(id, lines)
            .await
            .map_err(to_backend_error)?;
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

    async fn import_dataset(&self, name: String, csv: String) -> Result<DatasetInfo, BackendError> {
        datasets::import(self, name, csv).await
    }

    async fn import_stream(
        &self,
        upload: app::api::backend::ImportUpload,
    ) -> Result<JobStatus, BackendError> {
        super::import::Importer {
            store: &self.store,
            datasets: &self.datasets,
            max_bars: self.limits.max_bars,
            max_text_bytes: self.max_upload_bytes,
            worker_id: format!("{}:import", self.instance_id),
            node_id: self.node_id.clone(),
        }
        .run(upload)
        .await
    }

    async fn dataset_page(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<app::model::DatasetPage, BackendError> {
        let offset = u64::from(page.max(1) - 1) * u64::from(per_page);
        let (datasets, total) = self
            .datasets
            .page(per_page, offset)
            .await
            .map_err(|e| internal(&e))?;
        Ok(app::model::DatasetPage {
            datasets,
            total,
            page: page.max(1),
            per_page,
        })
    }

    async fn delete_dataset(&self, id: Uuid) -> Result<(), BackendError> {
        datasets::delete(self, id).await
    }

    async fn job_equity(&self, id: Uuid) -> Result<Vec<(i64, f64)>, BackendError> {
        equity::full_equity(self, id).await
    }

    async fn dataset_chart(&self, id: Uuid) -> Result<app::model::DatasetChart, BackendError> {
        datasets::chart(self, id).await
    }

    async fn list_datasets(&self) -> Result<Vec<DatasetInfo>, BackendError> {
        self.datasets.list().await.map_err(|e| internal(&e))
    }

    async fn job_grid(
        &self,
        id: Uuid,
    ) -> Result<Option<app::model::research::FullGrid>, BackendError> {
        crate::grids::GridStore::new(self.store.pool().clone())
            .load(id)
            .await
            .map_err(|e| internal(&e))
    }

    async fn job_repro(&self, id: Uuid) -> Result<Reproducibility, BackendError> {
        let row = self.store.repro(id).await.map_err(to_backend_error)?;
        Ok(Reproducibility {
            id,
            kind: row.kind,
            state: row.state,
            request: tagged_request(row.kind, row.args),
            program_version: row.program_version,
            dataset_hash: row.dataset_hash,
            dataset_name: row.dataset_name,
        })
    }

    async fn rerun_job(&self, id: Uuid) -> Result<JobStatus, BackendError> {
        let row = self.store.repro(id).await.map_err(to_backend_error)?;
        let request: JobRequest = serde_json::from_value(tagged_request(row.kind, row.args))
            .map_err(|e| {
                BackendError::Conflict(format!(
                    "job {id}'s stored request is not a valid request any more ({e}); \
                     submit a new one instead"
                ))
            })?;
        self.submit_job(request).await
    }

    async fn check_strategy(&self, source: String) -> Result<StrategyCheck, BackendError> {
        strategies::check_api(source).await
    }

    async fn save_strategy(&self, source: String) -> Result<SavedStrategy, BackendError> {
        strategies::save_api(&StrategyStore::new(self.store.pool().clone()), source).await
    }

    async fn list_strategies(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<StrategyList, BackendError> {
        let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
        let (strategies, total) = StrategyStore::new(self.store.pool().clone())
            .list(i64::from(per_page), offset)
            .await
            .map_err(|e| internal(&e))?;
        Ok(StrategyList {
            strategies,
            total,
            page,
            per_page,
        })
    }

    async fn get_strategy(
        &self,
        id: Uuid,
        version: Option<i32>,
    ) -> Result<StrategySource, BackendError> {
        strategies::get_api(&StrategyStore::new(self.store.pool().clone()), id, version).await
    }

    async fn delete_strategy(&self, id: Uuid) -> Result<DeletedStrategy, BackendError> {
        strategies::delete_api(&StrategyStore::new(self.store.pool().clone()), id).await
    }
}
