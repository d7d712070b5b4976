//! Tests of `guard.rs`.

use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn same_origin_and_header_less_requests_are_not_cross_site() {
    let s = Security::default();
    let same = headers(&[
        ("host", "127.0.0.1:3000"),
        ("origin", "http://127.0.0.1:3000"),
    ]);
    assert_eq!(cross_site_reason(&s, &same), None);
    assert_eq!(cross_site_reason(&s, &headers(&[("host", "x")])), None);
    let fetch = headers(&[("sec-fetch-site", "same-origin")]);
    assert_eq!(cross_site_reason(&s, &fetch), None);
}

#[test]
fn other_origins_and_sites_are_cross_site_unless_allowed() {
    let s = Security::default();
    let evil = headers(&[
        ("host", "127.0.0.1:3000"),
        ("origin", "http://evil.example"),
    ]);
    assert!(cross_site_reason(&s, &evil)
        .unwrap()
        .contains("evil.example"));
    let other_port = headers(&[
        ("host", "127.0.0.1:3000"),
        ("origin", "http://127.0.0.1:3001"),
    ]);
    assert!(cross_site_reason(&s, &other_port).is_some());
    assert!(cross_site_reason(&s, &headers(&[("origin", "null")])).is_some());
    let site = headers(&[("sec-fetch-site", "same-site")]);
    assert!(cross_site_reason(&s, &site).is_some());
    let allowed = Security {
        allowed_origins: vec!["http://evil.example".into()],
        ..Security::default()
    };
    assert_eq!(cross_site_reason(&allowed, &evil), None);
}

#[test]
fn only_loopback_hosts_are_answered_without_a_token() {
    let s = Security::default();
    for host in [
        "localhost:3000",
        "127.0.0.1:3000",
        "[::1]:3000",
        "app.localhost",
        "127.0.0.2",
    ] {
        assert!(host_allowed(&s, host), "{host}");
    }
    for host in [
        "evil.example:3000",
        "10.0.0.5:3000",
        "localhost.evil.example",
    ] {
        assert!(!host_allowed(&s, host), "{host}");
    }
}

#[test]
fn binding_beyond_loopback_needs_a_token() {
    let public: SocketAddr = "0.0.0.0:3000".parse().unwrap();
    let err = check_bind(public, false).unwrap_err();
    assert!(err.contains("RUNBOARD_TOKEN"), "{err}");
    assert!(check_bind(public, true).is_ok());
    assert!(check_bind("127.0.0.1:3000".parse().unwrap(), false).is_ok());
    assert!(check_bind("[::1]:3000".parse().unwrap(), false).is_ok());
}

#[test]
fn json_content_types_are_recognized() {
    assert!(is_json("application/json"));
    assert!(is_json("Application/JSON; charset=utf-8"));
    assert!(!is_json("text/plain"));
    assert!(!is_json("application/x-www-form-urlencoded"));
    assert!(!is_json(""));
}
