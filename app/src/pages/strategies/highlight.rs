//! Syntax highlighting for the rule-language editor: a few lines of lexing that colour what a
//! reader scans for (keywords, functions, series, numbers, strings, comments). It never judges
//! the program — the server's checker does, as you type — so it stays small in the WASM bundle
//! and cannot disagree with the parser about what is valid.

use crate::model::research::RULE_FUNCTIONS;

/// What a run of characters is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Statement words and operators spelled as words (`param`, `long`, `and`, `true`, …).
    Keyword,
    /// Built-in function names (`sma`, `crosses_above`, …).
    Function,
    /// Price series (`open`, `close`, …).
    Series,
    Number,
    /// A `"…"` string (to the closing quote or the end of the line).
    Str,
    /// `#` to the end of the line.
    Comment,
    /// Anything else (parameter names, operators, spaces).
    Plain,
}

impl Tok {
    /// The CSS class of the token's `<span>`.
    pub fn class(self) -> &'static str {
        match self {
            Tok::Keyword => "tok-kw",
            Tok::Function => "tok-fn",
            Tok::Series => "tok-series",
            Tok::Number => "tok-num",
            Tok::Str => "tok-str",
            Tok::Comment => "tok-com",
            Tok::Plain => "tok",
        }
    }
}

const KEYWORDS: [&str; 18] = [
    "strategy",
    "param",
    "constraint",
    "long",
    "short",
    "entry",
    "exit",
    "int",
    "float",
    "reenter",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
    "and",
    "or",
    "not",
    "true",
    "false",
];

/// The parts of a multi-line indicator (`macd(…).signal`), coloured as its functions.
const FIELDS: [&str; 3] = ["line", "signal", "hist"];

const SERIES: [&str; 5] = ["open", "high", "low", "close", "volume"];

fn word_kind(word: &str) -> Tok {
    if SERIES.contains(&word) {
        Tok::Series
    } else if RULE_FUNCTIONS.contains(&word) || FIELDS.contains(&word) {
        Tok::Function
    } else if KEYWORDS.contains(&word) {
        Tok::Keyword
    } else {
        Tok::Plain
    }
}

/// One line's tokens, in order; their texts concatenate to the line.
pub fn highlight_line(line: &str) -> Vec<(Tok, String)> {
    let mut out: Vec<(Tok, String)> = Vec::new();
    let mut push = |tok: Tok, text: &str| match out.last_mut() {
        Some((last, s)) if *last == tok && tok == Tok::Plain => s.push_str(text),
        _ => out.push((tok, text.to_string())),
    };
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let len = if c == '#' {
            push(Tok::Comment, rest);
            rest.len()
        } else if c == '"' {
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 2);
            push(Tok::Str, &rest[..end]);
            end
        } else if c.is_ascii_digit()
            // `.5` is a number; the `.1000` of a `2..1000` range is not.
            || (c == '.'
                && rest[1..].starts_with(|d: char| d.is_ascii_digit())
                && !line[..line.len() - rest.len()].ends_with('.'))
        {
            let end = number_end(rest);
            push(Tok::Number, &rest[..end]);
            end
        } else if c.is_alphabetic() || c == '_' {
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            push(word_kind(&rest[..end]), &rest[..end]);
            end
        } else {
            push(Tok::Plain, &rest[..c.len_utf8()]);
            c.len_utf8()
        };
        rest = &rest[len..];
    }
    out
}

/// The end of the number at the start of `s`: digits, one `.` (not of a `..` range), an
/// exponent.
fn number_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < b.len() && b[i] == b'.' && b.get(i + 1) != Some(&b'.') {
        i += 1;
        digits(&mut i);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            digits(&mut i);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokenizes `line`, checking that the tokens rebuild it.
    fn rebuilt(line: &str) -> Vec<(Tok, String)> {
        let toks = highlight_line(line);
        let joined: String = toks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(joined, line, "tokens must rebuild the line");
        toks
    }

    #[test]
    fn statements_functions_series_numbers_strings_and_comments_are_coloured() {
        let line = "long entry: crosses_above(sma(close, n1), 2.5e-1) # go";
        let toks = rebuilt(line);
        let of = |word: &str| toks.iter().find(|t| t.1 == word).map(|t| t.0);
        assert_eq!(of("long"), Some(Tok::Keyword));
        assert_eq!(of("crosses_above"), Some(Tok::Function));
        assert_eq!(of("sma"), Some(Tok::Function));
        assert_eq!(of("close"), Some(Tok::Series));
        assert_eq!(of("2.5e-1"), Some(Tok::Number));
        assert_eq!(of("# go"), Some(Tok::Comment));
        assert!(toks.iter().any(|t| t.0 == Tok::Plain && t.1.contains("n1")));
        let toks = highlight_line("strategy \"SMA # cross\"");
        assert_eq!(toks[2], (Tok::Str, "\"SMA # cross\"".to_string()));
    }

    #[test]
    fn ranges_unclosed_strings_and_any_text_rebuild_their_line() {
        let toks = highlight_line("param n: int 2..1000 = 10");
        assert!(toks.contains(&(Tok::Number, "2".into())));
        assert!(toks.contains(&(Tok::Number, "1000".into())));
        for line in ["strategy \"open", "x[1] >= é + .5", "", "   ", "1e", "a..b"] {
            rebuilt(line);
        }
    }
}
