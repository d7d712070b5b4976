//! `<ProgressBar/>`: the seed's `render_progress_bar(progress, message)`, plus ETA and rate.

use leptos::prelude::*;

use super::format_duration;
use crate::model::job::progress_percent;

/// A filled bar with its percentage and optional message, ETA and rate.
///
/// A missing `progress` renders an indeterminate bar (no `aria-valuenow`, no "0 %"), because a
/// job that has not reported yet is not at zero.
#[component]
pub fn ProgressBar(
    #[prop(into)] progress: Signal<Option<f64>>,
    #[prop(into)] message: Signal<Option<String>>,
    #[prop(optional, into)] eta_seconds: Signal<Option<f64>>,
    #[prop(optional, into)] rate_per_second: Signal<Option<f64>>,
    /// A slim variant without the text lines, for table rows.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let percent = move || progress.get().map(progress_percent);
    let value_text = move || match (percent(), message.get()) {
        (Some(p), Some(m)) => format!("{p}% — {m}"),
        (Some(p), None) => format!("{p}%"),
        (None, Some(m)) => m,
        (None, None) => "waiting for the first progress report".into(),
    };
    let details = move || {
        let mut parts = Vec::new();
        if let Some(eta) = eta_seconds.get() {
            parts.push(format!("ETA {}", format_duration(eta)));
        }
        if let Some(rate) = rate_per_second.get() {
            parts.push(if rate >= 10.0 {
                format!("{rate:.0}/s")
            } else {
                format!("{rate:.2}/s")
            });
        }
        parts.join(" · ")
    };
    view! {
        <div class=if compact { "progress progress--compact" } else { "progress" }>
            <Show when=move || !compact>
                <div class="progress__label">
                    <span class="progress__message" data-testid="progress-message">
                        {move || message.get().unwrap_or_default()}
                    </span>
                    <span class="progress__percent" data-testid="progress-percent">
                        {move || percent().map(|p| format!("{p}%")).unwrap_or_default()}
                    </span>
                </div>
            </Show>
            <div
                class=move || {
                    if percent().is_some() {
                        "progress__track"
                    } else {
                        "progress__track progress__track--indeterminate"
                    }
                }
                role="progressbar"
                aria-label="Job progress"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || percent().map(|p| p.to_string())
                aria-valuetext=value_text
            >
                <div
                    class="progress__fill"
                    style:width=move || percent().map(|p| format!("{p}%")).unwrap_or_default()
                ></div>
            </div>
            <Show when=move || !compact && !details().is_empty()>
                <div class="progress__details" data-testid="progress-eta">
                    {details}
                </div>
            </Show>
        </div>
    }
}
