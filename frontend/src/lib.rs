#![recursion_limit = "256"]
//! The WASM hydrate entry: takes over the server-rendered page in the browser.

/// Called by the generated JS once the WASM module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
