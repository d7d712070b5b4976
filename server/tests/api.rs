//! The `/api/*` server functions over HTTP (the real router, in process): JSON in and out,
//! typed errors with 4xx statuses that name the problem.

mod common;

use axum::body::Body;
use axum::Router;
use common::*;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use server::jobs::backend::StoreBackend;
use sqlx::PgPool;
use tower::ServiceExt;

fn app(pool: &PgPool) -> Router {
    let options = LeptosOptions::builder().output_name("runboard").build();
    let backend = StoreBackend::with_max_grid(store(pool), 1_000);
    server::web::router(options, server::web::shared(backend))
}

async fn post(app: &Router, path: &str, body: Value) -> (u16, Value) {
    post_raw(app, path, body.to_string()).await
}

async fn post_raw(app: &Router, path: &str, body: String) -> (u16, Value) {
    let request = axum::http::Request::post(path)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn submit_then_read_status_list_log_result_and_cancel(pool: PgPool) {
    let app = app(&pool);
    let (code, job) = post(
        &app,
        "/api/submit_job",
        json!({"request": {"kind": "demo", "steps": 5, "step_ms": 10}}),
    )
    .await;
    assert_eq!(code, 200, "{job}");
    assert_eq!(job["state"], "QUEUED");
    assert_eq!(job["kind"], "demo");
    let id = job["id"].as_str().unwrap().to_string();
    // The run log lives under the store's runs directory (here a temporary one).
    let log_path = job["log_path"].as_str().unwrap();
    assert!(
        log_path.ends_with(&format!("/{id}/artifacts/run.log")),
        "{log_path}"
    );

    let (code, status) = post(&app, "/api/job_status", json!({"id": id})).await;
    assert_eq!(code, 200);
    assert_eq!(status["id"], id.as_str());

    let (code, list) = post(&app, "/api/list_jobs", json!({"state": "queued"})).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["jobs"][0]["id"], id.as_str());
    let (_, none) = post(&app, "/api/list_jobs", json!({"state": "RUNNING"})).await;
    assert_eq!(none["total"], 0);

    let (code, result) = post(&app, "/api/job_result", json!({"id": id})).await;
    assert_eq!(code, 200);
    assert_eq!(result["result"], Value::Null, "no result before success");

    let (code, log) = post(&app, "/api/job_log", json!({"id": id, "lines": 10})).await;
    assert_eq!(code, 200);
    assert_eq!(log["lines"], json!([]), "nothing logged before it runs");

    let (code, cancelled) = post(&app, "/api/cancel_job", json!({"id": id})).await;
    assert_eq!(code, 200);
    assert_eq!(cancelled["state"], "CANCELLED");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_input_gets_a_4xx_that_names_the_problem(pool: PgPool) {
    let app = app(&pool);
    let (code, err) = post(&app, "/api/job_status", json!({"id": "not-a-uuid"})).await;
    assert_eq!(
        (code, err),
        (
            400,
            json!({"kind": "invalid_job_id", "input": "not-a-uuid"})
        )
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    let (code, err) = post(&app, "/api/job_status", json!({"id": unknown})).await;
    assert_eq!(
        (code, err),
        (404, json!({"kind": "no_such_job", "id": unknown}))
    );
    let (code, _) = post(&app, "/api/cancel_job", json!({"id": unknown})).await;
    assert_eq!(code, 404);

    let (code, err) = post(
        &app,
        "/api/submit_job",
        json!({"request": {"kind": "demo", "steps": 0}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(err["kind"], "invalid_request");
    assert_eq!(err["field"], "request.steps");

    let (code, err) = post(
        &app,
        "/api/submit_job",
        json!({"request": {"kind": "teleport"}}),
    )
    .await;
    assert_eq!(code, 400, "{err}");
    assert_eq!(err["kind"], "invalid_request");
    assert!(
        err["message"].as_str().unwrap().contains("teleport"),
        "{err}"
    );

    let (code, err) = post_raw(&app, "/api/job_status", "{not json".into()).await;
    assert_eq!(code, 400, "{err}");
    assert_eq!(err["kind"], "invalid_request");

    let (code, err) = post(&app, "/api/list_jobs", json!({"state": "DONE"})).await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "state");
    let (code, err) = post(&app, "/api/list_jobs", json!({"per_page": 5000})).await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "per_page");

    let (code, err) = post(&app, "/api/job_log", json!({"id": unknown, "lines": 0})).await;
    assert_eq!(code, 400);
    assert_eq!(err["field"], "lines");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cancelling_a_finished_job_is_a_conflict(pool: PgPool) {
    let app = app(&pool);
    let store = store(&pool);
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("w:1:0", "test").await.unwrap().unwrap();
    store
        .complete(id, job.lease, &json!({"done": true}))
        .await
        .unwrap();
    let (code, err) = post(&app, "/api/cancel_job", json!({"id": id.to_string()})).await;
    assert_eq!(code, 409, "{err}");
    assert_eq!(err["kind"], "conflict");
    assert!(err["message"].as_str().unwrap().contains("SUCCEEDED"));
    let (_, result) = post(&app, "/api/job_result", json!({"id": id.to_string()})).await;
    assert_eq!(result["result"], json!({"done": true}));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn list_is_newest_first_and_paginated(pool: PgPool) {
    let app = app(&pool);
    let store = store(&pool);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(store.enqueue(demo(1, 0)).await.unwrap().id.to_string());
    }
    let (_, page1) = post(&app, "/api/list_jobs", json!({"per_page": 2})).await;
    let (_, page3) = post(&app, "/api/list_jobs", json!({"per_page": 2, "page": 3})).await;
    assert_eq!(page1["total"], 5);
    assert_eq!(page1["jobs"][0]["id"], ids[4].as_str());
    assert_eq!(page1["jobs"][1]["id"], ids[3].as_str());
    assert_eq!(page3["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(page3["jobs"][0]["id"], ids[0].as_str());
}
