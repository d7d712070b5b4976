//! Tests of the rule language: parsing and checking (with the exact errors of wrong programs)
//! and lookbacks in `checking`, equality with the built-in strategies run for run in
//! `equivalence`. This file holds the programs and helpers both use.

use std::collections::BTreeMap;

use app::model::research::{
    Account, BacktestRequest, Constraint, GridSpec, Limits, Metric, OptimizeRequest, ParamRange,
    RobustnessConfig, Search, StrategyKind,
};

use super::*;
use crate::engine::backtest::{full_report, simulate_run, RunSpec, Scratch};
use crate::engine::data::{sample_series, Series};
use crate::engine::metrics::TimeInfo;
use crate::engine::optimize::{run_optimize_resumable, Sweep};
use crate::engine::progress::{Flow, NoProgress, Recorder};
use crate::engine::run_backtest;
use crate::engine::strategy::{Action, IndicatorCache};

pub(super) use super::examples::SMA_CROSS;

/// The built-in `rsi_reversion`.
const RSI_REVERSION: &str = r#"strategy "RSI reversion"
param period: int 2..500 = 14
param lower: float 1..99 = 30
param upper: float 1..99 = 70
constraint lower < upper
long entry:  rsi(close, period) < lower
long exit:   rsi(close, period) > upper
short entry: rsi(close, period) > upper
short exit:  rsi(close, period) < lower
"#;

/// The built-in `donchian_breakout`: the bands are the previous n bars' extremes, i.e. the
/// extremes including the current bar, one bar ago.
const DONCHIAN: &str = r#"strategy "Donchian breakout"
param upper_n: int 2..1000 = 20
param lower_n: int 2..1000 = 20
long entry:  close > highest(high, upper_n)[1]
long exit:   close < lowest(low, lower_n)[1]
short entry: close < lowest(low, lower_n)[1]
short exit:  close > highest(high, upper_n)[1]
"#;

fn program(src: &str) -> Program {
    match check(src) {
        Ok(p) => p,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking

fn range(start: f64, stop: f64, step: f64) -> ParamRange {
    ParamRange::Range { start, stop, step }
}

mod checking;
mod equivalence;
