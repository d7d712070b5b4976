//! `<StatusBadge/>`: one colored badge per job state.

use leptos::prelude::*;

use crate::model::JobState;

/// A badge such as `[RUNNING]`, colored by state (`badge--running`, …) from the stylesheet.
#[component]
pub fn StatusBadge(#[prop(into)] state: Signal<JobState>) -> impl IntoView {
    view! {
        <span
            class=move || format!("badge badge--{}", state.get().as_str().to_ascii_lowercase())
            data-state=move || state.get().as_str()
        >
            {move || state.get().as_str()}
        </span>
    }
}
