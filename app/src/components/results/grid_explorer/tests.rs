//! Tests of `grid_explorer.rs`.

use std::collections::BTreeMap;

use super::*;

fn choice() -> Choice {
    Choice {
        x: "period".into(),
        y: Some("lower".into()),
        fold: Fold::Max,
        at: BTreeMap::from([("upper".to_string(), 70.0)]),
    }
}

#[test]
fn the_query_reads_the_explorer_keys_and_refuses_bad_numbers() {
    let q = ViewRequest::from_pairs([
        ("x", "period"),
        ("y", "none"),
        ("fold", "slice"),
        ("at_upper", "70"),
        ("at_lower", " 25.5 "),
        ("job", "ignored"),
        ("fold", "median"),
        ("x", ""),
    ])
    .unwrap();
    assert_eq!(q.x.as_deref(), Some("period"));
    assert_eq!(q.y.as_deref(), Some("none"));
    assert_eq!(q.fold.as_deref(), Some("median"));
    assert_eq!(
        q.at,
        BTreeMap::from([("upper".to_string(), 70.0), ("lower".to_string(), 25.5)])
    );
    let e = ViewRequest::from_pairs([("at_upper", "seventy")]).unwrap_err();
    assert_eq!(
        e,
        ApiError::invalid("at.upper", "not a number: \"seventy\"")
    );
    assert!(ViewRequest::from_pairs([("at_upper", "inf")]).is_err());
    assert_eq!(ViewRequest::from_pairs([]).unwrap(), ViewRequest::default());
    assert!(is_view_key("at_x") && is_view_key("fold") && !is_view_key("job"));
}

#[test]
fn the_url_names_the_view_and_keeps_the_other_keys() {
    let keep = vec![("job".to_string(), "a b&c".to_string())];
    assert_eq!(
        choice().href("/jobs/1", &keep),
        "/jobs/1?job=a%20b%26c&x=period&y=lower&fold=max"
    );
    // Slice values only for a slice, and only off the axes.
    let c = choice()
        .with_fold(Fold::Slice)
        .with_at("lower".into(), 25.0)
        .with_at("upper".into(), 72.5);
    assert_eq!(
        c.href("/jobs/1", &[]),
        "/jobs/1?x=period&y=lower&fold=slice&at_upper=72.5"
    );
    let line = choice().with_y(None, &[]);
    assert_eq!(line.href("/p", &[]), "/p?x=period&y=none&fold=max");
    // What the URL says reads back as the same request.
    let href = c.href("/p", &[]);
    let pairs: Vec<(&str, &str)> = href
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let q = ViewRequest::from_pairs(pairs).unwrap();
    assert_eq!(q.at, BTreeMap::from([("upper".to_string(), 72.5)]));
}

#[test]
fn choosing_the_other_axis_swaps_them() {
    let names = [
        "period".to_string(),
        "lower".to_string(),
        "upper".to_string(),
    ];
    let c = choice().with_x("lower".into());
    assert_eq!((c.x.as_str(), c.y.as_deref()), ("lower", Some("period")));
    let c = choice().with_y(Some("period".into()), &names);
    assert_eq!((c.x.as_str(), c.y.as_deref()), ("lower", Some("period")));
    let c = choice().with_y(Some("upper".into()), &names);
    assert_eq!((c.x.as_str(), c.y.as_deref()), ("period", Some("upper")));
    // From a line, y = x moves x to the first other parameter.
    let c = choice()
        .with_y(None, &names)
        .with_y(Some("period".into()), &names);
    assert_eq!((c.x.as_str(), c.y.as_deref()), ("lower", Some("period")));
}

#[test]
fn outside_a_route_the_stored_view_is_shown() {
    let heatmap = Heatmap {
        x_param: "period".into(),
        x_values: vec![5.0, 10.0, 15.0],
        y_param: None,
        y_values: vec![0.0],
        cells: vec![vec![Some(1.0), None, Some(0.5)]],
    };
    let owner = Owner::new();
    let html = owner.with(|| {
        view! { <GridExplorer heatmap=heatmap.clone() metric_label="Sharpe Ratio" /> }.to_html()
    });
    assert!(html.contains("data-testid=\"line-chart\""), "{html}");
    assert!(!html.contains("grid-controls"));
    let mut two = heatmap;
    two.y_param = Some("lower".into());
    two.y_values = vec![20.0];
    let html = owner.with(|| view! { <GridExplorer heatmap=two metric_label="m" /> }.to_html());
    assert!(html.contains("data-testid=\"heatmap\""), "{html}");
}
