//! The one error type every server function returns: typed, user-safe, with an HTTP status.
//!
//! The real cause of an internal failure goes to the server log; the browser and curl get only
//! the variant and a message written for a person.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, as the client sees it. Serialized as JSON with a `kind` tag, e.g.
/// `{"kind":"no_such_job","id":"…"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// The id is not a UUID.
    #[error("not a valid job id: {input:?} (expected a UUID such as 3f1c…-…)")]
    InvalidJobId { input: String },
    /// A well-formed id that names no job.
    #[error("no such job: {id}")]
    NoSuchJob { id: String },
    /// A request field is missing, malformed or out of range; `field` names it.
    #[error("invalid request: {field}: {message}")]
    InvalidRequest { field: String, message: String },
    /// An uploaded CSV has problems: each names its line and column (at most 20 are listed).
    #[error("the CSV has {} problem(s); first: {}", errors.len(), errors.first().map(|e| e.to_string()).unwrap_or_default())]
    InvalidCsv { errors: Vec<crate::model::CsvIssue> },
    /// The request is valid but the job's state does not allow it (e.g. cancel a finished job).
    #[error("{message}")]
    Conflict { message: String },
    /// Too many jobs are queued or running (`RUNBOARD_MAX_ACTIVE_JOBS`); retry when some end.
    #[error("{message}")]
    TooManyJobs { message: String, limit: u64 },
    /// The body is larger than the server accepts (`RUNBOARD_MAX_UPLOAD_BYTES` for uploads).
    #[error("{message}")]
    PayloadTooLarge { message: String, limit: u64 },
    /// No valid token or session (when `RUNBOARD_TOKEN` is set).
    #[error("{message}")]
    Unauthorized { message: String },
    /// Authenticated, or from another site, but not allowed to do this.
    #[error("{message}")]
    Forbidden { message: String },
    /// The body is not `application/json`.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// Something failed on the server; details are in the server log under `reference`.
    #[error("the server could not complete the request (reference {reference}); please retry")]
    Internal { reference: String },
    /// The request never got a usable answer (network down, server restarting).
    #[error("could not reach the server: {message}")]
    Unreachable { message: String },
}

impl ApiError {
    /// The HTTP status this error is sent with: 4xx for the caller's mistakes, 5xx for ours.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidJobId { .. }
            | ApiError::InvalidRequest { .. }
            | ApiError::InvalidCsv { .. } => 400,
            ApiError::NoSuchJob { .. } => 404,
            ApiError::Conflict { .. } => 409,
            ApiError::Unauthorized { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::UnsupportedMediaType { .. } => 415,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::TooManyJobs { .. } => 429,
            ApiError::Internal { .. } => 500,
            ApiError::Unreachable { .. } => 503,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Whether retrying the same request later may succeed (the poller keeps going on these).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Internal { .. } | ApiError::Unreachable { .. }
        )
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not decode the request body: the caller's mistake, so a 400.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                with_status(ApiError::invalid("body", message))
            }
            // On the server, a body that does not decode into the arguments (the JSON codec
            // reports it as Deserialization); in the browser it means a bad response.
            ServerFnErrorErr::Deserialization(message) if in_server_request() => {
                with_status(ApiError::invalid("body", message))
            }
            other => ApiError::Unreachable {
                message: other.to_string(),
            },
        }
    }
}

/// Sets the HTTP status of the response being built (server side) to the error's status.
///
/// Server functions return errors through this so curl sees 400/404/409 rather than the
/// framework's default 500. Outside a request (tests, the browser) it only returns the error.
pub fn with_status(err: ApiError) -> ApiError {
    #[cfg(feature = "ssr")]
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = http::StatusCode::from_u16(err.status()) {
            options.set_status(code);
        }
    }
    err
}

/// True while handling a request on the server.
fn in_server_request() -> bool {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>().is_some()
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Parses a job id given by a user, naming the input when it is not a UUID.
pub fn parse_job_id(input: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(input.trim()).map_err(|_| ApiError::InvalidJobId {
        input: input.chars().take(80).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_named_in_the_error() {
        let err = parse_job_id("not-a-uuid").unwrap_err();
        assert_eq!(
            err,
            ApiError::InvalidJobId {
                input: "not-a-uuid".into()
            }
        );
        assert!(err.to_string().starts_with("not a valid job id"));
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn errors_serialize_with_a_kind_tag() {
        let json = serde_json::to_value(ApiError::NoSuchJob { id: "x".into() }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "no_such_job", "id": "x"}));
    }
}
