//! The narrow port through which server functions reach the job system.
//!
//! `app` cannot depend on `server` (the dependency runs the other way), so `app` owns this
//! trait and the server implements it and provides it to every request as
//! `Arc<dyn JobBackend>` through `leptos_routes_with_context` (the hexagonal way).

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::ApiError;
use crate::model::research::PartialOptimize;
use crate::model::{
    CsvIssue, DatasetInfo, JobChunk, JobKind, JobList, JobRequest, JobResult, JobState, JobStatus,
    LogTail,
};

/// Why the backend could not answer. Internal errors carry a log reference, never the cause.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("no such job: {0}")]
    NoSuchJob(Uuid),
    #[error("invalid request: {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("invalid CSV ({} problems)", .0.len())]
    InvalidCsv(Vec<CsvIssue>),
    #[error("{0}")]
    Conflict(String),
    /// The cap on active jobs is reached.
    #[error("{message}")]
    TooManyJobs { message: String, limit: u64 },
    /// The cause has been logged under this reference.
    #[error("internal error (reference {0})")]
    Internal(String),
}

impl BackendError {
    /// A `400` naming the request field that is wrong.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        BackendError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::NoSuchJob(id) => ApiError::NoSuchJob { id: id.to_string() },
            BackendError::Invalid { field, message } => ApiError::InvalidRequest { field, message },
            BackendError::InvalidCsv(errors) => ApiError::InvalidCsv { errors },
            BackendError::Conflict(message) => ApiError::Conflict { message },
            BackendError::TooManyJobs { message, limit } => {
                ApiError::TooManyJobs { message, limit }
            }
            BackendError::Internal(reference) => ApiError::Internal { reference },
        }
    }
}

/// Filter and page for [`JobBackend::list_jobs`] (already validated).
#[derive(Clone, Debug, PartialEq)]
pub struct ListFilter {
    pub state: Option<JobState>,
    pub kind: Option<JobKind>,
    pub page: u32,
    pub per_page: u32,
}

/// What the server functions need from the job system.
#[async_trait]
pub trait JobBackend: Send + Sync + 'static {
    /// Validates and queues a job.
    async fn submit_job(&self, request: JobRequest) -> Result<JobStatus, BackendError>;
    /// The job's current status.
    async fn job_status(&self, id: Uuid) -> Result<JobStatus, BackendError>;
    /// Jobs newest first.
    async fn list_jobs(&self, filter: ListFilter) -> Result<JobList, BackendError>;
    /// Cancels a queued job at once, or asks a running one to stop.
    async fn cancel_job(&self, id: Uuid) -> Result<JobStatus, BackendError>;
    /// A fanned-out optimization's chunks in grid order (empty for any other job).
    async fn job_chunks(&self, id: Uuid) -> Result<Vec<JobChunk>, BackendError>;
    /// A fanned-out optimization's heatmap and best runs over its finished chunks (`None` for
    /// any other job, or before a chunk has finished).
    async fn job_partial(&self, id: Uuid) -> Result<Option<PartialOptimize>, BackendError>;
    /// The last `lines` lines of the job's run log.
    async fn job_log(&self, id: Uuid, lines: usize) -> Result<LogTail, BackendError>;
    /// The job's result (present once it succeeded).
    async fn job_result(&self, id: Uuid) -> Result<JobResult, BackendError>;
    /// Parses and stores a CSV as a dataset; nothing is stored if any row is bad.
    async fn import_dataset(&self, name: String, csv: String) -> Result<DatasetInfo, BackendError>;
    /// Every dataset, newest first.
    async fn list_datasets(&self) -> Result<Vec<DatasetInfo>, BackendError>;
    /// One page of the datasets, newest first (`page` from 1, `per_page` checked).
    async fn dataset_page(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<crate::model::DatasetPage, BackendError>;
    /// Deletes a dataset; a conflict while a queued or running job uses it.
    async fn delete_dataset(&self, id: Uuid) -> Result<(), BackendError>;
    /// A succeeded backtest's full equity curve, `(time, equity)` for every bar, recomputed
    /// from its request and dataset (the stored result keeps a downsampled curve).
    async fn job_equity(&self, id: Uuid) -> Result<Vec<(i64, f64)>, BackendError>;
    /// A dataset's info and its downsampled close price.
    async fn dataset_chart(&self, id: Uuid) -> Result<crate::model::DatasetChart, BackendError>;
    /// The metric of every combination of an optimization's grid, stored beside its result;
    /// `None` when the job has none (not an optimization, not finished, or run before grids
    /// were stored).
    async fn job_grid(
        &self,
        id: Uuid,
    ) -> Result<Option<crate::model::research::FullGrid>, BackendError>;
    /// A job's reproducibility record: its full request, the program version that accepted it
    /// and the content hash of its dataset.
    async fn job_repro(&self, id: Uuid)
        -> Result<crate::model::job::Reproducibility, BackendError>;
    /// Queues the job's request again, through the same validation and active-job cap as
    /// [`JobBackend::submit_job`].
    async fn rerun_job(&self, id: Uuid) -> Result<JobStatus, BackendError>;
    /// Streams a CSV upload into a new dataset as a job of kind `import`, run inside the
    /// request; returns the job's final status (SUCCEEDED, its result the dataset's info).
    async fn import_stream(&self, upload: ImportUpload) -> Result<JobStatus, BackendError>;
    /// Checks a rule-language program: a program that does not check is an answer with its
    /// errors, not an error (only an oversized source is refused).
    async fn check_strategy(
        &self,
        source: String,
    ) -> Result<crate::model::strategies::StrategyCheck, BackendError>;
    /// Checks and saves a program under its name: a new version when the source differs from
    /// the newest one's, else that version (`created: false`).
    async fn save_strategy(
        &self,
        source: String,
    ) -> Result<crate::model::strategies::SavedStrategy, BackendError>;
    /// The newest version of each saved strategy, most recently saved first.
    async fn list_strategies(
        &self,
        page: u32,
        per_page: u32,
    ) -> Result<crate::model::strategies::StrategyList, BackendError>;
    /// One version of a saved strategy with its source (`None`: the newest).
    async fn get_strategy(
        &self,
        id: Uuid,
        version: Option<i32>,
    ) -> Result<crate::model::strategies::StrategySource, BackendError>;
    /// Deletes every version of a strategy; a `Conflict` while a queued or running job runs it.
    async fn delete_strategy(
        &self,
        id: Uuid,
    ) -> Result<crate::model::strategies::DeletedStrategy, BackendError>;
}

/// A CSV upload as it streams in (`POST /api/datasets?name=…`).
pub struct ImportUpload {
    /// The dataset's name (checked by the backend).
    pub name: String,
    /// The body is gzip-compressed (`content-encoding: gzip`).
    pub gzip: bool,
    /// The body's size if the client said it (`content-length`, or `?size=`): for progress only.
    pub size_hint: Option<u64>,
    /// The body, read on a blocking thread as it arrives; a read error ends the import with
    /// its message (a cut-off upload, a body over the limit).
    pub body: Box<dyn std::io::Read + Send>,
    /// Bytes of the body read so far, counted by whoever feeds `body`.
    pub bytes: Arc<std::sync::atomic::AtomicU64>,
}

/// The shared handle the server provides as Leptos context.
pub type SharedBackend = Arc<dyn JobBackend>;

/// The backend from context, or an internal error if the server forgot to provide it.
pub fn backend() -> Result<SharedBackend, ApiError> {
    leptos::prelude::use_context::<SharedBackend>().ok_or_else(|| {
        leptos::logging::error!("JobBackend missing from the Leptos context");
        ApiError::Internal {
            reference: "backend-missing".into(),
        }
    })
}
