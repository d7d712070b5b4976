//! The job store against a real Postgres: claims, guarded writes, cancel, rescue, constraints.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use app::model::JobState;
use common::*;
use server::jobs::store::{FailOutcome, ProgressUpdate, ReleaseOutcome, StoreError};
use sqlx::PgPool;

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
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
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
        .complete(id, job.lease, &serde_json::json!({"ok": true}))
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
    assert!(store
        .complete(id, job.lease, &serde_json::json!({}))
        .await
        .is_err());
    assert!(store.fail(id, job.lease, "late", None).await.is_err());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn progress_outside_zero_to_one_is_rejected(pool: PgPool) {
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
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
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
    let before = store.status(id).await.unwrap();
    let update = ProgressUpdate {
        progress: 0.25,
        message: Some("Run 25/100".into()),
        eta_seconds: Some(30.0),
        rate_per_second: Some(2.5),
        checkpoint: Some(serde_json::json!({"next": 25})),
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
    let (cp,): (Option<serde_json::Value>,) =
        sqlx::query_as("SELECT checkpoint FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(cp, Some(serde_json::json!({"next": 25})));
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
    store
        .complete(done, job.lease, &serde_json::json!({}))
        .await
        .unwrap();
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

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancel_racing_completion_leaves_one_consistent_terminal_state(pool: PgPool) {
    let store = store(&pool);
    for _ in 0..50 {
        let id = store.enqueue(demo(1, 0)).await.unwrap().id;
        let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
        let (s1, s2) = (store.clone(), store.clone());
        let complete =
            tokio::spawn(async move { s1.complete(id, job.lease, &serde_json::json!({})).await });
        let cancel = tokio::spawn(async move { s2.request_cancel(id).await });
        let completed = complete.await.unwrap();
        let cancelled = cancel.await.unwrap();
        let status = store.status(id).await.unwrap();
        // Completion always wins over a cancel *request* on a running job; the cancel either
        // flagged the job before completion (and completion still succeeded) or was refused.
        assert!(completed.is_ok());
        assert_eq!(status.state, JobState::Succeeded);
        assert!(status.finished_at.is_some());
        if let Err(e) = cancelled {
            assert!(matches!(e, StoreError::Finished { .. }), "{e:?}");
        }
    }
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
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
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
        .fail(id, job.lease, "db blip", Some(Duration::from_millis(1)))
        .await
        .unwrap();
    assert_eq!(outcome, FailOutcome::Cancelled);
    let status = store.status(id).await.unwrap();
    assert_eq!(status.state, JobState::Cancelled);
    assert!(status.finished_at.is_some());
    tokio::time::sleep(Duration::from_millis(20)).await;
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
    sqlx::query("UPDATE jobs SET cancel_requested = true WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(store.claim("w-1:0", "w").await.unwrap().is_none());
}
