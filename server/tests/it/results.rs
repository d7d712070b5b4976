//! Results that stay small at any size (issue 9): a backtest's page gets its first 100 trades
//! and the total, the rest page by page or all as CSV; equity curves keep at most ~2,000
//! points.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{add_sample, TestApp};
use app::components::results::format::fmt_thousands;
use app::model::JobState;
use server::datasets::SAMPLE_DATASET_ID;

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_backtest_with_many_trades_pages_them_and_downloads_them_all(pool: PgPool) {
    add_sample(&pool).await;
    let app = TestApp::spawn(pool).await;
    let worker = app.worker();
    // SMA 2/3 on 2,000 bars trades hundreds of times.
    let id = app
        .submit(
            json!({"kind": "backtest", "dataset_id": SAMPLE_DATASET_ID.to_string(),
                       "strategy": "sma_cross", "params": {"n1": 2, "n2": 3}}),
        )
        .await;
    assert_eq!(app.wait_terminal(id).await.state, JobState::Succeeded);
    worker.stop().await;

    let (code, r) = app.post_json("/api/job_result", json!({"id": id})).await;
    assert_eq!(code, 200);
    let total = r["result"]["trades_total"].as_u64().expect("trimmed");
    assert!(total > 300, "{total} trades");
    assert_eq!(r["result"]["trades"].as_array().unwrap().len(), 100);
    assert_eq!(r["result"]["stats"]["trades"].as_u64(), Some(total));
    assert!(r["result"]["equity"].as_array().unwrap().len() <= 2_002);

    let (code, p2) = app
        .post_json("/api/job_trades", json!({"id": id, "page": 2}))
        .await;
    assert_eq!(code, 200, "{p2}");
    assert_eq!(
        (p2["page"].as_u64(), p2["total"].as_u64()),
        (Some(2), Some(total))
    );
    assert_eq!(p2["trades"].as_array().unwrap().len(), 100);
    // Page 2 starts where page 1 ended.
    let last_of_1 = &r["result"]["trades"][99];
    let first_of_2 = &p2["trades"][0];
    assert!(first_of_2["entry_bar"].as_u64() > last_of_1["entry_bar"].as_u64());
    // Past the last page: the last page.
    let (_, last) = app
        .post_json("/api/job_trades", json!({"id": id, "page": 1_000_000}))
        .await;
    let pages = total.div_ceil(100);
    assert_eq!(last["page"].as_u64(), Some(pages));
    assert_eq!(
        last["trades"].as_array().unwrap().len() as u64,
        total - (pages - 1) * 100
    );

    // Every trade in the CSV (header + one line each).
    let csv = app.get(&format!("/api/jobs/{id}/result.csv")).await;
    assert_eq!(csv.status, 200);
    // Header, every closed trade, and the open one when there is one.
    let open = u64::from(!r["result"]["open_trade"].is_null());
    assert_eq!(csv.body.lines().count() as u64, 1 + total + open);

    // The job's page shows page 1 of the trades with a link to page 2; `?trades=2` renders
    // page 2 on the server (with the WASM only that region is swapped in; without it the link
    // loads the page), and a page past the end shows the last one.
    let pages = total.div_ceil(100);
    let page = |query: String| {
        let (app, path) = (&app, format!("/jobs/{id}{query}"));
        async move { app.get(&path).await }
    };
    let first = page(String::new()).await;
    assert_eq!(first.status, 200);
    let n = |x: u64| fmt_thousands(x as f64, 0);
    assert!(
        first
            .body
            .contains(&format!("Trades 1–100 of {}", n(total))),
        "{}",
        first.body
    );
    assert!(first.body.contains(&format!(
        "href=\"/jobs/{id}?trades=2\" data-swap=\"\" data-testid=\"trades-next\""
    )));
    let second = page("?trades=2".into()).await;
    assert!(second
        .body
        .contains(&format!("Trades 101–200 of {}", n(total))));
    assert!(second
        .body
        .contains(&format!("href=\"/jobs/{id}?trades=1\"")));
    assert!(second
        .body
        .contains(&format!("href=\"/jobs/{id}?trades=3\"")));
    let beyond = page("?trades=999999".into()).await;
    let first_of_last = (pages - 1) * 100 + 1;
    assert!(beyond.body.contains(&format!(
        "Trades {}–{} of {}",
        n(first_of_last),
        n(total),
        n(total)
    )));

    // The whole equity curve, every bar, recomputed: 2,000 bars, ending at the final equity.
    let equity = app.get(&format!("/api/jobs/{id}/equity.csv")).await;
    assert_eq!(equity.status, 200, "{}", equity.body);
    let lines: Vec<&str> = equity.body.lines().collect();
    assert_eq!(lines[0], "time,equity,drawdown_pct");
    assert_eq!(lines.len(), 2_001);
    let last: f64 = lines[2_000].split(',').nth(1).unwrap().parse().unwrap();
    let final_equity = r["result"]["stats"]["equity_final"].as_f64().unwrap();
    assert!(
        (last - final_equity).abs() < 1e-6,
        "{last} vs {final_equity}"
    );

    // Not a backtest: refused naming the field.
    let demo = app
        .submit(json!({"kind": "demo", "steps": 1, "step_ms": 1}))
        .await;
    let (code, e) = app.post_json("/api/job_trades", json!({"id": demo})).await;
    assert_eq!((code, e["field"].as_str()), (400, Some("id")), "{e}");
    let no_curve = app.get(&format!("/api/jobs/{demo}/equity.csv")).await;
    assert_eq!(no_curve.status, 409, "{}", no_curve.body);
}
