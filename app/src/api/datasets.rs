//! Dataset server functions: import a CSV, list what is stored.

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
    use super::with_status;
    let backend = super::backend::backend().map_err(with_status)?;
    backend
        .list_datasets()
        .await
        .map_err(|e| with_status(e.into()))
}
