//! Lowering expressions to plan nodes: names, calls and their arity, types (number vs
//! condition, series vs parameter value), windows and `x[k]`, each error at its byte offset.

use super::*;

impl Lower<'_> {
    pub(super) fn ty(&self, id: NodeId) -> Ty {
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
        self.number_series(
            e,
            e.span.start,
            &format!(
                "the {nth} argument of {f} must be a number series (such as close or high - low)"
            ),
        )
    }

    /// `e`, which must be a number series; otherwise an error at `at`: `needs`, and what it
    /// found.
    fn number_series(&mut self, e: &Expr, at: usize, needs: &str) -> Result<NodeId, Err> {
        let id = self.expr(e)?;
        let t = self.ty(id);
        if t.boolean || t.scalar {
            return Err((at, format!("{needs}, found {}", what(t))));
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

    pub(super) fn expr(&mut self, e: &Expr) -> Result<NodeId, Err> {
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
                let id = self.number_series(
                    base,
                    e.span.start,
                    "only number series can be indexed with [k] (k bars ago)",
                )?;
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
