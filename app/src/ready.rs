//! When the page is interactive: `body[data-hydrated]`, for tests and curious users.
//!
//! Islands load lazily (`#[island(lazy)]`: each one's code is a separate `.wasm` chunk, fetched
//! when the page has that island), so they hydrate one by one after the main module has
//! started. Each island calls [`island_hydrated`] in its body; once every `<leptos-island>` in
//! the document has, the body gets the attribute. A page without islands gets it from
//! [`page_started`] at once.

/// The attribute set on `<body>` once every island on the page has hydrated.
pub const HYDRATED_ATTR: &str = "data-hydrated";

/// From the WASM entry, after the islands' hydration has been started: marks a page that has
/// no islands (the others are marked by their last island). A no-op on the server.
pub fn page_started() {
    #[cfg(feature = "hydrate")]
    browser::check();
}

/// Called in each island's body: counts the island once its view is hydrated (an effect runs
/// after it). A no-op on the server.
pub fn island_hydrated() {
    #[cfg(feature = "hydrate")]
    leptos::prelude::Effect::new(|_| browser::count_one());
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;

    thread_local! {
        static HYDRATED: Cell<u32> = const { Cell::new(0) };
    }

    pub fn count_one() {
        HYDRATED.with(|n| n.set(n.get() + 1));
        check();
    }

    pub fn check() {
        let document = leptos::prelude::document();
        let islands = document
            .query_selector_all("leptos-island")
            .map(|list| list.length())
            .unwrap_or(0);
        if HYDRATED.with(Cell::get) >= islands {
            if let Some(body) = document.body() {
                let _ = body.set_attribute(super::HYDRATED_ATTR, "true");
            }
        }
    }
}
