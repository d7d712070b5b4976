//! Static assets: their hashed names and how long browsers may keep them.
//!
//! With `hash-files = true` cargo-leptos names the bundle `runboard.<hash>.{js,wasm,css}` (and
//! the islands' split chunks `chunk_<n>.<hash>.wasm`, `split_<island>_loader_<n>.<hash>.wasm`) and
//! writes the hashes to `hash.txt` next to the server binary. A hashed file never changes, so
//! it is cached for a year (`immutable`); HTML is revalidated on every visit (`no-cache`) so a
//! new deployment is picked up at once; API answers are never stored.

use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use std::collections::HashMap;

/// The `href` of the site's stylesheet, for pages rendered outside Leptos (the sign-in page).
#[derive(Clone, Debug)]
pub struct Stylesheet(pub String);

/// `/pkg/<output>[.<hash>].<ext>`: the hashed name when hashing is on and `hash.txt` names it.
pub fn pkg_href(options: &LeptosOptions, ext: &str) -> String {
    let mut name = options.output_name.to_string();
    if options.hash_files {
        let hashes = read_hashes(options);
        if let Some(hash) = hash_for(&hashes, ext) {
            name = format!("{name}.{hash}");
        }
    }
    format!("/{}/{name}.{ext}", options.site_pkg_dir)
}

/// The `.wasm` chunks of each lazy island (`new_run` → `/pkg/chunk_7.<hash>.wasm`, …), from
/// the split manifest cargo-leptos writes with `--split`; empty without one.
pub fn island_chunks(options: &LeptosOptions) -> app::ready::IslandChunks {
    let mut name = "__wasm_split_manifest".to_string();
    if options.hash_files {
        if let Some(hash) = hash_for(&read_hashes(options), "manifest") {
            name = format!("{name}.{hash}");
        }
    }
    let path = std::path::Path::new(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(format!("{name}.json"));
    let manifest = std::fs::read_to_string(&path).unwrap_or_default();
    let chunks = app::ready::IslandChunks::new(chunks_by_island(&manifest, &options.site_pkg_dir));
    if chunks.islands() == 0 {
        tracing::info!(manifest = %path.display(), "no split manifest: island chunks are not preloaded");
    }
    chunks
}

/// A split manifest (`{"new_run_loader_7370…": ["chunk_7.<hash>", …], …}`) as chunk URLs by
/// island name. What is not such a map gives none.
fn chunks_by_island(manifest: &str, pkg_dir: &str) -> HashMap<String, Vec<String>> {
    let loaders: HashMap<String, Vec<String>> = serde_json::from_str(manifest).unwrap_or_default();
    loaders
        .into_iter()
        .filter_map(|(loader, files)| {
            let (island, n) = loader.rsplit_once("_loader_")?;
            n.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
            let hrefs = files
                .iter()
                .map(|file| format!("/{pkg_dir}/{file}.wasm"))
                .collect();
            Some((island.to_string(), hrefs))
        })
        .collect()
}

/// `hash.txt`, next to the server binary (empty when it cannot be read).
fn read_hashes(options: &LeptosOptions) -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default()
}

/// The hash of `kind` in a `hash.txt` (`js: …`, `wasm: …`, `css: …` lines).
fn hash_for<'a>(hashes: &'a str, kind: &str) -> Option<&'a str> {
    hashes
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, hash)| hash.trim())
        .filter(|hash| !hash.is_empty())
}

/// One year: the longest lifetime browsers honour.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Sets `Cache-Control` by what was served (unless a handler chose already).
pub async fn cache_control(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let policy = policy_for(
        &path,
        response.status().is_success(),
        content_type(&response),
    );
    if let Some(policy) = policy {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(policy));
    }
    response
}

fn content_type(response: &Response) -> &str {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The policy for a response to `path`.
pub fn policy_for(path: &str, ok: bool, content_type: &str) -> Option<&'static str> {
    if path.starts_with("/api/") {
        return Some("no-store");
    }
    if content_type.starts_with("text/html") {
        return Some("no-cache");
    }
    if !ok {
        return None;
    }
    if path.starts_with("/pkg/") && is_hashed(path) {
        return Some(IMMUTABLE);
    }
    // Unhashed assets (favicon, an unhashed dev bundle): revalidate.
    Some("no-cache")
}

/// `runboard.<hex hash>.<ext>`: a file name whose middle part is a long hex string.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[parts.len() - 2].len() >= 8
        && parts[parts.len() - 2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_bundle_files_are_immutable_and_pages_revalidate() {
        let wasm = "/pkg/runboard.a1b2c3d4e5f60718.wasm";
        assert_eq!(policy_for(wasm, true, "application/wasm"), Some(IMMUTABLE));
        // The islands' lazily loaded chunks and the split loader (`cargo leptos build --split`).
        for split in [
            "/pkg/chunk_9.tII8zjyQjwNUERwFoNUqjg.wasm",
            "/pkg/split_new_run_loader_7370488814592758179.Vem4I5v1Y-tTIE0ggb1czg.wasm",
            "/pkg/__wasm_split.9W5g9T5TrJ2Fd0mNbZ0Prw.js",
        ] {
            assert_eq!(policy_for(split, true, "application/wasm"), Some(IMMUTABLE));
        }
        assert_eq!(
            policy_for("/pkg/runboard.wasm", true, "application/wasm"),
            Some("no-cache")
        );
        assert_eq!(
            policy_for("/jobs", true, "text/html; charset=utf-8"),
            Some("no-cache")
        );
        assert_eq!(
            policy_for("/api/job_status", true, "application/json"),
            Some("no-store")
        );
        assert_eq!(
            policy_for("/pkg/missing.0123456789.js", false, "text/plain"),
            None
        );
    }

    #[test]
    fn hashes_are_read_from_cargo_leptos_hash_file() {
        let file = "js: 1a2b3c4d5e\nwasm: 9f8e7d6c5b\ncss: 0a0b0c0d0e\n";
        assert_eq!(hash_for(file, "wasm"), Some("9f8e7d6c5b"));
        assert_eq!(hash_for(file, "css"), Some("0a0b0c0d0e"));
        assert_eq!(hash_for("", "css"), None);
    }

    #[test]
    fn the_split_manifest_gives_each_island_its_chunk_urls() {
        let manifest = r#"{
            "new_run_loader_7370488814592758179": ["chunk_7.aaaa", "split_new_run_loader_7370488814592758179.bbbb"],
            "dataset_table_loader_2023053320744024932": ["chunk_7.aaaa"],
            "not_a_loader": ["chunk_9.cccc"]
        }"#;
        let chunks = chunks_by_island(manifest, "pkg");
        assert_eq!(
            chunks["new_run"],
            [
                "/pkg/chunk_7.aaaa.wasm",
                "/pkg/split_new_run_loader_7370488814592758179.bbbb.wasm"
            ]
        );
        assert_eq!(chunks["dataset_table"], ["/pkg/chunk_7.aaaa.wasm"]);
        assert_eq!(chunks.len(), 2, "{chunks:?}");
        assert!(chunks_by_island("not json", "pkg").is_empty());
    }
}
