//! A table row's Delete button: calls the server, then hides the row (its id joins `deleted`)
//! or says why not (`error`, e.g. the 409 of a dataset a live job uses).

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
