//! `/jobs`: every job, newest first, filtered by state and kind, paginated; live rows refresh
//! on the same 2 s poll. The filter is a plain GET form, so it works before the WASM loads.
//!
//! Each row shows its research context (strategy, dataset, parameters or grid, and the headline
//! result once it succeeded; computed by the list query). The table sits in a second GET form
//! to `/compare`: tick 2–4 jobs and press Compare. Without the WASM the browser sends
//! `?ids=a&ids=b`, with it the page navigates to `?ids=a,b`; `/compare` reads both.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_jobs;
use crate::components::{format_duration, format_time, ProgressBar, StatusBadge};
use crate::model::job::{COMPARE_MAX, COMPARE_MIN};
use crate::model::{JobKind, JobList, JobState, JobStatus};
use crate::pages::paging::{neighbours, page_count, parse_page, MAX_PAGE};
use crate::poll::{start_polling, PollHealth};

mod summary;
pub use summary::{figures, params_summary, research_label};

/// Jobs per page.
pub const PER_PAGE: u32 = 20;
/// The list's query: `?state=RUNNING&kind=optimize&page=2`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct JobsPageQuery {
    state: Option<String>,
    kind: Option<String>,
    page: u32,
}

impl JobsPageQuery {
    fn href(&self, page: u32) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.state {
            parts.push(format!("state={s}"));
        }
        if let Some(k) = &self.kind {
            parts.push(format!("kind={k}"));
        }
        parts.push(format!("page={page}"));
        format!("/jobs?{}", parts.join("&"))
    }
}

/// One filter of the list: a `<select>` named `name` offering "Any" and `options` (value,
/// text), with the one `chosen` names selected.
fn filter_select<const N: usize>(
    name: &'static str,
    label: &'static str,
    options: [(&'static str, &'static str); N],
    chosen: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <select id=name name=name data-testid=format!("filter-{name}")>
                <option value="">"Any"</option>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let selected = move || chosen().as_deref() == Some(value);
                        view! { <option value=value selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let query = use_query_map();
    let list_query = Memo::new(move |_| {
        let q = query.read();
        let nonempty = |k: &str| q.get(k).filter(|v| !v.is_empty());
        JobsPageQuery {
            state: nonempty("state"),
            kind: nonempty("kind"),
            page: parse_page(q.get("page").as_deref()),
        }
    });
    let list = Resource::new(
        move || list_query.get(),
        |q| list_jobs(q.state, q.kind, Some(q.page), Some(PER_PAGE)),
    );
    view! {
        <Title text="Jobs · Runboard" />
        <section class="panel">
            <h1>"Jobs"</h1>
            <form method="get" action="/jobs" class="filters" data-testid="filters">
                {filter_select(
                    "state",
                    "State",
                    JobState::ALL.map(|s| (s.as_str(), s.as_str())),
                    move || list_query.read().state.clone(),
                )}
                {filter_select(
                    "kind",
                    "Kind",
                    JobKind::ALL.map(|k| (k.as_str(), k.label())),
                    move || list_query.read().kind.clone(),
                )}
                <button type="submit" class="button" data-testid="apply-filter">"Apply"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Loading jobs…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(first) => view! { <LiveList first=first query=list_query.get_untracked() /> }.into_any(),
                        Err(e) => view! { <p class="alert alert--error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The table, polled every 2 s while any job on the page is live (an island).
#[island(lazy)]
fn LiveList(first: JobList, query: JobsPageQuery) -> impl IntoView {
    crate::ready::island("live_list");
    let any_live = |l: &JobList| l.jobs.iter().any(|j| j.state.is_live());
    let live = any_live(&first);
    let list = RwSignal::new(first);
    let health = RwSignal::new(PollHealth::default());
    if live {
        let q = query.clone();
        start_polling(health, move || {
            let q = q.clone();
            async move {
                match list_jobs(q.state, q.kind, Some(q.page), Some(PER_PAGE)).await {
                    Ok(next) => {
                        let keep = any_live(&next);
                        list.set(next);
                        Ok(keep)
                    }
                    Err(e) if !e.is_transient() => Ok(false),
                    Err(_) => Err(()),
                }
            }
        });
    }
    let pages = move || {
        let l = list.read();
        page_count(l.total, l.per_page)
    };
    let page = query.page.clamp(1, MAX_PAGE);
    let (prev_page, next_page) = neighbours(page);
    let (prev, next) = (query.href(prev_page), query.href(next_page));

    // The ticked jobs, in the order ticked; kept apart from the rows so a poll that re-renders
    // a row keeps its tick.
    let selected = RwSignal::new(Vec::<uuid::Uuid>::new());
    let hint = RwSignal::new(None::<String>);
    // With the WASM: `/compare?ids=a,b` (without it, the form itself sends `?ids=a&ids=b`).
    let compare = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids = selected.get_untracked();
        if (COMPARE_MIN..=COMPARE_MAX).contains(&ids.len()) {
            hint.set(None);
            let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
            crate::swap::navigate(&format!("/compare?ids={}", ids.join(",")));
        } else {
            hint.set(Some(format!(
                "Tick {COMPARE_MIN} to {COMPARE_MAX} jobs to compare ({} ticked).",
                ids.len()
            )));
        }
    };
    view! {
        <Show when=move || { health.get().failures > 0 }>
            <p class="notice notice--warn" role="status">"Connection lost — reconnecting…"</p>
        </Show>
        <p class="muted" data-testid="jobs-total">
            {move || format!("{} job(s)", list.read().total)}
        </p>
        <form method="get" action="/compare" class="compare-form" data-testid="compare-form" on:submit=compare>
            <div class="table-wrap">
                <table data-testid="jobs-table" class="jobs-table">
                    <thead>
                        <tr>
                            <th class="jobs-table__pick"><span class="results__sr-only">"Compare"</span></th>
                            <th>"Job"</th>
                            <th>"Kind"</th>
                            <th>"Research"</th>
                            <th>"Result"</th>
                            <th>"State"</th>
                            <th>"Progress"</th>
                            <th>"Created"</th>
                            <th>"Finished"</th>
                            <th class="num">"Duration"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || list.get().jobs key=|j| (j.id, j.state, j.progress_message.clone()) let:job>
                            <JobRow job=job selected=selected />
                        </For>
                    </tbody>
                </table>
            </div>
            <p class="actions compare-bar">
                <button type="submit" class="button" data-testid="compare-selected">
                    "Compare selected"
                </button>
                <span class="muted" data-testid="compare-count">
                    {move || {
                        let n = selected.read().len();
                        if n == 0 {
                            format!("Tick {COMPARE_MIN}–{COMPARE_MAX} jobs to compare them side by side.")
                        } else {
                            format!("{n} ticked")
                        }
                    }}
                </span>
            </p>
            {move || hint.get().map(|h| view! { <p class="alert alert--error" role="alert">{h}</p> })}
        </form>
        <nav class="pager actions" aria-label="Pages">
            <Show when=move || { page > 1 }>
                <a class="button button--secondary" href=prev.clone()>"← Newer"</a>
            </Show>
            <span class="muted">{move || format!("Page {page} of {}", pages())}</span>
            <Show when=move || { page < pages() }>
                <a class="button button--secondary" href=next.clone() data-testid="next-page">"Older →"</a>
            </Show>
        </nav>
    }
}

#[component]
fn JobRow(job: JobStatus, selected: RwSignal<Vec<uuid::Uuid>>) -> impl IntoView {
    let id = job.id;
    let short = id.to_string()[..8].to_string();
    let href = format!("/jobs/{id}");
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.as_ref().map(format_time).unwrap_or_else(|| "—".into())
    };
    let duration = match (job.started_at, job.finished_at) {
        (Some(s), Some(f)) => format_duration((f - s).num_milliseconds() as f64 / 1000.0),
        (Some(_), None) => "running".into(),
        _ => "—".into(),
    };
    let state = job.state;
    let (progress, message) = (job.progress, job.progress_message.clone());
    let context = job.context.clone().unwrap_or_default();
    let research = research_label(&context);
    let params = params_summary(&context);
    let figures = figures(&context);
    let checked = move || selected.read().contains(&id);
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|ids| {
            ids.retain(|x| *x != id);
            if on {
                ids.push(id);
            }
        });
    };
    view! {
        <tr data-testid="job-row" data-state=state.as_str() data-id=id.to_string()>
            <td class="jobs-table__pick">
                <input
                    type="checkbox"
                    name="ids"
                    value=id.to_string()
                    aria-label=format!("Compare job {short}")
                    data-testid="compare-pick"
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td><a href=href><code>{short.clone()}</code></a></td>
            <td>{job.kind.label()}</td>
            <td class="jobs-table__research" data-testid="job-research">
                {(!research.is_empty()).then(|| view! { <span>{research}</span> })}
                {(!params.is_empty()).then(|| view! { <span class="muted jobs-table__params">{params}</span> })}
            </td>
            <td class="jobs-table__figures" data-testid="job-figures">
                {figures
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <span class="figure">
                                <span class="figure__label">{label}</span>
                                " "
                                <span class="figure__value">{value}</span>
                            </span>
                        }
                    })
                    .collect_view()}
            </td>
            <td><StatusBadge state=state /></td>
            <td>
                {if state.is_live() {
                    view! {
                        <ProgressBar progress=progress message=message compact=true />
                    }
                    .into_any()
                } else {
                    view! {
                        <span class="muted">{progress.map(|p| format!("{}%", crate::model::job::progress_percent(p))).unwrap_or_default()}</span>
                    }
                    .into_any()
                }}
            </td>
            <td>{fmt(Some(job.created_at))}</td>
            <td>{fmt(job.finished_at)}</td>
            <td class="num">{duration}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests;
