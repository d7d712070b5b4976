//! A table row's Delete button: calls the server, then hides the row (its id joins `deleted`)
//! or says why not (`error`, e.g. the 409 of a dataset a live job uses); and the table such rows
//! sit in (`deletable_table`: the datasets and the strategies lists).

use std::future::Future;

use leptos::prelude::*;

use crate::api::ApiError;

/// The button for row `id`; `delete` is the server function (`delete_dataset`, …).
pub fn delete_button<F, Fut, T>(
    id: String,
    testid: &'static str,
    deleted: RwSignal<Vec<String>>,
    error: RwSignal<Option<String>>,
    delete: F,
) -> impl IntoView
where
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let remove = Action::new(move |id: &String| {
        let id = id.clone();
        async move {
            (
                id.clone(),
                delete(id).await.map(|_| ()).map_err(|e| e.to_string()),
            )
        }
    });
    Effect::new(move |_| {
        if let Some((id, outcome)) = remove.value().get() {
            match outcome {
                Ok(()) => deleted.update(|d| d.push(id)),
                Err(e) => error.set(Some(e)),
            }
        }
    });
    view! {
        <button
            type="button"
            class="button--danger"
            data-testid=testid
            disabled=move || remove.pending().get()
            on:click=move |_| {
                error.set(None);
                remove.dispatch(id.clone());
            }
        >
            "Delete"
        </button>
    }
}

/// What a table of deletable rows shows around its rows.
pub struct TableFrame {
    /// `data-testid` of the error line above the table and of the table.
    pub error_testid: &'static str,
    pub table_testid: &'static str,
    /// Column headings; `true` for a numeric (right-aligned) column. A last, empty heading is
    /// added for the buttons.
    pub headings: &'static [(&'static str, bool)],
    /// The list's page: its path, the current page, the number of pages, the rows in all, and
    /// what a row is called ("datasets").
    pub base: &'static str,
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    pub noun: &'static str,
}

/// The table of `items`, one `row` each (a row gets the two signals for its [`delete_button`]:
/// the ids deleted so far, the error of the last refused delete), that error above it, and the
/// pager below (its count less the rows deleted since).
pub fn deletable_table<T, V: IntoView + 'static>(
    frame: TableFrame,
    items: Vec<T>,
    row: impl Fn(T, RwSignal<Vec<String>>, RwSignal<Option<String>>) -> V,
) -> impl IntoView {
    let deleted = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let rows = items
        .into_iter()
        .map(|item| row(item, deleted, error))
        .collect_view();
    let TableFrame {
        error_testid,
        table_testid,
        headings,
        base,
        page,
        pages,
        total,
        noun,
    } = frame;
    let headings = crate::components::results::tables::head_cells(headings);
    view! {
        {move || error.get().map(|e| view! { <p class="alert alert--error" data-testid=error_testid>{e}</p> })}
        <div class="table-wrap">
            <table class="jobs-table" data-testid=table_testid>
                <thead>
                    <tr>
                        {headings}
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <crate::components::Pager
            base=base
            page=page
            pages=pages
            total=Signal::derive(move || total - deleted.with(Vec::len) as i64)
            noun=noun
        />
    }
}
