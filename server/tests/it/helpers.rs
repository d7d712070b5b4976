//! What the test modules share (each test gets a fresh database from `#[sqlx::test]`):
//! [`TestApp`], the real router on a real TCP port with a plain HTTP client; stores, demo jobs
//! and worker pools; waiting with a bound; and probes and barriers inside Postgres.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::model::{DemoRequest, JobKind, JobState, JobStatus};
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use server::jobs::backend::StoreBackend;
use server::jobs::handlers::{HandlerDeps, Registry};
use server::jobs::store::NewJob;
use server::jobs::worker::{TaskPanicked, Worker, WorkerConfig};
use server::jobs::JobStore;
use server::web::Security;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

/// How a [`TestApp`] is built; [`TestApp::spawn`] takes the defaults.
pub struct AppOptions {
    /// Tokens and allowed origins; the default is none (loopback hosts, same-origin writes).
    pub security: Security,
    /// The largest optimization grid (the walk-forward budget is ten times it).
    pub max_grid: usize,
    /// Most QUEUED + RUNNING jobs before a submit gets `429`.
    pub max_active_jobs: u64,
}

impl Default for AppOptions {
    fn default() -> AppOptions {
        AppOptions {
            security: Security::default(),
            max_grid: 1_000,
            max_active_jobs: server::config::DEFAULT_MAX_ACTIVE_JOBS,
        }
    }
}

/// The real application for one test: the router `main` serves (pages, server functions,
/// guard, token check) over a [`StoreBackend`] whose run logs go to a fresh temporary
/// directory, served by `axum::serve` on `127.0.0.1:<free port>` in a task of the test's
/// runtime (stopped when the `TestApp` is dropped).
pub struct TestApp {
    pub address: SocketAddr,
    pub pool: PgPool,
    /// The store the app's backend writes through (and [`TestApp::worker`] runs jobs from).
    pub store: JobStore,
    router: Router,
    server: JoinHandle<()>,
}

impl TestApp {
    /// The app with the default [`AppOptions`]: no token, grid limit 1,000.
    pub async fn spawn(pool: PgPool) -> TestApp {
        TestApp::spawn_with(pool, AppOptions::default()).await
    }

    /// The app built with `options` (`server::web::router_with`, as `main` builds it), serving
    /// before this returns: the listener is bound, so a request right away is queued, not
    /// refused.
    pub async fn spawn_with(pool: PgPool, options: AppOptions) -> TestApp {
        let store = store(&pool);
        let mut backend = StoreBackend::with_max_grid(store.clone(), options.max_grid);
        backend.max_active_jobs = options.max_active_jobs;
        let leptos = LeptosOptions::builder().output_name("runboard").build();
        let router =
            server::web::router_with(leptos, server::web::shared(backend), options.security);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().unwrap();
        let service = router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, service).await.expect("serving HTTP");
        });
        TestApp {
            address,
            pool,
            store,
            router,
            server,
        }
    }

    /// POSTs `body` as JSON to `path` over TCP; the status and the answer (JSON, or the text as
    /// a JSON string when it is not JSON).
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, &body.to_string()).await
    }

    /// As [`TestApp::post_json`] with a body sent as is (`content-type: application/json`).
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let answer = http_post(self.address, path, body).await;
        let value = serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body));
        (answer.status, value)
    }

    /// Submits a job request (`{"kind": …}`) through `/api/submit_job`; it must be accepted.
    pub async fn submit(&self, request: Value) -> Uuid {
        let (code, job) = self
            .post_json("/api/submit_job", json!({ "request": request }))
            .await;
        assert_eq!(code, 200, "submit: {job}");
        serde_json::from_value::<JobStatus>(job)
            .expect("a job status")
            .id
    }

    /// The job's status through `/api/job_status`.
    pub async fn status(&self, id: Uuid) -> JobStatus {
        self.job_call("/api/job_status", id).await
    }

    /// Cancels the job through `/api/cancel_job`; it must be accepted.
    pub async fn cancel(&self, id: Uuid) -> JobStatus {
        self.job_call("/api/cancel_job", id).await
    }

    async fn job_call(&self, path: &str, id: Uuid) -> JobStatus {
        let (code, status) = self.post_json(path, json!({ "id": id })).await;
        assert_eq!(code, 200, "{path}: {status}");
        serde_json::from_value(status).expect("a job status")
    }

    /// Polls [`TestApp::status`] until the job is terminal (panics after 30 s).
    pub async fn wait_terminal(&self, id: Uuid) -> JobStatus {
        eventually(Duration::from_secs(30), "the job ends", || async {
            Some(self.status(id).await).filter(|s| s.state.is_terminal())
        })
        .await
    }

    /// Starts a worker pool (fast test timings, see [`worker`]) on the app's store.
    pub fn worker(&self) -> RunningWorker {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(worker(&self.store).run(shutdown.clone()));
        RunningWorker {
            shutdown,
            task: Some(task),
        }
    }

    /// A GET of `path` through the router in process, as the browser on 127.0.0.1 sends it.
    pub async fn get(&self, path: &str) -> Answer {
        self.oneshot(get(path, &[])).await
    }

    /// Sends `request` to the same router in process (`tower::ServiceExt::oneshot`), headers
    /// exactly as given (`Host` included): for the guard's and the token check's tests.
    pub async fn oneshot(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            raw: bytes.to_vec(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A worker pool started by [`TestApp::worker`]; shut down by [`RunningWorker::stop`], or
/// told to stop when dropped.
pub struct RunningWorker {
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), TaskPanicked>>>,
}

impl RunningWorker {
    /// Shuts the pool down and waits for it (bounded); no worker task may have panicked.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let task = self.task.take().expect("stopped once");
        within(Duration::from_secs(30), "the worker pool's shutdown", task)
            .await
            .expect("no worker task panicked");
    }
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A GET as the browser on 127.0.0.1 sends it (`Host` set), with `headers` added.
pub fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(path).header("host", "127.0.0.1:3000");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::empty()).unwrap()
}

/// A response read in full.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
    /// The body's bytes as sent (compressed, when it was).
    pub raw: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A response of [`http_post`]: the status and the body.
struct HttpAnswer {
    status: u16,
    body: String,
}

/// One HTTP/1.1 POST of a JSON body over a fresh connection (`Connection: close`), read to the
/// end: all the client the tests need, so no HTTP client crate is built for them. Bounded by
/// 30 s.
async fn http_post(address: SocketAddr, path: &str, body: &str) -> HttpAnswer {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        std::io::Result::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| panic!("POST {path}: no answer within 30 s"))
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("POST {path}: no end of headers in {raw:?}"));
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII headers");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("POST {path}: a status line in {head:?}"));
    // The server functions answer with a Content-Length; the body is the rest of the stream.
    assert!(
        !lines.any(|line| line.to_ascii_lowercase().starts_with("transfer-encoding:")),
        "POST {path}: a chunked answer (not supported here): {head}"
    );
    HttpAnswer {
        status,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    }
}

/// Adds the bundled sample dataset (2,000 daily bars), as a server does at start-up.
pub async fn add_sample(pool: &PgPool) {
    server::datasets::DatasetStore::new(pool.clone())
        .ensure_sample()
        .await
        .unwrap();
}

/// The number of rows of job `id` in `table` (one keyed by `job_id`).
pub async fn rows_of_job(pool: &PgPool, table: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE job_id = $1"))
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Checks a refused request's answer: its status, `err[key] == value`, and a message that
/// contains `says`.
pub fn assert_refused(
    (code, err): (u16, &Value),
    status: u16,
    (key, value): (&str, &str),
    says: &str,
) {
    assert_eq!(code, status, "{err}");
    assert_eq!(err[key], value, "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{err} should say {says:?}");
}

/// The number of rows in `jobs`.
pub async fn job_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A one-step demo job, enqueued and claimed by worker `w:1:0`: a RUNNING row and its lease.
pub async fn running_demo(store: &JobStore) -> (Uuid, server::jobs::store::ClaimedJob) {
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
    (id, job)
}

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

/// A worker pool configured exactly as `main` configures it for a lease of `lease_timeout`:
/// heartbeat every lease/6 and the handlers' own write interval (250 ms), nothing made faster
/// for the test. For claims about the throttle and heartbeats as shipped.
pub fn production_worker(store: &JobStore, lease_timeout: Duration) -> Worker {
    let mut config = WorkerConfig::new(1, "test");
    config.heartbeat_interval = Some(lease_timeout / 6);
    let deps = HandlerDeps::new(store, 100_000);
    Worker::new(store.clone(), Registry::standard(), deps, config)
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
    let deps = HandlerDeps::new(store, 100_000);
    Worker::new(store.clone(), Registry::standard(), deps, config)
}

/// Waits (up to `timeout`) until job `id` has made at least `fraction` of its progress.
pub async fn wait_progress(
    store: &JobStore,
    id: Uuid,
    timeout: Duration,
    fraction: f64,
) -> JobStatus {
    wait_for(store, id, timeout, |s| {
        s.progress.unwrap_or(0.0) >= fraction
    })
    .await
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

/// `UPDATE jobs SET <set> WHERE id = <id>`: a row as a crash or an older version left it.
pub async fn update_job(pool: &PgPool, id: Uuid, set: &str) {
    sqlx::query(&format!("UPDATE jobs SET {set} WHERE id = $1"))
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
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

/// A store on a pool of its own whose connections carry `application_name`, so that
/// pg_stat_activity (and a [`RowBarrier::for_client`]) can tell its statements apart. Its run
/// logs go where `like`'s do.
pub async fn named_store(pool: &PgPool, like: &JobStore, application_name: &str) -> JobStore {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .application_name(application_name);
    let named = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .unwrap();
    JobStore::new(named, like.runs_dir())
}

/// Polls `probe` every 20 ms until it returns `Some`, panicking with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Awaits a task that must end within `timeout` (a hang fails the test instead of stalling it).
pub async fn within<T>(timeout: Duration, what: &str, task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(timeout, task)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {timeout:?}"))
        .expect("the task panicked")
}

/// `task`'s output within ten seconds: the spawned side of a race test.
pub async fn joined<T>(what: &str, task: tokio::task::JoinHandle<T>) -> T {
    within(Duration::from_secs(10), what, task).await
}

/// How many backends of the client named `application_name` (see [`named_store`]) are waiting
/// on a row or transaction lock (waits at a [`RowBarrier`] do not count).
pub async fn lock_waiters(pool: &PgPool, application_name: &str) -> i64 {
    sqlx::query_as::<_, (i64,)>(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1 \
           AND wait_event_type = 'Lock' AND wait_event <> 'advisory'",
    )
    .bind(application_name)
    .fetch_one(pool)
    .await
    .unwrap()
    .0
}

/// Waits until a statement of the client `application_name` is blocked on a lock.
pub async fn wait_until_blocked(pool: &PgPool, application_name: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("a statement of {application_name:?} waits on a lock"),
        || async { (lock_waiters(pool, application_name).await > 0).then_some(()) },
    )
    .await
}

/// Advisory-lock key of the [`RowBarrier`] (distinct from the store's own key).
const BARRIER_KEY: i64 = 0x7465_7374_6261_7272;

/// An explicit barrier inside Postgres: a `BEFORE UPDATE` trigger on `jobs` that makes every
/// statement updating a row that matches `condition` (SQL over `OLD`/`NEW`) wait until the
/// test calls [`RowBarrier::release`]. The paused statement has already locked the row, so a
/// competing statement on that row queues behind it: the test decides which one commits first.
pub struct RowBarrier {
    holder: PgConnection,
    pool: PgPool,
}

impl RowBarrier {
    pub async fn install(pool: &PgPool, condition: &str) -> RowBarrier {
        let sql = format!(
            "CREATE OR REPLACE FUNCTION test_barrier() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_advisory_xact_lock_shared({BARRIER_KEY}); RETURN NEW; END $$; \
             DROP TRIGGER IF EXISTS test_barrier ON jobs; \
             CREATE TRIGGER test_barrier BEFORE UPDATE ON jobs FOR EACH ROW \
                 WHEN ({condition}) EXECUTE FUNCTION test_barrier();"
        );
        Self::with_trigger(pool, &sql).await
    }

    /// A barrier for every `UPDATE` of `jobs` sent by the client named `application_name`
    /// (see [`named_store`]): it waits at the start of the statement, before it has read or
    /// locked any row, so the rest of the world can change the row under it meanwhile.
    pub async fn for_client(pool: &PgPool, application_name: &str) -> RowBarrier {
        let sql = format!(
            "CREATE OR REPLACE FUNCTION test_client_barrier() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
                 IF current_setting('application_name') = '{application_name}' THEN \
                     PERFORM pg_advisory_xact_lock_shared({BARRIER_KEY}); \
                 END IF; \
                 RETURN NULL; \
             END $$; \
             DROP TRIGGER IF EXISTS test_client_barrier ON jobs; \
             CREATE TRIGGER test_client_barrier BEFORE UPDATE ON jobs FOR EACH STATEMENT \
                 EXECUTE FUNCTION test_client_barrier();"
        );
        Self::with_trigger(pool, &sql).await
    }

    /// Holds the barrier's lock, then installs the trigger `sql` creates.
    async fn with_trigger(pool: &PgPool, sql: &str) -> RowBarrier {
        let holder = Self::hold(pool).await;
        sqlx::raw_sql(sql).execute(pool).await.unwrap();
        RowBarrier {
            holder,
            pool: pool.clone(),
        }
    }

    /// A connection of its own holding the barrier's advisory lock.
    async fn hold(pool: &PgPool) -> PgConnection {
        let mut holder = PgConnection::connect_with(&pool.connect_options())
            .await
            .unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(BARRIER_KEY)
            .execute(&mut holder)
            .await
            .unwrap();
        holder
    }

    /// Waits until a statement is paused at the barrier.
    pub async fn wait_paused(&self) {
        eventually(
            Duration::from_secs(10),
            "a statement is paused at the barrier",
            || async {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event = 'advisory'",
                )
                .fetch_one(&self.pool)
                .await
                .unwrap();
                (n > 0).then_some(())
            },
        )
        .await
    }

    /// Lets the paused statement through; the trigger stays but no longer makes anything wait.
    pub async fn release(mut self) {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(BARRIER_KEY)
            .execute(&mut self.holder)
            .await
            .unwrap();
        self.holder.close().await.ok();
    }
}

/// Records every write a worker makes to a RUNNING job in a table `test_writes`, through
/// triggers: `progress` for a write that changes the progress, its message or the checkpoint,
/// `end` for the
/// write that ends the run (a completion carries the last message), `heartbeat` for a write
/// that only moves `heartbeat_at`. No production code is involved.
pub async fn record_writes(pool: &PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE test_writes ( \
             n bigserial PRIMARY KEY, job uuid NOT NULL, kind text NOT NULL, \
             progress double precision, message text, \
             at timestamptz NOT NULL DEFAULT clock_timestamp(), \
             tx bigint NOT NULL DEFAULT txid_current()); \
         CREATE FUNCTION test_progress_write() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
             INSERT INTO test_writes (job, kind, progress, message) \
                 VALUES (NEW.id, CASE NEW.state WHEN 'RUNNING' THEN 'progress' ELSE 'end' END, \
                         NEW.progress, NEW.progress_message); \
             RETURN NULL; \
         END $$; \
         CREATE FUNCTION test_heartbeat_write() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
             IF NOT EXISTS (SELECT 1 FROM test_writes WHERE tx = txid_current() AND job = NEW.id) THEN \
                 INSERT INTO test_writes (job, kind) VALUES (NEW.id, 'heartbeat'); \
             END IF; \
             RETURN NULL; \
         END $$; \
         CREATE TRIGGER a_test_progress AFTER UPDATE OF progress ON jobs FOR EACH ROW \
             WHEN (OLD.state = 'RUNNING' AND (NEW.state <> 'RUNNING' \
                   OR NEW.progress IS DISTINCT FROM OLD.progress \
                   OR NEW.progress_message IS DISTINCT FROM OLD.progress_message \
                   OR NEW.checkpoint IS DISTINCT FROM OLD.checkpoint)) \
             EXECUTE FUNCTION test_progress_write(); \
         CREATE TRIGGER b_test_heartbeat AFTER UPDATE OF heartbeat_at ON jobs FOR EACH ROW \
             WHEN (OLD.state = 'RUNNING' AND NEW.state = 'RUNNING') \
             EXECUTE FUNCTION test_heartbeat_write();",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// One write recorded by [`record_writes`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordedWrite {
    pub kind: String,
    pub progress: Option<f64>,
    pub message: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The writes recorded for job `id`, in order.
pub async fn recorded_writes(pool: &PgPool, id: Uuid) -> Vec<RecordedWrite> {
    sqlx::query_as("SELECT kind, progress, message, at FROM test_writes WHERE job = $1 ORDER BY n")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The whole row of job `id` as JSON, to compare before and after an operation.
pub async fn row_json(pool: &PgPool, id: Uuid) -> serde_json::Value {
    sqlx::query_as::<_, (serde_json::Value,)>("SELECT to_jsonb(j) FROM jobs j WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
        .0
}
