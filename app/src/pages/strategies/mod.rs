//! `/strategies`: the user's rule-language strategies (newest version of each, most recently
//! saved first, a page at a time), each with Edit, New run and Delete; `/strategies/new` and
//! `/strategies/:id`: the editor (`editor`), with highlighting (`highlight`) and the server's
//! checks as you type.

mod editor;
mod highlight;

pub use editor::{StrategyEditorPage, STARTER_PROGRAM};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{delete_strategy, list_strategies};
use crate::components::delete_button::{deletable_table, delete_button, TableFrame};
use crate::components::results::format::fmt_date_time;
use crate::model::strategies::{StrategyInfo, StrategyList};
use crate::pages::paging::{page_count, parse_page};

/// Strategies per page.
const PER_PAGE: u32 = 20;

fn row(
    s: StrategyInfo,
    deleted: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = s.id.to_string();
    let hidden = {
        let id = id.clone();
        move || deleted.with(|d| d.contains(&id))
    };
    view! {
        <tr class:hidden=hidden data-testid="strategy-row">
            <td><a href=format!("/strategies/{id}") data-testid="edit-strategy">{s.name.clone()}</a></td>
            <td class="num">{s.version}</td>
            <td class="nowrap">{fmt_date_time(s.created_at.timestamp())}</td>
            <td><code title=s.content_hash.clone()>{s.content_hash.chars().take(12).collect::<String>()}</code></td>
            <td class="nowrap">
                <a class="button button--small" href=format!("/?strategy={id}")>"New run"</a>
                " "
                {delete_button(id.clone(), "delete-strategy", deleted, error, delete_strategy)}
            </td>
        </tr>
    }
}

/// The table with its Delete buttons (an island: the buttons call the server and hide rows).
#[island(lazy)]
fn StrategyTable(list: StrategyList) -> impl IntoView {
    crate::ready::island("strategy_table");
    if list.strategies.is_empty() {
        return view! {
            <p class="muted" data-testid="no-strategies">"No strategies yet: write one, and it appears in the New run form."</p>
        }
        .into_any();
    }
    let frame = TableFrame {
        error_testid: "strategy-error",
        table_testid: "strategies-table",
        headings: &[
            ("Name", false),
            ("Version", true),
            ("Saved", false),
            ("Hash", false),
        ],
        base: "/strategies",
        page: list.page,
        pages: page_count(list.total, PER_PAGE),
        total: list.total,
        noun: "strategies",
    };
    deletable_table(frame, list.strategies, row).into_any()
}

#[component]
pub fn StrategiesPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| parse_page(query.read().get("page").as_deref()));
    let list = Resource::new(
        move || page.get(),
        |p| list_strategies(Some(p), Some(PER_PAGE)),
    );
    view! {
        <Title text="Strategies · Runboard" />
        <h1>"Strategies"</h1>
        <p class="muted">
            "Your own strategies, written in a small rule language ("
            <a href="/docs/rules">"the reference"</a>
            "). Saving a changed program makes a new version; jobs record the version they ran."
        </p>
        <p><a class="button" href="/strategies/new" data-testid="new-strategy">"New strategy"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading strategies…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(l) => view! { <StrategyTable list=l /> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
