//! Serde types shared by the server and the browser.

pub mod calendar;
pub mod dataset;
pub mod job;
pub mod requests;
pub mod research;
pub mod strategies;

pub use dataset::{CsvIssue, DatasetChart, DatasetInfo, DatasetPage, ImportResult};
pub use job::{JobKind, JobState, JobStatus};
pub use requests::{CheckedRequest, DemoRequest, FieldError, JobRequest};

use serde::{Deserialize, Serialize};

/// One page of the jobs list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<JobStatus>,
    /// Jobs matching the filter, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The end of a job's run log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogTail {
    pub path: String,
    pub lines: Vec<String>,
}

/// One chunk of a fanned-out optimization (`/api/job_chunks`): a range of the grid's runs that
/// some worker process ran, or runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobChunk {
    /// 0-based, in grid order.
    pub index: u32,
    pub state: JobState,
    /// The chunk's runs, `[start, end)` in the grid's run order.
    pub start: u64,
    pub end: u64,
    /// Attempts so far (more than 1: it was rescued or retried).
    pub attempt: u32,
    /// The node (`RUNBOARD_NODE_ID`) that ran it last.
    pub node: Option<String>,
    /// Its own progress, 0..1.
    pub progress: Option<f64>,
}

/// A job's result: present once it SUCCEEDED.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub id: uuid::Uuid,
    pub kind: JobKind,
    pub state: JobState,
    pub result: Option<serde_json::Value>,
}
