//! `GET /api/jobs/{id}/status`: a job's status for pollers that speak HTTP caching (the CLI,
//! scripts, dashboards). The body is the same JSON as `/api/job_status`; the response carries an
//! `ETag` (a hash of that JSON) and `Cache-Control: no-cache`, and a request whose
//! `If-None-Match` names the current tag gets `304 Not Modified` with no body. Statuses come from
//! the backend's snapshot (see `jobs::status_cache`), so a thousand pollers of one job cost one
//! query per 250 ms.

use std::hash::{Hash, Hasher};

use app::api::backend::SharedBackend;
use app::api::parse_job_id;
use axum::extract::Path;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::guard::Refusal;
use crate::jobs::backend::internal;

/// The route, as axum spells it.
pub const STATUS_ROUTE: &str = "/api/jobs/{id}/status";

/// The entity tag of a status body: a quoted 64-bit hash of its bytes.
pub fn etag_of(body: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /api/jobs/{id}/status`.
pub async fn job_status(
    Extension(backend): Extension<SharedBackend>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let id = parse_job_id(&raw_id)?;
    let status = backend.job_status(id).await?;
    let body = serde_json::to_vec(&status).map_err(|e| internal(&e))?;
    let etag = etag_of(&body);
    let tag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if matches(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag), cache]).into_response());
    }
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, tag),
            cache,
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag() {
        let tag = etag_of(b"{}");
        assert_eq!(tag, etag_of(b"{}"));
        assert_ne!(tag, etag_of(b"{ }"));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(matches(&with(&tag), &tag));
        assert!(matches(&with(&format!("\"x\", W/{tag}")), &tag));
        assert!(matches(&with("*"), &tag));
        assert!(!matches(&with("\"x\""), &tag));
        assert!(!matches(&HeaderMap::new(), &tag));
    }
}
