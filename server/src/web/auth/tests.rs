//! Tests of `auth.rs`.

use super::*;

const TOKEN: &str = "0123456789abcdef-full";
const READ: &str = "0123456789abcdef-read";

#[test]
fn tokens_map_to_roles() {
    let keys = Keys::new(TOKEN, Some(READ));
    assert_eq!(keys.role_of_token(TOKEN), Some(Role::Write));
    assert_eq!(keys.role_of_token(READ), Some(Role::Read));
    assert_eq!(keys.role_of_token("0123456789abcdef-ful"), None);
    assert_eq!(keys.role_of_token(""), None);
    assert_eq!(Keys::new(TOKEN, None).role_of_token(READ), None);
}

#[test]
fn sessions_verify_until_they_expire_or_are_tampered_with() {
    let keys = Keys::new(TOKEN, Some(READ));
    let s = keys.issue_session(Role::Read, 1_000);
    assert_eq!(keys.verify_session(&s, 1_000), Some(Role::Read));
    assert_eq!(
        keys.verify_session(&s, 1_000 + SESSION_TTL_SECS),
        None,
        "expired"
    );
    let forged = s.replacen(".r.", ".w.", 1);
    assert_eq!(keys.verify_session(&forged, 1_000), None, "role changed");
    let other = Keys::new("another-token-0123456789", Some(READ));
    assert_eq!(
        other.verify_session(&s, 1_000),
        None,
        "a new token ends old sessions"
    );
    assert_eq!(keys.verify_session("v1.w.99999999999.00", 1_000), None);
    assert_eq!(keys.verify_session("garbage", 1_000), None);
}

#[test]
fn repeated_failures_wait_longer_up_to_a_cap() {
    let t = FailureThrottle::new();
    let ip = Some("10.0.0.1".parse().unwrap());
    let now = Instant::now();
    let waits: Vec<Duration> = (0..8).map(|_| t.record(ip, now)).collect();
    assert_eq!(waits[0], FailureThrottle::BASE);
    assert_eq!(waits[1], FailureThrottle::BASE * 2);
    assert!(waits.windows(2).all(|w| w[1] >= w[0]));
    assert_eq!(*waits.last().unwrap(), FailureThrottle::MAX);
    let other = Some("10.0.0.2".parse().unwrap());
    assert_eq!(t.record(other, now), FailureThrottle::BASE, "per address");
    let later = now + FailureThrottle::QUIET;
    assert_eq!(
        t.record(ip, later),
        FailureThrottle::BASE,
        "forgotten after quiet"
    );
}

#[test]
fn sign_in_redirects_only_to_local_paths() {
    assert_eq!(safe_next(Some("/jobs?page=2")), "/jobs?page=2");
    assert_eq!(safe_next(Some("//evil.example")), "/");
    assert_eq!(safe_next(Some("https://evil.example")), "/");
    assert_eq!(safe_next(Some("/\\evil.example")), "/");
    assert_eq!(safe_next(None), "/");
}

#[test]
fn writes_need_the_full_token() {
    assert!(needs_write(&Method::POST, "/api/submit_job"));
    assert!(needs_write(&Method::POST, "/api/cancel_job"));
    assert!(needs_write(&Method::POST, "/api/anything_new"));
    assert!(!needs_write(&Method::POST, "/api/job_status"));
    assert!(!needs_write(&Method::POST, "/api/job_repro"));
    assert!(!needs_write(&Method::POST, "/api/compare_jobs"));
    assert!(needs_write(&Method::POST, "/api/rerun_job"));
    assert!(!needs_write(&Method::GET, "/api/jobs/x/result.json"));
    assert!(!needs_write(&Method::HEAD, "/api/jobs/x/result.csv"));
    assert!(needs_write(&Method::POST, "/api/jobs/x/result.csv"));
    assert!(needs_write(&Method::GET, "/api/jobs/x/other"));
    assert!(!needs_write(&Method::GET, "/jobs"));
}
