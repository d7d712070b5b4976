//! Research jobs end to end against Postgres: datasets, submit validation, optimize and
//! walk-forward progress (messages and update counts), backtest, training, kill-and-resume with
//! provenance, discarded checkpoints.

use std::time::Duration;

use app::api::backend::{BackendError, JobBackend};
use app::model::{JobRequest, JobState};
use serde_json::{json, Value};
use server::datasets::{DatasetStore, SAMPLE_DATASET_ID};
use server::engine;
use server::jobs::backend::StoreBackend;
use server::jobs::handlers::research::Provenance;
use server::jobs::joblog;
use server::jobs::rescuer::Rescuer;
use server::jobs::worker::RunOutcome;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

async fn backend(pool: &PgPool) -> StoreBackend {
    add_sample(pool).await;
    StoreBackend::with_max_grid(store(pool), 100_000)
}

fn request(v: Value) -> JobRequest {
    serde_json::from_value(v).expect("a well-formed request")
}

fn optimize_json() -> Value {
    json!({
        "kind": "optimize", "dataset_id": SAMPLE_DATASET_ID.to_string(), "strategy": "sma_cross",
        "grid": {"n1": {"range": {"start": 5, "stop": 50, "step": 5}},
                 "n2": {"range": {"start": 20, "stop": 200, "step": 10}}},
        "metric": "sharpe", "commission": 0.002
    })
}

fn walk_forward_json() -> Value {
    json!({
        "kind": "walk_forward", "dataset_id": SAMPLE_DATASET_ID.to_string(), "strategy": "sma_cross",
        "grid": {"n1": {"list": [5, 10, 20]}, "n2": {"list": [30, 50, 80]}},
        "folds": 4, "in_sample_fraction": 0.7
    })
}

/// Submits `json`'s optimize or walk-forward job and returns the result the engine computes
/// for the same request run straight through, as JSON: what a resumed job must match.
async fn submit_with_reference(pool: &PgPool, b: &StoreBackend, json: Value) -> Value {
    let req = request(json);
    let series = DatasetStore::new(pool.clone())
        .load(SAMPLE_DATASET_ID)
        .await
        .unwrap();
    let reference = match &req {
        JobRequest::Optimize(r) => serde_json::to_value(
            engine::run_optimize(&series, r, None, &mut engine::NoProgress).unwrap(),
        ),
        JobRequest::WalkForward(r) => serde_json::to_value(
            engine::run_walkforward(&series, r, None, &mut engine::NoProgress).unwrap(),
        ),
        other => panic!("no reference run for {other:?}"),
    };
    b.submit_job(req).await.unwrap();
    reference.unwrap()
}

/// The provenance of a single-process attempt.
fn attempt_provenance(attempt: i32, resumed_from: u64, checkpoint_discarded: bool) -> Provenance {
    Provenance {
        attempt,
        resumed_from,
        checkpoint_discarded,
        chunks: None,
    }
}

/// Asserts job `id`'s log has a line holding `needle`.
fn assert_logged(store: &server::jobs::JobStore, id: uuid::Uuid, needle: &str) {
    let log = joblog::tail(&store.log_file(id), 1000).unwrap();
    assert!(log.iter().any(|l| l.contains(needle)), "{needle}: {log:#?}");
}

/// Runs the one queued job in this process and returns its id.
async fn run_queued(store: &server::jobs::JobStore) -> uuid::Uuid {
    let job = store
        .claim("test:1:0", "test")
        .await
        .unwrap()
        .expect("a queued job");
    let id = job.id;
    assert_eq!(
        worker(store).run_job(job, &CancellationToken::new()).await,
        RunOutcome::Succeeded
    );
    id
}

/// The job's progress lines from its run log: at least one, at most `at_most`.
fn progress_lines(store: &server::jobs::JobStore, id: uuid::Uuid, at_most: usize) -> Vec<String> {
    let lines: Vec<String> = joblog::tail(&store.log_file(id), 1000)
        .unwrap()
        .into_iter()
        .filter(|l| l.contains("  progress "))
        .collect();
    assert!(
        !lines.is_empty() && lines.len() <= at_most,
        "{} updates, at most {at_most} expected",
        lines.len()
    );
    lines
}

/// A progress line's message (what follows "NN% ").
fn message(line: &str) -> &str {
    line.split("% ").nth(1).unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_optimization_runs_as_a_job_with_run_i_of_n_progress_and_at_most_100_updates(
    pool: PgPool,
) {
    let b = backend(&pool).await;
    let status = b.submit_job(request(optimize_json())).await.unwrap();
    assert_eq!(status.state, JobState::Queued);
    let id = run_queued(&b.store).await;

    let done = b.store.status(id).await.unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    // The engine reports ~100 milestones per phase (the runs, then the robustness step);
    // writes coalesce when the database is slower than the engine, so at most ~200 land (here
    // the whole job takes well under a second).
    let lines = progress_lines(&b.store, id, 202);
    let runs = lines
        .iter()
        .take_while(|l| message(l).starts_with("Run "))
        .count();
    // On a loaded machine the 174 runs can all finish before the first write lands: their
    // milestones coalesce into the robustness phase's (the engine's own "Run i/N" reports are
    // checked one by one in engine/optimize/tests.rs).
    assert!(runs <= 101, "{lines:#?}");
    assert!(
        lines[runs..]
            .iter()
            .all(|l| message(l).starts_with("Robustness ")),
        "{lines:#?}"
    );
    // n1 in 5..=50 step 5, n2 in 20..=200 step 10 (19 values), n1 < n2: n1 = 5, 10, 15 take
    // all 19; 20 and 25 take 18; 30, 35 take 17; 40, 45 take 16; 50 takes 15: 174 runs.
    assert!(runs == 0 || lines[runs - 1].contains("/174"), "{lines:#?}");
    // The robustness step: 174 trials (all runs, below the 400 threshold), C(16, 8) = 12,870
    // splits and 1,000 bootstrap draws.
    let total = 174 + 12_870 + 1_000;
    assert!(
        lines
            .last()
            .unwrap()
            .contains(&format!("progress 100% Robustness {total}/{total}")),
        "{lines:#?}"
    );
    let (_, result) = b.store.result(id).await.unwrap();
    let result = result.unwrap();
    assert_eq!(result["total_runs"], 174);
    assert_eq!(
        result["provenance"],
        json!({"attempt": 1, "resumed_from": 0, "checkpoint_discarded": false})
    );
    assert!(
        result["best_params"]["n1"].as_f64().unwrap()
            < result["best_params"]["n2"].as_f64().unwrap()
    );
    assert_eq!(result["grid"]["x_param"], "n1");
    let r = &result["robustness"];
    assert_eq!(
        (&r["trials_total"], &r["trials_used"], &r["sampled"]),
        (&json!(174), &json!(174), &json!(false))
    );
    let dsr = r["deflated_sharpe"]["probability"].as_f64().unwrap();
    let pbo = r["pbo"]["pbo"].as_f64().unwrap();
    let p = r["bootstrap"]["p_value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&dsr) && (0.0..=1.0).contains(&pbo) && p > 0.0 && p <= 1.0);
    assert_eq!(r["pbo"]["combinations"], 12_870);
    assert_eq!(r["deflated_sharpe"]["trials"], 174);
    assert!(result["top"][0]["plateau"].is_number());
    assert!(result["robust_best"]["params"]["n1"].is_number());
    assert!(!result["best_equity"].as_array().unwrap().is_empty());
    // The full grid is stored apart, never in the result JSON.
    assert!(result.get("full_grid").is_none());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_walk_forward_runs_as_a_job_with_param_fold_messages_and_at_most_50_updates(
    pool: PgPool,
) {
    let b = backend(&pool).await;
    b.submit_job(request(walk_forward_json())).await.unwrap();
    let id = run_queued(&b.store).await;
    let lines = progress_lines(&b.store, id, 102);
    // ~50 milestones over the folds (each fold: its runs, then its robustness step), then ~50
    // for the out-of-sample bootstrap.
    let folds = lines
        .iter()
        .take_while(|l| message(l).contains(", Fold "))
        .count();
    let fold_ok = |m: &str| {
        (m.starts_with("Param ") || m.starts_with("Robustness ")) && m.contains(", Fold ")
    };
    assert!(
        lines[..folds].iter().all(|l| fold_ok(message(l))),
        "{lines:#?}"
    );
    assert!(
        lines[folds..]
            .iter()
            .all(|l| message(l).contains(", out of sample")),
        "{lines:#?}"
    );
    // (A phase's last milestone may be coalesced with the next phase's first write; the job's
    // final write always lands.)
    assert!(
        lines
            .last()
            .unwrap()
            .contains("progress 100% Robustness 1000/1000, out of sample"),
        "{lines:#?}"
    );
    let (_, result) = b.store.result(id).await.unwrap();
    let result = result.unwrap();
    assert_eq!(result["folds"].as_array().unwrap().len(), 4);
    assert!(!result["oos_equity"].as_array().unwrap().is_empty());
    for fold in result["folds"].as_array().unwrap() {
        // 9 runs per fold: all are trials.
        assert_eq!(fold["robustness"]["trials_used"], 9, "{fold}");
        assert!(fold["robustness"]["pbo"]["pbo"].is_number(), "{fold}");
    }
    assert!(result["robustness"]["median_pbo"].is_number());
    assert!(result["robustness"]["oos_bootstrap"]["p_value"].is_number());
    assert_eq!(
        result["provenance"],
        json!({"attempt": 1, "resumed_from": 0, "checkpoint_discarded": false})
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn backtest_and_training_jobs_succeed_with_their_results(pool: PgPool) {
    let b = backend(&pool).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    b.submit_job(request(
        json!({"kind": "backtest", "dataset_id": ds, "strategy": "sma_cross",
        "params": {"n1": 10, "n2": 20}, "commission": 0.002}),
    ))
    .await
    .unwrap();
    let id = run_queued(&b.store).await;
    let (_, r) = b.store.result(id).await.unwrap();
    let r = r.unwrap();
    assert!(r["stats"]["trades"].as_u64().unwrap() > 10);
    assert!(!r["equity"].as_array().unwrap().is_empty());

    b.submit_job(request(
        json!({"kind": "train", "dataset_id": ds, "epochs": 50}),
    ))
    .await
    .unwrap();
    let id = run_queued(&b.store).await;
    let status = b.store.status(id).await.unwrap();
    assert!(status
        .progress_message
        .unwrap()
        .starts_with("Epoch 50/50, loss "));
    let (_, r) = b.store.result(id).await.unwrap();
    let r = r.unwrap();
    assert_eq!(r["epochs"].as_array().unwrap().len(), 50);
    let acc = r["val_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_requests_are_refused_with_the_field_named_and_no_job_row(pool: PgPool) {
    let b = backend(&pool).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    // Each case: the request, the exact field the refusal names, and a part of its message.
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "backtest", "dataset_id": ds, "strategy": "sma_cross", "params": {"n1": 30, "n2": 20}}),
            "request.params.n1",
            "less than n2",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds, "strategy": "sma_cross", "params": {"n1": -5, "n2": 20}}),
            "request.params.n1",
            "got -5",
        ),
        (
            json!({"kind": "optimize", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"range": {"start": 5, "stop": 10, "step": 0}}}}),
            "request.grid.n1.step",
            "> 0",
        ),
        (
            json!({"kind": "optimize", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"list": []}}}),
            "request.grid.n1",
            "no values",
        ),
        // Every value in range, but 2..=999 × 3..=1000 is ~500k admissible runs > 100k.
        (
            json!({"kind": "optimize", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"range": {"start": 2, "stop": 999, "step": 1}},
                         "n2": {"range": {"start": 3, "stop": 1000, "step": 1}}}}),
            "request.grid",
            "100000",
        ),
        // Folds that do not fit the data: n2 = 400 needs more bars than a fold has.
        (
            json!({"kind": "walk_forward", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"list": [5]}, "n2": {"list": [400]}}, "folds": 40}),
            "request.folds",
            "in-sample window",
        ),
        (
            json!({"kind": "backtest", "dataset_id": uuid::Uuid::new_v4().to_string(), "strategy": "sma_cross",
                "params": {"n1": 10, "n2": 20}}),
            "request.dataset_id",
            "no such dataset",
        ),
        (
            json!({"kind": "backtest", "dataset_id": "nope", "strategy": "sma_cross", "params": {}}),
            "request.dataset_id",
            "not a valid dataset id",
        ),
    ];
    for (body, want_field, want_message) in cases {
        let err = b.submit_job(request(body.clone())).await.unwrap_err();
        let BackendError::Invalid { field, message } = &err else {
            panic!("{body}: {err:?}")
        };
        assert_eq!(field, want_field, "{body}: {message}");
        assert!(
            message.contains(want_message),
            "{body}: {message:?} should say {want_message:?}"
        );
    }
    assert_eq!(
        job_count(&pool).await,
        0,
        "no job row for any refused request"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_csv_imports_as_a_dataset_and_a_broken_one_stores_nothing(pool: PgPool) {
    let b = backend(&pool).await;
    let mut csv = String::from("Date,Open,High,Low,Close,Volume\n");
    for (i, day) in (1..=28).enumerate() {
        let p = 100.0 + i as f64;
        csv.push_str(&format!(
            "2024-02-{day:02},{p},{},{},{},1000\n",
            p + 2.0,
            p - 1.0,
            p + 1.0
        ));
    }
    let info = b.import_dataset("Feb 2024".into(), csv).await.unwrap();
    assert_eq!(info.bars, 28);
    assert!(info.end > info.start);
    assert_eq!(
        b.list_datasets().await.unwrap().len(),
        2,
        "the sample and the import"
    );

    let broken = "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,0.5,2,1\n2024-01-03,x,2,1,1.5\n";
    let err = b
        .import_dataset("broken".into(), broken.into())
        .await
        .unwrap_err();
    let BackendError::InvalidCsv(errors) = err else {
        panic!("{err:?}")
    };
    assert!(
        errors
            .iter()
            .any(|e| e.line == 3 && e.message.contains("high")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.line == 4 && e.column.eq_ignore_ascii_case("open")),
        "{errors:?}"
    );
    assert_eq!(
        b.list_datasets().await.unwrap().len(),
        2,
        "nothing stored from a rejected file"
    );

    let dup = b
        .import_dataset(
            "feb 2024".into(),
            "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02,1,2,0.5,1.5\n".into(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, BackendError::Invalid { field, .. } if field == "name"),
        "{dup:?}"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn absurd_numbers_are_refused_naming_the_field_and_the_bound(pool: PgPool) {
    let b = backend(&pool).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "backtest", "dataset_id": ds, "strategy": "sma_cross", "cash": 1e300}),
            "request.cash",
            "at most 1e12",
        ),
        (
            json!({"kind": "optimize", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"list": [5]}}, "commission": 5}),
            "request.commission",
            "below 0.1",
        ),
        (
            json!({"kind": "train", "dataset_id": ds, "l2": 1e300}),
            "request.l2",
            "between 0 and 1000",
        ),
        (
            json!({"kind": "train", "dataset_id": ds, "learning_rate": 1e9}),
            "request.learning_rate",
            "≤ 10",
        ),
        (
            json!({"kind": "train", "dataset_id": ds, "validation_fraction": 1.5}),
            "request.validation_fraction",
            "between 0 and 1",
        ),
        // 50 folds × 59,900 runs per fold (each fold within max_grid) = 2,995,000 > 1,000,000.
        (
            json!({"kind": "walk_forward", "dataset_id": ds, "strategy": "sma_cross",
                "grid": {"n1": {"range": {"start": 2, "stop": 201, "step": 1}},
                         "n2": {"range": {"start": 2, "stop": 401, "step": 1}}},
                "folds": 50}),
            "request.folds",
            "more than the limit of 1000000",
        ),
        (
            json!({"kind": "demo", "steps": 100000, "step_ms": 10000}),
            "request.step_ms",
            "3600000 ms (1 hour)",
        ),
        (
            json!({"kind": "demo", "steps": 5, "fail_once_at": 2}),
            "request.fail_once_at",
            "test hooks are disabled (set RUNBOARD_TEST_HOOKS=1 to enable)",
        ),
        (
            json!({"kind": "demo", "steps": 5, "fail_terminally_at": 2}),
            "request.fail_terminally_at",
            "test hooks are disabled",
        ),
    ];
    for (body, want_field, want_message) in cases {
        let err = b.submit_job(request(body.clone())).await.unwrap_err();
        let BackendError::Invalid { field, message } = &err else {
            panic!("{body}: {err:?}")
        };
        assert_eq!(field, want_field, "{body}: {message}");
        assert!(message.contains(want_message), "{body}: {message}");
    }
    assert_eq!(
        job_count(&pool).await,
        0,
        "no job row for a refused request"
    );

    // The reported file: unix times 0..4, then i64::MAX on line 7.
    let mut csv = String::from("time,open,high,low,close\n");
    for t in ["0", "1", "2", "3", "4", "9223372036854775807"] {
        csv.push_str(&format!("{t},1,1,1,1\n"));
    }
    let err = b
        .import_dataset("far future".into(), csv)
        .await
        .unwrap_err();
    let BackendError::InvalidCsv(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "line 7, column time: timestamp 9223372036854775807 is outside \
         1900-01-01..2200-01-01 (UTC)"
    );
    assert_eq!(b.list_datasets().await.unwrap().len(), 1, "nothing stored");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_diverging_training_job_succeeds_with_a_result_that_reads_back(pool: PgPool) {
    let b = backend(&pool).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    b.submit_job(request(
        json!({"kind": "train", "dataset_id": ds, "epochs": 200,
        "learning_rate": 10, "l2": 1000}),
    ))
    .await
    .unwrap();
    let id = run_queued(&b.store).await;
    let (state, result) = b.store.result(id).await.unwrap();
    assert_eq!(state, JobState::Succeeded);
    let result = result.unwrap();
    // Non-finite weights are stored as null and read back (as NaN, shown as "—").
    assert!(result["weights"][0].is_null(), "{}", result["weights"]);
    let read: app::model::research::TrainResult = serde_json::from_value(result).unwrap();
    assert_eq!(read.epochs.len(), 200);
    assert!(read.weights.iter().all(|w| w.is_nan()));
}

/// The job's saved checkpoint, straight from its row.
async fn saved_checkpoint(pool: &PgPool, id: uuid::Uuid) -> Option<Value> {
    sqlx::query_as::<_, (Option<Value>,)>("SELECT checkpoint FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
        .0
}

/// Runs the one queued job's first attempt on a worker of this process until a checkpoint is in
/// its row, then takes the job away from it (its node is declared dead: start-up recovery
/// requeues the run) and waits for that attempt to give up. The attempt cannot finish first:
/// while it runs, Postgres refuses to let any row become SUCCEEDED. Returns the job's id and
/// the checkpoint the next attempt gets.
async fn first_attempt_dies_after_a_checkpoint(
    pool: &PgPool,
    store: &server::jobs::JobStore,
) -> (uuid::Uuid, Value) {
    sqlx::query(
        "ALTER TABLE jobs ADD CONSTRAINT hold_success CHECK (state <> 'SUCCEEDED') NOT VALID",
    )
    .execute(pool)
    .await
    .unwrap();
    let job = store
        .claim("doomed-0a1b2c3d:0", "doomed")
        .await
        .unwrap()
        .expect("a queued job");
    let id = job.id;
    let w = worker(store);
    let run = tokio::spawn(async move { w.run_job(job, &CancellationToken::new()).await });
    eventually(Duration::from_secs(60), "a checkpoint is saved", || {
        saved_checkpoint(pool, id)
    })
    .await;
    // A pass skips the row while the attempt is writing to it (SKIP LOCKED); the next one
    // takes it.
    let rescuer = Rescuer::new(store.clone(), Duration::from_secs(30));
    eventually(
        Duration::from_secs(10),
        "start-up recovery requeues the run",
        || async {
            let report = rescuer.recover_node("doomed").await.unwrap();
            (report.requeued == vec![id]).then_some(())
        },
    )
    .await;
    assert_eq!(
        within(Duration::from_secs(60), "the first attempt", run).await,
        RunOutcome::LeaseLost
    );
    sqlx::query("ALTER TABLE jobs DROP CONSTRAINT hold_success")
        .execute(pool)
        .await
        .unwrap();
    let checkpoint = saved_checkpoint(pool, id)
        .await
        .expect("the checkpoint outlives the rescue");
    (id, checkpoint)
}

/// Runs the next attempt of job `id` to success, checking it was handed `checkpoint`; returns
/// the result without its provenance, and the provenance.
async fn second_attempt_succeeds(
    store: &server::jobs::JobStore,
    id: uuid::Uuid,
    checkpoint: &Value,
) -> (Value, Provenance) {
    // The requeued run is due at once; under load the claim may need a few tries (the row says
    // why if it never comes).
    let second = eventually(
        Duration::from_secs(10),
        "the requeued job is claimed",
        || async { store.claim("test-4e5f6a7b:0", "test").await.unwrap() },
    )
    .await;
    assert_eq!((second.id, second.attempt), (id, 2));
    assert_eq!(second.checkpoint.as_ref(), Some(checkpoint));
    assert_eq!(
        worker(store)
            .run_job(second, &CancellationToken::new())
            .await,
        RunOutcome::Succeeded
    );
    split_provenance(store, id).await
}

/// A succeeded job's result without its `provenance`, and the provenance.
async fn split_provenance(store: &server::jobs::JobStore, id: uuid::Uuid) -> (Value, Provenance) {
    let (state, result) = store.result(id).await.unwrap();
    assert_eq!(state, JobState::Succeeded);
    let mut result = result.expect("a result");
    let provenance = result
        .as_object_mut()
        .unwrap()
        .remove("provenance")
        .expect("the result says where it came from");
    (result, serde_json::from_value(provenance).unwrap())
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_optimization_killed_after_a_checkpoint_resumes_at_the_checkpointed_run_not_at_zero(
    pool: PgPool,
) {
    let b = backend(&pool).await;
    let uninterrupted = submit_with_reference(&pool, &b, optimize_json()).await;

    let (id, checkpoint) = first_attempt_dies_after_a_checkpoint(&pool, &b.store).await;
    let next_index = checkpoint["next_index"].as_u64().unwrap();
    assert!(next_index > 0 && next_index < 174, "{next_index}");

    let (result, provenance) = second_attempt_succeeds(&b.store, id, &checkpoint).await;
    assert_eq!(
        provenance,
        attempt_provenance(2, next_index, false),
        "the second attempt started at run {next_index}, not at zero"
    );
    assert_eq!(result, uninterrupted);
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "SUCCEEDED");
    assert_eq!(row["attempt"], 2);
    assert_eq!(row["progress"], 1.0);
    assert_eq!(row["checkpoint"], Value::Null, "cleared on success");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_walk_forward_killed_after_a_checkpoint_resumes_after_its_finished_folds_not_at_zero(
    pool: PgPool,
) {
    let b = backend(&pool).await;
    let uninterrupted = submit_with_reference(&pool, &b, walk_forward_json()).await;

    let (id, checkpoint) = first_attempt_dies_after_a_checkpoint(&pool, &b.store).await;
    let folds_done = checkpoint["best_runs"].as_array().unwrap().len() as u64;
    let runs_per_fold = checkpoint["runs_per_fold"].as_u64().unwrap();
    assert!((1..4).contains(&folds_done), "{checkpoint}");
    assert_eq!(runs_per_fold, 9);

    let (result, provenance) = second_attempt_succeeds(&b.store, id, &checkpoint).await;
    assert_eq!(
        provenance,
        attempt_provenance(2, folds_done * runs_per_fold, false),
        "the second attempt skipped the {folds_done} finished fold(s)"
    );
    assert_eq!(result, uninterrupted);
    let row = row_json(&pool, id).await;
    assert_eq!(row["state"], "SUCCEEDED");
    assert_eq!(row["attempt"], 2);
    assert_eq!(row["checkpoint"], Value::Null);
}

/// Writes `checkpoint` into the queued job's row, as if an attempt had saved it.
async fn plant_checkpoint(pool: &PgPool, checkpoint: Value) {
    let done = sqlx::query("UPDATE jobs SET checkpoint = $1 WHERE state = 'QUEUED'")
        .bind(checkpoint)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_undecodable_optimize_checkpoint_is_discarded_with_a_warning_and_counted(pool: PgPool) {
    let b = backend(&pool).await;
    let uninterrupted = submit_with_reference(&pool, &b, optimize_json()).await;
    plant_checkpoint(&pool, json!({"next_index": "garbage", "metrics_so_far": 7})).await;

    let id = run_queued(&b.store).await;
    let (result, provenance) = split_provenance(&b.store, id).await;
    assert_eq!(provenance, attempt_provenance(1, 0, true));
    assert_eq!(result, uninterrupted);
    assert_logged(
        &b.store,
        id,
        "warning: the saved checkpoint was discarded (it cannot be decoded",
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_walk_forward_checkpoint_from_another_request_is_discarded_with_a_warning_and_counted(
    pool: PgPool,
) {
    let b = backend(&pool).await;
    b.submit_job(request(walk_forward_json())).await.unwrap();
    // It decodes, but it is for 7 folds: this job has 4.
    plant_checkpoint(
        &pool,
        json!({"folds": 7, "runs_per_fold": 9, "best_runs": [0], "best_metric_bits": [0]}),
    )
    .await;

    let id = run_queued(&b.store).await;
    let (result, provenance) = split_provenance(&b.store, id).await;
    assert_eq!(provenance, attempt_provenance(1, 0, true));
    assert_eq!(result["folds"].as_array().unwrap().len(), 4);
    assert_logged(
        &b.store,
        id,
        "warning: the saved checkpoint was discarded (checkpoint is for 7 folds of 9 runs",
    );
}
