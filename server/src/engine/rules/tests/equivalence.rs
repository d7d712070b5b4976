//! Equality with the built-in strategies, run for run: actions, sweeps, backtests and whole
//! optimizations; functions against their indicators; stops; the shared scratch.

use super::*;

/// The built-in's actions and first bar over `[a, b)`.
fn builtin_actions(
    s: &Series,
    kind: StrategyKind,
    values: &[f64],
    long_only: bool,
    (a, b): (usize, usize),
) -> (Vec<Action>, usize) {
    let c = IndicatorCache::for_params(s, kind, values);
    let p = c.prepare(s, kind, values);
    let mut out = Vec::new();
    let start = p.actions(long_only, a, b, &mut out);
    (out, start)
}

fn rule_actions(
    s: &Series,
    p: &Program,
    cache: &ColumnCache,
    values: &[f64],
    long_only: bool,
    (a, b): (usize, usize),
) -> (Vec<Action>, usize) {
    let mut buf = RunBuffers::default();
    let mut out = Vec::new();
    let (start, stops) = p.plan.actions(
        s,
        cache,
        values,
        long_only,
        p.reenter,
        (a, b),
        &mut buf,
        &mut out,
    );
    assert_eq!(stops, crate::engine::backtest::StopRule::NONE);
    (out, start)
}

/// Every run of `grid` (built-in `kind`) gives the same actions, bar for bar, from the same first
/// bar, for the rule `program` — over the whole series and over a later window, with and
/// without long-only. Returns the number of runs compared.
fn same_actions_on_grid(
    s: &Series,
    kind: StrategyKind,
    program: &Program,
    grid: &GridSpec,
) -> usize {
    let constraints = grid.constraints(None);
    let mut all = Vec::new();
    grid.for_each_combination(|v| {
        if constraints.iter().all(|c| c.holds(kind, v)) {
            all.push(v.to_vec());
        }
    });
    let mut cache = ColumnCache::default();
    cache.fill(&program.plan, s, all.iter().map(Vec::as_slice));
    let windows = [(0, s.len()), (s.len() / 3, s.len() - 7)];
    for v in &all {
        assert!(program.admits(v), "{v:?}");
        for long_only in [false, true] {
            for w in windows {
                let want = builtin_actions(s, kind, v, long_only, w);
                let got = rule_actions(s, program, &cache, v, long_only, w);
                assert!(
                    want == got,
                    "{kind:?} {v:?} long_only={long_only} window {w:?}: first bar {} vs {}, actions differ at {:?}",
                    want.1,
                    got.1,
                    want.0.iter().zip(&got.0).position(|(a, b)| a != b)
                );
            }
        }
    }
    all.len()
}

#[test]
fn sma_cross_in_the_language_gives_the_builtins_actions_on_every_run() {
    let s = sample_series(700, 42);
    let p = program(SMA_CROSS);
    let grid = GridSpec::build(
        StrategyKind::SmaCross,
        &BTreeMap::from([
            ("n1".to_string(), range(2.0, 40.0, 1.0)),
            ("n2".to_string(), range(3.0, 90.0, 1.0)),
        ]),
        None,
        &Limits::default(),
    )
    .unwrap();
    let n = same_actions_on_grid(&s, StrategyKind::SmaCross, &p, &grid);
    assert_eq!(n as u64, grid.runs);
}

#[test]
fn rsi_reversion_in_the_language_gives_the_builtins_actions_on_every_run() {
    let s = sample_series(600, 7);
    let p = program(RSI_REVERSION);
    let grid = GridSpec::build(
        StrategyKind::RsiReversion,
        &BTreeMap::from([
            ("period".to_string(), range(2.0, 30.0, 2.0)),
            ("lower".to_string(), range(20.0, 45.0, 2.5)),
            ("upper".to_string(), range(55.0, 80.0, 2.5)),
        ]),
        None,
        &Limits::default(),
    )
    .unwrap();
    same_actions_on_grid(&s, StrategyKind::RsiReversion, &p, &grid);
}

#[test]
fn donchian_breakout_in_the_language_gives_the_builtins_actions_on_every_run() {
    let s = sample_series(600, 3);
    let p = program(DONCHIAN);
    let grid = GridSpec::build(
        StrategyKind::DonchianBreakout,
        &BTreeMap::from([
            ("upper_n".to_string(), range(2.0, 60.0, 3.0)),
            ("lower_n".to_string(), range(2.0, 60.0, 4.0)),
        ]),
        None,
        &Limits::default(),
    )
    .unwrap();
    same_actions_on_grid(&s, StrategyKind::DonchianBreakout, &p, &grid);
}

/// The sweep metrics and the full backtests (equity and trades) of the rule program equal the
/// built-in's, for every metric, with and without long-only and commission.
fn same_sweeps_and_backtests(
    s: &Series,
    kind: StrategyKind,
    src: &str,
    grid: BTreeMap<String, ParamRange>,
    full_runs: &[usize],
) {
    let p = program(src);
    let limits = Limits::default();
    let spec = GridSpec::build(kind, &grid, None, &limits).unwrap();
    let rgrid = p.grid(&grid, None, &limits).unwrap();
    assert_eq!((rgrid.product, rgrid.runs), (spec.product, spec.runs));
    assert_eq!(rgrid.axes, spec.axes);
    assert_eq!(rgrid.max_lookback, spec.max_lookback());
    let time = TimeInfo::new(&s.ts);
    for (case, (long_only, commission)) in
        [(false, 0.0), (true, 0.002), (false, 0.001), (true, 0.0)]
            .into_iter()
            .enumerate()
    {
        let account = Account {
            cash: 10_000.0,
            commission,
            long_only,
        };
        let builtin = Sweep::new(s, &spec, None, account);
        let rules = Sweep::for_rules(s, &p, &rgrid, account);
        assert_eq!(builtin.len(), rules.len());
        for metric in [
            Metric::ALL[case % Metric::ALL.len()],
            Metric::Sharpe,
            Metric::ReturnPct,
        ] {
            let a = builtin
                .evaluate(0..builtin.len(), 0, s.len(), &time, metric, &|| {
                    Flow::Continue
                })
                .unwrap();
            let b = rules
                .evaluate(0..rules.len(), 0, s.len(), &time, metric, &|| {
                    Flow::Continue
                })
                .unwrap();
            for k in 0..a.len() {
                assert!(
                    a[k].to_bits() == b[k].to_bits(),
                    "{kind:?} run {k} {:?} {metric:?}: {} vs {}",
                    builtin.params(k),
                    a[k],
                    b[k]
                );
            }
        }
        for &k in full_runs {
            let k = k % builtin.len();
            assert_eq!(builtin.params(k), rules.params(k));
            let (ra, ea) = builtin.full_report(k, 0, s.len());
            let (rb, eb) = rules.full_report(k, 0, s.len());
            assert_eq!(ea, eb, "{kind:?} run {k}: equity");
            assert_eq!(ra, rb, "{kind:?} run {k}: report (stats, trades)");
            // And the single-backtest entry points agree too.
            let params = builtin.params(k);
            let req = BacktestRequest {
                params: params.clone(),
                account,
                ..BacktestRequest::new("d", kind)
            };
            let one = run_backtest(s, &req, &mut NoProgress).unwrap();
            let rreq = RuleBacktestRequest { params, account };
            let two = run_rule_backtest(s, &p, &rreq, &mut NoProgress).unwrap();
            assert_eq!(one, two);
            assert_eq!(one, ra);
        }
    }
}

#[test]
fn sma_cross_sweeps_and_backtests_equal_the_builtin() {
    same_sweeps_and_backtests(
        &sample_series(900, 11),
        StrategyKind::SmaCross,
        SMA_CROSS,
        BTreeMap::from([
            ("n1".to_string(), range(2.0, 30.0, 1.0)),
            ("n2".to_string(), range(5.0, 80.0, 3.0)),
        ]),
        &[0, 1, 57, 200, 333, 499],
    );
}

#[test]
fn rsi_and_donchian_sweeps_and_backtests_equal_the_builtins() {
    same_sweeps_and_backtests(
        &sample_series(700, 5),
        StrategyKind::RsiReversion,
        RSI_REVERSION,
        BTreeMap::from([
            ("period".to_string(), range(2.0, 20.0, 3.0)),
            (
                "lower".to_string(),
                ParamRange::List(vec![20.0, 30.0, 42.5]),
            ),
            (
                "upper".to_string(),
                ParamRange::List(vec![55.0, 70.0, 80.0]),
            ),
        ]),
        &[0, 5, 17, 40],
    );
    same_sweeps_and_backtests(
        &sample_series(700, 9),
        StrategyKind::DonchianBreakout,
        DONCHIAN,
        BTreeMap::from([
            ("upper_n".to_string(), range(5.0, 60.0, 5.0)),
            ("lower_n".to_string(), range(5.0, 60.0, 11.0)),
        ]),
        &[0, 7, 30, 59],
    );
}

#[test]
fn rule_optimization_equals_the_builtin_optimization_whole() {
    let s = sample_series(500, 21);
    let grid = BTreeMap::from([
        ("n1".to_string(), range(2.0, 25.0, 1.0)),
        ("n2".to_string(), range(5.0, 60.0, 5.0)),
    ]);
    let req = OptimizeRequest {
        dataset_id: "d".into(),
        search: Search {
            strategy: StrategyKind::SmaCross,
            rules: None,
            grid: grid.clone(),
            constraint: None,
            metric: Metric::Sharpe,
            robustness: RobustnessConfig {
                enabled: true,
                ..Default::default()
            },
        },
        top_n: 5,
        account: Account {
            cash: 10_000.0,
            commission: 0.002,
            long_only: false,
        },
    };
    let limits = Limits::default();
    let mut rec_a = Recorder::default();
    let a = run_optimize_resumable(&s, &req, None, &mut rec_a, &limits).unwrap();
    let p = program(SMA_CROSS);
    let mut rreq = req.clone();
    rreq.search.grid = grid;
    rreq.search.rules = Some(app::model::research::RuleRef::inline(SMA_CROSS));
    let mut rec_b = Recorder::default();
    let b = run_rule_optimize(&s, &p, &rreq, None, &mut rec_b, &limits).unwrap();
    // Ranking, top runs, heatmap, full grid, plateaus, robust best, robustness: all equal.
    assert_eq!(a, b);
    assert_eq!(rec_a.checkpoints(), rec_b.checkpoints());
    assert_eq!(rec_a.reports().len(), rec_b.reports().len());
}

#[test]
fn without_reenter_the_sma_rules_differ_only_on_repeated_crossings() {
    // Without `reenter`, a second up-cross while long (possible when the averages touch
    // exactly) is ignored; the built-in closes and reopens. Where no such repeat happens the
    // actions are the same as the built-in's.
    let s = sample_series(700, 42);
    let p = program(&SMA_CROSS.replace("reenter: true\n", ""));
    assert!(!p.reenter);
    let (mut same, mut repeats) = (0, 0);
    for n1 in 2..30 {
        for n2 in (n1 + 1)..80 {
            let v = [n1 as f64, n2 as f64];
            let cache = p.cache_for(&s, &v);
            let (want, ws) = builtin_actions(&s, StrategyKind::SmaCross, &v, false, (0, s.len()));
            let (got, gs) = rule_actions(&s, &p, &cache, &v, false, (0, s.len()));
            assert_eq!(ws, gs);
            // A repeated signal: the same non-hold action twice with none other between.
            let signals: Vec<Action> = want
                .iter()
                .copied()
                .filter(|a| *a != Action::Hold)
                .collect();
            let has_repeat = signals.windows(2).any(|w| w[0] == w[1]);
            if has_repeat {
                repeats += 1;
            } else {
                assert_eq!(want, got, "{v:?}");
                same += 1;
            }
        }
    }
    assert!(same > 0);
    println!("sma without reenter: {same} runs identical, {repeats} with repeated crossings");
}

// ---------------------------------------------------------------------------------------------
// Other functions: column evaluation agrees with the indicators

#[test]
fn functions_evaluate_as_their_indicators() {
    use crate::engine::indicators as ind;
    let s = sample_series(300, 4);
    let p = program(
        r#"strategy "F"
param n: int 2..50 = 10
param k: float 0.5..3 = 2
long entry: crosses_above(close, bollinger(close, n, k).upper) or crosses_below(macd(close, 5, 13, n).line, macd(close, 5, 13, n).signal)
long exit: zscore(close, n) > k or abs(roc(close, n)) > 5 * k or min(wma(close, n), ema(close, n)) < max(lowest(low, n), atr(n))
"#,
    );
    let v = [10.0, 2.0];
    let cache = p.cache_for(&s, &v);
    let (acts, start) = rule_actions(&s, &p, &cache, &v, true, (0, s.len()));
    // Recompute the two conditions by hand from the indicator functions.
    let c = &s.close;
    let mid = ind::sma(c, 10);
    let sd = ind::stdev(c, 10);
    let upper: Vec<f64> = mid.iter().zip(&sd).map(|(m, d)| m + 2.0 * d).collect();
    let (e5, e13) = (ind::ema(c, 5), ind::ema(c, 13));
    let line: Vec<f64> = e5.iter().zip(&e13).map(|(a, b)| a - b).collect();
    let signal = ind::ema(&line, 10);
    let z = ind::zscore(c, 10);
    let roc = ind::roc(c, 10);
    let (w, e, lo, atr) = (
        ind::wma(c, 10),
        ind::ema(c, 10),
        ind::lowest(&s.low, 10),
        ind::atr(&s.high, &s.low, c, 10),
    );
    let nmin = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.min(b)
        }
    };
    let nmax = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    };
    let entry = |i: usize| {
        (c[i - 1] < upper[i - 1] && c[i] > upper[i])
            || (line[i - 1] > signal[i - 1] && line[i] < signal[i])
    };
    let exit =
        |i: usize| z[i] > 2.0 || roc[i].abs() > 10.0 || nmin(w[i], e[i]) < nmax(lo[i], atr[i]);
    // Lookback: signal EMA of the MACD line: 13 - 1 + 10 - 1 = 21.
    assert_eq!(start, 22);
    let mut state = Action::Flat;
    let mut entries = 0;
    for (i, act) in acts.iter().enumerate().skip(start) {
        let want = if entry(i) {
            Action::Long
        } else if state == Action::Long && exit(i) {
            Action::Flat
        } else {
            assert_eq!(*act, Action::Hold, "bar {i}");
            continue;
        };
        if want != state {
            assert_eq!(*act, want, "bar {i}");
            state = want;
            entries += usize::from(want == Action::Long);
        } else {
            assert_eq!(*act, Action::Hold, "bar {i}");
        }
    }
    assert!(entries > 0);
}

// ---------------------------------------------------------------------------------------------
// Stops through the language

#[test]
fn rule_stops_reach_the_simulator() {
    // Long after an up-bar, flat after a down-bar, and a 2 % stop-loss.
    let s = sample_series(600, 8);
    let p = program(
        r#"strategy "Stops"
param sl: float 1..10 = 2
long entry: close > open
long exit: close < open
stop_loss_pct: sl
"#,
    );
    assert_eq!(p.stops, [true, false, false]);
    let req = RuleBacktestRequest {
        params: BTreeMap::new(),
        account: Account {
            cash: 10_000.0,
            commission: 0.001,
            long_only: true,
        },
    };
    let rep = run_rule_backtest(&s, &p, &req, &mut NoProgress).unwrap();
    let mut stopped = 0;
    for t in &rep.trades {
        let stop = t.entry_price * (1.0 - 0.02);
        // Checked on every bar from the entry bar on: not hit before the exit bar …
        assert!((t.entry_bar..t.exit_bar).all(|j| s.low[j] > stop), "{t:?}");
        // … and the exit is the signal's (at the open) or the stop's (at the stop price).
        let open = s.open[t.exit_bar];
        if t.exit_price != open {
            assert_eq!(t.exit_price, stop, "{t:?}");
            assert!(s.low[t.exit_bar] <= stop && open > stop);
            stopped += 1;
        }
    }
    assert!(stopped > 0, "some trades end at their stop");
    // The same program without the stop line: no trade ends away from an open.
    let q = program(&p_source_without_stop());
    let rep = run_rule_backtest(&s, &q, &req, &mut NoProgress).unwrap();
    assert!(rep
        .trades
        .iter()
        .all(|t| t.exit_price == s.open[t.exit_bar]));

    fn p_source_without_stop() -> String {
        "strategy \"NoStop\"\nlong entry: close > open\nlong exit: close < open\n".into()
    }
}

#[test]
fn a_rule_run_uses_the_shared_scratch() {
    // simulate() through the Scratch the sweeps use, twice with different values: buffers are
    // reused without leaking the first run into the second.
    let s = sample_series(300, 2);
    let p = program(SMA_CROSS);
    let mut cache = ColumnCache::default();
    cache.fill(&p.plan, &s, [&[5.0, 30.0][..], &[8.0, 12.0][..]]);
    let spec = RunSpec::whole(&s, Account::default());
    let mut shared = Scratch::default();
    p.simulate(&cache, &[5.0, 30.0], &spec, &mut shared);
    let o = p.simulate(&cache, &[8.0, 12.0], &spec, &mut shared);
    let fresh_cache = p.cache_for(&s, &[8.0, 12.0]);
    let mut fresh = Scratch::default();
    let o2 = p.simulate(&fresh_cache, &[8.0, 12.0], &spec, &mut fresh);
    assert_eq!(shared.equity, fresh.equity);
    assert_eq!(shared.trades, fresh.trades);
    assert_eq!(
        full_report(&spec, &shared, &o),
        full_report(&spec, &fresh, &o2)
    );
    // And equal to the built-in.
    let c = IndicatorCache::for_params(&s, StrategyKind::SmaCross, &[8.0, 12.0]);
    let prepared = c.prepare(&s, StrategyKind::SmaCross, &[8.0, 12.0]);
    let mut b = Scratch::default();
    simulate_run(&spec, &prepared, &mut b);
    assert_eq!(b.equity, fresh.equity);
}
