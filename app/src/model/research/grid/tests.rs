//! Tests of `grid.rs`.

use super::*;
use crate::model::research::test_support::{r, sma_grid};

#[test]
fn range_includes_stop_on_step() {
    assert_eq!(r(2.0, 10.0, 2.0).values(), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(r(2.0, 9.0, 2.0).values(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!(r(0.1, 0.3, 0.1).len(), 3);
}

#[test]
fn counting_one_pair_without_enumerating_equals_enumerating() {
    let range = |start: f64, stop: f64, step: f64| ParamRange::Range { start, stop, step };
    let brute = |spec: &GridSpec, constraints: &[Constraint]| {
        let mut n = 0u64;
        spec.for_each_combination(|v| {
            if constraints.iter().all(|c| c.holds(spec.strategy, v)) {
                n += 1;
            }
        });
        n
    };
    let lt = |a: &str, b: &str| Constraint::LessThan {
        a: a.into(),
        b: b.into(),
    };
    let le = |a: &str, b: &str| Constraint::LessOrEqual {
        a: a.into(),
        b: b.into(),
    };
    let grids = [
        (range(2.0, 60.0, 1.0), range(2.0, 120.0, 2.0)),
        (
            range(5.0, 50.0, 5.0),
            ParamRange::List(vec![40.0, 5.0, 40.0, 10.0, 70.0]),
        ),
        (
            ParamRange::List(vec![30.0, 30.0, 2.0]),
            range(1.0, 31.0, 3.0),
        ),
    ];
    for (n1, n2) in grids {
        let grid: BTreeMap<String, ParamRange> = [("n1".to_string(), n1), ("n2".to_string(), n2)]
            .into_iter()
            .collect();
        for user in [
            None,
            Some(le("n1", "n2")),
            Some(lt("n1", "n2")),
            Some(le("n2", "n1")),
        ] {
            let Ok(spec) = GridSpec::build(
                StrategyKind::SmaCross,
                &grid,
                user.as_ref(),
                &Limits::default(),
            ) else {
                continue;
            };
            let constraints = spec.constraints(user.as_ref());
            assert_eq!(spec.runs, brute(&spec, &constraints), "{grid:?} {user:?}");
        }
    }
}

#[test]
fn counts_the_benchmark_grid_after_constraint() {
    let spec = sma_grid(r(2.0, 200.0, 1.0), r(2.0, 200.0, 1.0))
        .grid_spec(&Limits::default())
        .unwrap();
    assert_eq!(spec.product, 199 * 199);
    assert_eq!(spec.runs, 19_701);
}

#[test]
fn refuses_zero_step_naming_the_field() {
    let e = sma_grid(r(2.0, 20.0, 0.0), r(5.0, 50.0, 1.0))
        .validate(&Limits::default())
        .unwrap_err();
    assert_eq!(e.field, "grid.n1.step");
    assert!(e.message.contains("> 0"));
}

#[test]
fn refuses_negative_window() {
    let e = sma_grid(r(-5.0, 20.0, 1.0), r(5.0, 50.0, 1.0))
        .validate(&Limits::default())
        .unwrap_err();
    assert_eq!(e.field, "grid.n1.start");
}

#[test]
fn refuses_grid_over_the_limit_saying_how_many() {
    let limits = Limits {
        max_grid: 1000,
        ..Limits::default()
    };
    let e = sma_grid(r(2.0, 200.0, 1.0), r(2.0, 200.0, 1.0))
        .validate(&limits)
        .unwrap_err();
    assert_eq!(e.field, "grid");
    assert!(e.message.contains("19701"), "{}", e.message);
    assert!(e.message.contains("1000"), "{}", e.message);
}

#[test]
fn refuses_empty_grid_and_unknown_param() {
    let mut req = sma_grid(r(2.0, 3.0, 1.0), r(5.0, 6.0, 1.0));
    req.search.grid.clear();
    assert_eq!(req.validate(&Limits::default()).unwrap_err().field, "grid");
    req.search.grid.insert("nX".into(), r(1.0, 2.0, 1.0));
    assert_eq!(
        req.validate(&Limits::default()).unwrap_err().field,
        "grid.nX"
    );
}

#[test]
fn refuses_grid_where_no_run_satisfies_n1_lt_n2() {
    let e = sma_grid(r(50.0, 60.0, 1.0), r(10.0, 20.0, 1.0))
        .validate(&Limits::default())
        .unwrap_err();
    assert_eq!(e.field, "grid");
    assert!(e.message.contains("n1 less than n2"), "{}", e.message);
}
