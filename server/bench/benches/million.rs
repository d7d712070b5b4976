//! Real-size benchmark (issue 9): a generated 1,000,000-row one-minute CSV (~55 MB)
//!
//! 1. imported end to end — `runboard import` streaming it over HTTP to the real router, parsed
//!    as it arrives and stored by an import job — timed next to PostgreSQL's own `COPY` of the
//!    same file into a plain table, in the same run;
//! 2. loaded back from the dataset store (what every job does first);
//! 3. backtested as a job (SMA 10/50 through the worker), its job page fetched over HTTP: the
//!    page's size and render time, since a page must stay small at any data size;
//! 4. swept: the README's 19,701-run SMA grid on the million bars (runs/s, bar-steps/s).
//!
//! The parse alone (the same file through `parse_csv_reader`, no HTTP, no database) is timed
//! too, to tell the import's parsing from its storing.
//!
//! Prints wall times and the process's peak RSS (VmHWM) after each step. Needs `DATABASE_URL`
//! (`scripts/bench.sh` starts a private cluster); each run uses a fresh database. Not a test:
//! `cargo bench -p runboard-bench --bench million`.

use std::io::{BufWriter, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use app::model::research::OptimizeRequest;
use leptos::prelude::LeptosOptions;
use server::datasets::DatasetStore;
use server::engine::{run_optimize, NoProgress};
use server::jobs::backend::StoreBackend;
use server::jobs::JobStore;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{Connection, PgConnection, PgPool};

const ROWS: usize = 1_000_000;

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One-minute bars of a random walk, written straight to `path`.
fn write_csv(path: &std::path::Path) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "timestamp,open,high,low,close,volume")?;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut price = 100.0f64;
    for i in 0..ROWS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        let open = price;
        price = (price * (1.0 + 0.002 * u)).max(1.0);
        let (hi, lo) = (open.max(price) * 1.0003, open.min(price) * 0.9997);
        writeln!(
            out,
            "{},{open:.4},{hi:.4},{lo:.4},{price:.4},{}",
            1_600_000_000 + i as u64 * 60,
            100 + (state % 900)
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn main() -> anyhow::Result<()> {
    // criterion-style arguments (`--bench`, filters) are ignored.
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not set (run scripts/bench.sh)"))?;
    let path = std::env::temp_dir().join("runboard-million.csv");
    let t = Instant::now();
    let bytes = write_csv(&path)?;
    println!(
        "generated {ROWS} rows, {:.1} MB, in {:.2} s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(url, path, bytes))
}

async fn run(url: String, path: std::path::PathBuf, bytes: u64) -> anyhow::Result<()> {
    // A fresh database for this run.
    let name = format!("runboard_million_{}", std::process::id());
    let mut admin = PgConnection::connect(&url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let db_url = match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => anyhow::bail!("DATABASE_URL has no database name"),
    };
    let pool = PgPool::connect(&db_url).await?;
    server::db::MIGRATOR.run(&pool).await?;
    let outcome = measure(&pool, &path, bytes).await;
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    outcome
}

async fn measure(pool: &PgPool, path: &std::path::Path, bytes: u64) -> anyhow::Result<()> {
    // PostgreSQL's own COPY of the same file into a plain table.
    sqlx::query(
        "CREATE TABLE copy_bars (ts bigint, open float8, high float8, low float8, close float8, \
         volume float8)",
    )
    .execute(pool)
    .await?;
    let t = Instant::now();
    let mut copy = pool
        .copy_in_raw("COPY copy_bars FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await?;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        copy.send(&buf[..n]).await?;
    }
    let copied = copy.finish().await?;
    let copy_secs = t.elapsed().as_secs_f64();
    println!("COPY into a plain table: {copied} rows in {copy_secs:.2} s");

    // The parse alone.
    let t = Instant::now();
    let parsed = server::engine::data::parse_csv_reader(
        std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?),
        ROWS,
        &mut |_| true,
    )
    .map_err(|e| anyhow::anyhow!("{:?}", e.first()))?;
    println!(
        "parse alone (parse_csv_reader on the file): {} rows in {:.2} s",
        parsed.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let hash = server::datasets::content_hash(&parsed);
    println!(
        "content hash of the parsed bars: {:.3} s ({}…)",
        t.elapsed().as_secs_f64(),
        &hash[..12]
    );
    drop(parsed);

    // Runboard: the real router on a real port, the CLI streaming the file.
    let store = JobStore::new(
        pool.clone(),
        std::env::temp_dir().join("runboard-million-runs"),
    );
    let backend = StoreBackend::with_max_grid(store, 100_000);
    let leptos = LeptosOptions::builder().output_name("runboard").build();
    let store = backend.store.clone();
    let router = server::web::router(leptos, server::web::shared(backend));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, service).await });
    let file = path.to_string_lossy().to_string();
    let t = Instant::now();
    let code = tokio::task::spawn_blocking(move || {
        runboard_cli::main_with([
            "runboard".to_string(),
            "--server".into(),
            format!("http://{address}"),
            "import".into(),
            file,
            "--name".into(),
            "million".into(),
        ])
    })
    .await?;
    let import_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(code == 0, "runboard import exited {code}");
    println!(
        "runboard import (HTTP stream, parse, store): {ROWS} rows, {:.1} MB in {import_secs:.2} s \
         = {:.0} rows/s; {:.2}x COPY; peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        ROWS as f64 / import_secs,
        import_secs / copy_secs,
        peak_mb()
    );

    // Load it back, as a job does.
    let datasets = DatasetStore::new(pool.clone());
    let list = datasets.list().await?;
    let info = list
        .iter()
        .find(|d| d.name == "million")
        .ok_or_else(|| anyhow::anyhow!("the dataset is missing"))?;
    let t = Instant::now();
    let series = datasets.load(info.id).await?;
    println!(
        "load {} bars from the dataset store: {:.3} s; peak RSS {:.0} MB",
        series.len(),
        t.elapsed().as_secs_f64(),
        peak_mb()
    );

    // A backtest of the million bars as a job, then its page.
    let dataset = info.id;
    let job = store
        .enqueue(server::jobs::store::NewJob::new(
            app::model::JobKind::Backtest,
            serde_json::json!({"dataset_id": dataset.to_string(), "strategy": "sma_cross",
                               "params": {"n1": 10, "n2": 50}}),
        ))
        .await?;
    let deps = server::jobs::handlers::HandlerDeps::new(&store, 100_000);
    let worker = server::jobs::worker::Worker::new(
        store.clone(),
        server::jobs::handlers::Registry::standard(),
        deps,
        server::jobs::worker::WorkerConfig::new(1, "bench"),
    );
    let claimed = store
        .claim("bench:1:0", "bench")
        .await?
        .ok_or_else(|| anyhow::anyhow!("nothing to claim"))?;
    let t = Instant::now();
    worker
        .run_job(claimed, &tokio_util::sync::CancellationToken::new())
        .await;
    let backtest_secs = t.elapsed().as_secs_f64();
    let (_, result) = store.result(job.id).await?;
    let trades = result
        .as_ref()
        .and_then(|r| r["stats"]["trades"].as_u64())
        .unwrap_or(0);
    let t = Instant::now();
    let page = fetch(address, &format!("/jobs/{}", job.id)).await?;
    println!(
        "backtest job on 1M bars: {backtest_secs:.2} s, {trades} trades; its job page: {:.0} KB of \
         HTML rendered and sent in {:.3} s",
        page as f64 / 1e3,
        t.elapsed().as_secs_f64()
    );
    server.abort();

    // The 19,701-run SMA sweep on the million bars.
    // (Built from JSON, as a client sends it: every other field takes its default.)
    let mut req: OptimizeRequest = serde_json::from_value(serde_json::json!({
        "dataset_id": info.id.to_string(), "strategy": "sma_cross", "metric": "sharpe",
        "grid": {"n1": {"range": {"start": 2, "stop": 200, "step": 1}},
                 "n2": {"range": {"start": 2, "stop": 200, "step": 1}}}
    }))?;
    req.search.robustness.enabled = false;
    let t = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        run_optimize(&series, &req, None, &mut NoProgress).map(|r| (r, series.len()))
    })
    .await??;
    let secs = t.elapsed().as_secs_f64();
    let (result, bars) = result;
    println!(
        "sweep: {} runs on {bars} bars in {secs:.1} s = {:.0} runs/s, {:.2e} bar-steps/s on {} threads; \
         best {:?}; peak RSS {:.0} MB",
        result.total_runs,
        result.total_runs as f64 / secs,
        result.total_runs as f64 * bars as f64 / secs,
        rayon::current_num_threads(),
        result.best_params,
        peak_mb()
    );
    Ok(())
}

/// GETs `path` over a fresh connection and returns the body's size in bytes.
async fn fetch(address: SocketAddr, path: &str) -> anyhow::Result<usize> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let head = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no end of headers"))?;
    let status = String::from_utf8_lossy(&raw[..head.min(20)]).to_string();
    anyhow::ensure!(status.contains(" 200"), "GET {path}: {status}");
    Ok(raw.len() - head - 4)
}
