//! Tests of `heatmap.rs`.

use super::*;
use crate::components::results::svg::{size, BUDGET};

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
