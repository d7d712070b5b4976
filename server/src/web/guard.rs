//! The request guard, in front of every route: nothing a page on another origin sends can
//! change state, and every response carries the security headers.
//!
//! - **Hosts.** Without a token the server only answers to loopback host names (and the hosts
//!   of `RUNBOARD_ALLOWED_ORIGINS`), so a DNS-rebinding page cannot talk to it by another name.
//! - **Cross-site writes.** A request that may change state (any method but GET/HEAD/OPTIONS)
//!   is refused with `403` when its `Origin` is another origin not explicitly allowed, or, with
//!   no `Origin`, when `Sec-Fetch-Site` says another site sent it. Requests with neither header
//!   (curl, scripts) are not cross-site and pass (a token, when set, still applies to them).
//! - **JSON only.** A `POST` to `/api/*` must be `application/json` (`415` otherwise): browsers
//!   send `text/plain` and form bodies cross-site without a preflight, JSON never.
//! - **Headers.** `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy`, and a strict
//!   default `Content-Security-Policy` unless the page set its own (the HTML shell sets one
//!   with the per-request nonce of its hydration script).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use app::api::ApiError;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Config;

/// What the guard and the token check need to know.
#[derive(Clone, Debug, Default)]
pub struct Security {
    /// `RUNBOARD_TOKEN`: full access.
    pub token: Option<String>,
    /// `RUNBOARD_READ_TOKEN`: read-only access.
    pub read_token: Option<String>,
    /// Further origins (normalized `scheme://host[:port]`) allowed to call the API.
    pub allowed_origins: Vec<String>,
    /// `RUNBOARD_MAX_UPLOAD_BYTES`: the largest CSV upload body; `None` for the default
    /// ([`crate::config::DEFAULT_MAX_UPLOAD_BYTES`]).
    pub max_upload_bytes: Option<u64>,
}

impl Security {
    pub fn from_config(config: &Config) -> Security {
        Security {
            token: config.token.clone(),
            read_token: config.read_token.clone(),
            allowed_origins: config.allowed_origins.clone(),
            max_upload_bytes: Some(config.max_upload_bytes),
        }
    }

    /// The largest CSV upload body, in bytes.
    pub fn upload_limit(&self) -> u64 {
        self.max_upload_bytes
            .unwrap_or(crate::config::DEFAULT_MAX_UPLOAD_BYTES)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.allowed_origins.contains(&origin)
    }
}

/// The nonce of the page being rendered for this request, shared between the guard and the
/// router's Leptos context (which records it).
#[derive(Clone, Debug, Default)]
pub struct PageNonce(Arc<std::sync::Mutex<Option<String>>>);

impl PageNonce {
    pub fn set(&self, nonce: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(nonce);
        }
    }

    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// The policy for pages without their own: nothing may load, frame, or be posted elsewhere.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Refuses to serve beyond loopback without a token (the message says how to set one).
pub fn check_bind(addr: SocketAddr, token_set: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || token_set {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr} without a token: anyone who can reach that address could \
         run and cancel jobs. Set RUNBOARD_TOKEN (at least 16 characters, e.g. \
         RUNBOARD_TOKEN=$(openssl rand -hex 32)), or listen on loopback only \
         (LEPTOS_SITE_ADDR=127.0.0.1:3000)"
    ))
}

/// The middleware: host, cross-site and content-type checks, then the security headers.
pub async fn guard(
    State(security): State<Arc<Security>>,
    mut request: Request,
    next: Next,
) -> Response {
    let cors_origin = allowed_cross_origin(&security, request.headers());
    let nonce = PageNonce::default();
    request.extensions_mut().insert(nonce.clone());
    let mut response = match check(&security, &request) {
        Err(refusal) => refuse(refusal),
        Ok(()) if request.method() == Method::OPTIONS && cors_origin.is_some() => {
            preflight_response()
        }
        Ok(()) => next.run(request).await,
    };
    // The HTML shell sets the page's policy with its nonce; should that header be missing,
    // the nonce Leptos rendered (recorded by the router's context) still gives the right one.
    if !response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        if let Some(nonce) = nonce.get() {
            if let Ok(v) = HeaderValue::from_str(&app::content_security_policy(&nonce)) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, v);
            }
        }
    }
    add_security_headers(response.headers_mut());
    if let Some(origin) = cors_origin {
        add_cors_headers(response.headers_mut(), &origin);
    }
    response
}

fn check(security: &Security, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    if security.token.is_none() {
        if let Some(host) = header_str(headers, header::HOST) {
            if !host_allowed(security, host) {
                return Err(ApiError::Forbidden {
                    message: format!(
                        "this server answers to loopback names only; host {host:?} is not \
                         allowed (add its origin to RUNBOARD_ALLOWED_ORIGINS, with a token)"
                    ),
                });
            }
        }
    }
    if !is_safe_method(request.method()) {
        if let Some(reason) = cross_site_reason(security, headers) {
            return Err(ApiError::Forbidden { message: reason });
        }
    }
    if request.uri().path().starts_with("/api/") && request.method() == Method::POST {
        let content_type = header_str(headers, header::CONTENT_TYPE).unwrap_or("");
        // The one exception: a CSV upload streams its raw text (`text/csv` is not a type a
        // cross-site form can send without a CORS preflight, so it stays same-site).
        let csv_upload = request.uri().path() == super::upload::UPLOAD_PATH && is_csv(content_type);
        if !is_json(content_type) && !csv_upload {
            return Err(ApiError::UnsupportedMediaType {
                message: format!(
                    "the API takes JSON bodies only: send content-type: application/json (got {})",
                    if content_type.is_empty() {
                        "none".to_string()
                    } else {
                        format!("{:?}", truncate(content_type, 80))
                    }
                ),
            });
        }
    }
    Ok(())
}

/// Why a state-changing request counts as cross-site, or `None` when it does not.
pub fn cross_site_reason(security: &Security, headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = header_str(headers, header::ORIGIN) {
        let same = header_str(headers, header::HOST)
            .is_some_and(|host| origin_host(origin).eq_ignore_ascii_case(host));
        if same || security.origin_allowed(origin) {
            return None;
        }
        return Some(format!(
            "cross-site request refused: origin {:?} may not change anything here (allow it \
             with RUNBOARD_ALLOWED_ORIGINS)",
            truncate(origin, 100)
        ));
    }
    match header_str(headers, HeaderName::from_static("sec-fetch-site")) {
        None | Some("same-origin") | Some("none") => None,
        Some(site) => Some(format!(
            "cross-site request refused: the browser says it came from a {} page",
            truncate(site, 20)
        )),
    }
}

/// The `host[:port]` part of an origin such as `http://127.0.0.1:3000`.
fn origin_host(origin: &str) -> &str {
    origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin)
        .trim_end_matches('/')
}

/// Loopback names, and the hosts of explicitly allowed origins.
fn host_allowed(security: &Security, host: &str) -> bool {
    let name = strip_port(host);
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        || security
            .allowed_origins
            .iter()
            .any(|o| origin_host(o).eq_ignore_ascii_case(host))
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map(|(ip, _)| ip).unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_csv(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// An allowed foreign origin that sent this request, for the CORS headers.
fn allowed_cross_origin(security: &Security, headers: &HeaderMap) -> Option<String> {
    let origin = header_str(headers, header::ORIGIN)?;
    security.origin_allowed(origin).then(|| origin.to_string())
}

fn preflight_response() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization, accept"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn add_cors_headers(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// Adds the headers every response gets; a page's own `Content-Security-Policy` is kept.
pub fn add_security_headers(headers: &mut HeaderMap) {
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// An [`ApiError`] as a JSON response with its status.
pub fn refuse(error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(error)).into_response()
}

/// What a handler returns with `?` when it refuses: an [`ApiError`] (or a backend error, as the
/// API reports it), answered by [`refuse`].
pub struct Refusal(pub ApiError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.0)
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal(error)
    }
}

impl From<app::api::backend::BackendError> for Refusal {
    fn from(error: app::api::backend::BackendError) -> Self {
        Refusal(ApiError::from(error))
    }
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests;
