//! What the benches that need PostgreSQL share: a fresh database per run on the cluster
//! `DATABASE_URL` names (scripts/bench.sh starts a private one).

use std::future::Future;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

/// Runs a bench's async body on a multi-threaded runtime.
pub fn block_on(run: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run)
}

/// A fresh database `name` ([`fresh_database`]) with Runboard's schema: its URL, and a pool of
/// `connections` to it.
pub async fn migrated_database(name: &str, connections: u32) -> anyhow::Result<(String, PgPool)> {
    let url = fresh_database(name).await?;
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect(&url)
        .await?;
    server::db::MIGRATOR.run(&pool).await?;
    Ok((url, pool))
}

/// Creates (after dropping any leftover) database `name` next to `DATABASE_URL`'s and returns
/// its URL.
pub async fn fresh_database(name: &str) -> anyhow::Result<String> {
    let base = std::env::var("DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("set DATABASE_URL (scripts/bench.sh does)"))?;
    let mut admin = PgConnection::connect(&base).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    match base.rsplit_once('/') {
        Some((prefix, _)) => Ok(format!("{prefix}/{name}")),
        None => anyhow::bail!("DATABASE_URL has no database name"),
    }
}

/// Drops database `name` (made by [`fresh_database`]).
pub async fn drop_database(name: &str) -> anyhow::Result<()> {
    let base = std::env::var("DATABASE_URL")?;
    let mut admin = PgConnection::connect(&base).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// pgbench's tps for `mode` (e.g. `["-S", "-M", "prepared"]`: select-only; `["-N", "-M",
/// "prepared"]`: simple-update), 16 clients, 2 threads, `seconds`, on a fresh scale-10 database
/// `name` (dropped after).
#[allow(dead_code)] // every bench compiles this module; the fan-out bench runs no pgbench
pub async fn pgbench(name: &str, mode: &[&str], seconds: u64) -> anyhow::Result<f64> {
    let url = fresh_database(name).await?;
    let init = tokio::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", "10", &url])
        .output()
        .await?;
    anyhow::ensure!(init.status.success(), "pgbench -i failed: {init:?}");
    let out = tokio::process::Command::new("pgbench")
        .args(mode)
        .args(["-c", "16", "-j", "2", "-T", &seconds.to_string(), &url])
        .output()
        .await?;
    drop_database(name).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output: {text}"))
}
