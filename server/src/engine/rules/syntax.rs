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
//! `lex` holds the lexer, `ast` the tree, `error` the parser's errors, `expr` the expression
//! parser; this file the statements and the program.

use std::cell::Cell;

use winnow::combinator::{alt, cut_err};
use winnow::error::{ErrMode, ParserError};
use winnow::stream::{Stateful, Stream, TokenSlice};
use winnow::token::any;
use winnow::Parser;

use super::{MAX_DEPTH, MAX_NODES};

mod ast;
mod error;
mod expr;
mod lex;

pub(crate) use ast::*;
use error::backtrack;
use error::{Expect, PErr};
pub(crate) use expr::expr;
use expr::{name, p, peek_tok, signed_number, word};
pub(crate) use lex::*;

type In<'t> = Stateful<TokenSlice<'t, Token>, &'t Cell<usize>>;
type PResult<O> = Result<O, ErrMode<PErr>>;

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
