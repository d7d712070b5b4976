//! The poll path (issue 10), next to PostgreSQL's own point reads in the same run (prints
//! figures; not a test). Needs `DATABASE_URL` (scripts/bench.sh starts a private cluster) and
//! `pgbench` on the PATH.
//!
//! 1. `pgbench -S -M prepared` (select-only, 16 clients, 10 s): the database's point-read rate.
//! 2. The real router (guard, server functions, status snapshot) on a loopback port, with 1,000
//!    keep-alive connections polling one running job for 10 s each way:
//!    - `GET /api/jobs/<id>/status` (JSON with an ETag);
//!    - the same with `If-None-Match` (`304`, what a caching poller sends);
//!    - `POST /api/job_status` (the server function the job page polls);
//!    - the same without the status snapshot (every poll a query), for comparison.
//!
//!    Each prints requests/s, its ratio to pgbench's tps, and the p50/p99 latency, measured
//!    after a 2 s warm-up. With a closed loop of 1,000 connections the mean latency is
//!    1,000 / (requests/s) (Little's law): on 2 cores shared by the client, the server and
//!    PostgreSQL, 50,000 req/s means 20 ms on average.
//! 3. The page's poll at the goal's rate: the same 1,000 connections, paced (open loop) to
//!    offer 0.4 × pgbench's tps in total, each request's latency counted from when it was due
//!    (so a stall counts for every request it delays). Prints the rate served and p50/p99.
//!
//! Run: `bash scripts/bench.sh poll`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use app::model::{DemoRequest, JobKind};
use leptos::prelude::LeptosOptions;
use server::jobs::backend::StoreBackend;
use server::jobs::status_cache::{StatusCache, DEFAULT_STATUS_TTL};
use server::jobs::store::NewJob;
use server::jobs::JobStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DB: &str = "runboard_bench_poll";
const PGBENCH_DB: &str = "runboard_pgbench";
const CONNECTIONS: usize = 1_000;
const SECONDS: u64 = 10;
/// Load before the measured window.
const WARM_UP: Duration = Duration::from_secs(2);

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!("machine: {cores} cores; {CONNECTIONS} connections, {SECONDS} s per figure");
    let tps = common::pgbench(PGBENCH_DB, &["-S", "-M", "prepared"], SECONDS).await?;
    println!("pgbench -S -M prepared, 16 clients: {tps:.0} tps");

    let (_, pool) = common::migrated_database(DB, 32).await?;
    let store = JobStore::new(
        pool.clone(),
        std::env::temp_dir().join("runboard-bench-poll"),
    );
    let demo = serde_json::to_value(DemoRequest {
        steps: 10,
        step_ms: 0,
        fail_once_at: None,
        fail_terminally_at: None,
    })?;
    let id = store.enqueue(NewJob::new(JobKind::Demo, demo)).await?.id;
    // RUNNING, as a polled job is.
    store.claim("bench:0", "bench").await?;

    let addr = serve(&store, DEFAULT_STATUS_TTL).await?;
    let uncached = serve(&store, Duration::ZERO).await?;

    let get = format!("GET /api/jobs/{id}/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let etag = etag(addr, &get).await?;
    let cached = format!(
        "GET /api/jobs/{id}/status HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {etag}\r\n\r\n"
    );
    let post = post_request(id);
    for (what, to, request) in [
        ("GET  /api/jobs/<id>/status", addr, get),
        ("GET  … If-None-Match (304)", addr, cached),
        ("POST /api/job_status      ", addr, post.clone()),
        ("POST, no status snapshot  ", uncached, post),
    ] {
        print_figures(what, load(to, request).await, tps);
    }
    // 3. Paced at the goal's rate.
    let rate = 0.4 * tps;
    print_figures(
        &format!("POST /api/job_status paced, {rate:.0} req/s offered (0.4 × pgbench tps)"),
        paced(addr, post_request(id), rate).await,
        tps,
    );
    pool.close().await;
    common::drop_database(DB).await?;
    Ok(())
}

/// One line of figures: requests/s, its ratio to pgbench's tps, p50 and p99.
fn print_figures(what: &str, (rps, p50, p99, errors): (f64, f64, f64, usize), tps: f64) {
    println!(
        "{what}: {rps:>8.0} req/s = {:.2}× pgbench tps; p50 {:.1} ms, p99 {:.1} ms{}",
        rps / tps,
        p50 * 1e3,
        p99 * 1e3,
        if errors > 0 {
            format!("; {errors} failed requests")
        } else {
            String::new()
        }
    );
}

/// The page's poll of job `id`.
fn post_request(id: uuid::Uuid) -> String {
    let body = format!("{{\"id\":\"{id}\"}}");
    format!(
        "POST /api/job_status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Serves the real router over `store` on a loopback port, statuses kept for `ttl`.
async fn serve(store: &JobStore, ttl: Duration) -> anyhow::Result<SocketAddr> {
    let mut backend = StoreBackend::with_max_grid(store.clone(), 1_000);
    backend.status_cache = std::sync::Arc::new(StatusCache::new(ttl));
    let leptos = LeptosOptions::builder().output_name("runboard").build();
    let router = server::web::router_with(
        leptos,
        server::web::shared(backend),
        server::web::Security::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Ok(addr)
}

/// The status's current ETag.
async fn etag(addr: SocketAddr, request: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = Vec::new();
    let head = exchange(&mut stream, request.as_bytes(), &mut buf).await?;
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("etag:")
                .then(|| l[5..].trim().to_string())
        })
        .ok_or_else(|| anyhow::anyhow!("no etag in {head}"))
}

/// `CONNECTIONS` keep-alive connections sending `request` for [`WARM_UP`] then `SECONDS`
/// measured: requests/s, p50 and p99 latency (seconds) of the measured window, failed
/// requests. (The warm-up takes the connection storm and the first reads out of the figures.)
/// A closed loop: each connection sends its next request as soon as it has the answer.
async fn load(addr: SocketAddr, request: String) -> (f64, f64, f64, usize) {
    drive(addr, request, None).await
}

/// As [`load`], but open loop: the connections offer `rate` requests/s in total, each on its
/// own fixed schedule (staggered), and a request's latency counts from when it was due, so a
/// stall counts for every request it delays.
async fn paced(addr: SocketAddr, request: String, rate: f64) -> (f64, f64, f64, usize) {
    let period = Duration::from_secs_f64(CONNECTIONS as f64 / rate.max(1.0));
    drive(addr, request, Some(period)).await
}

/// The connections of [`load`] (`period` `None`) and [`paced`].
async fn drive(
    addr: SocketAddr,
    request: String,
    period: Option<Duration>,
) -> (f64, f64, f64, usize) {
    let request = std::sync::Arc::new(request);
    let begin = tokio::time::Instant::now();
    let start = begin + WARM_UP;
    let until = start + Duration::from_secs(SECONDS);
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    return (latencies, 1);
                };
                let _ = stream.set_nodelay(true);
                let mut buf = Vec::with_capacity(4096);
                let mut due = period.map(|p| begin + p.mul_f64(i as f64 / CONNECTIONS as f64));
                loop {
                    let sent = match due {
                        Some(d) if d < until => {
                            tokio::time::sleep_until(d).await;
                            d
                        }
                        None if tokio::time::Instant::now() < until => tokio::time::Instant::now(),
                        _ => break,
                    };
                    match exchange(&mut stream, request.as_bytes(), &mut buf).await {
                        Ok(head)
                            if head.starts_with("HTTP/1.1 200")
                                || head.starts_with("HTTP/1.1 304") =>
                        {
                            if sent >= start {
                                latencies.push(sent.elapsed().as_secs_f64());
                            }
                        }
                        _ => return (latencies, 1),
                    }
                    if let (Some(d), Some(p)) = (due.as_mut(), period) {
                        *d += p;
                    }
                }
                (latencies, 0)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let (rps, p50, p99) = figures(all);
    (rps, p50, p99, errors)
}

/// Requests/s over the measured window, and the p50 and p99 of `latencies`.
fn figures(mut latencies: Vec<f64>) -> (f64, f64, f64) {
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    (latencies.len() as f64 / SECONDS as f64, at(0.5), at(0.99))
}

/// Sends one request and reads its response (headers, then `Content-Length` bytes); returns
/// the head.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<String> {
    stream.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let lower = l.to_ascii_lowercase();
            lower
                .strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(head)
}
