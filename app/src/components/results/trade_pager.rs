//! A backtest's trades page by page: the first page comes with the (trimmed) result, so the
//! server renders it and a million-bar backtest's page stays small; Previous / Next fetch the
//! others from `/api/job_trades` (with WASM); every trade downloads as CSV (without WASM too).

use leptos::prelude::*;

use super::format::fmt_thousands;
use super::tables::{trade_row, trade_table_head};
use crate::model::research::{Trade, TRADES_PER_PAGE};

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

/// The paged trade list of job `job_id`: `first` is page 1, `total` the closed trades in all.
#[component]
pub fn TradePager(
    job_id: String,
    first: Vec<Trade>,
    total: u64,
    open_trade: Option<Trade>,
) -> impl IntoView {
    let pages = (total.div_ceil(TRADES_PER_PAGE as u64)).max(1) as u32;
    let page = RwSignal::new(1u32);
    let rows = RwSignal::new(first);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let csv = format!("/api/jobs/{job_id}/result.csv");
    let go = move |to: u32| {
        let id = job_id.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::get_job_trades(id, Some(to)).await {
                Ok(p) => {
                    page.set(p.page);
                    rows.set(p.trades);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let go_prev = go.clone();
    let table = move || {
        let offset = (page.get() as usize - 1) * TRADES_PER_PAGE;
        let last_page = page.get() == pages;
        let body = rows
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, t)| trade_row(offset + i + 1, t, false))
            .collect_view();
        let open = open_trade
            .clone()
            .filter(|_| last_page)
            .map(|t| trade_row(total as usize + 1, t, true));
        view! { <tbody>{body} {open}</tbody> }
    };
    view! {
        <div class="table-wrap">
            <table class="trade-table" data-testid="trade-table">
                {trade_table_head()}
                {table}
            </table>
        </div>
        <div class="pager" data-testid="trade-pager">
            <button
                type="button"
                data-testid="trades-prev"
                disabled=move || { busy.get() || page.get() <= 1 }
                on:click=move |_| go_prev(page.get_untracked().saturating_sub(1).max(1))
            >
                "Previous"
            </button>
            <span class="muted" data-testid="trades-range">
                {move || range_note(page.get(), rows.with(Vec::len), total)}
            </span>
            <button
                type="button"
                data-testid="trades-next"
                disabled=move || { busy.get() || page.get() >= pages }
                on:click=move |_| go((page.get_untracked() + 1).min(pages))
            >
                "Next"
            </button>
            <a href=csv download data-testid="trades-csv">"Download all as CSV"</a>
        </div>
        {move || error.get().map(|e| view! { <p class="alert alert--error">{e}</p> })}
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
