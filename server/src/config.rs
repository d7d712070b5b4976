//! Configuration from the environment, read once at start-up. Errors name the variable.

use std::path::PathBuf;
use std::time::Duration;

/// Which parts of Runboard this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Web server and workers (the default).
    All,
    /// Only the web server and API: jobs run elsewhere.
    Web,
    /// Only workers and maintenance: several such processes can share one Postgres.
    Worker,
}

/// Everything the server needs to know about its surroundings.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: use this server. Unset: start the embedded private cluster.
    pub database_url: Option<String>,
    /// `RUNBOARD_DATA_DIR` (default `.runboard`): where the embedded cluster lives.
    pub data_dir: PathBuf,
    /// `RUNBOARD_PG_PORT` (default 55432): the embedded cluster's loopback port.
    pub pg_port: u16,
    /// `RUNBOARD_RUNS_DIR` (default `runs`): per-job logs go to `<runs>/<id>/artifacts/run.log`.
    pub runs_dir: PathBuf,
    /// `RUNBOARD_MODE`: `all` (default), `web` or `worker`.
    pub mode: Mode,
    /// `RUNBOARD_WORKERS` (default: the number of CPU cores): jobs run at once in this process.
    pub workers: usize,
    /// `RUNBOARD_NODE_ID` (default: the host name): names this process's runs, so that on
    /// restart it can recover at once the runs its previous incarnation left RUNNING.
    pub node_id: String,
    /// `RUNBOARD_LEASE_TIMEOUT_SECS` (default 30): a RUNNING job whose heartbeat is older is
    /// rescued.
    pub lease_timeout: Duration,
    /// `RUNBOARD_MAX_GRID` (default 100,000): the largest optimization grid accepted.
    pub max_grid: usize,
    /// `RUNBOARD_FANOUT_WORK` (runs × bars, default 2,000,000,000; 0: never) and
    /// `RUNBOARD_CHUNK_WORK` (runs × bars per chunk, default 1,000,000,000): optimizations with at
    /// least that much work are split into chunks that every worker process shares.
    pub fanout: crate::jobs::chunks::FanOut,
    /// True when `RUNBOARD_NODE_ID` was set: the operator promises it is unique per process, so
    /// at start-up this process may recover at once the runs its previous incarnation left.
    pub node_id_explicit: bool,
    /// This process's unique name: the node id plus a random suffix (`<node>-<8 hex>`). Worker
    /// ids are `<instance>:<n>`, so two processes never mistake each other's runs.
    pub instance_id: String,
    /// `RUNBOARD_TOKEN`: turns on authentication (API: `Authorization: Bearer`, browser: a
    /// session cookie from the sign-in page). Required to listen beyond loopback.
    pub token: Option<String>,
    /// `RUNBOARD_READ_TOKEN`: an optional second token that may read but not change anything.
    pub read_token: Option<String>,
    /// `RUNBOARD_ALLOWED_ORIGINS`: comma-separated origins (`https://host[:port]`) whose pages may
    /// call the API besides the server's own.
    pub allowed_origins: Vec<String>,
    /// `RUNBOARD_MAX_ACTIVE_JOBS` (default 1,000): QUEUED + RUNNING jobs beyond which a submit
    /// gets `429`.
    pub max_active_jobs: u64,
    /// `RUNBOARD_TEST_HOOKS=1`: accept the demo job's failure hooks (tests only).
    pub test_hooks: bool,
    /// `RUNBOARD_MAX_UPLOAD_BYTES` (default 1 GiB): the largest CSV upload body (as sent, so
    /// compressed for a gzip body; the decompressed text is held to the same limit).
    pub max_upload_bytes: u64,
}

/// Default `RUNBOARD_MAX_UPLOAD_BYTES`: 1 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?} is not valid: {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Default lease timeout: long enough for a busy machine, short enough to recover promptly.
pub const DEFAULT_LEASE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on the number of runs in one optimization.
pub const DEFAULT_MAX_GRID: usize = 100_000;
/// Default embedded Postgres port.
pub const DEFAULT_PG_PORT: u16 = 55432;
/// Default cap on QUEUED + RUNNING jobs.
pub const DEFAULT_MAX_ACTIVE_JOBS: u64 = 1_000;
/// Shortest token accepted: a guessable token is no protection.
pub const MIN_TOKEN_CHARS: usize = 16;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let parse_num = |variable: &'static str, expected: &'static str| {
            let get = &get;
            move || -> Result<Option<u64>, ConfigError> {
                match get(variable).filter(|v| !v.trim().is_empty()) {
                    None => Ok(None),
                    Some(value) => value
                        .trim()
                        .parse::<u64>()
                        .map(Some)
                        .map_err(|_| ConfigError {
                            variable,
                            value,
                            expected,
                        }),
                }
            }
        };
        let mode = match get("RUNBOARD_MODE").as_deref().map(str::trim) {
            None | Some("") | Some("all") => Mode::All,
            Some("web") => Mode::Web,
            Some("worker") => Mode::Worker,
            Some(other) => {
                return Err(ConfigError {
                    variable: "RUNBOARD_MODE",
                    value: other.to_string(),
                    expected: "one of all, web, worker",
                })
            }
        };
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let workers = parse_num("RUNBOARD_WORKERS", "a whole number of workers, 0 or more")()?
            .map(|n| n as usize)
            .unwrap_or(cores);
        let pg_port = match parse_num("RUNBOARD_PG_PORT", "a port number 1-65535")()? {
            None => DEFAULT_PG_PORT,
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => {
                return Err(ConfigError {
                    variable: "RUNBOARD_PG_PORT",
                    value: p.to_string(),
                    expected: "a port number 1-65535",
                })
            }
        };
        let lease_timeout = match parse_num("RUNBOARD_LEASE_TIMEOUT_SECS", "seconds, at least 1")()?
        {
            None => DEFAULT_LEASE_TIMEOUT,
            Some(0) => {
                return Err(ConfigError {
                    variable: "RUNBOARD_LEASE_TIMEOUT_SECS",
                    value: "0".into(),
                    expected: "seconds, at least 1",
                })
            }
            Some(s) => Duration::from_secs(s),
        };
        let max_grid = parse_num("RUNBOARD_MAX_GRID", "a whole number of runs")()?
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_MAX_GRID);
        let defaults = crate::jobs::chunks::FanOut::default();
        let fanout = crate::jobs::chunks::FanOut {
            min_work: parse_num("RUNBOARD_FANOUT_WORK", "runs × bars, 0 to never fan out")()?
                .unwrap_or(defaults.min_work),
            chunk_work: match parse_num("RUNBOARD_CHUNK_WORK", "runs × bars, at least 1")()? {
                None => defaults.chunk_work,
                Some(0) => {
                    return Err(ConfigError {
                        variable: "RUNBOARD_CHUNK_WORK",
                        value: "0".into(),
                        expected: "runs × bars, at least 1",
                    })
                }
                Some(w) => w,
            },
        };
        let explicit_node = get("RUNBOARD_NODE_ID")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let node_id_explicit = explicit_node.is_some();
        let node_id = explicit_node
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "runboard".into());
        let token = read_token_var(&get, "RUNBOARD_TOKEN")?;
        let read_token = read_token_var(&get, "RUNBOARD_READ_TOKEN")?;
        if read_token.is_some() && token.is_none() {
            return Err(ConfigError {
                variable: "RUNBOARD_READ_TOKEN",
                value: "(hidden)".into(),
                expected: "to be used together with RUNBOARD_TOKEN (set that too)",
            });
        }
        if read_token.is_some() && read_token == token {
            return Err(ConfigError {
                variable: "RUNBOARD_READ_TOKEN",
                value: "(hidden)".into(),
                expected: "a token different from RUNBOARD_TOKEN",
            });
        }
        let allowed_origins = parse_origins(get("RUNBOARD_ALLOWED_ORIGINS").unwrap_or_default())?;
        let max_active_jobs =
            match parse_num("RUNBOARD_MAX_ACTIVE_JOBS", "a whole number, at least 1")()? {
                None => DEFAULT_MAX_ACTIVE_JOBS,
                Some(0) => {
                    return Err(ConfigError {
                        variable: "RUNBOARD_MAX_ACTIVE_JOBS",
                        value: "0".into(),
                        expected: "a whole number, at least 1",
                    })
                }
                Some(n) => n,
            };
        let max_upload_bytes = match parse_num(
            "RUNBOARD_MAX_UPLOAD_BYTES",
            "a whole number of bytes, at least 1",
        )()? {
            None => DEFAULT_MAX_UPLOAD_BYTES,
            Some(0) => {
                return Err(ConfigError {
                    variable: "RUNBOARD_MAX_UPLOAD_BYTES",
                    value: "0".into(),
                    expected: "a whole number of bytes, at least 1",
                })
            }
            Some(n) => n,
        };
        let test_hooks = match get("RUNBOARD_TEST_HOOKS").as_deref().map(str::trim) {
            None | Some("") | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: "RUNBOARD_TEST_HOOKS",
                    value: other.to_string(),
                    expected: "1 to enable, 0 or unset to disable",
                })
            }
        };
        let instance_id = format!(
            "{node_id}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Ok(Config {
            node_id_explicit,
            instance_id,
            token,
            read_token,
            allowed_origins,
            max_active_jobs,
            test_hooks,
            max_upload_bytes,
            database_url: get("DATABASE_URL").filter(|v| !v.trim().is_empty()),
            data_dir: get("RUNBOARD_DATA_DIR")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".runboard")),
            pg_port,
            runs_dir: get("RUNBOARD_RUNS_DIR")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("runs")),
            mode,
            workers,
            node_id,
            lease_timeout,
            max_grid,
            fanout,
        })
    }
}

/// A token variable: unset or empty means none; otherwise at least [`MIN_TOKEN_CHARS`] visible
/// characters. The value never appears in an error.
fn read_token_var(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<String>, ConfigError> {
    let Some(value) = get(variable)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let printable = value.chars().all(|c| c.is_ascii_graphic());
    if value.chars().count() < MIN_TOKEN_CHARS || !printable {
        return Err(ConfigError {
            variable,
            value: "(hidden)".into(),
            expected: "at least 16 printable ASCII characters without spaces, e.g. the output of \
                       `openssl rand -hex 32`",
        });
    }
    Ok(Some(value))
}

/// `RUNBOARD_ALLOWED_ORIGINS`: `scheme://host[:port]` items, comma-separated, normalized to
/// lower case without a trailing slash (the form browsers send in `Origin`).
fn parse_origins(raw: String) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let origin = item.trim_end_matches('/').to_ascii_lowercase();
        let valid = match origin.split_once("://") {
            Some(("http" | "https", host)) => {
                !host.is_empty() && !host.contains(['/', '?', '#', '@', ' '])
            }
            _ => false,
        };
        if !valid {
            return Err(ConfigError {
                variable: "RUNBOARD_ALLOWED_ORIGINS",
                value: item.to_string(),
                expected: "comma-separated origins such as https://research.example.com:8443",
            });
        }
        origins.push(origin);
    }
    Ok(origins)
}

#[cfg(test)]
mod tests;
