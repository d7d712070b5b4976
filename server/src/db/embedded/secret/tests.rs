//! Tests of `secret.rs`.

use super::*;

#[test]
fn every_hba_rule_ends_up_requiring_the_password() {
    let legacy = "# METHOD can be \"trust\", ...\n\
                  local   all   all                  trust\n\
                  host    all   all  127.0.0.1/32    trust   # loopback\n\
                  host    all   all  127.0.0.1 255.255.255.255 ident map=x\n\
                  host    all   all  10.0.0.0/8      reject\n";
    let hba = scram_only_hba(legacy);
    assert!(!hba.contains("trust"), "{hba}");
    let rules: Vec<&str> = hba.lines().filter_map(rule_of).collect();
    assert_eq!(
        rules,
        [
            "local all all scram-sha-256",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all 127.0.0.1 255.255.255.255 scram-sha-256",
            "host all all 10.0.0.0/8 reject",
        ]
    );
    assert_eq!(scram_only_hba(&hba), hba, "idempotent");
}

#[test]
fn the_password_is_32_hex_digits_and_never_debug_printed() {
    let password = Password::generate().unwrap();
    assert_eq!(password.0.len(), 32);
    assert!(password.0.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!format!("{password:?}").contains(&password.0));
}
