//! `<LossChart/>`: training and validation loss per epoch.

use std::fmt::Write;

use leptos::prelude::*;

use super::format::MISSING;
use super::scale::{integer_ticks, line_path, nice_ticks};
use super::svg::{chart_svg, empty_chart, text, ChartSvg, Plot};
use crate::model::research::EpochLoss;

const LOSS_W: f64 = 720.0;
const LOSS_H: f64 = 270.0;
const PLOT: Plot = Plot {
    left: 60.0,
    right: 704.0,
    top: 34.0,
    bottom: 220.0,
};

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
    let (x, y) = PLOT.scales(&xt, &yt);

    let mut b = String::new();
    PLOT.axes(&mut b, (&x, &xt), (&y, &yt), "Epoch");
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
    let lx = PLOT.right - 250.0;
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
        PLOT.left,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::results::svg::{size, BUDGET};

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
}
