//! `<EquityChart/>`: the equity curve over a drawdown panel on a shared time axis.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::{fmt_date, fmt_money, fmt_pct, fmt_price, fmt_tick};
use super::scale::{area_path, line_path, nice_ticks, time_ticks, Linear};
use super::svg::{chart_svg, empty_chart, hline, text, vline, ChartSvg};
use crate::model::research::EquityPoint;

const EQ_W: f64 = 720.0;
const EQ_LEFT: f64 = 68.0;
const EQ_RIGHT: f64 = 704.0;
const EQ_TOP: f64 = 14.0;
const EQ_BOTTOM: f64 = 214.0;
const DD_TOP: f64 = 236.0;
const DD_BOTTOM: f64 = 306.0;
const EQ_H: f64 = 330.0;

/// What a two-panel curve chart shows: an equity curve (money) or a price (a dataset's close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    Equity,
    Price,
}

/// The equity curve (top panel, with a dashed line at the starting equity) and the drawdown
/// from the running peak as a filled area below zero (bottom panel), sharing a time axis.
/// `None` without points.
pub fn equity_svg(points: &[EquityPoint]) -> Option<ChartSvg> {
    curve_svg(points, Curve::Equity)
}

/// [`equity_svg`] for either kind of curve: the labels and the value format follow `curve`.
pub fn curve_svg(points: &[EquityPoint], curve: Curve) -> Option<ChartSvg> {
    let (panel, noun, value): (&str, &str, fn(f64) -> String) = match curve {
        Curve::Equity => ("Equity", "Equity curve", fmt_money),
        Curve::Price => ("Close", "Close price", fmt_price),
    };
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
        panel,
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
        "{noun} from {} to {}: {} to {}{ret}; maximum drawdown {}.",
        fmt_date(t0),
        fmt_date(t1),
        value(first.equity),
        value(last.equity),
        fmt_pct(max_dd),
    );
    Some(ChartSvg {
        width: EQ_W,
        height: EQ_H,
        body: b,
        label,
    })
}

/// A dataset's close price over its drawdown from the running peak, with date ticks.
#[component]
pub fn PriceChart(points: Vec<EquityPoint>) -> impl IntoView {
    match curve_svg(&points, Curve::Price) {
        Some(svg) => chart_svg(svg, "chart--equity", "price-chart").into_any(),
        None => empty_chart("No prices."),
    }
}

/// An equity curve with its drawdown panel below and date ticks.
#[component]
pub fn EquityChart(points: Vec<EquityPoint>) -> impl IntoView {
    match equity_svg(&points) {
        Some(svg) => chart_svg(svg, "chart--equity", "equity-chart").into_any(),
        None => empty_chart("No equity data."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::results::svg::BUDGET;

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
}
