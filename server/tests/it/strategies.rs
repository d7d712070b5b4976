//! Users' rule-language strategies through the API against Postgres (issue 13): check, save
//! (versions, no duplicates), list, get, delete (refused while a job runs it), and jobs that run
//! a saved or inline program end to end, equal to the built-in they restate.

use serde_json::{json, Value};
use server::datasets::SAMPLE_DATASET_ID;
use server::engine::rules::examples::SMA_CROSS as SMA;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

async fn app(pool: PgPool) -> TestApp {
    add_sample(&pool).await;
    TestApp::spawn(pool).await
}

fn grid() -> Value {
    json!({"n1": {"range": {"start": 5, "stop": 50, "step": 5}},
           "n2": {"range": {"start": 20, "stop": 200, "step": 10}}})
}

async fn save(app: &TestApp, source: &str) -> Value {
    let (code, saved) = app
        .post_json("/api/save_strategy", json!({"source": source}))
        .await;
    assert_eq!(code, 200, "{saved}");
    saved
}

async fn stored_args(pool: &PgPool, id: Uuid) -> Value {
    sqlx::query_scalar("SELECT args FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn result(app: &TestApp, id: Uuid) -> Value {
    let (code, answer) = app
        .post_json("/api/job_result", json!({"id": id.to_string()}))
        .await;
    assert_eq!(code, 200, "{answer}");
    answer["result"].clone()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_check_returns_the_params_and_lookback_or_the_errors_at_their_line(pool: PgPool) {
    let app = app(pool).await;
    let (code, ok) = app
        .post_json("/api/check_strategy", json!({"source": SMA}))
        .await;
    assert_eq!(code, 200, "{ok}");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["name"], "SMA cross");
    assert_eq!(
        ok["params"][0],
        json!({"name": "n1", "kind": "int", "min": 2.0, "max": 1000.0, "default": 10.0})
    );
    assert_eq!(ok["params"][1]["name"], "n2");
    // sma(close, 20) is warm after 19 bars; the crossing reads one bar more.
    assert!(ok["lookback"].as_u64().unwrap() >= 19, "{ok}");
    assert_eq!(ok["errors"], json!([]));

    // A bad program is an answer, not an HTTP error: every error at its line and column.
    let bad = SMA.replace("sma(close, n2))\nlong exit", "smaa(close, n2))\nlong exit");
    let (code, errs) = app
        .post_json("/api/check_strategy", json!({"source": bad}))
        .await;
    assert_eq!(code, 200, "{errs}");
    assert_eq!(errs["ok"], false);
    assert_eq!(errs["params"], json!([]));
    let first = &errs["errors"][0];
    // Line 8: the example's two comment lines count.
    assert_eq!(first["line"], 8, "{errs}");
    assert_eq!(first["column"], 44, "{errs}");
    assert!(
        first["message"].as_str().unwrap().contains("smaa"),
        "{errs}"
    );

    // Only a missing or oversized source is refused.
    let (code, missing) = app.post_json("/api/check_strategy", json!({})).await;
    assert_eq!(code, 400, "{missing}");
    let big = "#".repeat(64 * 1024 + 1);
    let (code, too_big) = app
        .post_json("/api/check_strategy", json!({"source": big}))
        .await;
    assert_eq!(code, 400, "{too_big}");
    assert_eq!(too_big["field"], "source");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn saving_versions_a_changed_source_and_returns_the_same_version_for_the_same_source(
    pool: PgPool,
) {
    let app = app(pool.clone()).await;
    let v1 = save(&app, SMA).await;
    assert_eq!(
        (v1["version"].clone(), v1["created"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(v1["name"], "SMA cross");
    assert_eq!(
        v1["content_hash"],
        server::strategies::content_hash(SMA),
        "sha256 of the source"
    );
    let again = save(&app, SMA).await;
    assert_eq!(again["id"], v1["id"]);
    assert_eq!(
        (again["version"].clone(), again["created"].clone()),
        (json!(1), json!(false))
    );
    let changed = SMA.replace("= 20", "= 30");
    let v2 = save(&app, &changed).await;
    assert_eq!(v2["id"], v1["id"]);
    assert_eq!(
        (v2["version"].clone(), v2["created"].clone()),
        (json!(2), json!(true))
    );
    // The name is case-insensitive: one name, one id.
    let shouting = changed.replace("\"SMA cross\"", "\"sma CROSS\"");
    let v3 = save(&app, &shouting).await;
    assert_eq!(
        (v3["id"].clone(), v3["version"].clone()),
        (v1["id"].clone(), json!(3))
    );
    let other = save(&app, &SMA.replace("SMA cross", "Other")).await;
    assert_ne!(other["id"], v1["id"]);
    assert_eq!(other["version"], 1);
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM strategies")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, 4, "no duplicate version");

    // A program that does not check is refused with its errors, nothing stored.
    let (code, refused) = app
        .post_json(
            "/api/save_strategy",
            json!({"source": "strategy \"x\"\nlong entry: close >\n"}),
        )
        .await;
    assert_refused((code, &refused), 400, ("field", "source"), "line 2");

    // The list: the newest version of each, most recently saved first, paginated.
    let (code, list) = app.post_json("/api/list_strategies", json!({})).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["total"], 2);
    let names: Vec<(Value, Value)> = list["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].clone(), s["version"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![(json!("Other"), json!(1)), (json!("sma CROSS"), json!(3))]
    );
    assert!(list["strategies"][0].get("source").is_none());
    let (code, page2) = app
        .post_json("/api/list_strategies", json!({"page": 2, "per_page": 1}))
        .await;
    assert_eq!(code, 200, "{page2}");
    assert_eq!(page2["strategies"][0]["name"], "sma CROSS");
    let (code, too_many) = app
        .post_json("/api/list_strategies", json!({"per_page": 101}))
        .await;
    assert_eq!((code, too_many["field"].clone()), (400, json!("per_page")));

    // A version with its source.
    let (code, got) = app
        .post_json("/api/get_strategy", json!({"id": v1["id"], "version": 2}))
        .await;
    assert_eq!(code, 200, "{got}");
    assert_eq!(got["source"], changed);
    // With its declared parameters, for forms to build their inputs from.
    assert_eq!(
        got["params"][0],
        json!({"name": "n1", "kind": "int", "min": 2.0, "max": 1000.0, "default": 10.0})
    );
    assert_eq!(got["params"].as_array().map(Vec::len), Some(2));
    let (code, newest) = app
        .post_json("/api/get_strategy", json!({"id": v1["id"]}))
        .await;
    assert_eq!((code, newest["version"].clone()), (200, json!(3)));
    let (code, none) = app
        .post_json("/api/get_strategy", json!({"id": v1["id"], "version": 9}))
        .await;
    assert_eq!((code, none["field"].clone()), (400, json!("version")));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_optimization_of_a_saved_rule_sma_cross_equals_the_built_in(pool: PgPool) {
    let app = app(pool.clone()).await;
    let saved = save(&app, SMA).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    let rules_job = app
        .submit(
            json!({"kind": "optimize", "dataset_id": ds, "strategy": {"id": saved["id"]},
            "grid": grid(), "metric": "sharpe", "commission": 0.002}),
        )
        .await;
    let builtin_job = app
        .submit(
            json!({"kind": "optimize", "dataset_id": ds, "strategy": "sma_cross",
            "grid": grid(), "metric": "sharpe", "commission": 0.002}),
        )
        .await;
    // A `strategy` object names a rule program (stored as `rules`). The job records what it
    // runs: id, version (the newest, as none was given), hash, name; and no built-in strategy
    // it never runs.
    let args = stored_args(&pool, rules_job).await;
    assert_eq!(
        args["rules"],
        json!({"id": saved["id"], "version": 1, "content_hash": saved["content_hash"],
               "name": "SMA cross"})
    );
    assert!(args.get("strategy").is_none(), "{args}");

    let worker = app.worker();
    for id in [rules_job, builtin_job] {
        let done = app.wait_terminal(id).await;
        assert_eq!(done.state, app::model::JobState::Succeeded, "{done:?}");
    }
    worker.stop().await;
    let (rules, builtin) = (
        result(&app, rules_job).await,
        result(&app, builtin_job).await,
    );
    assert_eq!(rules["total_runs"], 174);
    assert_eq!(rules["total_runs"], builtin["total_runs"]);
    assert_eq!(rules["best_params"], builtin["best_params"]);
    assert_eq!(
        rules["best_stats"]["sharpe"],
        builtin["best_stats"]["sharpe"]
    );
    assert_eq!(rules["best_stats"], builtin["best_stats"]);
    assert!(rules.get("full_grid").is_none());
    // The full grid is stored beside the result, as for the built-ins.
    let grids = rows_of_job(&pool, "job_grids", rules_job).await;
    assert_eq!(grids, 1);
    // Its reproducibility record is a request that runs again as is.
    let (code, rerun) = app
        .post_json("/api/rerun_job", json!({"id": rules_job.to_string()}))
        .await;
    assert_eq!(code, 200, "{rerun}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_inline_program_runs_and_its_backtest_equals_the_built_in(pool: PgPool) {
    let app = app(pool.clone()).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    let params = json!({"n1": 10, "n2": 30});
    let inline = app
        .submit(
            json!({"kind": "backtest", "dataset_id": ds, "strategy": {"source": SMA},
            "params": params}),
        )
        .await;
    let builtin = app
        .submit(
            json!({"kind": "backtest", "dataset_id": ds, "strategy": "sma_cross",
            "params": params}),
        )
        .await;
    let inline_opt = app
        .submit(
            json!({"kind": "optimize", "dataset_id": ds, "rules": {"source": SMA},
            "grid": {"n1": {"list": [5, 10]}, "n2": {"list": [20, 40]}}}),
        )
        .await;
    let args = stored_args(&pool, inline).await;
    assert_eq!(args["rules"]["source"], SMA);
    assert_eq!(
        args["rules"]["content_hash"],
        server::strategies::content_hash(SMA)
    );
    let worker = app.worker();
    for id in [inline, builtin, inline_opt] {
        let done = app.wait_terminal(id).await;
        assert_eq!(done.state, app::model::JobState::Succeeded, "{done:?}");
    }
    worker.stop().await;
    let (a, b) = (result(&app, inline).await, result(&app, builtin).await);
    assert_eq!(a["stats"], b["stats"]);
    assert_eq!(a["trades"], b["trades"]);
    // The full equity download recomputes the program's curve: every bar, as the built-in's.
    let mut curves = Vec::new();
    for id in [inline, builtin] {
        let csv = app.get(&format!("/api/jobs/{id}/equity.csv")).await;
        assert_eq!(csv.status, 200, "{}", csv.body);
        curves.push(csv.body);
    }
    assert_eq!(curves[0].lines().count(), 2_001);
    assert_eq!(curves[0], curves[1]);
    assert_eq!(result(&app, inline_opt).await["total_runs"], 4);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_walk_forward_of_a_rule_sma_cross_equals_the_built_in(pool: PgPool) {
    let app = app(pool.clone()).await;
    let saved = save(&app, SMA).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    let common = json!({"kind": "walk_forward", "dataset_id": ds, "grid": grid(), "folds": 4,
        "mode": "anchored", "metric": "sharpe", "commission": 0.001});
    let with = |strategy: Value| {
        let mut request = common.clone();
        request["strategy"] = strategy;
        request
    };
    let rules_job = app.submit(with(json!({"id": saved["id"]}))).await;
    let builtin_job = app.submit(with(json!("sma_cross"))).await;
    let args = stored_args(&pool, rules_job).await;
    assert_eq!(args["rules"]["version"], 1, "{args}");
    let worker = app.worker();
    for id in [rules_job, builtin_job] {
        let done = app.wait_terminal(id).await;
        assert_eq!(done.state, app::model::JobState::Succeeded, "{done:?}");
    }
    worker.stop().await;
    let (rules, builtin) = (
        result(&app, rules_job).await,
        result(&app, builtin_job).await,
    );
    assert_eq!(rules["folds"].as_array().map(Vec::len), Some(4));
    // Every fold picks the same parameters with the same in- and out-of-sample statistics;
    // the stitched out-of-sample curve and the efficiency are the same.
    assert_eq!(rules["folds"], builtin["folds"]);
    assert_eq!(rules["oos_equity"], builtin["oos_equity"]);
    assert_eq!(rules["efficiency"], builtin["efficiency"]);
    assert_eq!(rules["robustness"], builtin["robustness"]);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_rule_requests_are_refused_naming_the_field_and_leave_no_job_row(pool: PgPool) {
    let app = app(pool.clone()).await;
    let saved = save(&app, SMA).await;
    let ds = SAMPLE_DATASET_ID.to_string();
    let long = SMA.replace("param n2: int 2..1000", "param n2: int 2..5000");
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"kind": "optimize", "dataset_id": ds, "rules": {"id": saved["id"]},
                "grid": {"n3": {"list": [1, 2]}}}),
            "request.grid.n3",
            "unknown parameter",
        ),
        (
            json!({"kind": "optimize", "dataset_id": ds, "rules": {"id": saved["id"]},
                "grid": {"n1": {"list": [5, 1001]}}}),
            "request.grid.n1[1]",
            "between 2 and 1000",
        ),
        // The sample has 2,000 bars: sma(close, 2500) never warms up.
        (
            json!({"kind": "optimize", "dataset_id": ds, "rules": {"source": long},
                "grid": {"n2": {"list": [1000, 2500]}}}),
            "request.grid",
            "2000",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds, "rules": {"source": long},
                "params": {"n2": 2500}}),
            "request.params",
            "2000",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds, "rules": {"id": saved["id"]},
                "params": {"n9": 3}}),
            "request.params.n9",
            "unknown parameter",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds, "rules": {"id": saved["id"]},
                "params": {"n1": 30, "n2": 20}}),
            "request.params",
            "n1 < n2",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds,
                "rules": {"source": "strategy \"x\"\nlong entry: close >\n"}}),
            "request.rules.source",
            "line 2",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds,
                "rules": {"id": Uuid::new_v4().to_string()}}),
            "request.rules.id",
            "no such strategy",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds,
                "rules": {"id": saved["id"], "version": 7}}),
            "request.rules.version",
            "no version 7",
        ),
        (
            json!({"kind": "backtest", "dataset_id": ds,
                "rules": {"id": saved["id"], "content_hash": "0".repeat(64)}}),
            "request.rules.content_hash",
            "hash",
        ),
        (
            json!({"kind": "walk_forward", "dataset_id": ds, "strategy": {"id": saved["id"]},
                "grid": {"n3": {"list": [5, 10]}}}),
            "request.grid.n3",
            "unknown parameter",
        ),
        // 5 folds over 2,000 bars: in-sample windows of 750 bars, too short for sma(close, 1500).
        (
            json!({"kind": "walk_forward", "dataset_id": ds, "strategy": {"source": long},
                "grid": {"n2": {"list": [100, 1500]}}}),
            "request.folds",
            "the first in-sample window has",
        ),
    ];
    for (request, want_field, want_message) in cases {
        let (code, err) = app
            .post_json("/api/submit_job", json!({ "request": request }))
            .await;
        assert_refused((code, &err), 400, ("field", want_field), want_message);
    }
    assert_eq!(
        job_count(&pool).await,
        0,
        "no job row for a refused request"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_strategy_cannot_be_deleted_while_a_queued_job_runs_it(pool: PgPool) {
    let app = app(pool.clone()).await;
    let saved = save(&app, SMA).await;
    save(&app, &SMA.replace("= 20", "= 30")).await;
    // No worker runs: the job stays QUEUED.
    let job = app
        .submit(
            json!({"kind": "backtest", "dataset_id": SAMPLE_DATASET_ID.to_string(),
            "rules": {"id": saved["id"], "version": 1}}),
        )
        .await;
    let (code, refused) = app
        .post_json("/api/delete_strategy", json!({"id": saved["id"]}))
        .await;
    assert_eq!(code, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("1 queued or running job"),
        "{refused}"
    );
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM strategies")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, 2, "nothing deleted");

    app.cancel(job).await;
    let (code, deleted) = app
        .post_json("/api/delete_strategy", json!({"id": saved["id"]}))
        .await;
    assert_eq!(code, 200, "{deleted}");
    assert_eq!(deleted, json!({"id": saved["id"], "versions": 2}));
    let (code, gone) = app
        .post_json("/api/delete_strategy", json!({"id": saved["id"]}))
        .await;
    assert_eq!((code, gone["field"].clone()), (400, json!("id")));
    let (code, list) = app.post_json("/api/list_strategies", json!({})).await;
    assert_eq!((code, list["total"].clone()), (200, json!(0)));
}
