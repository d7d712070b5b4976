//! Tests of `job.rs`.

use super::*;

#[test]
fn state_names_round_trip_through_parse_and_serde() {
    for state in JobState::ALL {
        assert_eq!(JobState::parse(state.as_str()), Some(state));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, format!("\"{}\"", state.as_str()));
    }
    assert_eq!(JobState::parse("running"), Some(JobState::Running));
    assert_eq!(JobState::parse("DONE"), None);
}

#[test]
fn only_succeeded_failed_cancelled_are_terminal() {
    let terminal: Vec<_> = JobState::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
    assert_eq!(
        terminal,
        vec![JobState::Succeeded, JobState::Failed, JobState::Cancelled]
    );
}

#[test]
fn percent_rounds_down_and_clamps() {
    assert_eq!(progress_percent(0.455), 45);
    assert_eq!(progress_percent(0.999), 99);
    assert_eq!(progress_percent(1.0), 100);
    assert_eq!(progress_percent(1.5), 100);
    assert_eq!(progress_percent(-0.1), 0);
}

#[test]
fn compare_ids_take_two_to_four_distinct_uuids() {
    let a = "3f1c0000-0000-4000-8000-000000000001";
    let b = "3f1c0000-0000-4000-8000-000000000002";
    let ids = parse_compare_ids(&format!(" {a} , {b},")).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].to_string(), a);
    let one = parse_compare_ids(a).unwrap_err();
    assert!(one.contains("at least 2"), "{one}");
    assert!(parse_compare_ids("").unwrap_err().contains("got 0"));
    let five = [a; 5].join(",");
    assert!(parse_compare_ids(&five).unwrap_err().contains("at most 4"));
    let bad = parse_compare_ids(&format!("{a},nope")).unwrap_err();
    assert!(bad.contains("not a valid job id: \"nope\""), "{bad}");
    let twice = parse_compare_ids(&format!("{a},{a}")).unwrap_err();
    assert!(twice.contains("listed twice"), "{twice}");
    let long = "x".repeat(COMPARE_IDS_MAX_CHARS + 1);
    assert!(parse_compare_ids(&long).unwrap_err().contains("too long"));
}

#[test]
fn a_context_with_odd_values_still_reads() {
    let context: JobContext = serde_json::from_value(serde_json::json!({
        "strategy": "sma_cross",
        "params": {"n1": 10, "n2": "x"},
        "best": [{"name": "sharpe", "value": "high"}, {"value": 1.5}, {"name": "return_pct"}]
    }))
    .unwrap();
    assert_eq!(context.best[0].value, None);
    assert_eq!(context.best[1].value, Some(1.5));
    assert_eq!(context.best[1].name, "");
    assert_eq!(context.best[2].value, None);
    // A status without a context serializes without the field.
    let json = serde_json::to_value(JobContext::default()).unwrap();
    assert_eq!(json, serde_json::json!({}));
}

#[test]
fn log_path_derives_from_the_uuid_only() {
    let id = Uuid::nil();
    assert_eq!(
        log_path_for(id),
        "runs/00000000-0000-0000-0000-000000000000/artifacts/run.log"
    );
}

#[test]
fn log_path_follows_the_configured_runs_dir() {
    let id = Uuid::nil();
    assert_eq!(
        log_path_in(Path::new("/srv/runboard/runs"), id),
        Path::new("/srv/runboard/runs/00000000-0000-0000-0000-000000000000/artifacts/run.log")
    );
    assert_eq!(
        log_path_in(Path::new("data/runs/"), id),
        Path::new("data/runs/00000000-0000-0000-0000-000000000000/artifacts/run.log"),
        "a relative directory stays relative"
    );
    assert_eq!(
        log_path_in(Path::new(DEFAULT_RUNS_DIR), id).to_str(),
        Some(log_path_for(id).as_str())
    );
}
