//! The HTTP side: Leptos pages and the `/api/*` server functions on one axum router.

use std::sync::Arc;

use app::api::backend::SharedBackend;
use app::{shell, App};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// Builds the router: SSR pages, server functions (with the backend in context), static files.
pub fn router(options: LeptosOptions, backend: SharedBackend) -> Router {
    let routes = generate_route_list(App);
    let context_backend = backend.clone();
    Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || provide_context::<SharedBackend>(context_backend.clone()),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(options)
}

/// Wraps a backend implementation for the Leptos context.
pub fn shared<B: app::api::backend::JobBackend>(backend: B) -> SharedBackend {
    Arc::new(backend)
}
