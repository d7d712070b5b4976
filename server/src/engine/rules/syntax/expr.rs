//! Expressions: precedence levels parsed with loops (`or` → `and` → `not` → comparisons →
//! sums → products → unary → postfix → primary); only parentheses, calls and `[k]` recurse.

use winnow::combinator::{alt, cut_err, opt};
use winnow::error::ErrMode;
use winnow::stream::{Stream, TokenSlice};
use winnow::token::any;
use winnow::Parser;

use super::error::{backtrack, cut_at, Expect, PErr};
use super::{BinOp, Expr, ExprKind, Lit, Span, Tok, Token, KEYWORDS};
use super::{In, PResult, MAX_NODES};

pub(super) fn peek_tok<'t>(i: &In<'t>) -> Option<&'t Token> {
    let mut s: TokenSlice<'t, Token> = i.input.clone();
    s.next_token()
}

pub(super) fn p<'t>(sym: &'static str) -> impl Parser<In<'t>, &'t Token, ErrMode<PErr>> {
    any.verify(move |t: &&Token| t.is_punct(sym))
        .context(Expect::Punct(sym))
}

pub(super) fn word<'t>(w: &'static str) -> impl Parser<In<'t>, &'t Token, ErrMode<PErr>> {
    any.verify(move |t: &&Token| t.is_word(w))
        .context(Expect::Word(w))
}

pub(super) fn name<'t>(what: &'static str) -> impl Parser<In<'t>, (&'t str, Span), ErrMode<PErr>> {
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

pub(super) fn signed_number(i: &mut In<'_>) -> PResult<Lit> {
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
        l = binary(i, op, t.span, l, r)?;
    }
}

fn or_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(i, and_expr, &[("or", BinOp::Or)], true)
}

fn and_expr(i: &mut In<'_>) -> PResult<Expr> {
    left_assoc(i, not_expr, &[("and", BinOp::And)], true)
}

fn not_expr(i: &mut In<'_>) -> PResult<Expr> {
    prefixed(i, word("not"), cmp_expr, ExprKind::Not)
}

/// Any number of `op` tokens (`not`, `-`) before an `operand`, each wrapping what follows it
/// (`not not a` is `Not(Not(a))`); after an operator the operand is required.
fn prefixed<'t>(
    i: &mut In<'t>,
    mut op: impl Parser<In<'t>, &'t Token, ErrMode<PErr>>,
    operand: fn(&mut In<'t>) -> PResult<Expr>,
    wrap: fn(Box<Expr>) -> ExprKind,
) -> PResult<Expr> {
    let mut ops = Vec::new();
    while let Some(t) = opt(op.by_ref()).parse_next(i)? {
        ops.push(t.span);
    }
    let mut e = if ops.is_empty() {
        operand(i)?
    } else {
        cut_err(operand).parse_next(i)?
    };
    for s in ops.into_iter().rev() {
        let span = s.to(e.span);
        e = node(i, wrap(Box::new(e)), span)?;
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
    binary(i, op, t.span, l, r)
}

/// The node `l op r` (`op_span`: where the operator is written).
fn binary(i: &mut In<'_>, op: BinOp, op_span: Span, l: Expr, r: Expr) -> PResult<Expr> {
    let span = l.span.to(r.span);
    let kind = ExprKind::Bin {
        op,
        op_span,
        l: Box::new(l),
        r: Box::new(r),
    };
    node(i, kind, span)
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
    prefixed(i, p("-"), postfix_expr, ExprKind::Neg)
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
