//! The result charts: `<EquityChart/>` (equity with a drawdown panel), `<LossChart/>` (training
//! loss per epoch) and `<HeatmapChart/>` (an optimization metric over two parameters).
//!
//! Each chart's markup is a pure function of its data (`*_svg`, unit-tested), set as the inner
//! HTML of an `<svg>` that the component owns (`viewBox`, `role="img"`, `aria-label`,
//! `data-testid`). The same string is produced on the server and in the browser, so hydration
//! keeps the server's nodes untouched, and hundreds of heatmap cells cost the WASM bundle no view
//! code. Colours come from CSS classes (see `style/main.css`, "Results"), except the heatmap's
//! data colours. Why no plotting crate: see [`super::scale`].

use std::fmt::Write;

use leptos::prelude::*;

use super::format::{
    escape_xml, fmt_date, fmt_metric, fmt_money, fmt_param, fmt_pct, fmt_tick, MISSING,
};
use super::scale::{
    area_path, bin_axis, integer_ticks, line_path, nice_ticks, ramp_color, ramp_is_light,
    time_ticks, Linear,
};
use crate::model::research::{EpochLoss, EquityPoint, Heatmap};

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
fn chart_svg(svg: ChartSvg, class: &'static str, testid: &'static str) -> impl IntoView {
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

fn empty_chart(what: &'static str) -> AnyView {
    view! { <p class="muted chart-empty">{what}</p> }.into_any()
}

/// Appends `<text>`; `text` is escaped here.
fn text(out: &mut String, class: &str, x: f64, y: f64, anchor: &str, text: &str) {
    let _ = write!(
        out,
        r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
        escape_xml(text)
    );
}

fn hline(out: &mut String, class: &str, x0: f64, x1: f64, y: f64) {
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}"/>"#
    );
}

fn vline(out: &mut String, class: &str, x: f64, y0: f64, y1: f64) {
    let _ = write!(
        out,
        r#"<line class="{class}" x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}"/>"#
    );
}

// ---------------------------------------------------------------------------------------------
// Equity and drawdown
// ---------------------------------------------------------------------------------------------

const EQ_W: f64 = 720.0;
const EQ_LEFT: f64 = 68.0;
const EQ_RIGHT: f64 = 704.0;
const EQ_TOP: f64 = 14.0;
const EQ_BOTTOM: f64 = 214.0;
const DD_TOP: f64 = 236.0;
const DD_BOTTOM: f64 = 306.0;
const EQ_H: f64 = 330.0;

/// The equity curve (top panel, with a dashed line at the starting equity) and the drawdown
/// from the running peak as a filled area below zero (bottom panel), sharing a time axis.
/// `None` without points.
pub fn equity_svg(points: &[EquityPoint]) -> Option<ChartSvg> {
    let first = points.first()?;
    let last = points.last()?;
    let (t0, t1) = (first.t, last.t);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut max_dd = 0.0f64;
    for p in points {
        if p.equity.is_finite() {
            lo = lo.min(p.equity);
            hi = hi.max(p.equity);
        }
        if p.drawdown_pct.is_finite() {
            max_dd = max_dd.max(p.drawdown_pct);
        }
    }
    let eq_ticks = nice_ticks(lo, hi, 5);
    let dd_ticks = nice_ticks(-max_dd.max(1e-9), 0.0, 2);
    let x = Linear::new((t0 as f64, t1 as f64), (EQ_LEFT, EQ_RIGHT));
    let ye = Linear::new(eq_ticks.domain, (EQ_BOTTOM, EQ_TOP));
    let yd = Linear::new(dd_ticks.domain, (DD_BOTTOM, DD_TOP));

    let mut b = String::new();
    for (v, label) in eq_ticks.labels() {
        let y = ye.map(v);
        hline(&mut b, "chart__grid", EQ_LEFT, EQ_RIGHT, y);
        text(&mut b, "chart__tick", EQ_LEFT - 6.0, y + 4.0, "end", &label);
    }
    for (v, _) in dd_ticks.labels() {
        let y = yd.map(v);
        hline(&mut b, "chart__grid", EQ_LEFT, EQ_RIGHT, y);
        let label = format!("{}%", fmt_tick(v, dd_ticks.step));
        text(&mut b, "chart__tick", EQ_LEFT - 6.0, y + 4.0, "end", &label);
    }
    for (t, label) in time_ticks(t0, t1, 6) {
        let px = x.map(t as f64);
        vline(&mut b, "chart__grid", px, EQ_TOP, DD_BOTTOM);
        text(
            &mut b,
            "chart__tick",
            px,
            DD_BOTTOM + 16.0,
            // A date centred on the right edge would be cut off by the viewBox.
            if px > EQ_RIGHT - 36.0 {
                "end"
            } else {
                "middle"
            },
            &label,
        );
    }
    hline(&mut b, "chart__axis", EQ_LEFT, EQ_RIGHT, EQ_BOTTOM);
    hline(&mut b, "chart__axis", EQ_LEFT, EQ_RIGHT, yd.map(0.0));
    if first.equity.is_finite() {
        hline(
            &mut b,
            "chart__ref",
            EQ_LEFT,
            EQ_RIGHT,
            ye.map(first.equity),
        );
    }

    // Paths are built from iterators: thinning keeps memory bounded however long the curve.
    let dd = || {
        points
            .iter()
            .map(|p| (x.map(p.t as f64), yd.map(-p.drawdown_pct)))
    };
    let _ = write!(
        b,
        r#"<path class="chart__area chart__area--drawdown" d="{}"/>"#,
        area_path(dd(), yd.map(0.0))
    );
    let _ = write!(
        b,
        r#"<path class="chart__line chart__line--drawdown" d="{}"/>"#,
        line_path(dd())
    );
    let _ = write!(
        b,
        r#"<path class="chart__line chart__line--equity" d="{}"/>"#,
        line_path(points.iter().map(|p| (x.map(p.t as f64), ye.map(p.equity))))
    );
    text(
        &mut b,
        "chart__panel-label",
        EQ_LEFT + 6.0,
        EQ_TOP + 12.0,
        "start",
        "Equity",
    );
    text(
        &mut b,
        "chart__panel-label",
        EQ_LEFT + 6.0,
        DD_TOP + 12.0,
        "start",
        "Drawdown",
    );

    let ret = if first.equity != 0.0 {
        format!(" ({})", fmt_pct((last.equity / first.equity - 1.0) * 100.0))
    } else {
        String::new()
    };
    let label = format!(
        "Equity curve from {} to {}: {} to {}{ret}; maximum drawdown {}.",
        fmt_date(t0),
        fmt_date(t1),
        fmt_money(first.equity),
        fmt_money(last.equity),
        fmt_pct(max_dd),
    );
    Some(ChartSvg {
        width: EQ_W,
        height: EQ_H,
        body: b,
        label,
    })
}

/// An equity curve with its drawdown panel below and date ticks.
#[component]
pub fn EquityChart(points: Vec<EquityPoint>) -> impl IntoView {
    match equity_svg(&points) {
        Some(svg) => chart_svg(svg, "chart--equity", "equity-chart").into_any(),
        None => empty_chart("No equity data."),
    }
}

// ---------------------------------------------------------------------------------------------
// Training loss
// ---------------------------------------------------------------------------------------------

const LOSS_W: f64 = 720.0;
const LOSS_H: f64 = 270.0;
const LOSS_LEFT: f64 = 60.0;
const LOSS_RIGHT: f64 = 704.0;
const LOSS_TOP: f64 = 34.0;
const LOSS_BOTTOM: f64 = 220.0;

/// Train and validation loss per epoch as two lines, with a legend. `None` without epochs.
pub fn loss_svg(epochs: &[EpochLoss]) -> Option<ChartSvg> {
    let first = epochs.first()?;
    let last = epochs.last()?;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in epochs.iter().flat_map(|e| [e.train_loss, e.val_loss]) {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let yt = nice_ticks(lo, hi, 5);
    let xt = integer_ticks(first.epoch as f64, last.epoch as f64, 8);
    let x = Linear::new(xt.domain, (LOSS_LEFT, LOSS_RIGHT));
    let y = Linear::new(yt.domain, (LOSS_BOTTOM, LOSS_TOP));

    let mut b = String::new();
    for (v, label) in yt.labels() {
        hline(&mut b, "chart__grid", LOSS_LEFT, LOSS_RIGHT, y.map(v));
        text(
            &mut b,
            "chart__tick",
            LOSS_LEFT - 6.0,
            y.map(v) + 4.0,
            "end",
            &label,
        );
    }
    for (v, label) in xt.labels() {
        vline(&mut b, "chart__grid", x.map(v), LOSS_TOP, LOSS_BOTTOM);
        text(
            &mut b,
            "chart__tick",
            x.map(v),
            LOSS_BOTTOM + 16.0,
            "middle",
            &label,
        );
    }
    hline(&mut b, "chart__axis", LOSS_LEFT, LOSS_RIGHT, LOSS_BOTTOM);
    text(
        &mut b,
        "chart__axis-title",
        (LOSS_LEFT + LOSS_RIGHT) / 2.0,
        LOSS_BOTTOM + 38.0,
        "middle",
        "Epoch",
    );
    for (class, value) in [("train", train_loss as LossOf), ("val", val_loss)] {
        let pts = || {
            epochs
                .iter()
                .map(|e| (x.map(e.epoch as f64), y.map(value(e))))
        };
        let _ = write!(
            b,
            r#"<path class="chart__line chart__line--{class}" d="{}"/>"#,
            line_path(pts())
        );
        // Markers keep short runs (a single epoch) visible.
        if epochs.len() <= 40 {
            for (px, py) in pts().filter(|(a, b)| a.is_finite() && b.is_finite()) {
                let _ = write!(
                    b,
                    r#"<circle class="chart__dot chart__dot--{class}" cx="{px:.1}" cy="{py:.1}" r="2.5"/>"#
                );
            }
        }
    }
    // Legend, top right.
    let lx = LOSS_RIGHT - 250.0;
    for (i, (class, name)) in [("train", "Training loss"), ("val", "Validation loss")]
        .into_iter()
        .enumerate()
    {
        let x0 = lx + i as f64 * 130.0;
        let _ = write!(
            b,
            r#"<line class="chart__line chart__line--{class}" x1="{x0:.1}" y1="14" x2="{:.1}" y2="14"/>"#,
            x0 + 20.0
        );
        text(&mut b, "chart__legend", x0 + 26.0, 18.0, "start", name);
    }
    text(
        &mut b,
        "chart__panel-label",
        LOSS_LEFT,
        18.0,
        "start",
        "Loss (cross-entropy)",
    );

    let label = format!(
        "Training and validation loss over {} epochs: training {} to {}, validation {} to {}.",
        epochs.len(),
        fmt_loss(first.train_loss),
        fmt_loss(last.train_loss),
        fmt_loss(first.val_loss),
        fmt_loss(last.val_loss),
    );
    Some(ChartSvg {
        width: LOSS_W,
        height: LOSS_H,
        body: b,
        label,
    })
}

/// Reads one loss series from an epoch.
type LossOf = fn(&EpochLoss) -> f64;

fn train_loss(e: &EpochLoss) -> f64 {
    e.train_loss
}

fn val_loss(e: &EpochLoss) -> f64 {
    e.val_loss
}

fn fmt_loss(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        MISSING.into()
    }
}

/// Training and validation loss per epoch.
#[component]
pub fn LossChart(epochs: Vec<EpochLoss>) -> impl IntoView {
    match loss_svg(&epochs) {
        Some(svg) => chart_svg(svg, "chart--loss", "loss-chart").into_any(),
        None => empty_chart("No epochs were recorded."),
    }
}

// ---------------------------------------------------------------------------------------------
// Heatmap
// ---------------------------------------------------------------------------------------------

/// Most rows or columns drawn; bigger grids are binned (each cell the best value of its bin,
/// as the engine does for parameters beyond the two shown).
pub const HEATMAP_MAX_BINS: usize = 60;

const HM_W: f64 = 720.0;
const HM_LEFT: f64 = 76.0;
const HM_RIGHT: f64 = 616.0;
const HM_TOP: f64 = 10.0;
const HM_LEGEND_X: f64 = 636.0;
const HM_EMPTY_FILL: &str = "#d5d9df";

/// One axis after binning: each bin's index range and its label.
struct Axis {
    bins: Vec<std::ops::Range<usize>>,
    labels: Vec<String>,
}

impl Axis {
    fn new(values: &[f64]) -> Self {
        let bins = bin_axis(values.len(), HEATMAP_MAX_BINS);
        let labels = bins
            .iter()
            .map(|r| {
                let a = fmt_param(values[r.start]);
                if r.len() == 1 {
                    a
                } else {
                    format!("{a}–{}", fmt_param(values[r.end - 1]))
                }
            })
            .collect();
        Self { bins, labels }
    }

    /// Short tick text: the first value of the bin.
    fn tick(&self, i: usize, values: &[f64]) -> String {
        fmt_param(values[self.bins[i].start])
    }
}

/// At most the first 40 characters of `s`.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The best (largest) finite value of `cells` over the bins, `None` if there is none. The
/// engine maximizes every metric (drawdowns are ≤ 0), so "largest" is "best".
fn bin_value(h: &Heatmap, ys: &std::ops::Range<usize>, xs: &std::ops::Range<usize>) -> Option<f64> {
    let mut best: Option<f64> = None;
    for yi in ys.clone() {
        for xi in xs.clone() {
            let v = h
                .cells
                .get(yi)
                .and_then(|row| row.get(xi))
                .copied()
                .flatten();
            if let Some(v) = v.filter(|v| v.is_finite()) {
                best = Some(best.map_or(v, |b: f64| b.max(v)));
            }
        }
    }
    best
}

/// The metric over the grid as coloured cells (viridis, grey where undefined) with a `<title>`
/// per cell, the best cell outlined, axis labels and a colour legend. The lowest y value is at
/// the bottom. A single-parameter grid is one row. `None` for an empty grid.
pub fn heatmap_svg(h: &Heatmap, metric_label: &str) -> Option<ChartSvg> {
    if h.x_values.is_empty() {
        return None;
    }
    // Names are repeated in every cell's title: keep them short whatever the data says.
    let x_name = clip(&h.x_param);
    let metric_label = clip(metric_label);
    let one_row = h.y_param.is_none() || h.y_values.len() <= 1;
    let y_values: &[f64] = if one_row {
        &h.y_values[..h.y_values.len().min(1)]
    } else {
        &h.y_values
    };
    let y_values = if y_values.is_empty() {
        &[0.0][..]
    } else {
        y_values
    };
    let xa = Axis::new(&h.x_values);
    let ya = Axis::new(y_values);
    let (nc, nr) = (xa.bins.len(), ya.bins.len());

    let mut grid = vec![vec![None; nc]; nr];
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut best: Option<(usize, usize, f64)> = None;
    let mut empty = 0usize;
    for (r, ys) in ya.bins.iter().enumerate() {
        for (c, xs) in xa.bins.iter().enumerate() {
            let v = bin_value(h, ys, xs);
            grid[r][c] = v;
            match v {
                Some(v) => {
                    lo = lo.min(v);
                    hi = hi.max(v);
                    if best.is_none_or(|(_, _, b)| v > b) {
                        best = Some((r, c, v));
                    }
                }
                None => empty += 1,
            }
        }
    }
    let t_of = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };

    let cw = (HM_RIGHT - HM_LEFT) / nc as f64;
    let ch = if one_row {
        44.0
    } else {
        cw.clamp(12.0, 40.0).min(420.0 / nr as f64).max(4.0)
    };
    let ph = ch * nr as f64;
    let bottom = HM_TOP + ph;
    let show_values = cw >= 44.0 && ch >= 18.0;
    let y_name = h.y_param.as_deref().filter(|_| !one_row).map(clip);

    let mut b = String::new();
    for (r, row) in grid.iter().enumerate() {
        // Row 0 (the smallest y) at the bottom.
        let y0 = bottom - (r + 1) as f64 * ch;
        for (c, v) in row.iter().enumerate() {
            let x0 = HM_LEFT + c as f64 * cw;
            let mut where_ = format!("{} = {}", x_name, xa.labels[c]);
            if let Some(yn) = y_name {
                let _ = write!(where_, ", {yn} = {}", ya.labels[r]);
            }
            let binned = xa.bins[c].len() > 1 || ya.bins[r].len() > 1;
            let (fill, class, title) = match v {
                Some(v) => (
                    ramp_color(t_of(*v)),
                    if best.is_some_and(|(br, bc, _)| br == r && bc == c) {
                        "heatmap__cell heatmap__cell--best"
                    } else {
                        "heatmap__cell"
                    },
                    format!(
                        "{where_}: {}{metric_label} {}",
                        if binned { "best " } else { "" },
                        fmt_metric(*v)
                    ),
                ),
                None => (
                    HM_EMPTY_FILL.to_string(),
                    "heatmap__cell heatmap__cell--empty",
                    format!("{where_}: no admissible run"),
                ),
            };
            let _ = write!(
                b,
                r#"<rect class="{class}" x="{x0:.2}" y="{y0:.2}" width="{cw:.2}" height="{ch:.2}" fill="{fill}"><title>{}</title></rect>"#,
                escape_xml(&title)
            );
            if show_values {
                let tclass = match v {
                    Some(v) if ramp_is_light(t_of(*v)) => "heatmap__value heatmap__value--dark",
                    Some(_) => "heatmap__value",
                    None => "heatmap__value heatmap__value--dark",
                };
                let s = v.map(fmt_metric).unwrap_or_else(|| MISSING.into());
                text(
                    &mut b,
                    tclass,
                    x0 + cw / 2.0,
                    y0 + ch / 2.0 + 4.0,
                    "middle",
                    &s,
                );
            }
        }
    }
    // Tick labels: thin out so they do not overlap (~36 units per x label, ~14 per y label).
    let xk = (36.0 / cw).ceil().max(1.0) as usize;
    for c in (0..nc).step_by(xk) {
        let px = HM_LEFT + (c as f64 + 0.5) * cw;
        text(
            &mut b,
            "chart__tick",
            px,
            bottom + 14.0,
            "middle",
            &xa.tick(c, &h.x_values),
        );
    }
    if let Some(yn) = y_name {
        let yk = (14.0 / ch).ceil().max(1.0) as usize;
        for r in (0..nr).step_by(yk) {
            let py = bottom - (r as f64 + 0.5) * ch;
            text(
                &mut b,
                "chart__tick",
                HM_LEFT - 6.0,
                py + 4.0,
                "end",
                &ya.tick(r, y_values),
            );
        }
        let cy = HM_TOP + ph / 2.0;
        let _ = write!(
            b,
            r#"<text class="chart__axis-title" x="16" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 16 {cy:.1})">{}</text>"#,
            escape_xml(yn)
        );
    }
    text(
        &mut b,
        "chart__axis-title",
        (HM_LEFT + HM_RIGHT) / 2.0,
        bottom + 34.0,
        "middle",
        x_name,
    );

    // Legend: a vertical ramp from the best (top) to the worst (bottom) value.
    let lh = ph.max(90.0);
    let mut legend_bottom = HM_TOP + lh;
    if lo <= hi {
        const STEPS: usize = 20;
        let sh = lh / STEPS as f64;
        for i in 0..STEPS {
            let t = 1.0 - (i as f64 + 0.5) / STEPS as f64;
            let _ = write!(
                b,
                r#"<rect class="heatmap__legend-step" x="{HM_LEGEND_X}" y="{:.2}" width="14" height="{:.2}" fill="{}"/>"#,
                HM_TOP + i as f64 * sh,
                sh + 0.3,
                ramp_color(t)
            );
        }
        let lx = HM_LEGEND_X + 20.0;
        text(
            &mut b,
            "chart__tick",
            lx,
            HM_TOP + 9.0,
            "start",
            &fmt_metric(hi),
        );
        if hi > lo {
            let mid = (lo + hi) / 2.0;
            text(
                &mut b,
                "chart__tick",
                lx,
                HM_TOP + lh / 2.0 + 4.0,
                "start",
                &fmt_metric(mid),
            );
            text(
                &mut b,
                "chart__tick",
                lx,
                HM_TOP + lh,
                "start",
                &fmt_metric(lo),
            );
        }
    }
    if empty > 0 {
        let y = legend_bottom + 10.0;
        let _ = write!(
            b,
            r#"<rect class="heatmap__legend-empty" x="{HM_LEGEND_X}" y="{y:.1}" width="14" height="14" fill="{HM_EMPTY_FILL}"/>"#
        );
        text(
            &mut b,
            "chart__tick",
            HM_LEGEND_X + 20.0,
            y + 11.0,
            "start",
            "n/a",
        );
        legend_bottom = y + 14.0;
    }
    let height = (bottom + 44.0).max(legend_bottom + 8.0).ceil();

    let over = match y_name {
        Some(yn) => format!(
            "{} ({} values) and {yn} ({} values)",
            x_name,
            h.x_values.len(),
            y_values.len()
        ),
        None => format!("{} ({} values)", x_name, h.x_values.len()),
    };
    let mut label = format!("Heatmap of {metric_label} over {over}");
    match best {
        Some((r, c, v)) => {
            let _ = write!(
                label,
                "; best {} at {} = {}",
                fmt_metric(v),
                x_name,
                xa.labels[c]
            );
            if let Some(yn) = y_name {
                let _ = write!(label, ", {yn} = {}", ya.labels[r]);
            }
        }
        None => label.push_str("; no cell has a value"),
    }
    if empty > 0 {
        let _ = write!(label, "; {empty} cells without a value");
    }
    label.push('.');
    Some(ChartSvg {
        width: HM_W,
        height,
        body: b,
        label,
    })
}

/// The metric over one or two parameters as a coloured grid with tooltips and a legend.
#[component]
pub fn HeatmapChart(heatmap: Heatmap, #[prop(into)] metric_label: String) -> impl IntoView {
    let caption = match heatmap.y_param.as_deref() {
        Some(y) if heatmap.y_values.len() > 1 => {
            format!("{metric_label} by {} × {y}", heatmap.x_param)
        }
        _ => format!("{metric_label} by {}", heatmap.x_param),
    };
    match heatmap_svg(&heatmap, &metric_label) {
        Some(svg) => view! {
            <figure class="chart-figure">
                <figcaption class="chart-figure__caption">{caption}</figcaption>
                {chart_svg(svg, "chart--heatmap", "heatmap")}
            </figure>
        }
        .into_any(),
        None => empty_chart("The grid is empty."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(t: i64, equity: f64, drawdown_pct: f64) -> EquityPoint {
        EquityPoint {
            t,
            equity,
            drawdown_pct,
        }
    }

    #[test]
    fn equity_chart_summarizes_return_and_drawdown() {
        let day = 86_400;
        let start = 1_577_836_800; // 2020-01-01
        let svg = equity_svg(&[
            pt(start, 10_000.0, 0.0),
            pt(start + 100 * day, 9_000.0, 10.0),
            pt(start + 365 * day, 12_500.0, 0.0),
        ])
        .unwrap();
        assert_eq!(
            svg.label,
            "Equity curve from 2020-01-01 to 2020-12-31: 10,000.00 to 12,500.00 (25.00%); \
             maximum drawdown 10.00%."
        );
        assert!(svg.body.contains("chart__line--equity"));
        // 365 days / 6 ticks ≈ 61 days → 2-month steps from January.
        assert!(svg.body.contains(">2020-03-01<"), "{}", svg.body);
        assert!(svg.body.contains(">-10%<"), "{}", svg.body);
        assert!(equity_svg(&[]).is_none());
        // A single point still draws (degenerate scales map to the middle).
        assert!(equity_svg(&[pt(start, 1.0, 0.0)]).is_some());
    }

    #[test]
    fn loss_chart_has_both_series_and_a_legend() {
        let epochs: Vec<EpochLoss> = (1..=3)
            .map(|e| EpochLoss {
                epoch: e,
                train_loss: 0.7 - 0.01 * e as f64,
                val_loss: 0.71 - 0.005 * e as f64,
            })
            .collect();
        let svg = loss_svg(&epochs).unwrap();
        assert!(svg.body.contains("chart__line--train"));
        assert!(svg.body.contains("chart__line--val"));
        assert!(svg.body.contains(">Validation loss<"));
        assert_eq!(
            svg.label,
            "Training and validation loss over 3 epochs: training 0.6900 to 0.6700, \
             validation 0.7050 to 0.6950."
        );
        assert!(loss_svg(&[]).is_none());
    }

    fn grid() -> Heatmap {
        Heatmap {
            x_param: "n1".into(),
            x_values: vec![5.0, 10.0],
            y_param: Some("n<2>".into()),
            y_values: vec![20.0, 30.0, 40.0],
            cells: vec![
                vec![Some(0.5), Some(1.5)],
                vec![None, Some(-0.25)],
                vec![Some(1.0), None],
            ],
        }
    }

    #[test]
    fn heatmap_has_a_titled_cell_per_grid_point() {
        let svg = heatmap_svg(&grid(), "Sharpe Ratio").unwrap();
        assert_eq!(svg.body.matches("<rect class=\"heatmap__cell").count(), 6);
        assert_eq!(svg.body.matches("<title>").count(), 6);
        assert!(svg
            .body
            .contains("<title>n1 = 10, n&lt;2&gt; = 20: Sharpe Ratio 1.500</title>"));
        assert!(svg
            .body
            .contains("<title>n1 = 5, n&lt;2&gt; = 30: no admissible run</title>"));
        assert_eq!(svg.body.matches("heatmap__cell--best").count(), 1);
        assert_eq!(svg.body.matches("heatmap__cell--empty").count(), 2);
        assert_eq!(svg.body.matches("heatmap__legend-empty").count(), 1);
        assert_eq!(
            svg.label,
            "Heatmap of Sharpe Ratio over n1 (2 values) and n<2> (3 values); best 1.500 at \
             n1 = 10, n<2> = 20; 2 cells without a value."
        );
    }

    #[test]
    fn one_parameter_heatmap_is_a_single_row() {
        let h = Heatmap {
            x_param: "period".into(),
            x_values: vec![5.0, 10.0, 15.0],
            y_param: None,
            y_values: vec![0.0],
            cells: vec![vec![Some(1.0), Some(2.0), Some(3.0)]],
        };
        let svg = heatmap_svg(&h, "Return [%]").unwrap();
        assert_eq!(svg.body.matches("<rect class=\"heatmap__cell").count(), 3);
        assert!(svg
            .body
            .contains("<title>period = 15: Return [%] 3.000</title>"));
        assert!(!svg.body.contains("rotate(-90"));
    }

    #[test]
    fn big_heatmaps_are_binned_to_the_best_value() {
        let n = 120;
        let values: Vec<f64> = (0..n).map(f64::from).collect();
        let h = Heatmap {
            x_param: "a".into(),
            x_values: values.clone(),
            y_param: Some("b".into()),
            y_values: values,
            cells: (0..n)
                .map(|y| (0..n).map(|x| Some(f64::from(x + y))).collect())
                .collect(),
        };
        let svg = heatmap_svg(&h, "m").unwrap();
        // 120 values → bins of 2 → 60 × 60 cells.
        assert_eq!(
            svg.body.matches("<rect class=\"heatmap__cell").count(),
            3600
        );
        assert!(svg
            .body
            .contains("<title>a = 118–119, b = 118–119: best m 238.00</title>"));
    }

    /// Largest chart markup accepted from any data.
    const BUDGET: usize = 2_000_000;

    fn size(svg: Option<ChartSvg>) -> usize {
        svg.map_or(0, |s| s.body.len() + s.label.len())
    }

    #[test]
    fn equity_chart_stays_small_whatever_the_data() {
        let mut reported: Vec<EquityPoint> = (0..5).map(|t| pt(t, 10_000.0, 0.0)).collect();
        reported.push(pt(i64::MAX, 10_000.0, 0.0));
        let curves = [
            reported,
            vec![pt(i64::MAX, 1e308, 0.0), pt(i64::MAX, -1e308, 1e308)],
            vec![
                pt(i64::MIN, f64::NAN, f64::INFINITY),
                pt(i64::MAX, f64::INFINITY, f64::NEG_INFINITY),
            ],
            vec![pt(i64::MAX, f64::NAN, f64::NAN)],
            vec![pt(0, 1e-300, 0.0), pt(1, 1e300, 1e300)],
            vec![pt(5, 0.0, 0.0), pt(5, 0.0, 0.0)],
            (0..1_000_000)
                .map(|i| {
                    let e = if i % 1000 == 0 {
                        f64::NAN
                    } else {
                        (i as f64).sin() * 1e308
                    };
                    pt(i * 60, e, (i % 100) as f64)
                })
                .collect(),
        ];
        for c in &curves {
            let svg = equity_svg(c).unwrap();
            assert!(!svg.body.contains("NaN") && !svg.body.contains("inf"));
            let n = svg.body.len() + svg.label.len();
            assert!(n < BUDGET, "{} points: {n} bytes", c.len());
        }
    }

    #[test]
    fn loss_chart_stays_small_whatever_the_data() {
        let e = |epoch, train_loss, val_loss| EpochLoss {
            epoch,
            train_loss,
            val_loss,
        };
        let runs = [
            vec![e(usize::MAX, 1e308, f64::NAN), e(0, f64::INFINITY, -1e308)],
            vec![e(0, f64::NAN, f64::NAN)],
            vec![e(1, 0.5, 0.5), e(1, 0.5, 0.5)],
            (1..=1_000_000)
                .map(|i| {
                    let v = if i % 7 == 0 {
                        f64::INFINITY
                    } else {
                        1.0 / i as f64
                    };
                    e(i, v, f64::NAN)
                })
                .collect(),
        ];
        for r in &runs {
            let n = size(loss_svg(r));
            assert!(n > 0 && n < BUDGET, "{} epochs: {n} bytes", r.len());
        }
    }

    #[test]
    fn heatmap_stays_small_whatever_the_data() {
        let n = 1000;
        let values: Vec<f64> = (0..n)
            .map(|i| match i % 4 {
                0 => 1e308,
                1 => f64::NAN,
                2 => -1.5e300,
                _ => i as f64 + 0.123_456_789,
            })
            .collect();
        let h = Heatmap {
            x_param: "x".repeat(10_000),
            x_values: values.clone(),
            y_param: Some("y".repeat(10_000)),
            y_values: values,
            cells: (0..n)
                .map(|y| {
                    (0..n)
                        .map(|x| match (x + y) % 5 {
                            0 => None,
                            1 => Some(f64::INFINITY),
                            2 => Some(1e308),
                            3 => Some(-1e308),
                            _ => Some(f64::NAN),
                        })
                        .collect()
                })
                .collect(),
        };
        let svg = heatmap_svg(&h, &"m".repeat(10_000)).unwrap();
        // 1,000 values → bins of 17 → 59 × 59 cells.
        assert_eq!(
            svg.body.matches("<rect class=\"heatmap__cell").count(),
            59 * 59
        );
        let n = svg.body.len() + svg.label.len();
        assert!(n < BUDGET, "{n} bytes");
        let one = Heatmap {
            x_param: "a".into(),
            x_values: vec![f64::NAN],
            y_param: None,
            y_values: vec![],
            cells: vec![],
        };
        assert!(size(heatmap_svg(&one, "m")) < 10_000);
    }
}
