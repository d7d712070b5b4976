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

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use sqlx::Connection;
use tokio::process::Command;

mod secret;
use secret::{scram_only_hba, set_superuser_password, write_secret, Password};

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

/// Where a cluster lives and how its binaries are run; no running server implied.
#[derive(Debug)]
struct Cluster {
    bin_dir: PathBuf,
    root: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    password_file: PathBuf,
    /// As root, the server binaries run as the `postgres` user (initdb refuses root).
    run_as_postgres: bool,
}

impl Cluster {
    fn locate(root: &Path) -> Result<Cluster, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::NoBinaries)?;
        let root = absolute(root)?;
        Ok(Cluster {
            bin_dir,
            data_dir: root.join("pgdata"),
            socket_dir: root.join("pgsock"),
            password_file: root.join(PASSWORD_FILE),
            root,
            run_as_postgres: is_root(),
        })
    }

    async fn prepare_dirs(&self) -> Result<(), EmbeddedError> {
        std::fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        self.make_owned_dir(&self.data_dir).await?;
        self.make_owned_dir(&self.socket_dir).await
    }

    /// The password of an initialized cluster; initializes one if there is none.
    ///
    /// `None`: an initialized cluster without a password file (made by an older Runboard).
    async fn password_or_initdb(&self) -> Result<Option<Password>, EmbeddedError> {
        let initialized = self.data_dir.join("PG_VERSION").exists();
        match (initialized, self.password_file.exists()) {
            (true, true) => Password::read(&self.password_file).map(Some),
            (true, false) => Ok(None),
            (false, stale) => {
                if stale {
                    tracing::warn!(
                        password_file = %self.password_file.display(),
                        "a password file but no cluster: initializing a new one with a new password"
                    );
                }
                self.initdb().await.map(Some)
            }
        }
    }

    async fn initdb(&self) -> Result<Password, EmbeddedError> {
        tracing::info!(data_dir = %self.data_dir.display(), "initializing a private PostgreSQL cluster");
        let password = Password::generate()?;
        password.save(&self.password_file)?;
        // initdb reads the password from a file, which (as root) the postgres user must read.
        let pwfile = self.socket_dir.join("initdb-password");
        self.write_postgres_secret(&pwfile, &password)?;
        let initdb = self
            .pg_command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output_checked("initdb")
            .await;
        let removed = std::fs::remove_file(&pwfile).map_err(io_error(&pwfile));
        initdb.and(removed)?;
        self.ensure_scram_hba(None).await?;
        Ok(password)
    }

    /// Writes a mode-0600 file owned by the owner of the socket directory (postgres as root).
    fn write_postgres_secret(&self, path: &Path, password: &Password) -> Result<(), EmbeddedError> {
        let owner = std::fs::metadata(&self.socket_dir).map_err(io_error(&self.socket_dir))?;
        write_secret(path, &password.0)?;
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid())).map_err(io_error(path))
    }

    /// Starts the server on `port`, or adopts the one already running from this data directory.
    ///
    /// Returns the port it listens on and whether this process started it.
    async fn start_or_adopt(&self, port: u16) -> Result<(u16, bool), EmbeddedError> {
        if !self.is_running().await {
            match self.start_server(port).await {
                Ok(()) => return Ok((port, true)),
                // Another process may have started it meanwhile: then adopt it.
                Err(e) if !self.is_running().await => return Err(e),
                Err(_) => {}
            }
        }
        let port = self.running_port().unwrap_or(port);
        tracing::info!(
            port,
            "adopting the private PostgreSQL another process started (it stays running when this \
             process exits)"
        );
        Ok((port, false))
    }

    async fn start_server(&self, port: u16) -> Result<(), EmbeddedError> {
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            self.socket_dir.display()
        );
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(self.log_file())
            .args(["-o", &options, "-w", "-t", PG_CTL_TIMEOUT_SECS, "start"])
            .output_checked("pg_ctl start")
            .await
            .map_err(|e| self.with_log_tail(e))?;
        tracing::info!(port, "private PostgreSQL started");
        Ok(())
    }

    /// Makes sure the running server on `port` requires `password` (setting one if `None`).
    async fn lock(&self, port: u16, password: Option<Password>) -> Result<Password, EmbeddedError> {
        let password = match password {
            Some(password) => password,
            None => self.upgrade_legacy(port).await?,
        };
        self.ensure_scram_hba(Some(port)).await?;
        Ok(password)
    }

    /// Gives a trust-authenticated cluster (made by an older Runboard) a superuser password.
    async fn upgrade_legacy(&self, port: u16) -> Result<Password, EmbeddedError> {
        tracing::warn!(
            data_dir = %self.data_dir.display(),
            password_file = %self.password_file.display(),
            "upgrading a private PostgreSQL made by an older Runboard: it let any local user in \
             as superuser without a password; it now requires the password in the password file"
        );
        let password = Password::generate()?;
        set_superuser_password(port, &password).await?;
        password.save(&self.password_file)?;
        Ok(password)
    }

    /// Rewrites `pg_hba.conf` so that every rule requires the password, if it does not already.
    ///
    /// With the port of the running server, also reloads it and waits until it asks for it.
    async fn ensure_scram_hba(&self, running_on: Option<u16>) -> Result<(), EmbeddedError> {
        let path = self.data_dir.join("pg_hba.conf");
        let current = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let wanted = scram_only_hba(&current);
        if wanted == current {
            return Ok(());
        }
        // Truncated and written in place: the file keeps its owner (postgres) and mode.
        std::fs::write(&path, wanted).map_err(io_error(&path))?;
        tracing::info!(path = %path.display(), "pg_hba.conf now requires the password everywhere");
        let Some(port) = running_on else {
            return Ok(());
        };
        self.pg_command("pg_ctl")
            .arg("reload")
            .arg("-D")
            .arg(&self.data_dir)
            .output_checked("pg_ctl reload")
            .await?;
        self.wait_until_password_required(port).await
    }

    /// Polls until a connection without the password is refused (a reload is asynchronous).
    async fn wait_until_password_required(&self, port: u16) -> Result<(), EmbeddedError> {
        let deadline = tokio::time::Instant::now() + RELOAD_TIMEOUT;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        loop {
            match sqlx::PgConnection::connect(&url).await {
                Err(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c.starts_with("28")) => {
                    return Ok(())
                }
                Err(source) => {
                    return Err(EmbeddedError::Sql {
                        what: format!("checking that 127.0.0.1:{port} requires the password"),
                        source,
                    })
                }
                Ok(conn) => {
                    let _ = conn.close().await;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EmbeddedError::StillTrusting {
                    port,
                    log: self.log_file(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn is_running(&self) -> bool {
        self.pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.data_dir)
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    async fn stop(&self) -> Result<(), EmbeddedError> {
        self.pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", PG_CTL_TIMEOUT_SECS, "stop"])
            .output_checked("pg_ctl stop")
            .await?;
        tracing::info!(data_dir = %self.data_dir.display(), "private PostgreSQL stopped");
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

    /// Creates (or fixes) a mode-0700 directory owned by whoever runs the server binaries.
    async fn make_owned_dir(&self, dir: &Path) -> Result<(), EmbeddedError> {
        if self.run_as_postgres {
            return Command::new("install")
                .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700"])
                .arg(dir)
                .output_checked(&format!("install -d {}", dir.display()))
                .await;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error(dir))
    }

    /// The port recorded in `postmaster.pid` (line 4) of a running cluster.
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    fn log_file(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    fn with_log_tail(&self, err: EmbeddedError) -> EmbeddedError {
        match err {
            EmbeddedError::Failed {
                command,
                status,
                output,
            } => {
                let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
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
