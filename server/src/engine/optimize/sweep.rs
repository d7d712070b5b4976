//! The sweep: an expanded grid bound to a series, with the indicator cache (or column cache,
//! for a rule-language program) every run shares, and the parallel evaluation of any range of
//! its runs (see the parent module's docs for the cache budget and batching).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use app::model::research::{
    Account, BacktestReport, Constraint, GridSpec, Metric, Stats, StrategyKind,
};

use super::CACHE_BUDGET_BYTES;
use crate::engine::backtest::{full_report, simulate_run, RunSpec, Scratch, SimOutcome};
use crate::engine::data::Series;
use crate::engine::metrics::{metric_value, TimeInfo};
use crate::engine::progress::Flow;
use crate::engine::rules::{for_each_combination, ColumnCache, Program, RuleGrid};
use crate::engine::strategy::{indicator_keys, IndicatorCache, IndicatorKey};
use crate::engine::EngineError;

/// An expanded grid bound to a series: the admissible runs and the shared indicator cache.
///
/// The strategy is a built-in ([`Sweep::new`]) or a rule-language program
/// ([`Sweep::for_rules`]); everything downstream (evaluation, full statistics, heatmap, full
/// grid, robustness, walk-forward) works the same for both.
pub struct Sweep<'a> {
    pub(super) series: &'a Series,
    /// Values per parameter, declaration order.
    pub(super) axes: &'a [Vec<f64>],
    /// Parameter names, declaration order.
    pub(super) names: Vec<String>,
    /// Combinations before constraints.
    pub(super) product: u64,
    /// Combination number (before constraints) of each admissible run, in run order.
    pub(super) runs: Vec<u64>,
    pub(super) source: Source<'a>,
    pub(super) account: Account,
}

/// What a sweep runs.
pub(super) enum Source<'a> {
    Builtin {
        kind: StrategyKind,
        /// Every series the runs need, or empty when they do not fit the budget.
        cache: IndicatorCache,
        /// `Some(n)`: the series do not fit; evaluate in batches needing at most `n` series.
        batch_keys: Option<usize>,
    },
    Rules {
        program: &'a Program,
        cache: ColumnCache,
    },
}

impl<'a> Sweep<'a> {
    /// Enumerates the admissible runs and computes every indicator they need once (or, when
    /// they do not fit [`CACHE_BUDGET_BYTES`], prepares to compute them batch by batch).
    pub fn new(
        series: &'a Series,
        grid: &'a GridSpec,
        user_constraint: Option<&Constraint>,
        account: Account,
    ) -> Self {
        Sweep::with_cache_budget(series, grid, user_constraint, account, CACHE_BUDGET_BYTES)
    }

    /// [`Sweep::new`] with another cache budget (tests use a tiny one).
    pub fn with_cache_budget(
        series: &'a Series,
        grid: &'a GridSpec,
        user_constraint: Option<&Constraint>,
        account: Account,
        budget_bytes: usize,
    ) -> Self {
        let constraints = grid.constraints(user_constraint);
        let mut runs = Vec::with_capacity(grid.runs as usize);
        let mut keys = HashSet::new();
        let mut raw = 0u64;
        grid.for_each_combination(|values| {
            if constraints.iter().all(|c| c.holds(grid.strategy, values)) {
                runs.push(raw);
                keys.extend(indicator_keys(grid.strategy, values));
            }
            raw += 1;
        });
        let keys: Vec<_> = keys.into_iter().collect();
        let per_series = series
            .len()
            .max(1)
            .saturating_mul(std::mem::size_of::<f64>());
        let fits = (budget_bytes / per_series).max(4);
        let (cache, batch_keys) = if keys.len() <= fits {
            (cache_of(series, &keys), None)
        } else {
            (IndicatorCache::default(), Some(fits))
        };
        Sweep {
            series,
            axes: &grid.axes,
            names: grid
                .strategy
                .params()
                .iter()
                .map(|p| p.name.to_string())
                .collect(),
            product: grid.product,
            runs,
            source: Source::Builtin {
                kind: grid.strategy,
                cache,
                batch_keys,
            },
            account,
        }
    }

    /// The sweep of a rule-language `program` over `grid` (from [`Program::grid`]): the
    /// admissible runs, and every column they need computed once into a shared cache.
    pub fn for_rules(
        series: &'a Series,
        program: &'a Program,
        grid: &'a RuleGrid,
        account: Account,
    ) -> Self {
        let mut runs = Vec::with_capacity(grid.runs as usize);
        let mut raw = 0u64;
        for_each_combination(&grid.axes, |values| {
            if program.in_grid(grid, values) {
                runs.push(raw);
            }
            raw += 1;
        });
        let mut cache = ColumnCache::default();
        cache.fill_grid(&program.plan, series, &grid.axes, &runs);
        Sweep {
            series,
            axes: &grid.axes,
            names: program.params.iter().map(|p| p.name.clone()).collect(),
            product: grid.product,
            runs,
            source: Source::Rules { program, cache },
            account,
        }
    }

    /// Number of admissible runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether there are no runs.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Parameter values of run `k` (declaration order).
    pub fn values(&self, k: usize, out: &mut Vec<f64>) {
        decode(self.axes, self.runs[k], out);
    }

    /// Parameter map of run `k`.
    pub fn params(&self, k: usize) -> BTreeMap<String, f64> {
        let mut v = Vec::new();
        self.values(k, &mut v);
        self.names.iter().cloned().zip(v).collect()
    }

    fn spec(&self, a: usize, b: usize) -> RunSpec<'a> {
        RunSpec {
            series: self.series,
            a,
            b,
            account: self.account,
        }
    }

    /// Derives the actions of the run with parameter `values` and simulates it into `scratch`.
    #[inline]
    fn run(&self, values: &[f64], spec: &RunSpec<'_>, scratch: &mut Scratch) -> SimOutcome {
        match &self.source {
            Source::Builtin {
                kind,
                batch_keys: Some(_),
                ..
            } => {
                // Outside a batch (full statistics, robustness): this run's series only.
                let own = IndicatorCache::for_params(self.series, *kind, values);
                let prepared = own.prepare(self.series, *kind, values);
                simulate_run(spec, &prepared, scratch)
            }
            Source::Builtin { kind, cache, .. } => {
                let prepared = cache.prepare(self.series, *kind, values);
                simulate_run(spec, &prepared, scratch)
            }
            Source::Rules { program, cache } => program.simulate(cache, values, spec, scratch),
        }
    }

    /// Metric of runs `range` over bars `[a, b)`, in parallel; NaN where undefined.
    ///
    /// `on_run` is called as each run finishes, on the thread that ran it. Once it returns
    /// [`Flow::Stop`], runs not yet started are skipped and the call ends with
    /// [`EngineError::Stopped`].
    pub fn evaluate(
        &self,
        range: std::ops::Range<usize>,
        a: usize,
        b: usize,
        time: &TimeInfo,
        metric: Metric,
        on_run: &(dyn Fn() -> Flow + Sync),
    ) -> Result<Vec<f64>, EngineError> {
        let spec = self.spec(a, b);
        let scoring = Scoring {
            metric,
            time,
            on_run,
            stop: AtomicBool::new(false),
        };
        if let Source::Builtin {
            kind,
            batch_keys: Some(max_keys),
            ..
        } = &self.source
        {
            return self.evaluate_in_batches(*kind, *max_keys, range, &spec, &scoring);
        }
        let mut out = Vec::with_capacity(range.len());
        range
            .into_par_iter()
            .with_min_len(8)
            .map_init(
                || (Scratch::default(), Vec::new()),
                |(scratch, values), k| {
                    if scoring.stopped() {
                        return f64::NAN;
                    }
                    self.values(k, values);
                    self.run(values, &spec, scratch);
                    scoring.finish(scratch)
                },
            )
            .collect_into_vec(&mut out);
        if scoring.stopped() {
            return Err(EngineError::Stopped);
        }
        Ok(out)
    }

    /// [`Sweep::evaluate`] when the series do not all fit: the runs of `range`, sorted by their
    /// series (last parameter's first, so neighbours share them), in greedy batches needing at
    /// most `max_keys` series, each batch's series computed, used in parallel and dropped.
    fn evaluate_in_batches(
        &self,
        kind: StrategyKind,
        max_keys: usize,
        range: std::ops::Range<usize>,
        spec: &RunSpec<'_>,
        scoring: &Scoring<'_>,
    ) -> Result<Vec<f64>, EngineError> {
        let start = range.start;
        let mut out = vec![f64::NAN; range.len()];
        let mut values = Vec::new();
        let mut order: Vec<(Vec<IndicatorKey>, usize)> = range
            .map(|k| {
                self.values(k, &mut values);
                let mut keys = indicator_keys(kind, &values);
                keys.reverse();
                (keys, k)
            })
            .collect();
        order.sort_unstable();
        let mut i = 0;
        while i < order.len() {
            let mut keys: HashSet<IndicatorKey> = HashSet::new();
            let mut j = i;
            while j < order.len() {
                let new = order[j].0.iter().filter(|k| !keys.contains(k)).count();
                if j > i && keys.len() + new > max_keys {
                    break;
                }
                keys.extend(order[j].0.iter().copied());
                j += 1;
            }
            let keys: Vec<IndicatorKey> = keys.into_iter().collect();
            let cache = cache_of(self.series, &keys);
            let batch: Vec<(usize, f64)> = order[i..j]
                .par_iter()
                .with_min_len(8)
                .map_init(
                    || (Scratch::default(), Vec::new()),
                    |(scratch, values), (_, k)| {
                        if scoring.stopped() {
                            return (*k, f64::NAN);
                        }
                        self.values(*k, values);
                        let prepared = cache.prepare(self.series, kind, values);
                        simulate_run(spec, &prepared, scratch);
                        (*k, scoring.finish(scratch))
                    },
                )
                .collect();
            for (k, m) in batch {
                out[k - start] = m;
            }
            if scoring.stopped() {
                return Err(EngineError::Stopped);
            }
            i = j;
        }
        Ok(out)
    }

    /// Simulates run `k` over bars `[a, b)` into `scratch` (its equity curve is then
    /// `scratch.equity`, window-relative); `values` is a reusable buffer.
    pub fn simulate(
        &self,
        k: usize,
        a: usize,
        b: usize,
        scratch: &mut Scratch,
        values: &mut Vec<f64>,
    ) {
        self.values(k, values);
        self.run(values, &self.spec(a, b), scratch);
    }

    /// Combination number (before constraints) of run `k`.
    pub fn raw(&self, k: usize) -> u64 {
        self.runs[k]
    }

    /// Full statistics of run `k` over bars `[a, b)`, and its equity curve (window-relative).
    pub fn full(&self, k: usize, a: usize, b: usize) -> (Stats, Vec<f64>) {
        let (rep, equity) = self.full_report(k, a, b);
        (rep.stats, equity)
    }

    /// The full backtest report of run `k` over bars `[a, b)` (trades included), and its
    /// equity curve (window-relative).
    pub fn full_report(&self, k: usize, a: usize, b: usize) -> (BacktestReport, Vec<f64>) {
        let mut values = Vec::new();
        self.values(k, &mut values);
        let spec = self.spec(a, b);
        let mut scratch = Scratch::default();
        let outcome = self.run(&values, &spec, &mut scratch);
        let rep = full_report(&spec, &scratch, &outcome);
        (rep, scratch.equity)
    }
}

/// How [`Sweep::evaluate`] scores the runs of one call: the metric, and the stop flag that
/// `on_run` (called as each run finishes) raises by returning [`Flow::Stop`].
struct Scoring<'e> {
    metric: Metric,
    time: &'e TimeInfo,
    on_run: &'e (dyn Fn() -> Flow + Sync),
    stop: AtomicBool,
}

impl Scoring<'_> {
    /// The metric of the run just simulated into `scratch`; tells `on_run` it finished, and
    /// raises the stop flag once it answers [`Flow::Stop`].
    #[inline]
    fn finish(&self, scratch: &mut Scratch) -> f64 {
        let m = metric_value(
            self.metric,
            &scratch.equity,
            &scratch.trades,
            self.time,
            &mut scratch.buf,
        );
        if (self.on_run)() == Flow::Stop {
            self.stop.store(true, Ordering::Relaxed);
        }
        m
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Decodes combination number `raw` (0-based, before constraints) of `axes` into values, last
/// axis fastest (as [`GridSpec::combination`]).
pub(crate) fn decode(axes: &[Vec<f64>], raw: u64, out: &mut Vec<f64>) {
    out.clear();
    out.resize(axes.len(), 0.0);
    let mut r = raw;
    for d in (0..axes.len()).rev() {
        let len = axes[d].len() as u64;
        out[d] = axes[d][(r % len) as usize];
        r /= len;
    }
}

/// Every series of `keys`, computed in parallel.
fn cache_of(series: &Series, keys: &[IndicatorKey]) -> IndicatorCache {
    let computed: Vec<IndicatorCache> = keys
        .par_iter()
        .map(|k| {
            let mut c = IndicatorCache::default();
            c.fill(series, [*k]);
            c
        })
        .collect();
    let mut cache = IndicatorCache::default();
    for c in computed {
        cache.merge(c);
    }
    cache
}
