//! The cheap poll path (issue 10): a small in-process snapshot of job statuses. Every open job
//! page polls its status every 2 s; a thousand of them on one job cost one query per
//! [`DEFAULT_STATUS_TTL`], not a thousand. Concurrent requests for a status that is not
//! cached wait for one query (single flight). A status is at most the TTL (plus one query) old;
//! this process's own writes (a cancel) drop the job's entry at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app::model::JobStatus;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::store::StoreError;

/// How long a status read from Postgres is served to other pollers (the page polls every 2 s).
pub const DEFAULT_STATUS_TTL: Duration = Duration::from_millis(250);
/// Most statuses held; past it, expired ones are dropped (all of them if none has expired).
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct Entry {
    at: Instant,
    status: Arc<OnceCell<JobStatus>>,
}

/// Job statuses read in the last `ttl`.
#[derive(Default)]
pub struct StatusCache {
    ttl: Duration,
    entries: Mutex<HashMap<Uuid, Entry>>,
}

impl StatusCache {
    /// A cache keeping statuses for `ttl` (zero: every read goes to `load`).
    pub fn new(ttl: Duration) -> StatusCache {
        StatusCache {
            ttl,
            entries: Mutex::default(),
        }
    }

    /// Job `id`'s status: the cached one if it is younger than the TTL, else `load`'s answer
    /// (one `load` at a time per job; an error is not cached).
    pub async fn get<F, Fut>(&self, id: Uuid, load: F) -> Result<JobStatus, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<JobStatus, StoreError>>,
    {
        if self.ttl.is_zero() {
            return load().await;
        }
        let cell = {
            let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            match map.get(&id) {
                Some(e) if now.duration_since(e.at) < self.ttl => e.status.clone(),
                _ => {
                    if map.len() >= MAX_ENTRIES {
                        map.retain(|_, e| now.duration_since(e.at) < self.ttl);
                        if map.len() >= MAX_ENTRIES {
                            map.clear();
                        }
                    }
                    let entry = Entry {
                        at: now,
                        status: Arc::new(OnceCell::new()),
                    };
                    map.insert(id, entry.clone());
                    entry.status
                }
            }
        };
        cell.get_or_try_init(load).await.cloned()
    }

    /// Drops job `id`'s entry (after this process changed the job).
    pub fn forget(&self, id: Uuid) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn status(id: Uuid, progress: f64) -> JobStatus {
        serde_json::from_value(serde_json::json!({
            "id": id, "kind": "demo", "state": "RUNNING", "progress": progress,
            "progress_message": null, "eta_seconds": null, "rate_per_second": null,
            "error": null, "attempt": 1, "max_attempts": 3, "cancel_requested": false,
            "log_path": "x", "created_at": "2026-11-29T00:00:00Z", "started_at": null,
            "finished_at": null, "heartbeat_at": null
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn concurrent_pollers_share_one_query_until_the_ttl_passes() {
        let cache = Arc::new(StatusCache::new(Duration::from_millis(200)));
        let queries = Arc::new(AtomicU32::new(0));
        let id = Uuid::new_v4();
        let poll = |progress: f64| {
            let (cache, queries) = (cache.clone(), queries.clone());
            tokio::spawn(async move {
                cache
                    .get(id, || async move {
                        queries.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(status(id, progress))
                    })
                    .await
                    .unwrap()
            })
        };
        let first: Vec<_> = (0..100).map(|_| poll(0.1)).collect();
        for p in first {
            assert_eq!(p.await.unwrap().progress, Some(0.1));
        }
        assert_eq!(
            queries.load(Ordering::SeqCst),
            1,
            "one query for 100 pollers"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            poll(0.5).await.unwrap().progress,
            Some(0.5),
            "expired: read again"
        );
        assert_eq!(queries.load(Ordering::SeqCst), 2);
        // A local write drops the entry at once.
        cache.forget(id);
        assert_eq!(poll(0.9).await.unwrap().progress, Some(0.9));
        // Errors are not cached; a zero TTL never caches.
        let off = StatusCache::new(Duration::ZERO);
        for p in [0.2, 0.3] {
            let got = off.get(id, || async move { Ok(status(id, p)) }).await;
            assert_eq!(got.unwrap().progress, Some(p));
        }
        let missing = Uuid::new_v4();
        let e = cache
            .get(
                missing,
                || async move { Err(StoreError::NotFound(missing)) },
            )
            .await;
        assert!(matches!(e, Err(StoreError::NotFound(_))));
        let later = cache
            .get(missing, || async move { Ok(status(missing, 1.0)) })
            .await;
        assert_eq!(later.unwrap().progress, Some(1.0));
    }
}
