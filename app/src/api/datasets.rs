//! Dataset server functions: import a CSV, list what is stored (all, or a page), delete, and a
//! dataset's downsampled price for its page.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::ApiError;
use crate::model::DatasetInfo;

/// Imports OHLCV bars from CSV text: `{"name": "SPY daily", "csv": "date,open,high,low,close,volume\n…"}`.
/// Every bad row is reported with its line and column, and nothing is stored from a rejected file.
#[server(prefix = "/api", endpoint = "import_dataset", input = Json, output = Json)]
pub async fn import_dataset(name: String, csv: String) -> Result<DatasetInfo, ApiError> {
    use super::with_status;
    use crate::model::dataset::{validate_dataset_name, MAX_CSV_BYTES};
    validate_dataset_name(&name).map_err(|m| with_status(ApiError::invalid("name", m)))?;
    if csv.len() > MAX_CSV_BYTES {
        return Err(with_status(ApiError::invalid(
            "csv",
            format!("{} bytes is over the {MAX_CSV_BYTES}-byte limit", csv.len()),
        )));
    }
    let backend = super::backend::backend().map_err(with_status)?;
    backend
        .import_dataset(name.trim().to_string(), csv)
        .await
        .map_err(|e| with_status(e.into()))
}

/// Every stored dataset, newest first: `{}`.
#[server(prefix = "/api", endpoint = "list_datasets", input = Json, output = Json)]
pub async fn list_datasets() -> Result<Vec<DatasetInfo>, ApiError> {
    super::call(|b| async move { b.list_datasets().await }).await
}

/// Most datasets per page of [`dataset_page`].
pub const MAX_DATASETS_PER_PAGE: u32 = 100;

#[cfg(feature = "ssr")]
fn dataset_id(input: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(input.trim()).map_err(|_| {
        super::with_status(ApiError::invalid(
            "id",
            format!(
                "not a valid dataset id: {:?}",
                input.chars().take(60).collect::<String>()
            ),
        ))
    })
}

/// One page of the datasets, newest first: `{"page": 1, "per_page": 20}` (both optional;
/// `per_page` 1..=100).
#[server(prefix = "/api", endpoint = "dataset_page", input = Json, output = Json)]
pub async fn dataset_page(
    #[server(default)] page: Option<u32>,
    #[server(default)] per_page: Option<u32>,
) -> Result<crate::model::DatasetPage, ApiError> {
    use super::with_status;
    let per_page = per_page.unwrap_or(20);
    if !(1..=MAX_DATASETS_PER_PAGE).contains(&per_page) {
        return Err(with_status(ApiError::invalid(
            "per_page",
            format!("must be 1..={MAX_DATASETS_PER_PAGE}, got {per_page}"),
        )));
    }
    // Page numbers beyond a million are clamped, like the jobs list's.
    let page = page.unwrap_or(1).clamp(1, 1_000_000);
    super::call(|b| async move { b.dataset_page(page, per_page).await }).await
}

/// Deletes a dataset: `{"id": "<uuid>"}`; `409` while a queued or running job uses it (and
/// for the built-in sample). Finished jobs keep their results.
#[server(prefix = "/api", endpoint = "delete_dataset", input = Json, output = Json)]
pub async fn delete_dataset(id: String) -> Result<(), ApiError> {
    let id = dataset_id(&id)?;
    super::call(|b| async move { b.delete_dataset(id).await }).await
}

/// A dataset's info and its close price, downsampled to at most ~2,000 points with min/max
/// buckets: `{"id": "<uuid>"}`.
#[server(prefix = "/api", endpoint = "dataset_chart", input = Json, output = Json)]
pub async fn get_dataset_chart(id: String) -> Result<crate::model::DatasetChart, ApiError> {
    let id = dataset_id(&id)?;
    super::call(|b| async move { b.dataset_chart(id).await }).await
}
