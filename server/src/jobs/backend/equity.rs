//! A succeeded backtest's full equity curve, one value per bar, for downloads: recomputed from
//! the job's stored request, its dataset and (for a rule program) the version it recorded.

use app::api::backend::BackendError;
use app::model::JobKind;
use uuid::Uuid;

use super::{internal, to_backend_error, StoreBackend};
use crate::datasets::DatasetError;
use crate::engine;

pub(super) async fn full_equity(
    backend: &StoreBackend,
    id: Uuid,
) -> Result<Vec<(i64, f64)>, BackendError> {
    let status = backend.store.status(id).await.map_err(to_backend_error)?;
    if status.kind != JobKind::Backtest || status.state != app::model::JobState::Succeeded {
        return Err(BackendError::Conflict(format!(
            "job {id} is a {} in state {}: the full equity curve is there for succeeded backtests",
            status.kind, status.state
        )));
    }
    let args = backend.store.args(id).await.map_err(to_backend_error)?;
    let req: app::model::research::BacktestRequest =
        serde_json::from_value(args).map_err(|e| internal(&e))?;
    // A rule-language strategy: the version the job recorded (its hash checked again).
    let program = match &req.rules {
        Some(rules) => Some(
            crate::strategies::load_program(backend.store.pool(), rules)
                .await
                .map_err(|e| {
                    BackendError::Conflict(format!(
                    "the job's strategy cannot be loaded, so its curve cannot be recomputed: {e}"
                ))
                })?,
        ),
        None => None,
    };
    let dataset = Uuid::parse_str(req.dataset_id.trim()).map_err(|e| internal(&e))?;
    let series = backend.datasets.load(dataset).await.map_err(|e| match e {
        DatasetError::NotFound(_) => BackendError::Conflict(
            "the job's dataset has been deleted, so its curve cannot be recomputed".into(),
        ),
        other => internal(&other),
    })?;
    tokio::task::spawn_blocking(move || {
        let equity = match &program {
            Some(program) => engine::rules::rule_backtest_equity(
                &series,
                program,
                &engine::rules::RuleBacktestRequest::of(&req),
            ),
            None => engine::backtest::backtest_equity(&series, &req),
        };
        equity.map(|eq| series.ts.iter().copied().zip(eq).collect())
    })
    .await
    .map_err(|e| internal(&e))?
    .map_err(|e| internal(&e))
}
