//! `<JobPartial/>`: while a fanned-out optimization runs, its heatmap and best runs so far,
//! merged over the chunks that have finished (`/api/job_partial`). The `job-partial` region
//! renders on the server only: the job's live island swaps it for a fresh render whenever the
//! polled status moves, and once the job ends (when it is empty: the full results take its
//! place).

use leptos::prelude::*;

use crate::api::job_partial;
use crate::components::results::{HeatmapChart, TopRunsTable};
use crate::model::{JobKind, JobState};

#[component]
pub fn JobPartial(id: String, kind: JobKind, state: JobState) -> impl IntoView {
    let live = kind == JobKind::Optimize && state == JobState::Running;
    let partial = Resource::new(
        move || id.clone(),
        move |id| async move {
            if live {
                job_partial(id).await.ok().flatten()
            } else {
                None
            }
        },
    );
    view! {
        <div data-swap-id="job-partial">
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
        </div>
    }
}
