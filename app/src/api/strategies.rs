//! Strategy server functions under `/api/*` (issue 13): users' rule-language programs, checked,
//! saved by name with numbered versions, listed and deleted. JSON in, JSON out; errors are the
//! typed [`ApiError`]s with their 4xx statuses.
//!
//! * `/api/check_strategy {"source": "…"}` → [`StrategyCheck`]: a program that does not check is
//!   an answer (`ok: false`, `errors` with line and column), never an HTTP error; only a missing
//!   or oversized (> 64 KiB) source is a `400`.
//! * `/api/save_strategy {"source": "…"}` → [`SavedStrategy`]; `400` (field `source`, the errors
//!   one per line) if it does not check.
//! * `/api/list_strategies {"page": 1, "per_page": 20}` → [`StrategyList`] (newest version of
//!   each; both optional, `per_page` ≤ 100).
//! * `/api/get_strategy {"id": "<uuid>", "version": 2}` → [`StrategySource`] (version optional:
//!   the newest).
//! * `/api/delete_strategy {"id": "<uuid>"}` → [`DeletedStrategy`]; `409` while a queued or
//!   running job runs it.

use leptos::prelude::*;
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::call;
use super::ApiError;
#[cfg(feature = "ssr")]
use crate::model::strategies::MAX_STRATEGIES_PER_PAGE;
use crate::model::strategies::{
    DeletedStrategy, SavedStrategy, StrategyCheck, StrategyList, StrategySource,
};

#[cfg(feature = "ssr")]
fn bad(field: &str, message: String) -> ApiError {
    super::with_status(ApiError::invalid(field, message))
}

#[cfg(feature = "ssr")]
fn source_fits(source: &str) -> Result<(), ApiError> {
    use crate::model::research::MAX_RULE_SOURCE_BYTES;
    if source.len() > MAX_RULE_SOURCE_BYTES {
        return Err(bad(
            "source",
            format!(
                "the program has {} bytes; the limit is {MAX_RULE_SOURCE_BYTES} (64 KiB)",
                source.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn strategy_id(input: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(input.trim()).map_err(|_| {
        bad(
            "id",
            format!(
                "not a valid strategy id: {:?} (expected a UUID)",
                input.chars().take(80).collect::<String>()
            ),
        )
    })
}

/// Checks a program: `{"source": "strategy \"…\"\n…"}` → `{ok, name, params, lookback,
/// errors}`.
#[server(prefix = "/api", endpoint = "check_strategy", input = Json, output = Json)]
pub async fn check_strategy(source: String) -> Result<StrategyCheck, ApiError> {
    source_fits(&source)?;
    call(|b| async move { b.check_strategy(source).await }).await
}

/// Saves a program under its `strategy "…"` name: `{"source": "…"}` → `{id, version, name,
/// content_hash, created_at, created}`.
#[server(prefix = "/api", endpoint = "save_strategy", input = Json, output = Json)]
pub async fn save_strategy(source: String) -> Result<SavedStrategy, ApiError> {
    source_fits(&source)?;
    call(|b| async move { b.save_strategy(source).await }).await
}

/// The newest version of each strategy, most recently saved first: `{"page": 1, "per_page":
/// 20}` (both optional).
#[server(prefix = "/api", endpoint = "list_strategies", input = Json, output = Json)]
pub async fn list_strategies(
    #[server(default)] page: Option<u32>,
    #[server(default)] per_page: Option<u32>,
) -> Result<StrategyList, ApiError> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(bad("page", "pages count from 1".into()));
    }
    let page = page.min(1_000_000);
    let per_page = per_page.unwrap_or(20);
    if per_page == 0 || per_page > MAX_STRATEGIES_PER_PAGE {
        return Err(bad(
            "per_page",
            format!("must be 1..={MAX_STRATEGIES_PER_PAGE}, got {per_page}"),
        ));
    }
    call(|b| async move { b.list_strategies(page, per_page).await }).await
}

/// One version of a strategy with its source: `{"id": "<uuid>", "version": 2}` (version
/// optional: the newest).
#[server(prefix = "/api", endpoint = "get_strategy", input = Json, output = Json)]
pub async fn get_strategy(
    id: String,
    #[server(default)] version: Option<u32>,
) -> Result<StrategySource, ApiError> {
    let id = strategy_id(&id)?;
    let version = match version {
        None => None,
        Some(v) if v >= 1 && v <= i32::MAX as u32 => Some(v as i32),
        Some(v) => return Err(bad("version", format!("versions count from 1, got {v}"))),
    };
    call(|b| async move { b.get_strategy(id, version).await }).await
}

/// Deletes every version of a strategy: `{"id": "<uuid>"}`; refused (`409`) while a queued or
/// running job runs it.
#[server(prefix = "/api", endpoint = "delete_strategy", input = Json, output = Json)]
pub async fn delete_strategy(id: String) -> Result<DeletedStrategy, ApiError> {
    let id = strategy_id(&id)?;
    call(|b| async move { b.delete_strategy(id).await }).await
}
