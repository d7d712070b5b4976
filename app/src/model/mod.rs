//! Serde types shared by the server and the browser.

pub mod calendar;
pub mod dataset;
pub mod job;
pub mod requests;
pub mod research;
pub mod strategies;

pub use dataset::{CsvIssue, DatasetChart, DatasetInfo, DatasetPage, ImportResult};
pub use job::{JobKind, JobState, JobStatus};
pub use requests::{DemoRequest, FieldError, JobRequest};

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

/// A job's result: present once it SUCCEEDED.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub id: uuid::Uuid,
    pub kind: JobKind,
    pub state: JobState,
    pub result: Option<serde_json::Value>,
}
