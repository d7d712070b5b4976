//! Rule-language benchmark (issue 13): the README's SMA-crossover grid (n1, n2 in 2..=200,
//! n1 < n2: 19,701 runs) on the synthetic 2,000-bar series, as an optimization job of the
//! built-in `sma_cross` and of the same strategy written in the rule language, in the same
//! process. Prints the best-of-5 job times and their ratio (goal ≤ 1.5×) and checks that the
//! two jobs give identical results (every run's metric, bit for bit, and the whole result);
//! then lets criterion time both jobs.
//!
//! Run: `cargo bench -p runboard-bench --bench rules` (`-- nomatch` prints the figures and skips
//! criterion's own timing).

use app::model::research::{Limits, Metric, OptimizeRequest, RuleRef};
use criterion::{criterion_group, criterion_main, Criterion};
use search::{best_of, readme_request};
use server::engine::optimize::run_optimize_resumable;
use server::engine::rules::examples::SMA_CROSS;
use server::engine::rules::{check, run_rule_optimize};
use server::engine::{sample_series, NoProgress};

mod search;

/// The README's search of the built-in, without the robustness step.
fn builtin_request(metric: Metric) -> OptimizeRequest {
    let mut req = readme_request(metric);
    req.search.robustness.enabled = false;
    req
}

/// The same search of the rule-language SMA cross (its parameters share the built-in's names).
fn rule_request(req: &OptimizeRequest) -> OptimizeRequest {
    let mut rule = req.clone();
    rule.search.rules = Some(RuleRef::inline(SMA_CROSS));
    rule
}

fn rules(c: &mut Criterion) {
    let series = sample_series(2000, 42);
    let limits = Limits::default();
    let builtin = |req: &OptimizeRequest| {
        run_optimize_resumable(&series, req, None, &mut NoProgress, &limits)
            .expect("optimize")
            .result
    };
    // The rule job includes checking the source, as a job would.
    let rule = |req: &OptimizeRequest| {
        let program = check(SMA_CROSS).expect("the program checks");
        run_rule_optimize(&series, &program, req, None, &mut NoProgress, &limits)
            .expect("optimize")
            .result
    };
    for metric in [Metric::Sharpe, Metric::ReturnPct, Metric::Sqn] {
        let req = builtin_request(metric);
        let rreq = rule_request(&req);
        let a = builtin(&req);
        let b = rule(&rreq);
        let (ga, gb) = (a.full_grid.as_ref().unwrap(), b.full_grid.as_ref().unwrap());
        assert_eq!(ga.values.len(), gb.values.len());
        let same = ga
            .values
            .iter()
            .zip(&gb.values)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(
            same,
            "{metric:?}: the rule program's metrics differ from the built-in's"
        );
        assert_eq!(a, b, "{metric:?}: the results differ");
        let t_builtin = best_of(5, || {
            builtin(&req);
        });
        let t_rule = best_of(5, || {
            rule(&rreq);
        });
        println!(
            "{metric:?}: {} runs on {} bars: built-in {:.1} ms, rule language {:.1} ms (best of 5) = {:.2}× (goal ≤ 1.5×); identical metrics on all runs, best {:?} = {:?}",
            a.total_runs,
            series.len(),
            t_builtin * 1e3,
            t_rule * 1e3,
            t_rule / t_builtin,
            a.best_params,
            a.top[0].metric,
        );
    }

    let req = builtin_request(Metric::Sharpe);
    let rreq = rule_request(&req);
    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    group.bench_function("builtin_sma_cross_19701_runs_2000_bars", |b| {
        b.iter(|| builtin(&req))
    });
    group.bench_function("rule_sma_cross_19701_runs_2000_bars", |b| {
        b.iter(|| rule(&rreq))
    });
    group.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
