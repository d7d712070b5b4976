//! Checking a parsed program and lowering it to a [`Plan`]: names, arity, types (number vs
//! condition, series vs parameter value), windows, parameter declarations and ranges, required
//! sections, stops and constraints. Every error carries its byte offset; the caller turns
//! offsets into lines and columns.

use app::model::research::RULE_FUNCTIONS;

use super::plan::{Builder, Field, Ind, NodeId, Op, Roots, Win};
use super::syntax::{self, BinOp, Expr, ExprKind, Line, RuleKind, Side, Span, Stmt, StopKind};
use super::{ConstraintDecl, ParamDecl, ParamKind, Program, MAX_PARAMS, MAX_WINDOW};

mod lower;
mod params;

use params::param_decl;

type Err = (usize, String);

/// Functions with one series and one window: name, indicator, smallest window.
const WINDOWED: [(&str, Ind, u32); 9] = [
    ("sma", Ind::Sma, 1),
    ("ema", Ind::Ema, 1),
    ("wma", Ind::Wma, 1),
    ("rsi", Ind::Rsi, 1),
    ("stdev", Ind::Stdev, 2),
    ("zscore", Ind::Zscore, 2),
    ("highest", Ind::Highest, 1),
    ("lowest", Ind::Lowest, 1),
    ("roc", Ind::Roc, 1),
];

fn is_function(name: &str) -> bool {
    RULE_FUNCTIONS.contains(&name)
}

fn function_list() -> String {
    RULE_FUNCTIONS.join(", ")
}

/// Names a parameter cannot take.
fn reserved(name: &str) -> bool {
    Field::ALL.iter().any(|f| f.0 == name)
        || is_function(name)
        || syntax::KEYWORDS.contains(&name)
        || matches!(name, "true" | "false")
}

fn fmt_num(v: f64) -> String {
    format!("{v}")
}

struct Lower<'a> {
    b: Builder,
    params: &'a [ParamDecl],
    /// Parameters whose declaration has an error already reported: their uses are not
    /// checked further (no cascade of errors).
    poisoned: &'a [String],
    src: &'a str,
}

/// An error that follows from one already reported: dropped before errors are shown.
fn follow_up() -> Err {
    (0, String::new())
}

/// The type of a lowered expression, read off its node.
#[derive(Clone, Copy)]
struct Ty {
    boolean: bool,
    scalar: bool,
}

fn what(t: Ty) -> &'static str {
    match (t.boolean, t.scalar) {
        (true, _) => "a condition (true/false)",
        (false, true) => "a number",
        (false, false) => "a number series",
    }
}

/// Checks and lowers parsed `lines`; errors are `(byte offset, message)`, and `errs` already
/// holds the lexing and parsing errors (`broken_params`: parameters whose line did not parse).
pub(crate) fn check_lines(
    src: &str,
    lines: &[Line],
    broken_params: &[String],
    errs: &mut Vec<Err>,
) -> Option<Program> {
    // Sections that seem missing may be on a line that did not parse: only say so when every
    // line parsed.
    let syntax_ok = errs.is_empty();
    let mut poisoned: Vec<String> = broken_params.to_vec();
    let line_of = |at: usize| src[..at.min(src.len())].matches('\n').count() + 1;
    let mut name: Option<(String, Span)> = None;
    let mut params: Vec<ParamDecl> = Vec::new();
    let mut param_lines: Vec<usize> = Vec::new();
    for l in lines {
        match &l.stmt {
            Stmt::Strategy { name: n } => {
                if let Some((_, first)) = &name {
                    errs.push((
                        l.span.start,
                        format!(
                            "the strategy is already named on line {}",
                            line_of(first.start)
                        ),
                    ));
                } else {
                    let trimmed = n.trim();
                    if trimmed.is_empty() || trimmed.chars().count() > 100 {
                        errs.push((
                            l.span.start,
                            "the strategy's name must have 1 to 100 characters".into(),
                        ));
                    }
                    name = Some((trimmed.to_string(), l.span));
                }
            }
            Stmt::Param {
                name: pname,
                name_span,
                ..
            } => {
                if let Some(k) = params.iter().position(|p| &p.name == pname) {
                    errs.push((
                        name_span.start,
                        format!(
                            "parameter '{pname}' is already declared on line {}",
                            line_of(param_lines[k])
                        ),
                    ));
                    continue;
                }
                if params.len() == MAX_PARAMS {
                    errs.push((
                        l.span.start,
                        format!("a strategy can declare at most {MAX_PARAMS} parameters"),
                    ));
                    continue;
                }
                match param_decl(l, src, errs) {
                    Some((p, bad)) => {
                        if bad {
                            poisoned.push(p.name.clone());
                        }
                        params.push(p);
                        param_lines.push(l.span.start);
                    }
                    None => poisoned.push(pname.clone()),
                }
            }
            _ => {}
        }
    }

    let mut lower = Lower {
        b: Builder::default(),
        params: &params,
        poisoned: &poisoned,
        src,
    };
    let mut roots = Roots::default();
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    let mut constraints = Vec::new();
    let mut constraint_decls = Vec::new();
    let mut reenter: Option<bool> = None;
    let mut stops = [false; 3];
    let mut once = |what: &'static str, at: usize, errs: &mut Vec<Err>| -> bool {
        if let Some((_, first)) = seen.iter().find(|(w, _)| *w == what) {
            errs.push((
                at,
                format!("{what} is already given on line {}", line_of(*first)),
            ));
            false
        } else {
            seen.push((what, at));
            true
        }
    };
    for l in lines {
        match &l.stmt {
            Stmt::Strategy { .. } | Stmt::Param { .. } => {}
            Stmt::Constraint { expr } => match lower.expr(expr) {
                Ok(id) => {
                    let t = lower.ty(id);
                    if !t.boolean || !t.scalar {
                        errs.push((
                            expr.span.start,
                            if t.boolean {
                                "a constraint can only use parameters and numbers, not series".into()
                            } else {
                                format!(
                                    "a constraint must be a condition on parameters (such as n1 < n2), found {}",
                                    what(t)
                                )
                            },
                        ));
                    } else {
                        constraints.push(id);
                        constraint_decls.push(ConstraintDecl {
                            text: src[expr.span.start..expr.span.end].to_string(),
                            line: line_of(l.span.start),
                        });
                    }
                }
                Err(e) => errs.push(e),
            },
            Stmt::Rule { side, kind, expr } => {
                let what_ = match (side, kind) {
                    (Side::Long, RuleKind::Entry) => "long entry",
                    (Side::Long, RuleKind::Exit) => "long exit",
                    (Side::Short, RuleKind::Entry) => "short entry",
                    (Side::Short, RuleKind::Exit) => "short exit",
                };
                if !once(what_, l.span.start, errs) {
                    continue;
                }
                match lower.expr(expr) {
                    Ok(id) => {
                        let t = lower.ty(id);
                        if !t.boolean {
                            errs.push((
                                expr.span.start,
                                format!(
                                    "a {what_} rule must be a condition (true/false), such as close > sma(close, 20); found {}",
                                    what(t)
                                ),
                            ));
                            continue;
                        }
                        let slot = match (side, kind) {
                            (Side::Long, RuleKind::Entry) => &mut roots.long_entry,
                            (Side::Long, RuleKind::Exit) => &mut roots.long_exit,
                            (Side::Short, RuleKind::Entry) => &mut roots.short_entry,
                            (Side::Short, RuleKind::Exit) => &mut roots.short_exit,
                        };
                        *slot = Some(id);
                    }
                    Err(e) => errs.push(e),
                }
            }
            Stmt::Stop { kind, expr } => {
                let k = kind.keyword();
                if !once(k, l.span.start, errs) {
                    continue;
                }
                match lower.expr(expr) {
                    Ok(id) => {
                        let t = lower.ty(id);
                        if t.boolean || !t.scalar {
                            errs.push((
                                expr.span.start,
                                format!(
                                    "{k} must be a number computed from parameters and numbers, found {}",
                                    what(t)
                                ),
                            ));
                            continue;
                        }
                        let i = match kind {
                            StopKind::StopLoss => 0,
                            StopKind::TakeProfit => 1,
                            StopKind::Trailing => 2,
                        };
                        roots.stops[i] = Some(id);
                        stops[i] = true;
                    }
                    Err(e) => errs.push(e),
                }
            }
            Stmt::Reenter { value } => {
                if once("reenter", l.span.start, errs) {
                    reenter = Some(*value);
                }
            }
        }
    }

    let top = name.as_ref().map_or(0, |(_, s)| s.start);
    if name.is_none() && syntax_ok {
        errs.push((0, "the program has no 'strategy \"name\"' line".into()));
    }
    for (root, what_) in [
        (roots.long_entry, "long entry"),
        (roots.long_exit, "long exit"),
    ] {
        if syntax_ok && root.is_none() && !seen.iter().any(|(w, _)| *w == what_) {
            errs.push((top, format!("the strategy has no '{what_}:' rule")));
        }
    }
    let short_entry = seen.iter().find(|(w, _)| *w == "short entry");
    let short_exit = seen.iter().find(|(w, _)| *w == "short exit");
    match (short_entry, short_exit) {
        _ if !syntax_ok => {}
        (Some((_, at)), None) => errs.push((
            *at,
            "a 'short entry' rule needs a 'short exit' rule too".into(),
        )),
        (None, Some((_, at))) => errs.push((
            *at,
            "a 'short exit' rule needs a 'short entry' rule too".into(),
        )),
        _ => {}
    }

    let n_params = params.len();
    let plan = lower.b.finish(roots, constraints, n_params);
    // Stops must be valid percentages for every parameter value.
    let bounds: Vec<(f64, f64)> = params.iter().map(|p| (p.min, p.max)).collect();
    for (i, kind) in [StopKind::StopLoss, StopKind::TakeProfit, StopKind::Trailing]
        .into_iter()
        .enumerate()
    {
        let Some(id) = plan.roots.stops[i] else {
            continue;
        };
        let (lo, hi) = plan.interval(id, &bounds);
        let ok = match kind {
            StopKind::TakeProfit => lo > 0.0 && hi.is_finite(),
            _ => lo > 0.0 && hi < 100.0,
        };
        if !ok {
            let at = lines
                .iter()
                .find(|l| matches!(&l.stmt, Stmt::Stop { kind: k, .. } if *k == kind))
                .map_or(0, |l| l.span.start);
            let need = if kind == StopKind::TakeProfit {
                "above 0"
            } else {
                "above 0 and below 100"
            };
            errs.push((
                at,
                format!(
                    "{} must be {need} for every parameter value in range; here it can range from {} to {}",
                    kind.keyword(),
                    fmt_num(lo),
                    fmt_num(hi)
                ),
            ));
        }
    }
    if errs.is_empty() {
        let defaults: Vec<f64> = params.iter().map(|p| p.default).collect();
        for (k, &c) in plan.constraints.iter().enumerate() {
            if plan.scalar(c, &defaults) == 0.0 {
                let at = lines
                    .iter()
                    .filter(|l| matches!(l.stmt, Stmt::Constraint { .. }))
                    .nth(k)
                    .map_or(0, |l| l.span.start);
                errs.push((
                    at,
                    "the parameters' defaults do not satisfy this constraint".into(),
                ));
            }
        }
    }
    if !errs.is_empty() {
        return None;
    }
    let has_short = plan.roots.short_entry.is_some();
    Some(Program {
        name: name.map(|n| n.0).unwrap_or_default(),
        params,
        constraints: constraint_decls,
        reenter: reenter.unwrap_or(false),
        has_short,
        stops,
        plan,
    })
}

#[cfg(test)]
#[test]
fn the_windowed_indicators_are_listed_functions() {
    for (name, _, _) in WINDOWED {
        assert!(is_function(name), "{name} is missing from RULE_FUNCTIONS");
    }
}
