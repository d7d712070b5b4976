#![recursion_limit = "256"]
//! The WASM entry: hydrates the page's islands (the interactive parts; everything else was
//! rendered on the server and stays as it is) and installs the in-place page swaps. Each island's
//! code is a chunk of its own (`#[island(lazy)]`, split by `cargo leptos build --split`),
//! fetched when the page has that island.

/// Called by the generated JS once the WASM module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::swap::install();
    // `body[data-hydrated]` once every island has hydrated (they load lazily, after this).
    app::ready::page_started();
}
