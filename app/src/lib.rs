#![recursion_limit = "256"]
//! Runboard's shared crate: what the server renders and the browser hydrates.
//!
//! - [`model`]: serde types shared by server and browser (`JobStatus`, …).
//! - [`api`]: the `#[server]` functions under `/api/*` (thin: validate, call the backend port).
//! - [`components`]: props in, view out.
//! - [`pages`]: one route per file.

pub mod api;
pub mod components;
pub mod model;
pub mod pages;
pub mod poll;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

use pages::{backtest::BacktestPage, job::JobPage, jobs::JobsPage, not_found::NotFound};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/runboard.css" />
        <Title text="Runboard" />
        <Router>
            <header class="topbar">
                <a class="topbar__brand" href="/">"Runboard"</a>
                <nav class="topbar__nav" aria-label="Main">
                    <A href="/">"New run"</A>
                    <A href="/jobs">"Jobs"</A>
                </nav>
            </header>
            <main class="container">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=BacktestPage ssr=SsrMode::Async />
                    <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                    // Async: the whole page (and its status code, 404 for an unknown job) waits for the
                    // job's status, so the server-rendered HTML already shows the truth.
                    <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
