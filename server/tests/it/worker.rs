//! Workers, the progress reporter, cancel, rescue-and-resume and shutdown, against real Postgres.

use std::time::Duration;

use app::model::{DemoRequest, JobState};
use server::jobs::handlers::demo::DemoResult;
use server::jobs::joblog;
use server::jobs::rescuer::Rescuer;
use server::jobs::store::ProgressUpdate;
use server::jobs::worker::RunOutcome;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn sum_of_squares(n: u64) -> u64 {
    n * (n + 1) * (2 * n + 1) / 6
}

async fn result_of(store: &server::jobs::JobStore, id: uuid::Uuid) -> DemoResult {
    let (_, result) = store.result(id).await.unwrap();
    serde_json::from_value(result.expect("a result")).unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_worker_runs_a_job_to_success_with_throttled_progress(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1000, 0)).await.unwrap().id;
    let worker = worker(&store);
    let job = store.claim("test:1:0", "test").await.unwrap().unwrap();
    let outcome = worker.run_job(job, &CancellationToken::new()).await;
    assert_eq!(outcome, RunOutcome::Succeeded);

    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Succeeded);
    assert_eq!(status.progress, Some(1.0));
    assert_eq!(status.progress_message.as_deref(), Some("Step 1000/1000"));
    let result = result_of(&store, id).await;
    assert_eq!(result.sum_of_squares, sum_of_squares(1000));
    assert_eq!(result.resumed_from, 0);
    assert!(!result.checkpoint_discarded);

    // 1000 reports, at most ~100 writes (the seed's cap), the last one being 100 %.
    let log = joblog::tail(&store.log_file(id), 1000).unwrap();
    let writes = log.iter().filter(|l| l.contains("  progress ")).count();
    // Milestones the database has not caught up with coalesce (the latest wins), so an instant
    // job may land only its final 100 %; never more than the cap.
    assert!((1..=101).contains(&writes), "{writes} progress writes");
    assert!(
        log.iter()
            .any(|l| l.contains("progress 100% Step 1000/1000")),
        "{log:#?}"
    );
    assert!(log.first().unwrap().contains("attempt 1/3 started"));
    assert!(log.last().unwrap().ends_with("succeeded"));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rescued_job_resumes_from_its_checkpoint_and_matches_an_uninterrupted_run(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(40, 0)).await.unwrap().id;

    // A first worker gets to step 17, saves its checkpoint, then freezes (no more heartbeats).
    let first = store.claim("frozen:1:0", "test").await.unwrap().unwrap();
    let checkpoint = serde_json::json!({"next_step": 17, "sum_of_squares": sum_of_squares(17)});
    let update = ProgressUpdate {
        progress: 17.0 / 40.0,
        message: Some("Step 17/40".into()),
        checkpoint: Some(checkpoint),
        ..Default::default()
    };
    store
        .update_progress(id, first.lease, &update)
        .await
        .unwrap();
    age_heartbeat(&pool, id, 60).await;

    let report = Rescuer::new(store.clone(), Duration::from_secs(30))
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.requeued, vec![id]);

    let second = store.claim("test:1:0", "test").await.unwrap().unwrap();
    assert_eq!(second.attempt, 2);
    assert_eq!(
        worker(&store)
            .run_job(second, &CancellationToken::new())
            .await,
        RunOutcome::Succeeded
    );
    let result = result_of(&store, id).await;
    assert_eq!(result.resumed_from, 17, "resumed, not restarted");
    assert_eq!(
        result.sum_of_squares,
        sum_of_squares(40),
        "same result as an uninterrupted run"
    );

    // The frozen worker waking up cannot touch the finished job.
    assert!(store
        .update_progress(id, first.lease, &update)
        .await
        .is_err());
    assert_eq!(store.status(id).await.unwrap().state, JobState::Succeeded);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancelling_a_running_job_stops_it_and_keeps_partial_progress(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(200, 20)).await.unwrap().id;
    let shutdown = CancellationToken::new();
    let pool_task = tokio::spawn(worker(&store).run(shutdown.clone()));

    wait_progress(&store, id, Duration::from_secs(20), 0.05).await;
    let status = store.request_cancel(id).await.unwrap();
    assert_eq!(
        status.state,
        JobState::Running,
        "running jobs stop at their next report"
    );
    assert!(status.cancel_requested);
    let done = wait_for_state(&store, id, JobState::Cancelled).await;
    let progress = done.progress.unwrap();
    assert!(
        progress > 0.0 && progress < 1.0,
        "partial progress kept: {progress}"
    );
    assert!(done.finished_at.is_some());
    shutdown.cancel();
    pool_task.await.unwrap().expect("no worker task panicked");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_retryable_failure_is_retried_and_a_terminal_one_is_not(pool: PgPool) {
    let store = store(&pool);
    let flaky = store
        .enqueue(demo_with(DemoRequest {
            steps: 5,
            step_ms: 0,
            fail_once_at: Some(3),
            fail_terminally_at: None,
        }))
        .await
        .unwrap()
        .id;
    let broken = store
        .enqueue(demo_with(DemoRequest {
            steps: 5,
            step_ms: 0,
            fail_once_at: None,
            fail_terminally_at: Some(2),
        }))
        .await
        .unwrap()
        .id;
    let shutdown = CancellationToken::new();
    let pool_task = tokio::spawn(worker(&store).run(shutdown.clone()));

    let ok = wait_for_state(&store, flaky, JobState::Succeeded).await;
    assert_eq!(ok.attempt, 2);
    assert_eq!(
        ok.error.as_deref(),
        Some("simulated transient failure at step 3")
    );
    // Resumed from its step-2 checkpoint.
    assert_eq!(result_of(&store, flaky).await.resumed_from, 2);

    let failed = wait_for_state(&store, broken, JobState::Failed).await;
    assert_eq!(failed.attempt, 1, "terminal errors are not retried");
    assert_eq!(
        failed.error.as_deref(),
        Some("simulated terminal failure at step 2")
    );
    shutdown.cancel();
    pool_task.await.unwrap().expect("no worker task panicked");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn shutdown_returns_a_running_job_to_the_queue_with_its_checkpoint(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(100, 20)).await.unwrap().id;
    let shutdown = CancellationToken::new();
    let pool_task = tokio::spawn(worker(&store).run(shutdown.clone()));
    wait_progress(&store, id, Duration::from_secs(20), 0.1).await;
    shutdown.cancel();
    pool_task.await.unwrap().expect("no worker task panicked");

    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Queued);
    assert_eq!(status.attempt, 0, "a shutdown does not use up an attempt");

    // The next process resumes it.
    let job = store.claim("test:2:0", "test").await.unwrap().unwrap();
    let from = job.checkpoint.as_ref().unwrap()["next_step"]
        .as_u64()
        .unwrap();
    assert!(from >= 10, "checkpoint at step {from}");
    assert_eq!(
        worker(&store).run_job(job, &CancellationToken::new()).await,
        RunOutcome::Succeeded
    );
    let result = result_of(&store, id).await;
    assert_eq!(result.resumed_from, from);
    assert_eq!(result.sum_of_squares, sum_of_squares(100));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn listen_notify_wakes_an_idle_worker_quickly(pool: PgPool) {
    // The worker gets its own pool, named, so pg_stat_activity shows what it is doing.
    const NAME: &str = "notify-test-worker";
    let store = store(&pool);
    let worker_store = named_store(&pool, &store, NAME).await;
    // With a long fallback poll, only the notification can start the job promptly.
    let w = worker_with(&worker_store, |c| c.poll_interval = Duration::from_secs(60));
    let shutdown = CancellationToken::new();
    let pool_task = tokio::spawn(w.run(shutdown.clone()));

    // Listening (its LISTEN has returned), and idle (no statement running, and one besides
    // the LISTEN has run: with the queue empty, that is a claim which found nothing): from here
    // on only a NOTIFY can wake it within the minute.
    eventually(
        Duration::from_secs(10),
        "the worker is listening and idle",
        || async {
            let (listening, claimed, busy): (i64, i64, i64) = sqlx::query_as(
                "SELECT count(*) FILTER (WHERE query = 'LISTEN \"runboard_jobs\"' AND state = 'idle'), \
                        count(*) FILTER (WHERE query <> 'LISTEN \"runboard_jobs\"' AND state = 'idle'), \
                        count(*) FILTER (WHERE state <> 'idle') \
                 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
            )
            .bind(NAME)
            .fetch_one(&pool)
            .await
            .unwrap();
            (listening == 1 && claimed >= 1 && busy == 0).then_some(())
        },
    )
    .await;
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    wait_for(&store, id, Duration::from_secs(10), |s| {
        s.state == JobState::Succeeded
    })
    .await;
    shutdown.cancel();
    within(Duration::from_secs(30), "the worker pool", pool_task)
        .await
        .expect("no worker task panicked");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_worker_whose_job_is_rescued_underneath_it_gets_stale_stops_and_overwrites_nothing(
    pool: PgPool,
) {
    let store = store(&pool);
    // The victim worker talks to Postgres through a pool of its own, so the test can hold its
    // writes at a barrier while the job is taken from it.
    let victim_store = named_store(&pool, &store, "victim").await;
    // 3,000 steps of 10 ms: half a minute, unless the handler stops.
    let id = store.enqueue(demo(3000, 10)).await.unwrap().id;
    let victim = store
        .claim("victim-0a1b2c3d:0", "victim")
        .await
        .unwrap()
        .unwrap();
    let w = worker(&victim_store);
    let run = tokio::spawn(async move { w.run_job(victim, &CancellationToken::new()).await });
    wait_for(&store, id, Duration::from_secs(20), |s| {
        s.progress.unwrap_or(0.0) > 0.0
    })
    .await;

    // The victim's next write waits (before it reads the row) while its node is declared dead
    // (start-up recovery) and another worker takes the job and reports progress.
    let barrier = RowBarrier::for_client(&pool, "victim").await;
    barrier.wait_paused().await;
    let report = store
        .rescue_stuck(Duration::from_secs(30), Some("victim"))
        .await
        .unwrap();
    assert_eq!(report.requeued, vec![id]);
    let thief = store
        .claim("thief-4e5f6a7b:0", "thief")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thief.attempt, 2);
    store
        .update_progress(
            id,
            thief.lease,
            &ProgressUpdate {
                progress: 0.001,
                message: Some("the thief's step".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after_thief = row_json(&pool, id).await;
    barrier.release().await;

    // That write is refused (Stale) and the handler stops, long before its 30 s.
    let outcome = joined("the old run", run).await;
    assert_eq!(outcome, RunOutcome::LeaseLost);
    let log = joblog::tail(&store.log_file(id), 1000).unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("this run no longer holds the job")),
        "{log:#?}"
    );
    assert!(log
        .last()
        .unwrap()
        .ends_with("run abandoned: the job is no longer ours"));
    assert!(
        !log.iter().any(|l| l.contains("progress 100%")),
        "the handler stopped mid-run"
    );
    // The row is the thief's, exactly as the thief left it.
    assert_eq!(row_json(&pool, id).await, after_thief);
    assert_eq!(after_thief["state"], "RUNNING");
    assert_eq!(after_thief["lease"], thief.lease.to_string());
    assert_eq!(after_thief["worker_id"], "thief-4e5f6a7b:0");
    assert_eq!(after_thief["progress_message"], "the thief's step");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn as_shipped_a_2000_step_job_writes_progress_2_to_101_times_at_most_every_250_ms_ending_at_100_percent(
    pool: PgPool,
) {
    use server::jobs::progress::DEFAULT_MIN_INTERVAL;
    let store = store(&pool);
    record_writes(&pool).await;
    // 2,000 reports over a few seconds; the reporter and writer are configured as in `main`.
    let id = store.enqueue(demo(2000, 2)).await.unwrap().id;
    let job = store
        .claim("test-0a1b2c3d:0", "test")
        .await
        .unwrap()
        .unwrap();
    let w = production_worker(&store, Duration::from_secs(30));
    let run = tokio::spawn(async move { w.run_job(job, &CancellationToken::new()).await });
    assert_eq!(
        within(Duration::from_secs(120), "the job", run).await,
        RunOutcome::Succeeded
    );

    // The progress writes while running, and the completion, which carries the last message.
    let writes: Vec<RecordedWrite> = recorded_writes(&pool, id)
        .await
        .into_iter()
        .filter(|w| w.kind == "progress" || w.kind == "end")
        .collect();
    assert!(
        (2..=101).contains(&writes.len()),
        "{} progress writes for 2,000 reports",
        writes.len()
    );
    // The rate limit: consecutive writes at least 250 ms apart, except the final one, which
    // is written as soon as the handler returns.
    let min_gap = chrono::Duration::from_std(DEFAULT_MIN_INTERVAL).unwrap();
    for pair in writes[..writes.len() - 1].windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= min_gap, "writes {gap} apart: {pair:#?}");
    }
    let last = writes.last().unwrap();
    assert_eq!((last.kind.as_str(), last.progress), ("end", Some(1.0)));
    assert_eq!(last.message.as_deref(), Some("Step 2000/2000"));
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Succeeded);
    assert_eq!(status.progress, Some(1.0));
    assert_eq!(status.progress_message.as_deref(), Some("Step 2000/2000"));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn as_shipped_an_idle_run_heartbeats_every_sixth_of_the_lease_and_is_never_silent_for_a_lease(
    pool: PgPool,
) {
    let store = store(&pool);
    record_writes(&pool).await;
    // A 3 s lease: `main` heartbeats every 500 ms. Two steps of 2 s each report nothing new.
    let lease = Duration::from_secs(3);
    let every = chrono::Duration::from_std(lease / 6).unwrap();
    let id = store.enqueue(demo(2, 2000)).await.unwrap().id;
    let job = store
        .claim("test-0a1b2c3d:0", "test")
        .await
        .unwrap()
        .unwrap();
    let w = production_worker(&store, lease);
    let run = tokio::spawn(async move { w.run_job(job, &CancellationToken::new()).await });
    assert_eq!(
        within(Duration::from_secs(60), "the job", run).await,
        RunOutcome::Succeeded
    );

    let status = store.status(id).await.unwrap();
    let writes = recorded_writes(&pool, id).await;
    let kinds: Vec<&str> = writes.iter().map(|w| w.kind.as_str()).collect();
    let before_first_progress = kinds.iter().take_while(|k| **k == "heartbeat").count();
    assert!(
        before_first_progress >= 2,
        "heartbeat_at advances while the first step reports nothing: {kinds:?}"
    );
    assert!(
        kinds.iter().filter(|k| **k == "heartbeat").count() >= 4,
        "{kinds:?}"
    );
    // Never more often than configured, and never silent for a lease.
    let mut previous = status.started_at.unwrap();
    for w in &writes {
        let gap = w.at - previous;
        if w.kind == "heartbeat" {
            assert!(gap >= every, "a heartbeat {gap} after the previous write");
        }
        assert!(
            gap < chrono::Duration::from_std(lease).unwrap(),
            "silent for {gap}: {writes:#?}"
        );
        previous = w.at;
    }
    assert_eq!(writes.last().unwrap().progress, Some(1.0));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_undecodable_demo_checkpoint_is_discarded_with_a_warning_and_counted(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(5, 0)).await.unwrap().id;
    update_job(&pool, id, "checkpoint = '{\"next_step\": \"seven\"}'").await;
    let job = store.claim("test:1:0", "test").await.unwrap().unwrap();
    assert_eq!(
        worker(&store).run_job(job, &CancellationToken::new()).await,
        RunOutcome::Succeeded
    );
    let result = result_of(&store, id).await;
    assert!(result.checkpoint_discarded, "{result:?}");
    assert_eq!(result.resumed_from, 0);
    assert_eq!(result.sum_of_squares, sum_of_squares(5));
    let log = joblog::tail(&store.log_file(id), 100).unwrap();
    assert!(
        log.iter().any(
            |l| l.contains("warning: the saved checkpoint was discarded (it cannot be decoded")
        ),
        "{log:#?}"
    );
    assert_eq!(store.status(id).await.unwrap().state, JobState::Succeeded);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_final_write_that_hits_a_database_error_is_retried_not_thrown_away(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(3, 10)).await.unwrap().id;
    // A real database error on the final write, for as long as the test says: Postgres
    // refuses to let any row become SUCCEEDED.
    sqlx::query("ALTER TABLE jobs ADD CONSTRAINT blip CHECK (state <> 'SUCCEEDED') NOT VALID")
        .execute(&pool)
        .await
        .unwrap();
    let worker = worker(&store);
    let job = store.claim("test-1:0", "test").await.unwrap().unwrap();
    let runner = worker.clone();
    let run = tokio::spawn(async move { runner.run_job(job, &CancellationToken::new()).await });

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while worker.final_write_retries() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the final write was not retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Meanwhile the run keeps its lease alive: the heartbeat moves on.
    let before = store.status(id).await.unwrap().heartbeat_at;
    wait_for(&store, id, Duration::from_secs(10), |s| {
        s.heartbeat_at > before
    })
    .await;
    assert_eq!(store.status(id).await.unwrap().state, JobState::Running);

    sqlx::query("ALTER TABLE jobs DROP CONSTRAINT blip")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(run.await.unwrap(), RunOutcome::Succeeded);
    let status = store.status(id).await.unwrap();
    assert_eq!((status.state, status.attempt), (JobState::Succeeded, 1));
    assert_eq!(
        result_of(&store, id).await.sum_of_squares,
        sum_of_squares(3)
    );
}

/// A handler that panics on the async side (outside `blocking`, which contains panics).
struct PanickingHandler;

#[async_trait::async_trait]
impl server::jobs::handlers::Handler for PanickingHandler {
    async fn run(
        &self,
        _job: &server::jobs::store::ClaimedJob,
        _deps: &server::jobs::handlers::HandlerDeps,
        _reporter: server::jobs::progress::Reporter,
    ) -> Result<serde_json::Value, server::jobs::handlers::HandlerError> {
        panic!("a bug in a handler");
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_panicking_worker_task_is_reported_at_shutdown_not_swallowed(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let mut registry = server::jobs::handlers::Registry::default();
    registry.register(app::model::JobKind::Demo, PanickingHandler);
    let deps = server::jobs::handlers::HandlerDeps::new(&store, 1_000);
    let mut config = server::jobs::worker::WorkerConfig::new(2, "test");
    config.poll_interval = Duration::from_millis(50);
    let worker = server::jobs::worker::Worker::new(store.clone(), registry, deps, config);
    let shutdown = CancellationToken::new();
    let pool_task: server::jobs::BackgroundTask = tokio::spawn(worker.run(shutdown.clone()));
    // The job was claimed (then its worker task died with it).
    wait_for_state(&store, id, JobState::Running).await;
    shutdown.cancel();
    let err = server::jobs::join_background(vec![pool_task])
        .await
        .expect_err("the panic surfaces at shutdown");
    assert_eq!((err.task, err.count), ("worker", 1));
}
