//! The parser's errors: what it looked for ([`Expect`]), what went wrong where ([`PErr`]), and
//! how winnow builds them.

use winnow::error::{AddContext, ErrMode, ParserError};
use winnow::stream::Stream;

use super::{In, Tok, Token};

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
    pub(super) fn custom(at: usize, message: impl Into<String>) -> Self {
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
fn describe(t: &Token, src: &str) -> String {
    match &t.tok {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Num { .. } => format!("'{}'", &src[t.span.start..t.span.end]),
        Tok::Str(_) => "a string".into(),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::Newline | Tok::End | Tok::Bad => "the end of the line".into(),
    }
}

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

pub(super) fn backtrack(i: &In<'_>, e: Expect) -> ErrMode<PErr> {
    let mut err = PErr::from_input(i);
    err.expected.push(e);
    ErrMode::Backtrack(err)
}

pub(super) fn cut_at(at: usize, message: impl Into<String>) -> ErrMode<PErr> {
    ErrMode::Cut(PErr::custom(at, message))
}
