//! Tests of `config.rs`.

use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_use_the_embedded_database_and_all_modes() {
    let c = config(&[]).unwrap();
    assert_eq!(c.database_url, None);
    assert_eq!(c.mode, Mode::All);
    assert_eq!(c.pg_port, DEFAULT_PG_PORT);
    assert_eq!(c.lease_timeout, DEFAULT_LEASE_TIMEOUT);
    assert!(c.workers >= 1);
}

#[test]
fn a_bad_value_names_the_variable() {
    let err = config(&[("RUNBOARD_WORKERS", "many")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_WORKERS");
    assert!(err.to_string().contains("RUNBOARD_WORKERS=\"many\""));
    let err = config(&[("RUNBOARD_MODE", "both")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_MODE");
    let err = config(&[("RUNBOARD_LEASE_TIMEOUT_SECS", "0")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_LEASE_TIMEOUT_SECS");
    let err = config(&[("RUNBOARD_MAX_ACTIVE_JOBS", "0")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_MAX_ACTIVE_JOBS");
    let err = config(&[("RUNBOARD_TEST_HOOKS", "yes")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_TEST_HOOKS");
}

#[test]
fn short_tokens_are_refused_without_echoing_them() {
    let err = config(&[("RUNBOARD_TOKEN", "hunter2")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_TOKEN");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let err = config(&[("RUNBOARD_READ_TOKEN", "r".repeat(20).as_str())]).unwrap_err();
    assert_eq!(
        err.variable, "RUNBOARD_READ_TOKEN",
        "a read token needs a full token"
    );
    let ok = config(&[("RUNBOARD_TOKEN", "0123456789abcdef")]).unwrap();
    assert_eq!(ok.token.as_deref(), Some("0123456789abcdef"));
}

#[test]
fn allowed_origins_are_normalized_and_checked() {
    let c = config(&[(
        "RUNBOARD_ALLOWED_ORIGINS",
        " https://Research.Example.com:8443/ , http://10.0.0.5:3000",
    )])
    .unwrap();
    assert_eq!(
        c.allowed_origins,
        vec!["https://research.example.com:8443", "http://10.0.0.5:3000"]
    );
    let err = config(&[("RUNBOARD_ALLOWED_ORIGINS", "evil.example")]).unwrap_err();
    assert_eq!(err.variable, "RUNBOARD_ALLOWED_ORIGINS");
    let err = config(&[("RUNBOARD_ALLOWED_ORIGINS", "https://a.example/path")]).unwrap_err();
    assert_eq!(err.value, "https://a.example/path");
}

#[test]
fn every_process_gets_a_unique_instance_id_under_its_node_id() {
    let a = config(&[("RUNBOARD_NODE_ID", "box")]).unwrap();
    let b = config(&[("RUNBOARD_NODE_ID", "box")]).unwrap();
    assert!(a.node_id_explicit);
    assert!(a.instance_id.starts_with("box-") && b.instance_id.starts_with("box-"));
    assert_ne!(a.instance_id, b.instance_id);
    assert!(!config(&[]).unwrap().node_id_explicit);
}
