//! The real binary as a separate process: SIGKILL mid-job then restart; SIGTERM; two processes
//! sharing one database; and the embedded PostgreSQL: start/stop, its password, its adopters.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::model::JobState;
use server::db::embedded::EmbeddedPostgres;
use server::jobs::handlers::demo::DemoResult;
use sqlx::PgPool;

use crate::helpers::*;

/// Starts `server` in worker-only mode against the test's database.
fn spawn_worker(pool: &PgPool, node: &str, runs: &std::path::Path) -> Child {
    spawn_worker_with(pool, node, runs, &[])
}

/// [`spawn_worker`] with more environment variables.
fn spawn_worker_with(
    pool: &PgPool,
    node: &str,
    runs: &std::path::Path,
    env: &[(&str, &str)],
) -> Child {
    worker_command(node, runs)
        .envs(env.iter().copied())
        .env("DATABASE_URL", database_url(pool))
        .spawn()
        .expect("start the server binary")
}

/// The `server` binary in worker-only mode, one worker, node `node`, run logs under `runs`,
/// warnings on stderr; the caller says which database.
fn worker_command(node: &str, runs: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("RUNBOARD_MODE", "worker")
        .env("RUNBOARD_NODE_ID", node)
        .env("RUNBOARD_WORKERS", "1")
        .env("RUNBOARD_RUNS_DIR", runs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0, "kill failed");
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "process did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_job_survives_sigkill_of_its_server_and_completes_from_its_checkpoint_once(pool: PgPool) {
    let runs = temp_dir("kill");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let id = store.enqueue(demo(40, 100)).await.unwrap().id;

    let mut first = spawn_worker(&pool, "kill-test", &runs);
    wait_progress(&store, id, Duration::from_secs(60), 0.3).await;
    first.kill().unwrap(); // SIGKILL: no clean-up at all
    first.wait().unwrap();
    let orphan = store.status(id).await.unwrap();
    assert_eq!(
        orphan.state,
        JobState::Running,
        "left RUNNING by the dead process"
    );

    // Restarted, the node recovers its own dead run at once and resumes it.
    let mut second = spawn_worker(&pool, "kill-test", &runs);
    let done = wait_for(&store, id, Duration::from_secs(60), |s| {
        s.state.is_terminal()
    })
    .await;
    signal(&second, libc::SIGTERM);
    assert!(wait_exit(&mut second, Duration::from_secs(20)).success());

    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.attempt, 2);
    let (_, result) = store.result(id).await.unwrap();
    let result: DemoResult = serde_json::from_value(result.unwrap()).unwrap();
    assert!(
        result.resumed_from >= 12,
        "resumed from step {} (not from zero)",
        result.resumed_from
    );
    assert_eq!(
        result.sum_of_squares,
        40 * 41 * 81 / 6,
        "same result as an uninterrupted run"
    );
    let log = server::jobs::joblog::tail(&store.log_file(id), 1000).unwrap();
    assert_eq!(
        log.iter().filter(|l| l.ends_with("  succeeded")).count(),
        1,
        "completed exactly once"
    );
    std::fs::remove_dir_all(runs).ok();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sigterm_puts_the_running_job_back_for_the_next_process(pool: PgPool) {
    let runs = temp_dir("term");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let id = store.enqueue(demo(100, 50)).await.unwrap().id;
    let mut child = spawn_worker(&pool, "term-test", &runs);
    wait_progress(&store, id, Duration::from_secs(60), 0.1).await;
    signal(&child, libc::SIGTERM);
    assert!(
        wait_exit(&mut child, Duration::from_secs(20)).success(),
        "clean exit"
    );
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Queued);
    assert!(status.progress.unwrap() >= 0.1, "progress kept");
    std::fs::remove_dir_all(runs).ok();
}

/// Waits until `n` processes listen for queued jobs on the test's database (each worker
/// process holds one `LISTEN` connection): from then on, a queued job wakes them all.
async fn wait_listening(pool: &PgPool, n: i64) {
    eventually(
        Duration::from_secs(60),
        &format!("{n} worker processes listen"),
        || async {
            let (listening,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND query = 'LISTEN \"runboard_jobs\"' AND state = 'idle'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            (listening >= n).then_some(())
        },
    )
    .await
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn two_worker_processes_share_the_queue_and_run_each_job_once(pool: PgPool) {
    let runs = temp_dir("share");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let mut a = KillOnDrop(spawn_worker(&pool, "share-a", &runs));
    let mut b = KillOnDrop(spawn_worker(&pool, "share-b", &runs));
    // Both up before the first job: neither can have the queue to itself by starting first.
    wait_listening(&pool, 2).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        // 0.3 s each, one worker per process: the other process is always free to claim.
        ids.push(store.enqueue(demo(3, 100)).await.unwrap().id);
    }
    for id in &ids {
        wait_for(&store, *id, Duration::from_secs(60), |s| {
            s.state == JobState::Succeeded
        })
        .await;
    }
    for child in [&mut a.0, &mut b.0] {
        signal(child, libc::SIGTERM);
        assert!(wait_exit(child, Duration::from_secs(20)).success());
    }
    let mut nodes = std::collections::BTreeSet::new();
    for id in &ids {
        let status = store.status(*id).await.unwrap();
        assert_eq!(status.attempt, 1, "each job ran once");

        let log = server::jobs::joblog::tail(&store.log_file(*id), 100).unwrap();
        let starts = log.iter().filter(|l| l.contains("started")).count();
        assert_eq!(starts, 1, "job {id} started once: {log:#?}");

        // The claimer, as stored: the node name, and `<node>-<8 hex>:<n>` of its process.
        let (node, worker): (String, String) =
            sqlx::query_as("SELECT node_id, worker_id FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        let instance = worker
            .strip_prefix(&format!("{node}-"))
            .and_then(|rest| rest.strip_suffix(":0"))
            .unwrap_or_else(|| panic!("worker id {worker:?} of node {node:?}"));
        assert!(
            instance.len() == 8 && instance.chars().all(|c| c.is_ascii_hexdigit()),
            "{worker:?}"
        );
        nodes.insert(node);
    }
    assert_eq!(
        nodes,
        ["share-a", "share-b"].map(String::from).into(),
        "both processes claimed jobs"
    );
    std::fs::remove_dir_all(runs).ok();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sigkill_of_one_of_two_worker_processes_mid_sweep_costs_only_its_chunk(pool: PgPool) {
    use server::engine::optimize::run_optimize;
    use server::engine::progress::NoProgress;

    let runs = temp_dir("fan-kill");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let datasets = server::datasets::DatasetStore::new(pool.clone());
    datasets.ensure_sample().await.unwrap();
    // 14,751 runs on the 2,000-bar sample, in chunks of 800 runs (19 chunks).
    let request = serde_json::json!({
        "dataset_id": server::datasets::SAMPLE_DATASET_ID.to_string(), "strategy": "sma_cross",
        "metric": "sharpe", "commission": 0.001,
        "grid": {"n1": {"range": {"start": 2, "stop": 100, "step": 1}},
                 "n2": {"range": {"start": 2, "stop": 200, "step": 1}}}});
    let env = [
        ("RUNBOARD_FANOUT_WORK", "1"),
        ("RUNBOARD_CHUNK_WORK", "1600000"),
        ("RUNBOARD_LEASE_TIMEOUT_SECS", "2"),
    ];
    let mut a = KillOnDrop(spawn_worker_with(&pool, "fan-a", &runs, &env));
    let mut b = KillOnDrop(spawn_worker_with(&pool, "fan-b", &runs, &env));
    wait_listening(&pool, 2).await;
    let id = store
        .enqueue(server::jobs::store::NewJob::new(
            app::model::JobKind::Optimize,
            request.clone(),
        ))
        .await
        .unwrap()
        .id;

    // Mid-sweep: some chunks done, and process A busy with one. A chunk takes milliseconds, so
    // A is frozen (SIGSTOP) before its running chunks are read: what it holds then is what the
    // kill orphans (a chunk it finished between a read and the kill would not run again).
    let running_on_a = || async {
        sqlx::query_scalar::<_, uuid::Uuid>(
            "SELECT id FROM jobs WHERE parent_id = $1 AND state = 'RUNNING' AND node_id = 'fan-a'",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let frozen = &a.0;
    let victim: Vec<uuid::Uuid> = eventually(
        Duration::from_secs(120),
        "process A runs a chunk after some have finished",
        || async {
            let chunks = store.list_chunks(id).await.unwrap();
            let done = chunks.iter().any(|c| c.state == JobState::Succeeded);
            if !done || running_on_a().await.is_empty() {
                return None;
            }
            signal(frozen, libc::SIGSTOP);
            // A statement A sent before the stop lands first.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let running = running_on_a().await;
            if running.is_empty() {
                signal(frozen, libc::SIGCONT);
                return None;
            }
            Some(running)
        },
    )
    .await;
    a.0.kill().unwrap(); // SIGKILL: its chunk (and the parent, if it held it) is orphaned
    a.0.wait().unwrap();

    let done = wait_for(&store, id, Duration::from_secs(180), |s| {
        s.state.is_terminal()
    })
    .await;
    signal(&b.0, libc::SIGTERM);
    assert!(wait_exit(&mut b.0, Duration::from_secs(20)).success());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");

    // The killed chunk ran again (rescued after its lease), and nothing else did twice.
    let chunks = store.list_chunks(id).await.unwrap();
    assert_eq!(chunks.len(), 19);
    for c in &chunks {
        assert_eq!(c.state, JobState::Succeeded);
    }
    for v in &victim {
        let (attempt, node): (i32, String) =
            sqlx::query_as("SELECT attempt, node_id FROM jobs WHERE id = $1")
                .bind(v)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((attempt, node.as_str()), (2, "fan-b"), "chunk {v}");
    }
    let reruns = chunks.iter().filter(|c| c.attempt > 1).count();
    assert_eq!(
        reruns,
        victim.len(),
        "only the killed chunk ran twice: {chunks:#?}"
    );

    // The result is the one a single process computes, bit for bit.
    let (_, stored) = store.result(id).await.unwrap();
    let mut stored = stored.unwrap();
    let provenance = stored
        .as_object_mut()
        .unwrap()
        .remove("provenance")
        .unwrap();
    assert_eq!(provenance["chunks"], 19);
    let series = datasets
        .load(server::datasets::SAMPLE_DATASET_ID)
        .await
        .unwrap();
    let req = serde_json::from_value(request).unwrap();
    let alone = run_optimize(&series, &req, None, &mut NoProgress).unwrap();
    assert_eq!(stored, serde_json::to_value(&alone).unwrap());
    std::fs::remove_dir_all(runs).ok();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn three_worker_processes_drain_a_thousand_jobs_each_exactly_once(pool: PgPool) {
    let runs = temp_dir("drain");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let env = [("RUNBOARD_WORKERS", "2")];
    let mut children: Vec<KillOnDrop> = ["drain-a", "drain-b", "drain-c"]
        .iter()
        .map(|node| KillOnDrop(spawn_worker_with(&pool, node, &runs, &env)))
        .collect();
    wait_listening(&pool, 3).await;
    for _ in 0..1_000 {
        store.enqueue(demo(1, 0)).await.unwrap();
    }
    eventually(Duration::from_secs(120), "every job succeeded", || async {
        let (left,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM jobs WHERE state <> 'SUCCEEDED'")
                .fetch_one(&pool)
                .await
                .unwrap();
        (left == 0).then_some(())
    })
    .await;
    for child in &mut children {
        signal(&child.0, libc::SIGTERM);
        assert!(wait_exit(&mut child.0, Duration::from_secs(20)).success());
    }
    // Each job claimed once (one attempt) and completed once (its log says so once).
    let per_node: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT node_id, count(*), max(attempt)::bigint FROM jobs GROUP BY node_id ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(per_node.iter().map(|r| r.1).sum::<i64>(), 1_000);
    assert!(
        per_node.iter().all(|r| r.2 == 1),
        "one attempt each: {per_node:?}"
    );
    assert_eq!(
        per_node.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["drain-a", "drain-b", "drain-c"],
        "all three processes claimed jobs: {per_node:?}"
    );
    let succeeded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM job_logs WHERE line LIKE '%  succeeded'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(succeeded, 1_000, "each job completed exactly once");
    std::fs::remove_dir_all(runs).ok();
}

#[tokio::test]
async fn a_running_job_completes_across_a_postgres_restart() {
    let cluster = TempCluster::new("pg-restart");
    let pg = EmbeddedPostgres::start(&cluster.root, free_port())
        .await
        .expect("start");
    let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    server::db::MIGRATOR.run(&pool).await.unwrap();
    let runs = temp_dir("pg-restart-runs");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let id = store.enqueue(demo(30, 100)).await.unwrap().id;
    let mut worker = KillOnDrop(
        worker_command("restart-test", &runs)
            .env("DATABASE_URL", pg.url())
            .env("RUST_LOG", "error")
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server binary"),
    );
    wait_progress(&store, id, Duration::from_secs(60), 0.2).await;
    pool.close().await;
    // Every connection is cut; the worker's writes fail until the server is back.
    let restarted = pg_tool("pg_ctl")
        .arg("-D")
        .arg(pg.data_dir())
        .args(["-m", "fast", "-w", "restart"])
        .status()
        .unwrap();
    assert!(restarted.success(), "pg_ctl restart");
    let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let done = wait_for(&store, id, Duration::from_secs(120), |s| {
        s.state.is_terminal()
    })
    .await;
    signal(&worker.0, libc::SIGTERM);
    assert!(wait_exit(&mut worker.0, Duration::from_secs(20)).success());
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    let (_, result) = store.result(id).await.unwrap();
    let result: DemoResult = serde_json::from_value(result.unwrap()).unwrap();
    assert_eq!(
        result.sum_of_squares,
        30 * 31 * 61 / 6,
        "same result as without a restart"
    );
    pool.close().await;
    pg.stop().await.ok();
    std::fs::remove_dir_all(runs).ok();
}

#[tokio::test]
async fn the_embedded_postgres_starts_serves_and_stops() {
    let dir = temp_dir("embedded-pg");
    let port = free_port();
    let pg = EmbeddedPostgres::start(&dir, port).await.expect("start");
    let pool = sqlx::PgPool::connect(&pg.url()).await.expect("connect");
    let (one,): (i32,) = sqlx::query_as("SELECT 1").fetch_one(&pool).await.unwrap();
    assert_eq!(one, 1);
    pool.close().await;
    // A second start on the same directory adopts the running cluster.
    let again = EmbeddedPostgres::start(&dir, port).await.expect("adopt");
    assert_eq!(again.port(), port);
    pg.stop().await.expect("stop");
    assert!(sqlx::PgPool::connect(&pg.url()).await.is_err(), "stopped");
    std::fs::remove_dir_all(dir).ok();
}

/// A port the OS just reported free on 127.0.0.1 (never derived from the pid: tests run at once).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A PostgreSQL server binary, run as `postgres` when the tests run as root (like the library).
fn pg_tool(program: &str) -> Command {
    let bin = server::db::embedded::find_bin_dir().expect("PostgreSQL server binaries");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]);
        c.arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    };
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// A temporary Runboard data root: on drop (also when a test fails) its cluster is stopped
/// and the directory removed.
struct TempCluster {
    root: std::path::PathBuf,
}

impl TempCluster {
    fn new(what: &str) -> TempCluster {
        TempCluster {
            root: temp_dir(what),
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.root.join("pgdata")
    }

    /// `pg_ctl status`.
    fn is_running(&self) -> bool {
        pg_tool("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let _ = pg_tool("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "stop"])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A child process killed on drop, so that a failing test leaves none behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Initializes a cluster the way older Runboard versions did: `trust`, no password.
fn init_trust_cluster(data_dir: &std::path::Path) {
    if is_root() {
        let status = Command::new("install")
            .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700"])
            .arg(data_dir)
            .status()
            .unwrap();
        assert!(status.success(), "install -d {}", data_dir.display());
    } else {
        std::fs::create_dir_all(data_dir).unwrap();
    }
    let out = pg_tool("initdb")
        .arg("-D")
        .arg(data_dir)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server's `listen_addresses`, read through a fresh connection to `url`.
async fn listen_addresses(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let (value,): (String,) = sqlx::query_as("SELECT current_setting('listen_addresses')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    value
}

/// Connecting as `postgres` without a password fails authentication.
async fn assert_password_required(port: u16) {
    use sqlx::Connection;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    match sqlx::PgConnection::connect(&url).await {
        Ok(_) => panic!("connected as superuser without a password"),
        Err(sqlx::Error::Database(e)) => {
            assert_eq!(e.code().as_deref(), Some("28P01"), "password failure: {e}")
        }
        Err(e) => panic!("expected an authentication failure, got: {e}"),
    }
}

/// No `trust` in pg_hba.conf, every rule SCRAM; the password file and socket directory private.
fn assert_locked_down(dir: &TempCluster, pg: &EmbeddedPostgres) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let hba = std::fs::read_to_string(pg.data_dir().join("pg_hba.conf")).unwrap();
    assert!(!hba.contains("trust"), "pg_hba.conf:\n{hba}");
    let rules: Vec<&str> = hba
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(!rules.is_empty(), "pg_hba.conf:\n{hba}");
    assert!(
        rules.iter().all(|r| r.ends_with(" scram-sha-256")),
        "{rules:#?}"
    );
    let file = std::fs::metadata(pg.password_file()).expect("the password file");
    assert_eq!(
        file.permissions().mode() & 0o777,
        0o600,
        "password file mode"
    );
    // SAFETY: geteuid(2) has no preconditions.
    assert_eq!(
        file.uid(),
        unsafe { libc::geteuid() },
        "owned by the server's user"
    );
    let password = std::fs::read_to_string(pg.password_file()).unwrap();
    assert!(pg.url().contains(&format!(":{}@", password.trim())));
    let sock = std::fs::metadata(dir.root.join("pgsock")).unwrap();
    assert_eq!(sock.permissions().mode() & 0o777, 0o700, "socket dir mode");
}

#[tokio::test]
async fn embedded_postgres_requires_a_password() {
    let dir = TempCluster::new("pg-lock");
    let port = free_port();
    let pg = EmbeddedPostgres::start(&dir.root, port)
        .await
        .expect("start");
    assert!(pg.started_here());
    assert_password_required(port).await;
    assert_eq!(listen_addresses(&pg.url()).await, "127.0.0.1");
    assert_locked_down(&dir, &pg);
    pg.stop().await.expect("stop");
    assert!(!dir.is_running());
}

#[tokio::test]
async fn a_trusting_cluster_from_an_older_runboard_gets_a_password_on_start() {
    let dir = TempCluster::new("pg-legacy");
    init_trust_cluster(&dir.data_dir());
    let port = free_port();
    let pg = EmbeddedPostgres::start(&dir.root, port)
        .await
        .expect("start and upgrade");
    assert_password_required(port).await;
    assert_eq!(listen_addresses(&pg.url()).await, "127.0.0.1");
    assert_locked_down(&dir, &pg);
    pg.stop().await.expect("stop");
    // Restarted, it keeps the password it was given.
    let again = EmbeddedPostgres::start(&dir.root, port)
        .await
        .expect("restart");
    assert_eq!(again.url(), pg.url());
    assert_password_required(port).await;
    assert_eq!(listen_addresses(&again.url()).await, "127.0.0.1");
    again.stop().await.expect("stop");
}

/// Waits until every migration has been applied to the database at `pool`.
async fn wait_for_migrations(pool: &PgPool, within: Duration) {
    let wanted = server::db::MIGRATOR.iter().count() as i64;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let applied: Result<(i64,), _> =
            sqlx::query_as("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await;
        if applied.is_ok_and(|(n,)| n == wanted) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database was not migrated in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_adopting_process_never_stops_the_cluster() {
    let dir = TempCluster::new("pg-adopt");
    let port = free_port();
    let a = EmbeddedPostgres::start(&dir.root, port)
        .await
        .expect("process A (this test) starts the cluster");
    assert!(a.started_here());
    let runs = dir.root.join("runs");
    // Process B: the real server, worker-only, same data directory, no DATABASE_URL.
    let mut b = KillOnDrop(
        worker_command("adopt-test", &runs)
            .env_remove("DATABASE_URL")
            .env("RUNBOARD_DATA_DIR", &dir.root)
            .env("RUNBOARD_PG_PORT", port.to_string())
            .spawn()
            .expect("start the server binary"),
    );

    // B is up once it has migrated the database and run a job.
    let pool = PgPool::connect(&a.url()).await.expect("connect");
    wait_for_migrations(&pool, Duration::from_secs(60)).await;
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let id = store.enqueue(demo(1, 10)).await.unwrap().id;
    wait_for(&store, id, Duration::from_secs(60), |s| {
        s.state == JobState::Succeeded
    })
    .await;
    pool.close().await;

    signal(&b.0, libc::SIGTERM);
    assert!(
        wait_exit(&mut b.0, Duration::from_secs(30)).success(),
        "B exits cleanly"
    );
    assert!(dir.is_running(), "pg_ctl status after B exited");
    assert_eq!(listen_addresses(&a.url()).await, "127.0.0.1");

    a.stop().await.expect("A stops the cluster it started");
    assert!(!dir.is_running(), "pg_ctl status after A stopped it");
    use sqlx::Connection;
    assert!(
        sqlx::PgConnection::connect(&a.url()).await.is_err(),
        "connection refused"
    );
}

#[test]
fn a_server_asked_to_listen_beyond_loopback_without_a_token_refuses_to_start() {
    let port = free_port();
    let run = |token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.env("LEPTOS_SITE_ADDR", format!("0.0.0.0:{port}"))
            // Nothing may be started before the check: a database URL that cannot work shows it.
            .env("DATABASE_URL", "notadatabase://x")
            .env("RUST_LOG", "error")
            .env_remove("RUNBOARD_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(t) = token {
            cmd.env("RUNBOARD_TOKEN", t);
        }
        // Either way it exits at once: refused, or unable to use the database URL.
        let output = cmd
            .spawn()
            .expect("start the server binary")
            .wait_with_output()
            .unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (status, stderr) = run(None);
    assert!(!status.success());
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0") && stderr.contains("RUNBOARD_TOKEN="),
        "{stderr}"
    );
    // With a token it gets past the check (and then fails on the database URL instead).
    let (status, stderr) = run(Some("a-token-of-enough-length-0123"));
    assert!(!status.success());
    assert!(!stderr.contains("refusing to listen"), "{stderr}");
    assert!(
        stderr.contains("PostgreSQL") || stderr.contains("connect"),
        "{stderr}"
    );
}
