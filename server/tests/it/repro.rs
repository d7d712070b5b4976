//! Comparing and reproducing runs (issue 11, §4 and §5), over the real router and Postgres:
//! the jobs list's research context, the recorded program version and dataset hash, "Run
//! again", the JSON/CSV downloads, and the comparison's server function and page.

use app::model::JobState;
use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use server::datasets::{content_hash, DatasetStore, SAMPLE_DATASET_ID, SAMPLE_DATASET_NAME};
use server::jobs::store::PROGRAM_VERSION;
use server::web::Security;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// The app, with the built-in sample dataset stored.
async fn app(pool: PgPool) -> TestApp {
    app_with(pool, AppOptions::default()).await
}

async fn app_with(pool: PgPool, options: AppOptions) -> TestApp {
    add_sample(&pool).await;
    TestApp::spawn_with(pool, options).await
}

fn ds() -> String {
    SAMPLE_DATASET_ID.to_string()
}

fn backtest() -> Value {
    json!({"kind": "backtest", "dataset_id": ds(), "strategy": "sma_cross",
           "params": {"n1": 10, "n2": 30}, "cash": 5000})
}

fn optimize() -> Value {
    json!({"kind": "optimize", "dataset_id": ds(), "strategy": "sma_cross",
           "grid": {"n1": {"range": {"start": 5, "stop": 20, "step": 5}},
                    "n2": {"range": {"start": 30, "stop": 60, "step": 10}}},
           "metric": "sharpe"})
}

fn walk_forward() -> Value {
    json!({"kind": "walk_forward", "dataset_id": ds(), "strategy": "sma_cross",
           "grid": {"n1": {"list": [5, 10, 20]}, "n2": {"list": [40]}}, "folds": 3})
}

fn train() -> Value {
    json!({"kind": "train", "dataset_id": ds(), "lags": 3, "epochs": 20})
}

/// Submits every request, runs them all with a worker pool and returns their ids in order.
async fn run_all(app: &TestApp, requests: Vec<Value>) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for r in requests {
        ids.push(app.submit(r).await);
    }
    let worker = app.worker();
    for id in &ids {
        let status = app.wait_terminal(*id).await;
        assert_eq!(status.state, JobState::Succeeded, "{status:?}");
    }
    worker.stop().await;
    ids
}

async fn result_of(app: &TestApp, id: Uuid) -> Value {
    let (code, r) = app.post_json("/api/job_result", json!({"id": id})).await;
    assert_eq!(code, 200, "{r}");
    r["result"].clone()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_jobs_list_carries_research_context_not_results(pool: PgPool) {
    let app = app(pool).await;
    let ids = run_all(&app, vec![backtest(), optimize(), walk_forward(), train()]).await;
    let queued = app
        .submit(json!({"kind": "demo", "steps": 3, "step_ms": 0}))
        .await;

    let (code, list) = app
        .post_json("/api/list_jobs", json!({"per_page": 10}))
        .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["total"], 5);
    let text = list.to_string();
    // Only a few values of each result leave the database.
    assert!(text.len() < 6_000, "{} bytes: {text}", text.len());
    for whole in [
        "\"equity\":",
        "\"trades\":",
        "\"top\":",
        "\"folds\":",
        "\"epochs\":[",
    ] {
        assert!(!text.contains(whole), "{whole} in {text}");
    }
    let context = |id: Uuid| -> Value {
        list["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id.to_string())
            .unwrap_or_else(|| panic!("{id} listed"))["context"]
            .clone()
    };
    let figure = |c: &Value, name: &str| -> Value {
        c["best"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {c}"))["value"]
            .clone()
    };

    let bt = context(ids[0]);
    assert_eq!(bt["strategy"], "sma_cross");
    assert_eq!(bt["dataset"], SAMPLE_DATASET_NAME);
    assert_eq!(bt["params"], json!({"n1": 10.0, "n2": 30.0}));
    let bt_result = result_of(&app, ids[0]).await;
    assert_eq!(figure(&bt, "sharpe"), bt_result["stats"]["sharpe"]);
    assert_eq!(figure(&bt, "return_pct"), bt_result["stats"]["return_pct"]);

    let opt = context(ids[1]);
    assert_eq!(
        opt["grid"],
        json!({"n1": {"start": 5.0, "stop": 20.0, "step": 5.0},
               "n2": {"start": 30.0, "stop": 60.0, "step": 10.0}})
    );
    let opt_result = result_of(&app, ids[1]).await;
    assert_eq!(opt["best"][0]["name"], "best_sharpe");
    assert_eq!(
        figure(&opt, "best_sharpe"),
        opt_result["best_stats"]["sharpe"]
    );
    assert!(figure(&opt, "best_sharpe").is_number(), "{opt}");

    let wf = context(ids[2]);
    assert_eq!(
        wf["grid"],
        json!({"n1": {"count": 3, "first": 5.0, "last": 20.0},
               "n2": {"count": 1, "first": 40.0, "last": 40.0}})
    );
    let wf_result = result_of(&app, ids[2]).await;
    assert_eq!(figure(&wf, "oos_return_pct"), wf_result["oos_return_pct"]);

    let tr = context(ids[3]);
    assert_eq!(tr["params"], json!({"lags": 3, "epochs": 20}));
    assert!(tr.get("strategy").is_none(), "{tr}");
    let tr_result = result_of(&app, ids[3]).await;
    assert_eq!(figure(&tr, "val_accuracy"), tr_result["val_accuracy"]);

    // A job that has not succeeded has a context but no figures.
    let demo = context(queued);
    assert_eq!(demo, json!({"params": {"steps": 3}}));

    // Pagination as before: one per page, newest first.
    let (_, first) = app
        .post_json("/api/list_jobs", json!({"per_page": 1, "page": 1}))
        .await;
    assert_eq!(first["jobs"][0]["id"], queued.to_string());
    assert_eq!(first["total"], 5);
    // A single job's status carries no context.
    let (_, status) = app
        .post_json("/api/job_status", json!({"id": ids[0]}))
        .await;
    assert!(status.get("context").is_none(), "{status}");

    // The server-rendered list shows it.
    let page = app.oneshot(get("/jobs", &[])).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("n1 5..20/5, n2 30..60/10"),
        "grid summary"
    );
    assert!(page.body.contains("n1 = 10, n2 = 30"), "backtest params");
    assert!(
        page.body.contains("Best Sharpe Ratio"),
        "the optimization's figure"
    );
    assert!(page.body.contains("OOS return"));
    assert!(page.body.contains("Val. accuracy"));
    assert!(page.body.contains(r#"name="ids""#), "compare checkboxes");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn program_version_and_dataset_hash_are_recorded(pool: PgPool) {
    let app = app(pool.clone()).await;
    let datasets = DatasetStore::new(pool.clone());
    let bars = datasets.load(SAMPLE_DATASET_ID).await.unwrap();
    let expected_hash = content_hash(&bars);
    assert_eq!(expected_hash.len(), 64);

    let research = app.submit(backtest()).await;
    let demo = app
        .submit(json!({"kind": "demo", "steps": 1, "step_ms": 0}))
        .await;
    let row = |id: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (Option<String>, Option<String>)>(
                "SELECT program_version, dataset_hash FROM jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        row(research).await,
        (
            Some(PROGRAM_VERSION.to_string()),
            Some(expected_hash.clone())
        )
    );
    assert_eq!(row(demo).await, (Some(PROGRAM_VERSION.to_string()), None));
    // `0.1.0` or `0.1.0 (abc123def456)`.
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        PROGRAM_VERSION == version
            || (PROGRAM_VERSION.starts_with(&format!("{version} ("))
                && PROGRAM_VERSION.len() == version.len() + 15),
        "{PROGRAM_VERSION}"
    );

    // The API hands out the record with the request, ready to submit again.
    let (code, repro) = app
        .post_json("/api/job_repro", json!({"id": research}))
        .await;
    assert_eq!(code, 200, "{repro}");
    assert_eq!(repro["program_version"], PROGRAM_VERSION);
    assert_eq!(repro["dataset_hash"], expected_hash.as_str());
    assert_eq!(repro["dataset_name"], SAMPLE_DATASET_NAME);
    assert_eq!(repro["request"]["kind"], "backtest");
    assert_eq!(repro["request"]["params"], json!({"n1": 10.0, "n2": 30.0}));
    assert_eq!(repro["request"]["cash"], 5000.0);
    let (code, _) = app
        .post_json("/api/job_repro", json!({"id": Uuid::new_v4()}))
        .await;
    assert_eq!(code, 404);

    // The job page shows the line.
    let page = app.oneshot(get(&format!("/jobs/{research}"), &[])).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Reproducibility"), "{}", page.body);
    assert!(page.body.contains(&expected_hash[..12]));
    assert!(page.body.contains("Request (JSON)"));

    // A dataset stored before hashes were kept gets one at its next job, computed from its bars.
    sqlx::query("UPDATE datasets SET content_hash = NULL")
        .execute(&pool)
        .await
        .unwrap();
    let again = app.submit(backtest()).await;
    assert_eq!(row(again).await.1, Some(expected_hash.clone()));
    let stored: Option<String> =
        sqlx::query_scalar("SELECT content_hash FROM datasets WHERE id = $1")
            .bind(SAMPLE_DATASET_ID)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, Some(expected_hash.clone()));

    // An import is hashed from its bars only: the same bars under another name hash the same,
    // other bars differently.
    let csv = "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n\
               2024-01-03,10.5,12,10,11,200\n2024-01-04,11,11.5,10.5,11.2,150\n";
    let import = |name: &str, csv: String| {
        let app = &app;
        let name = name.to_string();
        async move {
            let (code, info) = app
                .post_json("/api/import_dataset", json!({"name": name, "csv": csv}))
                .await;
            assert_eq!(code, 200, "{info}");
            let id: Uuid = info["id"].as_str().unwrap().parse().unwrap();
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT content_hash FROM datasets WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .expect("hashed at import")
        }
    };
    let a = import("first", csv.to_string()).await;
    let b = import("second", csv.to_string()).await;
    let c = import("third", csv.replace("11.2", "11.3")).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a
        .chars()
        .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn run_again_queues_an_equal_request_through_the_normal_path(pool: PgPool) {
    let app = app(pool.clone()).await;
    let original = app.submit(optimize()).await;
    let (code, status) = app
        .post_json("/api/rerun_job", json!({"id": original}))
        .await;
    assert_eq!(code, 200, "{status}");
    let copy: Uuid = status["id"].as_str().unwrap().parse().unwrap();
    assert_ne!(copy, original);
    assert_eq!(status["state"], "QUEUED");
    assert_eq!(status["kind"], "optimize");
    let args = |id: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String, Value, Option<String>, Option<String>)>(
                "SELECT kind, args, program_version, dataset_hash FROM jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(args(copy).await, args(original).await);

    // Errors as for the other job calls.
    let (code, err) = app.post_json("/api/rerun_job", json!({"id": "nope"})).await;
    assert_eq!((code, err["kind"].as_str()), (400, Some("invalid_job_id")));
    let unknown = Uuid::new_v4();
    let (code, err) = app
        .post_json("/api/rerun_job", json!({"id": unknown}))
        .await;
    assert_eq!(
        (code, err),
        (
            404,
            json!({"kind": "no_such_job", "id": unknown.to_string()})
        )
    );
    // A stored request that no longer validates is refused, not queued.
    update_job(&pool, original, "args = '{\"steps\": 0}'").await;
    let before = job_count(&pool).await;
    let (code, err) = app
        .post_json("/api/rerun_job", json!({"id": original}))
        .await;
    assert_eq!(code, 409, "{err}");
    assert_eq!(job_count(&pool).await, before);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn run_again_respects_the_active_job_cap_and_validation(pool: PgPool) {
    let app = app_with(
        pool.clone(),
        AppOptions {
            max_active_jobs: 1,
            ..AppOptions::default()
        },
    )
    .await;
    let first = app
        .submit(json!({"kind": "demo", "steps": 1, "step_ms": 0}))
        .await;
    let (code, err) = app.post_json("/api/rerun_job", json!({"id": first})).await;
    assert_eq!(code, 429, "{err}");
    assert_eq!(job_count(&pool).await, 1);
    app.cancel(first).await;
    // A test hook in the stored request is refused as it would be on submit.
    update_job(&pool, first, "args = args || '{\"fail_once_at\": 1}'").await;
    let (code, err) = app.post_json("/api/rerun_job", json!({"id": first})).await;
    assert_eq!(code, 400, "{err}");
    assert_eq!(err["field"], "request.fail_once_at");
    assert_eq!(job_count(&pool).await, 1);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn results_download_as_json_and_csv(pool: PgPool) {
    let app = app(pool.clone()).await;
    let ids = run_all(&app, vec![backtest(), optimize(), walk_forward(), train()]).await;
    let bt = ids[0];

    let answer = app
        .oneshot(get(&format!("/api/jobs/{bt}/result.json"), &[]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["content-type"], "application/json");
    let disposition = answer.headers["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"runboard-backtest-{}.json\"",
            &bt.simple().to_string()[..8]
        )
    );
    assert_eq!(answer.headers["cache-control"], "no-store");
    let export = answer.json();
    assert_eq!(export["result"], result_of(&app, bt).await);
    assert_eq!(export["state"], "SUCCEEDED");
    let repro = &export["reproducibility"];
    assert_eq!(repro["program_version"], PROGRAM_VERSION);
    assert_eq!(repro["dataset_hash"].as_str().unwrap().len(), 64);
    assert_eq!(repro["request"]["kind"], "backtest");
    assert_eq!(repro["request"]["strategy"], "sma_cross");

    // CSV: the backtest's trades, one row each (the open one last).
    let result = result_of(&app, bt).await;
    let trades =
        result["trades"].as_array().unwrap().len() + usize::from(!result["open_trade"].is_null());
    assert!(trades > 0, "the sample trades");
    let answer = app
        .oneshot(get(&format!("/api/jobs/{bt}/result.csv"), &[]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["content-type"], "text/csv; charset=utf-8");
    assert!(answer.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"runboard-backtest-"));
    let lines: Vec<&str> = answer
        .body
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[0].starts_with("n,side,size,entry_bar,exit_bar,entry_time"));
    assert_eq!(lines.len(), 1 + trades);
    let first_pnl = result["trades"][0]["pnl"].as_f64().unwrap();
    assert_eq!(
        lines[1].split(',').nth(9).unwrap().parse::<f64>().unwrap(),
        first_pnl
    );

    // The other kinds: top runs, folds, epochs.
    let csv = |id: Uuid| {
        let app = &app;
        async move {
            let answer = app
                .oneshot(get(&format!("/api/jobs/{id}/result.csv"), &[]))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body
        }
    };
    let opt = csv(ids[1]).await;
    let opt_lines: Vec<&str> = opt.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(opt_lines[0].starts_with("rank,n1,n2,metric_sharpe,return_pct,sharpe"));
    let top = result_of(&app, ids[1]).await["top"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(opt_lines.len(), 1 + top);
    assert!(opt_lines[1].starts_with("1,"));
    let wf = csv(ids[2]).await;
    assert!(wf.starts_with("fold,in_sample_start,in_sample_end,out_of_sample_start"));
    assert_eq!(wf.split("\r\n").filter(|l| !l.is_empty()).count(), 1 + 3);
    let tr = csv(ids[3]).await;
    assert!(tr.starts_with("epoch,train_loss,val_loss\r\n1,"));
    assert_eq!(tr.split("\r\n").filter(|l| !l.is_empty()).count(), 1 + 20);

    // 404 unknown, 400 malformed, 409 not finished: the API's JSON errors.
    let unknown = Uuid::new_v4();
    for ext in ["json", "csv"] {
        let answer = app
            .oneshot(get(&format!("/api/jobs/{unknown}/result.{ext}"), &[]))
            .await;
        assert_eq!(answer.status, 404, "{}", answer.body);
        assert_eq!(
            answer.json(),
            json!({"kind": "no_such_job", "id": unknown.to_string()})
        );
        let answer = app
            .oneshot(get(&format!("/api/jobs/nope/result.{ext}"), &[]))
            .await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json()["kind"], "invalid_job_id");
    }
    let queued = app
        .submit(json!({"kind": "demo", "steps": 1, "step_ms": 0}))
        .await;
    for ext in ["json", "csv"] {
        let answer = app
            .oneshot(get(&format!("/api/jobs/{queued}/result.{ext}"), &[]))
            .await;
        assert_eq!(answer.status, 409, "{}", answer.body);
        assert_eq!(answer.json()["kind"], "conflict");
        assert!(answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("QUEUED"));
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn downloads_need_the_same_credentials_as_other_reads(pool: PgPool) {
    const TOKEN: &str = "test-token-0123456789abcdef";
    const READ_TOKEN: &str = "read-token-0123456789abcdef";
    let app = app_with(
        pool.clone(),
        AppOptions {
            security: Security {
                token: Some(TOKEN.into()),
                read_token: Some(READ_TOKEN.into()),
                allowed_origins: vec![],
                max_upload_bytes: None,
            },
            ..AppOptions::default()
        },
    )
    .await;
    // Queue and run a backtest straight through the store (the API needs the token).
    let store = app.store.clone();
    let job = server::jobs::store::NewJob::new(
        app::model::JobKind::Backtest,
        json!({"dataset_id": ds(), "strategy": "sma_cross", "params": {"n1": 10, "n2": 30}}),
    );
    let id = store.enqueue(job).await.unwrap().id;
    let worker = app.worker();
    wait_for_state(&store, id, JobState::Succeeded).await;
    worker.stop().await;

    let path = format!("/api/jobs/{id}/result.csv");
    let answer = app.oneshot(get(&path, &[])).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.json()["kind"], "unauthorized");
    let wrong = app
        .oneshot(get(
            &path,
            &[("authorization", "Bearer not-the-token-at-all")],
        ))
        .await;
    assert_eq!(wrong.status, 401);
    for token in [TOKEN, READ_TOKEN] {
        let answer = app
            .oneshot(get(&path, &[("authorization", &format!("Bearer {token}"))]))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.starts_with("n,side,"));
    }
    // The read token may compare and read the record, not run again.
    let read = format!("Bearer {READ_TOKEN}");
    for (path, body, status) in [
        ("/api/job_repro", json!({"id": id}), 200),
        (
            "/api/compare_jobs",
            json!({"ids": format!("{id},{id}")}),
            400,
        ),
        ("/api/rerun_job", json!({"id": id}), 403),
    ] {
        let request = Request::post(path)
            .header("host", "127.0.0.1:3000")
            .header("content-type", "application/json")
            .header("authorization", &read)
            .body(Body::from(body.to_string()))
            .unwrap();
        let answer = app.oneshot(request).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn compare_takes_two_to_four_known_jobs_and_names_the_field(pool: PgPool) {
    let app = app(pool.clone()).await;
    let mut cheap = backtest();
    cheap["cash"] = json!(20_000);
    let ids = run_all(&app, vec![backtest(), cheap, walk_forward()]).await;
    let compare = |ids: String| {
        let app = &app;
        async move {
            app.post_json("/api/compare_jobs", json!({ "ids": ids }))
                .await
        }
    };

    let (code, c) = compare(format!("{},{}", ids[0], ids[1])).await;
    assert_eq!(code, 200, "{c}");
    let columns = c["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 2);
    assert_eq!(columns[0]["id"], ids[0].to_string());
    assert_eq!(columns[1]["id"], ids[1].to_string());
    for col in columns {
        assert_eq!(col["kind"], "backtest");
        assert!(col["stats"]["sharpe"].is_number(), "{col}");
        let curve = col["curve"].as_array().unwrap();
        assert!(curve.len() > 10 && curve.len() <= 600, "{}", curve.len());
        assert_eq!(curve[0][1], 100.0, "normalized to start at 100");
        assert_eq!(col["context"]["dataset"], SAMPLE_DATASET_NAME);
    }
    // Different cash: each curve ends at its final equity over its own cash.
    for (col, cash) in columns.iter().zip([5_000.0, 20_000.0]) {
        let last = col["curve"].as_array().unwrap().last().unwrap()[1]
            .as_f64()
            .unwrap();
        let final_equity = col["stats"]["equity_final"].as_f64().unwrap();
        assert!(
            (last - final_equity / cash * 100.0).abs() < 1e-9,
            "{last} vs {final_equity}"
        );
    }
    // Three with a walk-forward (stitched out-of-sample statistics), repeated ids in the URL
    // style work as well.
    let (code, c) = compare(format!(" {}, {} ,{},", ids[0], ids[1], ids[2])).await;
    assert_eq!(code, 200, "{c}");
    let wf = &c["columns"][2];
    assert_eq!(wf["kind"], "walk_forward");
    assert!(wf["stats"]["return_pct"].is_number(), "{wf}");
    assert!(!wf["curve"].as_array().unwrap().is_empty());

    // One, five, malformed, unknown, twice: 400 naming `ids`; nothing about the jobs leaks.
    let unknown = Uuid::new_v4();
    let five = vec![ids[0].to_string(); 5].join(",");
    for (ids, says) in [
        (ids[0].to_string(), "at least 2".to_string()),
        (five, "at most 4".to_string()),
        (
            format!("{},not-a-uuid", ids[0]),
            "not a valid job id".to_string(),
        ),
        (
            format!("{},{unknown}", ids[0]),
            format!("no such job: {unknown}"),
        ),
        (format!("{},{}", ids[1], ids[1]), "listed twice".to_string()),
        (String::new(), "got 0".to_string()),
    ] {
        let (code, err) = compare(ids.clone()).await;
        assert_eq!(err["kind"], "invalid_request", "{ids}");
        assert_refused((code, &err), 400, ("field", "ids"), &says);
    }
    let (code, err) = app.post_json("/api/compare_jobs", json!({})).await;
    assert_eq!(code, 400, "{err}");

    // The page: two columns and one chart with two curves; a bad list is a 400 page.
    let page = app
        .oneshot(get(&format!("/compare?ids={},{}", ids[0], ids[2]), &[]))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches(r#"data-testid="compare-column""#).count(),
        2
    );
    assert_eq!(page.body.matches("data-series=").count(), 2, "two curves");
    let form_style = app
        .oneshot(get(&format!("/compare?ids={}&ids={}", ids[0], ids[1]), &[]))
        .await;
    assert_eq!(form_style.status, 200);
    assert_eq!(
        form_style
            .body
            .matches(r#"data-testid="compare-column""#)
            .count(),
        2
    );
    let bad = app
        .oneshot(get(&format!("/compare?ids={}", ids[0]), &[]))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("pick at least 2 jobs"), "{}", bad.body);
}
