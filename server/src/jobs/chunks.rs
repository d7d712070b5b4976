//! Fan-out (issue 10): one optimization over many worker processes and machines.
//!
//! An optimize job whose work (runs × bars) reaches [`FanOut::min_work`] is split into jobs of
//! kind `chunk`, its children in the `jobs` table (`parent_id`, `chunk_index`): contiguous
//! ranges of the grid's runs of about [`FanOut::chunk_work`] each ([`plan`]). They are ordinary
//! jobs: any worker that shares `DATABASE_URL` claims them with `FOR NO KEY UPDATE SKIP LOCKED`, with
//! leases, heartbeats, rescue and retries, and a cancel of the parent cancels them in the same
//! statement. The parent (see `handlers::chunk`) runs its own queued chunks meanwhile, so a
//! single worker still finishes the job; it shows the chunks' summed progress, and assembles
//! their metrics in grid order into a complete checkpoint, from which the engine finishes the
//! job exactly as a single process would. A worker that dies costs only its chunk.
//!
//! This file holds the plan, the chunk's arguments and result, and the store's chunk
//! statements (`server/queries/jobs/chunks_*.sql`).

use std::collections::BTreeMap;

use app::model::job::log_path_in;
use app::model::{JobKind, JobState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::store::{statement, ClaimedJob, JobStore, StoreError, DEFAULT_MAX_ATTEMPTS};
use crate::engine::optimize::{f64_bits, ChunkOutput, ChunkSummary};

/// Most chunks one job is split into (larger grids get larger chunks).
pub const MAX_CHUNKS: u64 = 1_000;
/// Default fan-out threshold: runs × bars (about 5 s of one core's sweep).
pub const DEFAULT_FANOUT_WORK: u64 = 2_000_000_000;
/// Default work per chunk: runs × bars (about 1.5 s of a 2-core process, 3 s of one core):
/// large enough that loading the dataset and building the sweep cost a few per cent.
pub const DEFAULT_CHUNK_WORK: u64 = 1_000_000_000;

/// When and how finely optimizations are split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanOut {
    /// Runs × bars from which an optimization is split into chunks; 0: never.
    pub min_work: u64,
    /// About this much work (runs × bars) per chunk; at least one run.
    pub chunk_work: u64,
}

impl Default for FanOut {
    fn default() -> FanOut {
        FanOut {
            min_work: DEFAULT_FANOUT_WORK,
            chunk_work: DEFAULT_CHUNK_WORK,
        }
    }
}

impl FanOut {
    /// Never split (tests of the single-process path; `RUNBOARD_FANOUT_WORK=0`).
    pub const OFF: FanOut = FanOut {
        min_work: 0,
        chunk_work: DEFAULT_CHUNK_WORK,
    };
}

/// The chunks of an optimization of `runs` runs over `bars` bars: contiguous, in grid order,
/// covering every run once; `None` when it stays in one process (below the threshold, or a
/// single chunk).
pub fn plan(runs: u64, bars: u64, fanout: &FanOut) -> Option<Vec<(u64, u64)>> {
    let work = runs.saturating_mul(bars.max(1));
    if fanout.min_work == 0 || work < fanout.min_work || runs < 2 {
        return None;
    }
    let most = (fanout.chunk_work / bars.max(1))
        .max(1)
        .max(runs.div_ceil(MAX_CHUNKS));
    let chunks = runs.div_ceil(most);
    if chunks < 2 {
        return None;
    }
    // As many chunks as that size needs, of equal size: no small last chunk to wait for.
    let per_chunk = runs.div_ceil(chunks);
    Some(
        (0..chunks)
            .map(|i| (i * per_chunk, ((i + 1) * per_chunk).min(runs)))
            .collect(),
    )
}

/// A chunk job's arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkArgs {
    /// The optimization it is part of (its request is read from there).
    pub parent_id: Uuid,
    pub index: u32,
    /// First run, in the grid's run order.
    pub start: u64,
    /// End of its runs (exclusive).
    pub end: u64,
}

/// A chunk job's result: the metric of each of its runs, as IEEE-754 bit patterns (exact, NaN
/// kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChunkResult {
    /// First run.
    pub start: u64,
    #[serde(with = "f64_bits")]
    pub metrics: Vec<f64>,
    /// What it adds to the live heatmap and top runs (absent in results of older versions).
    #[serde(default)]
    pub summary: Option<ChunkSummary>,
}

impl ChunkResult {
    /// The result of the chunk whose first run is `start`.
    pub fn of(start: u64, out: ChunkOutput) -> ChunkResult {
        ChunkResult {
            start,
            metrics: out.metrics,
            summary: out.summary,
        }
    }
}

/// Where a parent's chunks stand (`chunks_progress.sql`).
#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct ChunkProgress {
    pub chunks: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Runs done over every chunk (finished ones whole, running ones by their progress).
    pub runs_done: i64,
    /// The first failed chunk's error.
    pub error: Option<String>,
}

/// One chunk as `/api/job_chunks` lists it (`chunks_list.sql`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ChunkRow {
    pub chunk_index: i32,
    pub state: JobState,
    pub start: i64,
    pub end: i64,
    pub attempt: i32,
    /// The node that ran it last.
    pub node_id: Option<String>,
    pub progress: Option<f64>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What `chunks_results.sql` returns.
#[derive(sqlx::FromRow)]
struct ResultRow {
    chunk_index: i32,
    result: Option<Value>,
}

mod sql {
    use super::statement;

    pub const CREATE: &str = statement(include_str!("../../queries/jobs/chunks_create.sql"));
    pub const CLAIM: &str = statement(include_str!("../../queries/jobs/chunks_claim.sql"));
    pub const PROGRESS: &str = statement(include_str!("../../queries/jobs/chunks_progress.sql"));
    pub const RESULTS: &str = statement(include_str!("../../queries/jobs/chunks_results.sql"));
    pub const CANCEL: &str = statement(include_str!("../../queries/jobs/chunks_cancel.sql"));
    pub const LIST: &str = statement(include_str!("../../queries/jobs/chunks_list.sql"));
    pub const SUMMARIES: &str = statement(include_str!("../../queries/jobs/chunks_summaries.sql"));
}

impl JobStore {
    /// Adds `parent`'s chunks (QUEUED, priority one above the parent's), unless they exist:
    /// returns how many were added (0 for a rescued parent).
    pub async fn create_chunks(
        &self,
        parent: Uuid,
        priority: i16,
        program_version: Option<&str>,
        ranges: &[(u64, u64)],
    ) -> Result<u64, StoreError> {
        let ids: Vec<Uuid> = ranges.iter().map(|_| Uuid::new_v4()).collect();
        let starts: Vec<i64> = ranges.iter().map(|r| r.0 as i64).collect();
        let ends: Vec<i64> = ranges.iter().map(|r| r.1 as i64).collect();
        let logs: Vec<String> = ids
            .iter()
            .map(|id| {
                log_path_in(self.runs_dir(), *id)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let added = sqlx::query(sql::CREATE)
            .bind(parent)
            .bind(&ids)
            .bind(&starts)
            .bind(&ends)
            .bind(&logs)
            .bind(priority.saturating_add(1))
            .bind(DEFAULT_MAX_ATTEMPTS)
            .bind(program_version)
            .execute(self.pool())
            .await?;
        Ok(added.rows_affected())
    }

    /// Claims one of `parent`'s QUEUED chunks for the parent's own process.
    pub async fn claim_chunk(
        &self,
        parent: Uuid,
        worker_id: &str,
        node_id: &str,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let job: Option<ClaimedJob> = sqlx::query_as(sql::CLAIM)
            .bind(worker_id)
            .bind(node_id)
            .bind(parent)
            .fetch_optional(self.pool())
            .await?;
        Ok(job.filter(|j| j.kind == JobKind::Chunk))
    }

    /// Where `parent`'s chunks stand.
    pub async fn chunk_progress(&self, parent: Uuid) -> Result<ChunkProgress, StoreError> {
        Ok(sqlx::query_as(sql::PROGRESS)
            .bind(parent)
            .fetch_one(self.pool())
            .await?)
    }

    /// The metrics of `parent`'s runs, assembled from its SUCCEEDED chunks in grid order;
    /// `None` unless they cover runs `0..runs` exactly. `known` holds the results of the chunks
    /// the caller ran itself (by chunk index): those are not read back.
    pub async fn chunk_metrics(
        &self,
        parent: Uuid,
        runs: u64,
        mut known: BTreeMap<u32, ChunkResult>,
    ) -> Result<Option<Vec<f64>>, StoreError> {
        let skip: Vec<i32> = known.keys().map(|&i| i as i32).collect();
        let rows: Vec<ResultRow> = sqlx::query_as(sql::RESULTS)
            .bind(parent)
            .bind(&skip)
            .fetch_all(self.pool())
            .await?;
        for row in rows {
            let chunk = row
                .result
                .and_then(|r| serde_json::from_value::<ChunkResult>(r).ok());
            match (u32::try_from(row.chunk_index), chunk) {
                (Ok(index), Some(c)) => known.insert(index, c),
                _ => return Ok(None),
            };
        }
        let mut metrics = Vec::with_capacity(runs as usize);
        for (i, (index, c)) in known.into_iter().enumerate() {
            if index as usize != i || c.start != metrics.len() as u64 {
                return Ok(None);
            }
            metrics.extend(c.metrics);
        }
        Ok((metrics.len() as u64 == runs).then_some(metrics))
    }

    /// The summaries of `parent`'s SUCCEEDED chunks in grid order (a summary that does not
    /// decode, or a chunk of an older version without one, is left out).
    pub async fn chunk_summaries(&self, parent: Uuid) -> Result<Vec<ChunkSummary>, StoreError> {
        let rows: Vec<Option<Value>> = sqlx::query_scalar(sql::SUMMARIES)
            .bind(parent)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .flatten()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect())
    }

    /// Cancels every live chunk of `parent`; returns how many.
    pub async fn cancel_chunks(&self, parent: Uuid) -> Result<u64, StoreError> {
        let done = sqlx::query(sql::CANCEL)
            .bind(parent)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// `parent`'s chunks in grid order (at most [`MAX_CHUNKS`]).
    pub async fn list_chunks(&self, parent: Uuid) -> Result<Vec<ChunkRow>, StoreError> {
        Ok(sqlx::query_as(sql::LIST)
            .bind(parent)
            .bind(MAX_CHUNKS as i64)
            .fetch_all(self.pool())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_run_once_in_order() {
        let f = FanOut {
            min_work: 1_000,
            chunk_work: 300,
        };
        // 10 runs × 100 bars = 1,000: three runs a chunk.
        let chunks = plan(10, 100, &f).unwrap();
        assert_eq!(chunks, vec![(0, 3), (3, 6), (6, 9), (9, 10)]);
        // Equal sizes: 30,876 runs in chunks of at most 15,384 are three of 10,292, not two
        // full ones and a 108-run tail.
        let three = plan(30_876, 65_000, &FanOut::default()).unwrap();
        assert_eq!(three, vec![(0, 10_292), (10_292, 20_584), (20_584, 30_876)]);
        // Below the threshold, off, or a single chunk: one process.
        assert_eq!(plan(9, 100, &f), None);
        assert_eq!(plan(10, 100, &FanOut::OFF), None);
        let big = FanOut {
            min_work: 1,
            chunk_work: u64::MAX,
        };
        assert_eq!(plan(10, 100, &big), None);
        // At most MAX_CHUNKS chunks, each covering its share.
        let tiny = FanOut {
            min_work: 1,
            chunk_work: 1,
        };
        let many = plan(123_457, 10, &tiny).unwrap();
        assert!(many.len() as u64 <= MAX_CHUNKS, "{}", many.len());
        assert_eq!(many[0].0, 0);
        assert_eq!(many.last().unwrap().1, 123_457);
        assert!(many.windows(2).all(|w| w[0].1 == w[1].0));
    }

    #[test]
    fn a_chunk_result_keeps_every_bit() {
        let r = ChunkResult {
            start: 7,
            metrics: vec![1.5, f64::NAN, -0.0, f64::INFINITY],
            summary: None,
        };
        let back: ChunkResult = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back.start, 7);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.metrics), bits(&r.metrics));
    }
}
