//! Parsing and checking: programs that check, wrong programs and their exact errors,
//! lookbacks, parameter and grid checks, and the documented examples.

use super::*;

#[test]
fn the_issue_example_checks_with_its_parameters_and_lookback() {
    let p = program(SMA_CROSS);
    assert_eq!(p.name, "SMA cross");
    assert_eq!(p.params.len(), 2);
    assert_eq!(
        p.params[0],
        ParamDecl {
            name: "n1".into(),
            kind: ParamKind::Int,
            min: 2.0,
            max: 1000.0,
            default: 10.0
        }
    );
    assert_eq!(p.constraints[0].text, "n1 < n2");
    assert!(p.has_short && p.reenter);
    // sma(close, n) is first defined on bar n - 1, as `strategy_lookback` says for sma_cross.
    assert_eq!(p.lookback(&[10.0, 20.0]), 19);
    assert_eq!(
        p.lookback(&[10.0, 20.0]),
        app::model::research::strategy_lookback(StrategyKind::SmaCross, &[10.0, 20.0])
    );
    assert!(p.admits(&[10.0, 20.0]) && !p.admits(&[20.0, 20.0]));
    // Four rules, two distinct averages: two cached columns.
    assert_eq!(p.plan.cached_nodes(), 2);

    let r = program(RSI_REVERSION);
    assert_eq!(r.lookback(&[14.0, 30.0, 70.0]), 14);
    let d = program(DONCHIAN);
    assert_eq!(d.lookback(&[20.0, 35.0]), 35);
    assert!(!d.has_short || d.plan.roots.short_exit.is_some());
}

#[test]
fn lookback_follows_the_expression() {
    let p = program(
        r#"strategy "L"
param n: int 1..50 = 5
param k: int 0..9 = 2
param w: float 0.5..3 = 2
long entry: macd(close, 12, 26, n).hist > 0 and close[k] > bollinger(close, 20, w).lower
long exit: roc(ema(close, n), 3)[k] < 0 or atr(14) > 3 * stdev(close, 10)
"#,
    );
    // macd: line needs 26 - 1 = 25, signal EMA(n) adds n - 1 → 29 for n = 5;
    // roc(ema(close, 5), 3)[2] = 4 + 3 + 2 = 9; atr(14) = 14; bollinger(20) = 19.
    assert_eq!(p.lookback(&[5.0, 2.0, 2.0]), 29);
    assert_eq!(p.lookback(&[1.0, 9.0, 2.0]), 25);
    assert_eq!(p.lookback(&[50.0, 0.0, 2.0]), 74);
}

#[test]
fn comments_blank_lines_and_spacing_are_free() {
    let p = program(
        "  # a comment line\n\nstrategy   \"Spaced\"   # trailing comment\n\
         param n:int 2..9=3\r\nlong entry:close>sma(close,n)\nlong exit :  close<sma( close , n )\n",
    );
    assert_eq!(p.name, "Spaced");
    assert!(!p.has_short && !p.reenter);
}

/// The base program the wrong programs below are made from (line numbers matter).
const BASE: &str = "strategy \"T\"
param n1: int 2..100 = 10
param n2: int 2..200 = 20
constraint n1 < n2
long entry: crosses_above(sma(close, n1), sma(close, n2))
long exit: crosses_below(sma(close, n1), sma(close, n2))
";

const EXIT: &str = "long exit: crosses_below(sma(close, n1), sma(close, n2))";

fn errors(src: &str) -> Vec<String> {
    match check(src) {
        Ok(_) => panic!("expected errors for:\n{src}"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn wrong_programs_get_errors_at_their_line_and_column() {
    let exit = |line: &str| BASE.replace(EXIT, line);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            BASE.replace("sma(close, n1), sma(close, n2))\nlong exit", "sma(close, ), sma(close, n2))\nlong exit"),
            vec!["line 5, column 38: expected an expression, found ')'"],
        ),
        (
            BASE.replace("long entry:", "long entry"),
            vec!["line 5, column 12: expected ':', found 'crosses_above'"],
        ),
        (
            exit("long exit: close > smaa"),
            vec!["line 6, column 20: unknown name 'smaa' (parameters: n1, n2; series: open, high, low, close, volume)"],
        ),
        (
            exit("long exit: crosses_below(foo(close, 3), open)"),
            vec!["line 6, column 26: unknown function 'foo' (functions: sma, ema, wma, rsi, stdev, zscore, highest, lowest, roc, atr, macd, bollinger, crosses_above, crosses_below, min, max, abs)"],
        ),
        (
            exit("long exit: close < sma(close)"),
            vec!["line 6, column 20: sma takes 2 arguments (a series and a window), found 1"],
        ),
        (
            exit("long exit: close < sma(close, 2.5)"),
            vec!["line 6, column 31: the window of sma must be a whole number, found '2.5'"],
        ),
        (
            format!("{BASE}param k: int 0..10 = 5\nshort entry: close < ema(close, k)\nshort exit: close > open\n"),
            vec!["line 8, column 33: the window of ema must be at least 1, but parameter 'k' can be 0 (its range is 0..10)"],
        ),
        (
            format!("{BASE}param k: float 1..10 = 5\nshort entry: close < ema(close, k)\nshort exit: close > open\n"),
            vec!["line 8, column 33: the window of ema must be an int parameter or a whole number, but 'k' is a float parameter"],
        ),
        (
            exit("long exit: close < stdev(close, 1)"),
            vec!["line 6, column 33: the window of stdev must be between 2 and 1000000000, found '1'"],
        ),
        (
            exit("long exit: close < wma(close, n1 + 1)"),
            vec!["line 6, column 31: the window of wma must be an int parameter or a whole number, not an expression"],
        ),
        (
            exit("long exit: sma(close, n1)"),
            vec!["line 6, column 12: a long exit rule must be a condition (true/false), such as close > sma(close, 20); found a number series"],
        ),
        (
            exit("long exit: close > open and close"),
            vec!["line 6, column 29: 'and' needs a condition (true/false) on its right, found a number series; compare it with <, >, …"],
        ),
        (
            exit("long exit: (close > open) + 1 > 2"),
            vec!["line 6, column 12: '+' needs a number on its left, found a condition (true/false)"],
        ),
        (
            exit("long exit: open < close < high"),
            vec!["line 6, column 25: comparisons cannot be chained: write 'a < b and b < c'"],
        ),
        (
            exit("long exit: crosses_below(sma(close, n1), sma(close, n2)"),
            vec!["line 6, column 56: expected ')' or ',', found the end of the line"],
        ),
        (
            exit("long exit: close > sma(close, n1) +"),
            vec!["line 6, column 36: expected an expression, found the end of the line"],
        ),
        (
            exit("long exit: close > sma(close, n1) open"),
            vec!["line 6, column 35: expected an operator or the end of the line, found 'open'"],
        ),
        (
            BASE.replace("= 10", "= 500"),
            vec!["line 2, column 24: the default 500 of 'n1' is outside its range 2..100"],
        ),
        (
            BASE.replace("2..200", "50..10"),
            vec!["line 3, column 19: the range of 'n2' is empty: its maximum 10 is below its minimum 50"],
        ),
        (
            BASE.replace("2..100", "2.5..100"),
            vec!["line 2, column 15: 'n1' is an int parameter, so '2.5' must be a whole number"],
        ),
        (
            BASE.replace("n1: int", "n1: integer"),
            vec!["line 2, column 11: expected 'int' or 'float', found 'integer'"],
        ),
        (
            BASE.replace("param n1: int 2..100 = 10", "param n1 int 2..100 = 10"),
            vec!["line 2, column 10: expected ':', found 'int'"],
        ),
        (
            BASE.replace("param n1: int 2..100 = 10", "param n1: int 2 100 = 10"),
            vec!["line 2, column 17: expected '..', found '100'"],
        ),
        (
            BASE.replace("param n2: int 2..200 = 20", "param n2: int 2..200 = 20\nparam n1: int 2..5 = 3"),
            vec!["line 4, column 7: parameter 'n1' is already declared on line 2"],
        ),
        (
            format!("{BASE}param close: int 2..5 = 3\n"),
            vec!["line 7, column 7: 'close' is a series, function or keyword name; choose another parameter name"],
        ),
        (
            BASE.replace(&format!("{EXIT}\n"), ""),
            vec!["line 1, column 1: the strategy has no 'long exit:' rule"],
        ),
        (
            format!("{BASE}short entry: close < open\n"),
            vec!["line 7, column 1: a 'short entry' rule needs a 'short exit' rule too"],
        ),
        (
            format!("{BASE}long entry: close > open\n"),
            vec!["line 7, column 1: long entry is already given on line 5"],
        ),
        (
            BASE.replace("strategy \"T\"\n", ""),
            vec!["line 1, column 1: the program has no 'strategy \"name\"' line"],
        ),
        (
            exit("long exit: close > open @ 2"),
            vec!["line 6, column 25: unexpected character '@'"],
        ),
        (
            BASE.replace("strategy \"T\"", "strategy \"T"),
            vec!["line 1, column 10: this string has no closing '\"' on its line"],
        ),
        (
            exit("long exit: macd(close, 12, 26, 9) > 0"),
            vec!["line 6, column 12: macd(…) gives three series: choose one with .line, .signal or .hist"],
        ),
        (
            exit("long exit: close > bollinger(close, 20, 2).top"),
            vec!["line 6, column 44: bollinger(…) has no field 'top'; use .upper, .mid or .lower"],
        ),
        (
            exit("long exit: close.line > 2"),
            vec!["line 6, column 18: only macd(…) and bollinger(…) have fields; '.line' cannot be used here"],
        ),
        (
            format!("{BASE}param k: float 0..5 = 2\nstop_loss_pct: k\n"),
            vec!["line 8, column 1: stop_loss_pct must be above 0 and below 100 for every parameter value in range; here it can range from 0 to 5"],
        ),
        (
            format!("{BASE}take_profit_pct: close\n"),
            vec!["line 7, column 18: take_profit_pct must be a number computed from parameters and numbers, found a number series"],
        ),
        (
            BASE.replace("constraint n1 < n2", "constraint close > n1"),
            vec!["line 4, column 12: a constraint can only use parameters and numbers, not series"],
        ),
        (
            BASE.replace("= 10", "= 30"),
            vec!["line 4, column 1: the parameters' defaults do not satisfy this constraint"],
        ),
        (
            exit("buy: close > open"),
            vec!["line 6, column 1: expected a statement (strategy, param, constraint, long entry, long exit, short entry, short exit, stop_loss_pct, take_profit_pct, trailing_stop_pct or reenter), found 'buy'"],
        ),
        (
            exit("long exit: close > n1[1]"),
            vec!["line 6, column 20: only number series can be indexed with [k] (k bars ago), found a number"],
        ),
        (
            exit("long exit: close > open[n1 + 1]"),
            vec!["line 6, column 25: k in x[k] must be an int parameter or a whole number, not an expression"],
        ),
        (
            exit(&format!("long exit: close > {}close{}", "(".repeat(70), ")".repeat(70))),
            vec!["line 6, column 84: parentheses and brackets nest more than 64 levels deep"],
        ),
        (
            exit(&format!("long exit: close > {}", vec!["close"; 1100].join(" + "))),
            vec!["line 6, column 7980: the program has more than 2000 expression nodes; simplify it"],
        ),
        (
            format!("{BASE}#{}\n", "x".repeat(70_000)),
            vec!["line 1, column 1: the program has 70201 bytes; the limit is 65536 (64 KiB)"],
        ),
        (
            exit("long exit: not close"),
            vec!["line 6, column 16: 'not' needs a condition (true/false) on its right, found a number series; compare it with <, >, …"],
        ),
        (
            exit("long exit: crosses_above(n1, n2)"),
            vec!["line 6, column 12: crosses_above needs a series in at least one argument; both are numbers"],
        ),
        (
            exit("long exit: sma > close"),
            vec!["line 6, column 12: 'sma' is a function: call it with its arguments, like sma(…)"],
        ),
        (
            exit("long exit: close(1) > open"),
            vec!["line 6, column 12: 'close' is a series, not a function"],
        ),
        (
            exit("long exit: reenter: true"),
            vec!["line 6, column 19: expected an operator or the end of the line, found ':'"],
        ),
        (
            // Columns count characters, not bytes.
            "strategy \"é\"\nparam n1: int 2..100 = 10\nlong entry: close > 1\nlong exit: clöse > 2\n".to_string(),
            vec!["line 4, column 14: unexpected character 'ö'"],
        ),
        (
            // Several bad lines: one error each, in order, without follow-up errors.
            BASE.replace("param n1: int 2..100 = 10", "param n1: int 2..100 = ")
                .replace(EXIT, "long exit: close <")
                + "short entry: close < ema(close, n1)\nshort exit: close > open\n",
            vec![
                "line 2, column 24: expected a number, found the end of the line",
                "line 6, column 19: expected an expression, found the end of the line",
            ],
        ),
    ];
    assert!(cases.len() >= 20);
    for (src, want) in &cases {
        assert_eq!(&errors(src), want, "program:\n{src}");
    }
}

#[test]
fn deep_prefix_chains_and_long_lines_do_not_overflow_the_stack() {
    // 25,000 unary minus / not tokens: parsed with loops, stopped by the node cap.
    let src = format!(
        "strategy \"x\"\nlong entry: {}close > 1\nlong exit: {} close > 1\n",
        "-".repeat(20_000),
        "not ".repeat(5_000)
    );
    let e = errors(&src);
    assert!(e[0].contains("more than 2000 expression nodes"), "{e:?}");
    // Unclosed parentheses past the depth limit.
    let src = format!(
        "strategy \"x\"\nlong entry: {}\nlong exit: close > 1\n",
        "(".repeat(20_000)
    );
    assert_eq!(
        errors(&src),
        ["line 2, column 77: parentheses and brackets nest more than 64 levels deep"]
    );
}

#[test]
fn resolve_params_and_grid_check_ranges_kinds_and_constraints() {
    let p = program(RSI_REVERSION);
    let e = p
        .resolve_params(&BTreeMap::from([("period".to_string(), 2.5)]), "params")
        .unwrap_err();
    assert_eq!(e.field, "params.period");
    let e = p
        .resolve_params(&BTreeMap::from([("lower".to_string(), 80.0)]), "params")
        .unwrap_err();
    assert_eq!(e.message, "the values break the constraint lower < upper");
    let e = p
        .resolve_params(&BTreeMap::from([("nope".to_string(), 1.0)]), "params")
        .unwrap_err();
    assert_eq!(e.field, "params.nope");
    assert_eq!(
        p.resolve_params(&BTreeMap::new(), "params").unwrap(),
        vec![14.0, 30.0, 70.0]
    );
    let limits = Limits::default();
    let g = p
        .grid(
            &BTreeMap::from([
                ("lower".to_string(), range(20.0, 60.0, 10.0)),
                ("upper".to_string(), range(40.0, 80.0, 10.0)),
            ]),
            None,
            &limits,
        )
        .unwrap();
    // lower ∈ {20..60}, upper ∈ {40..80}: 25 pairs, lower < upper leaves 25 - (1 + 2 + 3) = 19.
    assert_eq!((g.product, g.runs), (25, 19));
    let e = p
        .grid(
            &BTreeMap::from([("period".to_string(), range(1.0, 10.0, 1.0))]),
            None,
            &limits,
        )
        .unwrap_err();
    assert_eq!(e.field, "grid.period.start");
    let c = Constraint::LessThan {
        a: "upper".into(),
        b: "lower".into(),
    };
    let e = p
        .grid(
            &BTreeMap::from([("lower".to_string(), range(20.0, 60.0, 10.0))]),
            Some(&c),
            &limits,
        )
        .unwrap_err();
    assert_eq!(e.field, "grid");
    let d = program(DONCHIAN);
    let e = d
        .validate_against_bars(&[100.0, 20.0], 101, "params")
        .unwrap_err();
    assert!(e.message.contains("at least 102 bars"), "{}", e.message);
    assert!(d
        .validate_against_bars(&[100.0, 20.0], 102, "params")
        .is_ok());
}

#[test]
fn the_documented_examples_check() {
    let doc = include_str!("../../../../../docs/rules.md");
    let blocks: Vec<&str> = doc
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.trim_start_matches('\n'))
        .filter(|b| b.starts_with("strategy \""))
        .collect();
    assert_eq!(blocks.len(), 4, "the first program and the three examples");
    for b in blocks {
        let p = program(b);
        assert!(p.lookback(&p.defaults()) > 0);
    }
    // The SMA example is the one the tests and the bench compare with the built-in.
    assert!(doc.contains(SMA_CROSS.trim_end()));
}
