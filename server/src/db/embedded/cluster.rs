//! One cluster's life: where it lives, initdb with a random superuser password, start or
//! adopt, the SCRAM-only `pg_hba.conf` (and the upgrade of an older trust cluster), stop, and
//! the server log's tail in errors.

use std::path::{Path, PathBuf};
use std::process::Output;

use sqlx::Connection;
use tokio::process::Command;

use super::secret::{scram_only_hba, set_superuser_password, write_secret, Password};
use super::*;

/// Where a cluster lives and how its binaries are run; no running server implied.
#[derive(Debug)]
pub(super) struct Cluster {
    bin_dir: PathBuf,
    root: PathBuf,
    pub(super) data_dir: PathBuf,
    socket_dir: PathBuf,
    pub(super) password_file: PathBuf,
    /// As root, the server binaries run as the `postgres` user (initdb refuses root).
    run_as_postgres: bool,
}

impl Cluster {
    pub(super) fn locate(root: &Path) -> Result<Cluster, EmbeddedError> {
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

    pub(super) async fn prepare_dirs(&self) -> Result<(), EmbeddedError> {
        std::fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        self.make_owned_dir(&self.data_dir).await?;
        self.make_owned_dir(&self.socket_dir).await
    }

    /// The password of an initialized cluster; initializes one if there is none.
    ///
    /// `None`: an initialized cluster without a password file (made by an older Runboard).
    pub(super) async fn password_or_initdb(&self) -> Result<Option<Password>, EmbeddedError> {
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
    pub(super) async fn start_or_adopt(&self, port: u16) -> Result<(u16, bool), EmbeddedError> {
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
    pub(super) async fn lock(
        &self,
        port: u16,
        password: Option<Password>,
    ) -> Result<Password, EmbeddedError> {
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

    pub(super) async fn is_running(&self) -> bool {
        self.pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.data_dir)
            .output()
            .await
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    pub(super) async fn stop(&self) -> Result<(), EmbeddedError> {
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
