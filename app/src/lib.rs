#![recursion_limit = "256"]
//! Runboard's shared crate: what the server renders and the browser hydrates.
//!
//! - [`model`]: serde types shared by server and browser (`JobStatus`, …).
//! - [`api`]: the `#[server]` functions under `/api/*` (thin: validate, call the backend port).
//! - [`components`]: props in, view out.
//! - [`pages`]: one route per file.
//!
//! The app renders in islands mode: pages render on the server only, and the browser hydrates
//! just the `#[island]` components (the run form, a job's live panel, the jobs list, the
//! editor, the delete buttons' tables). Results, charts and tables ship no code: where they
//! change in place (a new grid view, another page of trades, a job's results once it ends),
//! [`swap`] fetches the page's new HTML and swaps the part.

pub mod api;
pub mod components;
pub mod model;
pub mod pages;
pub mod poll;
pub mod ready;
pub mod swap;
pub mod url;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

use pages::{
    backtest::BacktestPage, compare::ComparePage, job::JobPage, jobs::JobsPage, not_found::NotFound,
};

/// The HTML document around the app, rendered on the server. It sets the page's
/// Content-Security-Policy, which admits only this request's nonce for the hydration script.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The policy for HTML pages: scripts from this origin plus the inline hydration script carrying
/// this response's nonce, WebAssembly compilation, styles from this origin (inline `style`
/// attributes too: the progress bar's width), and nothing framed, embedded or posted elsewhere.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos::nonce::use_nonce;
    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The stylesheet's URL, `/pkg/runboard.<hash>.css` when cargo-leptos hashes file names: the
/// server knows it from `hash.txt` ([`StylesheetHref`] in context).
#[derive(Clone, Debug)]
pub struct StylesheetHref(pub String);

/// The unhashed name, when nothing says otherwise.
pub const DEFAULT_STYLESHEET: &str = "/pkg/runboard.css";

fn stylesheet_href() -> String {
    use_context::<StylesheetHref>()
        .map(|h| h.0)
        .unwrap_or_else(|| DEFAULT_STYLESHEET.to_string())
}

/// The root component: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href=stylesheet_href() />
        <Title text="Runboard" />
        <Router>
            <header class="topbar">
                <a class="topbar__brand" href="/">"Runboard"</a>
                <nav class="topbar__nav" aria-label="Main">
                    <A href="/">"New run"</A>
                    <A href="/jobs">"Jobs"</A>
                    <A href="/datasets">"Datasets"</A>
                    <A href="/strategies">"Strategies"</A>
                </nav>
            </header>
            <main class="container">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=BacktestPage ssr=SsrMode::Async />
                    <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                    // Async: the whole page (and its status code, 404 for an unknown job) waits for the
                    // job's status, so the server-rendered HTML already shows the truth.
                    <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async />
                    // Async too: an invalid list of ids answers 400 with the page.
                    <Route path=path!("/compare") view=ComparePage ssr=SsrMode::Async />
                    <Route path=path!("/datasets") view=pages::datasets::DatasetsPage ssr=SsrMode::Async />
                    <Route path=path!("/datasets/:id") view=pages::datasets::DatasetPage ssr=SsrMode::Async />
                    <Route path=path!("/strategies") view=pages::strategies::StrategiesPage ssr=SsrMode::Async />
                    <Route path=path!("/strategies/new") view=pages::strategies::StrategyEditorPage ssr=SsrMode::Async />
                    <Route path=path!("/strategies/:id") view=pages::strategies::StrategyEditorPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
