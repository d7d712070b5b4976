//! The Runboard binary: telemetry → config → database → workers → web → graceful shutdown.
//!
//! `server` serves pages, API and workers (per `RUNBOARD_MODE`); `server pg start|stop` only
//! manages the private PostgreSQL cluster (the test script uses it).

use std::time::Duration;

use anyhow::Context;
use leptos::prelude::*;
use server::config::{Config, Mode};
use server::datasets::DatasetStore;
use server::db::Database;
use server::jobs::backend::StoreBackend;
use server::jobs::handlers::{HandlerDeps, Registry};
use server::jobs::rescuer::Rescuer;
use server::jobs::worker::{Worker, WorkerConfig};
use server::jobs::JobStore;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = Config::from_env().context("reading the configuration")?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("pg") {
        return embedded_pg_command(&config, args.get(1).map(String::as_str)).await;
    }

    // Before anything starts: a server reachable beyond loopback needs a token.
    if config.mode != Mode::Worker {
        let leptos = get_configuration(None).context("reading the Leptos configuration")?;
        server::web::guard::check_bind(leptos.leptos_options.site_addr, config.token.is_some())
            .map_err(anyhow::Error::msg)?;
    }
    let db = Database::open(&config).await?;
    let store = JobStore::new(db.pool.clone(), config.runs_dir.clone());
    DatasetStore::new(db.pool.clone())
        .ensure_sample()
        .await
        .context("adding the built-in sample dataset")?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });

    let background = start_background(&config, &store, &shutdown).await;
    let served = match config.mode {
        Mode::Worker => {
            shutdown.cancelled().await;
            Ok(())
        }
        Mode::All | Mode::Web => serve_http(&config, store.clone(), shutdown.clone()).await,
    };
    // Whatever ended the server, stop the workers: they put running jobs back in the queue.
    shutdown.cancel();
    let background = server::jobs::join_background(background).await;
    // The workers' last run-log lines (a job's "succeeded") are still on their way to Postgres.
    if !store.flush_logs(Duration::from_secs(5)).await {
        tracing::warn!("the last run-log lines were not all shipped before shutdown");
    }
    db.close().await;
    served.and(background.map_err(anyhow::Error::from))
}

/// Starts the workers and the rescuer (unless this process is web-only).
async fn start_background(
    config: &Config,
    store: &JobStore,
    shutdown: &CancellationToken,
) -> Vec<server::jobs::BackgroundTask> {
    if config.mode == Mode::Web {
        return Vec::new();
    }
    let rescuer = Rescuer::new(store.clone(), config.lease_timeout);
    // Only a configured node id is known to be this process's own: with the default (the host
    // name) another live process may share it, so its runs wait for the lease to expire.
    if config.node_id_explicit {
        match rescuer.recover_node(&config.node_id).await {
            Ok(report) if report != Default::default() => tracing::warn!(
                requeued = ?report.requeued, failed = ?report.failed, cancelled = ?report.cancelled,
                "recovered jobs left RUNNING by this node's previous process"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "start-up recovery failed; the rescuer will retry")
            }
        }
    }
    let mut worker_config = WorkerConfig::new(config.workers, config.node_id.clone());
    worker_config.instance_id = config.instance_id.clone();
    worker_config.heartbeat_interval = Some(config.lease_timeout / 6);
    let mut deps = HandlerDeps::new(store, config.max_grid);
    deps.fanout = config.fanout;
    let worker = Worker::new(store.clone(), Registry::standard(), deps, worker_config);
    tracing::info!(workers = config.workers, instance = %config.instance_id, "workers started");
    vec![
        tokio::spawn(worker.run(shutdown.clone())),
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                rescuer.run(shutdown).await;
                Ok(())
            }
        }),
    ]
}

async fn serve_http(
    config: &Config,
    store: JobStore,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let leptos = get_configuration(None).context("reading the Leptos configuration")?;
    let options = leptos.leptos_options;
    let addr = options.site_addr;
    let backend = StoreBackend::new(store, config);
    let security = server::web::Security::from_config(config);
    let app = server::web::router_with(options, server::web::shared(backend), security);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        auth = if config.token.is_some() {
            "token"
        } else {
            "off (loopback only)"
        },
        "listening on http://{addr}"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
    .context("serving HTTP")
}

/// `server pg start|stop`: manages the private cluster alone. `start` prints the URL.
async fn embedded_pg_command(config: &Config, action: Option<&str>) -> anyhow::Result<()> {
    use server::db::embedded::EmbeddedPostgres;
    let root = &config.data_dir;
    match action {
        Some("start") => {
            let pg = EmbeddedPostgres::start(root, config.pg_port).await?;
            // Only the URL goes to stdout: scripts read it with `$(server pg start)`.
            println!("{}", pg.url());
            Ok(())
        }
        Some("stop") => {
            if !EmbeddedPostgres::stop_dir(root).await? {
                eprintln!(
                    "the private PostgreSQL in {} is not running",
                    root.display()
                );
            }
            Ok(())
        }
        _ => anyhow::bail!("usage: server pg start|stop"),
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received: stopping workers and the web server");
}
