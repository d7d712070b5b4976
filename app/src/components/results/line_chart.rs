//! `<MetricLineChart/>`: an optimization metric over one parameter (a one-parameter view of the
//! grid) as a line, broken where the metric is undefined, the best point marked.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::{escape_xml, fmt_metric, fmt_param};
use super::scale::{line_path, nice_ticks};
use super::svg::{captioned_chart, text, ChartSvg, Plot};
use crate::model::research::Heatmap;

const LC_W: f64 = 720.0;
const LC_H: f64 = 280.0;
const PLOT: Plot = Plot {
    left: 64.0,
    right: 704.0,
    top: 24.0,
    bottom: 226.0,
};
/// Up to this many values the line breaks at undefined points and every point gets a marker
/// with a tooltip; beyond it the defined points are joined and thinned.
const LC_GAPS_UP_TO: usize = 2_000;
const LC_MARKERS_UP_TO: usize = 60;

/// At most the first 40 characters of `s`.
fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The metric over `h.x_param` (the first row of `h.cells`) as a line with value and parameter
/// axes, markers (small grids) and the best point outlined. `None` when no point has a value.
pub fn line_svg(h: &Heatmap, metric_label: &str) -> Option<ChartSvg> {
    let row: &[Option<f64>] = h.cells.first().map(Vec::as_slice).unwrap_or(&[]);
    let n = h.x_values.len().min(row.len());
    let point = |i: usize| -> Option<(f64, f64)> {
        let x = h.x_values[i];
        row[i]
            .filter(|v| v.is_finite() && x.is_finite())
            .map(|v| (x, v))
    };
    let (mut ylo, mut yhi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut xlo, mut xhi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut best: Option<(f64, f64)> = None;
    let mut missing = 0usize;
    for i in 0..n {
        match point(i) {
            Some((x, v)) => {
                ylo = ylo.min(v);
                yhi = yhi.max(v);
                if best.is_none_or(|(_, b)| v > b) {
                    best = Some((x, v));
                }
            }
            None => missing += 1,
        }
        let x = h.x_values[i];
        if x.is_finite() {
            xlo = xlo.min(x);
            xhi = xhi.max(x);
        }
    }
    let (best_x, best_v) = best?;
    let x_name = clip(&h.x_param);
    let metric_label = clip(metric_label);
    let yt = nice_ticks(ylo, yhi, 5);
    let xt = nice_ticks(xlo, xhi, 8);
    let (x, y) = PLOT.scales(&xt, &yt);

    let mut b = String::new();
    PLOT.axes(&mut b, (&x, &xt), (&y, &yt), x_name);
    text(
        &mut b,
        "chart__panel-label",
        PLOT.left,
        14.0,
        "start",
        metric_label,
    );

    // The line: one segment per run of defined points, or (many points) all defined points
    // joined and thinned.
    let px = |(a, v): (f64, f64)| (x.map(a), y.map(v));
    let mut d = String::new();
    if n <= LC_GAPS_UP_TO {
        let mut run: Vec<(f64, f64)> = Vec::new();
        for i in 0..=n {
            match (i < n).then(|| point(i)).flatten() {
                Some(p) => run.push(px(p)),
                None if !run.is_empty() => {
                    if !d.is_empty() {
                        d.push(' ');
                    }
                    d.push_str(&line_path(run.drain(..)));
                }
                None => {}
            }
        }
    } else {
        // Undefined points go in as NaN, which the thinning drops.
        d = line_path((0..n).map(|i| point(i).map_or((f64::NAN, f64::NAN), px)));
    }
    let _ = write!(
        b,
        r#"<path class="chart__line chart__line--metric" d="{d}"/>"#
    );
    if n <= LC_MARKERS_UP_TO {
        for (a, v) in (0..n).filter_map(point) {
            let title = format!(
                "{x_name} = {}: {metric_label} {}",
                fmt_param(a),
                fmt_metric(v)
            );
            dot(&mut b, "metric", 3, px((a, v)), &title);
        }
    }
    let title = format!(
        "best: {x_name} = {}: {metric_label} {}",
        fmt_param(best_x),
        fmt_metric(best_v)
    );
    dot(&mut b, "best", 5, px((best_x, best_v)), &title);

    let mut label = format!(
        "Line chart of {metric_label} over {x_name} ({n} values); best {} at {x_name} = {}",
        fmt_metric(best_v),
        fmt_param(best_x)
    );
    if missing > 0 {
        let _ = write!(label, "; {missing} values without a metric");
    }
    label.push('.');
    Some(ChartSvg {
        width: LC_W,
        height: LC_H,
        body: b,
        label,
    })
}

/// Writes a dot of kind `kind` (`chart__dot--{kind}`), radius `r`, at `(cx, cy)` with a
/// hover `title`.
fn dot(b: &mut String, kind: &str, r: u32, (cx, cy): (f64, f64), title: &str) {
    let _ = write!(
        b,
        r#"<circle class="chart__dot chart__dot--{kind}" cx="{cx:.1}" cy="{cy:.1}" r="{r}"><title>{}</title></circle>"#,
        escape_xml(title)
    );
}

/// The metric over one parameter as a line.
#[component]
pub fn MetricLineChart(heatmap: Heatmap, #[prop(into)] metric_label: String) -> impl IntoView {
    let caption = format!("{metric_label} by {}", heatmap.x_param);
    captioned_chart(
        line_svg(&heatmap, &metric_label),
        caption,
        ("chart--line", "line-chart"),
        "No parameter value has a metric.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::results::svg::{size, BUDGET};

    fn line(values: Vec<f64>, cells: Vec<Option<f64>>) -> Heatmap {
        Heatmap {
            x_param: "period".into(),
            x_values: values,
            y_param: None,
            y_values: vec![0.0],
            cells: vec![cells],
        }
    }

    #[test]
    fn a_line_breaks_where_the_metric_is_undefined_and_marks_the_best() {
        let h = line(
            vec![5.0, 10.0, 15.0, 20.0, 25.0],
            vec![Some(0.5), Some(1.5), None, Some(-0.5), Some(0.25)],
        );
        let svg = line_svg(&h, "Sharpe Ratio").unwrap();
        // Two runs of defined points: two `M` commands in one path.
        let d = svg.body.split(r#"d=""#).nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(svg.body.matches("chart__dot--metric").count(), 4);
        assert!(svg
            .body
            .contains("<title>best: period = 10: Sharpe Ratio 1.500</title>"));
        assert!(svg.body.contains(">period</text>"));
        assert_eq!(
            svg.label,
            "Line chart of Sharpe Ratio over period (5 values); best 1.500 at period = 10; 1 \
             values without a metric."
        );
        assert!(line_svg(&line(vec![1.0], vec![None]), "m").is_none());
        assert!(line_svg(&line(vec![], vec![]), "m").is_none());
    }

    #[test]
    fn line_chart_stays_small_whatever_the_data() {
        let n = 300_000;
        let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
        let cells: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 5 {
                0 => None,
                1 => Some(1e308),
                2 => Some(-1e308),
                3 => Some(f64::NAN),
                _ => Some(i as f64),
            })
            .collect();
        let mut h = line(values, cells);
        h.x_param = "x".repeat(10_000);
        let n = size(line_svg(&h, &"m".repeat(10_000)));
        assert!(n > 0 && n < BUDGET, "{n} bytes");
        // Alternating gaps below the thinning threshold stay bounded too.
        let gaps = line(
            (0..LC_GAPS_UP_TO).map(|i| i as f64).collect(),
            (0..LC_GAPS_UP_TO)
                .map(|i| i.is_multiple_of(2).then_some(i as f64))
                .collect(),
        );
        let n = size(line_svg(&gaps, "m"));
        assert!(n > 0 && n < 100_000, "{n} bytes");
    }
}
