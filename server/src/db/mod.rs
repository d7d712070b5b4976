//! The database: the embedded cluster or `DATABASE_URL`, a pool, and the migrations.

pub mod embedded;

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::Config;
use embedded::EmbeddedPostgres;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A connected, migrated database, and the private cluster behind it if we use one.
pub struct Database {
    pub pool: PgPool,
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster when it is unset; migrates.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        let (url, embedded) = match &config.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let pg = EmbeddedPostgres::start(&config.data_dir, config.pg_port)
                    .await
                    .context(
                        "starting the embedded PostgreSQL (set DATABASE_URL to use another server)",
                    )?;
                (pg.url(), Some(pg))
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections((config.workers as u32).saturating_mul(2).saturating_add(10))
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .context("connecting to PostgreSQL")?;
        MIGRATOR
            .run(&pool)
            .await
            .context("running the database migrations")?;
        Ok(Database {
            pool,
            url,
            embedded,
        })
    }

    /// Closes the pool and stops the embedded cluster if this process started it.
    ///
    /// A cluster adopted from another process keeps running: it belongs to that process.
    pub async fn close(self) {
        self.pool.close().await;
        let Some(pg) = self.embedded else {
            return;
        };
        if !pg.started_here() {
            tracing::info!(
                port = pg.port(),
                "leaving the embedded PostgreSQL running for the process that started it"
            );
            return;
        }
        if let Err(e) = pg.stop().await {
            tracing::error!(error = %e, "could not stop the embedded PostgreSQL");
        }
    }
}
