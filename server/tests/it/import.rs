//! Streamed CSV imports (`POST /api/datasets`) as `import` jobs, and the `runboard` terminal
//! client against the real server: good files (plain, gzip, in small chunks) become datasets;
//! every bad upload gets a clear 4xx naming line, column or limit, its job ends FAILED, and
//! nothing is stored.

use std::io::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::Request;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{assert_refused, eventually, job_count, AppOptions, TestApp};
use app::model::{JobState, JobStatus};
use server::jobs::joblog;

/// `rows` one-minute bars as CSV (header first), deterministic.
fn minute_csv(rows: usize) -> String {
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    let mut price = 100.0f64;
    for i in 0..rows {
        let open = price;
        price *= 1.0 + 0.001 * (((i * 7919) % 13) as f64 - 6.0) / 6.0;
        let (hi, lo) = (open.max(price) * 1.0005, open.min(price) * 0.9995);
        csv.push_str(&format!(
            "{},{open:.4},{hi:.4},{lo:.4},{price:.4},{}\n",
            1_700_000_000 + i * 60,
            100 + i % 50
        ));
    }
    csv
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    e.finish().unwrap()
}

async fn dataset_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM datasets")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn import_jobs(pool: &PgPool) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT state, error FROM jobs WHERE kind = 'import' ORDER BY created_at")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Checks an upload was refused with status `expected` and its first error's message holds
/// `needle`.
fn refused_with(code: u16, e: &Value, expected: u16, needle: &str) {
    assert_eq!(code, expected, "{e}");
    let message = e["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{needle}: {e}");
}

/// An upload through the real router, the body streamed in `chunks` (an `Err` item cuts it off).
async fn upload(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
    chunks: Vec<Result<Vec<u8>, &'static str>>,
) -> (u16, Value) {
    let mut request = Request::post(format!("/api/datasets{query}"))
        .header("host", "127.0.0.1")
        .header("content-type", "text/csv");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let stream = futures_util_stream(chunks);
    let answer = app
        .oneshot(request.body(Body::from_stream(stream)).unwrap())
        .await;
    (answer.status, answer.json())
}

fn futures_util_stream(
    chunks: Vec<Result<Vec<u8>, &'static str>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(chunks.into_iter().map(|c| match c {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        Err(why) => Err(std::io::Error::other(why)),
    }))
}

/// `runboard ARGS…` against the app, on a blocking thread; its exit status.
async fn runboard(app: &TestApp, args: impl IntoIterator<Item = impl AsRef<str>>) -> i32 {
    let mut argv = vec![
        "runboard".to_string(),
        "--server".to_string(),
        format!("http://{}", app.address),
    ];
    argv.extend(args.into_iter().map(|a| a.as_ref().to_string()));
    tokio::task::spawn_blocking(move || runboard_cli::main_with(argv))
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_streamed_csv_becomes_a_dataset_through_an_import_job(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let before = dataset_count(&pool).await;
    // 40,000 rows, sent in 7,001-byte chunks (rows split across chunks).
    let csv = minute_csv(40_000).into_bytes();
    let chunks = csv.chunks(7_001).map(|c| Ok(c.to_vec())).collect();
    let (code, status) = upload(&app, "?name=ES%201m", &[], chunks).await;
    assert_eq!(code, 200, "{status}");
    let status: JobStatus = serde_json::from_value(status).unwrap();
    assert_eq!(status.state, JobState::Succeeded);
    assert_eq!(status.kind.as_str(), "import");
    assert_eq!(status.progress, Some(1.0));
    assert_eq!(
        status.progress_message.as_deref(),
        Some(format!("Row 40,000 · {:.1} MB read", csv.len() as f64 / 1e6).as_str())
    );
    let (_, result) = app
        .post_json("/api/job_result", json!({"id": status.id}))
        .await;
    let info = &result["result"];
    assert_eq!(info["name"], "ES 1m");
    assert_eq!(info["bars"], 40_000);
    assert_eq!(info["bytes"], csv.len());
    assert_eq!(info["start"], 1_700_000_000);
    assert_eq!(dataset_count(&pool).await, before + 1);
    let log = joblog::tail(&app.store.log_file(status.id), 10)
        .unwrap()
        .join("\n");
    assert!(log.contains("imported 40000 rows"), "{log}");

    // The same file gzip-compressed, under another name; the dataset is usable at once.
    let packed = gzip(&csv);
    let (code, status) = upload(
        &app,
        "?name=ES%201m%20gz",
        &[("content-encoding", "gzip")],
        vec![
            Ok(packed[..packed.len() / 2].to_vec()),
            Ok(packed[packed.len() / 2..].to_vec()),
        ],
    )
    .await;
    assert_eq!(code, 200, "{status}");
    let (_, result) = app
        .post_json("/api/job_result", json!({"id": status["id"]}))
        .await;
    assert_eq!(result["result"]["bars"], 40_000);
    assert_eq!(result["result"]["bytes"], packed.len());
    let dataset = result["result"]["id"].as_str().unwrap().to_string();
    let worker = app.worker();
    let id = app
        .submit(
            json!({"kind": "backtest", "dataset_id": dataset, "strategy": "sma_cross",
                       "params": {"n1": 10, "n2": 50}}),
        )
        .await;
    assert_eq!(app.wait_terminal(id).await.state, JobState::Succeeded);
    worker.stop().await;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_uploads_are_refused_naming_the_problem_and_nothing_is_stored(pool: PgPool) {
    let app = TestApp::spawn_with(
        pool.clone(),
        AppOptions {
            security: server::web::Security {
                max_upload_bytes: Some(100_000),
                ..server::web::Security::default()
            },
            ..AppOptions::default()
        },
    )
    .await;
    let before = dataset_count(&pool).await;
    let good = minute_csv(50).into_bytes();
    let text = |body: &str| vec![Ok(body.as_bytes().to_vec())];
    let gzipped: &[(&str, &str)] = &[("content-encoding", "gzip")];
    let packed = gzip(&good);

    // Refused while reading, as invalid CSV: (name, headers, body, what the first error says,
    // and on which line).
    let cases = [
        // No header row: the first line is data.
        (
            "a",
            &[][..],
            text("2024-01-01,1,1,1,1\n2024-01-02,1,1,1,1\n"),
            "no date/time column",
            Some(1),
        ),
        (
            "b",
            &[],
            text("date,open,high,low,close\n2024-01-01;1;1;1;1\n"),
            "mixed delimiters",
            Some(2),
        ),
        ("c", &[], vec![], "the file is empty", None),
        // A gzip body that is not gzip, and one cut short.
        ("d", gzipped, vec![Ok(good.clone())], "not gzip data", None),
        (
            "e",
            gzipped,
            vec![Ok(packed[..packed.len() - 20].to_vec())],
            "ends early",
            None,
        ),
        // A body cut off by the network, mid-row.
        (
            "f",
            &[],
            vec![Ok(good[..1_000].to_vec()), Err("connection reset")],
            "the upload was cut off after 1000 bytes",
            None,
        ),
    ];
    for (name, headers, body, says, line) in cases {
        let (code, e) = upload(&app, &format!("?name={name}"), headers, body).await;
        refused_with(code, &e, 400, says);
        assert_eq!(e["kind"], "invalid_csv", "{name}: {e}");
        if let Some(line) = line {
            assert_eq!(e["errors"][0]["line"], line, "{name}: {e}");
        }
    }
    // Over the limit: streamed without a length (found while reading) and announced by one.
    let big = minute_csv(5_000).into_bytes();
    let chunks = big.chunks(10_000).map(|c| Ok(c.to_vec())).collect();
    let (code, e) = upload(&app, "?name=g", &[], chunks).await;
    let too_large = ("kind", "payload_too_large");
    assert_refused((code, &e), 413, too_large, "limit of 100000 bytes");
    let announced = [("content-length", "5000000")];
    let (code, e) = upload(&app, "?name=h", &announced, vec![Ok(big.clone())]).await;
    assert_refused((code, &e), 413, too_large, "limit of 100000 bytes");
    // Not CSV, an unknown encoding, no name, a taken name.
    let brotli = [("content-encoding", "br")];
    let (code, e) = upload(&app, "?name=i", &brotli, vec![Ok(good.clone())]).await;
    assert_refused(
        (code, &e),
        415,
        ("kind", "unsupported_media_type"),
        "\"br\"",
    );
    let (code, e) = upload(&app, "", &[], vec![Ok(good.clone())]).await;
    assert_refused(
        (code, &e),
        400,
        ("field", "name"),
        "give the dataset a name",
    );
    let raw = app
        .oneshot(
            Request::post("/api/datasets?name=j")
                .header("host", "127.0.0.1")
                .header("content-type", "text/plain")
                .body(Body::from(good.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(raw.status, 415);

    // Nothing stored; every import that started ended FAILED with its reason.
    assert_eq!(dataset_count(&pool).await, before);
    let jobs = import_jobs(&pool).await;
    assert_eq!(jobs.len(), 7, "{jobs:?}");
    for (state, error) in &jobs {
        assert_eq!(state, "FAILED");
        assert!(
            error.as_deref().unwrap().ends_with("nothing was stored"),
            "{error:?}"
        );
    }

    // A name already used (ignoring case) is refused before the body is read: no job.
    let (code, _) = upload(&app, "?name=taken", &[], vec![Ok(good.clone())]).await;
    assert_eq!(code, 200);
    let (code, e) = upload(&app, "?name=TAKEN", &[], vec![Ok(good.clone())]).await;
    assert_refused((code, &e), 409, ("kind", "conflict"), "already exists");
    assert_eq!(dataset_count(&pool).await, before + 1);
    assert_eq!(import_jobs(&pool).await.len(), 8);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_terminal_client_imports_submits_watches_and_cancels(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let dir = crate::helpers::temp_dir("cli");
    let file = dir.join("bars.csv.gz");
    std::fs::write(&file, gzip(minute_csv(3_000).as_bytes())).unwrap();
    let path = file.to_string_lossy().to_string();

    assert_eq!(
        runboard(&app, &["import", &path, "--name", "cli bars"]).await,
        0
    );
    let (_, list) = app.post_json("/api/list_datasets", json!({})).await;
    let dataset = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "cli bars")
        .expect("imported")
        .clone();
    assert_eq!(dataset["bars"], 3_000);
    // The same name again: refused, exit status 1, nothing new.
    assert_eq!(
        runboard(&app, &["import", &path, "--name", "cli bars"]).await,
        1
    );

    // submit --wait follows the job to its end: exit 0 for SUCCEEDED.
    let worker = app.worker();
    let id = dataset["id"].as_str().unwrap();
    let submit = format!(
        "submit optimize --dataset {id} --strategy sma_cross --range n1=5:20:5 \
         --range n2=30:60:10 --metric sharpe --wait"
    );
    let code = runboard(&app, submit.split_whitespace()).await;
    assert_eq!(code, 0);
    let (_, jobs) = app
        .post_json("/api/list_jobs", json!({"kind": "optimize"}))
        .await;
    assert_eq!(jobs["jobs"][0]["state"], "SUCCEEDED");
    let optimize = jobs["jobs"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(runboard(&app, &["result", &optimize]).await, 0);
    assert_eq!(runboard(&app, &["result", &optimize, "--csv"]).await, 0);
    assert_eq!(runboard(&app, &["jobs", "--state", "SUCCEEDED"]).await, 0);

    // A cancelled job: watch exits 3.
    let demo = app
        .submit(json!({"kind": "demo", "steps": 600, "step_ms": 50}))
        .await;
    eventually(Duration::from_secs(15), "the demo runs", || async {
        (app.status(demo).await.state == JobState::Running).then_some(())
    })
    .await;
    assert_eq!(runboard(&app, &["cancel", &demo.to_string()]).await, 0);
    assert_eq!(runboard(&app, &["watch", &demo.to_string()]).await, 3);
    worker.stop().await;

    // Bad input: a clear error, exit 1, no job.
    let before = job_count(&pool).await;
    assert_eq!(
        runboard(&app, &["submit", "optimize", "--range", "n1=1:2"]).await,
        1
    );
    assert_eq!(
        runboard(
            &app,
            format!("submit optimize --dataset {id} --strategy sma_cross").split(' ')
        )
        .await,
        1,
        "the server refuses an empty grid"
    );
    let after = job_count(&pool).await;
    assert_eq!(before, after);
}
