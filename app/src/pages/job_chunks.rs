//! `<JobChunks/>`: a fanned-out optimization's or walk-forward's chunks as a compact strip on its job page, one
//! cell per chunk coloured by state, with how many are done and which nodes ran them (the job's
//! live part reads them again whenever the polled status changes). Jobs that were not split
//! show nothing.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::model::{JobChunk, JobState};

/// "5 of 19 chunks done · fan-a 10, fan-b 9".
fn summary(chunks: &[JobChunk]) -> String {
    let done = chunks
        .iter()
        .filter(|c| c.state == JobState::Succeeded)
        .count();
    let mut nodes: BTreeMap<&str, usize> = BTreeMap::new();
    for c in chunks {
        if let Some(n) = c.node.as_deref() {
            *nodes.entry(n).or_default() += 1;
        }
    }
    let by_node: Vec<String> = nodes.iter().map(|(n, k)| format!("{n} {k}")).collect();
    let mut text = format!("{done} of {} chunks done", chunks.len());
    if !by_node.is_empty() {
        text.push_str(" · ");
        text.push_str(&by_node.join(", "));
    }
    text
}

#[component]
pub fn JobChunks(chunks: Signal<Vec<JobChunk>>) -> impl IntoView {
    move || {
        let list = chunks.get();
        (!list.is_empty()).then(|| {
            let cells = list
                .iter()
                .map(|c| {
                    let title = format!(
                        "chunk {}: runs {}–{}, {}{}{}",
                        c.index + 1,
                        c.start + 1,
                        c.end,
                        c.state,
                        c.node
                            .as_deref()
                            .map(|n| format!(" on {n}"))
                            .unwrap_or_default(),
                        if c.attempt > 1 {
                            format!(", attempt {}", c.attempt)
                        } else {
                            String::new()
                        },
                    );
                    let class = format!(
                        "chunk-strip__cell badge--{}",
                        c.state.as_str().to_ascii_lowercase()
                    );
                    view! { <span class=class title=title></span> }
                })
                .collect_view();
            view! {
                <section class="panel" data-testid="job-chunks">
                    <h2>"Chunks"</h2>
                    <p class="muted" data-testid="chunks-summary">{summary(&list)}</p>
                    <div class="chunk-strip" role="img" aria-label=summary(&list)>{cells}</div>
                </section>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_done_chunks_and_nodes() {
        let chunk = |index, state, node: Option<&str>| JobChunk {
            index,
            state,
            start: 0,
            end: 1,
            attempt: 1,
            node: node.map(String::from),
            progress: None,
        };
        let list = [
            chunk(0, JobState::Succeeded, Some("b")),
            chunk(1, JobState::Running, Some("a")),
            chunk(2, JobState::Queued, None),
            chunk(3, JobState::Succeeded, Some("b")),
        ];
        assert_eq!(summary(&list), "2 of 4 chunks done · a 1, b 2");
        assert_eq!(summary(&list[2..3]), "0 of 1 chunks done");
    }
}
