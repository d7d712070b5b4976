//! `<OverlayChart/>`: several equity curves on one time axis, each rescaled to start at 100, so
//! runs with different starting cash (or different kinds of job) compare at a glance.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::{escape_xml, fmt_date, fmt_thousands};
use super::scale::{line_path, nice_ticks, time_ticks, Linear};
use super::svg::{chart_svg, empty_chart, hline, text, vline, ChartSvg};

const OV_W: f64 = 720.0;
const OV_LEFT: f64 = 56.0;
const OV_RIGHT: f64 = 704.0;
const OV_TOP: f64 = 34.0;
const OV_BOTTOM: f64 = 280.0;
const OV_H: f64 = 304.0;
/// Most curves drawn; more are left out (a comparison has at most four).
pub const OVERLAY_MAX_SERIES: usize = 8;
/// Longest legend label, in characters.
const LEGEND_CHARS: usize = 28;

/// One curve of the overlay: a name for the legend and `(unix seconds, value)` points, already
/// normalized (100 = its start).
#[derive(Clone, Debug, PartialEq)]
pub struct OverlaySeries {
    pub label: String,
    pub points: Vec<(i64, f64)>,
}

/// The curves on shared axes: time across, the normalized value up (with a dashed line at 100),
/// a legend on top. Series get the classes `chart__series chart__series--<i>` (colours by
/// position) and `data-series="<i>"`. Empty series are skipped; `None` when none has a point.
pub fn overlay_svg(series: &[OverlaySeries]) -> Option<ChartSvg> {
    let drawn: Vec<(usize, &OverlaySeries)> = series
        .iter()
        .take(OVERLAY_MAX_SERIES)
        .enumerate()
        .filter(|(_, s)| s.points.iter().any(|(_, v)| v.is_finite()))
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let (mut t0, mut t1) = (i64::MAX, i64::MIN);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, s) in &drawn {
        for &(t, v) in &s.points {
            if v.is_finite() {
                t0 = t0.min(t);
                t1 = t1.max(t);
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    // The reference level is always on the chart.
    let ticks = nice_ticks(lo.min(100.0), hi.max(100.0), 5);
    let x = Linear::new((t0 as f64, t1 as f64), (OV_LEFT, OV_RIGHT));
    let y = Linear::new(ticks.domain, (OV_BOTTOM, OV_TOP));

    let mut b = String::new();
    for (v, label) in ticks.labels() {
        let py = y.map(v);
        hline(&mut b, "chart__grid", OV_LEFT, OV_RIGHT, py);
        text(
            &mut b,
            "chart__tick",
            OV_LEFT - 6.0,
            py + 4.0,
            "end",
            &label,
        );
    }
    for (t, label) in time_ticks(t0, t1, 6) {
        let px = x.map(t as f64);
        vline(&mut b, "chart__grid", px, OV_TOP, OV_BOTTOM);
        let anchor = if px > OV_RIGHT - 36.0 {
            "end"
        } else {
            "middle"
        };
        text(&mut b, "chart__tick", px, OV_BOTTOM + 16.0, anchor, &label);
    }
    hline(&mut b, "chart__axis", OV_LEFT, OV_RIGHT, OV_BOTTOM);
    hline(&mut b, "chart__ref", OV_LEFT, OV_RIGHT, y.map(100.0));

    let mut endings = Vec::new();
    for (i, s) in &drawn {
        let d = line_path(s.points.iter().map(|&(t, v)| (x.map(t as f64), y.map(v))));
        let label = short(&s.label);
        let _ = write!(
            b,
            r#"<path class="chart__line chart__series chart__series--{i}" data-series="{i}" d="{d}"><title>{}</title></path>"#,
            escape_xml(&label)
        );
        if let Some(&(_, end)) = s.points.iter().rev().find(|(_, v)| v.is_finite()) {
            endings.push(format!("{label} ends at {}", fmt_thousands(end, 1)));
        }
    }
    // Legend, across the top.
    let slot = (OV_RIGHT - OV_LEFT) / drawn.len().max(1) as f64;
    for (n, (i, s)) in drawn.iter().enumerate() {
        let x0 = OV_LEFT + n as f64 * slot;
        let _ = write!(
            b,
            r#"<line class="chart__line chart__series--{i}" x1="{x0:.1}" y1="14" x2="{:.1}" y2="14"/>"#,
            x0 + 18.0
        );
        text(
            &mut b,
            "chart__legend",
            x0 + 24.0,
            18.0,
            "start",
            &short(&s.label),
        );
    }
    let label = format!(
        "Equity curves of {} job(s), each rescaled to start at 100, from {} to {}: {}.",
        drawn.len(),
        fmt_date(t0),
        fmt_date(t1),
        endings.join("; ")
    );
    Some(ChartSvg {
        width: OV_W,
        height: OV_H,
        body: b,
        label,
    })
}

/// A legend label cut to [`LEGEND_CHARS`] characters.
fn short(label: &str) -> String {
    if label.chars().count() <= LEGEND_CHARS {
        return label.to_string();
    }
    let cut: String = label.chars().take(LEGEND_CHARS - 1).collect();
    format!("{cut}…")
}

/// Equity curves overlaid on one time axis, normalized to 100 at their start.
#[component]
pub fn OverlayChart(series: Vec<OverlaySeries>) -> impl IntoView {
    match overlay_svg(&series) {
        Some(svg) => chart_svg(svg, "chart--overlay", "overlay-chart").into_any(),
        None => empty_chart("No equity curves to compare."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::results::svg::BUDGET;

    fn series(label: &str, points: Vec<(i64, f64)>) -> OverlaySeries {
        OverlaySeries {
            label: label.into(),
            points,
        }
    }

    #[test]
    fn overlay_draws_one_path_per_curve_on_a_shared_axis() {
        let day = 86_400;
        let start = 1_577_836_800; // 2020-01-01
        let a = series(
            "a1b2c3d4 backtest",
            vec![(start, 100.0), (start + 365 * day, 125.0)],
        );
        let b = series(
            "e5f6a7b8 optimize",
            vec![(start + 30 * day, 100.0), (start + 200 * day, 90.0)],
        );
        let svg = overlay_svg(&[a, series("empty", vec![]), b]).unwrap();
        assert_eq!(svg.body.matches("<path ").count(), 2, "{}", svg.body);
        assert!(svg.body.contains(r#"data-series="0""#));
        assert!(
            svg.body.contains(r#"data-series="2""#),
            "positions keep colours"
        );
        assert!(svg.body.contains(">2020-03-01<"), "{}", svg.body);
        assert_eq!(
            svg.label,
            "Equity curves of 2 job(s), each rescaled to start at 100, from 2020-01-01 to \
             2020-12-31: a1b2c3d4 backtest ends at 125.0; e5f6a7b8 optimize ends at 90.0."
        );
        assert!(overlay_svg(&[]).is_none());
        assert!(overlay_svg(&[series("nan", vec![(0, f64::NAN)])]).is_none());
    }

    #[test]
    fn labels_are_escaped_and_cut() {
        let svg = overlay_svg(&[series(
            "<script>alert(1)</script> and a very long name indeed",
            vec![(0, 100.0), (1, 101.0)],
        )])
        .unwrap();
        assert!(!svg.body.contains("<script>"), "{}", svg.body);
        assert!(svg.body.contains("&lt;script&gt;"));
        assert!(svg.body.contains('…'));
    }

    #[test]
    fn overlay_stays_small_whatever_the_data() {
        let huge: Vec<(i64, f64)> = (0..200_000)
            .map(|i| {
                (
                    i * 60,
                    if i % 999 == 0 {
                        f64::NAN
                    } else {
                        (i as f64).sin() * 1e308
                    },
                )
            })
            .collect();
        let cases = vec![
            vec![series("huge", huge); OVERLAY_MAX_SERIES + 1],
            vec![series(
                "extremes",
                vec![(i64::MIN, -1e308), (i64::MAX, 1e308)],
            )],
            vec![series("unbounded", vec![(0, f64::INFINITY), (5, 100.0)])],
            vec![series("one point", vec![(5, 100.0)])],
        ];
        for c in &cases {
            let svg = overlay_svg(c).unwrap();
            assert!(!svg.body.contains("NaN") && !svg.body.contains("inf"));
            let n = svg.body.len() + svg.label.len();
            assert!(n < BUDGET, "{n} bytes");
        }
    }
}
