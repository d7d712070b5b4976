//! Sweep benchmark: SMA crossover over all n1 < n2 in 2..=200 (19,701 runs) on the synthetic
//! 2,000-bar daily series. Prints backtests per second and peak memory (VmHWM), then lets
//! criterion time the whole optimization job.
//!
//! Run: `cargo bench -p server --bench sweep` (`-- nomatch` prints the figures and skips
//! criterion's own timing).

use std::collections::BTreeMap;
use std::time::Instant;

use app::model::research::{Metric, OptimizeRequest, ParamRange, StrategyKind};
use criterion::{criterion_group, criterion_main, Criterion};
use server::engine::{run_optimize, sample_series, NoProgress};

fn request(metric: Metric) -> OptimizeRequest {
    let range = ParamRange::Range {
        start: 2.0,
        stop: 200.0,
        step: 1.0,
    };
    OptimizeRequest {
        dataset_id: "bench".into(),
        strategy: StrategyKind::SmaCross,
        grid: BTreeMap::from([("n1".to_string(), range.clone()), ("n2".to_string(), range)]),
        constraint: None, // n1 < n2 is the strategy's own constraint
        metric,
        top_n: 10,
        cash: 10_000.0,
        commission: 0.002,
        long_only: false,
        robustness: Default::default(),
    }
}

/// Peak resident set size in MB, from /proc/self/status (Linux).
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn sweep(c: &mut Criterion) {
    let series = sample_series(2000, 42);
    for metric in [Metric::Sharpe, Metric::ReturnPct, Metric::Sqn] {
        let req = request(metric);
        // Warm up once, then take the best of 5 timed runs.
        let res = run_optimize(&series, &req, None, &mut NoProgress).expect("optimize");
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let r = run_optimize(&series, &req, None, &mut NoProgress).expect("optimize");
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(r.total_runs, res.total_runs);
        }
        println!(
            "sweep {:?}: {} runs on {} bars in {:.3} s (best of 5) = {:.0} backtests/s on {} threads; best {:?} = {:?}",
            metric,
            res.total_runs,
            series.len(),
            best,
            res.total_runs as f64 / best,
            rayon::current_num_threads(),
            res.best_params,
            res.top[0].metric,
        );
    }
    println!(
        "peak memory (VmHWM): {:.1} MB",
        peak_mb().unwrap_or(f64::NAN)
    );

    let req = request(Metric::Sharpe);
    let mut group = c.benchmark_group("optimize");
    group.sample_size(10);
    group.bench_function("sma_cross_19701_runs_2000_bars", |b| {
        b.iter(|| run_optimize(&series, &req, None, &mut NoProgress).expect("optimize"))
    });
    group.finish();
    println!(
        "peak memory after criterion (VmHWM): {:.1} MB",
        peak_mb().unwrap_or(f64::NAN)
    );
}

criterion_group!(benches, sweep);
criterion_main!(benches);
