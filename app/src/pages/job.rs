//! `/jobs/:id`: one job's panel, results and log, polled every 2 s while the job is live.
//! [`JobView`] is also what the backtest page shows for its active job.
//!
//! The live part (panel, actions, chunks, log: `job/live.rs`) is the [`JobLive`] island; the
//! reproducibility line, the results and the results so far render on the server only, inside
//! it as its children. When the polled job ends (or, while a fanned-out optimization runs,
//! whenever it moves) the island swaps the `results` and `job-partial` regions for a fresh
//! server render of the page ([`crate::swap`]).
//!
//! Under the panel: the reproducibility line (program version, dataset hash, the request as
//! JSON), "Run again" once the job has ended, and the downloads of a succeeded job's result
//! (`/api/jobs/<id>/result.json` and `.csv`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use crate::api::{get_job_repro, get_job_result, get_job_status, ApiError};
use crate::model::{JobState, JobStatus};

mod live;
pub use live::{LiveData, LiveJob, LOG_TAIL_LINES};

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    view! {
        <Title text="Job · Runboard" />
        {move || view! { <JobView id=id.get() /> }}
    }
}

/// One job: loads it on the server, then hands it to the [`JobLive`] island with what renders
/// on the server only (the reproducibility line, the results, the results so far).
#[component]
pub fn JobView(id: String) -> impl IntoView {
    let initial = Resource::new(move || id.clone(), get_job_status);
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading job…"</p> }>
            {move || {
                let here = here.clone();
                Suspend::new(async move {
                    match initial.await {
                        Ok(first) => {
                            let data = LiveData::load(&first).await;
                            let extras = job_extras(&first);
                            view! { <JobLive first=first data=data here=here>{extras}</JobLive> }.into_any()
                        }
                        Err(err) => view! { <JobError err=err /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// What renders on the server alone under a job's live part: the reproducibility line, the
/// `results` region and the `job-partial` region.
pub fn job_extras(first: &JobStatus) -> impl IntoView {
    let (id, state, kind) = (first.id.to_string(), first.state, first.kind);
    view! {
        <JobRepro id=id.clone() />
        <JobResults id=id.clone() state=state />
        <crate::pages::job_partial::JobPartial id=id kind=kind state=state />
    }
}

/// The island around a job's live part; `children` are the parts the server renders alone.
#[island(lazy)]
pub fn JobLive(
    first: JobStatus,
    data: LiveData,
    here: String,
    children: Children,
) -> impl IntoView {
    crate::ready::island("job_live");
    view! { <LiveJob first=first data=data here=here extras=Some(children().into_any()) /> }
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

/// Characters of the dataset hash shown (the full hash is in the tooltip and the export).
const SHORT_HASH: usize = 12;

/// The reproducibility line: which program accepted the job, the content hash of its dataset,
/// and the full request (collapsed). Read once: none of it changes.
#[component]
fn JobRepro(id: String) -> impl IntoView {
    let repro = Resource::new(move || id.clone(), get_job_repro);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match repro.await {
                    Ok(r) => {
                        let version = r.program_version.clone().unwrap_or_else(|| "unknown".into());
                        let hash = r.dataset_hash.clone();
                        let request = serde_json::to_string_pretty(&r.request).unwrap_or_default();
                        view! {
                            <section class="panel repro" data-testid="repro">
                                <p class="repro__line">
                                    <strong>"Reproducibility"</strong>
                                    " · program "
                                    <code data-testid="program-version">{version}</code>
                                    {hash.map(|h| {
                                        let short: String = h.chars().take(SHORT_HASH).collect();
                                        view! {
                                            " · dataset "
                                            {r.dataset_name.clone().map(|n| view! { <span>{n}</span> " " })}
                                            "sha256 "
                                            <code data-testid="dataset-hash" title=h>{short}</code>
                                        }
                                    })}
                                </p>
                                <details class="repro__request">
                                    <summary>"Request (JSON)"</summary>
                                    <pre class="result-json" data-testid="request-json">{request}</pre>
                                </details>
                            </section>
                        }
                        .into_any()
                    }
                    // The panel above already says what is wrong with the job.
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
    }
}

/// The results of a succeeded job (the `results` region, empty before it succeeds).
#[component]
fn JobResults(id: String, state: JobState) -> impl IntoView {
    let result = Resource::new(
        move || (id.clone(), state == JobState::Succeeded),
        |(id, done)| async move {
            if done {
                Some(get_job_result(id).await)
            } else {
                None
            }
        },
    );
    view! {
        <div data-swap-id="results">
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match result.await {
                    Some(Ok(r)) => match r.result {
                        Some(value) => view! {
                            <section class="panel" data-testid="results">
                                <h2>"Results"</h2>
                                <crate::components::results::JobResultView kind=r.kind result=value job_id=Some(r.id.to_string()) />
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
        </div>
    }
}
