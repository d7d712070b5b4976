//! Helpers shared by the integration tests (each test gets a fresh database from #[sqlx::test]).
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use app::model::{DemoRequest, JobKind, JobState, JobStatus};
use server::datasets::DatasetStore;
use server::jobs::handlers::{HandlerDeps, Registry};
use server::jobs::store::NewJob;
use server::jobs::worker::{Worker, WorkerConfig};
use server::jobs::JobStore;
use sqlx::PgPool;
use uuid::Uuid;

/// A store whose run logs go to a fresh temporary directory.
pub fn store(pool: &PgPool) -> JobStore {
    JobStore::new(pool.clone(), temp_dir("runs"))
}

pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runboard-test-{what}-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn demo(steps: u64, step_ms: u64) -> NewJob {
    demo_with(DemoRequest {
        steps,
        step_ms,
        fail_once_at: None,
        fail_terminally_at: None,
    })
}

pub fn demo_with(request: DemoRequest) -> NewJob {
    NewJob::new(JobKind::Demo, serde_json::to_value(request).unwrap())
}

/// A worker pool with fast timings for tests.
pub fn worker(store: &JobStore) -> Worker {
    worker_with(store, |_| {})
}

/// A worker pool with fast timings, adjusted by `tweak`.
pub fn worker_with(store: &JobStore, tweak: impl FnOnce(&mut WorkerConfig)) -> Worker {
    let mut config = WorkerConfig::new(1, "test");
    config.poll_interval = Duration::from_millis(100);
    config.retry_base = Duration::from_millis(100);
    config.heartbeat_interval = Some(Duration::from_millis(200));
    config.min_write_interval = Some(Duration::ZERO);
    tweak(&mut config);
    let deps = HandlerDeps {
        store: store.clone(),
        datasets: DatasetStore::new(store.pool().clone()),
        max_grid: 100_000,
    };
    Worker::new(store.clone(), Registry::standard(), deps, config)
}

/// Polls the job until `pred` holds (or panics after `timeout`).
pub async fn wait_for(
    store: &JobStore,
    id: Uuid,
    timeout: Duration,
    pred: impl Fn(&JobStatus) -> bool,
) -> JobStatus {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = store.status(id).await.unwrap();
        if pred(&status) {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting; last status: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn wait_for_state(store: &JobStore, id: Uuid, state: JobState) -> JobStatus {
    wait_for(store, id, Duration::from_secs(30), |s| s.state == state).await
}

/// Makes a running job look silent for `secs` seconds (as if its worker had frozen).
pub async fn age_heartbeat(pool: &PgPool, id: Uuid, secs: i64) {
    sqlx::query("UPDATE jobs SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1")
        .bind(id)
        .bind(secs as f64)
        .execute(pool)
        .await
        .unwrap();
}

/// The connection URL of the test's own database (for child processes).
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set by the test script");
    let db = pool
        .connect_options()
        .get_database()
        .expect("sqlx::test databases are named")
        .to_string();
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL ends with /<database>");
    format!("{prefix}/{db}")
}
