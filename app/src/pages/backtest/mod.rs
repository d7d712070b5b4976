//! `/`: the backtest page. Choose a dataset (or upload a CSV), a strategy and a job type, with
//! the inputs validated as you type; Start queues the job and the Active Job panel appears
//! (its id is kept in the URL, `/?job=<id>`, so a reload brings the panel back).
//!
//! The form's model and its conversion to a request live in `form` (no view code, unit-tested),
//! its view in `run_form`, its field widgets in `fields`, the CSV upload in `upload`; this file
//! is the page and its island.
//!
//! The form and the active job are one island ([`NewRun`]): Start shows the queued job's panel
//! above the form at once, keeping what was typed, and puts `/?job=<id>` in the address bar.

mod fields;
mod form;
mod run_form;
mod upload;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::get_job_status;
use crate::model::JobStatus;
use crate::pages::job::{job_extras, JobError, LiveData, LiveJob};
pub use form::{default_inputs, FormInput, JobType, ParamInput, SavedChoice, StrategyChoice};
use run_form::{form_data, FormData, RunForm};

#[component]
pub fn BacktestPage() -> impl IntoView {
    let query = use_query_map();
    let (job, wanted) = query.with_untracked(|q| {
        let nonempty = |k: &str| q.get(k).filter(|v| !v.is_empty());
        (nonempty("job"), nonempty("strategy"))
    });
    let location = use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    let loaded = Resource::new(
        move || (job.clone(), wanted.clone()),
        |(job, wanted)| async move {
            let active = match job {
                Some(id) => Some(match get_job_status(id).await {
                    Ok(first) => {
                        let data = LiveData::load(&first).await;
                        Ok((first, data))
                    }
                    Err(e) => Err(e),
                }),
                None => None,
            };
            (active, form_data(wanted).await)
        },
    );
    view! {
        <Title text="New run · Runboard" />
        <h1 class="visually-hidden">"New run"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let here = here.clone();
                Suspend::new(async move {
                    match loaded.await {
                        (Some(Ok(first)), data) => {
                            let extras = job_extras(&first.0);
                            view! { <NewRun first=Some(first) here=here data=data>{extras}</NewRun> }
                                .into_any()
                        }
                        (Some(Err(err)), data) => view! {
                            <JobError err=err />
                            <NewRun first=None here=here data=data>""</NewRun>
                        }
                        .into_any(),
                        (None, data) => view! { <NewRun first=None here=here data=data>""</NewRun> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// The island: the active job (`first`, from `?job=`, with its log and chunks, and with
/// `children` its server-rendered results) and the form over `data`. A job queued here replaces the active one without a
/// page load.
///
/// Everything an island reads at hydration comes in its props: a resource created while it
/// renders (rather than in its body) would not find its data in the page.
#[island(lazy)]
fn NewRun(
    first: Option<(JobStatus, LiveData)>,
    here: String,
    data: FormData,
    children: Children,
) -> impl IntoView {
    crate::ready::island("new_run");
    let retired = RwSignal::new(false);
    // Built in the body (not in a closure run at render), so the panel's own reads hydrate.
    let initial = first.map(|(status, live)| {
        let extras = Some(children().into_any());
        view! {
            <div hidden=move || retired.get()>
                <LiveJob first=status data=live here=here extras=extras retired=retired />
            </div>
        }
    });
    let queued = RwSignal::new(None::<JobStatus>);
    let on_queued = Callback::new(move |status: JobStatus| {
        crate::swap::push_url(&format!("/?job={}", status.id));
        retired.set(true);
        queued.set(Some(status));
    });
    view! {
        {initial}
        {move || {
            queued.get().map(|status| {
                let here = format!("/?job={}", status.id);
                view! { <LiveJob first=status data=LiveData::empty() here=here /> }
            })
        }}
        <RunForm data=data on_queued=on_queued />
    }
}
