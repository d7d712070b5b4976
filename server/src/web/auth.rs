//! Tokens: with `RUNBOARD_TOKEN` set, every page and server function needs a credential.
//!
//! - The API takes `Authorization: Bearer <token>` and answers `401` (JSON) without it.
//! - The browser signs in once at `/signin`: the token is exchanged for a session cookie
//!   (`HttpOnly`, `SameSite=Strict`, `Secure` over https) that is HMAC-signed with a key
//!   derived from the tokens, so it is valid in every process that shares them, expires after
//!   [`SESSION_TTL_SECS`], and dies when a token changes.
//! - `RUNBOARD_READ_TOKEN` grants [`Role::Read`]: pages and reading calls, no changes (`403`).
//! - Tokens are compared in constant time, and each failed attempt from an address waits
//!   longer than the one before ([`FailureThrottle`]).
//!
//! The sign-in page and its form post are in `signin`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::api::ApiError;
use app::components::results::format::escape_xml as escape;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::assets::Stylesheet;
use super::guard::{refuse, Security};

mod signin;

#[cfg(test)]
use signin::safe_next;
pub use signin::{signin_page, signin_submit, SigninForm, SigninQuery};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "runboard_session";
/// How long a browser session lasts.
pub const SESSION_TTL_SECS: i64 = 7 * 24 * 3600;
/// Server functions that only read; every other `/api/*` call needs [`Role::Write`] (except
/// the result downloads, GETs that only read: see [`super::export`]).
pub const READ_ENDPOINTS: [&str; 14] = [
    "/api/job_status",
    "/api/list_jobs",
    "/api/job_log",
    "/api/job_result",
    "/api/job_trades",
    "/api/list_datasets",
    "/api/dataset_page",
    "/api/dataset_chart",
    "/api/job_repro",
    "/api/compare_jobs",
    "/api/grid_view",
    "/api/check_strategy",
    "/api/list_strategies",
    "/api/get_strategy",
];

/// What a credential allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything (`RUNBOARD_TOKEN`).
    Write,
    /// Pages and reading calls (`RUNBOARD_READ_TOKEN`).
    Read,
}

impl Role {
    fn code(self) -> &'static str {
        match self {
            Role::Write => "w",
            Role::Read => "r",
        }
    }
}

/// The middleware: with a token configured, every route but the sign-in page and static
/// assets needs a valid bearer token or session cookie.
pub async fn require_token(
    State(security): State<Arc<Security>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = security.token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_string());
    if is_public(&path) {
        return next.run(request).await;
    }
    let keys = Keys::new(token, security.read_token.as_deref());
    let role = match credential(&keys, request.headers()) {
        Credential::Valid(role) => role,
        Credential::Invalid => {
            throttle().failed(client_ip(&request)).await;
            return unauthorized(&target, "the token or session is not valid");
        }
        Credential::Missing => return unauthorized(&target, "this server needs a token"),
    };
    if role == Role::Read && needs_write(request.method(), &path) {
        return refuse(ApiError::Forbidden {
            message: "the read-only token cannot change anything; use RUNBOARD_TOKEN".into(),
        });
    }
    next.run(request).await
}

/// Static assets and the sign-in page need no credential.
fn is_public(path: &str) -> bool {
    path == "/signin" || path == "/favicon.ico" || path.starts_with("/pkg/")
}

fn needs_write(method: &Method, path: &str) -> bool {
    if path.starts_with("/api/") {
        let download =
            matches!(*method, Method::GET | Method::HEAD) && super::export::is_export_path(path);
        return !(READ_ENDPOINTS.contains(&path) || download);
    }
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `401` JSON for the API; a redirect to the sign-in page (coming back to `target`) for pages.
fn unauthorized(target: &str, why: &str) -> Response {
    if target.starts_with("/api/") {
        let mut response = refuse(ApiError::Unauthorized {
            message: format!("{why}: send Authorization: Bearer <RUNBOARD_TOKEN>"),
        });
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"runboard\""),
        );
        return response;
    }
    let next = app::url::encode_path(target);
    Redirect::to(&format!("/signin?next={next}")).into_response()
}

enum Credential {
    Valid(Role),
    Invalid,
    Missing,
}

/// A bearer token wins over a cookie; a present but wrong one is `Invalid`.
fn credential(keys: &Keys, headers: &HeaderMap) -> Credential {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let given = auth.to_str().unwrap_or("");
        let given = given
            .strip_prefix("Bearer ")
            .or_else(|| given.strip_prefix("bearer "))
            .unwrap_or("");
        return keys
            .role_of_token(given.trim())
            .map_or(Credential::Invalid, Credential::Valid);
    }
    match cookie(headers, SESSION_COOKIE) {
        Some(value) => keys
            .verify_session(value, now_secs())
            .map_or(Credential::Invalid, Credential::Valid),
        None => Credential::Missing,
    }
}

/// The tokens, and the session-signing key derived from both.
pub struct Keys<'a> {
    token: &'a str,
    read_token: Option<&'a str>,
    session_key: [u8; 32],
}

impl<'a> Keys<'a> {
    pub fn new(token: &'a str, read_token: Option<&'a str>) -> Keys<'a> {
        let mut h = Sha256::new();
        h.update(b"runboard session key v1\0");
        h.update(token.as_bytes());
        h.update(b"\0");
        h.update(read_token.unwrap_or("").as_bytes());
        Keys {
            token,
            read_token,
            session_key: h.finalize().into(),
        }
    }

    /// The role a presented token grants, compared in constant time.
    pub fn role_of_token(&self, given: &str) -> Option<Role> {
        if constant_time_eq(given, self.token) {
            return Some(Role::Write);
        }
        match self.read_token {
            Some(read) if constant_time_eq(given, read) => Some(Role::Read),
            _ => None,
        }
    }

    /// A signed session value: `v1.<role>.<expires>.<hex mac>`.
    pub fn issue_session(&self, role: Role, now: i64) -> String {
        let payload = format!(
            "v1.{}.{}",
            role.code(),
            now.saturating_add(SESSION_TTL_SECS)
        );
        format!("{payload}.{}", hex::encode(self.mac(&payload)))
    }

    /// The role of a session value that is well-formed, correctly signed and not expired.
    pub fn verify_session(&self, value: &str, now: i64) -> Option<Role> {
        let (payload, mac) = value.rsplit_once('.')?;
        let mac = hex::decode(mac).ok()?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.session_key).ok()?;
        check.update(payload.as_bytes());
        check.verify_slice(&mac).ok()?;
        let mut parts = payload.split('.');
        let (version, role, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if version != "v1" || parts.next().is_some() || expires.parse::<i64>().ok()? <= now {
            return None;
        }
        match role {
            "w" => Some(Role::Write),
            "r" if self.read_token.is_some() => Some(Role::Read),
            _ => None,
        }
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.session_key)
            .expect("HMAC takes keys of any length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Equal strings, in time that depends on neither content nor length (both are hashed first).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (ha, hb) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    ha.ct_eq(&hb).into()
}

/// Slows down repeated failures per client address: the n-th failure in a row waits
/// `BASE × 2^(n-1)`, at most `MAX`. Forgotten after `QUIET` without failures; the table is
/// bounded (cleared when full).
pub struct FailureThrottle {
    failures: Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>,
}

impl FailureThrottle {
    pub const BASE: Duration = Duration::from_millis(250);
    pub const MAX: Duration = Duration::from_secs(8);
    pub const QUIET: Duration = Duration::from_secs(900);
    pub const MAX_ENTRIES: usize = 10_000;

    pub fn new() -> FailureThrottle {
        FailureThrottle {
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records a failure from `ip` and returns how long to hold the answer back.
    pub fn record(&self, ip: Option<IpAddr>, now: Instant) -> Duration {
        let Ok(mut map) = self.failures.lock() else {
            return Self::MAX;
        };
        if map.len() >= Self::MAX_ENTRIES {
            map.retain(|_, (_, last)| now.duration_since(*last) < Self::QUIET);
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= Self::QUIET {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        Self::BASE
            .saturating_mul(1 << (entry.0 - 1).min(10))
            .min(Self::MAX)
    }

    async fn failed(&self, ip: Option<IpAddr>) {
        let delay = self.record(ip, Instant::now());
        tracing::warn!(?ip, ?delay, "authentication failed");
        tokio::time::sleep(delay).await;
    }
}

impl Default for FailureThrottle {
    fn default() -> Self {
        Self::new()
    }
}

fn throttle() -> &'static FailureThrottle {
    static THROTTLE: std::sync::OnceLock<FailureThrottle> = std::sync::OnceLock::new();
    THROTTLE.get_or_init(FailureThrottle::new)
}

fn client_ip(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests;
