//! Grid-search optimization: evaluate the metric for every admissible parameter combination,
//! rank, and give full statistics for the best runs.
//!
//! Speed comes from sharing work across the sweep: every indicator series (e.g. each SMA window)
//! is computed once into an [`IndicatorCache`]; each run then only derives its actions, simulates
//! fills into per-thread reusable buffers and computes the one metric asked for, with the same
//! functions the full statistics use (so the numbers agree exactly). Runs are spread over all
//! cores with rayon. Memory is the cache plus one `f64` and one `u64` per run.
//!
//! The cache is bounded ([`CACHE_BUDGET_BYTES`]): when a built-in strategy's grid needs more
//! indicator series than fit (199 SMA windows on a million bars are 1.6 GB), each evaluation
//! runs its runs in batches, ordered so that neighbours share series, whose series fit; a
//! series may then be computed more than once (once per batch that needs it), and the results
//! are identical.
//!
//! The sink hears "Run i/N" as each run finishes (from the thread that ran it; the sink decides
//! what is worth showing). The grid is evaluated in [`BLOCKS`] blocks; after each but the last
//! the sink is offered an [`OptimizeCheckpoint`]. Resuming from a checkpoint recomputes nothing
//! already done and ends with exactly the result of an uninterrupted run.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use app::model::research::{
    Limits, Metric, OptimizeRequest, OptimizeResult, RobustnessConfig, RunSummary, Stats,
};

use super::backtest::equity_points;
use super::data::Series;
use super::metrics::TimeInfo;
use super::progress::ProgressSink;
use super::robustness::plateau_scores;
use super::rules::Program;
use super::search_robustness::{robust_best_index, search_robustness};
use super::EngineError;

/// Most bytes of indicator series a built-in strategy's sweep holds at once (see the module
/// docs).
pub const CACHE_BUDGET_BYTES: usize = 256 << 20;

/// A grid is evaluated in this many blocks, with a checkpoint offered after each but the last:
/// a resumed job redoes at most a tenth of the grid.
pub const BLOCKS: u64 = 10;

/// Where an interrupted optimization stands: the metric of every run before `next_index`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizeCheckpoint {
    /// Number of runs of the job (guards against resuming a different grid).
    pub total_runs: u64,
    /// First run not yet evaluated.
    pub next_index: u64,
    /// Metric per evaluated run, stored as IEEE-754 bit patterns so the JSON round trip is
    /// exact and NaN (undefined) survives.
    #[serde(with = "f64_bits")]
    pub metrics_so_far: Vec<f64>,
}

/// A metric vector as JSON: one base64 string of the IEEE-754 bit patterns, little-endian
/// (exact, NaN kept, and about a third of the decimal bit patterns' size, which PostgreSQL
/// stores and returns without parsing numbers: a 22,000-run chunk result was 47 ms to write
/// as numbers). Reads both that and the older array of bit patterns.
pub(crate) mod f64_bits {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect();
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        d.deserialize_any(Bits)
    }

    struct Bits;

    impl<'de> Visitor<'de> for Bits {
        type Value = Vec<f64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("base64 IEEE-754 bit patterns, or an array of them")
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Vec<f64>, E> {
            let bytes = STANDARD.decode(s).map_err(E::custom)?;
            if bytes.len() % 8 != 0 {
                return Err(E::custom(format!(
                    "{} bytes are not a whole number of 8-byte metrics",
                    bytes.len()
                )));
            }
            Ok(bytes
                .chunks_exact(8)
                .map(|b| f64::from_bits(u64::from_le_bytes(b.try_into().expect("8 bytes"))))
                .collect())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
            // Bounded by the input the deserializer holds.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
            while let Some(bits) = seq.next_element::<u64>()? {
                out.push(f64::from_bits(bits));
            }
            Ok(out)
        }
    }
}

/// An [`OptimizeCheckpoint`] as it is written: the metrics borrowed, not copied.
#[derive(Serialize)]
struct CheckpointOut<'a> {
    total_runs: u64,
    next_index: u64,
    #[serde(serialize_with = "f64_bits::serialize")]
    metrics_so_far: &'a [f64],
}

/// Run indices ordered best first: metric descending, undefined (NaN) last, ties by run order.
pub fn rank(metrics: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..metrics.len()).collect();
    idx.sort_by(|&i, &j| {
        let (a, b) = (metrics[i], metrics[j]);
        match (a.is_nan(), b.is_nan()) {
            (true, true) => i.cmp(&j),
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => b.total_cmp(&a).then(i.cmp(&j)),
        }
    });
    idx
}

/// Index of the best run (first in [`rank`] order) without sorting.
pub fn best_index(metrics: &[f64]) -> usize {
    let mut best = 0usize;
    for (i, &m) in metrics.iter().enumerate() {
        let b = metrics[best];
        if !m.is_nan() && (b.is_nan() || m > b) {
            best = i;
        }
    }
    best
}

/// Runs a grid search with the default [`Limits`]; see [`run_optimize_resumable`].
pub fn run_optimize(
    series: &Series,
    req: &OptimizeRequest,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<OptimizeResult, EngineError> {
    run_optimize_resumable(series, req, resume, sink, &Limits::default()).map(|r| r.result)
}

/// A result, and how much of the work the run that produced it found already done.
#[derive(Clone, Debug, PartialEq)]
pub struct Resumed<T> {
    pub result: T,
    /// Units of work (runs; for a walk-forward, runs over all folds) restored from the
    /// checkpoint when this run started, i.e. not computed by it: 0 when it started fresh.
    pub resumed_from: u64,
}

/// Runs a grid search over the whole series, and says where the run started: the number of
/// runs the checkpoint already held (0 without one).
///
/// Progress "Run i/N" after every run; a checkpoint after each of the first [`BLOCKS`]` - 1`
/// blocks. With `resume`, continues from the checkpoint (which must come from the same request
/// and data).
pub fn run_optimize_resumable(
    series: &Series,
    req: &OptimizeRequest,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
    limits: &Limits,
) -> Result<Resumed<OptimizeResult>, EngineError> {
    let plan = SearchPlan::check(series, ChunkJob::Optimize(req), None, limits)?;
    optimize_planned(series, req, None, &plan, resume, sink)
}

/// The grid search of `req` (of `program`, when it runs one) as checked into `plan`: what a
/// job's handler runs, having checked the job once. With `resume`, continues from the
/// checkpoint.
pub fn optimize_planned(
    series: &Series,
    req: &OptimizeRequest,
    program: Option<&Program>,
    plan: &SearchPlan,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<Resumed<OptimizeResult>, EngineError> {
    // A checkpoint with every metric (a fanned-out job's assembled chunks, or a rescue after
    // the last block) leaves nothing to sweep: the few runs still simulated (top runs,
    // robustness trials) compute their own indicators instead of filling the whole cache.
    let complete = resume
        .as_ref()
        .is_some_and(|cp| cp.next_index == cp.total_runs && cp.total_runs > 0);
    let budget = if complete { 0 } else { CACHE_BUDGET_BYTES };
    let sweep = plan.sweep(series, ChunkJob::Optimize(req), program, budget)?;
    optimize_sweep(
        series,
        &sweep,
        &SweepJob {
            metric: req.search.metric,
            top_n: req.top_n,
            robustness: &req.search.robustness,
        },
        resume,
        sink,
    )
}

/// What an optimization asks of its sweep besides the grid.
pub(crate) struct SweepJob<'r> {
    pub metric: Metric,
    pub top_n: usize,
    pub robustness: &'r RobustnessConfig,
}

/// The optimization over a built sweep: metrics in checkpointed blocks, ranking, top runs,
/// heatmap, full grid, plateaus, robust best and the robustness step. Shared by the built-ins
/// and rule-language programs.
pub(crate) fn optimize_sweep(
    series: &Series,
    sweep: &Sweep<'_>,
    job: &SweepJob<'_>,
    resume: Option<OptimizeCheckpoint>,
    sink: &mut dyn ProgressSink,
) -> Result<Resumed<OptimizeResult>, EngineError> {
    let n = sweep.len() as u64;
    let mut metrics = match resume {
        None => Vec::with_capacity(n as usize),
        Some(cp) => {
            if cp.total_runs != n
                || cp.next_index > n
                || cp.metrics_so_far.len() as u64 != cp.next_index
            {
                return Err(EngineError::BadCheckpoint(format!(
                    "checkpoint is for {} runs at run {} with {} metrics; this job has {n} runs",
                    cp.total_runs,
                    cp.next_index,
                    cp.metrics_so_far.len()
                )));
            }
            cp.metrics_so_far
        }
    };
    let resumed_from = metrics.len() as u64;
    let time = TimeInfo::new(&series.ts);
    let sink: &dyn ProgressSink = sink;
    let finished = AtomicU64::new(resumed_from);
    let on_run = || {
        let done = finished.fetch_add(1, Ordering::Relaxed) + 1;
        sink.report(done, n, format_args!("Run {done}/{n}"))
    };
    let block = n.div_ceil(BLOCKS).max(1);
    while (metrics.len() as u64) < n {
        let from = metrics.len();
        // Blocks are aligned to the grid, not to where a resumed run starts.
        let to = ((from as u64 / block + 1) * block).min(n) as usize;
        let part = sweep.evaluate(from..to, 0, series.len(), &time, job.metric, &on_run)?;
        metrics.extend(part);
        let done = metrics.len() as u64;
        if done < n {
            let cp = CheckpointOut {
                total_runs: n,
                next_index: done,
                metrics_so_far: &metrics,
            };
            if let Ok(v) = serde_json::to_value(&cp) {
                sink.checkpoint(v);
            }
        }
    }

    let order = rank(&metrics);
    let best_k = order
        .first()
        .copied()
        .ok_or_else(|| EngineError::InvalidInput {
            field: "grid".into(),
            message: "the grid has no runs".into(),
        })?;
    let full_grid = sweep.full_grid(&metrics);
    let dims: Vec<usize> = sweep.axes.iter().map(Vec::len).collect();
    let plateaus = plateau_scores(&full_grid.values, &dims).ok();
    let plateau_of = |k: usize| plateaus.as_ref().and_then(|p| p[sweep.raw(k) as usize]);
    let top_idx: Vec<usize> = order.iter().take(job.top_n.max(1)).copied().collect();
    let top_stats: Vec<Stats> = top_idx
        .par_iter()
        .map(|&k| sweep.full(k, 0, series.len()).0)
        .collect();
    let summary = |k: usize, stats: Stats| RunSummary {
        params: sweep.params(k),
        metric: metrics[k].is_finite().then_some(metrics[k]),
        stats: Some(stats),
        plateau: plateau_of(k),
    };
    let top: Vec<RunSummary> = top_idx
        .iter()
        .zip(top_stats)
        .map(|(&k, stats)| summary(k, stats))
        .collect();
    let robust_best = robust_best_index(&metrics, plateau_of)
        .map(|k| summary(k, sweep.full(k, 0, series.len()).0));
    let (best_stats, best_curve) = sweep.full(best_k, 0, series.len());
    let robustness = if job.robustness.enabled {
        // A phase of its own: "Robustness i/N" after "Run N/N".
        sink.begin_phase();
        let report = |d: u64, t: u64| sink.report(d, t, format_args!("Robustness {d}/{t}"));
        Some(search_robustness(
            sweep,
            (0, series.len()),
            &metrics,
            best_k,
            job.robustness,
            &report,
        )?)
    } else {
        None
    };
    Ok(Resumed {
        result: OptimizeResult {
            metric: job.metric,
            best_params: sweep.params(best_k),
            best_stats,
            top,
            grid: sweep.heatmap(&metrics),
            total_runs: n,
            best_equity: equity_points(&series.ts, &best_curve),
            robust_best,
            robustness,
            full_grid: Some(full_grid),
        },
        resumed_from,
    })
}

mod chunk;
mod plan;
mod sweep;
mod views;
pub use chunk::{
    merge_summaries, run_chunk, run_walkforward_from_metrics, with_chunk_eval, ChunkEval, ChunkJob,
    ChunkOutput, ChunkSummary, ChunkTop,
};
pub use plan::SearchPlan;
pub(crate) use sweep::decode;
pub use sweep::Sweep;

#[cfg(test)]
mod tests;
