//! Job-system benchmark (prints figures; not a test). Needs `DATABASE_URL` (scripts/bench.sh
//! starts a private cluster). It creates and drops its own database `runboard_bench`.
//!
//! 1. Throughput: jobs/s claimed + completed for trivial jobs, (a) by the store alone with two
//!    concurrent clients, (b) the same with claims and completions batched by 32 (next to
//!    pgbench's simple-update tps), (c) end to end by a worker pool (LISTEN/NOTIFY, logs,
//!    reporter).
//! 2. Progress overhead on a CPU-bound job: the 19,701-run SMA sweep with no sink vs the real
//!    Reporter writing throttled progress and checkpoints to Postgres.
//!
//! Run: `cargo bench -p runboard-bench --bench queue`.

mod common;
#[allow(dead_code)] // the README's request, not the timer
mod search;

use std::time::{Duration, Instant};

use app::model::research::{Metric, OptimizeRequest};
use app::model::{DemoRequest, JobKind, JobState};
use server::engine::{self, sample_series, NoProgress};
use server::jobs::handlers::{HandlerDeps, Registry};
use server::jobs::joblog::JobLog;
use server::jobs::progress::{Reporter, ReporterConfig, RunFlags, DEFAULT_MIN_INTERVAL};
use server::jobs::pulse::Pulse;
use server::jobs::store::NewJob;
use server::jobs::worker::{Worker, WorkerConfig};
use server::jobs::JobStore;
use tokio_util::sync::CancellationToken;

const DB: &str = "runboard_bench";

fn main() -> anyhow::Result<()> {
    common::block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let (_, pool) = common::migrated_database(DB, 20).await?;
    let runs = std::env::temp_dir().join("runboard-bench-runs");
    let store = JobStore::new(pool.clone(), &runs);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    println!("machine: {cores} cores");

    // 1a. Store alone: two clients claim + complete.
    let n = 2_000;
    enqueue_trivial(&store, n).await?;
    let t = Instant::now();
    let mut clients = Vec::new();
    for c in 0..2 {
        let store = store.clone();
        clients.push(tokio::spawn(async move {
            let mut done = 0u32;
            while let Some(job) = store
                .claim(&format!("bench-{c}:0:0"), "bench")
                .await
                .unwrap()
            {
                store
                    .complete(job.id, job.lease, &serde_json::json!({}))
                    .await
                    .unwrap();
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for c in clients {
        total += c.await?;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "store claim+complete, 2 clients: {total} jobs in {secs:.2} s = {:.0} jobs/s",
        total as f64 / secs
    );

    // 1b. Store alone, batched: two clients each claim up to 32 jobs in one statement and
    //     complete them in one statement.
    let batched = 20_000;
    enqueue_trivial(&store, batched).await?;
    let t = Instant::now();
    let mut clients = Vec::new();
    for c in 0..2 {
        let store = store.clone();
        clients.push(tokio::spawn(async move {
            let mut done = 0usize;
            let workers: Vec<String> = (0..32).map(|n| format!("bench-{c}:{n}")).collect();
            loop {
                let jobs = store.claim_batch(&workers, "bench").await.unwrap();
                if jobs.is_empty() {
                    break;
                }
                let runs: Vec<_> = jobs
                    .iter()
                    .map(|(_, j)| (j.id, j.lease, serde_json::json!({}), None))
                    .collect();
                done += store
                    .complete_batch(&runs)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|ok| *ok)
                    .count();
            }
            done
        }));
    }
    let mut total = 0;
    for c in clients {
        total += c.await?;
    }
    let secs = t.elapsed().as_secs_f64();
    let update_tps =
        common::pgbench("runboard_pgbench_queue", &["-N", "-M", "prepared"], 10).await?;
    println!(
        "store claim+complete batched by 32, 2 clients: {total} of {batched} jobs in {secs:.2} s = {:.0} \
         jobs/s; pgbench -N -M prepared (simple update, 16 clients) in the same run: \
         {update_tps:.0} tps",
        total as f64 / secs
    );

    // 1c. Worker pool end to end (claim, log, reporter, handler, pulse, complete), with as many
    //     workers as the default pool (2 per core) and with 64 (trivial jobs wait on the
    //     database, not on a core).
    for size in [cores * 2, 64, 256] {
        let n = 20_000;
        // Each pool starts from an empty, vacuumed table: no run pays for the last one's rows.
        for statement in ["TRUNCATE jobs CASCADE", "VACUUM ANALYZE jobs"] {
            sqlx::raw_sql(statement).execute(&pool).await?;
        }
        enqueue_trivial(&store, n).await?;
        let deps = HandlerDeps::new(&store, 100_000);
        let worker = Worker::new(
            store.clone(),
            Registry::standard(),
            deps,
            WorkerConfig::new(size, "bench"),
        );
        let shutdown = CancellationToken::new();
        let t = Instant::now();
        let handle = tokio::spawn(worker.run(shutdown.clone()));
        // Through the partial index of live jobs, so the bench's own polling stays cheap
        // next to the pool's statements.
        loop {
            let (left,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')")
                    .fetch_one(&pool)
                    .await?;
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        shutdown.cancel();
        handle.await??;
        println!(
            "worker pool ({size} workers) end to end: {n} jobs in {secs:.2} s = {:.0} jobs/s \
             (pgbench -N in the same run: {update_tps:.0} tps)",
            n as f64 / secs
        );
    }

    // 2. Progress overhead on a CPU-bound job.
    let series = sample_series(2_000, 42);
    let req = OptimizeRequest {
        dataset_id: "00000000-0000-4000-8000-000000000000".into(),
        ..search::readme_request(Metric::Sharpe)
    };
    // Paired rounds, alternating which of the two goes first: the overhead is the median of
    // the rounds' ratios, with a 95 % confidence interval from the order statistics (binomial,
    // no assumption on the noise's shape).
    let rounds = 41;
    let mut ratios = Vec::new();
    let (mut plain, mut tracked) = (Vec::new(), Vec::new());
    // Both arms run on a blocking thread, timed the same way.
    let run_plain = || async {
        let (series, req) = (series.clone(), req.clone());
        let t = Instant::now();
        tokio::task::spawn_blocking(move || {
            engine::run_optimize(&series, &req, None, &mut NoProgress)
        })
        .await??;
        anyhow::Ok(t.elapsed().as_secs_f64())
    };
    for round in 0..rounds {
        let first = if round % 2 == 0 {
            Some(run_plain().await?)
        } else {
            None
        };

        let job = store
            .enqueue(NewJob::new(JobKind::Optimize, serde_json::json!({})))
            .await?;
        let claimed = store.claim("bench-progress:0:0", "bench").await?.unwrap();
        let flags = std::sync::Arc::new(RunFlags::default());
        let config = ReporterConfig::default();
        let (pulse, pulse_tasks) = Pulse::start(
            store.clone(),
            DEFAULT_MIN_INTERVAL,
            CancellationToken::new(),
        );
        let (reporter, rx) = Reporter::new(config, flags.clone());
        let mut reporter = reporter.waking(pulse.wake());
        let log = std::sync::Arc::new(std::sync::Mutex::new(JobLog::open(store.log_file(job.id))));
        pulse.enter(
            job.id,
            claimed.lease,
            flags,
            log,
            rx,
            config.heartbeat_interval,
        );
        let (series2, req2) = (series.clone(), req.clone());
        let t = Instant::now();
        tokio::task::spawn_blocking(move || {
            engine::run_optimize(&series2, &req2, None, &mut reporter)
        })
        .await??;
        let elapsed = t.elapsed().as_secs_f64();
        pulse.finish(job.id, true).await;
        pulse.leave(job.id);
        pulse_tasks.stop().await;
        let p = match first {
            Some(p) => p,
            None => run_plain().await?,
        };
        plain.push(p);
        tracked.push(elapsed);
        ratios.push(elapsed / p);
        store
            .complete(job.id, claimed.lease, &serde_json::json!({}))
            .await?;
        let status = store.status(job.id).await?;
        assert_eq!(status.state, JobState::Succeeded);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (p, r) = (median(&mut plain), median(&mut tracked));
    let overhead = (median(&mut ratios) - 1.0) * 100.0;
    // Ranks of the median's 95 % interval: n/2 ∓ 1.96·√n/2.
    let half = 1.96 * (rounds as f64).sqrt() / 2.0;
    let lo = ((rounds as f64 / 2.0 - half).floor() as usize).max(1) - 1;
    let hi = ((rounds as f64 / 2.0 + half).ceil() as usize).min(rounds) - 1;
    println!(
        "19,701-run SMA sweep, median of {rounds} paired rounds: no progress {:.3} s ({:.0} \
         backtests/s); with the Postgres reporter {:.3} s; overhead {overhead:+.2} % (95 % \
         interval {:+.2} % .. {:+.2} %)",
        p,
        19_701.0 / p,
        r,
        (ratios[lo] - 1.0) * 100.0,
        (ratios[hi] - 1.0) * 100.0,
    );

    pool.close().await;
    common::drop_database(DB).await?;
    std::fs::remove_dir_all(runs).ok();
    Ok(())
}

async fn enqueue_trivial(store: &JobStore, n: usize) -> anyhow::Result<()> {
    let args = serde_json::to_value(DemoRequest {
        steps: 1,
        step_ms: 0,
        fail_once_at: None,
        fail_terminally_at: None,
    })?;
    for _ in 0..n {
        store
            .enqueue(NewJob::new(JobKind::Demo, args.clone()))
            .await?;
    }
    Ok(())
}
