//! The `/api/*` server functions over HTTP (the real router on a real TCP port, see
//! [`TestApp`]): JSON in and out, typed errors with 4xx statuses that name the problem.

use app::model::{JobKind, JobState};
use serde_json::{json, Value};
use server::jobs::handlers::demo::DemoResult;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn submit_then_read_status_list_log_result_and_cancel(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = app
        .submit(json!({"kind": "demo", "steps": 5, "step_ms": 10}))
        .await;
    let job = app.status(id).await;
    assert_eq!(job.id, id);
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.kind, JobKind::Demo);
    // The run log lives under the store's runs directory (here a temporary one).
    assert!(
        job.log_path.ends_with(&format!("/{id}/artifacts/run.log")),
        "{}",
        job.log_path
    );
    let id = id.to_string();

    let (code, list) = app
        .post_json("/api/list_jobs", json!({"state": "queued"}))
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["jobs"][0]["id"], id.as_str());
    let (_, none) = app
        .post_json("/api/list_jobs", json!({"state": "RUNNING"}))
        .await;
    assert_eq!(none["total"], 0);

    let (code, result) = app.post_json("/api/job_result", json!({"id": id})).await;
    assert_eq!(code, 200);
    assert_eq!(result["result"], Value::Null, "no result before success");

    let (code, log) = app
        .post_json("/api/job_log", json!({"id": id, "lines": 10}))
        .await;
    assert_eq!(code, 200);
    assert_eq!(log["lines"], json!([]), "nothing logged before it runs");

    let cancelled = app.cancel(job.id).await;
    assert_eq!(cancelled.state, JobState::Cancelled);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_input_gets_a_4xx_that_names_the_problem(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (code, err) = app
        .post_json("/api/job_status", json!({"id": "not-a-uuid"}))
        .await;
    assert_eq!(
        (code, err),
        (
            400,
            json!({"kind": "invalid_job_id", "input": "not-a-uuid"})
        )
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    let (code, err) = app
        .post_json("/api/job_status", json!({"id": unknown}))
        .await;
    assert_eq!(
        (code, err),
        (404, json!({"kind": "no_such_job", "id": unknown}))
    );
    let (code, _) = app
        .post_json("/api/cancel_job", json!({"id": unknown}))
        .await;
    assert_eq!(code, 404);

    let (code, err) = app
        .post_json(
            "/api/submit_job",
            json!({"request": {"kind": "demo", "steps": 0}}),
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(err["kind"], "invalid_request");
    assert_eq!(err["field"], "request.steps");

    let (code, err) = app
        .post_json("/api/submit_job", json!({"request": {"kind": "teleport"}}))
        .await;
    assert_refused((code, &err), 400, ("kind", "invalid_request"), "teleport");

    let (code, err) = app.post_raw("/api/job_status", "{not json").await;
    assert_eq!(code, 400, "{err}");
    assert_eq!(err["kind"], "invalid_request");

    let (code, err) = app
        .post_json("/api/list_jobs", json!({"state": "DONE"}))
        .await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "state");
    let (code, err) = app
        .post_json("/api/list_jobs", json!({"per_page": 5000}))
        .await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "per_page");

    let (code, err) = app
        .post_json("/api/job_log", json!({"id": unknown, "lines": 0}))
        .await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "lines");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancelling_a_finished_job_is_a_conflict(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let store = &app.store;
    let (id, job) = running_demo(store).await;
    store
        .complete(id, job.lease, &json!({"done": true}))
        .await
        .unwrap();
    let (code, err) = app
        .post_json("/api/cancel_job", json!({"id": id.to_string()}))
        .await;
    assert_refused((code, &err), 409, ("kind", "conflict"), "SUCCEEDED");
    let (_, result) = app
        .post_json("/api/job_result", json!({"id": id.to_string()}))
        .await;
    assert_eq!(result["result"], json!({"done": true}));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn list_is_newest_first_and_paginated(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let store = &app.store;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(store.enqueue(demo(1, 0)).await.unwrap().id.to_string());
    }
    let (_, page1) = app
        .post_json("/api/list_jobs", json!({"per_page": 2}))
        .await;
    let (_, page3) = app
        .post_json("/api/list_jobs", json!({"per_page": 2, "page": 3}))
        .await;
    assert_eq!(page1["total"], 5);
    assert_eq!(page1["jobs"][0]["id"], ids[4].as_str());
    assert_eq!(page1["jobs"][1]["id"], ids[3].as_str());
    assert_eq!(page3["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(page3["jobs"][0]["id"], ids[0].as_str());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_submitted_job_runs_on_a_worker_and_its_result_reads_back_over_http(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let worker = app.worker();
    let id = app
        .submit(json!({"kind": "demo", "steps": 5, "step_ms": 10}))
        .await;
    let done = app.wait_terminal(id).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.progress, Some(1.0));
    assert_eq!(done.attempt, 1);
    let (code, result) = app.post_json("/api/job_result", json!({"id": id})).await;
    assert_eq!(code, 200, "{result}");
    let result: DemoResult = serde_json::from_value(result["result"].clone()).unwrap();
    assert_eq!(result.sum_of_squares, 1 + 4 + 9 + 16 + 25);
    let (_, log) = app
        .post_json("/api/job_log", json!({"id": id, "lines": 100}))
        .await;
    assert!(
        log["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().ends_with("succeeded")),
        "{log}"
    );
    worker.stop().await;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_log_tail_shows_lines_written_on_another_machine(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let id = app
        .submit(json!({"kind": "demo", "steps": 3, "step_ms": 10}))
        .await;
    // A worker "on another machine": its own runs directory; only the database is shared.
    let elsewhere_dir = temp_dir("elsewhere");
    let elsewhere = server::jobs::JobStore::new(pool.clone(), elsewhere_dir.clone());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(worker(&elsewhere).run(shutdown.clone()));
    let done = app.wait_terminal(id).await;
    assert_eq!(done.state, JobState::Succeeded);
    let lines = eventually(
        std::time::Duration::from_secs(10),
        "the log lines are shipped",
        || async {
            let (_, log) = app
                .post_json("/api/job_log", json!({"id": id, "lines": 100}))
                .await;
            let lines: Vec<String> = serde_json::from_value(log["lines"].clone()).unwrap();
            lines
                .iter()
                .any(|l| l.ends_with("  succeeded"))
                .then_some(lines)
        },
    )
    .await;
    assert!(
        lines[0].contains("attempt 1/3 started: demo job"),
        "{lines:#?}"
    );
    assert!(
        !app.store.log_file(id).exists(),
        "nothing of it on the web process's disk"
    );
    // The worker's own file has the same lines: one copy each in the merged tail.
    let local = server::jobs::joblog::tail(&elsewhere.log_file(id), 100).unwrap();
    assert_eq!(lines, local);
    shutdown.cancel();
    task.await.unwrap().unwrap();
    std::fs::remove_dir_all(elsewhere_dir).ok();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_status_get_answers_304_while_the_status_is_unchanged(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = app
        .submit(json!({"kind": "demo", "steps": 3, "step_ms": 10}))
        .await;
    let path = format!("/api/jobs/{id}/status");
    let status_get = |etag: Option<&str>| {
        let headers: Vec<_> = etag.map(|tag| ("if-none-match", tag)).into_iter().collect();
        app.oneshot(get(&path, &headers))
    };
    let first = status_get(None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(first.headers["cache-control"], "no-cache");
    let status: app::model::JobStatus = serde_json::from_str(&first.body).unwrap();
    assert_eq!(
        (status.id.to_string(), status.state),
        (id.to_string(), JobState::Queued)
    );
    // Unchanged: 304, no body.
    let again = status_get(Some(&etag)).await;
    assert_eq!((again.status, again.body.as_str()), (304, ""));
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
    // Changed (cancelled): the new status with a new tag.
    app.cancel(id).await;
    let changed = status_get(Some(&etag)).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    assert!(changed.body.contains("CANCELLED"), "{}", changed.body);
    // Bad and unknown ids.
    let bad = app.get("/api/jobs/nope/status").await;
    assert_eq!(bad.status, 400);
    let unknown = app
        .get(&format!("/api/jobs/{}/status", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(unknown.status, 404);
}
