//! Test-only driver for `scripts/compare_backtesting.py`: prints the engine's SMA-crossover
//! statistics for the backtests the script also runs in backtesting.py 0.6.6.
//!
//! Ignored by default; the script runs it as
//! `cargo test --release -p server --lib engine::compare -- --ignored --nocapture` with
//! `RUNBOARD_COMPARE_EXPORT=<csv>` (write `sample_series(2000, 42)` as CSV) or
//! `RUNBOARD_COMPARE_CSV=<csv>` and `RUNBOARD_COMPARE_RUNS=n1:n2:commission:long_only,…`
//! (print one `COMPARE {json}` line per run). Without those variables it does nothing.

use app::model::research::{BacktestRequest, StrategyKind};

use super::{data, parse_csv, run_backtest, sample_series, NoProgress};

fn export_sample(path: &str) {
    let s = sample_series(2000, 42);
    let mut out = String::from("date,open,high,low,close,volume\n");
    for i in 0..s.len() {
        let (y, m, d) = data::civil_from_days(s.ts[i].div_euclid(86_400));
        out.push_str(&format!(
            "{y:04}-{m:02}-{d:02},{},{},{},{},{}\n",
            s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]
        ));
    }
    std::fs::write(path, out).expect("write the sample CSV");
}

fn run(csv: &str, runs: &str) {
    let text = std::fs::read_to_string(csv).expect("read the CSV");
    let series = parse_csv(&text).unwrap_or_else(|e| panic!("bad CSV: {e:?}"));
    for spec in runs.split(',').filter(|s| !s.is_empty()) {
        let p: Vec<&str> = spec.split(':').collect();
        assert_eq!(
            p.len(),
            4,
            "run spec {spec:?} is not n1:n2:commission:long_only"
        );
        let mut req = BacktestRequest::new("compare", StrategyKind::SmaCross);
        req.params.insert("n1".into(), p[0].parse().expect("n1"));
        req.params.insert("n2".into(), p[1].parse().expect("n2"));
        req.commission = p[2].parse().expect("commission");
        req.long_only = p[3].parse().expect("long_only");
        let rep = run_backtest(&series, &req, &mut NoProgress).expect("backtest");
        let line = serde_json::json!({ "spec": spec, "stats": rep.stats });
        println!("COMPARE {line}");
    }
}

#[test]
#[ignore = "driven by scripts/compare_backtesting.py"]
fn compare_with_backtesting_py() {
    if let Ok(path) = std::env::var("RUNBOARD_COMPARE_EXPORT") {
        export_sample(&path);
    }
    if let (Ok(csv), Ok(runs)) = (
        std::env::var("RUNBOARD_COMPARE_CSV"),
        std::env::var("RUNBOARD_COMPARE_RUNS"),
    ) {
        run(&csv, &runs);
    }
}
