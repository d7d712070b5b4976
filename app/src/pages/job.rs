//! `/jobs/:id`: one job's panel, polled every 2 s while it is live.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{get_job_status, ApiError};
use crate::components::JobPanel;
use crate::model::JobStatus;
use crate::poll::{start_polling, PollHealth};

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Server-rendered first answer: the page shows the truth before (or without) the WASM.
    let initial = Resource::new(id, get_job_status);

    view! {
        <Title text="Job · Runboard" />
        <Transition fallback=|| view! { <p class="muted">"Loading job…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(first) => view! { <LiveJob first=first /> }.into_any(),
                    Err(err) => view! { <JobError err=err /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Shows why a job cannot be shown: a bad id, an unknown id, or a failure.
#[component]
pub fn JobError(err: ApiError) -> impl IntoView {
    let heading = match &err {
        ApiError::InvalidJobId { .. } => "Not a valid job id",
        ApiError::NoSuchJob { .. } => "No such job",
        _ => "Could not load the job",
    };
    view! {
        <section class="panel" data-testid="job-error-page">
            <h1>{heading}</h1>
            <p class="alert alert--error">{err.to_string()}</p>
            <p><a href="/jobs">"All jobs"</a></p>
        </section>
    }
}

/// The panel for a job that exists, kept current by polling while the job is live.
#[component]
fn LiveJob(first: JobStatus) -> impl IntoView {
    let id = first.id.to_string();
    let live = first.state.is_live();
    let status = RwSignal::new(first);
    let health = RwSignal::new(PollHealth::default());

    if live {
        start_polling(health, move || {
            let id = id.clone();
            async move {
                match get_job_status(id).await {
                    Ok(next) => {
                        let keep_going = next.state.is_live();
                        status.set(next);
                        Ok(keep_going)
                    }
                    // The job vanished or the id went bad: nothing to wait for.
                    Err(e) if !e.is_transient() => Ok(false),
                    Err(_) => Err(()),
                }
            }
        });
    }

    let href = move || format!("/jobs/{}", status.read().id);
    view! {
        <Show when=move || { health.get().failures > 0 }>
            <p class="notice notice--warn" role="status" data-testid="reconnecting">
                "Connection lost — reconnecting…"
            </p>
        </Show>
        <JobPanel status=status />
        <p class="actions">
            // A plain link: refreshing works even before (or without) the WASM.
            <a class="button button--secondary" href=href data-testid="refresh">
                "Refresh"
            </a>
        </p>
    }
}
