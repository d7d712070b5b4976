//! The real binary as a separate process: SIGKILL mid-job then restart; SIGTERM; two processes
//! sharing one database; and the embedded PostgreSQL start/stop.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::model::JobState;
use common::*;
use server::db::embedded::EmbeddedPostgres;
use server::jobs::handlers::demo::DemoResult;
use sqlx::PgPool;

/// Starts `server` in worker-only mode against the test's database.
fn spawn_worker(pool: &PgPool, node: &str, runs: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", database_url(pool))
        .env("RUNBOARD_MODE", "worker")
        .env("RUNBOARD_NODE_ID", node)
        .env("RUNBOARD_WORKERS", "1")
        .env("RUNBOARD_RUNS_DIR", runs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server binary")
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
    wait_for(&store, id, Duration::from_secs(60), |s| {
        s.progress.unwrap_or(0.0) >= 0.3
    })
    .await;
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
    wait_for(&store, id, Duration::from_secs(60), |s| {
        s.progress.unwrap_or(0.0) >= 0.1
    })
    .await;
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

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn two_worker_processes_share_the_queue_and_run_each_job_once(pool: PgPool) {
    let runs = temp_dir("share");
    let store = server::jobs::JobStore::new(pool.clone(), runs.clone());
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(store.enqueue(demo(3, 20)).await.unwrap().id);
    }
    let mut a = spawn_worker(&pool, "share-a", &runs);
    let mut b = spawn_worker(&pool, "share-b", &runs);
    for id in &ids {
        wait_for(&store, *id, Duration::from_secs(60), |s| {
            s.state == JobState::Succeeded
        })
        .await;
    }
    for child in [&mut a, &mut b] {
        signal(child, libc::SIGTERM);
        assert!(wait_exit(child, Duration::from_secs(20)).success());
    }
    for id in &ids {
        let status = store.status(*id).await.unwrap();
        assert_eq!(status.attempt, 1, "each job ran once");

        let log = server::jobs::joblog::tail(&store.log_file(*id), 100).unwrap();
        let starts = log.iter().filter(|l| l.contains("started")).count();
        assert_eq!(starts, 1, "job {id} started once: {log:#?}");
    }
    std::fs::remove_dir_all(runs).ok();
}

#[tokio::test]
async fn the_embedded_postgres_starts_serves_and_stops() {
    let dir = temp_dir("embedded-pg");
    let port = 55_400 + (std::process::id() % 90) as u16;
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
