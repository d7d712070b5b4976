//! Example programs: the built-in strategies restated in the rule language, as
//! `docs/rules.md` gives them. The tests and benchmarks compare each with its built-in.

/// The built-in `sma_cross`, written in the language (`docs/rules.md`, example 1). The
/// built-in emits its signal on every crossover, even when already in that position, hence
/// `reenter: true`.
pub const SMA_CROSS: &str = r#"strategy "SMA cross"
# Fast and slow simple moving averages of the close.
param n1: int 2..1000 = 10
param n2: int 2..1000 = 20
constraint n1 < n2
# The built-in acts on every crossover, even when already in that position.
reenter: true
long entry:  crosses_above(sma(close, n1), sma(close, n2))
long exit:   crosses_below(sma(close, n1), sma(close, n2))
short entry: crosses_below(sma(close, n1), sma(close, n2))
short exit:  crosses_above(sma(close, n1), sma(close, n2))
"#;
