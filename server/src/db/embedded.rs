//! The embedded default: a private PostgreSQL cluster run from the machine's own binaries.
//!
//! Used when `DATABASE_URL` is unset. The cluster lives in a data directory inside the project
//! (git-ignored), listens on loopback only, and is stopped cleanly on shutdown. Nothing is
//! downloaded: if no Postgres binaries are installed, the error says what to install.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokio::process::Command;

/// Where Debian and Ubuntu install versioned server binaries.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";
/// Seconds `pg_ctl` waits for start-up or shutdown.
const PG_CTL_TIMEOUT_SECS: &str = "60";

/// Why the embedded cluster could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb and pg_ctl on PATH and in \
         {DEBIAN_PG_ROOT}/*/bin). Install them, e.g. `apt-get install postgresql`, or set \
         DATABASE_URL to use an existing server"
    )]
    NoBinaries,
    #[error("could not run {command}: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {output}")]
    Failed {
        command: String,
        status: String,
        output: String,
    },
    #[error("could not prepare {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    /// As root, the server binaries run as the `postgres` user (initdb refuses root).
    run_as_postgres: bool,
}

impl EmbeddedPostgres {
    /// Starts (initializing on first use) the cluster under `root` on `port`.
    ///
    /// A cluster already running from `root` (e.g. left behind by a killed server) is adopted.
    pub async fn start(root: &Path, port: u16) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::NoBinaries)?;
        let run_as_postgres = is_root();
        let root = absolute(root)?;
        let data_dir = root.join("pgdata");
        let socket_dir = root.join("pgsock");
        std::fs::create_dir_all(&root).map_err(|source| EmbeddedError::Io {
            path: root.clone(),
            source,
        })?;
        let pg = EmbeddedPostgres {
            bin_dir,
            data_dir,
            port,
            run_as_postgres,
        };
        pg.make_owned_dir(&pg.data_dir, "700").await?;
        pg.make_owned_dir(&socket_dir, "755").await?;

        if !pg.data_dir.join("PG_VERSION").exists() {
            tracing::info!(data_dir = %pg.data_dir.display(), "initializing a private PostgreSQL cluster");
            pg.pg_command("initdb")
                .arg("-D")
                .arg(&pg.data_dir)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .output_checked("initdb")
                .await?;
        }

        let running = pg
            .pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&pg.data_dir)
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false);
        if running {
            let port = pg.running_port().unwrap_or(port);
            tracing::warn!(
                port,
                "adopting a private PostgreSQL left running by an earlier process"
            );
            return Ok(EmbeddedPostgres { port, ..pg });
        }

        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            socket_dir.display()
        );
        pg.pg_command("pg_ctl")
            .arg("-D")
            .arg(&pg.data_dir)
            .arg("-l")
            .arg(pg.data_dir.join("server.log"))
            .args(["-o", &options, "-w", "-t", PG_CTL_TIMEOUT_SECS, "start"])
            .output_checked("pg_ctl start")
            .await
            .map_err(|e| pg.with_log_tail(e))?;
        tracing::info!(port, "private PostgreSQL started");
        Ok(pg)
    }

    /// The connection URL (trust auth on loopback).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the cluster with a fast shutdown (open transactions roll back, data is safe).
    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", PG_CTL_TIMEOUT_SECS, "stop"])
            .output_checked("pg_ctl stop")
            .await?;
        tracing::info!("private PostgreSQL stopped");
        Ok(())
    }

    fn pg_command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.kill_on_drop(true);
        cmd
    }

    async fn make_owned_dir(&self, dir: &Path, mode: &str) -> Result<(), EmbeddedError> {
        if self.run_as_postgres {
            Command::new("install")
                .args(["-d", "-o", "postgres", "-g", "postgres", "-m", mode])
                .arg(dir)
                .output_checked("install -d")
                .await
        } else {
            std::fs::create_dir_all(dir).map_err(|source| EmbeddedError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            use std::os::unix::fs::PermissionsExt;
            let bits = u32::from_str_radix(mode, 8).unwrap_or(0o700);
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(bits)).map_err(|source| {
                EmbeddedError::Io {
                    path: dir.to_path_buf(),
                    source,
                }
            })
        }
    }

    /// The port recorded in `postmaster.pid` (line 4) of a running cluster.
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn with_log_tail(&self, err: EmbeddedError) -> EmbeddedError {
        match err {
            EmbeddedError::Failed {
                command,
                status,
                output,
            } => {
                let log =
                    std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                EmbeddedError::Failed {
                    command,
                    status,
                    output: format!("{output}\nserver.log:\n{}", tail.join("\n")),
                }
            }
            other => other,
        }
    }
}

/// Runs a command, turning a non-zero exit into an error that carries its output.
trait OutputChecked {
    async fn output_checked(&mut self, name: &str) -> Result<(), EmbeddedError>;
}

impl OutputChecked for Command {
    async fn output_checked(&mut self, name: &str) -> Result<(), EmbeddedError> {
        let out: Output = self.output().await.map_err(|source| EmbeddedError::Spawn {
            command: name.to_string(),
            source,
        })?;
        if out.status.success() {
            return Ok(());
        }
        Err(EmbeddedError::Failed {
            command: name.to_string(),
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .trim()
            .to_string(),
        })
    }
}

/// The directory holding `initdb` and `pg_ctl`: the newest `/usr/lib/postgresql/*/bin`, else PATH.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_PG_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versioned.sort();
    if let Some((_, bin)) = versioned.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| has_tools(dir))
            .map(|dir| std::fs::canonicalize(&dir).unwrap_or(dir))
    })
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(|source| EmbeddedError::Io {
        path: path.to_path_buf(),
        source,
    })
}
