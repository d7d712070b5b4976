//! When the page is interactive: `body[data-hydrated]`, for tests and curious users.
//!
//! Islands load lazily (`#[island(lazy)]`: each one's code is a separate `.wasm` chunk, fetched
//! when the page has that island), so they hydrate one by one after the main module has
//! started. Each island calls [`island`] in its body; once every `<leptos-island>` in the
//! document has hydrated, the body gets the attribute. A page without islands gets it from
//! [`page_started`] at once.
//!
//! On the server the same call asks for the island's chunks to be preloaded: the page's
//! `<head>` gets a `<link rel="preload" as="fetch">` for each (from cargo-leptos' split
//! manifest, [`IslandChunks`] in context), so the browser fetches them alongside the main
//! module instead of after it has started.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The attribute set on `<body>` once every island on the page has hydrated.
pub const HYDRATED_ATTR: &str = "data-hydrated";

/// From the WASM entry, after the islands' hydration has been started: marks a page that has
/// no islands (the others are marked by their last island). A no-op on the server.
pub fn page_started() {
    #[cfg(feature = "hydrate")]
    browser::check();
}

/// The `.wasm` chunks of each lazy island's code (`/pkg/chunk_7.<hash>.wasm`, …), by the
/// island's name in snake case (`new_run` for `NewRun`), and the ones this page has preloaded
/// already (islands share chunks, and the server may render an island's body more than once).
/// The server reads the chunks from the split manifest once and provides
/// [`for_request`](Self::for_request) in each page's context; none without `--split`.
#[derive(Clone, Debug, Default)]
pub struct IslandChunks {
    by_island: Arc<HashMap<String, Vec<String>>>,
    preloaded: Arc<Mutex<HashSet<String>>>,
}

impl IslandChunks {
    /// The chunk URLs by island.
    pub fn new(by_island: HashMap<String, Vec<String>>) -> IslandChunks {
        IslandChunks {
            by_island: Arc::new(by_island),
            preloaded: Arc::default(),
        }
    }

    /// The same chunks, with nothing preloaded yet: one a page.
    pub fn for_request(&self) -> IslandChunks {
        IslandChunks {
            by_island: self.by_island.clone(),
            preloaded: Arc::default(),
        }
    }

    /// The chunks of `island` not preloaded yet on this page, now counted as preloaded.
    pub fn take(&self, island: &str) -> Vec<String> {
        let mut preloaded = self
            .preloaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.by_island
            .get(island)
            .into_iter()
            .flatten()
            .filter(|href| preloaded.insert(href.to_string()))
            .cloned()
            .collect()
    }

    /// How many islands have chunks.
    pub fn islands(&self) -> usize {
        self.by_island.len()
    }
}

/// Called in each island's body with its name in snake case. In the browser it counts the
/// island once its view is hydrated (an effect runs after it); on the server it preloads the
/// island's chunks.
pub fn island(name: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = name;
        leptos::prelude::Effect::new(|_| browser::count_one());
    }
    #[cfg(feature = "ssr")]
    preload(name);
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    let _ = name;
}

/// Registers a `<link rel="preload">` in the page's `<head>` for each chunk of `island`.
#[cfg(feature = "ssr")]
fn preload(island: &str) {
    use leptos::prelude::*;
    use leptos_meta::Link;
    let Some(chunks) = use_context::<IslandChunks>() else {
        return;
    };
    for href in chunks.take(island) {
        // Rendering a meta component registers it with the page's meta context (`<MetaTags/>`).
        let _ = view! {
            <Link
                rel="preload"
                href=href
                as_="fetch"
                type_="application/wasm"
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_preloads_each_chunk_once() {
        let chunks = IslandChunks::new(HashMap::from([
            (
                "a".to_string(),
                vec!["/pkg/1.wasm".to_string(), "/pkg/2.wasm".to_string()],
            ),
            (
                "b".to_string(),
                vec!["/pkg/2.wasm".to_string(), "/pkg/3.wasm".to_string()],
            ),
        ]));
        let page = chunks.for_request();
        assert_eq!(page.take("a"), ["/pkg/1.wasm", "/pkg/2.wasm"]);
        assert!(page.take("a").is_empty(), "an island rendered twice");
        assert_eq!(page.take("b"), ["/pkg/3.wasm"], "a chunk two islands share");
        assert!(page.take("unknown").is_empty());
        // The next page starts afresh.
        assert_eq!(
            chunks.for_request().take("b"),
            ["/pkg/2.wasm", "/pkg/3.wasm"]
        );
    }
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
