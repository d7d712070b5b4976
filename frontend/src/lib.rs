#![recursion_limit = "256"]
//! The WASM entry: hydrates the page's islands (the interactive parts; everything else was
//! rendered on the server and stays as it is) and installs the in-place page swaps.

/// Called by the generated JS once the WASM module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::swap::install();
    // `body[data-hydrated]` tells tests (and curious users) that the page is interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
