//! The fallback route.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="panel">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to Runboard"</a></p>
        </section>
    }
}
