//! The store's reads: a job's status, the job list, its result, arguments and reproducibility
//! record, and its run-log tail. None of them changes a row.

use app::api::backend::ListFilter;
use app::model::{JobKind, JobState, JobStatus};
use serde_json::Value;
use uuid::Uuid;

use super::super::joblog::{merge_tails, tail, MAX_TAIL_LINES, TAIL_LINES};
use super::{sql, JobStore, StoreError};

/// A job's reproducibility record as `repro.sql` returns it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ReproRow {
    pub kind: JobKind,
    pub state: JobState,
    /// The request's fields as submitted (without the `kind` tag).
    pub args: Value,
    pub program_version: Option<String>,
    pub dataset_hash: Option<String>,
    /// The name of the dataset the arguments name, if it is stored.
    pub dataset_name: Option<String>,
}

/// What `result.sql` returns.
#[derive(sqlx::FromRow)]
struct ResultRow {
    state: JobState,
    result: Option<Value>,
}

impl JobStore {
    /// The last `n` lines of job `id`'s run log from every machine that ran it: the local
    /// file and the shipped lines, merged.
    pub async fn log_tail(&self, id: Uuid, n: usize) -> Result<Vec<String>, StoreError> {
        let n = n.min(MAX_TAIL_LINES);
        let mut shipped: Vec<String> = sqlx::query_scalar(TAIL_LINES)
            .bind(id)
            .bind(n as i64)
            .fetch_all(&self.pool)
            .await?;
        shipped.reverse();
        let file = self.log_file(id);
        let local = tokio::task::spawn_blocking(move || tail(&file, n))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        Ok(merge_tails(local, shipped, n))
    }

    /// One job's status.
    pub async fn status(&self, id: Uuid) -> Result<JobStatus, StoreError> {
        let status: Option<JobStatus> = sqlx::query_as(sql::STATUS)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        status.ok_or(StoreError::NotFound(id))
    }

    /// Jobs newest first, filtered by state and kind, one page; with the total matching count.
    /// Pages count from 1; offsets saturate, so a huge page number is just an empty page. Each
    /// job carries its research context ([`JobStatus::context`]), computed in the query.
    pub async fn list(&self, filter: &ListFilter) -> Result<(Vec<JobStatus>, i64), StoreError> {
        let limit = i64::from(filter.per_page);
        let offset = (i64::from(filter.page.max(1)) - 1).saturating_mul(limit);
        let jobs: Vec<JobStatus> = sqlx::query_as(sql::LIST)
            .bind(filter.state)
            .bind(filter.kind)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sql::COUNT)
            .bind(filter.state)
            .bind(filter.kind)
            .fetch_one(&self.pool)
            .await?;
        Ok((jobs, total))
    }

    /// A job's state and result (`None` until it SUCCEEDED).
    pub async fn result(&self, id: Uuid) -> Result<(JobState, Option<Value>), StoreError> {
        let row: Option<ResultRow> = sqlx::query_as(sql::RESULT)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let ResultRow { state, result } = row.ok_or(StoreError::NotFound(id))?;
        Ok((state, result))
    }

    /// A job's arguments as submitted.
    pub async fn args(&self, id: Uuid) -> Result<Value, StoreError> {
        let args: Option<Value> = sqlx::query_scalar(sql::ARGS)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        args.ok_or(StoreError::NotFound(id))
    }

    /// A job's reproducibility record: its request, program version and dataset hash.
    pub async fn repro(&self, id: Uuid) -> Result<ReproRow, StoreError> {
        let row: Option<ReproRow> = sqlx::query_as(sql::REPRO)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or(StoreError::NotFound(id))
    }
}
