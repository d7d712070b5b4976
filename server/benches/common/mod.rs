//! What the benches that need PostgreSQL share: a fresh database per run on the cluster
//! `DATABASE_URL` names (scripts/bench.sh starts a private one).

use sqlx::{Connection, PgConnection};

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
