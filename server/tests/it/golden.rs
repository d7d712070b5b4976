//! Golden agreement with backtesting.py 0.6.6: every statistic of every reference run.
//!
//! `tests/it/golden/reference.json` holds what backtesting.py 0.6.6 reported for SMA-crossover
//! backtests over a grid of (n1, n2, commission, long-only) on the CSV files beside it; it was
//! written once by `scripts/compare_backtesting.py` (see docs/backtesting-py-comparison.md) and
//! is committed, so this test needs neither Python nor a database. Each run is repeated here
//! with the engine (`parse_csv` + `run_backtest`) and every statistic that has a counterpart is
//! compared; see [`COMPARED`], [`NOT_COMPARED`] and [`check`] for the rules. All mismatches are
//! listed before the test fails; `--nocapture` shows the worst difference per statistic.

use std::collections::{BTreeMap, BTreeSet};

use app::model::research::{BacktestRequest, Stats, StrategyKind};
use serde_json::Value;
use server::engine::Series;
use server::engine::{data::civil_from_days, parse_csv, run_backtest, sample_series, NoProgress};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/golden");

/// Relative tolerance for real-valued statistics.
///
/// Both engines evaluate the same formulas on the same floating-point inputs; they differ only
/// in summation order (the engine sums in 4 lanes and takes logs of chunked products in the
/// geometric mean) and in `exp`/`ln`/`powf` (numpy has its own SIMD `exp`, up to 1 ulp away
/// from Rust's libm). The largest effect is in the geometric mean period return
/// `g = exp(Σ ln(1 + r) / m) - 1`: with daily `g` ≈ 1e-4, one ulp of `exp` (2.2e-16) is ~1e-12
/// of `g`, which Return (Ann.), Sharpe, Sortino and Calmar inherit (worst seen 1.4e-12; the
/// test prints the worst per statistic; all other statistics are within 1e-13). 1e-9 leaves
/// 1000× headroom for other platforms' libm, while a real difference (a formula, a fill price,
/// one unit more or less) shows up as 1e-6 or more: one unit in 10,000 $ of equity is ~1e-4.
const REL_TOL: f64 = 1e-9;

/// Absolute tolerance, for values near 0 where a relative difference means nothing: the noise
/// above is absolute, not relative, for a value that is a difference of nearly equal numbers.
/// E.g. Return (Ann.) [%] `= 100·((1 + g)^252 - 1)` carries ~100·252·2.2e-16 ≈ 6e-12 whatever
/// its size, so an annual return of 1e-10 % could not be held to 1e-9 relative. 1e-9 is ~200×
/// that noise. It only loosens anything for |values| < 1: the smallest nonzero reference value
/// is 1.6e-3 (an Avg. Trade [%]), where it still means 6e-7 relative.
const ABS_TOL: f64 = 1e-9;

/// How a statistic is compared.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// Within [`REL_TOL`] or [`ABS_TOL`].
    Close,
    /// Exactly equal: integer quantities (counts, unix seconds, durations in whole seconds).
    Exact,
    /// As `Close`; backtesting.py leaves it out of `stats` when it is 0, where the engine must
    /// report exactly `Some(0.0)`.
    CloseOrAbsentIsZero,
}

/// A backtesting.py statistic, the engine's value for it, and the rule.
struct Compared {
    name: &'static str,
    rule: Rule,
    get: fn(&Stats) -> Option<f64>,
}

const fn stat(name: &'static str, rule: Rule, get: fn(&Stats) -> Option<f64>) -> Compared {
    Compared { name, rule, get }
}

fn secs(v: Option<i64>) -> Option<f64> {
    v.map(|s| s as f64)
}

/// Every statistic of `Stats`, under backtesting.py's name. Times and durations are seconds on
/// both sides (reference.json converts Timestamps to unix seconds and Timedeltas to seconds).
const COMPARED: &[Compared] = &[
    stat("Start", Rule::Exact, |s| Some(s.start as f64)),
    stat("End", Rule::Exact, |s| Some(s.end as f64)),
    stat("Duration", Rule::Exact, |s| Some(s.duration_secs as f64)),
    stat("Exposure Time [%]", Rule::Close, |s| {
        Some(s.exposure_time_pct)
    }),
    stat("Equity Final [$]", Rule::Close, |s| s.equity_final),
    stat("Equity Peak [$]", Rule::Close, |s| s.equity_peak),
    stat("Commissions [$]", Rule::CloseOrAbsentIsZero, |s| {
        s.commissions
    }),
    stat("Return [%]", Rule::Close, |s| s.return_pct),
    stat("Buy & Hold Return [%]", Rule::Close, |s| {
        s.buy_hold_return_pct
    }),
    stat("Return (Ann.) [%]", Rule::Close, |s| s.return_ann_pct),
    stat("Volatility (Ann.) [%]", Rule::Close, |s| {
        s.volatility_ann_pct
    }),
    stat("CAGR [%]", Rule::Close, |s| s.cagr_pct),
    stat("Sharpe Ratio", Rule::Close, |s| s.sharpe),
    stat("Sortino Ratio", Rule::Close, |s| s.sortino),
    stat("Calmar Ratio", Rule::Close, |s| s.calmar),
    stat("Max. Drawdown [%]", Rule::Close, |s| s.max_drawdown_pct),
    stat("Avg. Drawdown [%]", Rule::Close, |s| s.avg_drawdown_pct),
    stat("Max. Drawdown Duration", Rule::Exact, |s| {
        secs(s.max_drawdown_duration_secs)
    }),
    stat("Avg. Drawdown Duration", Rule::Exact, |s| {
        secs(s.avg_drawdown_duration_secs)
    }),
    stat("# Trades", Rule::Exact, |s| Some(f64::from(s.trades))),
    stat("Win Rate [%]", Rule::Close, |s| s.win_rate_pct),
    stat("Best Trade [%]", Rule::Close, |s| s.best_trade_pct),
    stat("Worst Trade [%]", Rule::Close, |s| s.worst_trade_pct),
    stat("Avg. Trade [%]", Rule::Close, |s| s.avg_trade_pct),
    stat("Max. Trade Duration", Rule::Exact, |s| {
        secs(s.max_trade_duration_secs)
    }),
    stat("Avg. Trade Duration", Rule::Exact, |s| {
        secs(s.avg_trade_duration_secs)
    }),
    stat("Profit Factor", Rule::Close, |s| s.profit_factor),
    stat("Expectancy [%]", Rule::Close, |s| s.expectancy_pct),
    stat("SQN", Rule::Close, |s| s.sqn),
    stat("Kelly Criterion", Rule::Close, |s| s.kelly),
];

/// backtesting.py statistics the engine does not compute. Any other statistic found in the
/// reference that is in neither list fails the test.
const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "Alpha [%]",
        "not computed by the engine: Jensen's alpha needs Beta (below)",
    ),
    (
        "Beta",
        "not computed by the engine: covariance of equity and market log returns over the \
         market's variance (benchmark statistics are out of the engine's scope)",
    ),
];

/// A reference value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ref {
    Num(f64),
    /// NaN in backtesting.py.
    Null,
    /// ±inf in backtesting.py; the engine reports non-finite values as `None` (documented).
    Inf,
    /// Not in backtesting.py's `stats` at all.
    Absent,
}

impl Ref {
    fn describe(self) -> String {
        match self {
            Ref::Num(v) => format!("{v:?}"),
            Ref::Null => "null (NaN)".into(),
            Ref::Inf => "±inf".into(),
            Ref::Absent => "absent".into(),
        }
    }
}

fn parse_ref(v: Option<&Value>) -> Ref {
    match v {
        None => Ref::Absent,
        Some(Value::Null) => Ref::Null,
        Some(Value::Number(n)) => Ref::Num(n.as_f64().expect("a finite number")),
        Some(Value::String(s)) if s == "inf" || s == "-inf" => Ref::Inf,
        Some(other) => panic!("unexpected reference value {other}"),
    }
}

/// The outcome of comparing one value.
enum Outcome {
    /// Both numbers, within the rule; absolute and relative difference.
    Agree {
        abs: f64,
        rel: f64,
    },
    /// null vs None (or ±inf vs None, or an absent Commissions [$] vs 0).
    BothUndefined,
    Mismatch(String),
}

/// Compares one statistic. Both undefined (null / None) agrees; one undefined and the other a
/// number never does.
fn check(rule: Rule, reference: Ref, engine: Option<f64>) -> Outcome {
    let fmt = |e: Option<f64>| e.map_or("None".to_string(), |v| format!("{v:?}"));
    match (reference, engine) {
        (Ref::Null | Ref::Inf, None) => Outcome::BothUndefined,
        (Ref::Absent, Some(e)) if rule == Rule::CloseOrAbsentIsZero && e == 0.0 => {
            Outcome::BothUndefined
        }
        (Ref::Num(a), Some(b)) => {
            let abs = (a - b).abs();
            let scale = a.abs().max(b.abs());
            let rel = if abs == 0.0 { 0.0 } else { abs / scale };
            let ok = match rule {
                Rule::Exact => a == b,
                Rule::Close | Rule::CloseOrAbsentIsZero => abs <= ABS_TOL || rel <= REL_TOL,
            };
            if ok {
                Outcome::Agree { abs, rel }
            } else {
                Outcome::Mismatch(format!(
                    "backtesting.py {a:?} vs engine {b:?} (|diff| {abs:.3e}, rel {rel:.3e})"
                ))
            }
        }
        (r, e) => Outcome::Mismatch(format!(
            "backtesting.py {} vs engine {}",
            r.describe(),
            fmt(e)
        )),
    }
}

/// Worst agreement seen for one statistic.
#[derive(Default)]
struct Worst {
    numbers: usize,
    undefined: usize,
    abs: f64,
    rel: f64,
    rel_at: String,
}

fn load_series(name: &str) -> Series {
    let path = format!("{GOLDEN}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    parse_csv(&text).unwrap_or_else(|e| panic!("{path} does not parse: {e:?}"))
}

#[test]
fn engine_agrees_with_backtesting_py_on_every_statistic() {
    let path = format!("{GOLDEN}/reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let reference: Value = serde_json::from_str(&text).expect("reference.json is JSON");
    let runs = reference["runs"].as_array().expect("runs");
    let datasets = reference["datasets"].as_object().expect("datasets");
    assert!(runs.len() >= 24, "only {} reference runs", runs.len());

    let known: BTreeSet<&str> = COMPARED
        .iter()
        .map(|c| c.name)
        .chain(NOT_COMPARED.iter().map(|n| n.0))
        .collect();
    assert_eq!(
        known.len(),
        COMPARED.len() + NOT_COMPARED.len(),
        "a statistic is listed twice"
    );

    let mut series = BTreeMap::new();
    for (name, info) in datasets {
        let s = load_series(name);
        assert_eq!(
            s.len() as u64,
            info["bars"].as_u64().expect("bars"),
            "{name}: bar count"
        );
        series.insert(name.as_str(), s);
    }

    let mut mismatches = Vec::new();
    let mut worst: BTreeMap<&str, Worst> = BTreeMap::new();
    let mut not_compared_seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut values = 0usize;
    for run in runs {
        let dataset = run["dataset"].as_str().expect("dataset");
        let (n1, n2) = (
            run["n1"].as_f64().expect("n1"),
            run["n2"].as_f64().expect("n2"),
        );
        let commission = run["commission"].as_f64().expect("commission");
        let long_only = run["long_only"].as_bool().expect("long_only");
        let label = format!(
            "{dataset} n1={n1} n2={n2} commission={commission} {}",
            if long_only { "long-only" } else { "long-short" }
        );
        let mut req = BacktestRequest::new("golden", StrategyKind::SmaCross);
        req.params.insert("n1".into(), n1);
        req.params.insert("n2".into(), n2);
        req.account.commission = commission;
        req.account.long_only = long_only;
        req.account.cash = reference["backtest"]["cash"].as_f64().expect("cash");
        let s = series
            .get(dataset)
            .unwrap_or_else(|| panic!("{label}: unknown dataset"));
        let stats = run_backtest(s, &req, &mut NoProgress)
            .unwrap_or_else(|e| panic!("{label}: {e}"))
            .stats;

        let reported = run["stats"].as_object().expect("stats");
        for name in reported.keys() {
            if !known.contains(name.as_str()) {
                mismatches.push(format!(
                    "{label}: backtesting.py reports {name:?}, which is neither compared nor \
                     listed as not compared"
                ));
            }
        }
        for (name, _) in NOT_COMPARED {
            if reported.contains_key(*name) {
                *not_compared_seen.entry(name).or_default() += 1;
            }
        }
        for c in COMPARED {
            let r = parse_ref(reported.get(c.name));
            let w = worst.entry(c.name).or_default();
            values += 1;
            match check(c.rule, r, (c.get)(&stats)) {
                Outcome::Agree { abs, rel } => {
                    w.numbers += 1;
                    w.abs = w.abs.max(abs);
                    if rel > w.rel || w.rel_at.is_empty() {
                        w.rel = rel;
                        w.rel_at = label.clone();
                    }
                }
                Outcome::BothUndefined => w.undefined += 1,
                Outcome::Mismatch(m) => mismatches.push(format!("{label}: {}: {m}", c.name)),
            }
        }
    }

    println!(
        "worst agreement per statistic over {} runs (tolerance: relative {REL_TOL:e} or \
         absolute {ABS_TOL:e}; exact for counts, times and durations):",
        runs.len()
    );
    println!(
        "  {:<24} {:>7} {:>11} {:>10} {:>10}  worst relative at",
        "statistic", "numbers", "null/absent", "max |diff|", "max rel"
    );
    let (mut top_rel, mut top_at) = (0.0_f64, String::from("-"));
    for c in COMPARED {
        let w = &worst[c.name];
        println!(
            "  {:<24} {:>7} {:>11} {:>10.2e} {:>10.2e}  {}",
            c.name,
            w.numbers,
            w.undefined,
            w.abs,
            w.rel,
            if w.rel > 0.0 { w.rel_at.as_str() } else { "-" }
        );
        if w.rel > top_rel {
            top_rel = w.rel;
            top_at = format!("{}, {}", c.name, w.rel_at);
        }
    }
    for (name, why) in NOT_COMPARED {
        println!(
            "  not compared: {name} (reported in {} runs): {why}",
            not_compared_seen.get(name).copied().unwrap_or(0)
        );
    }
    println!(
        "golden: {} runs on {} datasets, {} statistics compared ({} not compared), {values} \
         values, {} mismatches; worst relative difference {top_rel:.2e} ({top_at})",
        runs.len(),
        datasets.len(),
        COMPARED.len(),
        NOT_COMPARED.len(),
        mismatches.len(),
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches with backtesting.py 0.6.6:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Writes `sample_series(2000, 42)` as CSV to `$RUNBOARD_GOLDEN_SAMPLE_CSV`, for
/// `scripts/compare_backtesting.py` when it regenerates the references (the committed
/// `tests/it/golden/sample.csv` is its output). Does nothing without the variable.
#[test]
#[ignore = "run by scripts/compare_backtesting.py to export the sample series"]
fn export_sample_csv() {
    let Ok(path) = std::env::var("RUNBOARD_GOLDEN_SAMPLE_CSV") else {
        return;
    };
    let s = sample_series(2000, 42);
    let mut out = String::from("date,open,high,low,close,volume\n");
    for i in 0..s.len() {
        let (y, m, d) = civil_from_days(s.ts[i].div_euclid(86_400));
        out.push_str(&format!(
            "{y:04}-{m:02}-{d:02},{},{},{},{},{}\n",
            s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]
        ));
    }
    std::fs::write(&path, out).unwrap_or_else(|e| panic!("write {path}: {e}"));
}
