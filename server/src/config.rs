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
}

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
        let node_id = get("RUNBOARD_NODE_ID")
            .filter(|v| !v.trim().is_empty())
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "runboard".into());
        Ok(Config {
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
        })
    }
}

#[cfg(test)]
mod tests {
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
    }
}
