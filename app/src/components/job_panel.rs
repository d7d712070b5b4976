//! `<JobPanel/>`: the seed's "Active Job" box: id, log path, state, start time, progress.

use leptos::prelude::*;

use super::{format_time, ProgressBar, StatusBadge};
use crate::model::{JobState, JobStatus};

/// The live panel for one job, as in the seed's visual example.
#[component]
pub fn JobPanel(#[prop(into)] status: Signal<JobStatus>) -> impl IntoView {
    let state = Signal::derive(move || status.read().state);
    let started = move || {
        status
            .read()
            .started_at
            .as_ref()
            .map(format_time)
            .unwrap_or_else(|| "not yet".into())
    };
    let finished = move || status.read().finished_at.as_ref().map(format_time);
    let show_bar = move || {
        let s = status.read();
        s.progress.is_some() || s.state == JobState::Running
    };
    view! {
        <section class="panel job-panel" data-testid="job-panel" aria-live="polite">
            <header class="job-panel__head">
                <span class="job-panel__icon" aria-hidden="true">
                    {move || if state.get().is_live() { "↻" } else { "■" }}
                </span>
                <h2 class="job-panel__title">
                    "Active Job: " <code data-testid="job-id">{move || status.read().id.to_string()}</code>
                </h2>
            </header>
            <p class="job-panel__log">
                "Log: " <code data-testid="log-path">{move || status.read().log_path.clone()}</code>
            </p>
            <p class="job-panel__state">
                <StatusBadge state=state />
                <span class="job-panel__kind">{move || status.read().kind.label()}</span>
                <Show when=move || status.read().cancel_requested && state.get().is_live()>
                    <span class="muted">" cancel requested…"</span>
                </Show>
            </p>
            <p class="job-panel__times">
                "Started: " <time data-testid="started-at">{started}</time>
                {move || finished().map(|f| view! { " · Finished: " <time>{f}</time> })}
                {move || {
                    let s = status.read();
                    (s.attempt > 1).then(|| format!(" · attempt {}/{}", s.attempt, s.max_attempts))
                }}
            </p>
            <Show when=show_bar>
                <ProgressBar
                    progress=Signal::derive(move || status.read().progress)
                    message=Signal::derive(move || status.read().progress_message.clone())
                    eta_seconds=Signal::derive(move || {
                        let s = status.read();
                        if s.state == JobState::Running { s.eta_seconds } else { None }
                    })
                    rate_per_second=Signal::derive(move || {
                        let s = status.read();
                        if s.state == JobState::Running { s.rate_per_second } else { None }
                    })
                />
            </Show>
            {move || {
                status
                    .read()
                    .error
                    .clone()
                    .map(|e| view! { <p class="alert alert--error" data-testid="job-error">{e}</p> })
            }}
        </section>
    }
}
