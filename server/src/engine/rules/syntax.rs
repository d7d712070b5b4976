//! Lexing and parsing of rule programs (winnow), into a small AST with byte spans.
//!
//! The lexer turns the source into tokens (names, numbers, strings, punctuation, line ends);
//! comments (`#` to the end of the line) and blanks are dropped. A statement is one line. The
//! parser reads each line's tokens on its own, so one bad line gives one error and the others
//! are still checked. Expressions are parsed by precedence levels with loops (no recursion per
//! operator); only parentheses, calls and `[k]` recurse, and their depth is checked before the
//! line is parsed, so no input can overflow the stack. Every expression node built counts
//! against [`MAX_NODES`](super::MAX_NODES) for the whole program.
//!
//! `lex` holds the lexer, `ast` the tree; this file the parser and its errors.

use std::cell::Cell;

use winnow::combinator::{alt, cut_err, opt};
use winnow::error::{AddContext, ErrMode, ParserError};
use winnow::stream::{Stateful, Stream, TokenSlice};
use winnow::token::any;
use winnow::Parser;

use super::{MAX_DEPTH, MAX_NODES};

mod ast;
mod lex;

pub(crate) use ast::*;
pub(crate) use lex::*;

// ---------------------------------------------------------------------------------------------
// Parser errors

/// What the parser looked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Expect {
    Punct(&'static str),
    Word(&'static str),
    Desc(&'static str),
}

impl Expect {
    fn text(self) -> String {
        match self {
            Expect::Punct(p) => format!("'{p}'"),
            Expect::Word(w) => format!("'{w}'"),
            Expect::Desc(d) => d.to_string(),
        }
    }
}

/// A parse error: where, what was found there, what was expected (or a message of its own).
#[derive(Clone, Debug)]
pub(crate) struct PErr {
    pub at: usize,
    pub found: Option<Token>,
    pub expected: Vec<Expect>,
    pub message: Option<String>,
}

impl PErr {
    fn custom(at: usize, message: impl Into<String>) -> Self {
        PErr {
            at,
            found: None,
            expected: Vec::new(),
            message: Some(message.into()),
        }
    }

    /// The message shown to the user (`src` to quote numbers as written).
    pub fn render(&self, src: &str) -> String {
        if let Some(m) = &self.message {
            return m.clone();
        }
        let mut exp: Vec<String> = Vec::new();
        for e in &self.expected {
            let t = e.text();
            if !exp.contains(&t) {
                exp.push(t);
            }
        }
        let expected = match exp.len() {
            0 => "something else".to_string(),
            1 => exp[0].clone(),
            n => format!("{} or {}", exp[..n - 1].join(", "), exp[n - 1]),
        };
        let found = self
            .found
            .as_ref()
            .map_or("the end of the line".to_string(), |t| describe(t, src));
        format!("expected {expected}, found {found}")
    }
}

/// How a token is quoted in messages.
pub(crate) fn describe(t: &Token, src: &str) -> String {
    match &t.tok {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Num { .. } => format!("'{}'", &src[t.span.start..t.span.end]),
        Tok::Str(_) => "a string".into(),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::Newline | Tok::End | Tok::Bad => "the end of the line".into(),
    }
}

type In<'t> = Stateful<TokenSlice<'t, Token>, &'t Cell<usize>>;
type PResult<O> = Result<O, ErrMode<PErr>>;

impl<'t> ParserError<In<'t>> for PErr {
    type Inner = Self;

    fn from_input(input: &In<'t>) -> Self {
        let t = input.first().cloned();
        PErr {
            at: t.as_ref().map_or(usize::MAX, |t| t.span.start),
            found: t,
            expected: Vec::new(),
            message: None,
        }
    }

    fn into_inner(self) -> Result<Self::Inner, Self> {
        Ok(self)
    }

    fn or(self, other: Self) -> Self {
        // The error that got further wins; at the same place, both expectations count.
        if other.at > self.at {
            other
        } else if self.at > other.at {
            self
        } else {
            let mut e = self;
            if e.message.is_none() {
                e.expected.extend(other.expected);
            }
            e
        }
    }
}

impl<'t> AddContext<In<'t>, Expect> for PErr {
    fn add_context(
        mut self,
        _input: &In<'t>,
        _start: &<In<'t> as Stream>::Checkpoint,
        c: Expect,
    ) -> Self {
        // The innermost expectation is the precise one; outer parsers do not override it.
        if self.expected.is_empty() && self.message.is_none() {
            self.expected.push(c);
        }
        self
    }
}

fn backtrack(i: &In<'_>, e: Expect) -> ErrMode<PErr> {
    let mut err = PErr::from_input(i);
    err.expected.push(e);
    ErrMode::Backtrack(err)
}

fn cut_at(at: usize, message: impl Into<String>) -> ErrMode<PErr> {
    ErrMode::Cut(PErr::custom(at, message))
}

fn peek_tok<'t>(i: &In<'t>) -> Option<&'t Token> {
    let mut s: TokenSlice<'t, Token> = i.input.clone();
    s.next_token()
}

fn p<'t>(sym: &'static str) -> impl Parser<In<'t>, &'t Token, ErrMode<PErr>> {
    any.verify(move |t: &&Token| t.is_punct(sym))
        .context(Expect::Punct(sym))
}

fn word<'t>(w: &'static str) -> impl Parser<In<'t>, &'t Token, ErrMode<PErr>> {
    any.verify(move |t: &&Token| t.is_word(w))
        .context(Expect::Word(w))
}

fn name<'t>(what: &'static str) -> impl Parser<In<'t>, (&'t str, Span), ErrMode<PErr>> {
    any.verify_map(|t: &'t Token| match &t.tok {
        Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => Some((s.as_str(), t.span)),
        _ => None,
    })
    .context(Expect::Desc(what))
}

/// Counts a new expression node against the program's cap.
fn node(i: &mut In<'_>, kind: ExprKind, span: Span) -> PResult<Expr> {
    let n = i.state.get() + 1;
    i.state.set(n);
    if n > MAX_NODES {
        return Err(cut_at(
            span.start,
            format!("the program has more than {MAX_NODES} expression nodes; simplify it"),
        ));
    }
    Ok(Expr { kind, span })
}

fn signed_number(i: &mut In<'_>) -> PResult<Lit> {
    let minus = opt(p("-")).parse_next(i)?;
    let (value, int, span) = any
        .verify_map(|t: &Token| match t.tok {
            Tok::Num { value, int } => Some((value, int, t.span)),
            _ => None,
        })
        .context(Expect::Desc("a number"))
        .parse_next(i)?;
    Ok(match minus {
        Some(m) => Lit {
            value: -value,
            int,
            span: m.span.to(span),
        },
        None => Lit { value, int, span },
    })
}

/// `expr := or`
pub(crate) fn expr(i: &mut In<'_>) -> PResult<Expr> {
    or_expr(i)
}

fn left_assoc(
    i: &mut In<'_>,
    operand: fn(&mut In<'_>) -> PResult<Expr>,
    ops: &[(&'static str, BinOp)],
    words: bool,
) -> PResult<Expr> {
    let mut l = operand(i)?;
    loop {
        let Some(t) = peek_tok(i) else { return Ok(l) };
        let Some(&(_, op)) = ops
            .iter()
            .find(|(s, _)| if words { t.is_word(s) } else { t.is_punct(s) })
        else {
            return Ok(l);
        };
        let _ = i.next_token();
        let r = cut_err(operand).parse_next(i)?;
        let span = l.span.to(r.span);
        l = node(
            i,
            ExprKind::Bin {
                op,
                op_span: t.span,
                l: Box::new(l),
                r: Box::new(r),
            },
            span,
        )?;
    }
}

fn or_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(i, and_expr, &[("or", BinOp::Or)], true)
}

fn and_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(i, not_expr, &[("and", BinOp::And)], true)
}

fn not_expr(i: &mut In<'_>) -> PResult<Expr> {
    let mut nots = Vec::new();
    while let Some(t) = opt(word("not")).parse_next(i)? {
        nots.push(t.span);
    }
    let mut e = if nots.is_empty() {
        cmp_expr(i)?
    } else {
        cut_err(cmp_expr).parse_next(i)?
    };
    for s in nots.into_iter().rev() {
        let span = s.to(e.span);
        e = node(i, ExprKind::Not(Box::new(e)), span)?;
    }
    Ok(e)
}

const CMP: [(&str, BinOp); 6] = [
    ("<=", BinOp::Le),
    (">=", BinOp::Ge),
    ("==", BinOp::Eq),
    ("!=", BinOp::Ne),
    ("<", BinOp::Lt),
    (">", BinOp::Gt),
];

fn cmp_op(t: &Token) -> Option<BinOp> {
    CMP.iter().find(|(s, _)| t.is_punct(s)).map(|(_, o)| *o)
}

fn cmp_expr(i: &mut In<'_>) -> PResult<Expr> {
    let l = sum_expr(i)?;
    let Some(t) = peek_tok(i) else { return Ok(l) };
    let Some(op) = cmp_op(t) else { return Ok(l) };
    let _ = i.next_token();
    let r = cut_err(sum_expr).parse_next(i)?;
    if let Some(t2) = peek_tok(i).filter(|t| cmp_op(t).is_some()) {
        return Err(cut_at(
            t2.span.start,
            "comparisons cannot be chained: write 'a < b and b < c'",
        ));
    }
    let span = l.span.to(r.span);
    node(
        i,
        ExprKind::Bin {
            op,
            op_span: t.span,
            l: Box::new(l),
            r: Box::new(r),
        },
        span,
    )
}

fn sum_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(
        i,
        product_expr,
        &[("+", BinOp::Add), ("-", BinOp::Sub)],
        false,
    )
}

fn product_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(
        i,
        unary_expr,
        &[("*", BinOp::Mul), ("/", BinOp::Div)],
        false,
    )
}

fn unary_expr(i: &mut In<'_>) -> PResult<Expr> {
    let mut negs = Vec::new();
    while let Some(t) = opt(p("-")).parse_next(i)? {
        negs.push(t.span);
    }
    let mut e = if negs.is_empty() {
        postfix_expr(i)?
    } else {
        cut_err(postfix_expr).parse_next(i)?
    };
    for s in negs.into_iter().rev() {
        let span = s.to(e.span);
        e = node(i, ExprKind::Neg(Box::new(e)), span)?;
    }
    Ok(e)
}

fn postfix_expr(i: &mut In<'_>) -> PResult<Expr> {
    let mut e = primary(i)?;
    loop {
        if opt(p("[")).parse_next(i)?.is_some() {
            let index = cut_err(expr).parse_next(i)?;
            let close = cut_err(p("]")).parse_next(i)?;
            let span = e.span.to(close.span);
            e = node(
                i,
                ExprKind::Index {
                    base: Box::new(e),
                    index: Box::new(index),
                },
                span,
            )?;
        } else if opt(p(".")).parse_next(i)?.is_some() {
            let (field, field_span) =
                cut_err(name("a field name (such as line or upper)")).parse_next(i)?;
            let span = e.span.to(field_span);
            e = node(
                i,
                ExprKind::Field {
                    base: Box::new(e),
                    field: field.to_string(),
                    field_span,
                },
                span,
            )?;
        } else {
            return Ok(e);
        }
    }
}

fn primary(i: &mut In<'_>) -> PResult<Expr> {
    let Some(t) = peek_tok(i) else {
        return Err(backtrack(i, Expect::Desc("an expression")));
    };
    match &t.tok {
        Tok::Num { value, int } => {
            let _ = i.next_token();
            node(
                i,
                ExprKind::Num {
                    value: *value,
                    int: *int,
                },
                t.span,
            )
        }
        Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
            let _ = i.next_token();
            if opt(p("(")).parse_next(i)?.is_none() {
                return node(i, ExprKind::Name(s.clone()), t.span);
            }
            let mut args = Vec::new();
            if peek_tok(i).is_some_and(|n| !n.is_punct(")")) {
                args.push(cut_err(expr).parse_next(i)?);
                while opt(p(",")).parse_next(i)?.is_some() {
                    args.push(cut_err(expr).parse_next(i)?);
                }
            }
            // (A ',' cannot come here: the loop above takes them; it only widens the message.)
            let close = cut_err(alt((p(")"), p(",")))).parse_next(i)?;
            node(
                i,
                ExprKind::Call {
                    name: s.clone(),
                    name_span: t.span,
                    args,
                },
                t.span.to(close.span),
            )
        }
        Tok::Punct("(") => {
            let _ = i.next_token();
            let e = cut_err(expr).parse_next(i)?;
            let close = cut_err(p(")")).parse_next(i)?;
            Ok(Expr {
                kind: e.kind,
                span: t.span.to(close.span),
            })
        }
        _ => Err(backtrack(i, Expect::Desc("an expression"))),
    }
}

fn eol<'t>(what: &'static str) -> impl Parser<In<'t>, &'t Token, ErrMode<PErr>> {
    any.verify(|t: &&Token| t.is_eol())
        .context(Expect::Desc(what))
}

const STATEMENTS: &str = "a statement (strategy, param, constraint, long entry, long exit, \
short entry, short exit, stop_loss_pct, take_profit_pct, trailing_stop_pct or reenter)";

fn statement(i: &mut In<'_>) -> PResult<Line> {
    let Some(first) = peek_tok(i) else {
        return Err(backtrack(i, Expect::Desc(STATEMENTS)));
    };
    let span = first.span;
    let Tok::Ident(kw) = &first.tok else {
        return Err(ErrMode::Cut({
            let mut e = PErr::from_input(i);
            e.expected.push(Expect::Desc(STATEMENTS));
            e
        }));
    };
    let expr_end = "an operator or the end of the line";
    let stmt = match kw.as_str() {
        "strategy" => {
            let _ = i.next_token();
            let name = cut_err(
                any.verify_map(|t: &Token| match &t.tok {
                    Tok::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .context(Expect::Desc("the strategy's name in double quotes")),
            )
            .parse_next(i)?;
            cut_err(eol("the end of the line")).parse_next(i)?;
            Stmt::Strategy { name }
        }
        "param" => {
            let _ = i.next_token();
            let (name, name_span) = cut_err(name("the parameter's name")).parse_next(i)?;
            cut_err(p(":")).parse_next(i)?;
            let (kind, kind_span) = cut_err(
                any.verify_map(|t: &Token| match &t.tok {
                    Tok::Ident(s) => Some((s.clone(), t.span)),
                    _ => None,
                })
                .context(Expect::Desc("'int' or 'float'")),
            )
            .parse_next(i)?;
            let min = cut_err(signed_number).parse_next(i)?;
            cut_err(p("..")).parse_next(i)?;
            let max = cut_err(signed_number).parse_next(i)?;
            cut_err(p("=")).parse_next(i)?;
            let default = cut_err(signed_number).parse_next(i)?;
            cut_err(eol("the end of the line")).parse_next(i)?;
            Stmt::Param {
                name: name.to_string(),
                name_span,
                kind,
                kind_span,
                min,
                max,
                default,
            }
        }
        "constraint" => {
            let _ = i.next_token();
            let expr = cut_err(expr).parse_next(i)?;
            cut_err(eol(expr_end)).parse_next(i)?;
            Stmt::Constraint { expr }
        }
        "long" | "short" => {
            let _ = i.next_token();
            let side = if kw == "long" {
                Side::Long
            } else {
                Side::Short
            };
            let which = cut_err(alt((word("entry"), word("exit")))).parse_next(i)?;
            let kind = if which.is_word("entry") {
                RuleKind::Entry
            } else {
                RuleKind::Exit
            };
            cut_err(p(":")).parse_next(i)?;
            let expr = cut_err(expr).parse_next(i)?;
            cut_err(eol(expr_end)).parse_next(i)?;
            Stmt::Rule { side, kind, expr }
        }
        "stop_loss_pct" | "take_profit_pct" | "trailing_stop_pct" => {
            let _ = i.next_token();
            let kind = match kw.as_str() {
                "stop_loss_pct" => StopKind::StopLoss,
                "take_profit_pct" => StopKind::TakeProfit,
                _ => StopKind::Trailing,
            };
            cut_err(p(":")).parse_next(i)?;
            let expr = cut_err(expr).parse_next(i)?;
            cut_err(eol(expr_end)).parse_next(i)?;
            Stmt::Stop { kind, expr }
        }
        "reenter" => {
            let _ = i.next_token();
            cut_err(p(":")).parse_next(i)?;
            let v = cut_err(alt((word("true"), word("false")))).parse_next(i)?;
            cut_err(eol("the end of the line")).parse_next(i)?;
            Stmt::Reenter {
                value: v.is_word("true"),
            }
        }
        _ => {
            return Err(ErrMode::Cut({
                let mut e = PErr::from_input(i);
                e.expected.push(Expect::Desc(STATEMENTS));
                e
            }))
        }
    };
    Ok(Line { stmt, span })
}

/// What [`parse`] found.
pub(crate) struct Parsed {
    /// The statements that parsed.
    pub lines: Vec<Line>,
    /// One error per bad line (byte offset, message).
    pub errors: Vec<(usize, String)>,
    /// Names of parameters whose `param` line did not parse (their uses are not reported
    /// again as unknown names).
    pub broken_params: Vec<String>,
}

/// Parses every line of `tokens` (from [`lex`]).
pub(crate) fn parse(src: &str, tokens: &[Token]) -> Parsed {
    let counter = Cell::new(0usize);
    let (mut lines, mut errs) = (Vec::new(), Vec::new());
    let mut broken_params = Vec::new();
    let mut rest = tokens;
    while !rest.is_empty() {
        // One line: up to and including its Newline / End token.
        let n = rest
            .iter()
            .position(Token::is_eol)
            .map_or(rest.len(), |p| p + 1);
        let (line, tail) = rest.split_at(n);
        rest = tail;
        let broken = |broken_params: &mut Vec<String>| {
            if let (true, Some(Tok::Ident(n))) =
                (line[0].is_word("param"), line.get(1).map(|t| &t.tok))
            {
                broken_params.push(n.clone());
            }
        };
        if line.len() == 1 {
            continue; // blank
        }
        if line.iter().any(|t| t.tok == Tok::Bad) {
            broken(&mut broken_params); // already reported by the lexer
            continue;
        }
        if counter.get() > MAX_NODES {
            break; // already reported
        }
        if let Some(at) = too_deep(line) {
            broken(&mut broken_params);
            errs.push((
                at,
                format!("parentheses and brackets nest more than {MAX_DEPTH} levels deep"),
            ));
            continue;
        }
        let mut input = Stateful {
            input: TokenSlice::new(line),
            state: &counter,
        };
        match statement(&mut input) {
            Ok(l) => lines.push(l),
            Err(e) => {
                let e = match e {
                    ErrMode::Backtrack(e) | ErrMode::Cut(e) => e,
                    ErrMode::Incomplete(_) => PErr::custom(line[0].span.start, "incomplete line"),
                };
                let at = if e.at == usize::MAX {
                    line[line.len() - 1].span.start
                } else {
                    e.at
                };
                errs.push((at, e.render(src)));
                broken(&mut broken_params);
            }
        }
    }
    Parsed {
        lines,
        errors: errs,
        broken_params,
    }
}

/// The first `(` or `[` nested deeper than [`MAX_DEPTH`], if any.
fn too_deep(line: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for t in line {
        if t.is_punct("(") || t.is_punct("[") {
            depth += 1;
            if depth > MAX_DEPTH {
                return Some(t.span.start);
            }
        } else if t.is_punct(")") || t.is_punct("]") {
            depth = depth.saturating_sub(1);
        }
    }
    None
}
