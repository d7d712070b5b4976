//! Datasets that scale (issue 9): the list a page at a time, deletion refused while a queued or
//! running job uses a dataset, and a dataset's price chart downsampled for its page.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{add_sample, TestApp};
use server::datasets::{DatasetStore, SAMPLE_DATASET_ID};

/// `rows` bars as CSV, with a one-bar spike at `spike`.
fn csv(rows: usize, spike: usize) -> String {
    let mut s = String::from("timestamp,open,high,low,close\n");
    for i in 0..rows {
        let c = if i == spike {
            500.0
        } else {
            100.0 + (i % 7) as f64
        };
        s.push_str(&format!("{},{c},{c},{c},{c}\n", 1_700_000_000 + i * 60));
    }
    s
}

async fn import(app: &TestApp, name: &str, body: String) -> String {
    let answer = app
        .oneshot(
            axum::http::Request::post(format!("/api/datasets?name={name}"))
                .header("host", "127.0.0.1")
                .header("content-type", "text/csv")
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.json()["id"].as_str().unwrap().to_string();
    let (_, r) = app.post_json("/api/job_result", json!({"id": id})).await;
    r["result"]["id"].as_str().unwrap().to_string()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn datasets_page_delete_safely_and_chart_small(pool: PgPool) {
    add_sample(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(import(&app, &format!("d{i}"), csv(50, 10)).await);
    }
    // Pages of 2, newest first: 6 datasets (the sample + 5).
    let (code, p1) = app
        .post_json("/api/dataset_page", json!({"page": 1, "per_page": 2}))
        .await;
    assert_eq!(code, 200, "{p1}");
    assert_eq!(p1["total"], 6);
    assert_eq!(p1["datasets"][0]["name"], "d4");
    let (_, p3) = app
        .post_json("/api/dataset_page", json!({"page": 3, "per_page": 2}))
        .await;
    assert_eq!(p3["datasets"].as_array().unwrap().len(), 2);
    let (code, e) = app
        .post_json("/api/dataset_page", json!({"per_page": 101}))
        .await;
    assert_eq!((code, e["field"].as_str()), (400, Some("per_page")), "{e}");

    // A queued job uses d0 (no worker runs): delete refused with 409, nothing removed.
    app.submit(
        json!({"kind": "backtest", "dataset_id": ids[0], "strategy": "sma_cross",
                      "params": {"n1": 2, "n2": 5}}),
    )
    .await;
    let (code, e) = app
        .post_json("/api/delete_dataset", json!({"id": ids[0]}))
        .await;
    assert_eq!((code, e["kind"].as_str()), (409, Some("conflict")), "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("1 queued or running job"),
        "{e}"
    );
    // An unused one goes; twice is a 400 naming the id; the sample stays.
    let (code, _) = app
        .post_json("/api/delete_dataset", json!({"id": ids[1]}))
        .await;
    assert_eq!(code, 200);
    let (code, e) = app
        .post_json("/api/delete_dataset", json!({"id": ids[1]}))
        .await;
    assert_eq!((code, e["field"].as_str()), (400, Some("id")), "{e}");
    let (code, _) = app
        .post_json("/api/delete_dataset", json!({"id": SAMPLE_DATASET_ID}))
        .await;
    assert_eq!(code, 409);
    let (code, e) = app
        .post_json("/api/delete_dataset", json!({"id": "nope"}))
        .await;
    assert_eq!((code, e["field"].as_str()), (400, Some("id")), "{e}");
    let (_, p1) = app.post_json("/api/dataset_page", json!({})).await;
    assert_eq!(p1["total"], 5);

    // A 30,000-bar dataset charts in at most ~2,000 points, its spike kept.
    let big = import(&app, "big", csv(30_000, 12_345)).await;
    let (code, chart) = app
        .post_json("/api/dataset_chart", json!({"id": big}))
        .await;
    assert_eq!(code, 200);
    let points = chart["points"].as_array().unwrap();
    assert!(points.len() <= 2_002, "{}", points.len());
    assert!(points.iter().any(|p| p["equity"] == 500.0), "the spike");
    assert_eq!(chart["info"]["bars"], 30_000);
    // The page renders on the server with the chart.
    let page = app.get(&format!("/datasets/{big}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"data-testid="price-chart""#),
        "{}",
        &page.body[..500.min(page.body.len())]
    );
    assert!(page.body.contains("30,000"));
}

/// The migration's SQL packer (used to convert datasets stored as arrays, and by anyone writing
/// a dataset with SQL) builds exactly the bytes the store writes and reads.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_sql_packer_matches_the_store(pool: PgPool) {
    let series = server::engine::sample_series(300, 9);
    let store = DatasetStore::new(pool.clone());
    let info = store.insert("packed", None, &series).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT packed FROM datasets WHERE id = $1")
        .bind(info.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let built: Vec<u8> = sqlx::query_scalar("SELECT runboard_pack_bars($1, $2, $3, $4, $5, $6)")
        .bind(&series.ts)
        .bind(&series.open)
        .bind(&series.high)
        .bind(&series.low)
        .bind(&series.close)
        .bind(&series.volume)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(built, stored);
    assert_eq!(store.load(info.id).await.unwrap(), series);
}
