//! "Safe to run" over HTTP (the real router, in process through [`TestApp::oneshot`], since
//! these tests set `Host`, `Origin` and the other headers exactly; the job cap over TCP): no
//! cross-site writes, JSON-only API, tokens and the sign-in page, the cap on active jobs, and
//! the security headers.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use server::web::Security;
use sqlx::PgPool;

use crate::helpers::*;

const TOKEN: &str = "test-token-0123456789abcdef";
const READ_TOKEN: &str = "read-token-0123456789abcdef";
const DEMO: &str = r#"{"request":{"kind":"demo","steps":1,"step_ms":0}}"#;

/// The app with both tokens set.
async fn token_app(pool: PgPool) -> TestApp {
    let security = Security {
        token: Some(TOKEN.into()),
        read_token: Some(READ_TOKEN.into()),
        allowed_origins: vec![],
        max_upload_bytes: None,
    };
    TestApp::spawn_with(
        pool,
        AppOptions {
            security,
            ..AppOptions::default()
        },
    )
    .await
}

/// Submits the demo job with the given headers (see [`post`]).
async fn submit_demo(app: &TestApp, headers: &[(&str, &str)]) -> Answer {
    app.oneshot(post("/api/submit_job", DEMO, headers)).await
}

/// A POST with the given headers (content-type JSON unless overridden).
fn post(path: &str, body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::post(path).header("host", "127.0.0.1:3000");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header("content-type", "application/json");
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_page_on_another_origin_cannot_queue_cancel_or_import(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // The finding: a "simple" text/plain POST from evil.example queued a job.
    let answer = submit_demo(
        &app,
        &[
            ("content-type", "text/plain"),
            ("origin", "http://evil.example"),
        ],
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.json()["kind"], "forbidden");
    assert!(answer.body.contains("evil.example"), "{}", answer.body);
    // JSON from another origin, and a fetch the browser marks cross-site, fare no better.
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("origin", "http://127.0.0.1:3001")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        for path in ["/api/submit_job", "/api/cancel_job", "/api/import_dataset"] {
            let answer = app.oneshot(post(path, DEMO, &headers)).await;
            assert_eq!(answer.status, 403, "{path} {headers:?}: {}", answer.body);
        }
    }
    assert_eq!(job_count(&app.pool).await, 0, "nothing was queued");

    // Same-origin pages, and clients that send neither header (curl), still work.
    for headers in [
        vec![("origin", "http://127.0.0.1:3000")],
        vec![
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000"),
        ],
        vec![],
    ] {
        let answer = submit_demo(&app, &headers).await;
        assert_eq!(answer.status, 200, "{headers:?}: {}", answer.body);
    }
    assert_eq!(job_count(&app.pool).await, 3);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn allowed_origins_may_call_the_api_with_cors(pool: PgPool) {
    let security = Security {
        allowed_origins: vec!["https://lab.example".into()],
        ..Security::default()
    };
    let app = TestApp::spawn_with(
        pool,
        AppOptions {
            security,
            ..AppOptions::default()
        },
    )
    .await;
    let answer = submit_demo(&app, &[("origin", "https://lab.example")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.headers["access-control-allow-origin"],
        "https://lab.example"
    );
    let answer = submit_demo(&app, &[("origin", "https://other.example")]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.headers.get("access-control-allow-origin").is_none());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_api_takes_json_bodies_only(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let answer = submit_demo(&app, &[("content-type", content_type)]).await;
        assert_eq!(answer.status, 415, "{content_type}: {}", answer.body);
        assert_eq!(answer.json()["kind"], "unsupported_media_type");
        assert!(answer.body.contains("application/json"), "{}", answer.body);
    }
    let answer = submit_demo(&app, &[("content-type", "application/json; charset=utf-8")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(job_count(&app.pool).await, 1);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn without_a_token_only_loopback_host_names_are_answered(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // A DNS-rebinding page reaches the server under its own name.
    let request = Request::get("/jobs")
        .header("host", "rebind.evil.example:3000")
        .body(Body::empty())
        .unwrap();
    let answer = app.oneshot(request).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.body.contains("rebind.evil.example"),
        "{}",
        answer.body
    );
    let request = Request::post("/api/list_jobs")
        .header("host", "localhost:3000")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(app.oneshot(request).await.status, 200);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn with_a_token_the_api_needs_a_bearer_and_the_read_token_only_reads(pool: PgPool) {
    let app = token_app(pool).await;
    let answer = app.oneshot(post("/api/list_jobs", "{}", &[])).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.json()["kind"], "unauthorized");
    assert!(
        answer.body.contains("Authorization: Bearer"),
        "{}",
        answer.body
    );
    assert!(answer.headers.contains_key("www-authenticate"));

    let wrong = format!("Bearer {TOKEN}x");
    let answer = submit_demo(&app, &[("authorization", &wrong)]).await;
    assert_eq!(answer.status, 401);
    assert_eq!(job_count(&app.pool).await, 0);

    let full = format!("Bearer {TOKEN}");
    let answer = submit_demo(&app, &[("authorization", &full)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.json()["id"].as_str().unwrap().to_string();

    let read = format!("Bearer {READ_TOKEN}");
    let status_body = json!({ "id": id }).to_string();
    let answer = app
        .oneshot(post(
            "/api/job_status",
            &status_body,
            &[("authorization", &read)],
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for path in ["/api/submit_job", "/api/cancel_job", "/api/import_dataset"] {
        let body = if path == "/api/cancel_job" {
            status_body.as_str()
        } else {
            DEMO
        };
        let answer = app
            .oneshot(post(path, body, &[("authorization", &read)]))
            .await;
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        assert!(answer.body.contains("read-only"), "{}", answer.body);
    }
    assert_eq!(job_count(&app.pool).await, 1);
    let state: String = sqlx::query_scalar("SELECT state FROM jobs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "QUEUED", "the read token could not cancel it");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_browser_signs_in_once_and_then_carries_a_strict_session_cookie(pool: PgPool) {
    let app = token_app(pool).await;
    // A page without a session goes to the sign-in page, which comes back to it.
    let answer = app.oneshot(get("/jobs?state=RUNNING", &[])).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let location = answer.headers["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/signin?next=/jobs"), "{location}");
    let answer = app.oneshot(get(&location, &[])).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("name=\"token\""), "{}", answer.body);

    let form = |token: &str| {
        Request::post("/signin")
            .header("host", "127.0.0.1:3000")
            .header("origin", "http://127.0.0.1:3000")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&next=%2Fjobs")))
            .unwrap()
    };
    let answer = app.oneshot(form("not-the-token")).await;
    assert_eq!(answer.status, 401);
    assert!(answer.body.contains("not valid"));
    assert!(answer.headers.get("set-cookie").is_none());

    let answer = app.oneshot(form(TOKEN)).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.headers["location"], "/jobs");
    let cookie = answer.headers["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();

    // The cookie opens pages and server functions alike; a forged one does not.
    let answer = app.oneshot(get("/jobs", &[("cookie", &session)])).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = submit_demo(
        &app,
        &[("cookie", &session), ("origin", "http://127.0.0.1:3000")],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let forged = format!("{}0", session);
    let answer = app
        .oneshot(post("/api/list_jobs", "{}", &[("cookie", &forged)]))
        .await;
    assert_eq!(answer.status, 401);
    // Static assets need nothing.
    assert_ne!(app.oneshot(get("/favicon.ico", &[])).await.status, 401);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_job_cap_answers_429_and_stores_nothing(pool: PgPool) {
    let app = TestApp::spawn_with(
        pool,
        AppOptions {
            max_active_jobs: 2,
            ..AppOptions::default()
        },
    )
    .await;
    // Over TCP: nothing here depends on exact headers.
    let demo = || json!({"kind": "demo", "steps": 1, "step_ms": 0});
    let first = app.submit(demo()).await;
    app.submit(demo()).await;
    let (code, err) = app
        .post_json("/api/submit_job", json!({ "request": demo() }))
        .await;
    assert_eq!(code, 429, "{err}");
    assert_eq!(err["kind"], "too_many_jobs");
    assert_eq!(err["limit"], 2);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("RUNBOARD_MAX_ACTIVE_JOBS"),
        "{err}"
    );
    assert_eq!(job_count(&app.pool).await, 2);
    // Finished jobs do not count: cancel one and there is room again.
    app.cancel(first).await;
    app.submit(demo()).await;
    assert_eq!(job_count(&app.pool).await, 3);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn concurrent_submits_never_overshoot_the_cap(pool: PgPool) {
    let store = store(&pool);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.enqueue_capped(demo(1, 0), 7).await.is_ok() });
    }
    let mut accepted = 0;
    while let Some(ok) = tasks.join_next().await {
        accepted += ok.unwrap() as i64;
    }
    assert_eq!(accepted, 7);
    assert_eq!(job_count(&pool).await, 7);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn every_response_carries_the_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.oneshot(post("/api/list_jobs", "{}", &[])).await;
    let page = app.oneshot(get("/jobs", &[])).await;
    let refused = app
        .oneshot(post(
            "/api/list_jobs",
            "{}",
            &[("content-type", "text/plain")],
        ))
        .await;
    for answer in [&api, &page, &refused] {
        assert_eq!(answer.headers["x-content-type-options"], "nosniff");
        assert_eq!(answer.headers["x-frame-options"], "DENY");
        assert_eq!(answer.headers["referrer-policy"], "same-origin");
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    // The page's policy admits exactly the nonce its hydration script carries.
    assert_eq!(page.status, 200, "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page's CSP");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    // Error pages (400, 404) carry a page policy with their nonce too.
    for path in [
        "/jobs/not-a-uuid",
        "/jobs/00000000-0000-4000-8000-000000000000",
    ] {
        let error_page = app.oneshot(get(path, &[])).await;
        let csp = error_page.headers["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("'nonce-"), "{path}: {csp}");
    }
    let again = app.oneshot(get("/jobs", &[])).await;
    assert!(
        !again.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(nonce),
        "a fresh nonce per response"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn pages_and_api_answers_are_compressed_and_cached_by_kind(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let page = app
        .oneshot(get("/jobs", &[("accept-encoding", "br, gzip")]))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-encoding"], "br", "brotli first");
    assert_eq!(page.headers["cache-control"], "no-cache");
    // The same page gzipped decodes to the HTML a client that asks for nothing gets.
    let gzipped = app
        .oneshot(get("/jobs", &[("accept-encoding", "gzip")]))
        .await;
    assert_eq!(gzipped.headers["content-encoding"], "gzip");
    let mut html = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&gzipped.raw[..]),
        &mut html,
    )
    .unwrap();
    let plain_page = app.oneshot(get("/jobs", &[])).await;
    assert!(plain_page.headers.get("content-encoding").is_none());
    // (Leptos appends its streaming bookkeeping script after `</html>`.)
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("</html>"));
    // Equal but for the nonce, which is new in each response and of one length.
    assert_eq!(html.len(), plain_page.raw.len());
    assert!(
        gzipped.raw.len() * 2 < plain_page.raw.len(),
        "{} bytes gzipped, {} plain",
        gzipped.raw.len(),
        plain_page.raw.len()
    );
    let api = app
        .oneshot(post("/api/list_jobs", "{}", &[("accept-encoding", "gzip")]))
        .await;
    assert_eq!(api.status, 200);
    assert_eq!(api.headers["content-encoding"], "gzip");
    assert_eq!(api.headers["cache-control"], "no-store");
    let plain = app.oneshot(post("/api/list_jobs", "{}", &[])).await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(
        plain.body.contains("\"jobs\""),
        "uncompressed for clients that ask for nothing"
    );
}
