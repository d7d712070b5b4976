//! `<JobPartial/>`: while a fanned-out optimization runs, its heatmap and best runs so far,
//! merged over the chunks that have finished (`/api/job_partial`); refreshed whenever the
//! polled status changes and gone once the job ends (the full results take its place).
//!
//! A live-only view, rendered in the browser after hydration: the server renders nothing for
//! it (without JavaScript the page shows the full results once the job ends), so what the
//! browser hydrates never depends on when the server rendered.

use leptos::prelude::*;

use crate::api::job_partial;
use crate::components::results::{HeatmapChart, TopRunsTable};
use crate::model::{JobKind, JobState, JobStatus};

#[component]
pub fn JobPartial(id: String, status: RwSignal<JobStatus>) -> impl IntoView {
    // Browser-only: the fetch runs again whenever the polled status moves.
    let partial = LocalResource::new(move || {
        let s = status.read();
        let live = s.kind == JobKind::Optimize && s.state == JobState::Running;
        let _moved = s.progress_message.clone();
        let id = id.clone();
        async move {
            if live {
                job_partial(id).await.ok().flatten()
            } else {
                None
            }
        }
    });
    // Effects run only in the browser, after hydration.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
        <Show when=move || mounted.get()>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                partial.await.map(|p| {
                    let label = p.metric.label().to_string();
                    let runs = format!(
                        "From {} of {} chunks ({} of {} runs); the rest are still running.",
                        p.chunks_done,
                        p.chunks,
                        p.runs_done,
                        p.total_runs,
                    );
                    view! {
                        <section class="panel" data-testid="job-partial">
                            <h2>"Results so far"</h2>
                            <p class="muted" data-testid="partial-summary">{runs}</p>
                            <h3>"Heatmap"</h3>
                            <HeatmapChart heatmap=p.heatmap metric_label=label.clone() />
                            <h3>"Top runs"</h3>
                            <TopRunsTable top=p.top metric_label=label />
                        </section>
                    }
                })
            })}
        </Transition>
        </Show>
    }
}
