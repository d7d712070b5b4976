//! What the charts share: the [`ChartSvg`] they build, the labelled `<svg>` wrapper and the
//! empty-chart note the components render, and the `<text>`/`<line>` writers.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::escape_xml;
use super::scale::{Linear, Ticks};

/// A chart's SVG content, ready to be wrapped by [`chart_svg`].
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSvg {
    /// Logical width of the `viewBox`.
    pub width: f64,
    /// Logical height of the `viewBox`.
    pub height: f64,
    /// The elements inside the `<svg>`, already escaped.
    pub body: String,
    /// A one-sentence summary for `aria-label`.
    pub label: String,
}

/// Wraps chart content in a responsive, labelled `<svg>` (100 % wide, height from the
/// `viewBox`), inside a wrapper that scrolls sideways on very narrow screens.
pub(super) fn chart_svg(svg: ChartSvg, class: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <div class="chart-wrap">
            <svg
                class=format!("chart {class}")
                viewBox=format!("0 0 {} {}", svg.width, svg.height)
                preserveAspectRatio="xMidYMid meet"
                role="img"
                aria-label=svg.label
                data-testid=testid
                inner_html=svg.body
            ></svg>
        </div>
    }
}

/// A chart under its caption (a `<figure>`), or the note `empty` when there is nothing to draw.
pub(super) fn captioned_chart(
    svg: Option<ChartSvg>,
    caption: String,
    (class, testid): (&'static str, &'static str),
    empty: &'static str,
) -> AnyView {
    match svg {
        Some(svg) => view! {
            <figure class="chart-figure">
                <figcaption class="chart-figure__caption">{caption}</figcaption>
                {chart_svg(svg, class, testid)}
            </figure>
        }
        .into_any(),
        None => empty_chart(empty),
    }
}

pub(super) fn empty_chart(what: &'static str) -> AnyView {
    view! { <p class="muted chart-empty">{what}</p> }.into_any()
}

/// Appends `<text>`; `text` is escaped here.
pub(super) fn text(out: &mut String, class: &str, x: f64, y: f64, anchor: &str, text: &str) {
    let _ = write!(
        out,
        r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
        escape_xml(text)
    );
}

pub(super) fn hline(out: &mut String, class: &str, x0: f64, x1: f64, y: f64) {
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}"/>"#
    );
}

pub(super) fn vline(out: &mut String, class: &str, x: f64, y0: f64, y1: f64) {
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}"/>"#
    );
}

/// The plot area of a chart with one value axis and one numeric x axis, in `viewBox` units.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plot {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Plot {
    /// The scales that map `xt`'s and `yt`'s domains onto this area (y upwards).
    pub fn scales(&self, xt: &Ticks, yt: &Ticks) -> (Linear, Linear) {
        (
            Linear::new(xt.domain, (self.left, self.right)),
            Linear::new(yt.domain, (self.bottom, self.top)),
        )
    }

    /// Grid lines with their tick labels for both axes, the x axis line, and `x_title` under it.
    pub fn axes(
        &self,
        out: &mut String,
        (x, xt): (&Linear, &Ticks),
        (y, yt): (&Linear, &Ticks),
        x_title: &str,
    ) {
        for (v, label) in yt.labels() {
            hline(out, "chart__grid", self.left, self.right, y.map(v));
            text(
                out,
                "chart__tick",
                self.left - 6.0,
                y.map(v) + 4.0,
                "end",
                &label,
            );
        }
        for (v, label) in xt.labels() {
            vline(out, "chart__grid", x.map(v), self.top, self.bottom);
            text(
                out,
                "chart__tick",
                x.map(v),
                self.bottom + 16.0,
                "middle",
                &label,
            );
        }
        hline(out, "chart__axis", self.left, self.right, self.bottom);
        let middle = (self.left + self.right) / 2.0;
        text(
            out,
            "chart__axis-title",
            middle,
            self.bottom + 38.0,
            "middle",
            x_title,
        );
    }
}

/// Largest chart markup accepted from any data (the charts' "stays small" tests).
#[cfg(test)]
pub(super) const BUDGET: usize = 2_000_000;

/// Markup size of a chart, 0 for none.
#[cfg(test)]
pub(super) fn size(svg: Option<ChartSvg>) -> usize {
    svg.map_or(0, |s| s.body.len() + s.label.len())
}
