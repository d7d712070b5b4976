//! The job store against a real Postgres: claims, guarded writes, cancel, rescue, constraints.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use app::model::JobState;
use serde_json::{json, Value};
use server::jobs::store::{FailOutcome, ProgressUpdate, ReleaseOutcome, StoreError};
use server::jobs::JobStore;
use sqlx::PgPool;

use crate::helpers::*;

/// A claimed demo job whose heartbeat is a minute old: a run the rescuer takes for dead.
async fn silent_run(pool: &PgPool, store: &JobStore) -> uuid::Uuid {
    let (id, _) = running_demo(store).await;
    age_heartbeat(pool, id, 60).await;
    id
}

/// Checks job `id` ended CANCELLED, with a finish time, and no claim can take it; returns its
/// row for further checks.
async fn ended_cancelled(pool: &PgPool, store: &JobStore, id: uuid::Uuid) -> Value {
    assert!(store.claim("w:1:0", "test").await.unwrap().is_none());
    let row = row_json(pool, id).await;
    assert_eq!(row["state"], "CANCELLED");
    assert!(row["finished_at"].is_string());
    row
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn two_claimers_racing_over_1000_jobs_claim_each_exactly_once(pool: PgPool) {
    let store = store(&pool);
    let mut ids = HashSet::new();
    for _ in 0..1000 {
        ids.insert(store.enqueue(demo(1, 0)).await.unwrap().id);
    }
    let claimer = |name: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store.claim(name, "test").await.unwrap() {
                got.push(job.id);
            }
            got
        })
    };
    let (a, b) = (claimer("a:1:0"), claimer("b:1:0"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both claimers got work: {} / {}",
        a.len(),
        b.len()
    );
    let mut all: Vec<_> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(all.len(), 1000, "every job claimed");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 1000, "no job claimed twice");
    assert_eq!(all.into_iter().collect::<HashSet<_>>(), ids);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn claims_highest_priority_then_oldest(pool: PgPool) {
    let store = store(&pool);
    let old = store.enqueue(demo(1, 0)).await.unwrap().id;
    let _new = store.enqueue(demo(1, 0)).await.unwrap().id;
    let mut urgent = demo(1, 0);
    urgent.priority = 5;
    let urgent = store.enqueue(urgent).await.unwrap().id;
    assert_eq!(
        store.claim("w:1:0", "test").await.unwrap().unwrap().id,
        urgent
    );
    assert_eq!(store.claim("w:1:0", "test").await.unwrap().unwrap().id, old);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn progress_after_the_end_or_from_a_stale_lease_changes_nothing(pool: PgPool) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;
    let update = |p: f64, m: &str| ProgressUpdate {
        progress: p,
        message: Some(m.into()),
        ..Default::default()
    };
    store
        .update_progress(id, job.lease, &update(0.5, "Run 50/100"))
        .await
        .unwrap();

    // A stale lease (an earlier run of the same job) is refused and says so.
    let stale = uuid::Uuid::new_v4();
    let err = store
        .update_progress(id, stale, &update(0.9, "stale"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing was changed"));
    assert_eq!(
        store.status(id).await.unwrap().progress_message.as_deref(),
        Some("Run 50/100")
    );

    // After completion, even the right lease changes nothing.
    store
        .complete(id, job.lease, &json!({"ok": true}))
        .await
        .unwrap();
    let err = store
        .update_progress(id, job.lease, &update(0.1, "late"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { .. }));
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Succeeded);
    assert_eq!(status.progress, Some(1.0));
    assert_eq!(status.progress_message.as_deref(), Some("Run 50/100"));
    // And the terminal transitions are guarded too.
    assert!(store.complete(id, job.lease, &json!({})).await.is_err());
    assert!(store.fail(id, job.lease, "late", None).await.is_err());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn progress_outside_zero_to_one_is_rejected(pool: PgPool) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;
    for bad in [-0.01, 1.01, f64::NAN, f64::INFINITY] {
        let update = ProgressUpdate {
            progress: bad,
            ..Default::default()
        };
        let err = store
            .update_progress(id, job.lease, &update)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidProgress(_)),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(store.status(id).await.unwrap().progress, None);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn update_progress_preserves_every_other_field_and_saves_checkpoints(pool: PgPool) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;
    let before = store.status(id).await.unwrap();
    let update = ProgressUpdate {
        progress: 0.25,
        message: Some("Run 25/100".into()),
        eta_seconds: Some(30.0),
        rate_per_second: Some(2.5),
        checkpoint: Some(json!({"next": 25})),
    };
    store.update_progress(id, job.lease, &update).await.unwrap();
    // A write without a checkpoint keeps the saved one.
    let update2 = ProgressUpdate {
        progress: 0.3,
        ..Default::default()
    };
    store
        .update_progress(id, job.lease, &update2)
        .await
        .unwrap();
    let after = store.status(id).await.unwrap();
    assert_eq!(after.state, JobState::Running);
    assert_eq!(after.started_at, before.started_at);
    assert_eq!(after.attempt, before.attempt);
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(after.progress, Some(0.3));
    let (cp,): (Option<Value>,) = sqlx::query_as("SELECT checkpoint FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(cp, Some(json!({"next": 25})));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancelling_a_queued_job_ends_it_at_once(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let status = store.request_cancel(id).await.unwrap();
    assert_eq!(status.state, JobState::Cancelled);
    assert!(status.finished_at.is_some());
    assert!(
        store.claim("w:1:0", "test").await.unwrap().is_none(),
        "a cancelled job is never claimed"
    );
    // Idempotent for CANCELLED; refused for a job that succeeded.
    assert_eq!(
        store.request_cancel(id).await.unwrap().state,
        JobState::Cancelled
    );
    let done = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
    store.complete(done, job.lease, &json!({})).await.unwrap();
    let err = store.request_cancel(done).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Finished {
                state: JobState::Succeeded,
                ..
            }
        ),
        "{err:?}"
    );
}

/// The client that runs the operation which must queue behind the one paused at the barrier:
/// a store of its own, so pg_stat_activity shows when it waits on the row's lock.
const RACER: &str = "racer";
/// Pauses `request_cancel` once it holds the row.
const WHEN_CANCELLING: &str = "NEW.cancel_requested AND NOT OLD.cancel_requested";
/// Pauses the rescuer's requeue (a RUNNING → QUEUED that keeps the attempt, unlike `release`).
const WHEN_RESCUING: &str =
    "OLD.state = 'RUNNING' AND NEW.state = 'QUEUED' AND NEW.attempt = OLD.attempt";

/// What the second call of a [`race`] does while the first holds the row at the barrier.
enum Second {
    /// Runs on a client of its own ([`RACER`]) and queues behind the row lock.
    Waits,
    /// Runs to its end without waiting (SKIP LOCKED) while the first is still paused.
    Skips,
}

/// Races two store calls on one job row: `first` runs until the barrier (`condition`) pauses it
/// with the row locked, then `second` runs as [`Second`] says, then the barrier lets go.
/// Returns both results, the first's first.
async fn race<A, B, FA, FB>(
    (pool, store): (&PgPool, &JobStore),
    condition: &str,
    first: impl FnOnce(JobStore) -> FA,
    second: impl FnOnce(JobStore) -> FB,
    how: Second,
) -> (A, B)
where
    FA: Future<Output = A> + Send + 'static,
    FB: Future<Output = B> + Send + 'static,
    A: Send + 'static,
    B: Send + 'static,
{
    let barrier = RowBarrier::install(pool, condition).await;
    let held = tokio::spawn(first(store.clone()));
    barrier.wait_paused().await;
    let second = match how {
        Second::Waits => {
            let waiting = tokio::spawn(second(named_store(pool, store, RACER).await));
            wait_until_blocked(pool, RACER).await;
            assert!(
                !waiting.is_finished(),
                "the second call waits for the first"
            );
            barrier.release().await;
            joined("the second call", waiting).await
        }
        Second::Skips => {
            let done = joined("the second call", tokio::spawn(second(store.clone()))).await;
            assert!(!held.is_finished(), "the first call is still paused");
            barrier.release().await;
            done
        }
    };
    (joined("the first call", held).await, second)
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_that_waits_on_a_committing_completion_is_refused_and_the_job_succeeds(
    pool: PgPool,
) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;

    // The completion holds the row; the cancel queues behind it.
    let (completed, cancelled) = race(
        (&pool, &store),
        "NEW.state = 'SUCCEEDED'",
        move |s| async move { s.complete(id, job.lease, &json!({"n": 1})).await },
        move |s| async move { s.request_cancel(id).await },
        Second::Waits,
    )
    .await;
    completed.expect("the completion commits");
    let err = cancelled.expect_err("the cancel re-reads the row and finds it SUCCEEDED");
    assert!(
        matches!(
            err,
            StoreError::Finished {
                state: JobState::Succeeded,
                ..
            }
        ),
        "{err:?}"
    );
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "SUCCEEDED");
    assert_eq!(
        row["cancel_requested"], false,
        "the refused cancel left no flag"
    );
    assert_eq!(row["result"], json!({"n": 1}));
    assert_eq!(row["lease"], Value::Null);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_completion_that_waits_on_a_committing_cancel_request_still_succeeds_with_the_flag_kept(
    pool: PgPool,
) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;

    // The cancel request holds the row; the completion queues behind it.
    let (cancelled, completed) = race(
        (&pool, &store),
        WHEN_CANCELLING,
        move |s| async move { s.request_cancel(id).await },
        move |s| async move { s.complete(id, job.lease, &json!({"n": 2})).await },
        Second::Waits,
    )
    .await;
    let status = cancelled.unwrap();
    assert_eq!(
        (status.state, status.cancel_requested),
        (JobState::Running, true),
        "a running job is only flagged"
    );
    completed.expect("a cancel *request* does not take the finished work away");
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "SUCCEEDED");
    assert_eq!(row["cancel_requested"], true);
    assert_eq!(row["result"], json!({"n": 2}));
    assert_eq!(row["progress"], 1.0);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_that_waits_on_a_committing_claim_flags_the_run_and_the_run_stops_cancelled(
    pool: PgPool,
) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;

    let (claimed, cancelled) = race(
        (&pool, &store),
        "OLD.state = 'QUEUED' AND NEW.state = 'RUNNING'",
        |s| async move { s.claim("w:1:0", "test").await },
        move |s| async move { s.request_cancel(id).await },
        Second::Waits,
    )
    .await;
    let job = claimed.unwrap().expect("the claim got the job");
    let status = cancelled.unwrap();
    // The cancel re-read the row: RUNNING now, so it flags it instead of ending it under the
    // worker's feet.
    assert_eq!(
        (status.state, status.cancel_requested),
        (JobState::Running, true)
    );
    let row = row_json(&pool, id).await;
    assert_eq!(row["lease"], job.lease.to_string());
    // The claimer hears it at its next progress write, and ends the run CANCELLED.
    let ack = store
        .update_progress(
            id,
            job.lease,
            &ProgressUpdate {
                progress: 0.5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(ack.cancel_requested);
    store.finish_cancelled(id, job.lease).await.unwrap();
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "CANCELLED");
    assert_eq!(row["attempt"], 1);
    assert_eq!(row["progress"], 0.5, "partial progress kept");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_claim_during_a_cancel_skips_the_job_and_it_ends_cancelled_without_running(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;

    // While the cancel holds the row, a claim neither waits nor takes it (SKIP LOCKED).
    let (cancelled, claimed) = race(
        (&pool, &store),
        WHEN_CANCELLING,
        move |s| async move { s.request_cancel(id).await },
        |s| async move { s.claim("w:1:0", "test").await },
        Second::Skips,
    )
    .await;
    let claimed = claimed.unwrap();
    assert!(claimed.is_none(), "{claimed:?}");
    assert_eq!(cancelled.unwrap().state, JobState::Cancelled);
    let row = ended_cancelled(&pool, &store, id).await;
    assert_eq!(row["attempt"], 0, "never ran");
    assert_eq!(row["started_at"], Value::Null);
    assert_eq!(row["worker_id"], Value::Null);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_that_waits_on_a_committing_rescue_ends_the_requeued_job_cancelled(pool: PgPool) {
    let store = store(&pool);
    let id = silent_run(&pool, &store).await;

    let (rescued, cancelled) = race(
        (&pool, &store),
        WHEN_RESCUING,
        |s| async move { s.rescue_stuck(Duration::from_secs(30), None).await },
        move |s| async move { s.request_cancel(id).await },
        Second::Waits,
    )
    .await;
    assert_eq!(rescued.unwrap().requeued, vec![id]);
    // The cancel re-read the row: QUEUED now, so it ends it at once.
    assert_eq!(cancelled.unwrap().state, JobState::Cancelled);
    let row = ended_cancelled(&pool, &store, id).await;
    assert_eq!(row["cancel_requested"], true);
    assert_eq!(row["lease"], Value::Null);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_rescue_during_a_cancel_request_skips_the_run_then_ends_it_cancelled(pool: PgPool) {
    let store = store(&pool);
    let id = silent_run(&pool, &store).await;

    // While the cancel holds the row, the rescuer neither waits nor touches it.
    let (cancelled, rescued) = race(
        (&pool, &store),
        WHEN_CANCELLING,
        move |s| async move { s.request_cancel(id).await },
        |s| async move { s.rescue_stuck(Duration::from_secs(30), None).await },
        Second::Skips,
    )
    .await;
    assert_eq!(rescued.unwrap(), Default::default());
    let status = cancelled.unwrap();
    assert_eq!(
        (status.state, status.cancel_requested),
        (JobState::Running, true)
    );

    // The next pass finds the silent run with its cancel pending: CANCELLED, not requeued.
    let report = store
        .rescue_stuck(Duration::from_secs(30), None)
        .await
        .unwrap();
    assert_eq!((report.cancelled, report.requeued), (vec![id], vec![]));
    let row = ended_cancelled(&pool, &store, id).await;
    assert_eq!(row["attempt"], 1);
    assert_eq!(row["lease"], Value::Null);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_hand_back_that_waits_on_a_committing_rescue_is_refused_as_stale(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store
        .claim("dying-0a1b2c3d:0", "dying")
        .await
        .unwrap()
        .unwrap();

    // Start-up recovery of node "dying" requeues the run while its worker hands it back.
    let (rescued, released) = race(
        (&pool, &store),
        WHEN_RESCUING,
        |s| async move { s.rescue_stuck(Duration::from_secs(30), Some("dying")).await },
        move |s| async move { s.release(id, job.lease).await },
        Second::Waits,
    )
    .await;
    assert_eq!(rescued.unwrap().requeued, vec![id]);
    let err = released.expect_err("the old lease is gone");
    assert!(matches!(err, StoreError::Stale { .. }), "{err:?}");
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "QUEUED");
    assert_eq!(
        row["attempt"], 1,
        "the rescue counted the attempt; the stale hand-back did not give it back"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_old_lease_cannot_release_cancel_complete_fail_or_touch_the_new_run(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let old = store.claim("old-0a1b2c3d:0", "old").await.unwrap().unwrap();
    let report = store
        .rescue_stuck(Duration::from_secs(30), Some("old"))
        .await
        .unwrap();
    assert_eq!(report.requeued, vec![id]);
    let new = store.claim("new-4e5f6a7b:0", "new").await.unwrap().unwrap();
    assert_eq!(new.attempt, 2);
    store
        .update_progress(
            id,
            new.lease,
            &ProgressUpdate {
                progress: 0.5,
                message: Some("Run 5/10".into()),
                checkpoint: Some(json!({"next": 5})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store.request_cancel(id).await.unwrap();
    let before = row_json(&pool, id).await;

    let stale = |r: Result<(), StoreError>, what: &str| {
        assert!(matches!(r, Err(StoreError::Stale { .. })), "{what}: {r:?}");
    };
    stale(store.release(id, old.lease).await.map(|_| ()), "release");
    stale(
        store.finish_cancelled(id, old.lease).await,
        "finish_cancelled",
    );
    stale(store.complete(id, old.lease, &json!({})).await, "complete");
    stale(
        store.fail(id, old.lease, "old", None).await.map(|_| ()),
        "fail",
    );
    stale(
        store.heartbeat(id, old.lease).await.map(|_| ()),
        "heartbeat",
    );
    stale(
        store
            .update_progress(
                id,
                old.lease,
                &ProgressUpdate {
                    progress: 0.9,
                    ..Default::default()
                },
            )
            .await
            .map(|_| ()),
        "update_progress",
    );
    assert_eq!(
        row_json(&pool, id).await,
        before,
        "not one column changed, heartbeat included"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rescues_job_whose_heartbeat_expired_then_fails_it_after_max_attempts(pool: PgPool) {
    let store = store(&pool);
    let mut job = demo(1, 0);
    job.max_attempts = 2;
    let id = store.enqueue(job).await.unwrap().id;
    let timeout = Duration::from_secs(30);

    let first = store.claim("w:1:0", "test").await.unwrap().unwrap();
    // Fresh heartbeat: not rescued.
    assert!(store
        .rescue_stuck(timeout, None)
        .await
        .unwrap()
        .requeued
        .is_empty());
    age_heartbeat(&pool, id, 31).await;
    let report = store.rescue_stuck(timeout, None).await.unwrap();
    assert_eq!(report.requeued, vec![id]);
    assert_eq!(store.status(id).await.unwrap().state, JobState::Queued);
    // The rescued run's lease is dead.
    assert!(store.heartbeat(id, first.lease).await.is_err());

    let second = store.claim("w:1:0", "test").await.unwrap().unwrap();
    assert_eq!(second.attempt, 2);
    age_heartbeat(&pool, id, 31).await;
    let report = store.rescue_stuck(timeout, None).await.unwrap();
    assert_eq!(report.failed, vec![id]);
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Failed);
    let error = status.error.unwrap();
    assert!(
        error.contains("stopped responding") && error.contains("attempt 2 of 2"),
        "{error}"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn start_up_recovery_takes_back_only_this_nodes_runs(pool: PgPool) {
    let store = store(&pool);
    let mine = store.enqueue(demo(1, 0)).await.unwrap().id;
    let theirs = store.enqueue(demo(1, 0)).await.unwrap().id;
    let lookalike = store.enqueue(demo(1, 0)).await.unwrap().id;
    store
        .claim("node_a-1f2e:0", "node_a")
        .await
        .unwrap()
        .unwrap();
    store
        .claim("node-b-9c8d:0", "node-b")
        .await
        .unwrap()
        .unwrap();
    // Under a LIKE match, `node_a` would also take back `nodeXa`'s runs (`_` is a wildcard).
    store
        .claim("nodeXa-7a6b:0", "nodeXa")
        .await
        .unwrap()
        .unwrap();
    let report = store
        .rescue_stuck(Duration::from_secs(30), Some("node_a"))
        .await
        .unwrap();
    assert_eq!(report.requeued, vec![mine]);
    assert_eq!(store.status(theirs).await.unwrap().state, JobState::Running);
    assert_eq!(
        store.status(lookalike).await.unwrap().state,
        JobState::Running
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn retryable_failures_back_off_and_terminal_ones_fail_at_once(pool: PgPool) {
    let store = store(&pool);
    let (id, job) = running_demo(&store).await;
    let outcome = store
        .fail(
            id,
            job.lease,
            "db briefly down",
            Some(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let FailOutcome::Retrying { run_after } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(run_after > chrono::Utc::now() + chrono::Duration::seconds(50));
    assert!(
        store.claim("w:1:0", "test").await.unwrap().is_none(),
        "not runnable during the back-off"
    );

    let other = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
    assert_eq!(job.id, other);
    assert_eq!(
        store
            .fail(other, job.lease, "bad input: n1", None)
            .await
            .unwrap(),
        FailOutcome::Failed
    );
    let status = store.status(other).await.unwrap();
    assert_eq!(status.state, JobState::Failed);
    assert_eq!(status.error.as_deref(), Some("bad input: n1"));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_database_refuses_impossible_rows(pool: PgPool) {
    let insert = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).execute(&pool).await }
    };
    // Unknown state.
    assert!(insert("INSERT INTO jobs (id, kind, state, log_path) VALUES (gen_random_uuid(), 'demo', 'DONE', 'x')").await.is_err());
    // Terminal without finished_at.
    assert!(insert("INSERT INTO jobs (id, kind, state, error, log_path) VALUES (gen_random_uuid(), 'demo', 'FAILED', 'e', 'x')").await.is_err());
    // finished_at on a queued job.
    assert!(insert("INSERT INTO jobs (id, kind, finished_at, log_path) VALUES (gen_random_uuid(), 'demo', now(), 'x')").await.is_err());
    // Progress outside 0..1.
    assert!(insert("INSERT INTO jobs (id, kind, progress, log_path) VALUES (gen_random_uuid(), 'demo', 1.5, 'x')").await.is_err());
    // RUNNING without a lease.
    assert!(insert("INSERT INTO jobs (id, kind, state, started_at, heartbeat_at, log_path) VALUES (gen_random_uuid(), 'demo', 'RUNNING', now(), now(), 'x')").await.is_err());
    // And a valid one is accepted.
    assert!(insert(
        "INSERT INTO jobs (id, kind, log_path) VALUES (gen_random_uuid(), 'demo', 'x')"
    )
    .await
    .is_ok());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_request_wins_over_a_retry(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w-1:0", "w").await.unwrap().unwrap();
    assert_eq!(
        store.request_cancel(id).await.unwrap().state,
        JobState::Running
    );
    let outcome = store
        .fail(id, job.lease, "db blip", Some(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(outcome, FailOutcome::Cancelled);
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Cancelled);
    assert!(status.finished_at.is_some());
    // A retry would be runnable at once (no back-off): only the cancel keeps it from a claim.
    assert!(
        store.claim("w-1:0", "w").await.unwrap().is_none(),
        "it never runs again"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_request_wins_over_the_shutdown_hand_back(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w-1:0", "w").await.unwrap().unwrap();
    store.request_cancel(id).await.unwrap();
    assert_eq!(
        store.release(id, job.lease).await.unwrap(),
        ReleaseOutcome::Cancelled
    );
    assert_eq!(store.status(id).await.unwrap().state, JobState::Cancelled);
    assert!(store.claim("w-1:0", "w").await.unwrap().is_none());

    // Without a cancel the hand-back requeues, attempt given back.
    let other = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w-1:0", "w").await.unwrap().unwrap();
    assert_eq!(
        store.release(other, job.lease).await.unwrap(),
        ReleaseOutcome::Requeued
    );
    let status = store.status(other).await.unwrap();
    assert_eq!((status.state, status.attempt), (JobState::Queued, 0));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn claims_skip_jobs_whose_cancel_was_requested(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    // A QUEUED row with a pending cancel (e.g. written by an older version) is never claimed.
    update_job(&pool, id, "cancel_requested = true").await;
    assert!(store.claim("w-1:0", "w").await.unwrap().is_none());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_log_line_being_written_does_not_hide_a_job_from_claims(pool: PgPool) {
    // A job_logs insert checks its foreign key with FOR KEY SHARE on the job's row. The log
    // shipper writes in the background, so a line about a job handed back at shutdown can be
    // in flight while the next claim looks. A claim that locked the row FOR UPDATE would skip
    // it (SKIP LOCKED) and the job would wait for the next poll; FOR NO KEY UPDATE does not
    // conflict with the key-share lock.
    let store = store(&pool);
    let first = store.enqueue(demo(1, 0)).await.unwrap().id;
    let second = store.enqueue(demo(1, 0)).await.unwrap().id;
    let mut shipper = pool.begin().await.unwrap();
    for id in [first, second] {
        sqlx::query("INSERT INTO job_logs (job_id, line) VALUES ($1, 'in flight')")
            .bind(id)
            .execute(&mut *shipper)
            .await
            .unwrap();
    }

    let s = store.clone();
    let claim = tokio::spawn(async move { s.claim("w:1:0", "test").await });
    let claimed = joined("claim", claim)
        .await
        .unwrap()
        .expect("the claim takes the job whose log line is in flight");
    assert_eq!(claimed.id, first);
    let s = store.clone();
    let batch = tokio::spawn(async move {
        s.claim_batch(&["w:1:1".to_string(), "w:1:2".to_string()], "test")
            .await
    });
    let batch = joined("claim_batch", batch).await.unwrap();
    let ids: Vec<_> = batch.iter().map(|(_, job)| job.id).collect();
    assert_eq!(ids, vec![second], "the batch claim takes it too");
    shipper.commit().await.unwrap();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_log_flush_returns_once_every_line_written_before_it_is_in_postgres(pool: PgPool) {
    // A graceful shutdown flushes the shipper before it closes the pool: the lines written
    // last (a job's "succeeded") must not be lost with the background task.
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let mut log = store.log(id);
    for i in 0..2_000 {
        log.line(&format!("line {i}"));
    }
    assert!(store.flush_logs(Duration::from_secs(30)).await);
    let shipped = rows_of_job(&pool, "job_logs", id).await;
    assert_eq!(shipped, 2_000);
    std::fs::remove_dir_all(store.log_file(id).parent().unwrap()).ok();
}
