//! The embedded default: a private PostgreSQL cluster run from the machine's own binaries.
//!
//! Used when `DATABASE_URL` is unset. The cluster lives in `<root>/pgdata` (git-ignored). Nothing
//! is downloaded: if no Postgres binaries are installed, the error says what to install.
//!
//! Security model: the cluster listens on 127.0.0.1 only, its socket directory is mode 0700, and
//! every `pg_hba.conf` rule requires the superuser's password (SCRAM; never `trust`). The password
//! is random, made at initdb, and kept in `<root>/pg-password` (mode 0600, readable only by the
//! user running Runboard); a trust cluster made by an older Runboard is upgraded on start. Only
//! the process that started the cluster stops it: a process that adopted it leaves it running.
//!
//! This file is the public face ([`EmbeddedPostgres`], its errors, finding the binaries); one
//! cluster's life (initdb, start or adopt, the lock, stop) is in `cluster`, the password and
//! `pg_hba.conf` in `secret`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod cluster;
mod secret;

use cluster::Cluster;
use secret::Password;

/// Where Debian and Ubuntu install versioned server binaries.
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";
/// Seconds `pg_ctl` waits for start-up or shutdown.
const PG_CTL_TIMEOUT_SECS: &str = "60";
/// The file, in the data root, holding the `postgres` superuser's password.
pub const PASSWORD_FILE: &str = "pg-password";
/// How long a reloaded server may take to start asking for the password.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

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
    #[error("{path} is empty: delete it and the cluster's data directory to start afresh")]
    EmptyPasswordFile { path: PathBuf },
    #[error("{what}: {source}")]
    Sql { what: String, source: sqlx::Error },
    #[error(
        "the private PostgreSQL on port {port} still accepts connections without a password \
         after pg_hba.conf was rewritten and reloaded; see {log}"
    )]
    StillTrusting { port: u16, log: PathBuf },
}

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster: Cluster,
    port: u16,
    password: Password,
    /// Whether this process started the server (only then does it stop it).
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Starts (initializing on first use) the cluster under `root` on `port`.
    ///
    /// A cluster already running from `root` (another Runboard process's, or one left behind by
    /// a killed server) is adopted: its port comes from `postmaster.pid`, and it is not ours to
    /// stop. A trust-authenticated cluster made by an older Runboard gets a password first.
    pub async fn start(root: &Path, port: u16) -> Result<Self, EmbeddedError> {
        let cluster = Cluster::locate(root)?;
        cluster.prepare_dirs().await?;
        let password = cluster.password_or_initdb().await?;
        let (port, started_here) = cluster.start_or_adopt(port).await?;
        match cluster.lock(port, password).await {
            Ok(password) => Ok(EmbeddedPostgres {
                cluster,
                port,
                password,
                started_here,
            }),
            Err(e) => {
                if started_here {
                    let _ = cluster.stop().await;
                }
                Err(e)
            }
        }
    }

    /// Stops the cluster under `root` if it is running, without starting it first.
    ///
    /// Returns whether it was running.
    pub async fn stop_dir(root: &Path) -> Result<bool, EmbeddedError> {
        let cluster = Cluster::locate(root)?;
        if !cluster.is_running().await {
            return Ok(false);
        }
        cluster.stop().await?;
        Ok(true)
    }

    /// The connection URL, with the superuser's password.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/postgres",
            self.password.0, self.port
        )
    }

    /// The port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether this process started the server (false: it adopted a running one).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The cluster's data directory (`<root>/pgdata`).
    pub fn data_dir(&self) -> &Path {
        &self.cluster.data_dir
    }

    /// The file holding the superuser's password (`<root>/pg-password`).
    pub fn password_file(&self) -> &Path {
        &self.cluster.password_file
    }

    /// Stops the cluster with a fast shutdown (open transactions roll back, data is safe).
    pub async fn stop(&self) -> Result<(), EmbeddedError> {
        self.cluster.stop().await
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
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(io_error(path))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let path = path.to_path_buf();
    move |source| EmbeddedError::Io { path, source }
}
