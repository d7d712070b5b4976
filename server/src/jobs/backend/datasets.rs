//! The dataset calls of the backend that do more than one store call: a CSV import in one
//! request, a delete (refused for the sample and for datasets in use), and the close-price
//! chart downsampled for display.

use app::api::backend::BackendError;
use app::model::DatasetInfo;
use uuid::Uuid;

use super::{internal, StoreBackend};
use crate::datasets::DatasetError;
use crate::engine;

pub(super) async fn import(
    backend: &StoreBackend,
    name: String,
    csv: String,
) -> Result<DatasetInfo, BackendError> {
    let max_rows = backend.limits.max_bars;
    let parsed =
        tokio::task::spawn_blocking(move || engine::data::parse_csv_with_limit(&csv, max_rows))
            .await
            .map_err(|e| internal(&e))?;
    let series = parsed.map_err(BackendError::InvalidCsv)?;
    backend
        .datasets
        .insert(&name, None, &series)
        .await
        .map_err(|e| match e {
            DatasetError::NameTaken(name) => BackendError::invalid(
                "name",
                format!("a dataset named {name:?} already exists; choose another name"),
            ),
            DatasetError::TooShort => {
                BackendError::invalid("csv", "a dataset needs at least 2 bars")
            }
            other => internal(&other),
        })
}

pub(super) async fn delete(backend: &StoreBackend, id: Uuid) -> Result<(), BackendError> {
    if id == crate::datasets::SAMPLE_DATASET_ID {
        return Err(BackendError::Conflict(
            "the built-in sample cannot be deleted (it comes back at every start)".into(),
        ));
    }
    backend.datasets.delete(id).await.map_err(|e| match e {
        DatasetError::NotFound(id) => BackendError::invalid("id", format!("no such dataset: {id}")),
        DatasetError::InUse { jobs } => BackendError::Conflict(format!(
            "{jobs} queued or running job(s) use this dataset; cancel them or wait, then delete it"
        )),
        other => internal(&other),
    })
}

pub(super) async fn chart(
    backend: &StoreBackend,
    id: Uuid,
) -> Result<app::model::DatasetChart, BackendError> {
    let not_found = |e: DatasetError| match e {
        DatasetError::NotFound(id) => BackendError::invalid("id", format!("no such dataset: {id}")),
        other => internal(&other),
    };
    let info = backend.datasets.info(id).await.map_err(not_found)?;
    let series = backend.datasets.load(id).await.map_err(not_found)?;
    let points = tokio::task::spawn_blocking(move || {
        engine::downsample::equity_points(&series.ts, &series.close)
    })
    .await
    .map_err(|e| internal(&e))?;
    Ok(app::model::DatasetChart { info, points })
}
