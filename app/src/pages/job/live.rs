//! A job's live part, inside the [`super::JobLive`] island (and the backtest page's): the
//! panel kept current by the 2 s poll, Refresh, Cancel, Run again, the downloads, the chunk
//! strip and the log's end, and the swaps of the server-rendered regions when the job moves.

use leptos::prelude::*;

use crate::api::{cancel_job, get_job_log, get_job_status, job_chunks, rerun_job, ApiError};
use crate::components::JobPanel;
use crate::model::{JobChunk, JobKind, JobState, JobStatus};
use crate::poll::{start_polling, PollHealth};

/// Lines of the run log shown under the panel.
pub const LOG_TAIL_LINES: u32 = 40;

/// What a job's live part shows besides its status: the end of its log and its chunks. Read on
/// the server for the first render (an island's props), then in the browser whenever the
/// polled status moves.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LiveData {
    pub log: Result<Vec<String>, ApiError>,
    pub chunks: Vec<JobChunk>,
}

impl LiveData {
    /// Nothing read yet (a job just queued from the form).
    pub fn empty() -> LiveData {
        LiveData {
            log: Ok(Vec::new()),
            chunks: Vec::new(),
        }
    }

    /// Reads the log's end and, for a kind that fans out, the chunks.
    pub async fn load(status: &JobStatus) -> LiveData {
        let id = status.id.to_string();
        let log = get_job_log(id.clone(), Some(LOG_TAIL_LINES))
            .await
            .map(|tail| tail.lines);
        let chunks = if matches!(status.kind, JobKind::Optimize | JobKind::WalkForward) {
            job_chunks(id).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        LiveData { log, chunks }
    }
}

/// The panel for a job that exists, kept current by polling while the job is live. `here` is the
/// page's URL (the Refresh link); `extras` what the server rendered under the actions (the
/// backtest page's form shows a job it just queued without them: empty regions to swap into).
#[component]
pub fn LiveJob(
    first: JobStatus,
    data: LiveData,
    here: String,
    #[prop(optional_no_strip)] extras: Option<AnyView>,
    /// Set when the page shows another job instead: the poll stops.
    #[prop(optional, into)]
    retired: Option<Signal<bool>>,
) -> impl IntoView {
    let id = first.id.to_string();
    let live = first.state.is_live();
    let status = RwSignal::new(first);
    let health = RwSignal::new(PollHealth::default());
    let root = NodeRef::<leptos::html::Div>::new();

    // The log and chunks, read again whenever the status moves (effects run in the browser
    // only); an older read that lands late never overwrites a newer one.
    let data = RwSignal::new(data);
    let reads = StoredValue::new(0u64);
    Effect::new(move |seen: Option<(JobState, Option<String>, i32)>| {
        let now = status.with(|s| (s.state, s.progress_message.clone(), s.attempt));
        if seen.is_some_and(|seen| seen != now) {
            let current = status.get_untracked();
            let read = reads.get_value() + 1;
            reads.set_value(read);
            leptos::task::spawn_local(async move {
                let fresh = LiveData::load(&current).await;
                if reads.get_value() == read {
                    data.set(fresh);
                }
            });
        }
        now
    });

    if live {
        let id = id.clone();
        start_polling(health, move || {
            let id = id.clone();
            async move {
                if retired.is_some_and(|r| r.get_untracked()) {
                    return Ok(false);
                }
                match get_job_status(id).await {
                    Ok(next) => {
                        let keep_going = next.state.is_live();
                        let regions = regions_to_refresh(&status.get_untracked(), &next);
                        status.set(next);
                        refresh_regions(root, regions);
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
    let cancel = Action::new({
        let id = id.clone();
        move |_: &()| cancel_job(id.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = cancel.value().get() {
            let regions = regions_to_refresh(&status.get_untracked(), &next);
            status.set(next);
            refresh_regions(root, regions);
        }
    });
    let cancel_error = move || cancel.value().get().and_then(|r| r.err());

    // Refresh: with the WASM, an immediate re-read; without it, a plain link reloads the page.
    let href = here;
    let refresh = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(next) = get_job_status(id).await {
                    let regions = regions_to_refresh(&status.get_untracked(), &next);
                    status.set(next);
                    refresh_regions(root, regions);
                }
            });
        }
    };
    let state = move || status.read().state;

    // Run again: the same request as a new job, then that job's page.
    let rerun = Action::new({
        let id = id.clone();
        move |_: &()| rerun_job(id.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = rerun.value().get() {
            crate::swap::navigate(&format!("/jobs/{}", next.id));
        }
    });
    let rerun_error = move || rerun.value().get().and_then(|r| r.err());
    let json_href = format!("/api/jobs/{id}/result.json");
    let csv_href = format!("/api/jobs/{id}/result.csv");
    let extras = extras.unwrap_or_else(|| {
        view! {
            <div data-swap-id="results"></div>
            <div data-swap-id="job-partial"></div>
        }
        .into_any()
    });
    view! {
        <div class="job-live" node_ref=root>
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
                    on:click=move |_| {
                        cancel.dispatch(());
                    }
                >
                    "Cancel"
                </button>
            </Show>
            <Show when=move || state().is_terminal()>
                <button
                    class="button button--secondary"
                    data-testid="run-again"
                    disabled=move || rerun.pending().get()
                    on:click=move |_| {
                        rerun.dispatch(());
                    }
                >
                    "Run again"
                </button>
            </Show>
            <Show when=move || state() == JobState::Succeeded>
                <a class="button button--secondary" href=json_href.clone() download="" data-testid="export-json">
                    "Download JSON"
                </a>
                <a class="button button--secondary" href=csv_href.clone() download="" data-testid="export-csv">
                    "Download CSV"
                </a>
            </Show>
            <a class="button button--secondary" href="/jobs">
                "All jobs"
            </a>
        </p>
        {move || cancel_error().map(|e| view! { <p class="alert alert--error">{e.to_string()}</p> })}
        {move || rerun_error().map(|e| view! { <p class="alert alert--error" data-testid="rerun-error">{e.to_string()}</p> })}
        {extras}
        <crate::pages::job_chunks::JobChunks chunks=Signal::derive(move || data.read().chunks.clone()) />
        <JobLogTail log=Signal::derive(move || data.read().log.clone()) />
        </div>
    }
}

/// Which server-rendered regions a status change makes stale: the results and the results so
/// far when the job ends, the results so far while a fanned-out optimization moves.
fn regions_to_refresh(before: &JobStatus, after: &JobStatus) -> &'static [&'static str] {
    if before.state.is_live() && after.state.is_terminal() {
        &["results", "job-partial"]
    } else if after.kind == JobKind::Optimize
        && after.state == JobState::Running
        && (before.progress_message != after.progress_message || before.state != after.state)
    {
        &["job-partial"]
    } else {
        &[]
    }
}

/// Swaps `regions` under `root` for a fresh server render of the page (in the browser).
#[allow(unused_variables)]
fn refresh_regions(root: NodeRef<leptos::html::Div>, regions: &'static [&'static str]) {
    #[cfg(feature = "hydrate")]
    if let (false, Some(scope)) = (regions.is_empty(), root.get_untracked()) {
        use wasm_bindgen::JsCast;
        let scope: web_sys::Element = scope.unchecked_into();
        leptos::task::spawn_local(async move {
            let _ = crate::swap::refresh(scope, regions).await;
        });
    }
}

/// The end of the run log (refreshed by [`LiveJob`] whenever the status changes).
#[component]
fn JobLogTail(log: Signal<Result<Vec<String>, ApiError>>) -> impl IntoView {
    view! {
        <section class="panel">
            <h2>"Log"</h2>
            {move || match log.get() {
                Ok(lines) if lines.is_empty() => {
                    view! { <p class="muted">"Nothing logged yet."</p> }.into_any()
                }
                Ok(lines) => view! { <pre class="log" data-testid="log-tail">{lines.join("\n")}</pre> }
                    .into_any(),
                Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}
