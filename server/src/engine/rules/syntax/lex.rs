//! The lexer: source text to tokens (names, numbers, strings, punctuation, line ends) with
//! byte spans; comments (`#` to the end of the line) and blanks are dropped.

use winnow::combinator::{alt, opt};
use winnow::error::ErrMode;
use winnow::stream::{LocatingSlice, Location, Stream};
use winnow::token::{literal, one_of, take_till, take_while};
use winnow::Parser;

/// Byte range `[start, end)` in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub(crate) fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.end),
        }
    }
}

/// A lexical token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Num {
        value: f64,
        int: bool,
    },
    Str(String),
    Punct(&'static str),
    Newline,
    End,
    /// A line that did not lex; its error is already reported.
    Bad,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

impl Token {
    pub(crate) fn is_punct(&self, p: &str) -> bool {
        matches!(self.tok, Tok::Punct(q) if q == p)
    }
    pub(crate) fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s == w)
    }
    pub(crate) fn is_eol(&self) -> bool {
        matches!(self.tok, Tok::Newline | Tok::End)
    }
}

/// Punctuation, longest first so `..` wins over `.`.
const PUNCTS: [&str; 19] = [
    "..", "<=", ">=", "==", "!=", "(", ")", "[", "]", ",", ":", ".", "+", "-", "*", "/", "<", ">",
    "=",
];

/// Words that cannot be names.
pub(crate) const KEYWORDS: [&str; 3] = ["and", "or", "not"];

type LexIn<'i> = LocatingSlice<&'i str>;
type LexResult<O> = Result<O, ErrMode<winnow::error::ContextError>>;

fn blanks(i: &mut LexIn<'_>) -> LexResult<()> {
    loop {
        let r: LexResult<&str> = take_while(0.., [' ', '\t', '\r']).parse_next(i);
        r?;
        if i.starts_with('#') {
            let r: LexResult<&str> = take_till(0.., '\n').parse_next(i);
            r?;
        } else {
            return Ok(());
        }
    }
}

fn number(i: &mut LexIn<'_>) -> LexResult<(f64, bool)> {
    let digits = |i: &mut LexIn<'_>| -> LexResult<()> {
        take_while(1.., |c: char| c.is_ascii_digit())
            .void()
            .parse_next(i)
    };
    let text: &str = (
        digits,
        opt(('.', digits)),
        opt((one_of(['e', 'E']), opt(one_of(['+', '-'])), digits)),
    )
        .take()
        .parse_next(i)?;
    let int = !text.contains(['.', 'e', 'E']);
    let value: f64 = text
        .parse()
        .map_err(|_| ErrMode::Cut(winnow::error::ContextError::new()))?;
    Ok((value, int))
}

fn ident<'i>(i: &mut LexIn<'i>) -> LexResult<&'i str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .parse_next(i)
}

fn punct(i: &mut LexIn<'_>) -> LexResult<&'static str> {
    alt(PUNCTS.map(|p| literal(p).value(p))).parse_next(i)
}

/// A lexing error: byte offset and message.
pub(crate) type LexError = (usize, String);

/// Tokens of the whole source (ending with [`Tok::End`]) and the lexing errors. A line with a
/// lexing error keeps its tokens up to the error, then a [`Tok::Bad`]; the rest of the line is
/// skipped.
pub(crate) fn lex(src: &str) -> (Vec<Token>, Vec<LexError>) {
    let mut i = LocatingSlice::new(src);
    let (mut toks, mut errs) = (Vec::new(), Vec::new());
    loop {
        let _ = blanks(&mut i);
        let start = i.current_token_start();
        let Some(c) = i.chars().next() else {
            toks.push(Token {
                tok: Tok::End,
                span: Span { start, end: start },
            });
            return (toks, errs);
        };
        let tok = if c == '\n' {
            let _ = i.next_token();
            Ok(Tok::Newline)
        } else if c == '"' {
            let _ = i.next_token();
            let body: LexResult<&str> = take_till(0.., ['"', '\n']).parse_next(&mut i);
            let body = body.unwrap_or_default().to_string();
            if i.starts_with('"') {
                let _ = i.next_token();
                Ok(Tok::Str(body))
            } else {
                Err("this string has no closing '\"' on its line".to_string())
            }
        } else if c.is_ascii_digit() {
            match number(&mut i) {
                Ok((value, _)) if !value.is_finite() => Err("this number is too large".into()),
                Ok((value, int)) => Ok(Tok::Num { value, int }),
                Err(_) => Err("this is not a number".into()),
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            ident(&mut i)
                .map(|s| Tok::Ident(s.to_string()))
                .map_err(|_| String::new())
        } else {
            punct(&mut i)
                .map(Tok::Punct)
                .map_err(|_| format!("unexpected character '{c}'"))
        };
        let end = i.current_token_start();
        match tok {
            Ok(tok) => toks.push(Token {
                tok,
                span: Span { start, end },
            }),
            Err(message) => {
                errs.push((start, message));
                let _: LexResult<&str> = take_till(0.., '\n').parse_next(&mut i);
                toks.push(Token {
                    tok: Tok::Bad,
                    span: Span { start, end: start },
                });
            }
        }
    }
}
