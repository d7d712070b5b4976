//! Views of an optimization's full grid (`/api/grid_view`) over HTTP, against Postgres: the
//! optimize handler stores the metric of every combination in `job_grids` (never in the result
//! JSON); each view (other axes, max/mean/median/slice folds, a line) is checked cell by cell
//! against single backtests of the same combinations; bad views name their field; a job
//! without a stored grid answers its default view only; the store's writes are guarded by the
//! lease and a retry overwrites.

use std::collections::BTreeMap;

use app::model::research::{Account, BacktestRequest, FullGrid, Metric, StrategyKind};
use app::model::JobState;
use serde_json::{json, Value};
use server::datasets::{DatasetStore, SAMPLE_DATASET_ID};
use server::engine::{run_backtest, NoProgress, Series};
use server::grids::GridStore;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

const PERIODS: [f64; 3] = [7.0, 14.0, 21.0];
const LOWERS: [f64; 2] = [30.0, 50.0];
const UPPERS: [f64; 2] = [50.0, 70.0];

/// An RSI optimization over all three parameters: 3 × 2 × 2 = 12 combinations, of which
/// lower = upper = 50 is not admissible (the strategy requires lower < upper).
fn rsi_request() -> Value {
    json!({
        "kind": "optimize", "dataset_id": SAMPLE_DATASET_ID.to_string(),
        "strategy": "rsi_reversion",
        "grid": {"period": {"list": PERIODS}, "lower": {"list": LOWERS}, "upper": {"list": UPPERS}},
        "metric": "sharpe", "commission": 0.001, "cash": 10000
    })
}

/// The sample dataset, an app, and the optimization run to SUCCEEDED.
async fn optimized(pool: PgPool) -> (TestApp, Uuid) {
    let datasets = DatasetStore::new(pool.clone());
    datasets.ensure_sample().await.unwrap();
    let app = TestApp::spawn(pool).await;
    let worker = app.worker();
    let id = app.submit(rsi_request()).await;
    let done = app.wait_terminal(id).await;
    worker.stop().await;
    assert_eq!(done.state, JobState::Succeeded, "{:?}", done.error);
    (app, id)
}

/// The engine's own value for one combination: a single backtest's Sharpe ratio (NaN when
/// undefined or not admissible).
fn backtest_metric(series: &Series, period: f64, lower: f64, upper: f64) -> f64 {
    if lower >= upper {
        return f64::NAN;
    }
    let req = BacktestRequest {
        dataset_id: SAMPLE_DATASET_ID.to_string(),
        strategy: StrategyKind::RsiReversion,
        rules: None,
        params: BTreeMap::from([
            ("period".to_string(), period),
            ("lower".to_string(), lower),
            ("upper".to_string(), upper),
        ]),
        account: Account {
            cash: 10_000.0,
            commission: 0.001,
            long_only: false,
        },
    };
    let report = run_backtest(series, &req, &mut NoProgress).unwrap();
    Metric::Sharpe.of(&report.stats).unwrap_or(f64::NAN)
}

/// Every combination's metric by single backtests, keyed by (period, lower, upper).
async fn all_backtests(pool: &PgPool) -> BTreeMap<(u64, u64, u64), f64> {
    let series = DatasetStore::new(pool.clone())
        .load(SAMPLE_DATASET_ID)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for p in PERIODS {
        for l in LOWERS {
            for u in UPPERS {
                out.insert(
                    (p as u64, l as u64, u as u64),
                    backtest_metric(&series, p, l, u),
                );
            }
        }
    }
    out
}

fn finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    values.into_iter().filter(|v| v.is_finite()).collect()
}

fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::max)
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// `cells[y][x]` of a view as numbers (`None` for null).
fn cells(view: &Value) -> Vec<Vec<Option<f64>>> {
    serde_json::from_value(view["heatmap"]["cells"].clone()).expect("cells")
}

fn assert_close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            "{what}: got {g}, want {w}"
        ),
        _ => panic!("{what}: got {got:?}, want {want:?}"),
    }
}

async fn grid_view(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_json("/api/grid_view", body).await
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn every_view_of_a_three_parameter_grid_agrees_with_single_backtests(pool: PgPool) {
    let (app, id) = optimized(pool.clone()).await;
    let truth = all_backtests(&pool).await;
    let at = |p: f64, l: f64, u: f64| truth[&(p as u64, l as u64, u as u64)];

    // The grid is stored beside the job, not in its result.
    let (_, result) = app.post_json("/api/job_result", json!({"id": id})).await;
    let result = &result["result"];
    assert!(result.get("full_grid").is_none(), "{result}");
    let stored = rows_of_job(&pool, "job_grids", id).await;
    assert_eq!(stored, 1);
    let grid = GridStore::new(pool.clone())
        .load(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grid.params, ["period", "lower", "upper"]);
    assert_eq!(grid.values.len(), 12);
    // Mixed radix, the last parameter fastest: raw = ip·4 + il·2 + iu.
    for (ip, p) in PERIODS.into_iter().enumerate() {
        for (il, l) in LOWERS.into_iter().enumerate() {
            for (iu, u) in UPPERS.into_iter().enumerate() {
                let v = grid.values[ip * 4 + il * 2 + iu];
                let want = at(p, l, u);
                let what = format!("stored value at period={p}, lower={l}, upper={u}");
                assert_close(
                    v.is_finite().then_some(v),
                    want.is_finite().then_some(want),
                    &what,
                );
            }
        }
    }
    assert!(
        truth.values().filter(|v| v.is_finite()).count() >= 6,
        "most combinations trade: {truth:?}"
    );

    // The default view is the stored heatmap (period × lower, best over upper).
    let (code, view) = grid_view(&app, json!({"id": id})).await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["heatmap"], result["grid"]);
    assert_eq!(
        (&view["x"], &view["y"], &view["fold"], &view["explorable"]),
        (
            &json!("period"),
            &json!("lower"),
            &json!("max"),
            &json!(true)
        )
    );
    assert_eq!(
        view["params"],
        json!([
            {"name": "period", "values": PERIODS},
            {"name": "lower", "values": LOWERS},
            {"name": "upper", "values": UPPERS},
        ])
    );
    // The slice position defaults to the best run's.
    assert_eq!(view["at"]["upper"], result["best_params"]["upper"]);
    for (iy, l) in LOWERS.into_iter().enumerate() {
        for (ix, p) in PERIODS.into_iter().enumerate() {
            let want = max(&finite(UPPERS.map(|u| at(p, l, u))));
            assert_close(cells(&view)[iy][ix], want, &format!("max at {p},{l}"));
        }
    }

    // A slice: period × upper at lower = 30; each cell is one backtest.
    let (code, view) = grid_view(
        &app,
        json!({"id": id, "x": "period", "y": "upper", "fold": "slice", "at": {"lower": 30}}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["heatmap"]["y_param"], "upper");
    assert_eq!(view["at"], json!({"lower": 30.0}));
    for (iy, u) in UPPERS.into_iter().enumerate() {
        for (ix, p) in PERIODS.into_iter().enumerate() {
            let want = Some(at(p, 30.0, u)).filter(|v| v.is_finite());
            assert_close(cells(&view)[iy][ix], want, &format!("slice at {p},30,{u}"));
        }
    }
    // At lower = 50 the upper = 50 row is not admissible: empty.
    let (_, view) = grid_view(
        &app,
        json!({"id": id, "x": "period", "y": "upper", "fold": "slice", "at": {"lower": 50}}),
    )
    .await;
    assert_eq!(cells(&view)[0], vec![None, None, None]);

    // Mean over period, lower × upper (axes in the other order).
    let (code, view) = grid_view(
        &app,
        json!({"id": id, "x": "upper", "y": "lower", "fold": "mean"}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["heatmap"]["x_param"], "upper");
    for (iy, l) in LOWERS.into_iter().enumerate() {
        for (ix, u) in UPPERS.into_iter().enumerate() {
            let want = mean(&finite(PERIODS.map(|p| at(p, l, u))));
            assert_close(cells(&view)[iy][ix], want, &format!("mean at {l},{u}"));
        }
    }

    // A line: the median over lower and upper, per period.
    let (code, view) = grid_view(
        &app,
        json!({"id": id, "x": "period", "y": "none", "fold": "median"}),
    )
    .await;
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["y"], Value::Null);
    assert_eq!(view["heatmap"]["y_param"], Value::Null);
    let line = &cells(&view)[0];
    assert_eq!(line.len(), 3);
    for (ix, p) in PERIODS.into_iter().enumerate() {
        let all: Vec<f64> = LOWERS
            .into_iter()
            .flat_map(|l| UPPERS.map(move |u| (l, u)))
            .map(|(l, u)| at(p, l, u))
            .collect();
        assert_close(line[ix], median(&finite(all)), &format!("median at {p}"));
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn bad_views_are_refused_naming_the_field(pool: PgPool) {
    let (app, id) = optimized(pool.clone()).await;
    let refused = |field: &str, body: Value| {
        let app = &app;
        let field = field.to_string();
        async move {
            let (code, err) = grid_view(app, body).await;
            assert_eq!(code, 400, "{err}");
            assert_eq!(err["kind"], "invalid_request", "{err}");
            assert_eq!(err["field"], field.as_str(), "{err}");
            err["message"].as_str().unwrap().to_string()
        }
    };
    let m = refused("x", json!({"id": id, "x": "nope"})).await;
    assert_eq!(
        m,
        "no parameter \"nope\" in this grid; choose one of period, lower, upper"
    );
    let m = refused("y", json!({"id": id, "x": "lower", "y": "lower"})).await;
    assert!(m.starts_with("must differ from x (lower)"), "{m}");
    refused("y", json!({"id": id, "y": "zz"})).await;
    let m = refused("fold", json!({"id": id, "fold": "sum"})).await;
    assert!(m.contains("max, mean, median, slice"), "{m}");
    let m = refused(
        "at.lower",
        json!({"id": id, "fold": "slice", "x": "period", "y": "upper", "at": {"lower": 40}}),
    )
    .await;
    assert_eq!(m, "40 is not one of the values tried for lower: 30, 50");
    refused("at.nope", json!({"id": id, "at": {"nope": 1}})).await;
    // Not numbers where numbers belong: the body does not decode.
    refused("body", json!({"id": id, "at": {"lower": "thirty"}})).await;

    let (code, err) = grid_view(&app, json!({"id": "not-a-uuid"})).await;
    assert_eq!((code, err["kind"].as_str()), (400, Some("invalid_job_id")));
    let (code, err) = grid_view(&app, json!({"id": Uuid::new_v4()})).await;
    assert_eq!((code, err["kind"].as_str()), (404, Some("no_such_job")));
    // Only optimizations have a grid.
    let demo = app
        .submit(json!({"kind": "demo", "steps": 1, "step_ms": 0}))
        .await;
    let (code, err) = grid_view(&app, json!({"id": demo})).await;
    assert_eq!((code, err["field"].as_str()), (400, Some("id")), "{err}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_job_without_a_stored_grid_answers_its_default_view_only(pool: PgPool) {
    let (app, id) = optimized(pool.clone()).await;
    // As for a job that ran before grids were stored.
    sqlx::query("DELETE FROM job_grids WHERE job_id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let (_, result) = app.post_json("/api/job_result", json!({"id": id})).await;
    for body in [
        json!({"id": id}),
        json!({"id": id, "x": "period", "y": "lower", "fold": "max"}),
    ] {
        let (code, view) = grid_view(&app, body).await;
        assert_eq!(code, 200, "{view}");
        assert_eq!(view["explorable"], false);
        assert_eq!(view["heatmap"], result["result"]["grid"]);
        assert_eq!(
            (&view["x"], &view["y"]),
            (&json!("period"), &json!("lower"))
        );
    }
    let (code, err) = grid_view(&app, json!({"id": id, "fold": "median"})).await;
    assert_eq!(code, 409, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("only its default view is available (x=period, y=lower, fold=max)"),
        "{message}"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn grid_writes_need_the_current_lease_and_a_retry_overwrites(pool: PgPool) {
    let store = store(&pool);
    let grids = GridStore::new(pool.clone());
    let id = store.enqueue(demo(1, 0)).await.unwrap().id;
    let job = store.claim("test:1:0", "test").await.unwrap().unwrap();
    let grid = |v: f64| FullGrid {
        params: vec!["a".into(), "b".into()],
        axes: vec![vec![1.0, 2.0], vec![3.0]],
        values: vec![v, f64::NAN],
    };
    assert!(grids.upsert(id, job.lease, &grid(1.5)).await.unwrap());
    assert!(grids.upsert(id, job.lease, &grid(2.5)).await.unwrap());
    let back = grids.load(id).await.unwrap().unwrap();
    assert_eq!(back.values[0], 2.5);
    assert!(back.values[1].is_nan());
    assert_eq!(back.axes, grid(0.0).axes);
    // Another run's lease writes nothing.
    assert!(!grids.upsert(id, Uuid::new_v4(), &grid(9.0)).await.unwrap());
    assert_eq!(grids.load(id).await.unwrap().unwrap().values[0], 2.5);
    // Nor does an inconsistent grid reach the database.
    let mut bad = grid(1.0);
    bad.values.push(0.0);
    assert!(grids.upsert(id, job.lease, &bad).await.is_err());
    // A job without a grid has none; deleting the job deletes its grid.
    assert!(grids.load(Uuid::new_v4()).await.unwrap().is_none());
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert!(grids.load(id).await.unwrap().is_none());
}
