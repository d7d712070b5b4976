//! Tests of `form.rs`.

use super::*;

fn form() -> FormInput {
    let mut f = FormInput::new();
    f.dataset_id = "5a3b1e00-0000-4000-8000-000000000001".into();
    f
}

#[test]
fn the_default_form_is_a_valid_optimization() {
    let request = form().to_request(&Limits::default()).unwrap();
    assert!(matches!(request, JobRequest::Optimize(_)));
}

fn saved() -> StrategyChoice {
    let param = |name: &str, kind: &str, min: f64, max: f64, default: f64| StrategyParam {
        name: name.into(),
        kind: kind.into(),
        min,
        max,
        default,
    };
    StrategyChoice::Saved(SavedChoice {
        id: "3f1c0000-0000-4000-8000-000000000001".into(),
        version: 2,
        name: "Mine".into(),
        params: vec![
            param("fast", "int", 2.0, 500.0, 12.0),
            param("band", "float", 0.5, 4.0, 2.0),
        ],
    })
}

#[test]
fn a_saved_strategy_runs_by_id_and_version_with_its_declared_parameters() {
    let mut f = form();
    f.strategy = saved();
    f.params = f.strategy.default_inputs();
    assert_eq!(
        f.params.keys().collect::<Vec<_>>(),
        ["band", "fast"],
        "one input per declared parameter"
    );
    assert_eq!(f.params["fast"].start, "6");
    assert_eq!(f.params["fast"].stop, "24");
    assert_eq!(f.params["band"].step, "0.38");
    let JobRequest::Optimize(r) = f.to_request(&Limits::default()).unwrap() else {
        panic!("not an optimization")
    };
    assert_eq!(
        r.search.rules,
        Some(RuleRef::saved(
            "3f1c0000-0000-4000-8000-000000000001",
            Some(2)
        ))
    );
    assert_eq!(r.search.grid.len(), 2);
    // Walk-forward too, and a backtest with values; out-of-range values name the field.
    f.job_type = JobType::WalkForward;
    assert!(f.to_request(&Limits::default()).is_ok());
    f.job_type = JobType::Backtest;
    f.params.get_mut("fast").unwrap().value = "12.5".into();
    let e = f.to_request(&Limits::default()).unwrap_err();
    assert_eq!(e.field, "params.fast");
    assert!(e.message.contains("whole"), "{e}");
    f.params.get_mut("fast").unwrap().value = "12".into();
    f.params.get_mut("band").unwrap().value = "9".into();
    let e = f.to_request(&Limits::default()).unwrap_err();
    assert_eq!(e.field, "params.band");
    assert!(e.message.contains("between 0.5 and 4"), "{e}");
    f.job_type = JobType::Optimize;
    f.params.get_mut("fast").unwrap().stop = "501".into();
    assert_eq!(
        f.to_request(&Limits::default()).unwrap_err().field,
        "grid.fast.stop"
    );
}

#[test]
fn typing_mistakes_name_the_field() {
    let mut f = form();
    f.params.get_mut("n1").unwrap().step = "0".into();
    let e = f.to_request(&Limits::default()).unwrap_err();
    assert!(e.field.contains("n1") && e.field.contains("step"), "{e}");

    let mut f = form();
    f.cash = "lots".into();
    assert_eq!(f.to_request(&Limits::default()).unwrap_err().field, "cash");

    let mut f = form();
    f.job_type = JobType::Backtest;
    f.params.get_mut("n1").unwrap().value = "30".into();
    let e = f.to_request(&Limits::default()).unwrap_err();
    assert!(e.to_string().contains("n1"), "{e}");

    let mut f = form();
    f.dataset_id.clear();
    assert_eq!(
        f.to_request(&Limits::default()).unwrap_err().field,
        "dataset_id"
    );
}
