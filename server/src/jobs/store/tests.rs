//! Tests of `store.rs`.

use super::*;
use app::api::backend::ListFilter;
use sqlx::Row;

/// The columns a status query selects: exactly the fields of `JobStatus`.
const STATUS_COLUMNS: [&str; 16] = [
    "id",
    "kind",
    "state",
    "progress",
    "progress_message",
    "eta_seconds",
    "rate_per_second",
    "error",
    "attempt",
    "max_attempts",
    "cancel_requested",
    "log_path",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
];

#[test]
fn the_trigger_notifies_on_queue_channel() {
    let migration = include_str!("../../../../migrations/20261128000002_notify_queued_jobs.sql");
    assert!(
        migration.contains(&format!("pg_notify('{QUEUE_CHANNEL}', NEW.id::text)")),
        "the trigger must notify on QUEUE_CHANNEL ({QUEUE_CHANNEL:?}):\n{migration}"
    );
}

#[test]
fn every_sql_file_documents_its_parameters_and_index_and_sends_only_the_statement() {
    let dirs = sql_dirs();
    assert!(dirs.iter().any(|d| d == "jobs"), "{dirs:?}");
    for dir in dirs {
        for (name, file) in sql_files(&dir) {
            check_sql_header(&name, &file, "");
        }
    }
    // What pg_stat_activity shows for a claim.
    assert!(sql::CLAIM.starts_with("WITH next AS ("));
}

#[test]
fn status_queries_read_exactly_the_fields_of_job_status() {
    // The field names, as serde sees them (JobStatus renames none).
    let status = JobStatus {
        id: Uuid::nil(),
        kind: JobKind::Demo,
        state: JobState::Queued,
        progress: None,
        progress_message: None,
        eta_seconds: None,
        rate_per_second: None,
        created_at: Utc::now(),
        started_at: None,
        finished_at: None,
        heartbeat_at: None,
        error: None,
        attempt: 0,
        max_attempts: 1,
        cancel_requested: false,
        log_path: String::new(),
        context: None,
    };
    let fields: std::collections::BTreeSet<String> = serde_json::to_value(status)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let columns: std::collections::BTreeSet<String> =
        STATUS_COLUMNS.iter().map(|c| c.to_string()).collect();
    assert_eq!(fields, columns);
    let list = STATUS_COLUMNS.join(", ");
    for (name, query) in [
        ("enqueue", sql::ENQUEUE),
        ("request_cancel", sql::REQUEST_CANCEL),
        ("start_inline", sql::START_INLINE),
        ("status", sql::STATUS),
    ] {
        let flat = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let selected = flat
            .split_once(if name == "status" || name == "list" {
                "SELECT "
            } else {
                "RETURNING "
            })
            .and_then(|(_, rest)| rest.split([';']).next())
            .map(|rest| rest.split(" FROM ").next().unwrap_or(rest));
        assert_eq!(selected, Some(list.as_str()), "{name}.sql");
    }
    // The list reads the same columns from its page, plus the context (JobStatus::context,
    // which a status query leaves out: it is None and not serialized).
    let flat = sql::LIST.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.starts_with(&format!(
            "WITH page AS ( SELECT {list}, args, result FROM jobs "
        )),
        "list.sql: {flat}"
    );
    let prefixed = STATUS_COLUMNS
        .iter()
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        flat.contains(&format!(") SELECT {prefixed}, jsonb_strip_nulls(")),
        "list.sql: {flat}"
    );
    assert!(
        flat.contains(")) AS context FROM page p "),
        "list.sql: {flat}"
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn states_and_kinds_round_trip_as_their_stored_text(pool: PgPool) {
    for state in JobState::ALL {
        let row = sqlx::query("SELECT $1::text AS sent, $2::text AS named")
            .bind(state)
            .bind(state.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(row.get::<String, _>("sent"), state.as_str());
        assert_eq!(row.get::<JobState, _>("named"), state);
    }
    // Every kind passes the table's CHECK and reads back as itself (chunks, which only exist
    // under a parent and are never listed, are tested in the fan-out tests).
    let store = JobStore::new(pool.clone(), "runs");
    for kind in JobKind::ALL.into_iter().filter(|k| *k != JobKind::Chunk) {
        let queued = store
            .enqueue(NewJob::new(kind, serde_json::json!({})))
            .await
            .unwrap();
        assert_eq!((queued.kind, queued.state), (kind, JobState::Queued));
        let stored: String = sqlx::query_scalar("SELECT kind FROM jobs WHERE id = $1")
            .bind(queued.id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(stored, kind.as_str());
        let (listed, total) = store
            .list(&ListFilter {
                state: Some(JobState::Queued),
                kind: Some(kind),
                page: 1,
                per_page: 10,
            })
            .await
            .unwrap();
        assert_eq!((listed.len(), total), (1, 1));
        assert_eq!(listed[0].id, queued.id);
    }
    // A name outside the enum is a decode error, not a default.
    let unknown = sqlx::query_scalar::<_, JobState>("SELECT 'DONE'::text")
        .fetch_one(&pool)
        .await;
    assert!(
        matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })),
        "{unknown:?}"
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn the_stored_log_path_is_the_log_file_under_the_configured_runs_dir(pool: PgPool) {
    let job = || NewJob::new(JobKind::Demo, serde_json::json!({}));
    let default = JobStore::new(pool.clone(), "runs");
    let queued = default.enqueue(job()).await.unwrap();
    assert_eq!(
        queued.log_path,
        format!("runs/{}/artifacts/run.log", queued.id)
    );

    for dir in ["/var/lib/runboard/runs", "data/runs"] {
        let store = JobStore::new(pool.clone(), dir);
        let queued = store.enqueue_capped(job(), 100).await.unwrap();
        let expected = format!("{dir}/{}/artifacts/run.log", queued.id);
        assert_eq!(queued.log_path, expected);
        assert_eq!(store.log_file(queued.id), Path::new(&expected));
        assert_eq!(store.status(queued.id).await.unwrap().log_path, expected);
    }
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn batched_claims_never_overlap_and_batched_completions_are_guarded_per_run(pool: PgPool) {
    let store = JobStore::new(pool.clone(), "runs");
    for _ in 0..15 {
        store
            .enqueue(NewJob::new(JobKind::Demo, serde_json::json!({"steps": 1})))
            .await
            .unwrap();
    }
    // Two claimers at once, ten idle workers each: 15 distinct jobs between them, each with
    // its own lease, each worker given at most one, recorded as the job's worker.
    let workers = |p: &str| (0..10).map(|n| format!("{p}:{n}")).collect::<Vec<_>>();
    let (wa, wb) = (workers("a"), workers("b"));
    let (a, b) = tokio::join!(store.claim_batch(&wa, "n"), store.claim_batch(&wb, "n"));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<Uuid> = a.iter().chain(&b).map(|(_, j)| j.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((a.len() + b.len(), ids.len()), (15, 15));
    let mut given: Vec<&String> = a.iter().chain(&b).map(|(w, _)| w).collect();
    given.sort();
    given.dedup();
    assert_eq!(given.len(), 15);
    for (worker, job) in a.iter().chain(&b) {
        let row: String = sqlx::query_scalar("SELECT worker_id FROM jobs WHERE id = $1")
            .bind(job.id)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(&row, worker);
    }
    assert!(store
        .claim_batch(&workers("c"), "n")
        .await
        .unwrap()
        .is_empty());
    let a: Vec<ClaimedJob> = a.into_iter().chain(b).map(|(_, j)| j).collect();
    // A pulse: progress for one run, a heartbeat for another, a stale lease for a third.
    let mut beats: Vec<PulseWrite> = a[3..6]
        .iter()
        .map(|j| PulseWrite {
            id: j.id,
            lease: j.lease,
            progress: None,
        })
        .collect();
    beats[0].progress = Some(ProgressUpdate {
        progress: 0.5,
        message: Some("Step 1/2".into()),
        checkpoint: Some(serde_json::json!({"next_step": 1})),
        ..ProgressUpdate::default()
    });
    beats[2].lease = Uuid::new_v4();
    store.request_cancel(a[4].id).await.unwrap();
    let answer = store.pulse(&beats).await.unwrap();
    assert_eq!(answer.len(), 2);
    assert_eq!((answer[&a[3].id], answer[&a[4].id]), (false, true));
    let status = store.status(a[3].id).await.unwrap();
    assert_eq!(
        (status.progress, status.progress_message.as_deref()),
        (Some(0.5), Some("Step 1/2"))
    );
    let bad = PulseWrite {
        progress: Some(ProgressUpdate {
            progress: 1.5,
            ..ProgressUpdate::default()
        }),
        ..beats[0].clone()
    };
    assert!(matches!(
        store.pulse(&[bad]).await,
        Err(StoreError::InvalidProgress(_))
    ));
    // One completion with a wrong lease: only that run is refused.
    let mut runs: Vec<(Uuid, Uuid, Value, Option<String>)> = a[..3]
        .iter()
        .map(|j| (j.id, j.lease, serde_json::json!({"ok": true}), None))
        .collect();
    runs[1].1 = Uuid::new_v4();
    runs[2].3 = Some("Step 2/2".into());
    assert_eq!(
        store.complete_batch(&runs).await.unwrap(),
        [true, false, true]
    );
    let states: Vec<JobState> = futures_states(&store, &a[..3]).await;
    assert_eq!(
        states,
        [JobState::Succeeded, JobState::Running, JobState::Succeeded]
    );
    let last = store.status(a[2].id).await.unwrap();
    assert_eq!(last.progress_message.as_deref(), Some("Step 2/2"));
    assert_eq!(store.complete_batch(&[]).await.unwrap(), Vec::<bool>::new());
    assert!(store.pulse(&[]).await.unwrap().is_empty());
}

async fn futures_states(store: &JobStore, jobs: &[ClaimedJob]) -> Vec<JobState> {
    let mut states = Vec::new();
    for j in jobs {
        states.push(store.status(j.id).await.unwrap().state);
    }
    states
}
