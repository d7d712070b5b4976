//! `<Pager/>`: "Previous · Page 2 of 7 · 130 datasets · Next" under a paginated table, as plain
//! links (`<base>?page=N`), so paging works without the WASM.

use leptos::prelude::*;

use super::results::format::fmt_thousands;

#[component]
pub fn Pager(
    /// The page's path (`/datasets`).
    base: &'static str,
    page: u32,
    pages: u32,
    /// Rows over all pages (less those deleted from this page since it was rendered).
    #[prop(into)]
    total: Signal<i64>,
    /// What the rows are, plural (`"datasets"`).
    noun: &'static str,
) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=format!("{base}?page={}", page - 1)>"Previous"</a> })}
            <span class="muted">
                {move || format!("Page {page} of {pages} · {} {noun}", fmt_thousands(total.get() as f64, 0))}
            </span>
            {(page < pages).then(|| view! { <a href=format!("{base}?page={}", page + 1)>"Next"</a> })}
        </nav>
    }
}
