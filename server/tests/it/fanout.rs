//! Fan-out (issue 10): an optimization split into chunk jobs that several worker pools share
//! ends with the result a single process computes, bit for bit; its chunks are listed under it
//! and nowhere else; a cancel reaches every chunk in the same statement, locking rows in id
//! order.

use std::time::Duration;

use app::api::backend::ListFilter;
use app::model::{JobKind, JobState};
use serde_json::{json, Value};
use server::datasets::SAMPLE_DATASET_ID;
use server::jobs::chunks::{plan, FanOut};
use server::jobs::handlers::{HandlerDeps, Registry};
use server::jobs::store::NewJob;
use server::jobs::worker::{Worker, WorkerConfig};
use server::jobs::JobStore;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

/// Runs of [`request`]: n1 in 2..=60, n2 in 2..=120 by 2, n1 < n2.
const RUNS: u64 = 2_640;

/// An optimization of [`RUNS`] runs on the 2,000-bar sample.
fn request() -> Value {
    json!({"kind": "optimize", "dataset_id": SAMPLE_DATASET_ID.to_string(),
        "strategy": "sma_cross", "metric": "sharpe", "commission": 0.001,
        "grid": {"n1": {"range": {"start": 2, "stop": 60, "step": 1}},
                 "n2": {"range": {"start": 2, "stop": 120, "step": 2}}}})
}

/// Work per chunk that splits [`request`] into `chunks` chunks.
fn fanout_in(chunks: u64) -> FanOut {
    FanOut {
        min_work: 1,
        chunk_work: RUNS.div_ceil(chunks) * 2_000,
    }
}

/// A worker pool of one on `node` with test timings and the given fan-out.
fn pool_on(store: &JobStore, node: &str, fanout: FanOut) -> Worker {
    let mut config = WorkerConfig::new(1, node);
    config.poll_interval = Duration::from_millis(100);
    config.retry_base = Duration::from_millis(100);
    config.heartbeat_interval = Some(Duration::from_millis(200));
    let mut deps = HandlerDeps::new(store, 100_000);
    deps.fanout = fanout;
    Worker::new(store.clone(), Registry::standard(), deps, config)
}

async fn enqueue(store: &JobStore) -> uuid::Uuid {
    let mut args = request();
    args.as_object_mut().unwrap().remove("kind");
    store
        .enqueue(NewJob::new(JobKind::Optimize, args))
        .await
        .unwrap()
        .id
}

/// Takes the provenance out of a result: where it came from differs, the rest must not.
fn provenance(result: &mut Value) -> Value {
    result
        .as_object_mut()
        .unwrap()
        .remove("provenance")
        .unwrap()
}

async fn run_until_done(store: &JobStore, workers: Vec<Worker>, id: uuid::Uuid) -> Value {
    let shutdown = CancellationToken::new();
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(w.run(shutdown.clone())))
        .collect();
    let done = wait_for(store, id, Duration::from_secs(120), |s| {
        s.state.is_terminal()
    })
    .await;
    shutdown.cancel();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    store.result(id).await.unwrap().1.unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_fanned_out_optimization_equals_one_process_bit_for_bit(pool: PgPool) {
    add_sample(&pool).await;
    let store = store(&pool);
    assert_eq!(plan(RUNS, 2_000, &fanout_in(7)).map(|p| p.len()), Some(7));

    let single = enqueue(&store).await;
    let mut alone = run_until_done(&store, vec![pool_on(&store, "one", FanOut::OFF)], single).await;
    let fanned = enqueue(&store).await;
    let workers = vec![
        pool_on(&store, "fan-a", fanout_in(7)),
        pool_on(&store, "fan-b", fanout_in(7)),
    ];
    let mut shared = run_until_done(&store, workers, fanned).await;

    // Where it came from differs; everything else is the same, every bit of every number.
    let (p1, p2) = (provenance(&mut alone), provenance(&mut shared));
    assert_eq!(p1.get("chunks"), None);
    assert_eq!(p2["chunks"], 7);
    assert_eq!(shared["total_runs"], RUNS);
    assert_eq!(shared, alone);
    // The full grids (stored beside the results) are equal too.
    let grid = |id: uuid::Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT params::text || axes::text || metric_values::text FROM job_grids \
                 WHERE job_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(grid(fanned).await, grid(single).await);

    // Its chunks: seven, in order, covering the runs once, each run once.
    let chunks = store.list_chunks(fanned).await.unwrap();
    assert_eq!(chunks.len(), 7);
    assert_eq!(chunks[0].start, 0);
    assert_eq!(chunks[6].end, RUNS as i64);
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.chunk_index as usize, i);
        assert_eq!(c.state, JobState::Succeeded);
        assert_eq!(c.attempt, 1);
        assert!(i == 0 || chunks[i - 1].end == c.start);
        assert!(
            matches!(c.node_id.as_deref(), Some("fan-a" | "fan-b")),
            "{c:?}"
        );
    }
    // The API lists them with their runs, attempt and node; a job that was not split has none.
    let app = TestApp::spawn(pool.clone()).await;
    let (code, listed) = app
        .post_json("/api/job_chunks", json!({"id": fanned}))
        .await;
    assert_eq!(code, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(7));
    assert_eq!(listed[6]["end"], RUNS);
    assert_eq!(listed[0]["state"], "SUCCEEDED");
    assert!(listed[0]["node"].as_str().unwrap().starts_with("fan-"));
    let (code, none) = app
        .post_json("/api/job_chunks", json!({"id": single}))
        .await;
    assert_eq!((code, none), (200, json!([])));
    let (code, _) = app
        .post_json("/api/job_chunks", json!({"id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(code, 404);

    // The live view: with every chunk done, the heatmap and the top runs (parameters and
    // metric) of the final result.
    let (code, partial) = app
        .post_json("/api/job_partial", json!({"id": fanned}))
        .await;
    assert_eq!(code, 200, "{partial}");
    assert_eq!(
        (
            &partial["chunks_done"],
            &partial["chunks"],
            &partial["runs_done"]
        ),
        (&json!(7), &json!(7), &json!(RUNS))
    );
    assert_eq!(partial["heatmap"], shared["grid"]);
    let runs = |v: &Value| -> Vec<(Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| (r["params"].clone(), r["metric"].clone()))
            .collect()
    };
    assert_eq!(runs(&partial["top"]), runs(&shared["top"]));
    // With chunks 4 to 7 not done (made CANCELLED here), what the first three found: fewer
    // cells, none above the final ones.
    let unfinish = |state: &'static str| {
        sqlx::query("UPDATE jobs SET state = $2 WHERE parent_id = $1 AND chunk_index >= 3")
            .bind(fanned)
            .bind(state)
            .execute(&pool)
    };
    unfinish("CANCELLED").await.unwrap();
    let (_, early) = app
        .post_json("/api/job_partial", json!({"id": fanned}))
        .await;
    unfinish("SUCCEEDED").await.unwrap();
    assert_eq!(
        (&early["chunks_done"], &early["chunks"]),
        (&json!(3), &json!(7))
    );
    assert_eq!(early["runs_done"], chunks[2].end);
    let cells = |v: &Value| -> Vec<Option<f64>> {
        v["cells"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(Value::as_f64))
            .collect()
    };
    let (some, all) = (cells(&early["heatmap"]), cells(&shared["grid"]));
    let filled = some.iter().filter(|c| c.is_some()).count();
    assert!(filled > 0 && filled < all.iter().filter(|c| c.is_some()).count());
    for (e, f) in some.iter().zip(&all) {
        if let Some(e) = e {
            assert!(f.is_some_and(|f| *e <= f), "{e} > {f:?}");
        }
    }
    // A job that was not split has no live view.
    let (code, none) = app
        .post_json("/api/job_partial", json!({"id": single}))
        .await;
    assert_eq!((code, none), (200, Value::Null));

    // Lists show the two optimizations, not their chunks.
    let filter = ListFilter {
        state: None,
        kind: None,
        page: 1,
        per_page: 100,
    };
    let (listed, total) = store.list(&filter).await.unwrap();
    assert_eq!(total, 2);
    assert!(listed.iter().all(|j| j.kind == JobKind::Optimize));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancelling_a_fanned_out_optimization_cancels_every_chunk(pool: PgPool) {
    let store = store(&pool);
    let parent = enqueue(&store).await;
    let claimed = store.claim("w:0", "n").await.unwrap().unwrap();
    assert_eq!(claimed.id, parent);
    let ranges = [(0, 1_000), (1_000, 2_000), (2_000, RUNS)];
    assert_eq!(
        store.create_chunks(parent, 0, None, &ranges).await.unwrap(),
        3
    );
    // A rescued parent creates nothing twice.
    assert_eq!(
        store.create_chunks(parent, 0, None, &ranges).await.unwrap(),
        0
    );
    let running = store
        .claim_chunk(parent, "w:0", "n")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.kind, JobKind::Chunk);
    // Chunks are not counted against the cap on active jobs, and are not listed.
    let (listed, total) = store
        .list(&ListFilter {
            state: None,
            kind: None,
            page: 1,
            per_page: 100,
        })
        .await
        .unwrap();
    assert_eq!((listed.len(), total), (1, 1));

    let status = store.request_cancel(parent).await.unwrap();
    assert!(status.cancel_requested);
    let chunks = store.list_chunks(parent).await.unwrap();
    let states: Vec<JobState> = chunks.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [JobState::Running, JobState::Cancelled, JobState::Cancelled],
        "queued chunks end at once"
    );
    // The running chunk is told to stop at its next heartbeat.
    let ack = store.heartbeat(running.id, running.lease).await.unwrap();
    assert!(ack.cancel_requested);
    assert_eq!(store.chunk_progress(parent).await.unwrap().cancelled, 2);
}

/// The cancel of a fanned-out job locks its rows in id order, as a worker's pulse does: while
/// another transaction holds the lowest of them, the cancel waits holding none, so that
/// transaction can still take all the others. Before, the cancel took the chunks in grid order
/// and then the parent, so this failed unless the lowest id was the first chunk's; with a pulse
/// holding the parent and wanting a chunk, one of the two was aborted as a deadlock.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_cancel_locks_the_job_and_its_chunks_in_id_order(pool: PgPool) {
    let store = store(&pool);
    let parent = enqueue(&store).await;
    store.claim("w:0", "n").await.unwrap().unwrap();
    let ranges = [(0, 1_000), (1_000, 2_000), (2_000, RUNS)];
    store.create_chunks(parent, 0, None, &ranges).await.unwrap();
    store
        .claim_chunk(parent, "w:0", "n")
        .await
        .unwrap()
        .unwrap();
    let mut ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE id = $1 OR parent_id = $1")
            .bind(parent)
            .fetch_all(&pool)
            .await
            .unwrap();
    ids.sort();
    assert_eq!(ids.len(), 4);
    let lock = "SELECT 1 FROM jobs WHERE id = $1 FOR NO KEY UPDATE";

    let mut holder = pool.begin().await.unwrap();
    sqlx::query(lock)
        .bind(ids[0])
        .execute(&mut *holder)
        .await
        .unwrap();
    let cancel = tokio::spawn({
        let store = store.clone();
        async move { store.request_cancel(parent).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!cancel.is_finished(), "the cancel waits for the lowest row");
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(&mut *holder)
        .await
        .unwrap();
    for &id in &ids[1..] {
        sqlx::query(lock)
            .bind(id)
            .execute(&mut *holder)
            .await
            .expect("every other row is free: the cancel holds none while it waits for the lowest");
    }
    holder.commit().await.unwrap();

    let status = cancel.await.unwrap().unwrap();
    assert!(status.cancel_requested);
    assert_eq!(store.chunk_progress(parent).await.unwrap().cancelled, 2);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_fanned_out_walk_forward_equals_one_process_bit_for_bit(pool: PgPool) {
    add_sample(&pool).await;
    let store = store(&pool);
    // 4 folds × (29 × 3) runs = 348 in-sample runs, robustness included.
    let args = json!({"dataset_id": SAMPLE_DATASET_ID.to_string(), "strategy": "sma_cross",
        "metric": "sharpe", "commission": 0.001, "folds": 4, "in_sample_fraction": 0.7,
        "grid": {"n1": {"range": {"start": 2, "stop": 30, "step": 1}},
                 "n2": {"list": [40, 60, 80]}}});
    let enqueue = |args: Value| {
        let store = store.clone();
        async move {
            store
                .enqueue(NewJob::new(JobKind::WalkForward, args))
                .await
                .unwrap()
                .id
        }
    };
    let single = enqueue(args.clone()).await;
    let mut alone = run_until_done(&store, vec![pool_on(&store, "one", FanOut::OFF)], single).await;
    let fanned = enqueue(args).await;
    // About 50 units of ~1,000 in-sample bars per chunk: chunks that cross from fold to fold.
    let fanout = FanOut {
        min_work: 1,
        chunk_work: 50_000,
    };
    let workers = vec![
        pool_on(&store, "fan-a", fanout),
        pool_on(&store, "fan-b", fanout),
    ];
    let mut shared = run_until_done(&store, workers, fanned).await;
    let (p1, p2) = (provenance(&mut alone), provenance(&mut shared));
    assert_eq!(p1.get("chunks"), None);
    let chunks = store.list_chunks(fanned).await.unwrap();
    assert!(chunks.len() >= 4, "{chunks:?}");
    assert_eq!(p2["chunks"], chunks.len());
    assert_eq!(chunks.last().unwrap().end, 348);
    assert!(chunks.iter().all(|c| c.state == JobState::Succeeded));
    assert_eq!(shared["folds"].as_array().map(Vec::len), Some(4));
    assert_eq!(shared, alone);
    let log = store.log_tail(fanned, 200).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.contains("fanned out: 348 in-sample runs (folds × runs)")),
        "{log:#?}"
    );
}
