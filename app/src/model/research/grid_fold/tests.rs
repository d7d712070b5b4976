//! Tests of `grid_fold.rs`.

use super::*;

const NAN: f64 = f64::NAN;

/// a ∈ {1, 2}, b ∈ {10, 20, 30}, c ∈ {0.5, 1.5}; raw = ia·6 + ib·2 + ic (c fastest).
///
/// ```text
///            c=0.5  c=1.5
/// a=1 b=10     1      3
///     b=20    NaN     4
///     b=30     2      8
/// a=2 b=10     5     -1
///     b=20    NaN    NaN
///     b=30     7      0
/// ```
fn grid() -> FullGrid {
    FullGrid {
        params: vec!["a".into(), "b".into(), "c".into()],
        axes: vec![vec![1.0, 2.0], vec![10.0, 20.0, 30.0], vec![0.5, 1.5]],
        values: vec![
            1.0, 3.0, NAN, 4.0, 2.0, 8.0, //
            5.0, -1.0, NAN, NAN, 7.0, 0.0,
        ],
    }
}

fn req(x: &str, y: &str, fold: &str) -> ViewRequest {
    let s = |v: &str| (!v.is_empty()).then(|| v.to_string());
    ViewRequest {
        x: s(x),
        y: s(y),
        fold: s(fold),
        at: BTreeMap::new(),
    }
}

fn view(r: &ViewRequest) -> Heatmap {
    let g = grid();
    let spec = resolve(&g.params, &g.axes, r, &BTreeMap::new()).unwrap();
    fold(&g, &spec)
}

fn err(r: &ViewRequest) -> FoldError {
    let g = grid();
    resolve(&g.params, &g.axes, r, &BTreeMap::new()).unwrap_err()
}

#[test]
fn max_over_the_third_parameter_ignores_nan() {
    let h = view(&req("a", "b", "max"));
    assert_eq!(h.x_param, "a");
    assert_eq!(h.x_values, vec![1.0, 2.0]);
    assert_eq!(h.y_param.as_deref(), Some("b"));
    assert_eq!(h.y_values, vec![10.0, 20.0, 30.0]);
    // cells[b][a] = max over c.
    assert_eq!(
        h.cells,
        vec![
            vec![Some(3.0), Some(5.0)],
            vec![Some(4.0), None],
            vec![Some(8.0), Some(7.0)],
        ]
    );
    // The default view is this one: the first two varying parameters, max.
    assert_eq!(view(&ViewRequest::default()), h);
}

#[test]
fn mean_over_the_third_parameter() {
    let h = view(&req("a", "b", "mean"));
    assert_eq!(
        h.cells,
        vec![
            vec![Some(2.0), Some(2.0)],
            vec![Some(4.0), None],
            vec![Some(5.0), Some(3.5)],
        ]
    );
}

#[test]
fn median_over_the_first_parameter_with_c_along_x() {
    // cells[b][c] = median over a: b=10: {1,5}→3, {3,-1}→1; b=20: {}→None, {4}→4;
    // b=30: {2,7}→4.5, {8,0}→4.
    let h = view(&req("c", "b", "median"));
    assert_eq!(h.x_param, "c");
    assert_eq!(
        h.cells,
        vec![
            vec![Some(3.0), Some(1.0)],
            vec![None, Some(4.0)],
            vec![Some(4.5), Some(4.0)],
        ]
    );
}

#[test]
fn a_slice_holds_the_other_parameter_fixed() {
    let mut r = req("b", "c", "slice");
    r.at.insert("a".into(), 2.0);
    // cells[c][b] at a = 2.
    let h = view(&r);
    assert_eq!(
        h.cells,
        vec![
            vec![Some(5.0), None, Some(7.0)],
            vec![Some(-1.0), None, Some(0.0)],
        ]
    );
    // Without `at`, the slice goes through the anchor (the best run), here a = 1.
    let g = grid();
    let anchor = BTreeMap::from([("a".to_string(), 1.0), ("b".to_string(), 30.0)]);
    let spec = resolve(&g.params, &g.axes, &req("b", "c", "slice"), &anchor).unwrap();
    assert_eq!(spec.at, vec![0, 2, 0]);
    assert_eq!(
        fold(&g, &spec).cells,
        vec![
            vec![Some(1.0), None, Some(2.0)],
            vec![Some(3.0), Some(4.0), Some(8.0)],
        ]
    );
}

#[test]
fn one_parameter_views_fold_everything_else_into_a_line() {
    // a=1: {1,3,4,2,8}: max 8, mean 3.6, median 3; a=2: {5,-1,7,0}: max 7, mean 2.75,
    // median (0+5)/2 = 2.5.
    let line = |fold: &str| view(&req("a", NO_Y, fold));
    let h = line("max");
    assert_eq!(h.y_param, None);
    assert_eq!(h.y_values, vec![0.0]);
    assert_eq!(h.cells, vec![vec![Some(8.0), Some(7.0)]]);
    assert_eq!(line("mean").cells, vec![vec![Some(3.6), Some(2.75)]]);
    assert_eq!(line("median").cells, vec![vec![Some(3.0), Some(2.5)]]);
    // b=10: {1,3,5,-1}→2; b=20: {4}→4; b=30: {2,8,7,0}→4.5.
    assert_eq!(
        view(&req("b", NO_Y, "median")).cells,
        vec![vec![Some(2.0), Some(4.0), Some(4.5)]]
    );
    // A slice line: b at a = 2, c = 0.5.
    let mut r = req("b", NO_Y, "slice");
    r.at.insert("a".into(), 2.0);
    r.at.insert("c".into(), 0.5);
    assert_eq!(view(&r).cells, vec![vec![Some(5.0), None, Some(7.0)]]);
}

#[test]
fn a_grid_with_one_varying_parameter_defaults_to_a_line() {
    let g = FullGrid {
        params: vec!["fixed".into(), "p".into()],
        axes: vec![vec![14.0], vec![1.0, 2.0, 3.0]],
        values: vec![0.5, NAN, -2.0],
    };
    let spec = resolve(
        &g.params,
        &g.axes,
        &ViewRequest::default(),
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!((spec.x, spec.y), (1, None));
    assert!(is_default(&g.axes, &spec));
    let h = fold(&g, &spec);
    assert_eq!(h.x_param, "p");
    assert_eq!(h.y_param, None);
    assert_eq!(h.cells, vec![vec![Some(0.5), None, Some(-2.0)]]);
    // The fixed parameter cannot be an axis.
    let e = resolve(&g.params, &g.axes, &req("fixed", "", ""), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.field, "x");
    assert_eq!(
        e.message,
        "fixed has a single value in this grid; choose one of p"
    );
}

#[test]
fn default_y_is_the_first_other_varying_parameter() {
    let g = grid();
    let spec = resolve(&g.params, &g.axes, &req("b", "", ""), &BTreeMap::new()).unwrap();
    assert_eq!((spec.x, spec.y, spec.fold), (1, Some(0), Fold::Max));
    assert!(!is_default(&g.axes, &spec));
    let spec = resolve(&g.params, &g.axes, &req("a", "b", "max"), &BTreeMap::new()).unwrap();
    assert!(is_default(&g.axes, &spec));
}

#[test]
fn bad_requests_name_their_field() {
    let e = err(&req("zz", "", ""));
    assert_eq!(e.field, "x");
    assert_eq!(
        e.message,
        "no parameter \"zz\" in this grid; choose one of a, b, c"
    );
    assert_eq!(err(&req("a", "zz", "")).field, "y");
    let e = err(&req("a", "a", ""));
    assert_eq!(e.field, "y");
    assert!(
        e.message.starts_with("must differ from x (a)"),
        "{}",
        e.message
    );
    let e = err(&req("a", "b", "sum"));
    assert_eq!(e.field, "fold");
    assert!(e.message.contains("max, mean, median, slice"));
    let mut r = req("a", "b", "slice");
    r.at.insert("c".into(), 1.0);
    let e = err(&r);
    assert_eq!(e.field, "at.c");
    assert_eq!(
        e.message,
        "1 is not one of the values tried for c: 0.5, 1.5"
    );
    let mut r = req("a", "b", "slice");
    r.at.insert("nope".into(), 1.0);
    assert_eq!(err(&r).field, "at.nope");
    let mut r = req("a", "b", "slice");
    r.at.insert("c".into(), f64::NAN);
    assert_eq!(err(&r).field, "at.c");
    // A long name is cut in the message and the field.
    let long = "n".repeat(5_000);
    let e = err(&req(&long, "", ""));
    assert!(e.message.len() < 200, "{}", e.message);
    // `at` entries for the parameters on the axes are fine (a form submits them all).
    let mut r = req("a", "b", "slice");
    r.at.insert("a".into(), 2.0);
    r.at.insert("c".into(), 1.5);
    assert_eq!(view(&r).cells[0], vec![Some(3.0), Some(-1.0)]);
}

#[test]
fn views_are_capped_and_say_so() {
    let axis = |n: usize| (0..n).map(|i| i as f64).collect::<Vec<f64>>();
    let params = vec!["p".to_string(), "q".to_string(), "r".to_string()];
    let axes = vec![axis(600), axis(600), axis(2)];
    let e = resolve(&params, &axes, &ViewRequest::default(), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.field, "y");
    assert!(
        e.message.contains("360000 cells; at most 250000"),
        "{}",
        e.message
    );
    // The same axis with the short one is fine.
    assert!(resolve(&params, &axes, &req("p", "r", ""), &BTreeMap::new()).is_ok());
}

#[test]
fn axis_values_match_through_decimal_text() {
    let axis = [0.1, 0.2, 0.30000000000000004];
    assert_eq!(axis_index(&axis, 0.3), Some(2));
    assert_eq!(axis_index(&axis, 0.2), Some(1));
    assert_eq!(axis_index(&axis, 0.25), None);
    assert_eq!(axis_index(&axis, f64::INFINITY), None);
}

#[test]
fn folding_never_panics_on_an_inconsistent_grid() {
    let mut g = grid();
    g.values.truncate(5);
    let spec = ViewSpec {
        x: 0,
        y: Some(1),
        fold: Fold::Median,
        at: vec![0, 0, 0],
    };
    for f in Fold::ALL {
        let h = fold(
            &g,
            &ViewSpec {
                fold: f,
                ..spec.clone()
            },
        );
        assert_eq!(h.cells.len(), 3);
    }
    assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), Some(2.5));
    assert_eq!(median(&mut []), None);
    assert_eq!(Fold::parse(" slice "), Some(Fold::Slice));
    assert_eq!(Fold::parse("MAX"), None);
}
