//! "Is the optimum real?": the robustness figures of a search (DSR, PBO, bootstrap), each with
//! its one-line reading and a link to its method, the PBO's logit histogram, and the walk-forward
//! summary.

use leptos::prelude::*;

use super::format::{escape_xml, fmt_thousands};
use crate::model::research::{
    BootstrapFigure, Robustness, WalkForwardRobustness, ROBUSTNESS_DOCS_URL as DOCS_URL,
};

/// Width and height of the logit histogram.
const HIST_W: f64 = 240.0;
const HIST_H: f64 = 60.0;

/// One figure: name, value, reading, and a link to the method.
fn figure(
    name: &'static str,
    value: String,
    reading: String,
    anchor: &'static str,
    testid: &'static str,
) -> impl IntoView {
    let href = format!("{DOCS_URL}#{anchor}");
    view! {
        <div class="robustness__figure" data-testid=testid>
            <dt>{name}</dt>
            <dd class="robustness__value">{value}</dd>
            <dd class="robustness__reading">
                {reading} " " <a href=href target="_blank" rel="noopener">"Method"</a>
            </dd>
        </div>
    }
}

/// The PBO's logit distribution as SVG bars; the bins left of λ = 0 (overfit splits) are marked.
pub fn logit_histogram_svg(min: f64, bin_width: f64, counts: &[u64]) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1) as f64;
    let w = HIST_W / n;
    let mut bars = String::new();
    for (i, &c) in counts.iter().enumerate() {
        let h = (c as f64 / max) * (HIST_H - 2.0);
        let left = min + i as f64 * bin_width;
        let class = if left < 0.0 {
            "bar bar--overfit"
        } else {
            "bar"
        };
        let title = escape_xml(&format!(
            "λ in [{:.1}, {:.1}): {c} splits",
            left,
            left + bin_width
        ));
        bars.push_str(&format!(
            r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{title}</title></rect>"#,
            i as f64 * w + 0.5,
            HIST_H - h,
            (w - 1.0).max(0.5),
            h
        ));
    }
    let zero_x = if bin_width > 0.0 {
        ((0.0 - min) / bin_width * w).clamp(0.0, HIST_W)
    } else {
        0.0
    };
    format!(
        r#"<svg class="logit-histogram" viewBox="0 0 {HIST_W} {HIST_H}" width="{HIST_W}" height="{HIST_H}" role="img" aria-label="Distribution of the CSCV logits">{bars}<line class="axis" x1="{zero_x:.1}" x2="{zero_x:.1}" y1="0" y2="{HIST_H}"/></svg>"#
    )
}

fn share(p: f64) -> String {
    if p.is_finite() {
        format!("{} %", fmt_thousands(p * 100.0, 0))
    } else {
        "—".into()
    }
}

/// The figures of one search.
#[component]
pub fn RobustnessPanel(robustness: Robustness) -> impl IntoView {
    let Robustness {
        deflated_sharpe,
        pbo,
        bootstrap,
        trials_total,
        trials_used,
        sampled,
        notes,
    } = robustness;
    let dsr = deflated_sharpe.map(|d| {
        let reading = d.reading();
        let value = format!(
            "{} (SR {} vs SR₀ {} per bar)",
            share(d.probability),
            fmt_thousands(d.observed_sharpe, 3),
            fmt_thousands(d.expected_max_sharpe, 3)
        );
        figure(
            "Deflated Sharpe Ratio",
            value,
            reading,
            "deflated-sharpe-ratio",
            "robustness-dsr",
        )
    });
    let pbo_view = pbo.map(|p| {
        let reading = p.reading();
        let svg = logit_histogram_svg(p.logit_min, p.logit_bin_width, &p.logit_counts);
        view! {
            {figure(
                "Probability of overfitting (PBO)",
                share(p.pbo),
                reading,
                "probability-of-backtest-overfitting-pbo",
                "robustness-pbo",
            )}
            <div class="robustness__chart" inner_html=svg></div>
        }
    });
    let boot = bootstrap.map(|b| bootstrap_figure(&b, "Bootstrap p-value", "robustness-bootstrap"));
    let trials_note = if sampled {
        format!(
            "PBO and the trial-Sharpe variance use {} of the {} runs, evenly spaced over the grid.",
            fmt_thousands(trials_used as f64, 0),
            fmt_thousands(trials_total as f64, 0)
        )
    } else {
        format!(
            "Computed from all {} runs.",
            fmt_thousands(trials_total as f64, 0)
        )
    };
    let notes = note_items(notes);
    view! {
        <div class="robustness" data-testid="robustness">
            <dl class="robustness__figures">{dsr} {pbo_view} {boot}</dl>
            <p class="muted" data-testid="robustness-trials">{trials_note}</p>
            <ul class="muted robustness__notes">{notes}</ul>
        </div>
    }
}

/// The bootstrap test's figure, under `label`.
fn bootstrap_figure(
    b: &BootstrapFigure,
    label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    figure(
        label,
        fmt_thousands(b.p_value, 3),
        b.reading(),
        "bootstrap-significance-of-the-best-run",
        testid,
    )
}

/// The panel's notes, one list item each.
fn note_items(notes: Vec<String>) -> impl IntoView {
    notes
        .into_iter()
        .map(|n| view! { <li>{n}</li> })
        .collect_view()
}

/// A walk-forward's summary: the medians of its folds' figures and the out-of-sample test.
#[component]
pub fn WalkForwardRobustnessPanel(robustness: WalkForwardRobustness) -> impl IntoView {
    let WalkForwardRobustness {
        median_pbo,
        median_dsr,
        oos_bootstrap,
        notes,
    } = robustness;
    let opt_share = |v: Option<f64>| v.map_or_else(|| "—".into(), share);
    let boot = oos_bootstrap.map(|b| {
        bootstrap_figure(
            &b,
            "Out-of-sample bootstrap p-value",
            "robustness-oos-bootstrap",
        )
    });
    let notes = note_items(notes);
    view! {
        <div class="robustness" data-testid="robustness">
            <dl class="robustness__figures">
                {figure(
                    "Median DSR of the folds",
                    opt_share(median_dsr),
                    "Each fold's in-sample best, deflated for the number of runs it was chosen from (per fold in the table)."
                        .into(),
                    "deflated-sharpe-ratio",
                    "robustness-median-dsr",
                )}
                {figure(
                    "Median PBO of the folds",
                    opt_share(median_pbo),
                    "How often each fold's in-sample best fell to the lower half out of sample, within its own window."
                        .into(),
                    "probability-of-backtest-overfitting-pbo",
                    "robustness-median-pbo",
                )}
                {boot}
            </dl>
            <ul class="muted robustness__notes">{notes}</ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_scales_bars_to_the_largest_bin_and_marks_overfit_bins() {
        let svg = logit_histogram_svg(-1.0, 0.5, &[1, 4, 2, 0]);
        assert_eq!(svg.matches("<rect").count(), 4);
        // Bins starting at −1 and −0.5 are overfit (λ < 0); 0 and 0.5 are not.
        assert_eq!(svg.matches("bar--overfit").count(), 2);
        // The tallest bar (4) fills the height less a margin: 58.
        assert!(svg.contains(r#"height="58.0""#), "{svg}");
        // The λ = 0 line sits after two bins of 60 px.
        assert!(svg.contains(r#"x1="120.0""#), "{svg}");
        // An empty histogram still renders.
        assert!(logit_histogram_svg(-6.0, 0.5, &[]).starts_with("<svg"));
    }
}
