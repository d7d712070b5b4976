//! What the search benchmarks (`sweep`, `rules`) share: the README's grid and a best-of timer.

use std::collections::BTreeMap;
use std::time::Instant;

use app::model::research::{Account, Metric, OptimizeRequest, ParamRange, Search, StrategyKind};

/// Best of `n` timed runs, in seconds (after one warm-up run).
pub fn best_of(n: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

/// The README's search: `sma_cross` over n1, n2 in 2..=200 (n1 < n2 is the strategy's own
/// constraint: 19,701 runs), commission 0.2 %, ranked by `metric`.
pub fn readme_request(metric: Metric) -> OptimizeRequest {
    let range = ParamRange::range(2.0, 200.0, 1.0);
    OptimizeRequest {
        dataset_id: "bench".into(),
        search: Search::new(
            StrategyKind::SmaCross,
            BTreeMap::from([("n1".to_string(), range.clone()), ("n2".to_string(), range)]),
            metric,
        ),
        top_n: 10,
        account: Account {
            cash: 10_000.0,
            commission: 0.002,
            long_only: false,
        },
    }
}
