//! The store's batched statements, for a worker pool that claims, beats and completes many
//! jobs per statement: [`JobStore::claim_batch`], [`JobStore::pulse`] and
//! [`JobStore::complete_batch`]. Each is guarded per run exactly as its one-job counterpart.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::{statement, ClaimedJob, JobStore, ProgressUpdate, StoreError, MAX_MESSAGE_CHARS};

const CLAIM_BATCH: &str = statement(include_str!("../../../queries/jobs/claim_batch.sql"));
const COMPLETE_BATCH: &str = statement(include_str!("../../../queries/jobs/complete_batch.sql"));
const PULSE: &str = statement(include_str!("../../../queries/jobs/pulse.sql"));

/// One run's share of a [`JobStore::pulse`]: a heartbeat, with new progress if it has some.
#[derive(Clone, Debug)]
pub struct PulseWrite {
    pub id: Uuid,
    pub lease: Uuid,
    /// `None`: heartbeat only.
    pub progress: Option<ProgressUpdate>,
}

#[derive(sqlx::FromRow)]
struct BatchClaim {
    #[sqlx(flatten)]
    job: ClaimedJob,
    worker_id: String,
}

impl JobStore {
    /// Claims up to one runnable job per worker in `worker_ids`, in one statement: as
    /// [`JobStore::claim`], each with its own lease. Answers each job with the worker it was
    /// claimed for.
    pub async fn claim_batch(
        &self,
        worker_ids: &[String],
        node_id: &str,
    ) -> Result<Vec<(String, ClaimedJob)>, StoreError> {
        if worker_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<BatchClaim> = sqlx::query_as(CLAIM_BATCH)
            .bind(worker_ids)
            .bind(node_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|r| (r.worker_id, r.job)).collect())
    }

    /// RUNNING → SUCCEEDED for many runs in one statement: as [`JobStore::complete`] per run
    /// (`(id, lease, result, last message)`; a message, when given, replaces the progress
    /// message). Answers, in the same order, whether each landed (`false`: the run was stale
    /// and nothing changed for that job).
    pub async fn complete_batch(
        &self,
        runs: &[(Uuid, Uuid, Value, Option<String>)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut order: Vec<&(Uuid, Uuid, Value, Option<String>)> = runs.iter().collect();
        // Rows are locked in id order, as the pulse locks them: no deadlock between the two.
        order.sort_by_key(|r| r.0);
        let ids: Vec<Uuid> = order.iter().map(|r| r.0).collect();
        let leases: Vec<Uuid> = order.iter().map(|r| r.1).collect();
        let results: Vec<&Value> = order.iter().map(|r| &r.2).collect();
        let messages: Vec<Option<String>> = order.iter().map(|r| clip(r.3.as_deref())).collect();
        let done: Vec<Uuid> = sqlx::query_scalar(COMPLETE_BATCH)
            .bind(&ids)
            .bind(&leases)
            .bind(&results)
            .bind(&messages)
            .fetch_all(self.pool())
            .await?;
        let done: std::collections::HashSet<Uuid> = done.into_iter().collect();
        Ok(runs.iter().map(|r| done.contains(&r.0)).collect())
    }

    /// One statement for every run a process holds: each run's progress (when it has new
    /// progress) and a heartbeat for all. Answers, for each run still current, whether a cancel
    /// was requested; a run missing from the answer is stale and was left alone.
    pub async fn pulse(&self, writes: &[PulseWrite]) -> Result<HashMap<Uuid, bool>, StoreError> {
        if writes.is_empty() {
            return Ok(HashMap::new());
        }
        let mut order: Vec<&PulseWrite> = writes.iter().collect();
        order.sort_by_key(|w| w.id);
        for w in &order {
            if let Some(p) = &w.progress {
                if !(0.0..=1.0).contains(&p.progress) {
                    return Err(StoreError::InvalidProgress(p.progress));
                }
            }
        }
        let finite = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
        let field = |f: &dyn Fn(&ProgressUpdate) -> Option<f64>| -> Vec<Option<f64>> {
            order
                .iter()
                .map(|w| w.progress.as_ref().and_then(|p| finite(f(p))))
                .collect()
        };
        let ids: Vec<Uuid> = order.iter().map(|w| w.id).collect();
        let leases: Vec<Uuid> = order.iter().map(|w| w.lease).collect();
        let has: Vec<bool> = order.iter().map(|w| w.progress.is_some()).collect();
        let progress: Vec<f64> = order
            .iter()
            .map(|w| w.progress.as_ref().map_or(0.0, |p| p.progress))
            .collect();
        let messages: Vec<Option<String>> = order
            .iter()
            .map(|w| clip(w.progress.as_ref().and_then(|p| p.message.as_deref())))
            .collect();
        let checkpoints: Vec<Option<&Value>> = order
            .iter()
            .map(|w| w.progress.as_ref().and_then(|p| p.checkpoint.as_ref()))
            .collect();
        let rows: Vec<(Uuid, bool)> = sqlx::query_as(PULSE)
            .bind(&ids)
            .bind(&leases)
            .bind(&has)
            .bind(&progress)
            .bind(&messages)
            .bind(field(&|p| p.eta_seconds))
            .bind(field(&|p| p.rate_per_second))
            .bind(&checkpoints)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// A progress message cut to what the table keeps.
fn clip(message: Option<&str>) -> Option<String> {
    message.map(|m| m.chars().take(MAX_MESSAGE_CHARS).collect())
}
