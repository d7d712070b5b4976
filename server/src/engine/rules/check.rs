//! Checking a parsed program and lowering it to a [`Plan`]: names, arity, types (number vs
//! condition, series vs parameter value), windows, parameter declarations and ranges, required
//! sections, stops and constraints. Every error carries its byte offset; the caller turns
//! offsets into lines and columns.

use super::plan::{Builder, Field, Ind, NodeId, Op, Plan, Roots, Win};
use super::syntax::{self, BinOp, Expr, ExprKind, Line, RuleKind, Side, Span, Stmt, StopKind};
use super::{ConstraintDecl, ParamDecl, ParamKind, MAX_PARAMS, MAX_WINDOW};

/// A program that passed every check.
pub(crate) struct Checked {
    pub name: String,
    pub params: Vec<ParamDecl>,
    pub constraints: Vec<ConstraintDecl>,
    pub reenter: bool,
    pub has_short: bool,
    pub stops: [bool; 3],
    pub plan: Plan,
}

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

const OTHER_FUNCTIONS: [&str; 8] = [
    "atr",
    "macd",
    "bollinger",
    "crosses_above",
    "crosses_below",
    "min",
    "max",
    "abs",
];

fn is_function(name: &str) -> bool {
    WINDOWED.iter().any(|w| w.0 == name) || OTHER_FUNCTIONS.contains(&name)
}

fn function_list() -> String {
    let mut v: Vec<&str> = WINDOWED.iter().map(|w| w.0).collect();
    v.extend(OTHER_FUNCTIONS);
    v.join(", ")
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

impl Lower<'_> {
    fn ty(&self, id: NodeId) -> Ty {
        let n = self.b.node(id);
        Ty {
            boolean: n.boolean,
            scalar: n.scalar,
        }
    }

    fn text(&self, s: Span) -> &str {
        &self.src[s.start..s.end]
    }

    fn param(&self, name: &str) -> Option<(usize, &ParamDecl)> {
        self.params.iter().enumerate().find(|(_, p)| p.name == name)
    }

    fn number(&mut self, e: &Expr, side: &str, op: &str) -> Result<NodeId, Err> {
        let id = self.expr(e)?;
        let t = self.ty(id);
        if t.boolean {
            return Err((
                e.span.start,
                format!("'{op}' needs a number on its {side}, found {}", what(t)),
            ));
        }
        Ok(id)
    }

    fn condition(&mut self, e: &Expr, side: &str, op: &str) -> Result<NodeId, Err> {
        let id = self.expr(e)?;
        let t = self.ty(id);
        if !t.boolean {
            return Err((
                e.span.start,
                format!(
                    "'{op}' needs a condition (true/false) on its {side}, found {}; compare it with <, >, …",
                    what(t)
                ),
            ));
        }
        Ok(id)
    }

    fn series(&mut self, e: &Expr, f: &str, nth: &str) -> Result<NodeId, Err> {
        let id = self.expr(e)?;
        let t = self.ty(id);
        if t.boolean || t.scalar {
            return Err((
                e.span.start,
                format!(
                    "the {nth} argument of {f} must be a number series (such as close or high - low), found {}",
                    what(t)
                ),
            ));
        }
        Ok(id)
    }

    /// A window or shift: a whole-number constant or an int parameter, at least `min`.
    /// `label` names it in messages ("the window of sma").
    fn window(&mut self, e: &Expr, label: &str, min: u32) -> Result<Win, Err> {
        match &e.kind {
            ExprKind::Num { value, int } => {
                if !int || value.fract() != 0.0 {
                    return Err((
                        e.span.start,
                        format!(
                            "{label} must be a whole number, found '{}'",
                            self.text(e.span)
                        ),
                    ));
                }
                if *value < min as f64 || *value > MAX_WINDOW as f64 {
                    return Err((
                        e.span.start,
                        format!(
                            "{label} must be between {min} and {MAX_WINDOW}, found '{}'",
                            self.text(e.span)
                        ),
                    ));
                }
                Ok(Win::Const(*value as u32))
            }
            ExprKind::Name(n) if self.poisoned.contains(n) => match self.param(n) {
                Some((i, _)) => Ok(Win::Param(i as u16)),
                None => Err(follow_up()),
            },
            ExprKind::Name(n) if self.param(n).is_some() => {
                let (i, p) = self.param(n).expect("checked");
                if p.kind != ParamKind::Int {
                    return Err((
                        e.span.start,
                        format!(
                            "{label} must be an int parameter or a whole number, but '{n}' is a float parameter"
                        ),
                    ));
                }
                if p.min < min as f64 {
                    return Err((
                        e.span.start,
                        format!(
                            "{label} must be at least {min}, but parameter '{n}' can be {} (its range is {}..{})",
                            fmt_num(p.min),
                            fmt_num(p.min),
                            fmt_num(p.max)
                        ),
                    ));
                }
                Ok(Win::Param(i as u16))
            }
            _ => {
                let id = self.expr(e)?;
                let t = self.ty(id);
                let found = if matches!(e.kind, ExprKind::Name(_)) || t.boolean {
                    what(t)
                } else {
                    "an expression"
                };
                Err((
                    e.span.start,
                    format!("{label} must be an int parameter or a whole number, not {found}"),
                ))
            }
        }
    }

    fn arity(
        &self,
        name: &str,
        span: Span,
        args: &[Expr],
        n: usize,
        hint: &str,
    ) -> Result<(), Err> {
        if args.len() != n {
            let s = if n == 1 { "" } else { "s" };
            return Err((
                span.start,
                format!(
                    "{name} takes {n} argument{s} ({hint}), found {}",
                    args.len()
                ),
            ));
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<NodeId, Err> {
        match &e.kind {
            ExprKind::Num { value, .. } => Ok(self.b.add(Op::Const(value.to_bits()), false)),
            ExprKind::Name(n) => {
                if let Some((i, _)) = self.param(n) {
                    return Ok(self.b.add(Op::Param(i as u16), false));
                }
                if let Some((_, f)) = Field::ALL.iter().find(|f| f.0 == n) {
                    return Ok(self.b.add(Op::Data(*f), false));
                }
                if self.poisoned.contains(n) {
                    return Err(follow_up());
                }
                if is_function(n) {
                    return Err((
                        e.span.start,
                        format!("'{n}' is a function: call it with its arguments, like {n}(…)"),
                    ));
                }
                let params: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                let params = if params.is_empty() {
                    "no parameters are declared".to_string()
                } else {
                    format!("parameters: {}", params.join(", "))
                };
                Err((
                    e.span.start,
                    format!(
                        "unknown name '{n}' ({params}; series: open, high, low, close, volume)"
                    ),
                ))
            }
            ExprKind::Neg(x) => {
                let id = self.number(x, "right", "-")?;
                Ok(self.b.add(Op::Neg(id), false))
            }
            ExprKind::Not(x) => {
                let id = self.condition(x, "right", "not")?;
                Ok(self.b.add(Op::Not(id), true))
            }
            ExprKind::Bin { op, l, r, .. } => {
                let sym = op.symbol();
                if matches!(op, BinOp::And | BinOp::Or) {
                    let a = self.condition(l, "left", sym)?;
                    let b = self.condition(r, "right", sym)?;
                    Ok(self.b.add(Op::Bin(*op, a, b), true))
                } else {
                    let a = self.number(l, "left", sym)?;
                    let b = self.number(r, "right", sym)?;
                    Ok(self.b.add(Op::Bin(*op, a, b), op.is_comparison()))
                }
            }
            ExprKind::Index { base, index } => {
                let id = self.expr(base)?;
                let t = self.ty(id);
                if t.boolean || t.scalar {
                    return Err((
                        e.span.start,
                        format!(
                            "only number series can be indexed with [k] (k bars ago), found {}",
                            what(t)
                        ),
                    ));
                }
                let k = self.window(index, "k in x[k]", 0)?;
                Ok(self.b.add(Op::Shift(id, k), false))
            }
            ExprKind::Field {
                base,
                field,
                field_span,
            } => match &base.kind {
                ExprKind::Call {
                    name,
                    name_span,
                    args,
                } if name == "macd" || name == "bollinger" => {
                    self.record(name, *name_span, args, field, *field_span)
                }
                _ => Err((
                    field_span.start,
                    format!(
                        "only macd(…) and bollinger(…) have fields; '.{field}' cannot be used here"
                    ),
                )),
            },
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args),
        }
    }

    fn call(&mut self, name: &str, span: Span, args: &[Expr]) -> Result<NodeId, Err> {
        if let Some(&(_, ind, min)) = WINDOWED.iter().find(|w| w.0 == name) {
            self.arity(name, span, args, 2, "a series and a window")?;
            let x = self.series(&args[0], name, "first")?;
            let w = self.window(&args[1], &format!("the window of {name}"), min)?;
            return Ok(self.b.add(Op::Ind(ind, x, w), false));
        }
        match name {
            "atr" => {
                self.arity(name, span, args, 1, "a window")?;
                let w = self.window(&args[0], "the window of atr", 1)?;
                Ok(self.b.add(Op::Atr(w), false))
            }
            "macd" => Err((
                span.start,
                "macd(…) gives three series: choose one with .line, .signal or .hist".into(),
            )),
            "bollinger" => Err((
                span.start,
                "bollinger(…) gives three series: choose one with .upper, .mid or .lower".into(),
            )),
            "crosses_above" | "crosses_below" => {
                self.arity(name, span, args, 2, "two number series")?;
                let a = self.number(&args[0], "first argument", name)?;
                let b = self.number(&args[1], "second argument", name)?;
                if self.ty(a).scalar && self.ty(b).scalar {
                    return Err((
                        span.start,
                        format!("{name} needs a series in at least one argument; both are numbers"),
                    ));
                }
                let op = if name == "crosses_above" {
                    Op::CrossAbove(a, b)
                } else {
                    Op::CrossBelow(a, b)
                };
                Ok(self.b.add(op, true))
            }
            "min" | "max" => {
                self.arity(name, span, args, 2, "two numbers or series")?;
                let a = self.number(&args[0], "first argument", name)?;
                let b = self.number(&args[1], "second argument", name)?;
                let op = if name == "min" {
                    Op::Min(a, b)
                } else {
                    Op::Max(a, b)
                };
                Ok(self.b.add(op, false))
            }
            "abs" => {
                self.arity(name, span, args, 1, "a number or series")?;
                let a = self.number(&args[0], "argument", name)?;
                Ok(self.b.add(Op::Abs(a), false))
            }
            _ => {
                let hint = if self.param(name).is_some() {
                    format!("'{name}' is a parameter, not a function")
                } else if Field::ALL.iter().any(|f| f.0 == name) {
                    format!("'{name}' is a series, not a function")
                } else {
                    format!("unknown function '{name}' (functions: {})", function_list())
                };
                Err((span.start, hint))
            }
        }
    }

    fn record(
        &mut self,
        name: &str,
        span: Span,
        args: &[Expr],
        field: &str,
        field_span: Span,
    ) -> Result<NodeId, Err> {
        if name == "macd" {
            self.arity(
                name,
                span,
                args,
                4,
                "a series, the fast, slow and signal windows",
            )?;
            let x = self.series(&args[0], name, "first")?;
            let fast = self.window(&args[1], "the fast window of macd", 1)?;
            let slow = self.window(&args[2], "the slow window of macd", 1)?;
            let signal = self.window(&args[3], "the signal window of macd", 1)?;
            if !matches!(field, "line" | "signal" | "hist") {
                return Err((
                    field_span.start,
                    format!("macd(…) has no field '{field}'; use .line, .signal or .hist"),
                ));
            }
            let ef = self.b.add(Op::Ind(Ind::Ema, x, fast), false);
            let es = self.b.add(Op::Ind(Ind::Ema, x, slow), false);
            let line = self.b.add(Op::Bin(BinOp::Sub, ef, es), false);
            if field == "line" {
                return Ok(line);
            }
            let sig = self.b.add(Op::Ind(Ind::Ema, line, signal), false);
            if field == "signal" {
                return Ok(sig);
            }
            Ok(self.b.add(Op::Bin(BinOp::Sub, line, sig), false))
        } else {
            self.arity(name, span, args, 3, "a series, a window and a width k")?;
            let x = self.series(&args[0], name, "first")?;
            let n = self.window(&args[1], "the window of bollinger", 2)?;
            let k = self.expr(&args[2])?;
            let t = self.ty(k);
            if t.boolean || !t.scalar {
                return Err((
                    args[2].span.start,
                    format!(
                        "the width k of bollinger must be a number or a parameter expression, found {}",
                        what(t)
                    ),
                ));
            }
            if !matches!(field, "upper" | "mid" | "lower") {
                return Err((
                    field_span.start,
                    format!("bollinger(…) has no field '{field}'; use .upper, .mid or .lower"),
                ));
            }
            let mid = self.b.add(Op::Ind(Ind::Sma, x, n), false);
            if field == "mid" {
                return Ok(mid);
            }
            let sd = self.b.add(Op::Ind(Ind::Stdev, x, n), false);
            let width = self.b.add(Op::Bin(BinOp::Mul, k, sd), false);
            let op = if field == "upper" {
                BinOp::Add
            } else {
                BinOp::Sub
            };
            Ok(self.b.add(Op::Bin(op, mid, width), false))
        }
    }
}

/// Checks the declared parameter of one `param` line (pushes errors, returns the declaration
/// to use from here on, sanitized so later checks do not cascade, and whether it had errors).
fn param_decl(line: &Line, src: &str, errs: &mut Vec<Err>) -> Option<(ParamDecl, bool)> {
    let Stmt::Param {
        name,
        name_span,
        kind,
        kind_span,
        min,
        max,
        default,
    } = &line.stmt
    else {
        return None;
    };
    let text = |s: Span| &src[s.start..s.end];
    if reserved(name) {
        errs.push((
            name_span.start,
            format!(
                "'{name}' is a series, function or keyword name; choose another parameter name"
            ),
        ));
        return None;
    }
    let kind = match kind.as_str() {
        "int" => ParamKind::Int,
        "float" => ParamKind::Float,
        other => {
            errs.push((
                kind_span.start,
                format!("expected 'int' or 'float', found '{other}'"),
            ));
            return Some((
                ParamDecl {
                    name: name.clone(),
                    kind: ParamKind::Int,
                    min: min.value,
                    max: max.value,
                    default: default.value,
                },
                true,
            ));
        }
    };
    let before = errs.len();
    for lit in [min, max, default] {
        if kind == ParamKind::Int {
            if !lit.int || lit.value.fract() != 0.0 {
                errs.push((
                    lit.span.start,
                    format!(
                        "'{name}' is an int parameter, so '{}' must be a whole number",
                        text(lit.span)
                    ),
                ));
            } else if lit.value.abs() > MAX_WINDOW as f64 {
                errs.push((
                    lit.span.start,
                    format!("int parameters must lie between -{MAX_WINDOW} and {MAX_WINDOW}, found '{}'", text(lit.span)),
                ));
            }
        } else if lit.value.abs() > 1e15 {
            errs.push((
                lit.span.start,
                format!(
                    "parameter values must lie between -1e15 and 1e15, found '{}'",
                    text(lit.span)
                ),
            ));
        }
    }
    if errs.len() == before {
        if max.value < min.value {
            errs.push((
                max.span.start,
                format!(
                    "the range of '{name}' is empty: its maximum {} is below its minimum {}",
                    text(max.span),
                    text(min.span)
                ),
            ));
        } else if default.value < min.value || default.value > max.value {
            errs.push((
                default.span.start,
                format!(
                    "the default {} of '{name}' is outside its range {}..{}",
                    text(default.span),
                    text(min.span),
                    text(max.span)
                ),
            ));
        }
    }
    Some((
        ParamDecl {
            name: name.clone(),
            kind,
            min: min.value,
            max: max.value.max(min.value),
            default: default.value.clamp(min.value, max.value.max(min.value)),
        },
        errs.len() > before,
    ))
}

/// Checks and lowers parsed `lines`; errors are `(byte offset, message)`, and `errs` already
/// holds the lexing and parsing errors (`broken_params`: parameters whose line did not parse).
pub(crate) fn check_lines(
    src: &str,
    lines: &[Line],
    broken_params: &[String],
    errs: &mut Vec<Err>,
) -> Option<Checked> {
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
    Some(Checked {
        name: name.map(|n| n.0).unwrap_or_default(),
        params,
        constraints: constraint_decls,
        reenter: reenter.unwrap_or(false),
        has_short,
        stops,
        plan,
    })
}
