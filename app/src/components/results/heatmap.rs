//! `<HeatmapChart/>`: an optimization metric over one or two parameters as coloured cells, big
//! grids binned to their best value.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::{escape_xml, fmt_metric, fmt_param, MISSING};
use super::scale::{bin_axis, ramp_color, ramp_is_light};
use super::svg::{captioned_chart, text, ChartSvg};
use crate::model::research::Heatmap;

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
    captioned_chart(
        heatmap_svg(&heatmap, &metric_label),
        caption,
        ("chart--heatmap", "heatmap"),
        "The grid is empty.",
    )
}

#[cfg(test)]
mod tests;
