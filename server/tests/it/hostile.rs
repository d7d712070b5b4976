//! The bad-input suite: hostile requests, each with the status and message it must get. None
//! may panic, answer 500, or store anything; the server answers normally afterwards. The
//! README's "Hostile input → answer" table lists the same cases.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

/// The built-in sample dataset (2,000 bars).
const SAMPLE: &str = "5a3b1e00-0000-4000-8000-000000000001";

/// One hostile request and what it must get back.
struct Case {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    status: u16,
    /// The error's `kind` (JSON answers) or `None` for pages.
    kind: Option<&'static str>,
    /// The error's `field`, when it names one.
    field: Option<&'static str>,
    /// A piece of the message (or page) that must be there.
    needle: &'static str,
}

fn api(what: &'static str, path: &'static str, body: Value, status: u16) -> Case {
    Case {
        what,
        method: "POST",
        path,
        body: body.to_string(),
        headers: vec![],
        status,
        kind: Some("invalid_request"),
        field: None,
        needle: "",
    }
}

impl Case {
    fn kind(mut self, kind: &'static str) -> Case {
        self.kind = Some(kind);
        self
    }
    fn field(mut self, field: &'static str) -> Case {
        self.field = Some(field);
        self
    }
    fn says(mut self, needle: &'static str) -> Case {
        self.needle = needle;
        self
    }
    fn header(mut self, name: &'static str, value: &'static str) -> Case {
        self.headers.push((name, value));
        self
    }
    fn raw(mut self, body: &str) -> Case {
        self.body = body.to_string();
        self
    }
}

fn submit(what: &'static str, request: Value) -> Case {
    api(what, "/api/submit_job", json!({ "request": request }), 400)
}

fn import(what: &'static str, csv: &str) -> Case {
    api(
        what,
        "/api/import_dataset",
        json!({"name": format!("hostile {what}"), "csv": csv}),
        400,
    )
    .kind("invalid_csv")
}

fn page(what: &'static str, path: &'static str, status: u16, needle: &'static str) -> Case {
    Case {
        what,
        method: "GET",
        path,
        body: String::new(),
        headers: vec![],
        status,
        kind: None,
        field: None,
        needle,
    }
}

const CSV_HEAD: &str = "time,open,high,low,close,volume\n";

fn cases() -> Vec<Case> {
    let backtest = |extra: Value| {
        let mut r = json!({"kind": "backtest", "dataset_id": SAMPLE, "strategy": "sma_cross",
                           "params": {"n1": 10, "n2": 20}});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    let train = |extra: Value| {
        let mut r = json!({"kind": "train", "dataset_id": SAMPLE, "lags": 5, "epochs": 10});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    let walk = |folds: u32, stop: u32| {
        json!({"kind": "walk_forward", "dataset_id": SAMPLE, "strategy": "sma_cross",
               "grid": {"n1": {"range": {"start": 2, "stop": stop, "step": 1}},
                        "n2": {"range": {"start": 2, "stop": stop, "step": 1}}},
               "folds": folds, "mode": "rolling"})
    };
    let huge_csv = format!("{CSV_HEAD}{}", "1,1,1,1,1,1\n".repeat(130_000));
    vec![
        // The door: content types, origins, hosts, bodies.
        submit(
            "a text/plain body (a cross-site 'simple' request)",
            json!({"kind": "demo"}),
        )
        .header("content-type", "text/plain")
        .kind("unsupported_media_type")
        .says("application/json")
        .tap_status(415),
        submit("a form-encoded body", json!({"kind": "demo"}))
            .header("content-type", "application/x-www-form-urlencoded")
            .kind("unsupported_media_type")
            .tap_status(415),
        submit(
            "JSON from another origin",
            json!({"kind": "demo", "steps": 1}),
        )
        .header("origin", "http://evil.example")
        .kind("forbidden")
        .says("http://evil.example")
        .tap_status(403),
        submit(
            "a fetch the browser marks cross-site",
            json!({"kind": "demo", "steps": 1}),
        )
        .header("sec-fetch-site", "cross-site")
        .kind("forbidden")
        .says("cross-site")
        .tap_status(403),
        submit(
            "a DNS-rebinding host name",
            json!({"kind": "demo", "steps": 1}),
        )
        .header("host", "attacker.example:3000")
        .kind("forbidden")
        .says("loopback")
        .tap_status(403),
        api(
            "a body that is not JSON",
            "/api/job_status",
            json!(null),
            400,
        )
        .raw("{not json")
        .field("body"),
        api(
            "a JSON array for a body",
            "/api/job_status",
            json!([1, 2]),
            400,
        )
        .field("body"),
        submit("an unknown job kind", json!({"kind": "teleport"}))
            .field("body")
            .says("teleport"),
        // Ids and pages.
        api(
            "a job id that is not a UUID",
            "/api/job_status",
            json!({"id": "not-a-uuid"}),
            400,
        )
        .kind("invalid_job_id")
        .says("not-a-uuid"),
        api(
            "a 100,000-character job id",
            "/api/job_status",
            json!({"id": "x".repeat(100_000)}),
            400,
        )
        .kind("invalid_job_id")
        .says("xxxxxxxx"),
        api(
            "an unknown job id",
            "/api/cancel_job",
            json!({"id": "00000000-0000-4000-8000-000000000000"}),
            404,
        )
        .kind("no_such_job"),
        api(
            "per_page 5000",
            "/api/list_jobs",
            json!({"per_page": 5000}),
            400,
        )
        .field("per_page")
        .says("1..=200"),
        api(
            "an unknown state filter",
            "/api/list_jobs",
            json!({"state": "DONE"}),
            400,
        )
        .field("state")
        .says("DONE"),
        api(
            "log lines 0",
            "/api/job_log",
            json!({"id": SAMPLE, "lines": 0}),
            400,
        )
        .field("lines"),
        page(
            "/jobs?page=4294967295 (overflowed before)",
            "/jobs?page=4294967295",
            200,
            "Page",
        ),
        page(
            "/jobs/<not a uuid>",
            "/jobs/%3Cscript%3E",
            400,
            "not a valid job id",
        ),
        // The demo job.
        submit("a demo of 0 steps", json!({"kind": "demo", "steps": 0})).field("request.steps"),
        submit(
            "a demo sleeping 100,000 × 10 s (11 days)",
            json!({"kind": "demo", "steps": 100_000, "step_ms": 10_000}),
        )
        .field("request.step_ms")
        .says("1 hour"),
        submit(
            "a demo failure hook without RUNBOARD_TEST_HOOKS",
            json!({"kind": "demo", "steps": 3, "fail_once_at": 2}),
        )
        .field("request.fail_once_at")
        .says("test hooks are disabled"),
        // Free numbers.
        submit("cash 1e300", backtest(json!({"cash": 1e300})))
            .field("request.cash")
            .says("at most 1e12"),
        submit("cash 0", backtest(json!({"cash": 0}))).field("request.cash"),
        submit("cash -5", backtest(json!({"cash": -5}))).field("request.cash"),
        submit("commission 5 (500 %)", backtest(json!({"commission": 5})))
            .field("request.commission")
            .says("0.1"),
        submit(
            "a dataset id that is not a UUID",
            backtest(json!({"dataset_id": "../../etc"})),
        )
        .field("request.dataset_id"),
        submit(
            "an unknown dataset",
            backtest(json!({"dataset_id": "00000000-0000-4000-8000-00000000dead"})),
        )
        .field("request.dataset_id")
        .says("no such dataset"),
        submit(
            "an SMA period of 1,000,000 bars",
            backtest(json!({"params": {"n1": 10, "n2": 1_000_000}})),
        )
        .field("request.params.n2"),
        submit("train l2 1e300", train(json!({"l2": 1e300})))
            .field("request.l2")
            .says("1000"),
        submit(
            "train learning rate 1e9",
            train(json!({"learning_rate": 1e9})),
        )
        .field("request.learning_rate"),
        submit(
            "train validation fraction 1.5",
            train(json!({"validation_fraction": 1.5})),
        )
        .field("request.validation_fraction"),
        submit("train 10^9 epochs", train(json!({"epochs": 1_000_000_000})))
            .field("request.epochs"),
        // Grids and walk-forward budgets.
        submit(
            "an optimization grid of 998 × 998 runs",
            json!({"kind": "optimize", "dataset_id": SAMPLE, "strategy": "sma_cross",
                   "grid": {"n1": {"range": {"start": 2, "stop": 1000, "step": 1}},
                            "n2": {"range": {"start": 2, "stop": 1000, "step": 1}}}}),
        )
        .field("request.grid")
        .says("more than the limit"),
        submit("500 walk-forward folds", walk(500, 20))
            .field("request.folds")
            .says("between 1 and 50"),
        submit(
            "50 folds × a 4,851-run grid (budget 10 × max grid)",
            walk(50, 100),
        )
        .field("request.folds")
        .says("more than the limit"),
        // CSV imports.
        import(
            "a bar at unix time i64::MAX (it once took the server down)",
            &format!("{CSV_HEAD}0,1,1,1,1,1\n9223372036854775807,1,1,1,1,1\n"),
        )
        .says("outside 1900-01-01..2200-01-01"),
        import(
            "a bar in 1899",
            &format!("{CSV_HEAD}1899-12-31,1,1,1,1,1\n1900-01-02,1,1,1,1,1\n"),
        )
        .says("outside 1900-01-01..2200-01-01"),
        import(
            "a UTC offset of +99:00",
            &format!("{CSV_HEAD}2024-01-01T00:00:00+99:00,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n"),
        )
        .says("not a date"),
        import(
            "a negative price",
            &format!("{CSV_HEAD}2024-01-01,1,1,1,1,1\n2024-01-02,-1,1,1,1,1\n"),
        )
        .says("price must be > 0"),
        import("no time column", "open,high,low,close\n1,1,1,1\n2,2,2,2\n").says("date"),
        import("a header only", CSV_HEAD).says("no data rows"),
        api(
            "a 1.5 MB+ CSV",
            "/api/import_dataset",
            json!({"name": "huge", "csv": huge_csv}),
            400,
        )
        .field("csv")
        .says("limit"),
        api(
            "an empty dataset name",
            "/api/import_dataset",
            json!({"name": "   ", "csv": CSV_HEAD}),
            400,
        )
        .field("name"),
    ]
}

trait TapStatus {
    fn tap_status(self, status: u16) -> Self;
}

impl TapStatus for Case {
    fn tap_status(mut self, status: u16) -> Case {
        self.status = status;
        self
    }
}

/// The case's request, headers exactly as given, to the router in process (a real socket
/// would make the `Host` header and the 1.5 MB body a matter of timing).
async fn answer(app: &TestApp, case: &Case) -> (u16, String) {
    let mut builder = Request::builder()
        .method(case.method)
        .uri(case.path)
        .header("accept", "application/json");
    if !case.headers.iter().any(|(k, _)| *k == "host") {
        builder = builder.header("host", "127.0.0.1:3000");
    }
    if case.method == "POST" && !case.headers.iter().any(|(k, _)| *k == "content-type") {
        builder = builder.header("content-type", "application/json");
    }
    for (k, v) in &case.headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Body::from(case.body.clone())).unwrap();
    let answer = app.oneshot(request).await;
    (answer.status, answer.body)
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn hostile_inputs_get_clear_answers_and_store_nothing(pool: PgPool) {
    add_sample(&pool).await;
    let app = TestApp::spawn_with(
        pool,
        AppOptions {
            max_grid: 10_000,
            ..AppOptions::default()
        },
    )
    .await;

    let cases = cases();
    assert!(
        cases.len() >= 30,
        "the suite keeps at least 30 hostile inputs"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let (status, body) = answer(&app, case).await;
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let text = if json.is_null() {
            body.clone()
        } else {
            json.to_string()
        };
        let mut problems = Vec::new();
        if status != case.status {
            problems.push(format!("status {status}, expected {}", case.status));
        }
        if let Some(kind) = case.kind {
            if json["kind"] != kind {
                problems.push(format!("kind {}, expected {kind}", json["kind"]));
            }
        }
        if let Some(field) = case.field {
            if json["field"] != field {
                problems.push(format!("field {}, expected {field}", json["field"]));
            }
        }
        if !text.contains(case.needle) {
            problems.push(format!("no {:?} in the answer", case.needle));
        }
        if std::env::var_os("HOSTILE_TABLE").is_some() {
            // `HOSTILE_TABLE=1 cargo test -p server --test it hostile:: -- --nocapture` prints
            // the README table.
            let csv = &json["errors"][0];
            let message = json["message"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    let m = csv["message"].as_str()?;
                    Some(format!(
                        "line {}, column {:?}: {m}",
                        csv["line"], csv["column"]
                    ))
                })
                .unwrap_or_else(|| {
                    let shown = if json.is_null() {
                        case.needle.to_string()
                    } else {
                        json.to_string()
                    };
                    shown.chars().take(120).collect()
                });
            let kind = json["kind"].as_str().unwrap_or("page");
            let field = json["field"]
                .as_str()
                .map(|f| format!(" `{f}`"))
                .unwrap_or_default();
            println!(
                "| {} | {status} {kind}{field}: {} |",
                case.what,
                message.replace('|', "\\|")
            );
        }
        if !problems.is_empty() {
            let shown: String = text.chars().take(300).collect();
            failures.push(format!(
                "{}: {} — got {shown}",
                case.what,
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    assert_eq!(
        job_count(&app.pool).await,
        0,
        "no hostile request queued a job"
    );
    let (datasets,): (i64,) = sqlx::query_as("SELECT count(*) FROM datasets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(datasets, 1, "only the sample: no hostile CSV was stored");
    // And the server still works.
    let ok = api(
        "a valid submit",
        "/api/submit_job",
        json!({"request": {"kind": "demo", "steps": 1, "step_ms": 0}}),
        200,
    );
    assert_eq!(answer(&app, &ok).await.0, 200);
}
