//! `/jobs/:id`: one job's panel, results and log, polled every 2 s while the job is live.
//! [`JobView`] is also what the backtest page shows for its active job.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{cancel_job, get_job_log, get_job_result, get_job_status, ApiError};
use crate::components::JobPanel;
use crate::model::{JobState, JobStatus};
use crate::poll::{start_polling, PollHealth};

/// Lines of the run log shown under the panel.
pub const LOG_TAIL_LINES: u32 = 40;

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    view! {
        <Title text="Job · Runboard" />
        {move || view! { <JobView id=id.get() /> }}
    }
}

/// The live view of one job: loads it (on the server first), then polls while it is live.
#[component]
pub fn JobView(id: String) -> impl IntoView {
    let initial = Resource::new(move || id.clone(), get_job_status);
    view! {
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
            <p>
                <a href="/jobs">"All jobs"</a>
            </p>
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
        let id = id.clone();
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

    // Cancel: a queued job ends at once, a running one at its next progress report.
    let cancel = Action::new(move |id: &String| {
        let id = id.clone();
        async move { cancel_job(id).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = cancel.value().get() {
            status.set(next);
        }
    });
    let cancel_error = move || cancel.value().get().and_then(|r| r.err());

    // Refresh: with the WASM, an immediate re-read; without it, a plain link reloads the page.
    let location = leptos_router::hooks::use_location();
    let href = move || format!("{}{}", location.pathname.get(), location.search.get());
    let refresh = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(next) = get_job_status(id).await {
                    status.set(next);
                }
            });
        }
    };
    let state = move || status.read().state;
    let cancel_id = id.clone();
    view! {
        <Show when=move || { health.get().failures > 0 }>
            <p class="notice notice--warn" role="status" data-testid="reconnecting">
                "Connection lost — reconnecting…"
            </p>
        </Show>
        <JobPanel status=status />
        <p class="actions">
            // A plain link: refreshing works even before (or without) the WASM.
            <a class="button button--secondary" href=href on:click=refresh data-testid="refresh">
                "Refresh"
            </a>
            <Show when=move || state().is_live()>
                <button
                    class="button button--danger"
                    data-testid="cancel"
                    disabled=move || cancel.pending().get() || status.read().cancel_requested
                    on:click={
                        let cancel_id = cancel_id.clone();
                        move |_| {
                            cancel.dispatch(cancel_id.clone());
                        }
                    }
                >
                    "Cancel"
                </button>
            </Show>
            <a class="button button--secondary" href="/jobs">
                "All jobs"
            </a>
        </p>
        {move || cancel_error().map(|e| view! { <p class="alert alert--error">{e.to_string()}</p> })}
        <JobResults id=id.clone() state=Signal::derive(state) />
        <JobLogTail id=id status=status />
    }
}

/// The results, fetched once the job has succeeded (on the server for finished jobs).
#[component]
fn JobResults(id: String, state: Signal<JobState>) -> impl IntoView {
    let result = Resource::new(
        move || (id.clone(), state.get() == JobState::Succeeded),
        |(id, done)| async move {
            if done {
                Some(get_job_result(id).await)
            } else {
                None
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match result.await {
                    Some(Ok(r)) => match r.result {
                        Some(value) => view! {
                            <section class="panel" data-testid="results">
                                <h2>"Results"</h2>
                                <crate::components::results::JobResultView kind=r.kind result=value />
                            </section>
                        }
                        .into_any(),
                        None => ().into_any(),
                    },
                    Some(Err(e)) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }
            })}
        </Transition>
    }
}

/// The end of the run log, refreshed whenever the status changes.
#[component]
fn JobLogTail(id: String, status: RwSignal<JobStatus>) -> impl IntoView {
    let log = Resource::new(
        move || {
            let s = status.read();
            (id.clone(), s.state, s.progress_message.clone(), s.attempt)
        },
        |(id, _, _, _)| get_job_log(id, Some(LOG_TAIL_LINES)),
    );
    view! {
        <section class="panel">
            <h2>"Log"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading log…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(tail) if tail.lines.is_empty() => {
                            view! { <p class="muted">"Nothing logged yet."</p> }.into_any()
                        }
                        Ok(tail) => view! {
                            <pre class="log" data-testid="log-tail">{tail.lines.join("\n")}</pre>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
