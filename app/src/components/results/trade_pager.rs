//! A backtest's trades page by page: the first page comes with the (trimmed) result, so a
//! million-bar backtest's page stays small; Previous / Next are links to the same page with
//! `?trades=<n>`, rendered on the server (without WASM too). With the WASM they swap only the
//! `trades` region ([`crate::swap`]). Every trade downloads as CSV.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::params::ParamsMap;

use super::format::fmt_thousands;
use super::tables::{trade_row, trade_table};
use crate::model::research::{Trade, TRADES_PER_PAGE};
use crate::url::encode;

/// The query key of the trades page.
pub const TRADES_KEY: &str = "trades";

/// "Trades 101–200 of 31,245".
pub fn range_note(page: u32, shown: usize, total: u64) -> String {
    let first = (page as u64 - 1) * TRADES_PER_PAGE as u64 + 1;
    let last = first + shown as u64 - 1;
    format!(
        "Trades {}–{} of {}",
        fmt_thousands(first as f64, 0),
        fmt_thousands(last as f64, 0),
        fmt_thousands(total as f64, 0)
    )
}

/// The page's path, its query without `trades`, and the trades page it asks for (1 outside a
/// route, e.g. in a rendering test).
fn page_query() -> (String, Vec<(String, String)>, u32) {
    if use_context::<ArcMemo<ParamsMap>>().is_none() {
        return (String::new(), Vec::new(), 1);
    }
    let path = use_location().pathname.get_untracked();
    let query = use_query_map();
    query.with_untracked(|q| {
        let asked = q
            .get(TRADES_KEY)
            .and_then(|p| p.trim().parse::<u32>().ok())
            .unwrap_or(1);
        let keep = q
            .into_iter()
            .filter(|(k, _)| k.as_ref() != TRADES_KEY)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (path, keep, asked)
    })
}

/// `path?<keep>&trades=<page>`.
fn page_href(path: &str, keep: &[(String, String)], page: u32) -> String {
    let mut parts: Vec<String> = keep
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    parts.push(format!("{TRADES_KEY}={page}"));
    format!("{path}?{}", parts.join("&"))
}

/// The paged trade list of job `job_id`: `first` is page 1, `total` the closed trades in all.
#[component]
pub fn TradePager(
    job_id: String,
    first: Vec<Trade>,
    total: u64,
    open_trade: Option<Trade>,
) -> impl IntoView {
    let pages = (total.div_ceil(TRADES_PER_PAGE as u64)).max(1) as u32;
    let (path, keep, asked) = page_query();
    let page = asked.clamp(1, pages);
    let csv = format!("/api/jobs/{job_id}/result.csv");
    let link = move |to: u32, label: &'static str, testid: &'static str, enabled: bool| {
        if enabled {
            view! {
                <a class="button button--secondary" href=page_href(&path, &keep, to) data-swap="" data-testid=testid>
                    {label}
                </a>
            }
            .into_any()
        } else {
            view! { <span class="button button--secondary" aria-disabled="true" data-testid=testid>{label}</span> }
                .into_any()
        }
    };
    let prev = link(
        page.saturating_sub(1).max(1),
        "Previous",
        "trades-prev",
        page > 1,
    );
    let next = link((page + 1).min(pages), "Next", "trades-next", page < pages);
    let table = async move {
        let rows = if page == 1 {
            Ok(first)
        } else {
            crate::api::get_job_trades(job_id, Some(page))
                .await
                .map(|p| p.trades)
                .map_err(|e| e.to_string())
        };
        match rows {
            Ok(rows) => {
                let offset = (page as usize - 1) * TRADES_PER_PAGE;
                let shown = rows.len();
                let body = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| trade_row(offset + i + 1, t, false))
                    .collect_view();
                let open = open_trade
                    .filter(|_| page == pages)
                    .map(|t| trade_row(total as usize + 1, t, true));
                view! {
                    {trade_table(view! { {body} {open} })}
                    <span class="muted" data-testid="trades-range">{range_note(page, shown, total)}</span>
                }
                .into_any()
            }
            Err(e) => view! { <p class="alert alert--error">{e}</p> }.into_any(),
        }
    };
    view! {
        <div data-swap-id="trades">
            <Suspense fallback=|| ()>{Suspend::new(table)}</Suspense>
            <div class="pager" data-testid="trade-pager">
                {prev}
                {next}
                <a href=csv download data-testid="trades-csv">"Download all as CSV"</a>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_note_counts_from_the_page() {
        assert_eq!(range_note(1, 100, 31_245), "Trades 1–100 of 31,245");
        assert_eq!(
            range_note(313, 45, 31_245),
            "Trades 31,201–31,245 of 31,245"
        );
    }
}
