//! The cluster's secrets: the superuser's password (random, kept in a mode-0600 file, never
//! printed) and the `pg_hba.conf` rewrite that makes every rule require it (SCRAM).

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sqlx::Connection;

use super::{io_error, EmbeddedError};

/// The only authentication method the cluster's `pg_hba.conf` rules may use.
const SCRAM: &str = "scram-sha-256";
/// The methods `pg_hba.conf` knows: how a rule's method field is recognized.
const AUTH_METHODS: &[&str] = &[
    "trust",
    "reject",
    "scram-sha-256",
    "md5",
    "password",
    "gss",
    "sspi",
    "ident",
    "peer",
    "pam",
    "ldap",
    "radius",
    "cert",
    "bsd",
];
/// The superuser password: never printed by `Debug`.
#[derive(Clone)]
pub(super) struct Password(pub(super) String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// 128 random bits from the kernel, as 32 hex digits (safe inside SQL and URLs unescaped).
    pub(super) fn generate() -> Result<Password, EmbeddedError> {
        let source = Path::new("/dev/urandom");
        let mut bytes = [0u8; 16];
        std::fs::File::open(source)
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(io_error(source))?;
        Ok(Password(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    pub(super) fn read(path: &Path) -> Result<Password, EmbeddedError> {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
        let password = text.trim();
        if password.is_empty() {
            return Err(EmbeddedError::EmptyPasswordFile {
                path: path.to_path_buf(),
            });
        }
        Ok(Password(password.to_string()))
    }

    /// Replaces `path` atomically with a new file of mode 0600 holding the password.
    pub(super) fn save(&self, path: &Path) -> Result<(), EmbeddedError> {
        let tmp = path.with_extension("tmp");
        write_secret(&tmp, &self.0)?;
        std::fs::rename(&tmp, path).map_err(io_error(path))
    }
}

/// Connects without a password (the cluster trusts) and sets the superuser's password.
pub(super) async fn set_superuser_password(
    port: u16,
    password: &Password,
) -> Result<(), EmbeddedError> {
    let sql_error = |what: &str| {
        let what = format!("{what} (127.0.0.1:{port})");
        move |source| EmbeddedError::Sql { what, source }
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = sqlx::PgConnection::connect(&url).await.map_err(sql_error(
        "connecting without a password to a cluster that has no password file (restore the \
         file, or delete the cluster's data directory to start afresh)",
    ))?;
    sqlx::query("SET password_encryption = 'scram-sha-256'")
        .execute(&mut conn)
        .await
        .map_err(sql_error("setting password_encryption"))?;
    // ALTER ROLE takes no bind parameters; the password is hex digits, safe to inline.
    let alter = format!("ALTER ROLE postgres PASSWORD '{}'", password.0);
    sqlx::query(&alter)
        .execute(&mut conn)
        .await
        .map_err(sql_error("setting the postgres role's password"))?;
    let _ = conn.close().await;
    Ok(())
}

/// `pg_hba.conf` reduced to its rules, each requiring the password (SCRAM).
pub(super) fn scram_only_hba(current: &str) -> String {
    let mut out = String::from(
        "# Written by Runboard: every connection must give the password kept in the Runboard\n\
         # data directory (scram-sha-256): keep it that way.\n",
    );
    for rule in current.lines().filter_map(rule_of) {
        out.push_str(&scram_rule(rule));
        out.push('\n');
    }
    out
}

/// The rule on a `pg_hba.conf` line, without its comment; `None` for blank and comment lines.
fn rule_of(line: &str) -> Option<&str> {
    let rule = line.split('#').next()?.trim();
    (!rule.is_empty()).then_some(rule)
}

/// `rule` with its method (and the method's options) replaced by `scram-sha-256`.
///
/// `reject` rules and other directives (e.g. `include`) are kept as they are.
fn scram_rule(rule: &str) -> String {
    let fields: Vec<&str> = rule.split_whitespace().collect();
    let first_possible = match fields[0] {
        "local" => 3,
        kind if kind.starts_with("host") => 4,
        _ => return rule.to_string(),
    };
    let method_at = fields
        .iter()
        .skip(first_possible)
        .position(|f| AUTH_METHODS.contains(f))
        .map(|i| first_possible + i);
    match method_at {
        Some(at) if fields[at] != "reject" => {
            let mut kept = fields[..at].to_vec();
            kept.push(SCRAM);
            kept.join(" ")
        }
        _ => fields.join(" "),
    }
}

/// Creates `path` afresh, mode 0600, holding `text` (and a newline).
pub(super) fn write_secret(path: &Path, text: &str) -> Result<(), EmbeddedError> {
    let _ = std::fs::remove_file(path); // a leftover from an interrupted run
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| writeln!(file, "{text}"))
        .map_err(io_error(path))
}

#[cfg(test)]
mod tests;
