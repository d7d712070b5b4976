//! Datasets as the API lists them (the bars themselves stay on the server).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest dataset name.
pub const MAX_DATASET_NAME: usize = 100;
/// Largest CSV upload accepted, in bytes.
pub const MAX_CSV_BYTES: usize = 1_500_000;

/// One stored OHLCV dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Number of bars.
    pub bars: i32,
    /// First and last bar time, unix seconds (UTC).
    pub start: i64,
    pub end: i64,
    pub created_at: DateTime<Utc>,
}

/// One page of the dataset list (`/api/dataset_page`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetPage {
    pub datasets: Vec<DatasetInfo>,
    /// Datasets in all.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// A dataset's page: its info and its close price, downsampled to at most ~2,000 points with
/// min/max buckets (the `equity` of each point is the close; `drawdown_pct` its fall from the
/// running peak).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetChart {
    pub info: DatasetInfo,
    pub points: Vec<crate::model::research::EquityPoint>,
}

/// The result of an `import` job: the new dataset, and how the upload went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportResult {
    /// The dataset, as `/api/list_datasets` lists it (`id`, `name`, `bars`, …).
    #[serde(flatten)]
    pub dataset: DatasetInfo,
    /// Bytes of the upload as sent (compressed, for a gzip body).
    pub bytes: u64,
    /// Wall time of the import, from the first byte to the stored dataset.
    pub seconds: f64,
}

/// One problem in an uploaded CSV: where it is and what is wrong. The engine's CSV parser
/// reports these, and the API answers them as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvIssue {
    /// 1-based line number; the header is line 1.
    pub line: usize,
    /// Column name as written in the header (or the expected name when it is missing); empty
    /// for a problem with the whole line.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CsvIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            return write!(f, "line {}: {}", self.line, self.message);
        }
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Checks a dataset name, naming the problem.
pub fn validate_dataset_name(name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("a name is required".into());
    }
    if trimmed.chars().count() > MAX_DATASET_NAME {
        return Err(format!("at most {MAX_DATASET_NAME} characters"));
    }
    Ok(())
}
