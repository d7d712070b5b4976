//! The HTTP side: Leptos pages and the `/api/*` server functions on one axum router, behind
//! the request guard (`guard`: hosts, cross-site writes, content types, security headers) and
//! the optional token check (`auth`: bearer tokens, the sign-in page, session cookies).

pub mod assets;
pub mod auth;
pub mod docs;
pub mod export;
pub mod guard;
pub mod status;
pub mod upload;

use std::sync::Arc;

use app::api::backend::SharedBackend;
use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;

pub use guard::Security;

/// Builds the router with the default security: no token, same-origin writes only.
pub fn router(options: LeptosOptions, backend: SharedBackend) -> Router {
    router_with(options, backend, Security::default())
}

/// Builds the router: SSR pages, server functions (with the backend in context), static files,
/// the sign-in page, all behind the guard and (when a token is set) the token check.
pub fn router_with(options: LeptosOptions, backend: SharedBackend, security: Security) -> Router {
    let routes = generate_route_list(App);
    let stylesheet = assets::Stylesheet(assets::pkg_href(&options, "css"));
    // The result downloads (plain axum GETs) reach the backend as an extension.
    let downloads = axum::Extension(backend.clone());
    // Every page and server function gets the backend and the stylesheet's hashed name.
    let context = {
        let href = app::StylesheetHref(stylesheet.0.clone());
        let chunks = assets::island_chunks(&options);
        move || {
            provide_context::<SharedBackend>(backend.clone());
            provide_context(href.clone());
            provide_context(chunks.for_request());
            record_nonce();
        }
    };
    let security = Arc::new(security);
    Router::new()
        .route("/signin", get(auth::signin_page).post(auth::signin_submit))
        .route(export::JSON_ROUTE, get(export::result_json))
        .route(export::CSV_ROUTE, get(export::result_csv))
        .route(export::EQUITY_ROUTE, get(export::equity_csv))
        .route(status::STATUS_ROUTE, get(status::job_status))
        .route("/docs/robustness", get(docs::robustness_page))
        .route("/docs/rules", get(docs::rules_page))
        .route(upload::UPLOAD_PATH, axum::routing::post(upload::upload_csv))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .layer(downloads)
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            guard::guard,
        ))
        .layer(axum::Extension(security))
        .layer(axum::Extension(stylesheet))
        .layer(axum::middleware::from_fn(assets::cache_control))
        // Brotli or gzip, as the client accepts: pages, the WASM, JS, CSS and JSON (not images,
        // gRPC, or bodies under 32 bytes: tower-http's default predicate). Pages hydrate the
        // same compressed or not (the e2e suite's console checks run against compressed pages).
        .layer(CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(options)
}

/// Hands this request's Leptos nonce to the guard (see [`guard::PageNonce`]).
fn record_nonce() {
    let nonce = leptos::nonce::use_nonce();
    let slot = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<guard::PageNonce>().cloned());
    if let (Some(nonce), Some(slot)) = (nonce, slot) {
        slot.set(nonce.to_string());
    }
}

/// Wraps a backend implementation for the Leptos context.
pub fn shared<B: app::api::backend::JobBackend>(backend: B) -> SharedBackend {
    Arc::new(backend)
}
