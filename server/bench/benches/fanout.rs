//! Fan-out (issue 10): one optimization over 1, 2 and 4 worker processes (prints figures; not a
//! test). Needs `DATABASE_URL` (scripts/bench.sh starts a private cluster).
//!
//! The job: the SMA cross over every n1 < n2 in 2..=250 (30,876 runs) on 65,000 synthetic
//! hourly bars (2.01 × 10⁹ bar-steps: just above the default fan-out threshold, so the smallest
//! job that fans out by default, where the split's fixed cost weighs most), robustness off. Each configuration starts its `server`
//! processes (`RUNBOARD_MODE=worker`, one job slot each, the release binary), waits until they
//! listen, then times the job from enqueue to SUCCEEDED; rounds interleave the configurations
//! and each row is the median of its rounds, its overhead the median of each round's time over
//! that round's baseline:
//! 1. one process, fan-out off: the baseline;
//! 2. one process, fan-out on with the default chunk size (`RUNBOARD_CHUNK_WORK`, 10⁹
//!    bar-steps: 3 chunks here), and with chunks of ~2,800 runs (11 chunks): the fan-out's own
//!    cost, per job and per chunk;
//! 3. two and four processes, fan-out on, 11 chunks.
//!
//! On this 2-core machine more processes cannot add cores: the figures show what splitting
//! costs. On N machines the chunks run N at a time (README, "Scale out on paper").
//!
//! Run: `bash scripts/bench.sh fanout`.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::model::{JobKind, JobState};
use server::datasets::DatasetStore;
use server::engine::sample_series;
use server::jobs::chunks::FanOut;
use server::jobs::store::NewJob;
use server::jobs::JobStore;
use sqlx::PgPool;

const DB: &str = "runboard_bench_fanout";
const BARS: usize = 65_000;
const RUNS: u64 = 30_876;
/// Runs × bars per chunk: about 3,000 runs, 11 chunks.
const CHUNK_WORK: u64 = 200_000_000;
/// Rounds of every configuration.
const ROUNDS: usize = 9;

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

/// A worker process on `node`; killed when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server binary the workers run: `RUNBOARD_SERVER_BIN`, the release build scripts/bench.sh
/// makes first (a bench cannot name another package's binary).
fn server_bin() -> anyhow::Result<String> {
    std::env::var("RUNBOARD_SERVER_BIN").map_err(|_| {
        anyhow::anyhow!("RUNBOARD_SERVER_BIN is not set (run `bash scripts/bench.sh fanout`)")
    })
}

/// `chunk_work` `None`: fan-out off.
fn spawn(url: &str, node: &str, chunk_work: Option<u64>) -> anyhow::Result<Worker> {
    let runs = std::env::temp_dir().join("runboard-bench-fanout-runs");
    Ok(Worker(
        Command::new(server_bin()?)
            .env("DATABASE_URL", url)
            .env("RUNBOARD_MODE", "worker")
            .env("RUNBOARD_WORKERS", "1")
            .env("RUNBOARD_NODE_ID", node)
            .env("RUNBOARD_RUNS_DIR", runs)
            // Fan-out on: the default threshold, which the job reaches.
            .env(
                "RUNBOARD_FANOUT_WORK",
                match chunk_work {
                    Some(_) => server::jobs::chunks::DEFAULT_FANOUT_WORK.to_string(),
                    None => "0".to_string(),
                },
            )
            .env(
                "RUNBOARD_CHUNK_WORK",
                chunk_work.unwrap_or(CHUNK_WORK).to_string(),
            )
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    ))
}

async fn listening(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND query = 'LISTEN \"runboard_jobs\"'",
    )
    .fetch_one(pool)
    .await?)
}

async fn run() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    assert!(RUNS * BARS as u64 >= server::jobs::chunks::DEFAULT_FANOUT_WORK);
    let (url, pool) = common::migrated_database(DB, 8).await?;
    // Hourly bars from 2015-01-02: 65,000 daily ones would run past the year 2200.
    let mut series = sample_series(BARS, 7);
    for (i, t) in series.ts.iter_mut().enumerate() {
        *t = 1_420_156_800 + i as i64 * 3_600;
    }
    let dataset = DatasetStore::new(pool.clone())
        .insert("fan-out bench", None, &series)
        .await?;
    let store = JobStore::new(
        pool.clone(),
        std::env::temp_dir().join("runboard-bench-fanout"),
    );
    let request = serde_json::json!({
        "dataset_id": dataset.id.to_string(), "strategy": "sma_cross", "metric": "sharpe",
        "commission": 0.001, "robustness": {"enabled": false},
        "grid": {"n1": {"range": {"start": 2, "stop": 250, "step": 1}},
                 "n2": {"range": {"start": 2, "stop": 250, "step": 1}}}});
    println!(
        "machine: {cores} cores; {RUNS} runs × {BARS} bars = {:.2e} bar-steps, robustness off",
        RUNS as f64 * BARS as f64
    );
    let mut reference = None;
    let default = Some(server::jobs::chunks::DEFAULT_CHUNK_WORK);
    let fine = Some(CHUNK_WORK);
    let configs = [(1, None), (1, default), (1, fine), (2, fine), (4, fine)];
    // Rounds interleave the configurations, so a slow moment of the machine touches all alike;
    // each row is the median of its rounds.
    let mut times = vec![Vec::new(); configs.len()];
    // Each configuration's time over the same round's baseline.
    let mut ratios = vec![Vec::new(); configs.len()];
    for round in 1..=ROUNDS {
        for (c, &(processes, chunk_work)) in configs.iter().enumerate() {
            let (secs, result, chunks) =
                run_once(&pool, &store, &url, &request, processes, chunk_work).await?;
            let same = match &reference {
                None => {
                    reference = Some(result);
                    "the reference"
                }
                Some(r) if *r == result => "identical to the baseline",
                Some(_) => "DIFFERENT from the baseline",
            };
            println!(
                "round {round}: {processes} × fan-out {}: {secs:.3} s, chunks by node {chunks:?}, \
                 result {same}",
                if chunk_work.is_some() { "on " } else { "off" },
            );
            anyhow::ensure!(same != "DIFFERENT from the baseline", "results differ");
            times[c].push(secs);
            ratios[c].push(secs / times[0][round - 1]);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median of {ROUNDS} rounds (overhead: the median of each round's time over its baseline):"
    );
    for ((&(processes, chunk_work), t), r) in configs.iter().zip(&mut times).zip(&mut ratios) {
        let secs = median(t);
        println!(
            "  {processes} process{} fan-out {}: {secs:.2} s = {:.0} runs/s ({:+.1} % vs fan-out off)",
            if processes == 1 { ", " } else { "es," },
            match chunk_work {
                None => "off".to_string(),
                Some(w) => format!(
                    "on, {} chunks",
                    server::jobs::chunks::plan(RUNS, BARS as u64, &FanOut { min_work: 1, chunk_work: w })
                        .map_or(1, |c| c.len())
                ),
            },
            RUNS as f64 / secs,
            (median(r) - 1.0) * 100.0,
        );
    }
    pool.close().await;
    common::drop_database(DB).await?;
    Ok(())
}

/// One job on `processes` fresh worker processes: its time from enqueue to SUCCEEDED, its
/// result without provenance, and how many chunks each node ran.
async fn run_once(
    pool: &PgPool,
    store: &JobStore,
    url: &str,
    request: &serde_json::Value,
    processes: usize,
    chunk_work: Option<u64>,
) -> anyhow::Result<(f64, serde_json::Value, BTreeMap<String, usize>)> {
    let workers: Vec<Worker> = (0..processes)
        .map(|i| spawn(url, &format!("bench-{i}"), chunk_work))
        .collect::<anyhow::Result<_>>()?;
    let t = Instant::now();
    while listening(pool).await? < processes as i64 {
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(60),
            "workers did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = Instant::now();
    let id = store
        .enqueue(NewJob::new(JobKind::Optimize, request.clone()))
        .await?
        .id;
    let status = loop {
        let s = store.status(id).await?;
        if s.state.is_terminal() {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = t.elapsed().as_secs_f64();
    drop(workers);
    anyhow::ensure!(
        status.state == JobState::Succeeded,
        "job failed: {status:?}"
    );
    let (_, result) = store.result(id).await?;
    let mut result = result.unwrap_or_default();
    if let Some(fields) = result.as_object_mut() {
        fields.remove("provenance");
    }
    let mut by_node = BTreeMap::<String, usize>::new();
    for c in store.list_chunks(id).await? {
        *by_node.entry(c.node_id.unwrap_or_default()).or_default() += 1;
    }
    Ok((secs, result, by_node))
}
