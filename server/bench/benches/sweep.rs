//! Sweep benchmark: SMA crossover over all n1 < n2 in 2..=200 (19,701 runs) on the synthetic
//! 2,000-bar daily series. Prints backtests per second (the sweep alone, robustness off), what
//! the robustness step adds to the whole job (best of 5 with and without it), and peak memory
//! (VmHWM); then lets criterion time the whole optimization job both ways.
//!
//! Run: `cargo bench -p runboard-bench --bench sweep` (`-- nomatch` prints the figures and skips
//! criterion's own timing).

use app::model::research::{Metric, OptimizeRequest};
use criterion::{criterion_group, criterion_main, Criterion};
use search::{best_of, readme_request};
use server::engine::{run_optimize, sample_series, NoProgress};

mod search;

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
        let mut req = readme_request(metric);
        req.search.robustness.enabled = false;
        // Warm up once, then take the best of 5 timed runs.
        let res = run_optimize(&series, &req, None, &mut NoProgress).expect("optimize");
        let best = best_of(5, || {
            let r = run_optimize(&series, &req, None, &mut NoProgress).expect("optimize");
            assert_eq!(r.total_runs, res.total_runs);
        });
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
    let with = readme_request(Metric::Sharpe);
    let mut without = with.clone();
    without.search.robustness.enabled = false;
    let run = |req: &OptimizeRequest| {
        run_optimize(&series, req, None, &mut NoProgress).expect("optimize");
    };
    let t_without = best_of(5, || run(&without));
    let t_with = best_of(5, || run(&with));
    let r = run_optimize(&series, &with, None, &mut NoProgress).expect("optimize");
    let rob = r.robustness.expect("robustness");
    println!(
        "robustness step: whole job {:.1} ms without, {:.1} ms with (best of 5) = +{:.1} %; \
         {} of {} trials, S = {}, {} draws; DSR {:.3}, PBO {:.3}, bootstrap p {:.3}",
        t_without * 1e3,
        t_with * 1e3,
        (t_with / t_without - 1.0) * 100.0,
        rob.trials_used,
        rob.trials_total,
        with.search.robustness.blocks,
        with.search.robustness.draws,
        rob.deflated_sharpe.map_or(f64::NAN, |d| d.probability),
        rob.pbo.map_or(f64::NAN, |p| p.pbo),
        rob.bootstrap.map_or(f64::NAN, |b| b.p_value),
    );
    println!(
        "peak memory (VmHWM): {:.1} MB",
        peak_mb().unwrap_or(f64::NAN)
    );

    let mut group = c.benchmark_group("optimize");
    group.sample_size(10);
    group.bench_function("sma_cross_19701_runs_2000_bars", |b| {
        b.iter(|| run_optimize(&series, &without, None, &mut NoProgress).expect("optimize"))
    });
    group.bench_function("sma_cross_19701_runs_2000_bars_with_robustness", |b| {
        b.iter(|| run_optimize(&series, &with, None, &mut NoProgress).expect("optimize"))
    });
    group.finish();
    println!(
        "peak memory after criterion (VmHWM): {:.1} MB",
        peak_mb().unwrap_or(f64::NAN)
    );
}

criterion_group!(benches, sweep);
criterion_main!(benches);
