//! Result downloads: `GET /api/jobs/{id}/result.json` and `GET /api/jobs/{id}/result.csv`.
//!
//! - **JSON**: the stored result as is, with the job's reproducibility record (its full request,
//!   the program version and the dataset's content hash) and its times.
//! - **CSV**: the table a spreadsheet wants for the kind: a backtest's trades, an
//!   optimization's top runs (parameters, metric, key statistics), a walk-forward's folds, a
//!   training run's epochs (a demo's result as `key,value` rows).
//!
//! Both are attachments (`content-disposition`). A malformed id is `400`, an unknown one `404`,
//! a job without a result (not SUCCEEDED) `409`, each as the API's JSON error. They only read,
//! so they are GETs; they sit behind the same guard and token check as every `/api/*` call, and
//! a read-only token may use them (`auth::is_read_request`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use app::api::backend::SharedBackend;
use app::api::{parse_job_id, ApiError};
use app::model::job::Reproducibility;
use app::model::research::{EpochLoss, FoldResult, RunSummary, Stats, Trade};
use app::model::{JobKind, JobState};
use axum::extract::Path;
use axum::http::header::{self, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::guard::Refusal;
use crate::jobs::backend::internal;
use crate::jobs::chunks::ChunkResult;

/// The routes, as axum spells them.
pub const JSON_ROUTE: &str = "/api/jobs/{id}/result.json";
pub const CSV_ROUTE: &str = "/api/jobs/{id}/result.csv";
pub const EQUITY_ROUTE: &str = "/api/jobs/{id}/equity.csv";

/// Whether `path` is one of the reads under a job (`/api/jobs/<one segment>/result.json|csv`,
/// `equity.csv`, `status`): GETs a read-only token may make.
pub fn is_export_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/jobs/") else {
        return false;
    };
    match rest.split_once('/') {
        Some((id, file)) => {
            !id.is_empty()
                && !id.contains('/')
                && matches!(file, "result.json" | "result.csv" | "equity.csv" | "status")
        }
        None => false,
    }
}

/// Most rows of a CSV (results are bounded already; this bounds the file whatever is stored).
pub const MAX_CSV_ROWS: usize = 1_000_000;

/// What `result.json` holds.
#[derive(Serialize)]
struct ExportJson {
    id: uuid::Uuid,
    kind: JobKind,
    state: JobState,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    reproducibility: Reproducibility,
    result: Value,
}

/// A succeeded job's status, reproducibility record and result.
async fn load(
    backend: &SharedBackend,
    raw_id: &str,
) -> Result<(app::model::JobStatus, Reproducibility, Value), Refusal> {
    let id = parse_job_id(raw_id)?;
    let status = backend.job_status(id).await?;
    let stored = backend.job_result(id).await?;
    let result = match (stored.state, stored.result) {
        (JobState::Succeeded, Some(result)) => result,
        (state, _) => {
            return Err(Refusal(ApiError::Conflict {
                message: format!(
                    "job {id} has no result to export: it is {state} (results exist once a job \
                     has SUCCEEDED)"
                ),
            }))
        }
    };
    let repro = backend.job_repro(id).await?;
    Ok((status, repro, result))
}

fn attachment(body: String, content_type: &'static str, filename: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The name is built from the kind and the id's hex digits only: nothing to escape.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn file_name(kind: JobKind, id: uuid::Uuid, ext: &str) -> String {
    format!(
        "runboard-{}-{}.{ext}",
        kind.as_str(),
        &id.simple().to_string()[..8]
    )
}

/// `GET /api/jobs/{id}/equity.csv`: a succeeded backtest's whole equity curve, every bar
/// (`time,equity,drawdown_pct`), recomputed from its request and dataset.
pub async fn equity_csv(
    Extension(backend): Extension<SharedBackend>,
    Path(raw_id): Path<String>,
) -> Result<Response, Refusal> {
    let id = parse_job_id(&raw_id)?;
    let curve = backend.job_equity(id).await?;
    let mut body = String::with_capacity(curve.len() * 40 + 32);
    body.push_str("time,equity,drawdown_pct\n");
    let mut peak = f64::MIN;
    for (t, e) in curve.iter().take(MAX_CSV_ROWS) {
        peak = peak.max(*e);
        let dd = if peak > 0.0 {
            (1.0 - e / peak) * 100.0
        } else {
            0.0
        };
        let time = DateTime::<Utc>::from_timestamp(*t, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| t.to_string());
        let _ = writeln!(body, "{time},{e},{dd}");
    }
    Ok(attachment(
        body,
        "text/csv; charset=utf-8",
        file_name(JobKind::Backtest, id, "equity.csv"),
    ))
}

/// `GET /api/jobs/{id}/result.json`.
pub async fn result_json(
    Extension(backend): Extension<SharedBackend>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let (status, reproducibility, result) = load(&backend, &id).await?;
    let export = ExportJson {
        id: status.id,
        kind: status.kind,
        state: status.state,
        created_at: status.created_at,
        started_at: status.started_at,
        finished_at: status.finished_at,
        reproducibility,
        result,
    };
    let body = serde_json::to_string_pretty(&export).map_err(|e| internal(&e))?;
    Ok(attachment(
        body,
        "application/json",
        file_name(status.kind, status.id, "json"),
    ))
}

/// `GET /api/jobs/{id}/result.csv`.
pub async fn result_csv(
    Extension(backend): Extension<SharedBackend>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let (status, _, result) = load(&backend, &id).await?;
    Ok(attachment(
        result_csv_text(status.kind, &result),
        "text/csv; charset=utf-8",
        file_name(status.kind, status.id, "csv"),
    ))
}

/// The CSV of a result (see the module docs for what each kind gives). Parts of a result that
/// do not read as expected give a header without rows, not an error.
pub fn result_csv_text(kind: JobKind, result: &Value) -> String {
    let part = |key: &str| result.get(key).cloned().unwrap_or(Value::Null);
    let mut csv = Csv::default();
    match kind {
        JobKind::Backtest => {
            let trades: Vec<Trade> = serde_json::from_value(part("trades")).unwrap_or_default();
            let open: Option<Trade> = serde_json::from_value(part("open_trade")).unwrap_or(None);
            trades_csv(&mut csv, &trades, open.as_ref());
        }
        JobKind::Optimize => {
            let top: Vec<RunSummary> = serde_json::from_value(part("top")).unwrap_or_default();
            let metric = result
                .get("metric")
                .and_then(Value::as_str)
                .unwrap_or("metric");
            top_runs_csv(&mut csv, &top, metric);
        }
        JobKind::WalkForward => {
            let folds: Vec<FoldResult> = serde_json::from_value(part("folds")).unwrap_or_default();
            folds_csv(&mut csv, &folds);
        }
        JobKind::Train => {
            let epochs: Vec<EpochLoss> = serde_json::from_value(part("epochs")).unwrap_or_default();
            csv.row(["epoch", "train_loss", "val_loss"].map(String::from));
            for e in epochs.iter().take(MAX_CSV_ROWS) {
                csv.row([e.epoch.to_string(), num(e.train_loss), num(e.val_loss)]);
            }
        }
        JobKind::Chunk => {
            csv.row(["run", "metric"].map(String::from));
            if let Ok(chunk) = serde_json::from_value::<ChunkResult>(result.clone()) {
                for (i, m) in chunk.metrics.iter().enumerate().take(MAX_CSV_ROWS) {
                    csv.row([(chunk.start + i as u64).to_string(), num(*m)]);
                }
            }
        }
        JobKind::Demo | JobKind::Import => {
            csv.row(["key", "value"].map(String::from));
            if let Some(fields) = result.as_object() {
                for (k, v) in fields.iter().take(MAX_CSV_ROWS) {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    csv.row([k.clone(), value]);
                }
            }
        }
    }
    csv.text
}

/// A finite number as Rust prints it (shortest exact form), empty otherwise.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// Unix seconds as RFC 3339 UTC (`2020-01-31T00:00:00Z`), the number itself if out of range.
fn time(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

fn trades_csv(csv: &mut Csv, trades: &[Trade], open: Option<&Trade>) {
    csv.row(
        [
            "n",
            "side",
            "size",
            "entry_bar",
            "exit_bar",
            "entry_time",
            "exit_time",
            "entry_price",
            "exit_price",
            "pnl",
            "return_pct",
            "commission",
            "open",
        ]
        .map(String::from),
    );
    let rows = trades
        .iter()
        .map(|t| (t, false))
        .chain(open.map(|t| (t, true)))
        .take(MAX_CSV_ROWS);
    for (n, (t, is_open)) in rows.enumerate() {
        csv.row([
            (n + 1).to_string(),
            if t.size < 0 { "short" } else { "long" }.to_string(),
            t.size.unsigned_abs().to_string(),
            t.entry_bar.to_string(),
            t.exit_bar.to_string(),
            time(t.entry_time),
            time(t.exit_time),
            num(t.entry_price),
            num(t.exit_price),
            num(t.pnl),
            num(t.return_pct),
            num(t.commission),
            is_open.to_string(),
        ]);
    }
}

/// The key statistics in the optimization and walk-forward CSVs.
const KEY_STATS: [&str; 6] = [
    "return_pct",
    "sharpe",
    "max_drawdown_pct",
    "trades",
    "win_rate_pct",
    "equity_final",
];

fn key_stats(s: Option<&Stats>) -> [String; 6] {
    match s {
        None => Default::default(),
        Some(s) => [
            opt(s.return_pct),
            opt(s.sharpe),
            opt(s.max_drawdown_pct),
            s.trades.to_string(),
            opt(s.win_rate_pct),
            opt(s.equity_final),
        ],
    }
}

fn top_runs_csv(csv: &mut Csv, top: &[RunSummary], metric: &str) {
    let params: BTreeSet<&String> = top.iter().flat_map(|r| r.params.keys()).collect();
    let mut header = vec!["rank".to_string()];
    header.extend(params.iter().map(|p| p.to_string()));
    header.push(format!("metric_{metric}"));
    header.extend(KEY_STATS.iter().map(|s| s.to_string()));
    csv.row(header);
    for (rank, run) in top.iter().take(MAX_CSV_ROWS).enumerate() {
        let mut row = vec![(rank + 1).to_string()];
        row.extend(
            params
                .iter()
                .map(|p| run.params.get(*p).map_or(String::new(), |v| num(*v))),
        );
        row.push(opt(run.metric));
        row.extend(key_stats(run.stats.as_ref()));
        csv.row(row);
    }
}

fn folds_csv(csv: &mut Csv, folds: &[FoldResult]) {
    let params: BTreeSet<&String> = folds.iter().flat_map(|f| f.best_params.keys()).collect();
    let mut header: Vec<String> = [
        "fold",
        "in_sample_start",
        "in_sample_end",
        "out_of_sample_start",
        "out_of_sample_end",
    ]
    .map(String::from)
    .to_vec();
    header.extend(params.iter().map(|p| format!("best_{p}")));
    header.push("in_sample_metric".into());
    header.extend(KEY_STATS.iter().map(|s| format!("in_sample_{s}")));
    header.extend(KEY_STATS.iter().map(|s| format!("out_of_sample_{s}")));
    csv.row(header);
    for f in folds.iter().take(MAX_CSV_ROWS) {
        let mut row = vec![
            f.fold.to_string(),
            time(f.in_sample_time.0),
            time(f.in_sample_time.1),
            time(f.out_of_sample_time.0),
            time(f.out_of_sample_time.1),
        ];
        let best: &BTreeMap<String, f64> = &f.best_params;
        row.extend(
            params
                .iter()
                .map(|p| best.get(*p).map_or(String::new(), |v| num(*v))),
        );
        row.push(opt(f.in_sample_metric));
        row.extend(key_stats(Some(&f.in_sample_stats)));
        row.extend(key_stats(Some(&f.out_of_sample_stats)));
        csv.row(row);
    }
}

/// RFC 4180 text: comma-separated, CRLF line ends, fields quoted when they hold a comma, quote
/// or line break. A field that a spreadsheet would run as a formula (`=`, `+`, `@`, a tab or
/// carriage return first; `-` unless it is a number) is prefixed with `'`.
#[derive(Default)]
struct Csv {
    text: String,
}

impl Csv {
    fn row<I: IntoIterator<Item = String>>(&mut self, fields: I) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.field(&field);
        }
        self.text.push_str("\r\n");
    }

    fn field(&mut self, raw: &str) {
        let formula = raw.starts_with(['=', '+', '@', '\t', '\r'])
            || (raw.starts_with('-') && raw.parse::<f64>().is_err());
        let value = if formula {
            format!("'{raw}")
        } else {
            raw.to_string()
        };
        if value.contains([',', '"', '\n', '\r']) {
            let _ = write!(self.text, "\"{}\"", value.replace('"', "\"\""));
        } else {
            self.text.push_str(&value);
        }
    }
}

#[cfg(test)]
mod tests;
